"""LLDP neighbours: which switch and port each NIC is cabled to, and its maximum frame size.

Two sources, one result type (:class:`Neighbour`):

- **lldpd**, when it runs: ``lldpcli -f json0 show neighbors details``
  (:func:`lldpd_neighbours`, parsed by :func:`parse_lldpcli`). lldpd decodes
  the IEEE 802.3 maximum frame size TLV itself and shows it as the port's
  ``mfs`` ("9000"); a build without 802.3 support would list it among
  ``unknown-tlvs`` instead (OUI "00,12,0F", subtype "4"), which is read too.
- **a passive capture** (:func:`capture`) for a bounded time: a packet
  socket per port, bound to the LLDP EtherType 0x88cc so the kernel hands
  over nothing else, joined to the LLDP multicast groups (no promiscuous
  mode), parsed by the pure :func:`parse_frame`. Switches send every 30 s
  by default (IEEE 802.1AB msgTxInterval), so a capture waits up to 35 s
  to be sure of hearing one.

The TLV decoding is pure and tested with frames scapy builds; this module
itself needs no scapy: the kernel filters by EtherType, and LLDP's
type-length-value format takes a few lines to read.

TLVs read (IEEE 802.1AB-2016 clause 8, annexes D and E):

=======================  ==========================================
1 Chassis ID             switch identity (MAC, name, address, ...)
2 Port ID                the switch port ("swp3", "Ethernet1/3", MAC)
3 Time To Live           seconds the information stays valid; 0 = gone
4 Port Description       free text ("uplink to storage")
5 System Name            the switch's name
8 Management Address     where to manage the switch
127 OUI 00-80-C2 sub 1   IEEE 802.1 Port VLAN ID (PVID)
127 OUI 00-80-C2 sub 3   IEEE 802.1 VLAN Name (a VLAN the port is in)
127 OUI 00-12-0F sub 4   IEEE 802.3 Maximum Frame Size (2 bytes)
=======================  ==========================================

Every string a switch sends (names, port IDs, descriptions) is made
terminal-safe and bounded to 255 characters where it enters
(:func:`jumbopath.safe.safe_text`), so no renderer can print an escape
sequence a switch chose.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import select
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jumbopath.errors import CannotMeasure, NoPrivilege
from jumbopath.numbers import parse_int_or_none
from jumbopath.safe import safe_text

MAX_TEXT = 255
"""Longest text an LLDP TLV carries (IEEE 802.1AB: 255-octet strings); longer is cut."""

ETH_P_LLDP = 0x88CC
"""LLDP EtherType (IEEE 802.1AB)."""
ETH_P_8021Q = 0x8100
ETH_P_8021AD = 0x88A8

LLDP_MULTICAST: tuple[bytes, ...] = (
    bytes.fromhex("0180c200000e"),  # nearest bridge: what switches send to
    bytes.fromhex("0180c2000003"),  # nearest non-TPMR bridge
    bytes.fromhex("0180c2000000"),  # nearest customer bridge
)
"""Destination addresses LLDP uses (IEEE 802.1AB clause 7.1)."""

OUI_IEEE_8021 = b"\x00\x80\xc2"
OUI_IEEE_8023 = b"\x00\x12\x0f"

# TLV types (IEEE 802.1AB clause 8.4).
TLV_END = 0
TLV_CHASSIS_ID = 1
TLV_PORT_ID = 2
TLV_TTL = 3
TLV_PORT_DESCRIPTION = 4
TLV_SYSTEM_NAME = 5
TLV_MANAGEMENT_ADDRESS = 8
TLV_ORGANIZATION = 127

# Organisationally specific subtypes read here.
DOT1_PORT_VLAN_ID = 1  # IEEE 802.1Q annex D.2.1
DOT1_VLAN_NAME = 3  # IEEE 802.1Q annex D.2.3
DOT3_MAX_FRAME_SIZE = 4  # IEEE 802.3 clause 79.3.4

CHASSIS_ID_SUBTYPES: dict[int, str] = {
    1: "chassis-component",
    2: "interface-alias",
    3: "port-component",
    4: "mac",
    5: "address",
    6: "ifname",
    7: "local",
}
"""IEEE 802.1AB table 8-2 (names as lldpcli prints them where it has one)."""

PORT_ID_SUBTYPES: dict[int, str] = {
    1: "interface-alias",
    2: "port-component",
    3: "mac",
    4: "address",
    5: "ifname",
    6: "agent-circuit-id",
    7: "local",
}
"""IEEE 802.1AB table 8-3."""

# The MAC and network-address subtypes differ between chassis and port IDs.
_CHASSIS_ID_MAC, _CHASSIS_ID_ADDRESS = 4, 5
_PORT_ID_MAC, _PORT_ID_ADDRESS = 3, 4

_IANA_AFI = {1: 4, 2: 6}
"""IANA address family numbers used in management addresses: 1 IPv4, 2 IPv6."""


@dataclass(frozen=True, slots=True)
class Neighbour:
    """What the switch at the other end of one local port says about itself."""

    interface: str
    """Local interface the LLDP frames arrived on."""
    source: str
    """"lldpd" or "capture"."""
    chassis_id: str | None = None
    """Chassis ID (a MAC address for most switches)."""
    system_name: str | None = None
    """The switch's name (System Name TLV)."""
    port_id: str | None = None
    """The switch port (Port ID TLV): "swp3", "Ethernet1/3", or a MAC."""
    port_id_subtype: str | None = None
    """How to read ``port_id``: "ifname", "local", "mac", ..."""
    port_description: str | None = None
    """Port Description TLV."""
    pvid: int | None = None
    """Port VLAN ID: the VLAN untagged frames land in; None when not advertised."""
    vlans: tuple[int, ...] = ()
    """Every VLAN the switch says the port is in (PVID and VLAN Name TLVs), sorted."""
    max_frame_size: int | None = None
    """IEEE 802.3 maximum frame size, in bytes with header and FCS (1518 = MTU 1500)."""
    ttl_s: int | None = None
    """How long the switch said the information stays valid."""
    management_address: str | None = None
    """First IP management address advertised."""

    @property
    def switch(self) -> str:
        """The switch's name, or its chassis ID when it sends no name."""
        return self.system_name or self.chassis_id or "an unnamed switch"

    @property
    def port(self) -> str:
        """The port as an admin would look for it: id, and description when it adds anything."""
        port = self.port_id or self.port_description or "unknown"
        if self.port_description and self.port_description != port:
            port += f" ({self.port_description})"
        return port

    @property
    def tags_everything(self) -> bool:
        """The switch lists VLANs for the port but no PVID: only tagged frames pass."""
        return bool(self.vlans) and not self.pvid


