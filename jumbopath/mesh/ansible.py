"""Ansible inventories (INI and YAML) read without Ansible.

What jumbopath takes from an Ansible inventory:

- hosts, groups, ``children`` and ``vars`` (host vars override group vars;
  a child group's vars override its parent's, as in Ansible);
- ``ansible_host``, ``ansible_user``, ``ansible_port`` (and the older
  ``ansible_ssh_host``/``_user``/``_port``), ``ansible_ssh_private_key_file``;
- ``jumbopath_networks``: which networks to check, as a mapping
  ``{NAME: {mtu: 9000, var: storage_ip}}`` where ``var`` names the host
  variable holding each host's address on that network (a host without that
  variable is not on the network). Without ``var`` the address comes from
  the host variable ``jumbopath_addresses: {NAME: ADDRESS}``;
- ``jumbopath_command``: the remote command (default ``jumbopath``).

Host ranges (``node[01:12]``, ``rack-[a:c]``) are expanded. ``group_vars/``
and ``host_vars/`` beside the inventory file are read as Ansible reads them
(wholly vault-encrypted files are skipped; ``!vault`` values stay opaque).
Jinja is not evaluated, except a value that is exactly ``{{ other_var }}``.
"""

from __future__ import annotations

import ast
import re
import shlex
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from jumbopath.errors import UsageError
from jumbopath.mesh.inventory import (
    DEFAULT_COMMAND,
    Inventory,
    MeshHost,
    Network,
    bad,
    check_address,
    check_family,
    check_mtu,
    check_name,
    check_port,
    finish,
    line_of,
)

NETWORKS_VAR = "jumbopath_networks"
ADDRESSES_VAR = "jumbopath_addresses"
COMMAND_VAR = "jumbopath_command"

_RANGE_RE = re.compile(r"\[([A-Za-z0-9]+):([A-Za-z0-9]+)(?::(\d+))?\]")
_JINJA_VAR_RE = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")


@dataclass
class _Group:
    name: str
    line: int | None = None
    hosts: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    vars: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Tree:
    """Groups and hosts as Ansible sees them, before variables are resolved."""

    source: str
    groups: dict[str, _Group] = field(default_factory=dict)
    host_vars: dict[str, dict[str, Any]] = field(default_factory=dict)
    host_lines: dict[str, int | None] = field(default_factory=dict)

    def group(self, name: str, line: int | None = None) -> _Group:
        if name not in self.groups:
            self.groups[name] = _Group(name, line)
        return self.groups[name]

    def add_host(self, group: str, host: str, hvars: Mapping[str, Any], line: int | None) -> None:
        g = self.group(group)
        if host not in g.hosts:
            g.hosts.append(host)
        self.host_vars.setdefault(host, {}).update(hvars)
        self.host_lines.setdefault(host, line)


# --------------------------------------------------------------------------
# Host ranges


def expand_pattern(pattern: str, source: str = "", line: int | None = None) -> list[str]:
    """Expand Ansible host ranges: ``web[01:03]`` → web01, web02, web03."""
    m = _RANGE_RE.search(pattern)
    if m is None:
        if "[" in pattern or "]" in pattern:
            raise bad(
                source, line, f"host {pattern!r}: a range looks like name[01:12] or name[a:f]"
            )
        return [pattern]
    start, end, step_text = m.group(1), m.group(2), m.group(3)
    step = int(step_text) if step_text else 1
    if step < 1:
        raise bad(source, line, f"host range {pattern!r}: the step must be at least 1")
    head, tail = pattern[: m.start()], pattern[m.end() :]
    items: list[str]
    if start.isdigit() and end.isdigit():
        a, b = int(start), int(end)
        if b < a:
            raise bad(source, line, f"host range {pattern!r}: {start} is after {end}")
        width = len(start) if start.startswith("0") else 0
        items = [str(i).zfill(width) for i in range(a, b + 1, step)]
    elif len(start) == 1 and len(end) == 1 and start.isalpha() and end.isalpha():
        letters = string.ascii_letters
        a, b = letters.index(start), letters.index(end)
        if b < a:
            raise bad(source, line, f"host range {pattern!r}: {start} is after {end}")
        items = [letters[i] for i in range(a, b + 1, step)]
    else:
        raise bad(
            source, line, f"host range {pattern!r}: use numbers (01:12) or single letters (a:f)"
        )
    if len(items) > 10000:
        raise bad(
            source, line, f"host range {pattern!r} expands to {len(items)} hosts; that is too many"
        )
    out: list[str] = []
    for item in items:
        out.extend(expand_pattern(head + item + tail, source, line))
    return out


# --------------------------------------------------------------------------
# INI


