"""The MIB objects jumbopath reads and how their rows become a :class:`SwitchInfo`.

Pure: the SNMP adapter (:mod:`jumbopath.switches.snmp`) walks the columns
listed in :data:`COLUMNS` and hands over plain values (int, bytes, dotted
OID text) keyed by column and row index; :func:`decode` does the rest, so
every rule here is tested without a network.

Objects (numeric, so no MIB files are needed at run time):

* SNMPv2-MIB (RFC 3418): sysDescr, sysObjectID, sysName.
* IF-MIB (RFC 2863): ifDescr, ifType, ifMtu, ifOperStatus (ifTable) and
  ifName, ifHighSpeed, ifAlias (ifXTable).
* LLDP-MIB (IEEE 802.1AB-2005, root 1.0.8802.1.1.2): local chassis and port
  table, remote table (indexed by timeMark, lldpRemLocalPortNum,
  lldpRemIndex) and remote management addresses.
* LLDP-EXT-DOT3-MIB (IEEE 802.1AB annex G): lldpXdot3Loc/RemMaxFrameSize.
* BRIDGE-MIB (RFC 4188) dot1dBasePortIfIndex, dot1dTpFdbPort/Status and
  Q-BRIDGE-MIB (RFC 4363) dot1qTpFdbPort/Status: learned MAC addresses.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from jumbopath.safe import safe_text
from jumbopath.switches.model import FdbEntry, Neighbour, Port, Source, SwitchInfo
from jumbopath.switches.vendors import guess_vendor, ip_mtu_from_if_mtu, ip_mtu_from_max_frame

Value = int | bytes | str
"""A varbind's value: INTEGER/Gauge/Counter as int, OCTET STRING as bytes, OID as text."""
Column = dict[tuple[int, ...], Value]
"""One walked column: row index (the OID suffix) to value."""
Walk = Mapping[str, Column]
"""Walked columns by name (the names of :data:`COLUMNS`)."""

_LLDP = "1.0.8802.1.1.2.1"
_DOT3 = f"{_LLDP}.5.4623.1"

SCALARS: dict[str, str] = {
    "sysDescr": "1.3.6.1.2.1.1.1.0",
    "sysObjectID": "1.3.6.1.2.1.1.2.0",
    "sysName": "1.3.6.1.2.1.1.5.0",
    "lldpLocChassisIdSubtype": f"{_LLDP}.3.1.0",
    "lldpLocChassisId": f"{_LLDP}.3.2.0",
    "lldpLocSysName": f"{_LLDP}.3.3.0",
}
"""Single objects fetched with one GET."""

TABLES: dict[str, dict[str, str]] = {
    "if": {
        "ifDescr": "1.3.6.1.2.1.2.2.1.2",
        "ifType": "1.3.6.1.2.1.2.2.1.3",
        "ifMtu": "1.3.6.1.2.1.2.2.1.4",
        "ifOperStatus": "1.3.6.1.2.1.2.2.1.8",
        "ifName": "1.3.6.1.2.1.31.1.1.1.1",
        "ifHighSpeed": "1.3.6.1.2.1.31.1.1.1.15",
        "ifAlias": "1.3.6.1.2.1.31.1.1.1.18",
    },
    "lldp-local": {
        "lldpLocPortIdSubtype": f"{_LLDP}.3.7.1.2",
        "lldpLocPortId": f"{_LLDP}.3.7.1.3",
        "lldpLocPortDesc": f"{_LLDP}.3.7.1.4",
        "lldpXdot3LocMaxFrameSize": f"{_DOT3}.2.4.1.1",
    },
    "lldp-remote": {
        "lldpRemChassisIdSubtype": f"{_LLDP}.4.1.1.4",
        "lldpRemChassisId": f"{_LLDP}.4.1.1.5",
        "lldpRemPortIdSubtype": f"{_LLDP}.4.1.1.6",
        "lldpRemPortId": f"{_LLDP}.4.1.1.7",
        "lldpRemPortDesc": f"{_LLDP}.4.1.1.8",
        "lldpRemSysName": f"{_LLDP}.4.1.1.9",
        "lldpRemManAddrIfSubtype": f"{_LLDP}.4.2.1.3",
        "lldpXdot3RemMaxFrameSize": f"{_DOT3}.3.4.1.1",
    },
    "bridge": {
        "dot1dBasePortIfIndex": "1.3.6.1.2.1.17.1.4.1.2",
        "dot1dTpFdbPort": "1.3.6.1.2.1.17.4.3.1.2",
        "dot1dTpFdbStatus": "1.3.6.1.2.1.17.4.3.1.3",
        "dot1qTpFdbPort": "1.3.6.1.2.1.17.7.1.2.2.1.2",
        "dot1qTpFdbStatus": "1.3.6.1.2.1.17.7.1.2.2.1.3",
    },
}
"""Columns walked, grouped by table (each group walked side by side with GETBULK)."""