# --------------------------------------------------------------------------
# Pure decoding of LLDP frames


class LldpParseError(ValueError):
    """The bytes are not a well-formed LLDPDU."""


def _mac(data: bytes) -> str:
    return ":".join(f"{b:02x}" for b in data)


def _text(data: bytes) -> str:
    """Text from the wire, terminal-safe (escaped control characters) and bounded."""
    return _clean(data.decode("utf-8", errors="replace").rstrip("\x00").strip()) or ""


def _clean(text: str | None) -> str | None:
    """A switch's string, fit to show: no control characters, at most :data:`MAX_TEXT`."""
    return safe_text(text, MAX_TEXT) if text else None


def _iana_address(data: bytes) -> str | None:
    """An IANA family number followed by the address (chassis/port ID, mgmt address)."""
    if not data:
        return None
    family = _IANA_AFI.get(data[0])
    try:
        if family == 4 and len(data) == 5:
            return str(ipaddress.IPv4Address(data[1:5]))
        if family == 6 and len(data) == 17:
            return str(ipaddress.IPv6Address(data[1:17]))
    except ValueError:
        return None
    return None


def _identifier(subtype: int, value: bytes, mac_subtype: int, address_subtype: int) -> str:
    if subtype == mac_subtype and len(value) == 6:
        return _mac(value)
    if subtype == address_subtype:
        address = _iana_address(value)
        if address:
            return address
    return _text(value)


def iter_tlvs(lldpdu: bytes) -> Iterable[tuple[int, bytes]]:
    """(type, value) of each TLV up to End of LLDPDU. 7-bit type, 9-bit length."""
    offset = 0
    while offset + 2 <= len(lldpdu):
        (header,) = struct.unpack_from("!H", lldpdu, offset)
        tlv_type, length = header >> 9, header & 0x1FF
        offset += 2
        if offset + length > len(lldpdu):
            raise LldpParseError(
                f"TLV type {tlv_type} claims {length} bytes, {len(lldpdu) - offset} remain"
            )
        if tlv_type == TLV_END:
            return
        yield tlv_type, lldpdu[offset : offset + length]
        offset += length