def _parse_value(text: str) -> Any:
    """An INI value as Ansible reads it: a Python literal when it is one, else the text."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text


def parse_ini(text: str, source: str) -> Inventory:
    """Read an Ansible INI inventory."""
    tree = _Tree(source)
    tree.group("all")
    section, kind = "ungrouped", "hosts"
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            m = re.fullmatch(r"\[([^\]:\s]+)(?::([^\]\s]+))?\]\s*(?:[#;].*)?", line)
            if m is None:
                raise bad(
                    source,
                    number,
                    f"section header {line!r}: expected [group], [group:vars] or [group:children]",
                )
            section, kind = m.group(1), m.group(2) or "hosts"
            if kind not in ("hosts", "vars", "children"):
                raise bad(
                    source, number, f"section [{section}:{kind}]: only :vars and :children exist"
                )
            check_name(source, "group", section, number)
            tree.group(section, number)
            continue
        if kind == "children":
            child = line.split()[0]
            check_name(source, "group", child, number)
            tree.group(child, number)
            parent = tree.group(section)
            if child not in parent.children:
                parent.children.append(child)
            continue
        if kind == "vars":
            if "=" not in line:
                raise bad(source, number, f"[{section}:vars]: expected key=value, not {line!r}")
            key, value = (part.strip() for part in line.split("=", 1))
            if not key:
                raise bad(source, number, f"[{section}:vars]: a variable needs a name before '='")
            tree.group(section).vars[key] = _parse_value(value)
            continue
        try:
            words = shlex.split(line, comments=True)
        except ValueError as exc:
            raise bad(
                source, number, f"cannot split the host line: {exc} (check the quotes)"
            ) from exc
        if not words:
            continue
        pattern, *assignments = words
        hvars: dict[str, Any] = {}
        for word in assignments:
            if "=" not in word:
                raise bad(
                    source,
                    number,
                    f"host {pattern!r}: expected key=value after the host name, not {word!r}",
                )
            key, value = word.split("=", 1)
            hvars[key] = _parse_value(value)
        host_part, port = _split_port(pattern)
        if port is not None:
            hvars.setdefault("ansible_port", port)
        for host in expand_pattern(host_part, source, number):
            check_name(source, "host", host, number)
            tree.add_host(section, host, hvars, number)
    return _resolve(tree)


def _split_port(pattern: str) -> tuple[str, int | None]:
    """``name:2222`` → (name, 2222). Bare IPv6 addresses are left alone."""
    if pattern.count(":") == 1:
        host, port = pattern.split(":")
        if port.isdigit():
            return host, int(port)
    return pattern, None


def parse_ini_file(path: Path) -> Inventory:
    """Read an Ansible INI inventory file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the inventory: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not a text file (expected an inventory)") from exc
    return parse_ini(text, str(path))


# --------------------------------------------------------------------------
# YAML


_GROUP_KEYS = {"hosts", "children", "vars"}


def parse_yaml(data: Any, source: str) -> Inventory:
    """Read an Ansible YAML inventory (already loaded)."""
    if not isinstance(data, Mapping):
        raise bad(source, None, "expected a mapping of groups (all: {hosts: ..., children: ...})")
    tree = _Tree(source)
    tree.group("all")
    for name, spec in data.items():
        _yaml_group(tree, data, name, spec, parent=None, depth=0)
    return _resolve(tree)


def _yaml_group(
    tree: _Tree, container: Any, name: Any, spec: Any, parent: str | None, depth: int
) -> None:
    source = tree.source
    line = line_of(container, name)
    if depth > 50:
        raise bad(source, line, "groups are nested more than 50 deep")
    name = check_name(source, "group", name, line)
    group = tree.group(name, line)
    if parent is not None and name not in tree.group(parent).children:
        tree.group(parent).children.append(name)
    if spec is None:
        return
    if not isinstance(spec, Mapping):
        raise bad(source, line, f"group {name!r}: expected hosts/children/vars, not {spec!r}")
    unknown = set(spec) - _GROUP_KEYS
    if unknown:
        key = sorted(map(str, unknown))[0]
        raise bad(
            source,
            line_of(spec, key),
            f"group {name!r}: unknown key {key!r}; a group has: hosts, children, vars "
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
                f"host {pattern!r}: expected its variables as a mapping, not {hvars!r}",
            )
        host_part, port = _split_port(str(pattern))
        merged = dict(hvars)
        if port is not None:
            merged.setdefault("ansible_port", port)
        for host in expand_pattern(host_part, source, hline):
            check_name(source, "host", host, hline)
            tree.add_host(name, host, merged, hline)
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
        _yaml_group(tree, children, child, cspec, parent=name, depth=depth + 1)


# --------------------------------------------------------------------------
# Variables → Inventory


