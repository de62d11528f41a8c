"""Inventories: which hosts to reach over SSH, and each host's address on each network.

Three formats are read (see ``examples/README-mesh.md``):

- jumbopath's own YAML (``networks:`` with an MTU and the member hosts'
  addresses, and optionally ``hosts:`` with how to reach each over SSH);
- Ansible YAML inventories;
- Ansible INI inventories (parsed here; Ansible need not be installed).

Every format becomes one :class:`Inventory`. A malformed file raises
:class:`~jumbopath.errors.UsageError` naming the file, the line when known,
and what to fix.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from jumbopath.errors import UsageError

DEFAULT_COMMAND = "jumbopath"
"""Remote command that runs ``jumbopath check`` when the inventory names none."""

FORMATS = ("auto", "jumbopath", "ansible-yaml", "ansible-ini")
"""Accepted values of ``--inventory-format``."""

_NAME_RE = re.compile(r"^[A-Za-z0-9_.:\-\[\]]+$")


@dataclass(frozen=True, slots=True)
class MeshHost:
    """One host of the mesh and how to reach it over SSH."""

    name: str
    """Inventory name; rows and columns of the matrix carry it."""
    ssh_host: str
    """What ``ssh`` connects to (a name, an address or a ~/.ssh/config alias)."""
    user: str | None = None
    """Remote user (``ssh -l``); None leaves it to the SSH configuration."""
    port: int | None = None
    """Remote port (``ssh -p``); None leaves it to the SSH configuration."""
    command: str = DEFAULT_COMMAND
    """Shell words that run jumbopath there (``sudo -n jumbopath``, ``/opt/jp/bin/jumbopath``)."""
    identity_file: str | None = None
    """Private key (``ssh -i``); None leaves it to the agent and the SSH configuration."""


@dataclass(frozen=True, slots=True)
class Network:
    """One network every member host must reach every other member on."""

    name: str
    """Network name (``storage``, ``migration``, ...)."""
    mtu: int
    """The MTU every path on this network must carry (``check --expect``)."""
    members: tuple[tuple[str, str], ...]
    """(host name, address on this network), in inventory order."""
    family: int | None = None
    """4 or 6 to pass ``-4``/``-6`` to check when addresses are names; None otherwise."""

    @property
    def hosts(self) -> tuple[str, ...]:
        """Member host names, in inventory order."""
        return tuple(h for h, _ in self.members)

    def address(self, host: str) -> str | None:
        """The host's address on this network, or None when it is not a member."""
        for h, a in self.members:
            if h == host:
                return a
        return None


@dataclass(frozen=True, slots=True)
class Inventory:
    """Hosts and networks of one mesh."""

    hosts: tuple[MeshHost, ...]
    """Every host that belongs to at least one network."""
    networks: tuple[Network, ...]
    """Every network with at least one member."""
    source: str = ""
    """File the inventory came from (for messages)."""

    def host(self, name: str) -> MeshHost:
        """The host called ``name``."""
        for h in self.hosts:
            if h.name == name:
                return h
        raise KeyError(name)

    def only(self, networks: list[str] | tuple[str, ...]) -> Inventory:
        """The same inventory limited to the named networks (``--network``)."""
        if not networks:
            return self
        known = {n.name for n in self.networks}
        unknown = [n for n in networks if n not in known]
        if unknown:
            raise UsageError(
                f"{self.source}: no network called {', '.join(unknown)}; "
                f"the inventory has: {', '.join(sorted(known))}"
            )
        nets = tuple(n for n in self.networks if n.name in networks)
        members = {h for n in nets for h in n.hosts}
        return Inventory(
            hosts=tuple(h for h in self.hosts if h.name in members),
            networks=nets,
            source=self.source,
        )


# --------------------------------------------------------------------------
# Shared checks


def bad(source: str, line: int | None, what: str) -> UsageError:
    """A UsageError that names the file and, when known, the line."""
    where = f"{source}:{line}" if line else source
    return UsageError(f"{where}: {what}")