def parse_lldpdu(lldpdu: bytes, interface: str, source: str = "capture") -> Neighbour:
    """Decode an LLDPDU (the bytes after the Ethernet header) into a :class:`Neighbour`."""
    fields: dict[str, Any] = {}
    vlans: set[int] = set()
    seen_mandatory: list[int] = []
    for tlv_type, value in iter_tlvs(lldpdu):
        if tlv_type in (TLV_CHASSIS_ID, TLV_PORT_ID) and len(value) >= 2:
            subtype, rest = value[0], value[1:]
            if tlv_type == TLV_CHASSIS_ID:
                fields["chassis_id"] = _identifier(
                    subtype, rest, _CHASSIS_ID_MAC, _CHASSIS_ID_ADDRESS
                )
            else:
                fields["port_id"] = _identifier(subtype, rest, _PORT_ID_MAC, _PORT_ID_ADDRESS)
                fields["port_id_subtype"] = PORT_ID_SUBTYPES.get(subtype, str(subtype))
            seen_mandatory.append(tlv_type)
        elif tlv_type == TLV_TTL and len(value) == 2:
            fields["ttl_s"] = struct.unpack("!H", value)[0]
            seen_mandatory.append(tlv_type)
        elif tlv_type == TLV_PORT_DESCRIPTION:
            fields["port_description"] = _text(value) or None
        elif tlv_type == TLV_SYSTEM_NAME:
            fields["system_name"] = _text(value) or None
        elif tlv_type == TLV_MANAGEMENT_ADDRESS and len(value) >= 2:
            address = _iana_address(value[1 : 1 + value[0]])
            if address and "management_address" not in fields:
                fields["management_address"] = address
        elif tlv_type == TLV_ORGANIZATION and len(value) >= 4:
            oui, subtype, info = value[:3], value[3], value[4:]
            if oui == OUI_IEEE_8023 and subtype == DOT3_MAX_FRAME_SIZE and len(info) == 2:
                fields["max_frame_size"] = struct.unpack("!H", info)[0]
            elif oui == OUI_IEEE_8021 and subtype == DOT1_PORT_VLAN_ID and len(info) == 2:
                pvid = struct.unpack("!H", info)[0]
                if pvid:  # 0: the port has no PVID (IEEE 802.1Q D.2.1)
                    fields["pvid"] = pvid
                    vlans.add(pvid)
            elif oui == OUI_IEEE_8021 and subtype == DOT1_VLAN_NAME and len(info) >= 2:
                vlans.add(struct.unpack("!H", info[:2])[0])
    if seen_mandatory[:3] != [TLV_CHASSIS_ID, TLV_PORT_ID, TLV_TTL]:
        raise LldpParseError("an LLDPDU starts with Chassis ID, Port ID and TTL TLVs")
    return Neighbour(interface=interface, source=source, vlans=tuple(sorted(vlans)), **fields)


def parse_frame(frame: bytes, interface: str) -> Neighbour | None:
    """Decode an Ethernet frame; None when it is not LLDP or not well formed."""
    offset, ethertype = 12, None
    while offset + 2 <= len(frame):
        (ethertype,) = struct.unpack_from("!H", frame, offset)
        if ethertype not in (ETH_P_8021Q, ETH_P_8021AD):
            break
        offset += 4  # skip a VLAN tag
    if ethertype != ETH_P_LLDP:
        return None
    try:
        return parse_lldpdu(frame[offset + 2 :], interface, "capture")
    except LldpParseError:
        return None


# --------------------------------------------------------------------------
# Pure parsing of lldpcli's JSON


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _value(value: Any) -> Any:
    """The scalar in "x", {"value": "x"} or [{"value": "x"}] (json and json0 shapes)."""
    while isinstance(value, list):
        if not value:
            return None
        value = value[0]
    if isinstance(value, dict):
        return _value(value.get("value"))
    return value


def _int(value: Any) -> int | None:
    # lldpctl's JSON quotes its numbers; read them strictly (ASCII digits, bounded).
    return parse_int_or_none(_value(value), 0, 1 << 32)