def _depths(tree: _Tree) -> dict[str, int]:
    """Each group's depth below ``all`` (the longest chain of parents, as Ansible counts)."""
    parents: dict[str, list[str]] = {g: [] for g in tree.groups}
    for g in tree.groups.values():
        for c in g.children:
            parents[c].append(g.name)
    depth: dict[str, int] = {}

    def visit(name: str, trail: tuple[str, ...]) -> int:
        if name in trail:
            raise bad(
                tree.source,
                tree.groups[name].line,
                f"group {name!r} is its own descendant ({' → '.join(trail + (name,))})",
            )
        if name in depth:
            return depth[name]
        if name == "all":
            d = 0
        else:
            ps = [p for p in parents[name] if p != name]
            d = 1 + max((visit(p, trail + (name,)) for p in ps), default=0)
        depth[name] = d
        return d

    for group_name in tree.groups:
        visit(group_name, ())
    return depth


def _ancestors(tree: _Tree, host: str) -> set[str]:
    parents: dict[str, set[str]] = {g: set() for g in tree.groups}
    for g in tree.groups.values():
        for c in g.children:
            parents[c].add(g.name)
    todo = [g.name for g in tree.groups.values() if host in g.hosts]
    seen = {"all"}
    bounded = 0
    while todo and bounded < 100000:
        bounded += 1
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(parents.get(name, ()))
    return seen


def host_variables(tree: _Tree, host: str, depth: dict[str, int]) -> dict[str, Any]:
    """A host's variables: groups from ``all`` down (deeper wins, then by name), then host vars."""
    merged: dict[str, Any] = {}
    for g in sorted(_ancestors(tree, host), key=lambda n: (depth[n], n)):
        merged.update(tree.groups[g].vars)
    merged.update(tree.host_vars.get(host, {}))
    return merged


def _deref(value: Any, hvars: Mapping[str, Any], source: str, what: str, line: int | None) -> Any:
    """Resolve a value that is exactly ``{{ var }}``; refuse other Jinja."""
    for _ in range(10):
        if not isinstance(value, str) or "{{" not in value and "{%" not in value:
            return value
        m = _JINJA_VAR_RE.match(value.strip())
        if m is None or m.group(1) not in hvars:
            raise bad(
                source,
                line,
                f"{what} is the template {value!r}; jumbopath only follows a plain "
                "'{{ other_variable }}' to a defined variable: write the value itself",
            )
        value = hvars[m.group(1)]
    raise bad(source, line, f"{what}: templates refer to each other in a loop")


def _networks_spec(value: Any, source: str, host: str, line: int | None) -> Mapping[str, Any]:
    if isinstance(value, str):
        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            raise bad(
                source, line, f"host {host!r}: {NETWORKS_VAR} is not valid YAML/JSON: {exc}"
            ) from exc
    if not isinstance(value, Mapping):
        raise bad(
            source,
            line,
            f"host {host!r}: {NETWORKS_VAR} must map network names to "
            "{mtu: 9000, var: storage_ip}, "
            f"not {value!r}",
        )
    return value


class _VarsLoader(yaml.SafeLoader):
    """YAML for group_vars/host_vars files: ``!vault`` values become an opaque marker."""


_VarsLoader.add_constructor(
    "!vault",
    lambda loader, node: "<encrypted with ansible-vault>",  # type: ignore[arg-type,return-value,unused-ignore]
)


def _var_files(base: Path, name: str) -> list[Path]:
    """Ansible's files for one group or host: NAME, NAME.yml/.yaml/.json, or every file in NAME/."""
    found: list[Path] = []
    for candidate in (base / name, *(base / f"{name}{ext}" for ext in (".yml", ".yaml", ".json"))):
        if candidate.is_file():
            found.append(candidate)
        elif candidate.is_dir():
            found += sorted(
                p
                for p in candidate.iterdir()
                if p.is_file() and p.suffix in ("", ".yml", ".yaml", ".json")
            )[:1000]
    return found