def check_mtu(source: str, network: str, value: Any, line: int | None = None) -> int:
    """An MTU from an inventory, validated (68..65535, RFC 791 / RFC 8200 limits)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad(
            source, line, f"network {network!r}: mtu must be a number like 9000, not {value!r}"
        )
    if not 68 <= value <= 65535:
        raise bad(source, line, f"network {network!r}: mtu {value} is outside 68..65535")
    return value


def check_port(source: str, host: str, value: Any, line: int | None = None) -> int | None:
    """An SSH port, validated; None when unset."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise bad(source, line, f"host {host!r}: port must be a number 1..65535, not {value!r}")
    return value


def check_family(source: str, network: str, value: Any, line: int | None = None) -> int | None:
    """``family: 4|6`` of a network, validated; None when unset."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip() in ("4", "6"):
        value = int(value.strip())
    if value not in (4, 6):
        raise bad(source, line, f"network {network!r}: family must be 4 or 6, not {value!r}")
    return int(value)


def check_address(source: str, network: str, host: str, value: Any, line: int | None = None) -> str:
    """A host's address on a network: an IP address or a host name."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value).strip() == "":
        raise bad(
            source,
            line,
            f"network {network!r}: host {host!r} needs an address (like 198.18.1.11) "
            f"or a name, not {value!r}",
        )
    text = str(value).strip()
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.\-]*", text):
        raise bad(
            source,
            line,
            f"network {network!r}: host {host!r} has {text!r}, which is neither an IP address "
            "nor a host name",
        )
    return text


def check_name(source: str, kind: str, value: Any, line: int | None = None) -> str:
    """A host or network name: a non-empty string without spaces."""
    if not isinstance(value, (str, int)) or isinstance(value, bool) or not str(value):
        raise bad(source, line, f"{kind} name must be text, not {value!r}")
    text = str(value)
    if not _NAME_RE.match(text):
        raise bad(source, line, f"{kind} name {text!r} may only hold letters, digits and . _ - :")
    return text


def finish(
    source: str,
    hosts: dict[str, MeshHost],
    networks: list[Network],
) -> Inventory:
    """Keep the hosts that are on some network; refuse an inventory with nothing to check."""
    networks = [n for n in networks if n.members]
    if not networks:
        raise bad(
            source,
            None,
            "no host has an address on any network: give each network an mtu and its "
            "hosts' addresses (see examples/README-mesh.md)",
        )
    order = list(hosts)
    members = {h for n in networks for h in n.hosts}
    for h in sorted(members - set(hosts)):
        hosts[h] = MeshHost(name=h, ssh_host=h)
        order.append(h)
    return Inventory(
        hosts=tuple(hosts[h] for h in order if h in members),
        networks=tuple(networks),
        source=source,
    )


# --------------------------------------------------------------------------
# jumbopath's own YAML format

_HOST_KEYS = {"ssh", "user", "port", "command", "identity_file"}
_NET_KEYS = {"mtu", "hosts", "family"}
_TOP_KEYS = {"jumbopath", "defaults", "hosts", "networks"}


class _LineLoader(yaml.SafeLoader):
    """A YAML loader that remembers the line of every mapping (for messages)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping = _LineDict(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    keys = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (str, int)):
            keys[key] = key_node.start_mark.line + 1
    mapping.key_lines = keys
    return mapping


class _LineDict(dict):  # type: ignore[type-arg,unused-ignore]
    line: int | None = None
    key_lines: dict[Any, int]


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,  # type: ignore[arg-type,unused-ignore]
)


def line_of(mapping: Any, key: Any = None) -> int | None:
    """The line a key (or the mapping itself) sits on, when the loader recorded it."""
    if isinstance(mapping, _LineDict):
        if key is not None and key in getattr(mapping, "key_lines", {}):
            return mapping.key_lines[key]
        return mapping.line
    return None


def load_yaml(path: Path) -> Any:
    """Read a YAML file; syntax errors become a UsageError with the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the inventory: {exc.strerror or exc}") from exc
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise bad(str(path), line, f"not valid YAML: {problem}") from exc


