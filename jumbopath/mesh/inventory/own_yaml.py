"""jumbopath's own inventory format (YAML).

::

    defaults: {user: root, port: 22, command: jumbopath}     # optional
    hosts: {hv1: {ssh: 198.18.0.11}, hv2: {},                # optional
            esx1: {agent: ping, os: esxi,                    # nothing installed there
                   vmk: {storage: vmk1}, netstack: {migration: vmotion}}}
    networks:
      storage: {mtu: 9000, hosts: {hv1: 198.18.1.11, hv2: 198.18.1.12}}
    switches:                                                # optional: as a switches file's
      - {name: sw-a, address: 198.18.1.250, credentials: default}

``switches:`` is a switches file's ``switches:`` list, or a mapping with its
``switches:`` and ``hosts:`` (:func:`jumbopath.switches.files.parse_section`
checks it); switches are never mesh hosts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jumbopath.mesh.inventory.model import Inventory, MeshHost, Network
from jumbopath.mesh.inventory.validate import (
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
from jumbopath.mesh.inventory.yamlload import line_of

if TYPE_CHECKING:
    from jumbopath.switches.files import SwitchesFile

HOST_KEYS = frozenset(
    {"ssh", "user", "port", "command", "identity_file", "agent", "os", "vmk", "netstack"}
)
"""Keys of one host (and of ``defaults:``)."""
NET_KEYS = frozenset({"mtu", "hosts", "family"})
"""Keys of one network."""
TOP_KEYS = frozenset({"jumbopath", "defaults", "hosts", "networks", "switches"})
"""Keys of the top level."""


def parse_jumbopath(data: Any, source: str) -> Inventory:
    """Read jumbopath's own inventory format (already loaded from YAML)."""
    if not isinstance(data, Mapping):
        raise bad(source, None, "expected a mapping with 'networks:' (and optionally 'hosts:')")
    _unknown_keys(
        source, data, TOP_KEYS, "the top level has: defaults, hosts, networks, switches", ""
    )
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, Mapping):
        raise bad(
            source, line_of(data, "defaults"), "'defaults:' must be a mapping (user, port, command)"
        )
    _check_host_keys(source, "defaults", defaults)
    raw_hosts = data.get("hosts") or {}
    if not isinstance(raw_hosts, Mapping):
        raise bad(
            source, line_of(data, "hosts"), "'hosts:' must map host names to their SSH settings"
        )
    check_count(source, len(raw_hosts), MAX_HOSTS, "hosts", line_of(data, "hosts"))
    hosts: dict[str, MeshHost] = {}
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
                f"host {name!r}: expected ssh/user/port/command settings, not {show(spec)}",
            )
        _check_host_keys(source, name, spec)
        hosts[name] = _mesh_host(source, name, {**defaults, **spec}, line)

    raw_nets = data.get("networks")
    if not isinstance(raw_nets, Mapping) or not raw_nets:
        raise bad(
            source,
            line_of(data, "networks"),
            "'networks:' is missing; add e.g. networks: {storage: {mtu: 9000, hosts: "
            "{node1: 198.18.1.11, node2: 198.18.1.12}}}",
        )
    check_count(source, len(raw_nets), MAX_NETWORKS, "networks", line_of(data, "networks"))
    networks = [
        _network(source, raw_nets, net_name, spec, hosts, defaults, bool(raw_hosts))
        for net_name, spec in raw_nets.items()
    ]
    inventory = finish(source, hosts, networks)
    if data.get("switches") is not None:
        inventory = replace(inventory, switches=_switches(source, data))
    return inventory


def _switches(source: str, data: Mapping[Any, Any]) -> SwitchesFile:
    """The ``switches:`` section, checked by the switches file's own reader."""
    from jumbopath.switches.files import parse_section

    line = line_of(data, "switches")
    where = f"{source}:{line}: switches" if line else f"{source}: switches"
    return parse_section(data["switches"], where, Path(source).parent)


def _network(
    source: str,
    raw_nets: Mapping[Any, Any],
    net_name: Any,
    spec: Any,
    hosts: dict[str, MeshHost],
    defaults: Mapping[Any, Any],
    hosts_listed: bool,
) -> Network:
    """One entry of ``networks:``; hosts only named here are added to ``hosts``."""
    line = line_of(raw_nets, net_name)
    net_name = check_name(source, "network", net_name, line)
    if not isinstance(spec, Mapping):
        raise bad(source, line, f"network {net_name!r}: expected mtu and hosts, not {show(spec)}")
    _unknown_keys(
        source, spec, NET_KEYS, "a network has: mtu, hosts, family", f"network {net_name!r}: "
    )
    if "mtu" not in spec:
        raise bad(source, line, f"network {net_name!r}: add 'mtu: 9000' (the MTU it must carry)")
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
    check_count(source, len(members_raw), MAX_HOSTS, "hosts", line_of(spec, "hosts"))
    members: list[tuple[str, str]] = []
    by_address: dict[str, str] = {}
    for host, addr in members_raw.items():
        hline = line_of(members_raw, host)
        host = check_name(source, "host", host, hline)
        if hosts_listed and host not in hosts:
            raise bad(
                source,
                hline,
                f"network {net_name!r}: host {host!r} is not under 'hosts:'; add it there "
                "or fix the name",
            )
        if host not in hosts:
            check_count(source, len(hosts) + 1, MAX_HOSTS, "hosts", hline)
            hosts[host] = _mesh_host(source, host, dict(defaults), hline)
        address = check_address(source, net_name, host, addr, hline)
        if address in by_address:
            raise bad(
                source,
                line,
                f"network {net_name!r}: {host!r} and {by_address[address]!r} both have "
                f"address {address}",
            )
        by_address[address] = host
        members.append((host, address))
    return Network(net_name, mtu, tuple(members), family)


def _unknown_keys(
    source: str, spec: Mapping[Any, Any], known: frozenset[str], hint: str, prefix: str
) -> None:
    unknown = [k for k in spec if k not in known]
    if unknown:
        key = min(unknown, key=str)
        raise bad(source, line_of(spec, key), f"{prefix}unknown key {show(str(key))}; {hint}")


def _check_host_keys(source: str, name: str, spec: Mapping[Any, Any]) -> None:
    unknown = [k for k in spec if k not in HOST_KEYS]
    if unknown:
        key = min(unknown, key=str)
        raise bad(
            source,
            line_of(spec, key),
            f"{name}: unknown key {show(str(key))}; a host has: {', '.join(sorted(HOST_KEYS))}",
        )


def _mesh_host(source: str, name: str, spec: Mapping[Any, Any], line: int | None) -> MeshHost:
    return make_host(
        source,
        name,
        line,
        ssh=spec.get("ssh") or None,
        user=spec.get("user"),
        port=spec.get("port"),
        command=spec.get("command") or None,
        identity_file=spec.get("identity_file"),
        agent=spec.get("agent"),
        os=spec.get("os"),
        vmk=spec.get("vmk"),
        netstack=spec.get("netstack"),
    )
