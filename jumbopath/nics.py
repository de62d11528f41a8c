"""Local interfaces: configured MTUs, how they stack, and the switch port behind each.

Facts come from two places: psutil (MTU, speed, addresses, administratively
up) and ``ip -j -d link show`` (iproute2's JSON: the kind of each link in
``linkinfo.info_kind``, its ``master`` and its lower device in ``link``).
psutil rather than netifaces: netifaces is unmaintained since 2021 and
cannot report an MTU. LLDP neighbours come from :mod:`jumbopath.lldp`.

Checking is pure (:func:`find_problems`): a list of :class:`Interface` in,
a list of :class:`Problem` out, each with the command that fixes it.

What is flagged
---------------

``below-expected``
    An Ethernet-like interface (physical, bond, bridge, VLAN, veth,
    macvlan, ipvlan, team, tap) that is up, with an MTU below ``--expect``.
    Loopback, tunnels and overlays are not compared with ``--expect``;
    overlays are checked against their underlay instead.
``above-parent``
    A VLAN, macvlan or ipvlan whose MTU is larger than its parent's.
``overlay-too-big``
    A VXLAN or Geneve interface whose MTU plus encapsulation (50 bytes over
    IPv4, 70 over IPv6) does not fit its underlay device's MTU.
``member-below-master``
    A bridge, bond or team whose MTU is larger than one of its ports:
    frames larger than the port's MTU are dropped there.
``members-differ``
    Ports of one bridge, bond or team with different MTUs (each smaller
    port is flagged, with the largest MTU among them as the fix).
``down``
    An interface that is administratively down although it has addresses
    or is a port of a bridge or bond; or a physical NIC or bond without
    carrier although it has addresses or is a port. Unused NICs, empty
    bridges and loopback are never flagged.
``frame-too-small``
    The LLDP neighbour advertises an IEEE 802.3 maximum frame size smaller
    than the largest frame the port sends. That is the port's MTU + 18
    (Ethernet header 14 + FCS 4) for untagged frames, and a VLAN
    interface's MTU + 22 for frames tagged on the way out (a VLAN interface
    rides on the port, directly or through its bond or bridge). When the
    neighbour lists VLANs for the port but no PVID, every frame on the
    link is tagged, so the port's MTU + 22 is needed. With ``--expect``
    above the port's MTU, the expected MTU is used: the switch port must
    also carry what the NIC is about to be raised to.

JSON (``jumbopath nics --json``), schema 1
------------------------------------------

::

    {
      "schema": 1,
      "expected_mtu": 9000,            # --expect, or null
      "lldp": {
        "source": "lldpd",             # "lldpd", "capture", "lldpd+capture" or "none"
        "waited_s": 0.0,               # seconds spent listening for LLDP
        "notes": ["..."]               # why neighbour information may be missing
      },
      "interfaces": [
        {
          "name": "eth1",
          "kind": "physical",          # physical, loopback, bond, bridge, vlan, veth,
                                       # vxlan, geneve, macvlan, tun, tap, team, ...
          "state": "up",               # "up", "no-carrier" or "down" (administratively)
          "mtu": 9000,                 # IP MTU
          "speed_mbps": 10000,         # null when the driver does not say
          "mac": "52:54:00:12:34:56",  # null for interfaces without one
          "addresses": ["198.18.0.1/24", "2001:db8::1/64"],  # IPv6 link-local left out
          "parent": null,              # VLAN/macvlan/overlay lower device, veth peer
          "vlan_id": null,             # 802.1Q VLAN ID of a VLAN interface
          "members": [],               # ports of a bridge, bond or team
          "master": "bond0",           # the bridge/bond/team/VRF this is a port of
          "neighbour": {               # null when no LLDP neighbour is known
            "source": "lldpd",         # "lldpd" or "capture"
            "switch": "sw2",           # system name, else chassis ID
            "chassis_id": "2e:f8:4b:13:14:3d",
            "system_name": "sw2",
            "port_id": "swp3",
            "port_id_subtype": "ifname",
            "port_description": "uplink to storage",
            "pvid": 100,               # null when not advertised
            "vlans": [100, 200],
            "max_frame_size": 9018,    # IEEE 802.3 max frame size (header + FCS), or null
            "ttl_s": 120,
            "management_address": "198.18.0.254"
          }
        }
      ],
      "problems": [
        {
          "interface": "eth1",
          "code": "below-expected",    # see "What is flagged" above
          "message": "eth1 MTU 1500 is below the expected 9000",
          "fix": "ip link set dev eth1 mtu 9000"
        }
      ]
    }

Problems are ordered so that their fixes can be applied top to bottom
(lower devices before the VLANs and bridges stacked on them).
Exit status: 0 no problem, 1 at least one problem, 2 bad input.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import psutil

from jumbopath import lldp
from jumbopath.errors import CannotMeasure, JumbopathError, UsageError
from jumbopath.lldp import Neighbour
from jumbopath.safe import safe_text
from jumbopath.sizes import (
    GENEVE_OVERHEAD_V4,
    GENEVE_OVERHEAD_V6,
    TAGGED_FRAME_OVERHEAD,
    UNTAGGED_FRAME_OVERHEAD,
    VXLAN_OVERHEAD_V4,
    VXLAN_OVERHEAD_V6,
)

SCHEMA = 1
"""Version of the ``--json`` document."""

ETHERNET_KINDS = frozenset(
    {"physical", "bond", "bridge", "vlan", "veth", "macvlan", "macvtap", "ipvlan", "team", "tap"}
)
"""Kinds compared with ``--expect``: they carry Ethernet frames at their MTU."""
MASTER_KINDS = frozenset({"bond", "bridge", "team"})
"""Kinds whose ports must carry the master's MTU."""
CHILD_KINDS = frozenset({"vlan", "macvlan", "macvtap", "ipvlan"})
"""Kinds that send through their parent without adding to the IP MTU."""
OVERLAY_OVERHEAD: dict[tuple[str, int], int] = {
    ("vxlan", 4): VXLAN_OVERHEAD_V4,
    ("vxlan", 6): VXLAN_OVERHEAD_V6,
    ("geneve", 4): GENEVE_OVERHEAD_V4,
    ("geneve", 6): GENEVE_OVERHEAD_V6,
}
"""Encapsulation each overlay adds on its underlay (RFC 7348, RFC 8926)."""
CODES: tuple[str, ...] = (
    "down",
    "below-expected",
    "above-parent",
    "overlay-too-big",
    "member-below-master",
    "members-differ",
    "frame-too-small",
)
"""Every problem code, in the order problems of one interface are listed."""
LLDP_KINDS = frozenset({"physical", "veth"})
"""Kinds LLDP neighbours are looked for on (veth: the lab's cables)."""


