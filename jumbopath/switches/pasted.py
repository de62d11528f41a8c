"""Switch tables pasted as the JSON their CLI prints: NX-OS, Arista EOS, Cumulus / lldpd.

A switch given as data in a switches file (or an inventory's ``switches:``)
may name, instead of ``ports:``/``neighbours:``, files holding what it printed::

    - {name: leaf1, vendor: nxos, show_interface: leaf1-if.json, show_lldp: leaf1-lldp.json}

Paths are relative to the file naming them. What is read (the shapes are those
of the fixtures in ``tests/fixtures/switches/``, whose README names their sources):

``show_interface``
  - NX-OS ``show interface | json``: ``TABLE_interface.ROW_interface[]``
    (``interface``, ``eth_mtu``, ``state``, ``desc``, ``eth_bw`` in kb/s);
  - Arista EOS ``show interfaces | json`` (or its eAPI ``result``):
    ``interfaces.NAME`` (``mtu``, ``lineProtocolStatus``, ``description``,
    ``bandwidth`` in b/s);
  - Cumulus ``nv show interface -o json``: ``NAME.link`` (``mtu``,
    ``oper-status``); or ``ip -j link show`` on any Linux switch.
``show_lldp``
  - NX-OS ``show lldp neighbors [detail] | json``: ``TABLE_nbor[_detail].ROW_nbor[_detail][]``
    (``l_port_id`` such as ``Eth1/7`` is matched to ``Ethernet1/7``);
  - EOS ``show lldp neighbors [detail] | json``: ``lldpNeighbors``;
  - lldpd's ``lldpcli -f json show neighbors details`` (Cumulus ``net show lldp
    json`` prints the same), and its ``-f json0`` form.

The vendor (what ifMtu means, :mod:`jumbopath.switches.vendors`) is the one
given, else the one the interface document's shape implies (NX-OS, EOS, or
Linux for Cumulus and ``ip -j link``). Documents are bounded (size, depth,
rows), every string is made terminal-safe, and anything unexpected is one
:class:`~jumbopath.errors.UsageError` line naming the file.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from jumbopath.errors import UsageError
from jumbopath.numbers import parse_int_or_none
from jumbopath.safe import safe_text
from jumbopath.switches.model import Neighbour, Port
from jumbopath.switches.vendors import ip_mtu_from_if_mtu

MAX_BYTES = 8 * 1024 * 1024
"""Largest pasted document read (a big NX-OS ``show interface`` is a few MB)."""
MAX_ROWS = 4096
"""Most interfaces or neighbours in one document."""
MAX_NAME = 255
"""Longest name kept, characters."""

_SHORT = re.compile(r"^([A-Za-z-]+)\s*([0-9][0-9/.:]*)$")


class PasteError(ValueError):
    """What is wrong with a pasted document (the caller names the file)."""


def read(path: Path) -> Any:
    """A pasted JSON document, bounded (size, depth); PasteError says what is wrong."""
    from jumbopath.mesh.bounded import loads
    from jumbopath.outside import FileRefused, read_text

    try:
        text = read_text(path, "pasted file", MAX_BYTES)
    except FileRefused as exc:
        raise PasteError(exc.problem) from None
    try:
        return loads(text)
    except ValueError as exc:
        raise PasteError(f"not JSON jumbopath accepts: {safe_text(exc, 120)}") from None


# --------------------------------------------------------------- helpers


def _rows(value: Any, what: str) -> list[Any]:
    """NX-OS ``ROW_*``: one row is a mapping, several a list."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, list):
        raise PasteError(f"{what} must be a list of rows")
    if len(value) > MAX_ROWS:
        raise PasteError(f"{what} has more than {MAX_ROWS} rows")
    return value


def _entries(value: Any, what: str) -> list[tuple[str, Any]]:
    """A mapping NAME → entry, bounded."""
    if not isinstance(value, Mapping):
        raise PasteError(f"{what} must map names to entries")
    if len(value) > MAX_ROWS:
        raise PasteError(f"{what} has more than {MAX_ROWS} entries")
    return [(_text(k), v) for k, v in value.items()]


def _text(value: Any) -> str:
    if value is None or isinstance(value, (Mapping, list)):
        return ""
    return safe_text(str(value).strip(), MAX_NAME)


