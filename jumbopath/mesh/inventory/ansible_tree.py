"""Ansible inventories (INI and YAML) read without Ansible: groups, variables, networks.

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
- ``jumbopath_command``: the remote command (default ``jumbopath``);
- ``jumbopath_agent: ping`` for a host where nothing is installed (its own
  ping is driven over SSH), and its OS: ``jumbopath_os``, else what
  ``ansible_shell_type`` (powershell/cmd: windows), ``ansible_network_os``
  or ``ansible_os_family`` (Darwin: macos; VMkernel/VMware/ESXi: esxi) say;
  on ESXi ``jumbopath_vmk: {NETWORK: vmkN}`` and ``jumbopath_netstack:
  {NETWORK: STACK}`` choose ``vmkping -I``/``-S`` per network.

Host ranges (``node[01:12]``, ``rack-[a:c]``) are expanded. ``group_vars/``
and ``host_vars/`` beside the inventory file are read as Ansible reads them
(wholly vault-encrypted files are skipped; ``!vault`` values stay opaque).
Jinja is not evaluated, except a value that is exactly ``{{ other_var }}``.

Both readers (:mod:`.ansible_ini`, :mod:`.ansible_yaml`) fill a :class:`Tree`;
:func:`resolve` turns it into an :class:`Inventory`. Every step is linear in
the number of hosts and group memberships.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from jumbopath.mesh.inventory.ansible_run import INSTALL, NeedsAnsible
from jumbopath.mesh.inventory.ansible_switches import is_switch, switches_spec
from jumbopath.mesh.inventory.ansible_vars import VarFiles
from jumbopath.mesh.inventory.model import Inventory, MeshHost, Network
from jumbopath.mesh.inventory.validate import (
    MAX_DEPTH,
    MAX_GROUPS,
    MAX_HOST_ENTRIES,
    MAX_HOSTS,
    MAX_NETWORKS,
    bad,
    check_address,
    check_count,
    check_family,
    check_mtu,
    check_name,
    finish,
    make_host,
    show,
)
from jumbopath.mesh.inventory.yamlload import VAULT_MARKER, load_yaml_text

NETWORKS_VAR = "jumbopath_networks"
ADDRESSES_VAR = "jumbopath_addresses"
COMMAND_VAR = "jumbopath_command"
AGENT_VAR = "jumbopath_agent"
OS_VAR = "jumbopath_os"
VMK_VAR = "jumbopath_vmk"
NETSTACK_VAR = "jumbopath_netstack"
#: Ansible's own variables that tell an agentless host's OS, first match wins.
OS_HINTS: tuple[tuple[str, dict[str, str]], ...] = (
    ("ansible_shell_type", {"powershell": "windows", "cmd": "windows"}),
    ("ansible_network_os", {"esxi": "esxi", "vmware": "esxi", "macos": "macos"}),
    (
        "ansible_os_family",
        {"windows": "windows", "darwin": "macos", "vmkernel": "esxi", "vmware": "esxi"},
    ),
)

_RANGE_RE = re.compile(r"\[([A-Za-z0-9]+):([A-Za-z0-9]+)(?::([0-9]+))?\]")
_JINJA_VAR_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


@dataclass
class Group:
    """One Ansible group while the inventory is read."""

    name: str
    """Group name."""
    line: int | None = None
    """Line it first appears on."""
    hosts: dict[str, None] = field(default_factory=dict)
    """Member hosts, in order (a dict for constant-time membership)."""
    children: dict[str, None] = field(default_factory=dict)
    """Child groups, in order."""
    vars: dict[str, Any] = field(default_factory=dict)
    """Group variables."""


@dataclass
class Tree:
    """Groups and hosts as Ansible sees them, before variables are resolved."""

    source: str
    """File the inventory came from."""
    groups: dict[str, Group] = field(default_factory=dict)
    """Every group, ``all`` first."""
    host_vars: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each host's own variables, hosts in order of first appearance."""
    host_lines: dict[str, int | None] = field(default_factory=dict)
    """Line each host first appears on."""
    entries: int = 0
    """Host entries so far (a host listed in two groups counts twice)."""

    def group(self, name: str, line: int | None = None) -> Group:
        """The group called ``name``, created when new."""
        group = self.groups.get(name)
        if group is None:
            check_count(self.source, len(self.groups) + 1, MAX_GROUPS, "groups", line)
            group = self.groups[name] = Group(name, line)
        return group

    def add_host(self, group: str, host: str, hvars: Mapping[str, Any], line: int | None) -> None:
        """List ``host`` in ``group`` with (more of) its own variables."""
        self.entries += 1
        check_count(self.source, self.entries, MAX_HOST_ENTRIES, "host entries", line)
        self.group(group).hosts[host] = None
        own = self.host_vars.get(host)
        if own is None:
            check_count(self.source, len(self.host_vars) + 1, MAX_HOSTS, "hosts", line)
            own = self.host_vars[host] = {}
            self.host_lines[host] = line
        own.update(hvars)

    def add_hosts(
        self, group: str, pattern: str, hvars: Mapping[str, Any], line: int | None
    ) -> None:
        """List every host of a pattern (``name``, ``name:port``, ``node[01:12]``)."""
        host_part, port = split_port(pattern)
        merged = dict(hvars)
        if port is not None:
            merged.setdefault("ansible_port", port)
        room = MAX_HOST_ENTRIES - self.entries
        for host in expand_pattern(host_part, self.source, line, limit=max(room, 0)):
            self.add_host(group, check_name(self.source, "host", host, line), merged, line)

    def add_child(self, parent: str, child: str, line: int | None) -> None:
        """Make ``child`` a child group of ``parent``."""
        self.group(child, line)
        self.group(parent).children[child] = None


