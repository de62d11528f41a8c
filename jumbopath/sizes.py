"""Header arithmetic: one MTU, and every number vendors and tools use for it.

Pure functions, no I/O. An *MTU* here is always an IP MTU: the largest IP
packet (IP header included) a link carries, what ``ip link`` shows. Every
other number is the MTU plus or minus fixed header sizes, so the whole
module is a table of offsets (:data:`ROWS`) and the functions that walk it
both ways.

Header sizes, with the standard each comes from:

====================  =====  ==================================================
IPv4 header             20   RFC 791 section 3.1 (IHL 5, no options)
IPv6 header             40   RFC 8200 section 3 (fixed header)
ICMP echo header         8   RFC 792 (type, code, checksum, identifier, sequence)
ICMPv6 echo header       8   RFC 4443 section 4.1
UDP header               8   RFC 768
TCP header              20   RFC 793 / RFC 9293 section 3.1 (no options)
Ethernet header         14   IEEE 802.3 clause 3.1.1 (destination, source, type)
Ethernet FCS             4   IEEE 802.3 clause 3.1.1 (frame check sequence)
802.1Q tag               4   IEEE 802.1Q clause 9 (TPID + TCI)
VXLAN header             8   RFC 7348 section 5
Geneve header            8   RFC 8926 section 3.4 (plus 0..252 bytes of options)
PPPoE + PPP              8   RFC 2516 section 4 (6) + RFC 1661 protocol field (2)
====================  =====  ==================================================

A VXLAN or Geneve overlay wraps the whole inner Ethernet frame (without its
FCS) in UDP and an outer IP header, so an overlay of MTU *m* needs an
underlay of MTU *m* + 14 + 8 + 8 + 20 = *m* + 50 over IPv4, *m* + 70 over
IPv6 (RFC 7348 section 4.3 asks for exactly this headroom). Geneve options
add up to 252 bytes more; the numbers here are for Geneve without options,
the minimum. An inner 802.1Q tag would add 4 more.
"""

from __future__ import annotations

from dataclasses import dataclass

from jumbopath.errors import UsageError

# --------------------------------------------------------------------------
# Header sizes (bytes)

IPV4_HEADER = 20
"""RFC 791: IPv4 header without options."""
IPV6_HEADER = 40
"""RFC 8200: IPv6 fixed header (extension headers not counted)."""
ICMP_HEADER = 8
"""RFC 792: ICMP echo request/reply header."""
ICMPV6_HEADER = 8
"""RFC 4443: ICMPv6 echo request/reply header."""
UDP_HEADER = 8
"""RFC 768."""
TCP_HEADER = 20
"""RFC 793 / RFC 9293: TCP header without options."""
ETHERNET_HEADER = 14
"""IEEE 802.3: destination MAC, source MAC, EtherType."""
ETHERNET_FCS = 4
"""IEEE 802.3: frame check sequence (CRC-32) at the end of every frame."""
DOT1Q_TAG = 4
"""IEEE 802.1Q: one VLAN tag (TPID 0x8100 + TCI)."""
VXLAN_HEADER = 8
"""RFC 7348 section 5."""
GENEVE_HEADER = 8
"""RFC 8926 section 3.4: base header; options (0..252 bytes) come on top."""
PPPOE_OVERHEAD = 8
"""RFC 2516 PPPoE header (6) + PPP protocol field (2): why DSL links run 1492."""

VXLAN_OVERHEAD_V4 = ETHERNET_HEADER + VXLAN_HEADER + UDP_HEADER + IPV4_HEADER
"""50: what a VXLAN overlay costs over an IPv4 underlay (RFC 7348)."""
VXLAN_OVERHEAD_V6 = ETHERNET_HEADER + VXLAN_HEADER + UDP_HEADER + IPV6_HEADER
"""70: what a VXLAN overlay costs over an IPv6 underlay."""
GENEVE_OVERHEAD_V4 = ETHERNET_HEADER + GENEVE_HEADER + UDP_HEADER + IPV4_HEADER
"""50: Geneve without options over IPv4 (RFC 8926); options add up to 252."""
GENEVE_OVERHEAD_V6 = ETHERNET_HEADER + GENEVE_HEADER + UDP_HEADER + IPV6_HEADER
"""70: Geneve without options over IPv6."""
GRE_HEADER = 4
"""RFC 2784 section 2.1: GRE base header (flags, protocol type); key, sequence
number and checksum (RFC 2890) add 4 bytes each."""
WIREGUARD_HEADER = 32
"""WireGuard transport data message: type, receiver index, counter (16 bytes)
plus the Poly1305 authentication tag (16), inside UDP (WireGuard whitepaper 5.4.6)."""