@dataclass(frozen=True, slots=True)
class Interface:
    """One network interface as configured."""

    name: str
    """Interface name."""
    kind: str
    """physical, loopback, bond, bridge, vlan, veth, vxlan, geneve, tun, tap, ..."""
    state: str
    """"up", "no-carrier" (up, but no link) or "down" (administratively)."""
    mtu: int
    """Configured IP MTU."""
    speed_mbps: int | None = None
    """Link speed; None when unknown."""
    mac: str | None = None
    """Link-layer address."""
    addresses: tuple[str, ...] = ()
    """IPv4 and IPv6 addresses with prefix length (IPv6 link-local left out)."""
    parent: str | None = None
    """Lower device of a VLAN, macvlan or overlay; the peer of a veth (same namespace only)."""
    vlan_id: int | None = None
    """802.1Q VLAN ID of a VLAN interface."""
    members: tuple[str, ...] = ()
    """Ports of a bridge, bond or team."""
    master: str | None = None
    """The bridge, bond, team or VRF this interface is a port of."""
    encap_overhead: int | None = None
    """Overlays: bytes the encapsulation adds on the underlay (50 or 70)."""
    neighbour: Neighbour | None = None
    """The LLDP neighbour on this port, when known."""

    @property
    def is_up(self) -> bool:
        """Administratively up (whether or not it has carrier)."""
        return self.state != "down"