def _str(value: Any) -> str | None:
    value = _value(value)
    return str(value) if value not in (None, "") else None


def _named(entry: Any, known: set[str]) -> tuple[str | None, dict[str, Any]]:
    """Split an lldpcli object into (name, body).

    ``-f json`` keys named objects by their name (``{"eth1": {...}}``);
    ``-f json0`` puts the name inside (``{"name": "eth1", ...}``, or
    ``"name": [{"value": "sw2"}]`` for a chassis).
    """
    if isinstance(entry, list):
        entry = entry[0] if entry else {}
    if not isinstance(entry, dict):
        return None, {}
    if "name" in entry or known & entry.keys():
        return _str(entry.get("name")), entry
    if len(entry) == 1:
        ((name, body),) = entry.items()
        if isinstance(body, dict):
            return str(name), body
    return None, entry


_INTERFACE_KEYS = {"via", "rid", "age", "chassis", "port"}
_CHASSIS_KEYS = {"id", "descr", "mgmt-ip", "mgmt-iface", "capability"}


def _unknown_tlvs(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for block in _as_list(body.get("unknown-tlvs")):
        if isinstance(block, dict):
            found.extend(t for t in _as_list(block.get("unknown-tlv")) if isinstance(t, dict))
    return found


def _tlv_bytes(text: Any) -> bytes:
    """lldpcli prints unknown TLV payloads as "23,28"."""
    try:
        return bytes(int(part, 16) for part in str(_value(text)).split(",") if part)
    except ValueError:
        return b""


def _neighbour_from_lldpcli(interface: str, body: Mapping[str, Any]) -> Neighbour:
    system_name, chassis = _named(body.get("chassis"), _CHASSIS_KEYS)
    port_entries = _as_list(body.get("port"))
    port: Mapping[str, Any] = port_entries[0] if port_entries else {}
    port_id = _as_list(port.get("id"))
    port_id_entry: Mapping[str, Any] = port_id[0] if port_id else {}
    chassis_id = _as_list(chassis.get("id"))
    mgmt = [m for m in (_str(x) for x in _as_list(chassis.get("mgmt-ip"))) if m]
    # A routable management address helps more than a link-local one.
    mgmt.sort(key=lambda address: address.lower().startswith("fe80:"))

    pvid: int | None = None
    vlans: set[int] = set()
    for vlan in _as_list(body.get("vlan")):
        if not isinstance(vlan, dict):
            continue
        vid = _int(vlan.get("vlan-id"))
        if vid:
            vlans.add(vid)
            if vlan.get("pvid") is True:
                pvid = vid
    max_frame_size = _int(port.get("mfs"))
    for tlv in _unknown_tlvs(body):
        # lldpd built without 802.3 support leaves the TLV undecoded.
        oui, subtype = str(_value(tlv.get("oui"))).lower(), _int(tlv.get("subtype"))
        info = _tlv_bytes(tlv.get("value"))
        if oui == "00,12,0f" and subtype == DOT3_MAX_FRAME_SIZE and len(info) == 2:
            max_frame_size = max_frame_size or struct.unpack("!H", info)[0]
        elif oui == "00,80,c2" and subtype == DOT1_PORT_VLAN_ID and len(info) == 2:
            vid = struct.unpack("!H", info)[0]
            if vid:
                pvid = pvid or vid
                vlans.add(vid)
    return Neighbour(
        interface=interface,
        source="lldpd",
        chassis_id=_clean(_str(chassis_id[0])) if chassis_id else None,
        system_name=_clean(system_name),
        port_id=_clean(_str(port_id_entry)),
        port_id_subtype=_clean(_str(port_id_entry.get("type"))) if port_id_entry else None,
        port_description=_clean(_str(port.get("descr"))),
        pvid=pvid,
        vlans=tuple(sorted(vlans)),
        max_frame_size=max_frame_size,
        ttl_s=_int(port.get("ttl") or body.get("ttl")),
        management_address=_clean(mgmt[0]) if mgmt else None,
    )


def parse_lldpcli(document: Mapping[str, Any]) -> dict[str, Neighbour]:
    """Neighbours by local interface from ``lldpcli -f json|json0 show neighbors details``.

    With several neighbours on one port (a hub, or a hypervisor's switch),
    the first one lldpd lists is kept.
    """
    neighbours: dict[str, Neighbour] = {}
    for top in _as_list(document.get("lldp")):
        if not isinstance(top, dict):
            continue
        for entry in _as_list(top.get("interface")):
            name, body = _named(entry, _INTERFACE_KEYS)
            if name and name not in neighbours:
                neighbours[name] = _neighbour_from_lldpcli(name, body)
    return neighbours


# --------------------------------------------------------------------------
# I/O: lldpcli and the capture

Runner = Callable[..., "subprocess.CompletedProcess[str]"]


def lldpd_neighbours(
    socket_path: str | None = None,
    *,
    timeout_s: float = 5.0,
    run: Runner = subprocess.run,
) -> dict[str, Neighbour] | None:
    """Neighbours as lldpd knows them; None when lldpcli is missing or lldpd is not running."""
    lldpcli = shutil.which("lldpcli")
    if lldpcli is None:
        return None
    command = [lldpcli]
    if socket_path:
        command += ["-u", socket_path]
    command += ["-f", "json0", "show", "neighbors", "details"]
    try:
        done = run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None  # "unable to connect to socket": lldpd is not running
    try:
        document = json.loads(done.stdout or "{}")
    except json.JSONDecodeError:
        return None
    return parse_lldpcli(document) if isinstance(document, dict) else None


_SOL_PACKET = 263
_PACKET_ADD_MEMBERSHIP = 1
_PACKET_MR_MULTICAST = 0
_PACKET_OUTGOING = 4


def _open_port(name: str) -> socket.socket:
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_LLDP))
    try:
        sock.bind((name, ETH_P_LLDP))
        index = socket.if_nametoindex(name)
        for group in LLDP_MULTICAST:
            mreq = struct.pack("iHH8s", index, _PACKET_MR_MULTICAST, len(group), group)
            sock.setsockopt(_SOL_PACKET, _PACKET_ADD_MEMBERSHIP, mreq)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


