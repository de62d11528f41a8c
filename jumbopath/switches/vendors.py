"""What a switch's ifMtu means, vendor by vendor, and where that rule comes from.

IF-MIB (RFC 2863) defines ifMtu as "the size of the largest packet which
can be sent/received on the interface, specified in octets", and leaves
open whether the link-layer header counts. Vendors chose differently: some
report the IP MTU (1500 on a default port), some the frame without FCS
(1514). Every rule is written as a :mod:`jumbopath.sizes` ``--from`` kind,
so the arithmetic lives in one place: ``mtu`` (the value is the IP MTU) or
``frame`` (IP MTU + 14-byte Ethernet header, no FCS).

LLDP's IEEE 802.3 maximum frame size (IEEE 802.1AB annex F.4) has one
meaning everywhere: the whole untagged frame with its FCS, ``frame-fcs``
(IP MTU + 18).

When the vendor is not recognised the rule is ``mtu`` (the IP MTU): it is
what Linux (net-snmp), Cisco NX-OS/IOS, Arista and MikroTik report, and
every output says that this assumption was made.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jumbopath.errors import UsageError
from jumbopath.sizes import parse_from


@dataclass(frozen=True, slots=True)
class Vendor:
    """One vendor's meaning of ifMtu."""

    key: str
    """Short name used in files and JSON (``linux``, ``nxos``, ...)."""
    label: str
    """Human name."""
    if_mtu_kind: str
    """The :mod:`jumbopath.sizes` kind ifMtu is written in (``mtu`` or ``frame``)."""
    note: str
    """What the number is, in a few words."""
    source: str
    """Where the rule comes from."""


VENDORS: dict[str, Vendor] = {
    v.key: v
    for v in (
        Vendor(
            "linux",
            "Linux (net-snmp: Cumulus, SONiC, plain Linux bridges)",
            "mtu",
            "ifMtu is the kernel's device MTU, the IP MTU (ip link show)",
            "net-snmp agent/mibgroup/if-mib/data_access/interface_ioctl.c reads "
            "SIOCGIFMTU; ip-link(8)",
        ),
        Vendor(
            "nxos",
            "Cisco NX-OS",
            "mtu",
            "interface 'mtu' is the payload size: 1500 default, 9216 jumbo",
            "Cisco Nexus 9000 Series NX-OS Interfaces Configuration Guide, "
            "'Configuring the MTU Size'",
        ),
        Vendor(
            "ios",
            "Cisco IOS / IOS-XE",
            "mtu",
            "interface/system 'mtu' is the payload size: 1500 default",
            "Cisco Catalyst configuration guides, 'System MTU'",
        ),
        Vendor(
            "iosxr",
            "Cisco IOS XR",
            "frame",
            "interface 'mtu' includes the 14-byte Ethernet header: 1514 default",
            "Cisco IOS XR Interface and Hardware Component Configuration Guide, "
            "'Default MTU values' (L2 header included)",
        ),
        Vendor(
            "junos",
            "Juniper Junos",
            "frame",
            "physical interface 'mtu' (media MTU) includes the Ethernet header: 1514 default",
            "Juniper 'Media MTU Overview' (media MTU = family MTU + L2 header)",
        ),
        Vendor(
            "eos",
            "Arista EOS",
            "mtu",
            "interface 'mtu' is the IP MTU",
            "Arista EOS User Manual, 'mtu (interface)'",
        ),
        Vendor(
            "routeros",
            "MikroTik RouterOS",
            "mtu",
            "ifMtu is the L3 'mtu' (the separate 'l2mtu' is not in IF-MIB)",
            "MikroTik RouterOS manual, 'MTU in RouterOS'",
        ),
        Vendor(
            "unknown",
            "unrecognised vendor",
            "mtu",
            "assumed to be the IP MTU, as most agents report it",
            "assumption: RFC 2863 leaves the link header open",
        ),
    )
}
"""Known vendors, by key."""

# sysObjectID enterprise numbers (IANA Private Enterprise Numbers) and
# sysDescr patterns, most specific first.
_DESCR: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"NX-OS|Nexus", re.I), "nxos"),
    (re.compile(r"IOS[ -]XR", re.I), "iosxr"),
    (re.compile(r"Cisco IOS|IOS-XE", re.I), "ios"),
    (re.compile(r"JUNOS|Juniper", re.I), "junos"),
    (re.compile(r"Arista|EOS", re.I), "eos"),
    (re.compile(r"RouterOS|MikroTik", re.I), "routeros"),
    (re.compile(r"Linux|Cumulus|SONiC", re.I), "linux"),
)
_ENTERPRISE = {9: "ios", 2636: "junos", 30065: "eos", 14988: "routeros", 8072: "linux"}


def guess_vendor(description: str, object_id: str = "") -> str:
    """The vendor key for a sysDescr and sysObjectID ("unknown" when unrecognised)."""
    for pattern, key in _DESCR:
        if pattern.search(description):
            return key
    parts = object_id.strip(".").split(".")
    if len(parts) > 6 and parts[:6] == ["1", "3", "6", "1", "4", "1"] and parts[6].isdigit():
        return _ENTERPRISE.get(int(parts[6]), "unknown")
    return "unknown"


def vendor(key: str) -> Vendor:
    """The vendor called ``key`` (UsageError naming the known ones)."""
    found = VENDORS.get(key.strip().lower())
    if found is None:
        raise UsageError(f"unknown vendor {key!r}: use one of {', '.join(VENDORS)}")
    return found


def ip_mtu_from_if_mtu(value: int, key: str) -> int | None:
    """The IP MTU behind an ifMtu of ``value`` on vendor ``key``; None if impossible."""
    try:
        return parse_from(vendor(key).if_mtu_kind, value)
    except UsageError:
        return None


def ip_mtu_from_max_frame(value: int) -> int | None:
    """The IP MTU behind an IEEE 802.3 maximum frame size (untagged frame, FCS counted)."""
    try:
        return parse_from("frame-fcs", value)
    except UsageError:
        return None