def parse_jumbopath(data: Any, source: str) -> Inventory:
    """Read jumbopath's own inventory format (already loaded from YAML)."""
    if not isinstance(data, Mapping):
        raise bad(source, None, "expected a mapping with 'networks:' (and optionally 'hosts:')")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        key = sorted(map(str, unknown))[0]
        raise bad(
            source,
            line_of(data, key),
            f"unknown key {key!r}; the top level has: defaults, hosts, networks",
        )
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, Mapping):
        raise bad(
            source, line_of(data, "defaults"), "'defaults:' must be a mapping (user, port, command)"
        )
    _check_host_keys(source, "defaults", defaults)

    hosts: dict[str, MeshHost] = {}
    raw_hosts = data.get("hosts") or {}
    if not isinstance(raw_hosts, Mapping):
        raise bad(
            source, line_of(data, "hosts"), "'hosts:' must map host names to their SSH settings"
        )
    for name, spec in raw_hosts.items():
        line = line_of(raw_hosts, name)
        name = check_name(source, "host", name, line)
        if spec is None:
            spec = {}
        elif isinstance(spec, str):
            spec = {"ssh": spec}
        if not isinstance(spec, Mapping):
            raise bad(
                source,
                line,
                f"host {name!r}: expected ssh/user/port/command settings, not {spec!r}",
            )
        _check_host_keys(source, name, spec)
        merged = {**defaults, **spec}
        hosts[name] = _mesh_host(source, name, merged, line)

    raw_nets = data.get("networks")
    if not isinstance(raw_nets, Mapping) or not raw_nets:
        raise bad(
            source,
            line_of(data, "networks"),
            "'networks:' is missing; add e.g. networks: {storage: {mtu: 9000, hosts: "
            "{node1: 198.18.1.11, node2: 198.18.1.12}}}",
        )
    networks: list[Network] = []
    for net_name, spec in raw_nets.items():
        line = line_of(raw_nets, net_name)
        net_name = check_name(source, "network", net_name, line)
        if not isinstance(spec, Mapping):
            raise bad(source, line, f"network {net_name!r}: expected mtu and hosts, not {spec!r}")
        unknown = set(spec) - _NET_KEYS
        if unknown:
            key = sorted(map(str, unknown))[0]
            raise bad(
                source,
                line_of(spec, key),
                f"network {net_name!r}: unknown key {key!r}; a network has: mtu, hosts, family",
            )
        if "mtu" not in spec:
            raise bad(
                source, line, f"network {net_name!r}: add 'mtu: 9000' (the MTU it must carry)"
            )
        mtu = check_mtu(source, net_name, spec["mtu"], line_of(spec, "mtu"))
        family = check_family(source, net_name, spec.get("family"), line_of(spec, "family"))
        members_raw = spec.get("hosts")
        if not isinstance(members_raw, Mapping) or not members_raw:
            raise bad(
                source,
                line_of(spec, "hosts") or line,
                f"network {net_name!r}: 'hosts:' must map each member host to its address "
                "on this network",
            )
        members: list[tuple[str, str]] = []
        for host, addr in members_raw.items():
            hline = line_of(members_raw, host)
            host = check_name(source, "host", host, hline)
            if raw_hosts and host not in hosts:
                raise bad(
                    source,
                    hline,
                    f"network {net_name!r}: host {host!r} is not under 'hosts:'; add it there "
                    "or fix the name",
                )
            if host not in hosts:
                hosts[host] = _mesh_host(source, host, dict(defaults), hline)
            members.append((host, check_address(source, net_name, host, addr, hline)))
        _check_unique(source, net_name, members, line)
        networks.append(Network(net_name, mtu, tuple(members), family))
    return finish(source, hosts, networks)