def _load_var_file(path: Path) -> Mapping[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read this variables file: {exc}") from exc
    if text.lstrip().startswith("$ANSIBLE_VAULT;"):
        return {}  # a wholly encrypted file: nothing jumbopath needs can be in it
    try:
        data = yaml.load(text, Loader=_VarsLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise UsageError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise UsageError(f"{path}: expected variables (a mapping), not {type(data).__name__}")
    return data


def load_var_dirs(tree: _Tree) -> None:
    """Merge ``group_vars/`` and ``host_vars/`` next to the inventory, as Ansible does.

    Variables from these files override the ones written in the inventory file.
    """
    base = Path(tree.source).parent
    if not (base / "group_vars").is_dir() and not (base / "host_vars").is_dir():
        return
    for name, group in tree.groups.items():
        for f in _var_files(base / "group_vars", name):
            group.vars.update(_load_var_file(f))
    for host in tree.host_vars:
        for f in _var_files(base / "host_vars", host):
            tree.host_vars[host].update(_load_var_file(f))


def _resolve(tree: _Tree) -> Inventory:
    source = tree.source
    load_var_dirs(tree)
    depth = _depths(tree)
    all_hosts: list[str] = []
    for g in tree.groups.values():
        for h in g.hosts:
            if h not in all_hosts:
                all_hosts.append(h)
    hosts: dict[str, MeshHost] = {}
    nets: dict[str, dict[str, Any]] = {}
    for host in all_hosts:
        line = tree.host_lines.get(host)
        hv = host_variables(tree, host, depth)
        if NETWORKS_VAR not in hv:
            continue
        spec = _networks_spec(hv[NETWORKS_VAR], source, host, line)
        for net_name, nspec in spec.items():
            net_name = check_name(source, "network", net_name, line)
            if isinstance(nspec, (int, str)) and not isinstance(nspec, bool):
                nspec = {"mtu": nspec}
            if not isinstance(nspec, Mapping) or "mtu" not in nspec:
                raise bad(
                    source,
                    line,
                    f"{NETWORKS_VAR} (for host {host!r}): network {net_name!r} needs "
                    f"{{mtu: 9000, var: VARIABLE}}, not {nspec!r}",
                )
            unknown = set(nspec) - {"mtu", "var", "family"}
            if unknown:
                raise bad(
                    source,
                    line,
                    f"{NETWORKS_VAR}: network {net_name!r}: "
                    f"unknown key {sorted(map(str, unknown))[0]!r}; "
                    "use mtu, var, family",
                )
            mtu = check_mtu(source, net_name, _deref(nspec["mtu"], hv, source, "mtu", line), line)
            family = check_family(source, net_name, nspec.get("family"), line)
            var = nspec.get("var")
            address: Any
            if var is not None:
                if not isinstance(var, str):
                    raise bad(
                        source,
                        line,
                        f"{NETWORKS_VAR}: network {net_name!r}: var must name a variable",
                    )
                address = hv.get(var)
                if var == "ansible_host" and address is None:
                    address = host
            else:
                addresses = hv.get(ADDRESSES_VAR) or {}
                if not isinstance(addresses, Mapping):
                    raise bad(
                        source,
                        line,
                        f"host {host!r}: {ADDRESSES_VAR} must map network names to addresses",
                    )
                address = addresses.get(net_name)
            if address is None:
                continue  # not on this network
            address = _deref(address, hv, source, f"host {host!r}: address on {net_name!r}", line)
            address = check_address(source, net_name, host, address, line)
            entry = nets.setdefault(
                net_name, {"mtu": mtu, "family": family, "by": host, "members": []}
            )
            if entry["mtu"] != mtu:
                raise bad(
                    source,
                    line,
                    f"network {net_name!r} has mtu {entry['mtu']} for host {entry['by']!r} "
                    f"but {mtu} "
                    f"for host {host!r}: set {NETWORKS_VAR} once, on a group both are in",
                )
            for other, other_addr in entry["members"]:
                if other_addr == address:
                    raise bad(
                        source,
                        line,
                        f"network {net_name!r}: {other!r} and {host!r} both have address {address}",
                    )
            entry["members"].append((host, address))
        if host in hosts or not any(h == host for n in nets.values() for h, _ in n["members"]):
            continue
        ssh_host = _deref(
            hv.get("ansible_host", hv.get("ansible_ssh_host", host)),
            hv,
            source,
            "ansible_host",
            line,
        )
        user = _deref(
            hv.get("ansible_user", hv.get("ansible_ssh_user")), hv, source, "ansible_user", line
        )
        port = _deref(
            hv.get("ansible_port", hv.get("ansible_ssh_port")), hv, source, "ansible_port", line
        )
        key = _deref(
            hv.get("ansible_ssh_private_key_file"), hv, source, "ansible_ssh_private_key_file", line
        )
        command = _deref(hv.get(COMMAND_VAR) or DEFAULT_COMMAND, hv, source, COMMAND_VAR, line)
        hosts[host] = MeshHost(
            name=host,
            ssh_host=str(ssh_host),
            user=str(user) if user is not None else None,
            port=check_port(source, host, port, line),
            command=str(command),
            identity_file=str(key) if key is not None else None,
        )
    networks = [
        Network(name, n["mtu"], tuple(n["members"]), n["family"]) for name, n in nets.items()
    ]
    if not networks:
        raise bad(
            source,
            None,
            f"no host has an address on any network: set {NETWORKS_VAR} (for example in "
            '[all:vars]: jumbopath_networks={"storage": {"mtu": 9000, "var": "storage_ip"}}) '
            "and give each host that variable",
        )
    return finish(source, hosts, networks)