COLUMNS: dict[str, str] = {name: oid for group in TABLES.values() for name, oid in group.items()}
"""Every walked column by name."""

#: Bounds on what one agent may hand over.
MAX_ROWS = 4096
MAX_TEXT = 255

# LLDP ID subtypes (IEEE 802.1AB-2005 9.5.2.2 and 9.5.3.2).
_CHASSIS_MAC = 4
_CHASSIS_ADDRESS = 5
_PORT_MAC = 3
_PORT_ADDRESS = 4
_FDB_LEARNED = 3  # dot1dTpFdbStatus / dot1qTpFdbStatus learned(3)
_IF_UP = 1


def text(value: Value | None, limit: int = MAX_TEXT) -> str:
    """A DisplayString (or anything) as safe, bounded text."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return safe_text(str(value).strip().strip("\x00"), limit)


def mac(value: bytes | tuple[int, ...]) -> str:
    """Six octets as ``aa:bb:cc:dd:ee:ff``."""
    return ":".join(f"{b:02x}" for b in value)


def _number(value: Value | None) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def lldp_id(subtype: Value | None, value: Value | None, mac_subtype: int, addr_subtype: int) -> str:
    """A chassis or port ID as text: a MAC as ``aa:bb:..``, an address as text, else the string."""
    if isinstance(value, bytes) and subtype == mac_subtype and len(value) == 6:
        return mac(value)
    if isinstance(value, bytes) and subtype == addr_subtype and len(value) in (5, 17):
        try:
            return str(ipaddress.ip_address(value[1:]))
        except ValueError:
            pass
    if isinstance(value, bytes) and value and not value.isascii():
        return mac(value) if len(value) == 6 else value.hex(":")
    return text(value)


def _rows(walk: Walk, name: str) -> Column:
    column = walk.get(name, {})
    return dict(list(column.items())[:MAX_ROWS])


def ports(walk: Walk, vendor: str) -> list[Port]:
    """IF-MIB rows as ports (ifIndex order), with the IP MTU by the vendor's rule."""
    names, descrs = _rows(walk, "ifName"), _rows(walk, "ifDescr")
    mtus, types = _rows(walk, "ifMtu"), _rows(walk, "ifType")
    speeds, status, aliases = (
        _rows(walk, "ifHighSpeed"),
        _rows(walk, "ifOperStatus"),
        _rows(walk, "ifAlias"),
    )
    out = []
    for index in sorted({*names, *descrs, *mtus}):
        if len(index) != 1:
            continue
        if_mtu = _number(mtus.get(index))
        state = _number(status.get(index))
        out.append(
            Port(
                index=index[0],
                name=text(names.get(index)) or text(descrs.get(index)) or f"ifIndex {index[0]}",
                alias=text(aliases.get(index)),
                if_mtu=if_mtu,
                ip_mtu=ip_mtu_from_if_mtu(if_mtu, vendor) if if_mtu else None,
                speed_mbps=_number(speeds.get(index)),
                up=None if state is None else state == _IF_UP,
                if_type=_number(types.get(index)),
            )
        )
    return out


def lldp_port_names(walk: Walk, by_index: Mapping[int, Port]) -> dict[int, str]:
    """lldpLocPortNum to ifName.

    IEEE 802.1AB lets lldpLocPortNum be anything; most agents (lldpd among
    them) use the ifIndex. The local port table's ID or description naming
    an interface wins; else the ifIndex of the same number.
    """
    names = {p.name for p in by_index.values()}
    out: dict[int, str] = {}
    ids, descs = _rows(walk, "lldpLocPortId"), _rows(walk, "lldpLocPortDesc")
    for index in {*ids, *descs}:
        if len(index) != 1:
            continue
        for candidate in (text(ids.get(index)), text(descs.get(index))):
            if candidate in names:
                out[index[0]] = candidate
                break
    for number, port in by_index.items():
        out.setdefault(number, port.name)
    return out