def _check_host_keys(source: str, name: str, spec: Mapping[Any, Any]) -> None:
    unknown = set(spec) - _HOST_KEYS
    if unknown:
        key = sorted(map(str, unknown))[0]
        raise bad(
            source,
            line_of(spec, key),
            f"{name}: unknown key {key!r}; a host has: {', '.join(sorted(_HOST_KEYS))}",
        )


def _mesh_host(source: str, name: str, spec: Mapping[str, Any], line: int | None) -> MeshHost:
    ssh = spec.get("ssh") or name
    user = spec.get("user")
    command = spec.get("command") or DEFAULT_COMMAND
    identity = spec.get("identity_file")
    for key, val in (
        ("ssh", ssh),
        ("user", user),
        ("command", command),
        ("identity_file", identity),
    ):
        if val is not None and not isinstance(val, (str, int)):
            raise bad(source, line, f"host {name!r}: {key} must be text, not {val!r}")
    return MeshHost(
        name=name,
        ssh_host=str(ssh),
        user=str(user) if user is not None else None,
        port=check_port(source, name, spec.get("port"), line),
        command=str(command),
        identity_file=str(identity) if identity is not None else None,
    )


def _check_unique(source: str, net: str, members: list[tuple[str, str]], line: int | None) -> None:
    seen: dict[str, str] = {}
    for host, addr in members:
        if addr in seen:
            raise bad(
                source,
                line,
                f"network {net!r}: {host!r} and {seen[addr]!r} both have address {addr}",
            )
        seen[addr] = host


# --------------------------------------------------------------------------
# Entry point


def detect_format(path: Path, data: Any | None) -> str:
    """Guess the format of an inventory file from its name and content."""
    if data is None:
        return "ansible-ini"
    if isinstance(data, Mapping):
        if "networks" in data and "all" not in data:
            nets = data["networks"]
            looks_ours = isinstance(nets, Mapping) and all(
                isinstance(v, Mapping) and ("mtu" in v or set(v) <= _NET_KEYS)
                for v in nets.values()
            )
            if looks_ours:
                return "jumbopath"
        return "ansible-yaml"
    return "ansible-ini"


def load_inventory(path: str | Path, fmt: str = "auto") -> Inventory:
    """Read an inventory file in any supported format."""
    from jumbopath.mesh import ansible

    p = Path(path)
    source = str(p)
    if fmt not in FORMATS:
        raise UsageError(f"unknown inventory format {fmt!r}; use one of: {', '.join(FORMATS)}")
    if not p.is_file():
        raise UsageError(f"{source}: no such inventory file")
    if fmt == "ansible-ini":
        return ansible.parse_ini_file(p)
    suffix = p.suffix.lower()
    if fmt == "auto" and (suffix in (".ini", ".cfg") or (suffix not in _YAML and _looks_ini(p))):
        return ansible.parse_ini_file(p)
    try:
        data = load_yaml(p)
    except UsageError:
        if fmt == "auto" and suffix not in _YAML:
            return ansible.parse_ini_file(p)  # INI that YAML cannot read
        raise
    if fmt == "auto":
        if suffix not in _YAML and not isinstance(data, Mapping):
            return ansible.parse_ini_file(p)
        fmt = detect_format(p, data)
    if fmt == "jumbopath":
        return parse_jumbopath(data, source)
    if fmt == "ansible-yaml":
        return ansible.parse_yaml(data, source)
    return ansible.parse_ini_file(p)


_YAML = (".yml", ".yaml", ".json")


def _looks_ini(path: Path) -> bool:
    """True when a line near the top is an INI section header ([group], [group:vars])."""
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            for _, raw in zip(range(200), fh, strict=False):
                line = raw.strip()
                if not line or line[0] in "#;":
                    continue
                if re.fullmatch(r"\[[A-Za-z0-9_.\-]+(:[a-z]+)?\]", line):
                    return True
    except OSError:
        return False
    return False
