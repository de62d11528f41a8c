"""The switches file (``--switches FILE``): which switches to read, and the ones given as data.

YAML (JSON is YAML too). Bounded and validated where it enters; every
string from it is made terminal-safe. Secrets never live here: a switch
names a credentials profile (see :mod:`jumbopath.switches.credentials`)::

    switches:
      - name: sw-a                  # read over SNMP
        address: 198.18.1.250
        credentials: default        # profile name (default: default)
        vendor: linux               # optional: the ifMtu rule (else recognised)
      - name: sw-x                  # cannot be polled: its tables as data
        vendor: nxos
        ports:
          - {name: Ethernet1/7, mtu: 1500, alias: stor-b}   # mtu: ifMtu as shown
          - {name: Ethernet1/8, max_frame: 9216}            # or the frame size
        neighbours:
          - {port: Ethernet1/7, system: stor-b, port_id: eth0, addresses: [198.18.2.3]}
        fdb:
          - {port: Ethernet1/9, mac: "02:00:00:00:00:09"}
      - name: sw-y                  # or what its CLI printed (see jumbopath.switches.pasted)
        show_interface: sw-y-interfaces.json     # paths relative to this file
        show_lldp: sw-y-lldp.json
    hosts:                          # hosts without LLDP, or to name addresses
      - {name: stor-c, addresses: [198.18.2.4], macs: ["02:00:00:00:00:04"]}
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from jumbopath.errors import UsageError
from jumbopath.outside import read_text
from jumbopath.safe import safe_text
from jumbopath.switches.model import FdbEntry, HostHint, Neighbour, Port, Source, SwitchInfo
from jumbopath.switches.vendors import VENDORS, ip_mtu_from_if_mtu, ip_mtu_from_max_frame

MAX_FILE = 4 * 1024 * 1024
MAX_SWITCHES = 1024
MAX_ROWS = 4096
MAX_NAME = 255
_MAC = re.compile(r"^[0-9a-f]{2}([:-]?[0-9a-f]{2}){5}$", re.I)


@dataclass(frozen=True, slots=True)
class PollSpec:
    """A switch to read over SNMP."""

    name: str
    """Name shown."""
    address: str
    """Management address."""
    credentials: str = "default"
    """Credentials profile name."""
    vendor: str | None = None
    """ifMtu rule; None: recognise it."""
    port: int = 161
    """UDP port."""


@dataclass(frozen=True, slots=True)
class SwitchesFile:
    """What a switches file holds."""

    poll: tuple[PollSpec, ...]
    """Switches to read over SNMP."""
    given: tuple[SwitchInfo, ...]
    """Switches given as data."""
    hosts: tuple[HostHint, ...]
    """Hosts named by address or MAC."""


def _bad(source: str, what: str) -> UsageError:
    return UsageError(f"{source}: {what} (see the README, 'Switches')")


def _name(source: str, value: Any, what: str) -> str:
    if not isinstance(value, (str, int)) or isinstance(value, bool) or not str(value).strip():
        raise _bad(source, f"{what} must be a non-empty name")
    return safe_text(str(value).strip(), MAX_NAME)


def _list(source: str, doc: Mapping[str, Any], key: str) -> list[Any]:
    value = doc.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise _bad(source, f"'{key}' must be a list")
    if len(value) > MAX_ROWS:
        raise _bad(source, f"'{key}' has more than {MAX_ROWS} entries")
    return value


def _int(source: str, value: Any, what: str, low: int = 1, high: int = 1 << 20) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _bad(source, f"{what} must be a whole number {low}..{high}")
    return value


def _address(source: str, value: Any, what: str) -> str:
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise _bad(source, f"{what}: {safe_text(value, 60)!r} is not an IP address") from None


#: A DNS name (RFC 1123 labels; ``_`` too, as inventories use it), for a switch's
#: management address.
_LABEL = r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*\.?$")


def _poll_address(source: str, value: Any, what: str) -> str:
    """A switch's management address: an IP address, or a host name resolved when
    the switch is read (a name that does not resolve makes that switch unreadable,
    with the reason, like one that does not answer)."""
    text = str(value).strip() if isinstance(value, (str, int)) else ""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        if _HOSTNAME.match(text) and not text.replace(".", "").isdigit():
            return text.rstrip(".").lower()
    raise _bad(source, f"{what}: {safe_text(value, 60)!r} is not an IP address or a host name")


def _mac(source: str, value: Any) -> str:
    text = str(value).strip()
    if not _MAC.match(text):
        raise _bad(source, f"{safe_text(text, 40)!r} is not a MAC address")
    digits = re.sub(r"[:-]", "", text).lower()
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def _vendor(source: str, value: Any, where: str) -> str | None:
    if value is None:
        return None
    key = str(value).strip().lower()
    if key not in VENDORS:
        raise _bad(
            source, f"{where}: vendor {safe_text(key, 40)!r}: use one of {', '.join(VENDORS)}"
        )
    return key


def _mapping(source: str, value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _bad(source, f"{what} must be a mapping")
    return value


_PASTED = ("show_interface", "show_lldp")
_GIVEN = ("ports", "neighbours", "neighbors", "fdb", *_PASTED)


def _pasted(
    source: str, name: str, doc: Mapping[str, Any], what: str, base: Path | None, vendor: str | None
) -> Any:
    """One pasted CLI document of a switch (``show_interface``/``show_lldp``)."""
    from jumbopath.switches import pasted

    value = doc.get(what)
    if not isinstance(value, str) or not value.strip() or len(value) > 4096:
        raise _bad(source, f"{name}: {what} must name a file")
    path = Path(value)
    if base is not None and not path.is_absolute():
        path = base / path
    return pasted.load(path, what, vendor)


def _given(
    source: str, name: str, doc: Mapping[str, Any], vendor: str | None, base: Path | None = None
) -> SwitchInfo:
    pasted_ports: list[Port] = []
    if doc.get("show_interface") is not None:
        found, pasted_ports = _pasted(source, name, doc, "show_interface", base, vendor)
        key = vendor or found
    else:
        key = vendor or "unknown"
    ports = [replace(p, index=i) for i, p in enumerate(pasted_ports, 1)]
    for i, row in enumerate(_list(source, doc, "ports"), 1):
        row = _mapping(source, row, f"{name}: a port")
        pname = _name(source, row.get("name"), f"{name}: port name")
        if_mtu = _int(source, row.get("mtu"), f"{name} {pname}: mtu", 68, 65535 + 64)
        frame = _int(source, row.get("max_frame"), f"{name} {pname}: max_frame", 64, 65535 + 64)
        ip_mtu = ip_mtu_from_if_mtu(if_mtu, key) if if_mtu else None
        if ip_mtu is None and frame:
            ip_mtu = ip_mtu_from_max_frame(frame)
        up = row.get("up")
        ports.append(
            Port(
                index=len(pasted_ports) + i,
                name=pname,
                alias=safe_text(row.get("alias") or "", MAX_NAME),
                if_mtu=if_mtu,
                ip_mtu=ip_mtu,
                speed_mbps=_int(source, row.get("speed"), f"{name} {pname}: speed"),
                up=up if isinstance(up, bool) else None,
                max_frame=frame,
            )
        )
    neighbours = []
    for row in _list(source, doc, "neighbours") + _list(source, doc, "neighbors"):
        row = _mapping(source, row, f"{name}: a neighbour")
        addresses = tuple(
            _address(source, a, f"{name}: neighbour address")
            for a in (row.get("addresses") or [])[:16]
        )
        neighbours.append(
            Neighbour(
                port=_name(source, row.get("port"), f"{name}: neighbour port"),
                system=_name(source, row.get("system"), f"{name}: neighbour system"),
                port_id=safe_text(str(row.get("port_id") or ""), MAX_NAME),
                port_desc=safe_text(str(row.get("port_desc") or ""), MAX_NAME),
                chassis_id=safe_text(str(row.get("chassis_id") or ""), MAX_NAME),
                addresses=addresses,
                max_frame=_int(source, row.get("max_frame"), f"{name}: neighbour max_frame", 64),
            )
        )
    if doc.get("show_lldp") is not None:
        from jumbopath.switches.pasted import local_port

        by_name = {p.name: p for p in ports}
        neighbours += [
            replace(n, port=local_port(n.port, by_name))
            for n in _pasted(source, name, doc, "show_lldp", base, vendor)
        ]
    fdb = []
    for row in _list(source, doc, "fdb"):
        row = _mapping(source, row, f"{name}: an fdb entry")
        fdb.append(
            FdbEntry(
                _mac(source, row.get("mac")),
                _name(source, row.get("port"), f"{name}: fdb port"),
                _int(source, row.get("vlan"), f"{name}: fdb vlan", 1, 4094),
            )
        )
    return SwitchInfo(
        name=name,
        address=None,
        source=Source.FILE,
        vendor=key,
        vendor_guessed=vendor is None,
        ports=tuple(ports[:MAX_ROWS]),
        neighbours=tuple(neighbours),
        fdb=tuple(fdb),
        chassis_id=safe_text(str(doc.get("chassis_id") or ""), MAX_NAME),
    )


def parse(doc: Any, source: str, base: Path | None = None) -> SwitchesFile:
    """A switches document (already loaded) into what to read and what is given.

    ``base``: the folder pasted files (``show_interface:``, ``show_lldp:``) are relative to.
    """
    if doc is None:
        doc = {}
    doc = _mapping(source, doc, "the file")
    unknown = set(doc) - {"switches", "hosts"}
    if unknown:
        raise _bad(source, f"unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    polls, given, names = [], [], set()
    rows = _list(source, doc, "switches")
    if len(rows) > MAX_SWITCHES:
        raise _bad(source, f"more than {MAX_SWITCHES} switches")
    for row in rows:
        if isinstance(row, str):
            row = {"address": row}
        row = _mapping(source, row, "a switch")
        address = row.get("address")
        name = _name(source, row.get("name", address), "a switch's name")
        if name in names:
            raise _bad(source, f"switch {name!r} is listed twice")
        names.add(name)
        vendor = _vendor(source, row.get("vendor"), name)
        if any(k in row for k in _GIVEN):
            given.append(_given(source, name, row, vendor, base))
        elif address is not None:
            polls.append(
                PollSpec(
                    name,
                    _poll_address(source, address, name),
                    _name(source, row.get("credentials", "default"), f"{name}: credentials"),
                    vendor,
                    _int(source, row.get("port", 161), f"{name}: port", 1, 65535) or 161,
                )
            )
        else:
            raise _bad(source, f"switch {name!r} needs an 'address' to read or 'ports' given")
    hosts = []
    for row in _list(source, doc, "hosts"):
        row = _mapping(source, row, "a host")
        hosts.append(
            HostHint(
                _name(source, row.get("name"), "a host's name"),
                tuple(
                    _address(source, a, "host address") for a in (row.get("addresses") or [])[:64]
                ),
                tuple(_mac(source, m) for m in (row.get("macs") or [])[:64]),
            )
        )
    return SwitchesFile(tuple(polls), tuple(given), tuple(hosts))


def parse_section(value: Any, source: str, base: Path | None = None) -> SwitchesFile:
    """An inventory's ``switches:`` section: a list of switches as a switches file's
    ``switches:``, or a mapping with ``switches:`` and ``hosts:`` as a whole switches file."""
    if isinstance(value, list):
        value = {"switches": value}
    return parse(value, source, base)


def load(path: str | Path) -> SwitchesFile:
    """Read and check a switches file."""
    from jumbopath.mesh.inventory.yamlload import load_yaml_text

    path = Path(path)
    text = read_text(path, "switches file", MAX_FILE)
    doc = load_yaml_text(text, str(path))  # bounded: depth, nodes, aliases
    return parse(doc, str(path), path.parent)