TUNNEL_OVERHEAD: dict[tuple[str, int], int] = {
    ("vxlan", 4): VXLAN_OVERHEAD_V4,
    ("vxlan", 6): VXLAN_OVERHEAD_V6,
    ("geneve", 4): GENEVE_OVERHEAD_V4,
    ("geneve", 6): GENEVE_OVERHEAD_V6,
    ("gre", 4): IPV4_HEADER + GRE_HEADER,
    ("gretap", 4): IPV4_HEADER + GRE_HEADER + ETHERNET_HEADER,
    ("ip6gre", 6): IPV6_HEADER + GRE_HEADER,
    ("ip6gretap", 6): IPV6_HEADER + GRE_HEADER + ETHERNET_HEADER,
    ("ipip", 4): IPV4_HEADER,
    ("sit", 4): IPV4_HEADER,
    ("ip6tnl", 6): IPV6_HEADER,
    ("wireguard", 4): IPV4_HEADER + UDP_HEADER + WIREGUARD_HEADER,
    ("wireguard", 6): IPV6_HEADER + UDP_HEADER + WIREGUARD_HEADER,
}
"""Bytes each tunnel kind (``ip -d link``'s ``info_kind``) adds on an IPv4 or IPv6
underlay: VXLAN 50/70 (RFC 7348), Geneve 50/70 without options (RFC 8926), GRE
24/44 without key, sequence or checksum (RFC 2784), GRE carrying Ethernet 38/58,
IP in IP 20 (RFC 2003, RFC 4213 for sit), IPv6 tunnels 40 (RFC 2473), WireGuard
60/80. What the overlay carries is the underlay's MTU minus this."""

ICMP_OVERHEAD = {4: IPV4_HEADER + ICMP_HEADER, 6: IPV6_HEADER + ICMPV6_HEADER}
"""IP + ICMP echo headers per family: 28 and 48. ``ping -s`` counts the rest."""
UDP_OVERHEAD = {4: IPV4_HEADER + UDP_HEADER, 6: IPV6_HEADER + UDP_HEADER}
"""IP + UDP headers per family: 28 and 48 (RFC 768)."""
TCP_OVERHEAD = {4: IPV4_HEADER + TCP_HEADER, 6: IPV6_HEADER + TCP_HEADER}
"""IP + TCP headers (no options) per family: 40 and 60 (RFC 9293)."""
CONTROL_SIZE = {4: IPV4_HEADER + ICMP_HEADER + 56, 6: IPV6_HEADER + ICMPV6_HEADER + 56}
"""Small control probes per family, 84 and 104 bytes: what ``ping`` sends by
default (56-byte payload). Every path carries them; their loss measures the
path's loss apart from any size limit."""

MIN_MTU_V4 = 68
"""RFC 791: every IPv4 module must forward a 68-byte datagram."""
MIN_MTU_V6 = 1280
"""RFC 8200 section 5: every IPv6 link carries at least 1280 bytes."""
MIN_MTU = {4: MIN_MTU_V4, 6: MIN_MTU_V6}
"""Smallest IP MTU per family."""
MAX_MTU = 65535
"""The IPv4 total-length and IPv6 payload-length fields are 16 bits (jumbograms aside)."""

UNTAGGED_FRAME_OVERHEAD = ETHERNET_HEADER + ETHERNET_FCS
"""18: MTU 1500 makes the classic 1518-byte frame (IEEE 802.3 maxBasicFrameSize)."""
TAGGED_FRAME_OVERHEAD = UNTAGGED_FRAME_OVERHEAD + DOT1Q_TAG
"""22: MTU 1500 with one VLAN tag makes a 1522-byte frame (IEEE 802.3 Q-tagged)."""