@dataclass(frozen=True, slots=True)
class Problem:
    """A configuration problem, with the fix."""

    interface: str
    """The interface to change (or whose switch port to change)."""
    code: str
    """Stable identifier: below-expected, above-parent, overlay-too-big,
    member-below-master, members-differ, down, frame-too-small."""
    message: str
    """One sentence for the admin."""
    fix: str
    """The command that fixes it, or what to change where no local command can."""


@dataclass(frozen=True, slots=True)
class NicsReport:
    """Everything ``jumbopath nics`` found."""

    interfaces: tuple[Interface, ...]
    """The interfaces shown (all, or the selected ones and the devices below them)."""
    problems: tuple[Problem, ...]
    """Problems on those interfaces, in the order their fixes apply."""
    expected_mtu: int | None = None
    """--expect."""
    lldp_source: str = "none"
    """Where neighbour information came from: lldpd, capture, lldpd+capture or none."""
    lldp_waited_s: float = 0.0
    """Seconds spent listening for LLDP frames."""
    notes: tuple[str, ...] = field(default=())
    """Why neighbour information may be missing, and similar remarks."""


# --------------------------------------------------------------------------
# Pure: facts from ip's JSON and psutil


class LinkStats(NamedTuple):
    """What psutil says about one interface."""

    isup: bool
    speed_mbps: int | None
    mtu: int


def link_kind(link: Mapping[str, Any]) -> str:
    """The kind of a link from one ``ip -j -d link show`` entry."""
    info = link.get("linkinfo") or {}
    kind = info.get("info_kind")
    if kind == "tun":
        return "tap" if (info.get("info_data") or {}).get("type") == "tap" else "tun"
    if kind:
        return str(kind)
    link_type = link.get("link_type")
    if link_type == "loopback" or "LOOPBACK" in link.get("flags", ()):
        return "loopback"
    if link_type == "ether":
        return "physical"  # no driver kind: a real NIC (or a Wi-Fi card)
    return str(link_type or "other")


def _state(link: Mapping[str, Any], stats: LinkStats | None) -> str:
    flags = set(link.get("flags", ()))
    admin_up = stats.isup if stats is not None else "UP" in flags
    if not admin_up:
        return "down"
    if flags and "LOWER_UP" not in flags:
        return "no-carrier"
    return "up"


def _overlay_family(info_data: Mapping[str, Any]) -> int:
    return 6 if {"local6", "remote6", "group6"} & info_data.keys() else 4


def build_interfaces(
    links: Sequence[Mapping[str, Any]],
    stats: Mapping[str, LinkStats],
    addresses: Mapping[str, Sequence[str]],
) -> list[Interface]:
    """Merge ``ip -j -d link show`` entries with psutil's stats and addresses."""
    names = {str(link.get("ifname")) for link in links}
    members: dict[str, list[str]] = {}
    for link in links:
        master = link.get("master")
        if master:
            members.setdefault(str(master), []).append(str(link["ifname"]))
    interfaces = []
    for link in links:
        name = str(link.get("ifname"))
        kind = link_kind(link)
        info = link.get("linkinfo") or {}
        data = info.get("info_data") or {}
        parent = link.get("link") or data.get("link")
        st = stats.get(name)
        encap = None
        if kind in ("vxlan", "geneve"):
            encap = OVERLAY_OVERHEAD[(kind, _overlay_family(data))]
        interfaces.append(
            Interface(
                name=name,
                kind=kind,
                state=_state(link, st),
                mtu=st.mtu if st is not None else int(link.get("mtu", 0)),
                speed_mbps=st.speed_mbps if st is not None else None,
                mac=link.get("address") if link.get("link_type") == "ether" else None,
                addresses=tuple(addresses.get(name, ())),
                parent=str(parent) if parent and str(parent) in names else None,
                vlan_id=data.get("id") if kind == "vlan" else None,
                members=tuple(members.get(name, ())) if kind in MASTER_KINDS else (),
                master=str(link["master"]) if link.get("master") else None,
                encap_overhead=encap,
            )
        )
    return interfaces