Progress = Callable[[float, float, int, int], None]
"""progress(elapsed_s, wait_s, ports_heard, ports_total), called a few times a second."""


def capture(
    ports: Sequence[str],
    wait_s: float,
    *,
    progress: Progress | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Neighbour]:
    """Listen for LLDP on ``ports`` for at most ``wait_s`` seconds.

    Stops as soon as every port has heard a neighbour. Never sends anything.
    Raises :class:`NoPrivilege` without CAP_NET_RAW, :class:`CannotMeasure`
    when a port cannot be opened.
    """
    heard: dict[str, Neighbour] = {}
    ports = list(dict.fromkeys(ports))
    if not ports or wait_s <= 0:
        return heard
    sockets: dict[int, tuple[str, socket.socket]] = {}
    try:
        for name in ports:
            try:
                sock = _open_port(name)
            except PermissionError as exc:
                raise NoPrivilege(
                    "listening for LLDP needs root or CAP_NET_RAW: run with sudo, "
                    "or run lldpd and let jumbopath ask it"
                ) from exc
            except OSError as exc:
                if exc.errno in (errno.ENODEV, errno.ENXIO):
                    raise CannotMeasure(f"no interface {name!r} to listen on") from exc
                raise CannotMeasure(f"cannot listen for LLDP on {name}: {exc}") from exc
            sockets[sock.fileno()] = (name, sock)
        start = clock()
        deadline = start + wait_s
        while len(heard) < len(ports):
            now = clock()
            if progress is not None:
                progress(min(now - start, wait_s), wait_s, len(heard), len(ports))
            if now >= deadline:
                break
            ready, _, _ = select.select(list(sockets), [], [], min(0.2, deadline - now))
            for fd in ready:
                name, sock = sockets[fd]
                for _ in range(64):  # drain, bounded
                    try:
                        frame, address = sock.recvfrom(65535)
                    except (BlockingIOError, InterruptedError):
                        break
                    if address[2] == _PACKET_OUTGOING:
                        continue  # our own lldpd talking, not the switch
                    neighbour = parse_frame(frame, name)
                    if neighbour is None:
                        continue
                    if neighbour.ttl_s == 0:  # the switch says: forget me
                        heard.pop(name, None)
                    else:
                        heard[name] = neighbour
    finally:
        for _, sock in sockets.values():
            sock.close()
    return heard