def _check_family(family: int) -> None:
    if family not in (4, 6):
        raise ValueError(f"family must be 4 or 6, not {family!r}")


def icmp_payload(mtu: int, family: int) -> int:
    """The ``ping -s`` size that makes an IP packet of exactly ``mtu`` bytes.

    >>> icmp_payload(9000, 4), icmp_payload(9000, 6)
    (8972, 8952)
    """
    _check_family(family)
    return mtu - ICMP_OVERHEAD[family]


def mtu_from_payload(payload: int, family: int) -> int:
    """The IP packet size ``ping -s payload`` sends (inverse of :func:`icmp_payload`)."""
    _check_family(family)
    return payload + ICMP_OVERHEAD[family]


def windows_jumbo_packet(mtu: int) -> int:
    """The Windows "Jumbo Packet" advanced NIC property for an IP MTU.

    Windows drivers count the 14-byte Ethernet header (not the FCS): the
    setting "9014 Bytes" gives an IP MTU of 9000.
    """
    return mtu + ETHERNET_HEADER


def mtu_from_windows_jumbo_packet(value: int) -> int:
    """The IP MTU a Windows "Jumbo Packet" value gives (inverse of the above)."""
    return value - ETHERNET_HEADER


# --------------------------------------------------------------------------
# The table: every row is the MTU plus a fixed offset.


@dataclass(frozen=True, slots=True)
class Row:
    """One way of writing an MTU: a ``--from`` kind, a label and its offset."""

    kind: str
    """The ``--from`` name (``windows``, ``ping``, ...)."""
    field: str
    """The :class:`SizeTable` attribute."""
    label: str
    """Human name, for tables."""
    offset: int
    """value = MTU + offset."""
    note: str
    """Where this number shows up."""
    ip_mtu: bool = False
    """True when the value is itself an IP MTU (so 68..65535 applies to it)."""
    ipv6: bool = False
    """True when the row only makes sense for IPv6 (needs MTU >= 1280)."""


ROWS: tuple[Row, ...] = (
    Row("mtu", "mtu", "IP MTU", 0,
        "ip link set dev IFACE mtu N; Linux/BSD ifconfig; router 'ip mtu'", ip_mtu=True),
    Row("frame", "frame", "Ethernet frame without FCS", ETHERNET_HEADER,
        "what tcpdump and Wireshark show as the frame length"),
    Row("frame-fcs", "frame_fcs", "Ethernet frame with FCS", UNTAGGED_FRAME_OVERHEAD,
        "IEEE 802.3 frame size; the LLDP 'maximum frame size' counts this"),
    Row("vlan", "frame_vlan", "Frame with one 802.1Q tag, with FCS", TAGGED_FRAME_OVERHEAD,
        "what a switch port carrying tagged frames must accept"),
    Row("qinq", "frame_qinq", "Frame with two tags (802.1ad QinQ), with FCS",
        TAGGED_FRAME_OVERHEAD + DOT1Q_TAG, "provider bridging, double tagging"),
    Row("windows", "windows_jumbo_packet", 'Windows "Jumbo Packet"', ETHERNET_HEADER,
        "NIC advanced property: counts the Ethernet header, not the FCS"),
    Row("ping", "icmp_payload_v4", "ICMP payload, IPv4 (ping -s)", -ICMP_OVERHEAD[4],
        "ping -M do -s N (Linux), ping -f -l N (Windows), vmkping -d -s N"),
    Row("ping6", "icmp_payload_v6", "ICMP payload, IPv6 (ping -6 -s)", -ICMP_OVERHEAD[6],
        "ping -6 -M do -s N (Linux), ping -6 -l N (Windows)", ipv6=True),
    Row("mss", "tcp_mss_v4", "TCP MSS, IPv4", -(IPV4_HEADER + TCP_HEADER),
        "what TCP announces on this link; MSS clamping"),
    Row("mss6", "tcp_mss_v6", "TCP MSS, IPv6", -(IPV6_HEADER + TCP_HEADER),
        "what TCP announces over IPv6", ipv6=True),
    Row("vxlan-underlay", "vxlan_underlay_v4", "Underlay MTU for VXLAN over IPv4",
        VXLAN_OVERHEAD_V4, "the underlay must carry this for an overlay of this MTU",
        ip_mtu=True),
    Row("vxlan6-underlay", "vxlan_underlay_v6", "Underlay MTU for VXLAN over IPv6",
        VXLAN_OVERHEAD_V6, "the same, IPv6 underlay", ip_mtu=True),
    Row("geneve-underlay", "geneve_underlay_v4", "Underlay MTU for Geneve over IPv4",
        GENEVE_OVERHEAD_V4, "Geneve without options; options add up to 252", ip_mtu=True),
    Row("geneve6-underlay", "geneve_underlay_v6", "Underlay MTU for Geneve over IPv6",
        GENEVE_OVERHEAD_V6, "Geneve without options, IPv6 underlay", ip_mtu=True),
    Row("vxlan-overlay", "vxlan_overlay_v4", "VXLAN overlay MTU over this (IPv4)",
        -VXLAN_OVERHEAD_V4, "if this MTU is the underlay: largest overlay MTU", ip_mtu=True),
    Row("vxlan6-overlay", "vxlan_overlay_v6", "VXLAN overlay MTU over this (IPv6)",
        -VXLAN_OVERHEAD_V6, "the same over an IPv6 underlay", ip_mtu=True),
    Row("geneve-overlay", "geneve_overlay_v4", "Geneve overlay MTU over this (IPv4)",
        -GENEVE_OVERHEAD_V4, "Geneve without options", ip_mtu=True),
    Row("geneve6-overlay", "geneve_overlay_v6", "Geneve overlay MTU over this (IPv6)",
        -GENEVE_OVERHEAD_V6, "Geneve without options, IPv6 underlay", ip_mtu=True),
)  # fmt: skip
"""Every number :func:`size_table` computes, in display order."""