def with_neighbours(
    interfaces: Iterable[Interface], neighbours: Mapping[str, Neighbour]
) -> list[Interface]:
    """The interfaces with their LLDP neighbours attached."""
    return [
        replace(i, neighbour=neighbours[i.name]) if i.name in neighbours else i for i in interfaces
    ]


def lldp_ports(interfaces: Iterable[Interface]) -> list[str]:
    """Interfaces to look for LLDP neighbours on: physical and veth ports that are up."""
    return [i.name for i in interfaces if i.kind in LLDP_KINDS and i.is_up]


def lower_devices(interfaces: Iterable[Interface], name: str) -> list[str]:
    """``name`` and every device below it (parents, ports), top first, each once."""
    by_name = {i.name: i for i in interfaces}
    order: list[str] = []
    pending = [name]
    while pending and len(order) < len(by_name) + 1:
        current = pending.pop(0)
        if current in order or current not in by_name:
            continue
        order.append(current)
        interface = by_name[current]
        if interface.parent and interface.kind != "veth":
            pending.append(interface.parent)
        pending.extend(interface.members)
    return order


def _depth(by_name: Mapping[str, Interface], name: str, seen: frozenset[str] = frozenset()) -> int:
    """How many devices sit below ``name`` in its stack (0 for a NIC)."""
    interface = by_name.get(name)
    if interface is None or name in seen:
        return 0
    below = list(interface.members)
    if interface.parent and interface.kind != "veth":
        below.append(interface.parent)
    if not below:
        return 0
    return 1 + max(_depth(by_name, b, seen | {name}) for b in below)


# --------------------------------------------------------------------------
# Pure: the checks


def _set_mtu(name: str, mtu: int) -> str:
    return f"ip link set dev {name} mtu {mtu}"


def cabling_sentence(interface: str, neighbour: Neighbour) -> str:
    """ "eth0 is cabled to switch sw2 port swp3" (and its maximum frame size, when advertised)."""
    sentence = f"{interface} is cabled to switch {neighbour.switch} port {neighbour.port}"
    if neighbour.max_frame_size is not None:
        sentence += f", which advertises a maximum frame size of {neighbour.max_frame_size}"
    return safe_text(sentence)


def _tagged_mtus(by_name: Mapping[str, Interface], port: Interface) -> list[int]:
    """MTUs of the VLAN interfaces whose tagged frames leave through ``port``."""
    carriers = {port.name}
    master = port.master
    while master and master in by_name and master not in carriers:
        carriers.add(master)
        master = by_name[master].master
    return [
        i.mtu for i in by_name.values() if i.kind == "vlan" and i.parent in carriers and i.is_up
    ]


def _frame_problem(
    by_name: Mapping[str, Interface], port: Interface, expect: int | None
) -> Problem | None:
    neighbour = port.neighbour
    if neighbour is None or neighbour.max_frame_size is None:
        return None
    mtu = port.mtu
    if expect is not None and port.kind in ETHERNET_KINDS and expect > mtu:
        mtu = expect
    needs = [(mtu + UNTAGGED_FRAME_OVERHEAD, mtu, UNTAGGED_FRAME_OVERHEAD, "")]
    if neighbour.tags_everything:
        needs.append((mtu + TAGGED_FRAME_OVERHEAD, mtu, TAGGED_FRAME_OVERHEAD, " tagged"))
    for vlan_mtu in _tagged_mtus(by_name, port):
        if expect is not None:
            vlan_mtu = max(vlan_mtu, expect)
        needs.append((vlan_mtu + TAGGED_FRAME_OVERHEAD, vlan_mtu, TAGGED_FRAME_OVERHEAD, " tagged"))
    need, for_mtu, overhead, tagged = max(needs)
    if neighbour.max_frame_size >= need:
        return None
    return Problem(
        interface=port.name,
        code="frame-too-small",
        message=(
            f"{cabling_sentence(port.name, neighbour)} "
            f"(too small for{tagged} MTU {for_mtu} + {overhead})"
        ),
        fix=(
            f"raise the maximum frame size of switch {neighbour.switch} port "
            f"{neighbour.port_id or neighbour.port} to at least {need}"
        ),
    )