# --------------------------------------------------------------------------
# Host ranges


def expand_pattern(
    pattern: str, source: str = "", line: int | None = None, limit: int = MAX_HOST_ENTRIES
) -> list[str]:
    """Expand Ansible host ranges: ``web[01:03]`` → web01, web02, web03.

    The total number of names (the product of every range's length) is
    checked against ``limit`` before any is made.
    """
    pieces: list[list[str]] = []
    last = 0
    for m in _RANGE_RE.finditer(pattern):
        pieces += [[_literal(pattern[last : m.start()], pattern, source, line)]]
        pieces.append(_range(m, pattern, source, line))
        last = m.end()
    pieces.append([_literal(pattern[last:], pattern, source, line)])
    total = math.prod(len(p) for p in pieces)
    if total > limit:
        what = (
            f"host range {show(pattern)} expands to {total} hosts"
            if total > 1
            else f"host {show(pattern)}"
        )
        raise bad(
            source,
            line,
            f"{what}: an inventory may list at most {MAX_HOST_ENTRIES} host entries "
            "(a host counts once per group it is in)",
        )
    out = [""]
    for piece in pieces:
        out = [head + item for head in out for item in piece]
    return out


def _literal(text: str, pattern: str, source: str, line: int | None) -> str:
    if "[" in text or "]" in text:
        raise bad(
            source, line, f"host {show(pattern)}: a range looks like name[01:12] or name[a:f]"
        )
    return text


def _range(m: re.Match[str], pattern: str, source: str, line: int | None) -> list[str]:
    start, end, step_text = m.group(1), m.group(2), m.group(3)
    if len(start) > 9 or len(end) > 9 or (step_text is not None and len(step_text) > 9):
        raise bad(source, line, f"host range {show(pattern)}: numbers of at most 9 digits")
    step = int(step_text) if step_text else 1
    if step < 1:
        raise bad(source, line, f"host range {show(pattern)}: the step must be at least 1")
    if start.isdigit() and end.isdigit():
        a, b = int(start), int(end)
        if b < a:
            raise bad(source, line, f"host range {show(pattern)}: {start} is after {end}")
        if (b - a) // step >= MAX_HOST_ENTRIES:
            raise bad(
                source,
                line,
                f"host range {show(pattern)} expands to more than {MAX_HOST_ENTRIES} hosts",
            )
        width = len(start) if start.startswith("0") else 0
        return [str(i).zfill(width) for i in range(a, b + 1, step)]
    if len(start) == 1 and len(end) == 1 and start.isalpha() and end.isalpha():
        letters = string.ascii_letters
        a, b = letters.index(start), letters.index(end)
        if b < a:
            raise bad(source, line, f"host range {show(pattern)}: {start} is after {end}")
        return [letters[i] for i in range(a, b + 1, step)]
    raise bad(
        source,
        line,
        f"host range {show(pattern)}: use numbers (01:12) or single letters (a:f)",
    )