ALIASES: dict[str, str] = {
    "ip": "mtu",
    "ip-mtu": "mtu",
    "frame-nofcs": "frame",
    "frame-with-fcs": "frame-fcs",
    "max-frame": "frame-fcs",
    "dot1q": "vlan",
    "jumbo-packet": "windows",
    "icmp": "ping",
    "icmp6": "ping6",
    "ping4": "ping",
    "mss4": "mss",
    "vxlan": "vxlan-underlay",
    "vxlan6": "vxlan6-underlay",
    "geneve": "geneve-underlay",
    "geneve6": "geneve6-underlay",
}
"""Other spellings accepted by ``--from``."""

_BY_KIND: dict[str, Row] = {row.kind: row for row in ROWS}

FROM_KINDS: tuple[str, ...] = tuple(row.kind for row in ROWS)
"""The canonical ``--from`` kinds."""


@dataclass(frozen=True, slots=True)
class SizeTable:
    """Every number for one IP MTU. ``None`` where the number cannot exist."""

    mtu: int
    """The IP MTU (IP header included)."""
    frame: int
    """Ethernet frame without FCS: MTU + 14 (what tcpdump shows)."""
    frame_fcs: int
    """Ethernet frame with FCS: MTU + 18 (IEEE 802.3 and LLDP maximum frame size count this)."""
    frame_vlan: int
    """Frame with one 802.1Q tag, with FCS: MTU + 22."""
    frame_qinq: int
    """Frame with two tags (802.1ad), with FCS: MTU + 26."""
    windows_jumbo_packet: int
    """Windows "Jumbo Packet" property: MTU + 14."""
    icmp_payload_v4: int
    """``ping -s`` for IPv4: MTU - 28."""
    icmp_payload_v6: int | None
    """``ping -6 -s``: MTU - 48; None below 1280 (no IPv6 on such a link)."""
    tcp_mss_v4: int
    """TCP MSS over IPv4: MTU - 40."""
    tcp_mss_v6: int | None
    """TCP MSS over IPv6: MTU - 60; None below 1280."""
    vxlan_underlay_v4: int | None
    """Underlay MTU that carries a VXLAN overlay of this MTU over IPv4: MTU + 50."""
    vxlan_underlay_v6: int | None
    """The same over IPv6: MTU + 70."""
    geneve_underlay_v4: int | None
    """Geneve (no options) over IPv4: MTU + 50."""
    geneve_underlay_v6: int | None
    """Geneve (no options) over IPv6: MTU + 70."""
    vxlan_overlay_v4: int | None
    """Largest VXLAN overlay MTU if this MTU is the IPv4 underlay: MTU - 50."""
    vxlan_overlay_v6: int | None
    """The same over an IPv6 underlay: MTU - 70."""
    geneve_overlay_v4: int | None
    """Largest Geneve overlay MTU over this IPv4 underlay: MTU - 50."""
    geneve_overlay_v6: int | None
    """The same over an IPv6 underlay: MTU - 70."""

    def value(self, kind: str) -> int | None:
        """The number of one ``--from`` kind (aliases accepted)."""
        value: int | None = getattr(self, _row(kind).field)
        return value