def _down_problem(by_name: Mapping[str, Interface], interface: Interface) -> Problem | None:
    if interface.kind == "loopback" or interface.state == "up":
        return None
    master = by_name.get(interface.master) if interface.master else None
    port_of = master.name if master is not None and master.kind in MASTER_KINDS else None
    if not (interface.addresses or port_of):
        return None
    role = f"is a port of {port_of}" if port_of else f"has {', '.join(interface.addresses)}"
    if interface.state == "down":
        return Problem(
            interface=interface.name,
            code="down",
            message=f"{interface.name} is down but {role}",
            fix=f"ip link set dev {interface.name} up",
        )
    if interface.kind not in ("physical", "bond"):
        return None  # an empty bridge, a veth whose peer is down: normal life
    return Problem(
        interface=interface.name,
        code="down",
        message=f"{interface.name} has no carrier but {role}",
        fix=f"check the cable and the switch port of {interface.name} (ethtool {interface.name})",
    )


def find_problems(interfaces: Sequence[Interface], expect: int | None = None) -> list[Problem]:
    """Every configuration problem among ``interfaces`` (see the module docstring)."""
    by_name = {i.name: i for i in interfaces}
    found: list[Problem] = []
    for i in interfaces:
        if expect is not None and i.kind in ETHERNET_KINDS and i.is_up and i.mtu < expect:
            found.append(
                Problem(
                    i.name,
                    "below-expected",
                    f"{i.name} MTU {i.mtu} is below the expected {expect}",
                    _set_mtu(i.name, expect),
                )
            )
        parent = by_name.get(i.parent) if i.parent else None
        if parent is not None and i.kind in CHILD_KINDS and i.mtu > parent.mtu:
            found.append(
                Problem(
                    parent.name,
                    "above-parent",
                    f"{i.name} MTU {i.mtu} is larger than its parent {parent.name} "
                    f"MTU {parent.mtu} can carry",
                    _set_mtu(parent.name, i.mtu),
                )
            )
        if parent is not None and i.encap_overhead is not None:
            underlay = i.mtu + i.encap_overhead
            if underlay > parent.mtu:
                found.append(
                    Problem(
                        parent.name,
                        "overlay-too-big",
                        f"{i.name} MTU {i.mtu} needs an underlay MTU of {underlay} "
                        f"({i.kind} adds {i.encap_overhead}), but {parent.name} has "
                        f"{parent.mtu}; or lower {i.name} to {parent.mtu - i.encap_overhead}",
                        _set_mtu(parent.name, underlay),
                    )
                )
        if i.kind in MASTER_KINDS and i.members:
            ports = [by_name[m] for m in i.members if m in by_name]
            largest = max([p.mtu for p in ports], default=i.mtu)
            word = "port" if i.kind == "bridge" else "member"
            for port in ports:
                if port.mtu < i.mtu:
                    found.append(
                        Problem(
                            port.name,
                            "member-below-master",
                            f"{i.name} MTU {i.mtu} is larger than its {word} {port.name} "
                            f"MTU {port.mtu}: larger frames are dropped at {port.name}",
                            _set_mtu(port.name, max(i.mtu, largest)),
                        )
                    )
                elif port.mtu < largest:
                    others = ", ".join(f"{p.name} {p.mtu}" for p in ports if p.mtu > port.mtu)
                    found.append(
                        Problem(
                            port.name,
                            "members-differ",
                            f"{port.name} MTU {port.mtu} is smaller than the other "
                            f"{word}s of {i.name} ({others})",
                            _set_mtu(port.name, largest),
                        )
                    )
        down = _down_problem(by_name, i)
        if down is not None:
            found.append(down)
        if i.kind in LLDP_KINDS:
            frame = _frame_problem(by_name, i, expect)
            if frame is not None:
                found.append(frame)
    # Interface names are the kernel's, but anyone with CAP_NET_ADMIN chooses them
    # (an ESC is a valid byte in one): the sentences shown are terminal-safe.
    found = [replace(p, message=safe_text(p.message), fix=safe_text(p.fix)) for p in found]
    unique = list(dict.fromkeys(found))
    unique.sort(key=lambda p: (_depth(by_name, p.interface), p.interface, CODES.index(p.code)))
    return unique