def neighbours(walk: Walk, port_names: Mapping[int, str]) -> list[Neighbour]:
    """LLDP remote rows (indexed timeMark, local port number, remote index) as neighbours."""
    systems = _rows(walk, "lldpRemSysName")
    chassis_sub, chassis = _rows(walk, "lldpRemChassisIdSubtype"), _rows(walk, "lldpRemChassisId")
    port_sub, port_ids = _rows(walk, "lldpRemPortIdSubtype"), _rows(walk, "lldpRemPortId")
    descs, frames = _rows(walk, "lldpRemPortDesc"), _rows(walk, "lldpXdot3RemMaxFrameSize")
    addresses: dict[tuple[int, ...], list[str]] = {}
    for index in _rows(walk, "lldpRemManAddrIfSubtype"):
        # timeMark, localPortNum, remIndex, addrSubtype, length, address octets
        if len(index) < 6 or index[4] != len(index) - 5:
            continue
        try:
            address = str(ipaddress.ip_address(bytes(index[5:])))
        except ValueError:
            continue
        addresses.setdefault(index[:3], []).append(address)
    out = []
    for index in sorted({*systems, *chassis, *port_ids}):
        if len(index) != 3:
            continue
        chassis_id = lldp_id(
            chassis_sub.get(index), chassis.get(index), _CHASSIS_MAC, _CHASSIS_ADDRESS
        )
        frame = _number(frames.get(index))
        out.append(
            Neighbour(
                port=port_names.get(index[1], f"port {index[1]}"),
                system=text(systems.get(index)) or chassis_id,
                port_id=lldp_id(port_sub.get(index), port_ids.get(index), _PORT_MAC, _PORT_ADDRESS),
                port_desc=text(descs.get(index)),
                chassis_id=chassis_id,
                addresses=tuple(addresses.get(index, ())),
                max_frame=frame if frame else None,
            )
        )
    return out


def forwarding(walk: Walk, by_index: Mapping[int, Port]) -> list[FdbEntry]:
    """Learned MAC addresses (Q-BRIDGE-MIB when present, else BRIDGE-MIB) on named ports."""
    base = {i[0]: v for i, v in _rows(walk, "dot1dBasePortIfIndex").items() if len(i) == 1}

    def port_name(base_port: Value | None) -> str | None:
        if not isinstance(base_port, int) or base_port == 0:
            return None
        if_index = base.get(base_port, base_port)
        port = by_index.get(if_index) if isinstance(if_index, int) else None
        return port.name if port is not None else None

    out = []
    q_status = _rows(walk, "dot1qTpFdbStatus")
    for index, value in _rows(walk, "dot1qTpFdbPort").items():
        name = port_name(value)
        if len(index) == 7 and name and q_status.get(index, _FDB_LEARNED) == _FDB_LEARNED:
            out.append(FdbEntry(mac(index[1:]), name, vlan=index[0]))
    if out:
        return out
    status = _rows(walk, "dot1dTpFdbStatus")
    for index, value in _rows(walk, "dot1dTpFdbPort").items():
        name = port_name(value)
        if len(index) == 6 and name and status.get(index, _FDB_LEARNED) == _FDB_LEARNED:
            out.append(FdbEntry(mac(index), name))
    return out


def decode(
    name: str,
    address: str | None,
    scalars: Mapping[str, Value],
    walk: Walk,
    *,
    vendor: str | None = None,
    elapsed_s: float = 0.0,
) -> SwitchInfo:
    """A polled switch from its scalars and walked columns (``vendor`` given, or guessed)."""
    description = text(scalars.get("sysDescr"), 500)
    key = vendor or guess_vendor(description, text(scalars.get("sysObjectID")))
    found = ports(walk, key)
    frames = {i[0]: v for i, v in _rows(walk, "lldpXdot3LocMaxFrameSize").items() if len(i) == 1}
    by_index = {p.index: p for p in found}
    port_names = lldp_port_names(walk, by_index)
    by_name = {p.name: p for p in found}
    for number, frame in frames.items():
        port = by_name.get(port_names.get(number, ""))
        if port is not None and isinstance(frame, int) and frame > 0:
            by_name[port.name] = _with_frame(port, frame)
    found = [by_name[p.name] for p in found]
    chassis = lldp_id(
        scalars.get("lldpLocChassisIdSubtype"),
        scalars.get("lldpLocChassisId"),
        _CHASSIS_MAC,
        _CHASSIS_ADDRESS,
    )
    return SwitchInfo(
        name=name,
        address=address,
        source=Source.SNMP,
        vendor=key,
        vendor_guessed=vendor is None,
        description=description,
        ports=tuple(found),
        neighbours=tuple(neighbours(walk, port_names)),
        fdb=tuple(forwarding(walk, by_index)),
        chassis_id=chassis,
        sys_name=text(scalars.get("lldpLocSysName")) or text(scalars.get("sysName")),
        elapsed_s=elapsed_s,
    )


def _with_frame(port: Port, frame: int) -> Port:
    from dataclasses import replace

    ip_mtu = port.ip_mtu
    if ip_mtu is None:
        ip_mtu = ip_mtu_from_max_frame(frame)
    return replace(port, max_frame=frame, ip_mtu=ip_mtu)