def _row(kind: str) -> Row:
    key = kind.strip().lower().replace("_", "-")
    key = ALIASES.get(key, key)
    try:
        return _BY_KIND[key]
    except KeyError:
        raise UsageError(
            f"unknown --from kind {kind!r}: use one of {', '.join(FROM_KINDS)}"
        ) from None


def canonical_kind(kind: str) -> str:
    """The canonical ``--from`` kind for ``kind`` or one of its aliases."""
    return _row(kind).kind


def check_mtu(mtu: int) -> None:
    """Raise :class:`UsageError` unless ``mtu`` is a possible IP MTU (68..65535)."""
    if not MIN_MTU_V4 <= mtu <= MAX_MTU:
        raise UsageError(
            f"MTU {mtu} is impossible: an IP MTU is {MIN_MTU_V4} (RFC 791) to {MAX_MTU}; "
            f"IPv6 needs at least {MIN_MTU_V6} (RFC 8200)"
        )


def size_table(mtu: int) -> SizeTable:
    """All the numbers for one IP MTU (68..65535, else :class:`UsageError`)."""
    check_mtu(mtu)
    values: dict[str, int | None] = {}
    for row in ROWS:
        value = mtu + row.offset
        too_small_for_v6 = row.ipv6 and mtu < MIN_MTU_V6
        impossible_mtu = row.ip_mtu and not MIN_MTU_V4 <= value <= MAX_MTU
        values[row.field] = None if too_small_for_v6 or impossible_mtu else value
    return SizeTable(**values)  # type: ignore[arg-type]


def from_range(kind: str) -> tuple[int, int]:
    """The smallest and largest value ``kind`` can take (aliases accepted)."""
    row = _row(kind)
    low = (MIN_MTU_V6 if row.ipv6 else MIN_MTU_V4) + row.offset
    high = MAX_MTU + row.offset
    if row.ip_mtu:
        low, high = max(low, MIN_MTU_V4), min(high, MAX_MTU)
    return low, high


def parse_from(kind: str, value: int) -> int:
    """The IP MTU behind ``value`` written as ``kind`` (``--from windows 9014`` is 9000).

    Raises :class:`UsageError` for an unknown kind or a value no MTU gives.
    """
    row = _row(kind)
    low, high = from_range(row.kind)
    if not low <= value <= high:
        why = f"an IP MTU is {MIN_MTU_V4} to {MAX_MTU}, RFC 791"
        if row.ipv6:
            why = f"an IPv6 MTU is {MIN_MTU_V6} to {MAX_MTU}, RFC 8200"
        raise UsageError(
            f"{row.kind} {value} is impossible: {row.kind} goes from {low} to {high} "
            f"({why}); check the number or the --from kind"
        )
    return value - row.offset


# --------------------------------------------------------------------------
# Commands that test one MTU by hand