def local_findings(
    interfaces: Sequence[Interface], interface: str, expect: int | None = None
) -> tuple[list[Problem], list[str]]:
    """What a verdict about traffic leaving through ``interface`` should add.

    Returns the problems of ``interface`` and every device below it, and the
    sentences to show: the problems' messages, then the switch port behind
    each NIC of the stack when LLDP named one and no problem mentions it.
    """
    stack = set(lower_devices(interfaces, interface))
    problems = [p for p in find_problems(interfaces, expect) if p.interface in stack]
    sentences = [p.message for p in problems]
    flagged = {p.interface for p in problems if p.code == "frame-too-small"}
    for i in interfaces:
        if i.name in stack and i.neighbour is not None and i.name not in flagged:
            sentences.append(cabling_sentence(i.name, i.neighbour))
    return problems, sentences


# --------------------------------------------------------------------------
# I/O


def read_links(run: Callable[..., Any] = subprocess.run) -> list[dict[str, Any]]:
    """``ip -j -d link show``, parsed."""
    try:
        done = run(
            ["ip", "-j", "-d", "link", "show"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except FileNotFoundError as exc:
        raise CannotMeasure(
            "the ip command is missing: install iproute2 (apt-get install iproute2)"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise CannotMeasure("ip -j -d link show did not answer within 10 s") from exc
    if done.returncode != 0:
        raise CannotMeasure(f"ip -j -d link show failed: {done.stderr.strip()}")
    try:
        links = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise CannotMeasure(
            "ip -j printed no JSON: this iproute2 is too old, install iproute2 >= 4.14"
        ) from exc
    return [link for link in links if isinstance(link, dict) and link.get("ifname")]


def _prefix(address: str, netmask: str | None) -> str:
    """ "198.18.0.1/24" from psutil's address and netmask (IPv6 netmasks come as addresses)."""
    address = address.split("%", 1)[0]
    try:
        bits = bin(int(ipaddress.ip_address(netmask or ""))).count("1")
    except ValueError:
        return address
    return f"{address}/{bits}"


def read_stats() -> tuple[dict[str, LinkStats], dict[str, list[str]]]:
    """psutil's view: (stats by name, addresses by name)."""
    stats = {
        name: LinkStats(s.isup, s.speed or None, s.mtu) for name, s in psutil.net_if_stats().items()
    }
    addresses: dict[str, list[str]] = {}
    for name, entries in psutil.net_if_addrs().items():
        for entry in entries:
            if entry.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            text = _prefix(entry.address, entry.netmask)
            if (
                entry.family == socket.AF_INET6
                and ipaddress.ip_address(text.split("/")[0]).is_link_local
            ):
                continue
            addresses.setdefault(name, []).append(text)
    return stats, addresses


def collect() -> list[Interface]:
    """Every interface in this network namespace, without neighbours."""
    links = read_links()
    stats, addresses = read_stats()
    return build_interfaces(links, stats, addresses)


NO_LLDP_NOTE = (
    "no LLDP neighbour information: lldpd is not running and --lldp-wait is 0 "
    "(switches announce themselves every 30 s: add --lldp-wait 35, or install lldpd)"
)


def gather(
    *,
    expect: int | None = None,
    names: Sequence[str] = (),
    lldp_wait_s: float = 0.0,
    lldpd_socket: str | None = None,
    progress: lldp.Progress | None = None,
    interfaces: Sequence[Interface] | None = None,
) -> NicsReport:
    """Collect interfaces and neighbours, check them, and build the report.

    ``names`` narrows the report to those interfaces and the devices below
    them. LLDP comes from lldpd when it runs; ports it has no neighbour for
    are listened on for up to ``lldp_wait_s`` seconds.
    """
    every = list(interfaces) if interfaces is not None else collect()
    known = [i.name for i in every]
    for name in names:
        if name not in known:
            raise UsageError(f"no interface {name!r} here: choose from {', '.join(known)}")
    selected: list[str] = []
    for name in names:
        selected += [n for n in lower_devices(every, name) if n not in selected]
    shown = [i for i in every if not names or i.name in selected]
    ports = lldp_ports(shown)

    notes: list[str] = []
    sources: list[str] = []
    neighbours: dict[str, Neighbour] = {}
    from_lldpd = lldp.lldpd_neighbours(lldpd_socket)
    if from_lldpd is not None:
        sources.append("lldpd")
        neighbours.update({k: v for k, v in from_lldpd.items() if k in ports})
    waited = 0.0
    missing = [p for p in ports if p not in neighbours]
    if lldp_wait_s > 0 and missing:
        clock_start = time.monotonic()
        try:
            neighbours.update(lldp.capture(missing, lldp_wait_s, progress=progress))
            sources.append("capture")
        except JumbopathError as exc:
            notes.append(f"no LLDP capture: {exc}")
        waited = round(time.monotonic() - clock_start, 1)
    elif from_lldpd is None and ports:
        notes.append(NO_LLDP_NOTE)
    unheard = [p for p in ports if p not in neighbours]
    if unheard and sources:
        listed = ", ".join(unheard[:8]) + (f" and {len(unheard) - 8} more" if unheard[8:] else "")
        notes.append(f"no LLDP neighbour heard on {listed}")

    every = with_neighbours(every, neighbours)
    problems = find_problems(every, expect)
    shown_names = {i.name for i in shown}
    return NicsReport(
        interfaces=tuple(i for i in every if i.name in shown_names),
        problems=tuple(p for p in problems if p.interface in shown_names),
        expected_mtu=expect,
        lldp_source="+".join(sources) or "none",
        lldp_waited_s=waited,
        notes=tuple(safe_text(note) for note in notes),
    )


@dataclass(frozen=True, slots=True)
class LocalContext:
    """The local side of a path, for a ``check``/``trace`` verdict."""

    interface: str
    """The interface traffic leaves through."""
    problems: tuple[Problem, ...]
    """Problems on it and the devices below it."""
    sentences: tuple[str, ...]
    """Problem messages, then the switch port behind each NIC when known."""


def gather_local_context(
    interface: str, expect: int | None, *, lldpd_socket: str | None = None
) -> LocalContext:
    """Problems and cabling of ``interface``'s stack. LLDP from lldpd only: no waiting."""
    every = collect()
    if interface not in {i.name for i in every}:
        raise UsageError(f"no interface {interface!r} here")
    neighbours = lldp.lldpd_neighbours(lldpd_socket) or {}
    problems, sentences = local_findings(with_neighbours(every, neighbours), interface, expect)
    return LocalContext(interface, tuple(problems), tuple(sentences))


def local_context(
    interface: str, expect: int | None, *, lldpd_socket: str | None = None
) -> list[str]:
    """Sentences a verdict can add about the local side of ``interface``.

    For example "eth0 MTU 1500 is below the expected 9000" or "eth0 is
    cabled to switch sw2 port swp3, which advertises a maximum frame size of
    1518 (too small for MTU 9000 + 18)". Best effort: returns [] when the
    facts cannot be read. Never waits for LLDP (uses lldpd when it runs).
    """
    try:
        return list(gather_local_context(interface, expect, lldpd_socket=lldpd_socket).sentences)
    except (JumbopathError, OSError):
        return []