def split_port(pattern: str) -> tuple[str, int | None]:
    """``name:2222`` → (name, 2222). Bare IPv6 addresses are left alone."""
    if pattern.count(":") == 1:
        host, port = pattern.split(":")
        if port.isascii() and port.isdigit() and len(port) <= 5:
            return host, int(port)
    return pattern, None


# --------------------------------------------------------------------------
# Variables → Inventory


def _parents(tree: Tree) -> dict[str, list[str]]:
    parents: dict[str, list[str]] = {g: [] for g in tree.groups}
    for g in tree.groups.values():
        for c in g.children:
            if c != g.name:
                parents[c].append(g.name)
    return parents


def _depths(tree: Tree, parents: Mapping[str, list[str]]) -> dict[str, int]:
    """Each group's depth below ``all`` (the longest chain of parents, as Ansible counts)."""
    depth: dict[str, int] = {}

    def visit(name: str, trail: tuple[str, ...]) -> int:
        if name in trail:
            raise bad(
                tree.source,
                tree.groups[name].line,
                f"group {name!r} is its own descendant ({' → '.join(trail[-5:] + (name,))})",
            )
        if name in depth:
            return depth[name]
        if len(trail) > MAX_DEPTH:  # bounds the recursion; the depth itself is checked below
            raise bad(
                tree.source,
                tree.groups[name].line,
                f"groups are nested more than {MAX_DEPTH} deep (group {name!r})",
            )
        if name == "all":
            d = 0
        else:
            d = 1 + max((visit(p, trail + (name,)) for p in parents[name]), default=0)
        if d > MAX_DEPTH:
            raise bad(
                tree.source,
                tree.groups[name].line,
                f"groups are nested more than {MAX_DEPTH} deep (group {name!r})",
            )
        depth[name] = d
        return d

    for group_name in tree.groups:
        visit(group_name, ())
    return depth


class Variables:
    """Each host's variables: groups from ``all`` down (deeper wins, then by name), then its own.

    The groups' merged variables are computed once per distinct set of direct groups.
    """

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.parents = _parents(tree)
        self.depth = _depths(tree, self.parents)
        self.direct: dict[str, list[str]] = {}
        for g in tree.groups.values():
            for h in g.hosts:
                self.direct.setdefault(h, []).append(g.name)
        self._ancestors: dict[str, frozenset[str]] = {}
        self._merged: dict[frozenset[str], dict[str, Any]] = {}

    def ancestors(self, group: str) -> frozenset[str]:
        """The group and every group above it (depth is bounded, so recursion is too)."""
        found = self._ancestors.get(group)
        if found is None:
            found = frozenset({group}).union(*(self.ancestors(p) for p in self.parents[group]))
            self._ancestors[group] = found
        return found

    def of(self, host: str) -> dict[str, Any]:
        """The variables of ``host``."""
        key = frozenset(self.direct.get(host, ()))
        groups = self._merged.get(key)
        if groups is None:
            names = frozenset({"all"}).union(*(self.ancestors(g) for g in key))
            groups = {}
            for g in sorted(names, key=lambda n: (self.depth[n], n)):
                groups.update(self.tree.groups[g].vars)
            self._merged[key] = groups
        return {**groups, **self.tree.host_vars.get(host, {})}


def host_variables(tree: Tree, host: str) -> dict[str, Any]:
    """A host's variables as Ansible merges them."""
    return Variables(tree).of(host)


def _deref(value: Any, hvars: Mapping[str, Any], source: str, what: str, line: int | None) -> Any:
    """Resolve a value that is exactly ``{{ var }}``; refuse other Jinja (and vault values)."""
    for _ in range(10):
        if isinstance(value, str) and value == VAULT_MARKER:
            raise NeedsAnsible(
                bad(
                    source,
                    line,
                    f"{what} is encrypted with ansible-vault: {INSTALL} "
                    "(with --vault-password-file)",
                ).args[0]
            )
        if not isinstance(value, str) or "{{" not in value and "{%" not in value:
            return value
        m = _JINJA_VAR_RE.fullmatch(value.strip())
        if m is None or m.group(1) not in hvars:
            raise bad(
                source,
                line,
                f"{what} is the template {show(value)}; without Ansible, jumbopath only "
                "follows a plain '{{ other_variable }}' to a defined variable: write the value "
                "itself, or install ansible-core so Ansible renders it",
            )
        value = hvars[m.group(1)]
    raise bad(source, line, f"{what}: templates refer to each other in a loop")