def _number(value: Any) -> int | None:
    """An integer, or a string of digits (NX-OS quotes its numbers); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value < 1 << 40 else None
    if isinstance(value, str) and len(value.strip()) < 13:
        return parse_int_or_none(value, 0, (1 << 40) - 1)
    return None


def _mtu(value: Any, name: str) -> int | None:
    mtu = _number(value)
    if value is not None and (mtu is None or not 68 <= mtu <= 1 << 20):
        raise PasteError(f"interface {name}: mtu {safe_text(value, 30)!r} is not an MTU")
    return mtu


def _addresses(*values: Any) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        for item in value if isinstance(value, list) else [value]:
            item = _unwrap(item)
            if isinstance(item, Mapping):
                item = item.get("address")
            if not isinstance(item, str) or len(item) > 64:
                continue
            try:
                address = str(ipaddress.ip_address(item.strip()))
            except ValueError:
                continue  # "not advertised", a MAC, ...
            if address not in out:
                out.append(address)
    return tuple(out[:16])


def _port(name: str, mtu: int | None, vendor: str, **extra: Any) -> Port:
    return Port(
        index=0,
        name=name,
        if_mtu=mtu,
        ip_mtu=ip_mtu_from_if_mtu(mtu, vendor) if mtu else None,
        **extra,
    )


# --------------------------------------------------------------- interfaces


def interfaces(doc: Any, vendor: str | None) -> tuple[str, list[Port]]:
    """(vendor, ports) from a ``show interface`` document; ``vendor`` None: from its shape."""
    if isinstance(doc, Mapping) and isinstance(doc.get("result"), list) and doc["result"]:
        doc = doc["result"][0]  # EOS eAPI's JSON-RPC answer
    if isinstance(doc, Mapping) and "TABLE_interface" in doc:
        return _nxos_interfaces(doc, vendor or "nxos")
    if isinstance(doc, Mapping) and isinstance(doc.get("interfaces"), Mapping):
        return _eos_interfaces(doc["interfaces"], vendor or "eos")
    if isinstance(doc, list):
        return _ip_link(doc, vendor or "linux")
    if (
        isinstance(doc, Mapping)
        and doc
        and all(isinstance(v, Mapping) and isinstance(v.get("link"), Mapping) for v in doc.values())
    ):
        return _nv_interfaces(doc, vendor or "linux")
    raise PasteError(
        "not an interface table jumbopath knows (NX-OS 'show interface | json', "
        "EOS 'show interfaces | json', Cumulus 'nv show interface -o json', 'ip -j link')"
    )


def _nxos_interfaces(doc: Mapping[str, Any], vendor: str) -> tuple[str, list[Port]]:
    table = doc["TABLE_interface"]
    if not isinstance(table, Mapping):
        raise PasteError("TABLE_interface must hold ROW_interface")
    ports = []
    for row in _rows(table.get("ROW_interface"), "ROW_interface"):
        if not isinstance(row, Mapping):
            raise PasteError("every ROW_interface must be a mapping")
        name = _text(row.get("interface"))
        if not name:
            raise PasteError("a ROW_interface has no 'interface' name")
        bw = _number(row.get("eth_bw"))
        state = _text(row.get("state")).lower()
        ports.append(
            _port(
                name,
                _mtu(row.get("eth_mtu"), name),
                vendor,
                alias=_text(row.get("desc")),
                speed_mbps=bw // 1000 if bw else None,
                up=state == "up" if state else None,
            )
        )
    return vendor, ports


def _eos_interfaces(table: Mapping[str, Any], vendor: str) -> tuple[str, list[Port]]:
    ports = []
    for key, entry in _entries(table, "interfaces"):
        if not isinstance(entry, Mapping):
            raise PasteError(f"interface {key}: must be a mapping")
        name = _text(entry.get("name")) or key
        bw = _number(entry.get("bandwidth"))
        state = _text(entry.get("lineProtocolStatus")).lower()
        ports.append(
            _port(
                name,
                _mtu(entry.get("mtu"), name),
                vendor,
                alias=_text(entry.get("description")),
                speed_mbps=bw // 1_000_000 if bw else None,
                up=state == "up" if state else None,
            )
        )
    return vendor, ports


def _nv_interfaces(table: Mapping[str, Any], vendor: str) -> tuple[str, list[Port]]:
    ports = []
    for name, entry in _entries(table, "the interfaces"):
        link = entry["link"]
        state = _text(link.get("oper-status") or link.get("state")).lower()
        ports.append(
            _port(
                name,
                _mtu(link.get("mtu"), name),
                vendor,
                alias=_text(entry.get("description") or link.get("description")),
                up=state == "up" if state in ("up", "down") else None,
            )
        )
    return vendor, ports


def _ip_link(rows: list[Any], vendor: str) -> tuple[str, list[Port]]:
    ports = []
    for row in _rows(rows, "the interface list"):
        if not isinstance(row, Mapping) or not _text(row.get("ifname")):
            raise PasteError("every entry of 'ip -j link' needs an 'ifname'")
        name = _text(row["ifname"])
        state = _text(row.get("operstate")).lower()
        ports.append(
            _port(
                name,
                _mtu(row.get("mtu"), name),
                vendor,
                alias=_text(row.get("ifalias")),
                up=state == "up" if state in ("up", "down") else None,
                if_type=24 if row.get("link_type") == "loopback" else None,
            )
        )
    return vendor, ports


# --------------------------------------------------------------- LLDP


def neighbours(doc: Any) -> list[Neighbour]:
    """The neighbours of a ``show lldp neighbors`` document (local port names as printed)."""
    if isinstance(doc, Mapping) and isinstance(doc.get("result"), list) and doc["result"]:
        doc = doc["result"][0]
    if isinstance(doc, Mapping):
        for table, row in (("TABLE_nbor_detail", "ROW_nbor_detail"), ("TABLE_nbor", "ROW_nbor")):
            if table in doc:
                inner = doc[table]
                if not isinstance(inner, Mapping):
                    raise PasteError(f"{table} must hold {row}")
                return _nxos_lldp(_rows(inner.get(row), row))
        if "lldpNeighbors" in doc:
            return _eos_lldp(doc["lldpNeighbors"])
        if "lldp" in doc:
            return _lldpctl(doc["lldp"])
    raise PasteError(
        "not an LLDP table jumbopath knows (NX-OS or EOS 'show lldp neighbors detail | json', "
        "'lldpcli -f json show neighbors details')"
    )


def _nxos_lldp(rows: list[Any]) -> list[Neighbour]:
    out = []
    for row in rows:
        if not isinstance(row, Mapping):
            raise PasteError("every ROW_nbor must be a mapping")
        port = _text(row.get("l_port_id"))
        system = _text(row.get("sys_name")) or _text(row.get("chassis_id"))
        if not port or not system:
            raise PasteError("an LLDP row needs l_port_id and sys_name or chassis_id")
        out.append(
            Neighbour(
                port=port,
                system=system,
                port_id=_text(row.get("port_id")),
                port_desc=_text(row.get("port_desc")),
                chassis_id=_text(row.get("chassis_id")),
                addresses=_addresses(row.get("mgmt_addr"), row.get("mgmt_addr_ipv6")),
            )
        )
    return out


def _eos_lldp(table: Any) -> list[Neighbour]:
    out = []
    if isinstance(table, list):  # 'show lldp neighbors' (no detail): one row per neighbour
        for row in _rows(table, "lldpNeighbors"):
            if not isinstance(row, Mapping) or not _text(row.get("port")):
                raise PasteError("every lldpNeighbors row needs a 'port'")
            system = _text(row.get("neighborDevice"))
            if system:
                out.append(Neighbour(_text(row["port"]), system, _text(row.get("neighborPort"))))
        return out
    for port, entry in _entries(table, "lldpNeighbors"):
        infos = entry.get("lldpNeighborInfo") if isinstance(entry, Mapping) else None
        for info in _rows(infos, f"lldpNeighbors.{port}.lldpNeighborInfo"):
            if not isinstance(info, Mapping):
                raise PasteError(f"lldpNeighbors.{port}: every neighbour must be a mapping")
            iface = info.get("neighborInterfaceInfo")
            iface = iface if isinstance(iface, Mapping) else {}
            frame = _number(iface.get("maxFrameSize"))
            system = _text(info.get("systemName")) or _text(info.get("chassisId"))
            if not system:
                continue
            out.append(
                Neighbour(
                    port=port,
                    system=system,
                    port_id=_text(iface.get("interfaceId")).strip('"'),
                    port_desc=_text(iface.get("interfaceDescription")),
                    chassis_id=_text(info.get("chassisId")),
                    addresses=_addresses(info.get("managementAddresses")),
                    max_frame=frame if frame and 64 <= frame <= 65535 + 64 else None,
                )
            )
    return out


def _unwrap(value: Any) -> Any:
    """lldpcli ``-f json0`` writes every value as ``[{"value": x}]``; ``-f json`` as ``x``."""
    for _ in range(4):
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        elif isinstance(value, Mapping) and set(value) == {"value"}:
            value = value["value"]
        else:
            break
    return value


def _lldpctl_interfaces(lldp: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    lldp = _unwrap(lldp)
    if not isinstance(lldp, Mapping):
        raise PasteError("'lldp' must be a mapping")
    items = lldp.get("interface") or []
    items = items if isinstance(items, list) else [items]
    for item in _rows(items, "lldp.interface"):
        if not isinstance(item, Mapping):
            raise PasteError("every lldp.interface entry must be a mapping")
        if "name" in item:  # json0: {"name": "swp1", "chassis": [...], ...}
            yield _text(_unwrap(item["name"])), item
        else:  # json: {"swp1": {...}} (several names possible)
            for name, body in _entries(item, "an lldp.interface entry"):
                if not isinstance(body, Mapping):
                    raise PasteError(f"lldp.interface {name}: must be a mapping")
                yield name, body


def _lldpctl(lldp: Any) -> list[Neighbour]:
    out = []
    for port, body in _lldpctl_interfaces(lldp):
        chassis = _unwrap(body.get("chassis"))
        if not isinstance(chassis, Mapping):
            continue
        if "id" in chassis or "name" in chassis:  # json0, or json without a system name
            system, facts = _text(_unwrap(chassis.get("name"))), chassis
        else:  # json: {"SYSNAME": {...}}
            if not chassis:
                continue
            system, facts = next(iter(chassis.items()))
            system = _text(system)
            facts = facts if isinstance(facts, Mapping) else {}
        chassis_id = _unwrap(facts.get("id"))
        chassis_id = _text(chassis_id.get("value") if isinstance(chassis_id, Mapping) else "")
        remote = _unwrap(body.get("port"))
        remote = remote if isinstance(remote, Mapping) else {}
        port_id = _unwrap(remote.get("id"))
        frame = _number(_unwrap(remote.get("mfs")))
        if not (system or chassis_id) or not port:
            continue
        out.append(
            Neighbour(
                port=port,
                system=system or chassis_id,
                port_id=_text(port_id.get("value") if isinstance(port_id, Mapping) else ""),
                port_desc=_text(_unwrap(remote.get("descr"))),
                chassis_id=chassis_id,
                addresses=_addresses(facts.get("mgmt-ip")),
                max_frame=frame if frame and 64 <= frame <= 65535 + 64 else None,
            )
        )
    return out


def local_port(name: str, ports: Mapping[str, Port]) -> str:
    """The port an LLDP table's local name means: ``Eth1/7`` is ``Ethernet1/7``."""
    if name in ports:
        return name
    m = _SHORT.match(name)
    if m is not None:
        prefix, rest = m.group(1).lower(), m.group(2)
        found = [
            p
            for p in ports
            if p.lower().startswith(prefix) and p.endswith(rest) and p[: -len(rest)].isalpha()
        ]
        if len(found) == 1:
            return found[0]
    return name


def load(path: Path, what: str, vendor: str | None) -> Any:
    """Read one pasted file for a switch; UsageError (one line) naming it when it is wrong."""
    try:
        doc = read(path)
        if what == "show_interface":
            return interfaces(doc, vendor)
        return neighbours(doc)
    except PasteError as exc:
        raise UsageError(safe_text(f"{path}: {what}: {exc}", 600)) from None
    except RecursionError:  # bounded by loads(); kept so no document can ever give a traceback
        raise UsageError(safe_text(f"{path}: {what}: nested too deep", 600)) from None
