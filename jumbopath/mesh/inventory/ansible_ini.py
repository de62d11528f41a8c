"""Ansible INI inventories (parsed here; Ansible need not be installed).

``[group]`` lists hosts (``name``, ``name:port``, ``node[01:12]``, each with
``key=value`` variables), ``[group:children]`` child groups and
``[group:vars]`` group variables. A value is a Python literal when it reads
as one (as Ansible does), else text.
"""

from __future__ import annotations

import ast
import re
import shlex
import warnings
from pathlib import Path
from typing import Any

from jumbopath.mesh.inventory.ansible_tree import Tree, resolve
from jumbopath.mesh.inventory.model import Inventory
from jumbopath.mesh.inventory.validate import bad, check_name, show
from jumbopath.mesh.inventory.yamlload import read_text

_HEADER_RE = re.compile(r"\[([^\]:\s]+)(?::([^\]\s]+))?\]\s*(?:[#;].*)?")


def parse_value(text: str) -> Any:
    """An INI value as Ansible reads it: a Python literal when it is one, else the text."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. SyntaxWarning for "\d" in a string
            return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return text


def parse_ini(text: str, source: str) -> Inventory:
    """Read an Ansible INI inventory."""
    tree = Tree(source)
    read_ini(tree, text, source)
    return resolve(tree)


def read_ini(tree: Tree, text: str, source: str) -> None:
    """Add the groups and hosts of an INI inventory to ``tree`` (several files make one)."""
    tree.group("all")
    section, kind = "ungrouped", "hosts"
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section, kind = _header(source, number, line)
            tree.group(section, number)
        elif kind == "children":
            child = check_name(source, "group", line.split()[0], number)
            tree.add_child(section, child, number)
        elif kind == "vars":
            key, value = _assignment(source, number, section, line)
            tree.group(section).vars[key] = parse_value(value)
        else:
            _hosts(tree, source, number, section, line)


def _header(source: str, number: int, line: str) -> tuple[str, str]:
    m = _HEADER_RE.fullmatch(line)
    if m is None:
        raise bad(
            source,
            number,
            f"section header {show(line)}: expected [group], [group:vars] or [group:children]",
        )
    section, kind = m.group(1), m.group(2) or "hosts"
    if kind not in ("hosts", "vars", "children"):
        raise bad(
            source,
            number,
            f"section [{section[:60]}:{kind[:60]}]: only :vars and :children exist",
        )
    return check_name(source, "group", section, number), kind


def _assignment(source: str, number: int, section: str, line: str) -> tuple[str, str]:
    if "=" not in line:
        raise bad(source, number, f"[{section}:vars]: expected key=value, not {show(line)}")
    key, value = (part.strip() for part in line.split("=", 1))
    if not key:
        raise bad(source, number, f"[{section}:vars]: a variable needs a name before '='")
    return key, value


def _hosts(tree: Tree, source: str, number: int, section: str, line: str) -> None:
    try:
        words = shlex.split(line, comments=True)
    except ValueError as exc:
        raise bad(source, number, f"cannot split the host line: {exc} (check the quotes)") from exc
    if not words:
        return
    pattern, *assignments = words
    hvars: dict[str, Any] = {}
    for word in assignments:
        if "=" not in word:
            raise bad(
                source,
                number,
                f"host {show(pattern)}: expected key=value after the host name, not {show(word)}",
            )
        key, value = word.split("=", 1)
        hvars[key] = parse_value(value)
    tree.add_hosts(section, pattern, hvars, number)


def parse_ini_file(path: Path) -> Inventory:
    """Read an Ansible INI inventory file."""
    return parse_ini(read_text(path), str(path))
