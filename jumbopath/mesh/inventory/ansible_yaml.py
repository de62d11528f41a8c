"""Ansible YAML inventories: ``all: {hosts: ..., children: ..., vars: ...}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jumbopath.mesh.inventory.ansible_tree import Tree, resolve
from jumbopath.mesh.inventory.model import Inventory
from jumbopath.mesh.inventory.validate import MAX_DEPTH, bad, check_name, show
from jumbopath.mesh.inventory.yamlload import line_of

GROUP_KEYS = frozenset({"hosts", "children", "vars"})
"""Keys of one group."""


def parse_yaml(data: Any, source: str) -> Inventory:
    """Read an Ansible YAML inventory (already loaded)."""
    tree = Tree(source)
    read_yaml(tree, data, source)
    return resolve(tree)


def read_yaml(tree: Tree, data: Any, source: str) -> None:
    """Add the groups and hosts of a YAML inventory to ``tree`` (several files make one)."""
    if not isinstance(data, Mapping):
        raise bad(source, None, "expected a mapping of groups (all: {hosts: ..., children: ...})")
    tree.group("all")
    for name, spec in data.items():
        _group(tree, data, name, spec, parent=None, depth=0)


def _group(
    tree: Tree, container: Any, name: Any, spec: Any, parent: str | None, depth: int
) -> None:
    source = tree.source
    line = line_of(container, name)
    if depth > MAX_DEPTH:
        raise bad(source, line, f"groups are nested more than {MAX_DEPTH} deep")
    name = check_name(source, "group", name, line)
    group = tree.group(name, line)
    if parent is not None:
        tree.add_child(parent, name, line)
    if spec is None:
        return
    if not isinstance(spec, Mapping):
        raise bad(source, line, f"group {name!r}: expected hosts/children/vars, not {show(spec)}")
    unknown = [k for k in spec if k not in GROUP_KEYS]
    if unknown:
        key = min(unknown, key=str)
        raise bad(
            source,
            line_of(spec, key),
            f"group {name!r}: unknown key {show(str(key))}; a group has: hosts, children, vars "
            "(host variables go under hosts: NAME:)",
        )
    hosts = spec.get("hosts") or {}
    if not isinstance(hosts, Mapping):
        raise bad(
            source,
            line_of(spec, "hosts"),
            f"group {name!r}: 'hosts:' must map host names to their variables",
        )
    for pattern, hvars in hosts.items():
        hline = line_of(hosts, pattern)
        if hvars is None:
            hvars = {}
        if not isinstance(hvars, Mapping):
            raise bad(
                source,
                hline,
                f"host {show(str(pattern))}: expected its variables as a mapping, "
                f"not {show(hvars)}",
            )
        tree.add_hosts(name, str(pattern), hvars, hline)
    gvars = spec.get("vars") or {}
    if not isinstance(gvars, Mapping):
        raise bad(source, line_of(spec, "vars"), f"group {name!r}: 'vars:' must be a mapping")
    group.vars.update(gvars)
    children = spec.get("children") or {}
    if not isinstance(children, Mapping):
        raise bad(
            source, line_of(spec, "children"), f"group {name!r}: 'children:' must map group names"
        )
    for child, cspec in children.items():
        _group(tree, children, child, cspec, parent=name, depth=depth + 1)