# Each platform's ping, with what sets Don't Fragment and the payload size:
# - Linux iputils: -M do sets DF (IPv4) / forbids local fragmentation (IPv6).
# - Windows: -f sets DF and is IPv4-only; Windows has no switch that stops
#   an IPv6 source from fragmenting, so the IPv6 command is weaker evidence.
# - ESXi vmkping: -d sets DF (IPv4) or disables fragmentation (IPv6).
# - macOS ping: -D sets DF. macOS ping6 (KAME): -D sets IPV6_DONTFRAG, and
#   without -m it asks the kernel to fragment everything to 1280
#   (IPV6_USE_MIN_MTU), which with -D refuses any larger probe; -m once
#   lets unicast use the path MTU. macOS ping runs until stopped, so -c 3.


def reproduce_commands(address: str, mtu: int, family: int) -> list[tuple[str, str]]:
    """(platform, command) pairs that send exactly ``mtu``-byte packets to ``address``."""
    _check_family(family)
    size = icmp_payload(mtu, family)
    if family == 4:
        return [
            ("Linux", f"ping -M do -s {size} -c 3 {address}"),
            ("Windows", f"ping -f -l {size} {address}"),
            ("ESXi", f"vmkping -d -s {size} {address}"),
            ("macOS", f"ping -D -s {size} -c 3 {address}"),
        ]
    return [
        ("Linux", f"ping -6 -M do -s {size} -c 3 {address}"),
        ("Windows", f"ping -6 -l {size} {address}"),
        ("ESXi", f"vmkping -6 -d -s {size} {address}"),
        ("macOS", f"ping6 -m -D -s {size} -c 3 {address}"),
    ]


def arithmetic_line(mtu: int) -> str:
    """One line relating the numbers people type: MTU, Windows and ping sizes."""
    line = (
        f'MTU {mtu} = Windows "Jumbo Packet" {windows_jumbo_packet(mtu)} '
        f"= ICMP payload {icmp_payload(mtu, 4)} (IPv4)"
    )
    if mtu >= MIN_MTU_V6:
        line += f" / {icmp_payload(mtu, 6)} (IPv6)"
    return line


# --------------------------------------------------------------------------
# Plateaus

PLATEAUS: tuple[int, ...] = (
    9216,  # largest jumbo most switches and routers accept (Cisco, Arista, Juniper)
    9001,  # AWS EC2 jumbo frames
    9000,  # the de facto jumbo MTU
    8950,  # 9000 minus VXLAN/Geneve over IPv4 (50)
    8500,  # AWS Transit Gateway / Direct Connect jumbo
    4470,  # POS/SONET and many WAN interfaces' default
    4352,  # FDDI (RFC 1191 table)
    1500,  # Ethernet (RFC 1191 table)
    1492,  # PPPoE (RFC 2516) and IEEE 802.3 with LLC/SNAP (RFC 1191 table)
    1480,  # IP-in-IP / 6in4 over 1500 (20-byte outer header)
    1476,  # GRE over 1500 (24 bytes)
    1460,  # Google Cloud VPC default
    1450,  # VXLAN over 1500 (50 bytes)
    1420,  # WireGuard over 1500 (80 bytes, IPv6 outer)
    1400,  # common conservative VPN/cloud value
    1280,  # IPv6 minimum link MTU (RFC 8200)
    1006,  # SLIP, ARPANET (RFC 1191 table)
    576,  # X.25; every IPv4 host reassembles this much (RFC 791)
    296,  # point-to-point, low delay (RFC 1191 table)
    68,  # IPv4 minimum (RFC 791, RFC 1191 table)
)
"""Common MTUs, largest first: RFC 1191 section 7's plateau table (the
entries still seen today) plus the jumbo, cloud and tunnel values of now."""


def next_plateau_below(mtu: int) -> int | None:
    """The largest plateau strictly below ``mtu`` (RFC 1191 section 5), or None."""
    return next((p for p in PLATEAUS if p < mtu), None)


FIRST_GUESSES: tuple[int, ...] = (9216, 9000, 8950, 4470, 1500)
"""Sizes the MTU search tries in its first round when they fit below the
interface MTU: the jumbo plateaus seen in data centres and the classic ones
of RFC 1191 section 7 that still occur."""

LOW_PLATEAUS: tuple[int, ...] = (1492, 1480, 1280, 1006, 576)
"""Tried when a path carries less than 1500: PPPoE, IPv6 minimum, RFC 1191 plateaus."""