class _NetworkSpecs:
    """``jumbopath_networks`` values, a string parsed once however many hosts share it."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.parsed: dict[str, Any] = {}

    def get(self, value: Any, host: str, line: int | None) -> Mapping[Any, Any]:
        if isinstance(value, str):
            if value not in self.parsed:
                what = f"host {host!r}: {NETWORKS_VAR} is not valid YAML/JSON: "
                self.parsed[value] = load_yaml_text(value, self.source, at=(line, what))
            value = self.parsed[value]
        if not isinstance(value, Mapping):
            raise bad(
                self.source,
                line,
                f"host {host!r}: {NETWORKS_VAR} must map network names to "
                f"{{mtu: 9000, var: storage_ip}}, not {show(value)}",
            )
        check_count(self.source, len(value), MAX_NETWORKS, "networks", line)
        return value


@dataclass
class _Net:
    mtu: int
    family: int | None
    by: str
    members: list[tuple[str, str]] = field(default_factory=list)
    by_address: dict[str, str] = field(default_factory=dict)


def resolve(tree: Tree, var_dirs: Sequence[Path] | None = None) -> Inventory:
    """Merge variables (with group_vars/ and host_vars/) and build the inventory.

    ``var_dirs`` are the folders whose group_vars/ and host_vars/ are read, in
    order (a later one wins, as Ansible reads its sources' folders); None: the
    folder of the inventory file.
    """
    source = tree.source
    encrypted: list[Path] = []
    for base in (Path(source).parent,) if var_dirs is None else var_dirs:
        files = VarFiles(source, base)
        if files.present():
            files.merge("group_vars", ((n, g.vars) for n, g in tree.groups.items()))
            files.merge("host_vars", tree.host_vars.items())
            encrypted += files.encrypted
    variables = Variables(tree)
    specs = _NetworkSpecs(source)
    all_hosts = dict.fromkeys(h for g in tree.groups.values() for h in g.hosts)
    hosts: dict[str, MeshHost] = {}
    nets: dict[str, _Net] = {}
    switches = [h for h in all_hosts if is_switch_host(variables, h)]
    for host in all_hosts:
        line = tree.host_lines.get(host)
        hv = variables.of(host)
        if NETWORKS_VAR not in hv or host in switches:
            continue
        on_some = False
        for net_name, nspec in specs.get(hv[NETWORKS_VAR], host, line).items():
            on_some |= _member(source, nets, host, hv, net_name, nspec, line)
        if on_some and host not in hosts:
            hosts[host] = _mesh_host(source, host, hv, line)
    networks = [Network(name, n.mtu, tuple(n.members), n.family) for name, n in nets.items()]
    if not networks and encrypted:
        raise NeedsAnsible(
            bad(
                source,
                None,
                f"no host has an address on any network, and {str(encrypted[0])!r} is "
                f"encrypted with ansible-vault: {INSTALL} (with --vault-password-file)",
            ).args[0]
        )
    if not networks:
        raise bad(
            source,
            None,
            f"no host has an address on any network: set {NETWORKS_VAR} (for example in "
            '[all:vars]: jumbopath_networks={"storage": {"mtu": 9000, "var": "storage_ip"}}) '
            "and give each host that variable",
        )
    spec = switches_spec(
        source,
        switches,
        variables.of,
        lambda v, hv, what: _deref(v, hv, source, what, None),
    )
    return replace(finish(source, hosts, networks), switches=spec)


def is_switch_host(variables: Variables, host: str) -> bool:
    """Whether ``host`` is a switch (:mod:`.ansible_switches`), never a mesh host."""
    groups = frozenset().union(*(variables.ancestors(g) for g in variables.direct.get(host, ())))
    return is_switch(groups, variables.of(host))


def _member(
    source: str,
    nets: dict[str, _Net],
    host: str,
    hv: Mapping[str, Any],
    net_name: Any,
    nspec: Any,
    line: int | None,
) -> bool:
    """Add ``host`` to one network of its ``jumbopath_networks``; False when not on it."""
    net_name = check_name(source, "network", net_name, line)
    if isinstance(nspec, (int, str)) and not isinstance(nspec, bool):
        nspec = {"mtu": nspec}
    if not isinstance(nspec, Mapping) or "mtu" not in nspec:
        raise bad(
            source,
            line,
            f"{NETWORKS_VAR} (for host {host!r}): network {net_name!r} needs "
            f"{{mtu: 9000, var: VARIABLE}}, not {show(nspec)}",
        )
    unknown = [str(k) for k in nspec if k not in ("mtu", "var", "family")]
    if unknown:
        raise bad(
            source,
            line,
            f"{NETWORKS_VAR}: network {net_name!r}: unknown key {show(min(unknown))}; "
            "use mtu, var, family",
        )
    mtu = check_mtu(source, net_name, _deref(nspec["mtu"], hv, source, "mtu", line), line)
    family = check_family(source, net_name, nspec.get("family"), line)
    address = _address(source, host, hv, net_name, nspec.get("var"), line)
    if address is None:
        return False
    address = _deref(address, hv, source, f"host {host!r}: address on {net_name!r}", line)
    address = check_address(source, net_name, host, address, line)
    entry = nets.get(net_name)
    if entry is None:
        check_count(source, len(nets) + 1, MAX_NETWORKS, "networks", line)
        entry = nets[net_name] = _Net(mtu, family, host)
    if entry.mtu != mtu:
        raise bad(
            source,
            line,
            f"network {net_name!r} has mtu {entry.mtu} for host {entry.by!r} but {mtu} "
            f"for host {host!r}: set {NETWORKS_VAR} once, on a group both are in",
        )
    other = entry.by_address.get(address)
    if other is not None:
        raise bad(
            source,
            line,
            f"network {net_name!r}: {other!r} and {host!r} both have address {address}",
        )
    entry.by_address[address] = host
    entry.members.append((host, address))
    return True


def _address(
    source: str, host: str, hv: Mapping[str, Any], net_name: str, var: Any, line: int | None
) -> Any:
    """The host's address on a network, as its variables give it; None when not on it."""
    if var is not None:
        if not isinstance(var, str):
            raise bad(
                source, line, f"{NETWORKS_VAR}: network {net_name!r}: var must name a variable"
            )
        address = hv.get(var)
        if var == "ansible_host" and address is None:
            address = host
        return address
    addresses = hv.get(ADDRESSES_VAR) or {}
    if not isinstance(addresses, Mapping):
        raise bad(
            source, line, f"host {host!r}: {ADDRESSES_VAR} must map network names to addresses"
        )
    return addresses.get(net_name)


def _mesh_host(source: str, host: str, hv: Mapping[str, Any], line: int | None) -> MeshHost:
    def var(what: str, value: Any) -> Any:
        return _deref(value, hv, source, what, line)

    return make_host(
        source,
        host,
        line,
        ssh=var("ansible_host", hv.get("ansible_host", hv.get("ansible_ssh_host", host))),
        user=var("ansible_user", hv.get("ansible_user", hv.get("ansible_ssh_user"))),
        port=var("ansible_port", hv.get("ansible_port", hv.get("ansible_ssh_port"))),
        command=var(COMMAND_VAR, hv.get(COMMAND_VAR) or None),
        identity_file=var("ansible_ssh_private_key_file", hv.get("ansible_ssh_private_key_file")),
        agent=var(AGENT_VAR, hv.get(AGENT_VAR)),
        os=var(OS_VAR, hv.get(OS_VAR)) or _os_hint(hv),
        vmk=var(VMK_VAR, hv.get(VMK_VAR)),
        netstack=var(NETSTACK_VAR, hv.get(NETSTACK_VAR)),
    )


def _os_hint(hv: Mapping[str, Any]) -> str | None:
    """The OS Ansible's own variables say, when jumbopath_os does not."""
    for name, table in OS_HINTS:
        value = hv.get(name)
        if isinstance(value, str) and value.strip().lower() in table:
            return table[value.strip().lower()]
    return None
