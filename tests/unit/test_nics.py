"""Interface facts, configuration checks and LLDP parsing, without touching the machine."""

from __future__ import annotations

import json
import struct
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from jumbopath import lldp, nics
from jumbopath.errors import NoPrivilege, UsageError
from jumbopath.lldp import Neighbour
from jumbopath.nics import Interface, LinkStats, Problem

DATA = Path(__file__).parent / "data"


def nic(name: str, mtu: int = 9000, kind: str = "physical", **kw: Any) -> Interface:
    kw.setdefault("state", "up")
    return Interface(name=name, kind=kind, mtu=mtu, **kw)


def switch(
    interface: str,
    max_frame_size: int | None,
    *,
    pvid: int | None = None,
    vlans: tuple[int, ...] = (),
) -> Neighbour:
    return Neighbour(
        interface=interface,
        source="lldpd",
        chassis_id="2e:f8:4b:13:14:3d",
        system_name="sw2",
        port_id="swp3",
        port_id_subtype="ifname",
        port_description="swp3",
        pvid=pvid,
        vlans=vlans,
        max_frame_size=max_frame_size,
    )


LO = nic("lo", 65536, "loopback", addresses=("127.0.0.1/8",))

# (description, interfaces, --expect, expected [(interface, code)] in order)
CASES: list[tuple[str, list[Interface], int | None, list[tuple[str, str]]]] = [
    ("all jumbo, nothing to say", [LO, nic("eth0", 9000)], 9000, []),
    ("no expectation, nothing to compare", [nic("eth0", 1500)], None, []),
    ("NIC below expectation", [LO, nic("eth0", 1500)], 9000, [("eth0", "below-expected")]),
    ("loopback is never flagged", [nic("lo", 1500, "loopback", state="down")], 9000, []),
    ("tunnels are not held to --expect", [nic("tun0", 1500, "tun")], 9000, []),
    ("a down NIC is not held to --expect", [nic("eth5", 1500, state="down")], 9000, []),
    (
        "VLAN larger than its parent",
        [nic("eth0", 1500), nic("eth0.100", 9000, "vlan", parent="eth0", vlan_id=100)],
        None,
        [("eth0", "above-parent")],
    ),
    (
        "VLAN equal to its parent is fine",
        [nic("eth0", 9000), nic("eth0.100", 9000, "vlan", parent="eth0", vlan_id=100)],
        9000,
        [],
    ),
    (
        "bridge larger than one port",
        [
            nic("br0", 9000, "bridge", members=("eth1", "eth2")),
            nic("eth1", 9000, master="br0"),
            nic("eth2", 1500, master="br0"),
        ],
        None,
        [("eth2", "member-below-master")],
    ),
    (
        "bond members differ, bond at the smaller one",
        [
            nic("bond0", 1500, "bond", members=("eth1", "eth2")),
            nic("eth1", 9000, master="bond0"),
            nic("eth2", 1500, master="bond0"),
        ],
        None,
        [("eth2", "members-differ")],
    ),
    (
        "VLAN on a bridge with mismatched MTUs, with expectation: fixes bottom up",
        [
            nic("br0", 9000, "bridge", members=("eth1", "eth2"), addresses=("198.18.0.1/24",)),
            nic("eth1", 9000, master="br0"),
            nic("eth2", 1500, master="br0"),
            nic("br0.10", 1500, "vlan", parent="br0", vlan_id=10),
        ],
        9000,
        [("eth2", "below-expected"), ("eth2", "member-below-master"), ("br0.10", "below-expected")],
    ),
    (
        "member administratively down",
        [
            nic("bond0", 9000, "bond", members=("eth1", "eth2")),
            nic("eth1", 9000, master="bond0"),
            nic("eth2", 9000, master="bond0", state="down"),
        ],
        9000,
        [("eth2", "down")],
    ),
    (
        "NIC with addresses but no carrier",
        [nic("eth0", 9000, state="no-carrier", addresses=("198.18.0.1/24",))],
        None,
        [("eth0", "down")],
    ),
    ("unused NIC without carrier is not noise", [nic("eth9", 1500, state="no-carrier")], None, []),
    (
        "empty bridge without carrier is normal",
        [nic("docker0", 1500, "bridge", state="no-carrier", addresses=("198.18.9.1/24",))],
        None,
        [],
    ),
    (
        "veth with addresses, administratively down",
        [nic("veth1", 1500, "veth", state="down", addresses=("198.18.0.1/24",))],
        None,
        [("veth1", "down")],
    ),
    (
        "VXLAN too big for its IPv4 underlay",
        [nic("eth0", 1500), nic("vx0", 1500, "vxlan", parent="eth0", encap_overhead=50)],
        None,
        [("eth0", "overlay-too-big")],
    ),
    (
        "VXLAN that fits its IPv6 underlay",
        [nic("eth0", 9000), nic("vx0", 8930, "vxlan", parent="eth0", encap_overhead=70)],
        9000,
        [],
    ),
    (
        "switch port fits MTU + 18",
        [nic("eth0", 9000, neighbour=switch("eth0", 9018))],
        9000,
        [],
    ),
    (
        "switch port too small for MTU + 18",
        [nic("eth0", 9000, neighbour=switch("eth0", 1518))],
        None,
        [("eth0", "frame-too-small")],
    ),
    (
        "switch port too small for what the NIC is about to be raised to",
        [nic("eth0", 1500, neighbour=switch("eth0", 1518))],
        9000,
        [("eth0", "below-expected"), ("eth0", "frame-too-small")],
    ),
    (
        "a VLAN rides on the port: tagged frames need MTU + 22",
        [
            nic("eth0", 9000, neighbour=switch("eth0", 9018)),
            nic("eth0.5", 9000, "vlan", parent="eth0", vlan_id=5),
        ],
        None,
        [("eth0", "frame-too-small")],
    ),
    (
        "a VLAN on the bond the port belongs to counts too",
        [
            nic("eth0", 9000, master="bond0", neighbour=switch("eth0", 9018)),
            nic("bond0", 9000, "bond", members=("eth0",)),
            nic("bond0.5", 9000, "vlan", parent="bond0", vlan_id=5),
        ],
        None,
        [("eth0", "frame-too-small")],
    ),
    (
        "switch lists VLANs with a PVID: untagged frames, + 18 is enough",
        [nic("eth0", 9000, neighbour=switch("eth0", 9018, pvid=10, vlans=(10, 20)))],
        None,
        [],
    ),
    (
        "switch lists VLANs without a PVID: everything tagged, + 22",
        [nic("eth0", 9000, neighbour=switch("eth0", 9018, vlans=(10, 20)))],
        None,
        [("eth0", "frame-too-small")],
    ),
    (
        "switch that sends no maximum frame size cannot be judged",
        [nic("eth0", 9000, neighbour=switch("eth0", None))],
        9000,
        [],
    ),
]


@pytest.mark.parametrize(
    ("interfaces", "expect", "expected"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_find_problems(
    interfaces: list[Interface], expect: int | None, expected: list[tuple[str, str]]
) -> None:
    found = nics.find_problems(interfaces, expect)
    assert [(p.interface, p.code) for p in found] == expected


def test_problem_sentences_and_fixes() -> None:
    found = nics.find_problems([nic("eth0", 1500, neighbour=switch("eth0", 1518))], expect=9000)
    assert found == [
        Problem(
            "eth0",
            "below-expected",
            "eth0 MTU 1500 is below the expected 9000",
            "ip link set dev eth0 mtu 9000",
        ),
        Problem(
            "eth0",
            "frame-too-small",
            "eth0 is cabled to switch sw2 port swp3, which advertises a maximum frame "
            "size of 1518 (too small for MTU 9000 + 18)",
            "raise the maximum frame size of switch sw2 port swp3 to at least 9018",
        ),
    ]


def test_tagged_sentence() -> None:
    (problem,) = nics.find_problems(
        [
            nic("eth0", 9000, neighbour=switch("eth0", 9018)),
            nic("eth0.5", 9000, "vlan", parent="eth0", vlan_id=5),
        ]
    )
    assert problem.message.endswith("(too small for tagged MTU 9000 + 22)")
    assert problem.fix.endswith("to at least 9022")


def test_fix_commands() -> None:
    fixes = {
        (p.interface, p.code): p.fix
        for p in nics.find_problems(
            [
                nic("eth0", 1500),
                nic("eth0.100", 9000, "vlan", parent="eth0", vlan_id=100),
                nic("br0", 9000, "bridge", members=("eth1", "eth2")),
                nic("eth1", 9000, master="br0"),
                nic("eth2", 1500, master="br0", state="down"),
                nic("eth3", 1500),
                nic("vx0", 1500, "vxlan", parent="eth3", encap_overhead=50),
            ]
        )
    }
    assert fixes == {
        ("eth0", "above-parent"): "ip link set dev eth0 mtu 9000",
        ("eth2", "member-below-master"): "ip link set dev eth2 mtu 9000",
        ("eth2", "down"): "ip link set dev eth2 up",
        ("eth3", "overlay-too-big"): "ip link set dev eth3 mtu 1550",
    }


def test_members_differ_names_the_larger_ports() -> None:
    (problem,) = nics.find_problems(
        [
            nic("bond0", 1500, "bond", members=("eth1", "eth2")),
            nic("eth1", 9000, master="bond0"),
            nic("eth2", 1500, master="bond0"),
        ]
    )
    assert problem.message == "eth2 MTU 1500 is smaller than the other members of bond0 (eth1 9000)"
    assert problem.fix == "ip link set dev eth2 mtu 9000"


# --------------------------------------------------------------------------
# Facts from ip's JSON (captured in a lab namespace) and psutil


def _lab_links() -> list[dict[str, Any]]:
    links: list[dict[str, Any]] = json.loads((DATA / "ip-link-lab.json").read_text())
    return links


# What psutil said in the same namespace: (isup, speed, mtu).
LAB_STATS = {
    "lo": (True, 0, 65536),
    "peer1": (True, 10000, 9000),
    "eth1": (True, 10000, 9000),
    "peer2": (True, 10000, 1500),
    "eth2": (True, 10000, 1500),
    "br0": (True, 10000, 9000),
    "vx0": (True, 10000, 8950),
    "vx6": (False, 10000, 1430),
    "tun0": (False, 10000, 1500),
    "tap0": (False, 10000, 1500),
    "eth3": (False, 10000, 1500),
}


def _lab_interfaces() -> dict[str, Interface]:
    stats = {k: LinkStats(up, speed or None, mtu) for k, (up, speed, mtu) in LAB_STATS.items()}
    addresses = {"br0": ["198.18.5.1/24", "2001:db8:5::1/64"], "eth3": ["198.18.6.1/24"]}
    built = nics.build_interfaces(_lab_links(), stats, addresses)
    return {i.name: i for i in built}


def test_build_interfaces_from_real_ip_json() -> None:
    got = _lab_interfaces()
    assert {n: i.kind for n, i in got.items()} == {
        "lo": "loopback",
        "peer1": "veth",
        "eth1": "veth",
        "peer2": "veth",
        "eth2": "veth",
        "br0": "bridge",
        "vx0": "vxlan",
        "vx6": "vxlan",
        "tun0": "tun",
        "tap0": "tap",
        "eth3": "veth",
    }
    assert got["br0"].members == ("eth1", "eth2")
    assert got["eth1"].master == "br0" and got["eth1"].parent == "peer1"
    assert got["eth3"].parent is None  # its peer lives in another namespace
    assert (got["vx0"].parent, got["vx0"].encap_overhead) == ("peer1", 50)
    assert (got["vx6"].parent, got["vx6"].encap_overhead) == ("peer2", 70)
    assert got["br0"].addresses == ("198.18.5.1/24", "2001:db8:5::1/64")
    assert got["eth3"].state == "down" and got["br0"].state == "up"
    assert got["eth1"].speed_mbps == 10000 and got["lo"].speed_mbps is None
    assert got["lo"].mac is None and got["tun0"].mac is None
    assert got["eth1"].mac and len(got["eth1"].mac) == 17


def test_problems_of_the_captured_lab() -> None:
    found = nics.find_problems(list(_lab_interfaces().values()), expect=9000)
    assert [(p.interface, p.code) for p in found] == [
        ("eth2", "below-expected"),
        ("eth2", "member-below-master"),
        ("eth3", "down"),
        ("peer2", "below-expected"),
    ]


# VLAN and bond entries in the shape iproute2 prints them (this kernel has
# neither the 8021q nor the bonding module, so these are written by hand).
HAND_LINKS: list[dict[str, Any]] = [
    {"ifname": "eth1", "flags": ["BROADCAST", "MULTICAST", "SLAVE", "UP", "LOWER_UP"],
     "mtu": 9000, "master": "bond0", "link_type": "ether", "address": "52:54:00:00:00:01",
     "linkinfo": {"info_slave_kind": "bond", "info_slave_data": {"state": "ACTIVE"}}},
    {"ifname": "eth2", "flags": ["BROADCAST", "MULTICAST", "SLAVE", "UP", "LOWER_UP"],
     "mtu": 9000, "master": "bond0", "link_type": "ether", "address": "52:54:00:00:00:02",
     "linkinfo": {"info_slave_kind": "bond", "info_slave_data": {"state": "BACKUP"}}},
    {"ifname": "bond0", "flags": ["BROADCAST", "MULTICAST", "MASTER", "UP", "LOWER_UP"],
     "mtu": 9000, "link_type": "ether", "address": "52:54:00:00:00:01",
     "linkinfo": {"info_kind": "bond", "info_data": {"mode": "active-backup"}}},
    {"ifname": "bond0.100", "link": "bond0", "flags": ["BROADCAST", "MULTICAST", "UP",
     "LOWER_UP"], "mtu": 9000, "link_type": "ether", "address": "52:54:00:00:00:01",
     "linkinfo": {"info_kind": "vlan", "info_data": {"protocol": "802.1Q", "id": 100,
                                                     "flags": ["REORDER_HDR"]}}},
]  # fmt: skip


def test_build_interfaces_vlan_and_bond() -> None:
    stats = {
        "eth1": LinkStats(True, 25000, 9000),
        "eth2": LinkStats(True, 25000, 1500),  # psutil wins over ip's number
        "bond0": LinkStats(True, 50000, 9000),
        "bond0.100": LinkStats(True, 50000, 9000),
    }
    got = {i.name: i for i in nics.build_interfaces(HAND_LINKS, stats, {})}
    assert got["eth1"].kind == "physical" and got["eth1"].master == "bond0"
    assert got["bond0"].kind == "bond" and got["bond0"].members == ("eth1", "eth2")
    assert got["bond0.100"].kind == "vlan"
    assert (got["bond0.100"].parent, got["bond0.100"].vlan_id) == ("bond0", 100)
    found = nics.find_problems(list(got.values()), 9000)
    assert [(p.interface, p.code) for p in found] == [
        ("eth2", "below-expected"),
        ("eth2", "member-below-master"),
    ]


def test_state_from_flags_when_psutil_does_not_know() -> None:
    links = [
        {"ifname": "a", "flags": ["UP", "LOWER_UP"], "mtu": 1500, "link_type": "ether"},
        {"ifname": "b", "flags": ["UP", "NO-CARRIER"], "mtu": 1500, "link_type": "ether"},
        {"ifname": "c", "flags": ["BROADCAST"], "mtu": 1500, "link_type": "ether"},
    ]
    got = {i.name: i.state for i in nics.build_interfaces(links, {}, {})}
    assert got == {"a": "up", "b": "no-carrier", "c": "down"}


def test_prefix_from_psutil_netmasks() -> None:
    assert nics._prefix("198.18.0.1", "255.255.254.0") == "198.18.0.1/23"
    assert nics._prefix("2001:db8::1", "ffff:ffff:ffff:ffff::") == "2001:db8::1/64"
    assert nics._prefix("fe80::1%eth0", "ffff:ffff:ffff:ffff::") == "fe80::1/64"
    assert nics._prefix("198.18.0.1", None) == "198.18.0.1"


def test_lower_devices_and_lldp_ports() -> None:
    interfaces = [
        nic("eth1", master="bond0"),
        nic("eth2", master="bond0"),
        nic("bond0", kind="bond", members=("eth1", "eth2")),
        nic("bond0.7", kind="vlan", parent="bond0", vlan_id=7),
        nic("veth0", kind="veth", parent="veth1"),
        nic("veth1", kind="veth", parent="veth0"),
        nic("eth9", state="down"),
    ]
    assert nics.lower_devices(interfaces, "bond0.7") == ["bond0.7", "bond0", "eth1", "eth2"]
    assert nics.lower_devices(interfaces, "veth0") == ["veth0"]  # a peer is not below
    assert nics.lldp_ports(interfaces) == ["eth1", "eth2", "veth0", "veth1"]


def test_local_findings_for_one_stack() -> None:
    interfaces = [
        nic("eth1", 9000, master="bond0", neighbour=switch("eth1", 1518)),
        nic("eth2", 9000, master="bond0", neighbour=replace(switch("eth2", 9216), port_id="swp4")),
        nic("bond0", 9000, "bond", members=("eth1", "eth2")),
        nic("bond0.7", 1500, "vlan", parent="bond0", vlan_id=7),
        nic("eth3", 1500),  # another stack: not mentioned
    ]
    problems, sentences = nics.local_findings(interfaces, "bond0.7", 9000)
    assert [p.code for p in problems] == ["frame-too-small", "below-expected"]
    assert sentences == [
        "eth1 is cabled to switch sw2 port swp3, which advertises a maximum frame size "
        "of 1518 (too small for tagged MTU 9000 + 22)",
        "bond0.7 MTU 1500 is below the expected 9000",
        "eth2 is cabled to switch sw2 port swp4 (swp3), which advertises a maximum frame "
        "size of 9216",
    ]


# --------------------------------------------------------------------------
# gather(): sources of LLDP and notes, with the I/O replaced


@pytest.fixture
def no_lldpd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lldp, "lldpd_neighbours", lambda socket_path=None: None)


def _fail_capture(*args: Any, **kwargs: Any) -> dict[str, Neighbour]:
    raise AssertionError("must not listen")


def test_gather_without_lldpd_and_without_waiting(
    no_lldpd: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lldp, "capture", _fail_capture)
    report = nics.gather(expect=9000, interfaces=[LO, nic("eth0", 1500)])
    assert report.lldp_source == "none"
    assert report.notes == (nics.NO_LLDP_NOTE,)
    assert [p.code for p in report.problems] == ["below-expected"]


def test_gather_listens_on_ports_lldpd_does_not_cover(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        lldp, "lldpd_neighbours", lambda socket_path=None: {"eth0": switch("eth0", 9216)}
    )
    asked: list[tuple[list[str], float]] = []

    def fake_capture(ports: list[str], wait_s: float, **kw: Any) -> dict[str, Neighbour]:
        asked.append((list(ports), wait_s))
        return {"eth1": replace(switch("eth1", 1518), source="capture")}

    monkeypatch.setattr(lldp, "capture", fake_capture)
    report = nics.gather(lldp_wait_s=3, interfaces=[LO, nic("eth0"), nic("eth1"), nic("eth2")])
    assert asked == [(["eth1", "eth2"], 3)]
    assert report.lldp_source == "lldpd+capture"
    assert report.notes == ("no LLDP neighbour heard on eth2",)
    assert [(p.interface, p.code) for p in report.problems] == [("eth1", "frame-too-small")]


def test_gather_without_privilege_notes_it(no_lldpd: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(*args: Any, **kwargs: Any) -> dict[str, Neighbour]:
        raise NoPrivilege("listening for LLDP needs root or CAP_NET_RAW: run with sudo")

    monkeypatch.setattr(lldp, "capture", denied)
    report = nics.gather(lldp_wait_s=1, interfaces=[nic("eth0")])
    assert report.lldp_source == "none"
    assert report.notes == ("no LLDP capture: listening for LLDP needs root or CAP_NET_RAW: "
                            "run with sudo",)  # fmt: skip


def test_gather_selection_shows_the_stack(no_lldpd: None) -> None:
    interfaces = [
        nic("eth1", 1500, master="br0"),
        nic("br0", 1500, "bridge", members=("eth1",)),
        nic("br0.5", 1500, "vlan", parent="br0", vlan_id=5),
        nic("eth7", 1500),
    ]
    report = nics.gather(expect=9000, names=["br0.5"], interfaces=interfaces)
    assert [i.name for i in report.interfaces] == ["eth1", "br0", "br0.5"]
    assert [p.interface for p in report.problems] == ["eth1", "br0", "br0.5"]
    with pytest.raises(UsageError, match="no interface 'nope' here: choose from eth1, br0"):
        nics.gather(names=["nope"], interfaces=interfaces)


# --------------------------------------------------------------------------
# LLDP frames, built with scapy


def _frame(*org_tlvs: Any, ttl: int = 120, system_name: str = "sw2") -> bytes:
    from scapy.contrib.lldp import (
        LLDPDUChassisID,
        LLDPDUEndOfLLDPDU,
        LLDPDUGenericOrganisationSpecific,
        LLDPDUManagementAddress,
        LLDPDUPortDescription,
        LLDPDUPortID,
        LLDPDUSystemName,
        LLDPDUTimeToLive,
    )
    from scapy.layers.l2 import Ether

    org = [
        LLDPDUGenericOrganisationSpecific(org_code=oui, subtype=subtype, data=data)
        for oui, subtype, data in org_tlvs
    ]
    packet = (
        Ether(dst="01:80:c2:00:00:0e", src="2e:f8:4b:13:14:3d", type=0x88CC)
        / LLDPDUChassisID(subtype=4, id="2e:f8:4b:13:14:3d")
        / LLDPDUPortID(subtype=5, id=b"swp3")
        / LLDPDUTimeToLive(ttl=ttl)
        / LLDPDUPortDescription(description=b"uplink to storage")
        / LLDPDUSystemName(system_name=system_name.encode())
        / LLDPDUManagementAddress(
            management_address_subtype=1,
            management_address=bytes([198, 18, 0, 254]),
            interface_numbering_subtype=2,
            interface_number=3,
        )
    )
    for tlv in org:
        packet = packet / tlv
    return bytes(packet / LLDPDUEndOfLLDPDU())


IEEE_8023, IEEE_8021 = 0x00120F, 0x0080C2


def test_parse_frame_reads_the_8023_max_frame_size() -> None:
    frame = _frame(
        (IEEE_8023, 4, struct.pack("!H", 9216)),
        (IEEE_8021, 1, struct.pack("!H", 100)),  # Port VLAN ID
        (IEEE_8021, 3, struct.pack("!HB", 200, 7) + b"vlan200"),  # VLAN Name
        (0x334455, 9, b"\x01\x02\x03"),  # someone else's TLV: ignored
    )
    n = lldp.parse_frame(frame, "eth1")
    assert n == Neighbour(
        interface="eth1",
        source="capture",
        chassis_id="2e:f8:4b:13:14:3d",
        system_name="sw2",
        port_id="swp3",
        port_id_subtype="ifname",
        port_description="uplink to storage",
        pvid=100,
        vlans=(100, 200),
        max_frame_size=9216,
        ttl_s=120,
        management_address="198.18.0.254",
    )
    assert n.switch == "sw2" and n.port == "swp3 (uplink to storage)"
    assert not n.tags_everything


def test_parse_frame_without_optional_tlvs() -> None:
    n = lldp.parse_frame(_frame(system_name=""), "eth1")
    assert n is not None
    assert n.max_frame_size is None and n.pvid is None and n.vlans == ()
    assert n.switch == "2e:f8:4b:13:14:3d"  # no system name: the chassis ID


def test_parse_frame_vlan_name_without_pvid_means_all_tagged() -> None:
    n = lldp.parse_frame(_frame((IEEE_8021, 3, struct.pack("!HB", 20, 0))), "eth1")
    assert n is not None and n.vlans == (20,) and n.tags_everything


def test_parse_frame_with_a_vlan_tag_in_front() -> None:
    plain = _frame((IEEE_8023, 4, struct.pack("!H", 1522)))
    tagged = plain[:12] + struct.pack("!HH", 0x8100, 5) + plain[12:]
    n = lldp.parse_frame(tagged, "eth1")
    assert n is not None and n.max_frame_size == 1522


@pytest.mark.parametrize(
    "mangle",
    [
        lambda f: f[:12] + b"\x08\x00" + f[14:],  # IPv4, not LLDP
        lambda f: f[:20],  # cut inside a TLV
        lambda f: f[:14] + f[23:],  # chassis ID TLV missing
        lambda f: f[:12],  # no EtherType
    ],
    ids=["not-lldp", "truncated", "no-chassis", "empty"],
)
def test_parse_frame_rejects_garbage(mangle: Any) -> None:
    assert lldp.parse_frame(mangle(_frame()), "eth1") is None


def test_tlv_iterator_reads_9_bit_lengths() -> None:
    long_description = b"x" * 300  # longer than 255: needs the 9th length bit
    tlv = struct.pack("!H", (4 << 9) | len(long_description)) + long_description
    assert list(lldp.iter_tlvs(tlv + b"\x00\x00")) == [(4, long_description)]


def test_shutdown_frame_has_ttl_zero() -> None:
    n = lldp.parse_frame(_frame(ttl=0), "eth1")
    assert n is not None and n.ttl_s == 0


# --------------------------------------------------------------------------
# lldpcli JSON, captured from lldpd 1.0.16 in a lab namespace


def _lldpcli(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DATA / name).read_text())
    return document


def test_lldpcli_json_one_port() -> None:
    (n,) = lldp.parse_lldpcli(_lldpcli("lldpcli-one-port.json")).values()
    assert n == Neighbour(
        interface="eth1",
        source="lldpd",
        chassis_id="2e:f8:4b:13:14:3d",
        system_name="sw2",
        port_id="swp1",
        port_id_subtype="ifname",
        port_description="swp1",
        pvid=100,
        vlans=(100,),
        max_frame_size=9000,
        ttl_s=4,
        management_address="fe80::2cf8:4bff:fe13:143d",
    )


@pytest.mark.parametrize("name", ["lldpcli-two-ports.json", "lldpcli-json0-two-ports.json"])
def test_lldpcli_two_ports_in_both_formats(name: str) -> None:
    got = lldp.parse_lldpcli(_lldpcli(name))
    assert sorted(got) == ["eth1", "eth2"]
    assert (got["eth1"].port_id, got["eth1"].max_frame_size, got["eth1"].vlans) == (
        "swp1",
        9000,
        (),
    )
    eth2 = got["eth2"]
    assert (eth2.port_id, eth2.port_description) == ("swp2", "uplink to storage")
    assert (eth2.max_frame_size, eth2.pvid, eth2.vlans) == (1518, 200, (100, 200))
    assert eth2.system_name == "sw2" and eth2.ttl_s == 4


def test_lldpcli_no_neighbours() -> None:
    assert lldp.parse_lldpcli(_lldpcli("lldpcli-empty.json")) == {}
    assert lldp.parse_lldpcli({"lldp": [{}]}) == {}  # json0 shape


def test_lldpcli_without_dot3_support_reads_the_unknown_tlv() -> None:
    document = _lldpcli("lldpcli-one-port.json")
    body = document["lldp"]["interface"]["eth1"]
    del body["port"]["mfs"]
    del body["vlan"]
    body["unknown-tlvs"]["unknown-tlv"] = [
        body["unknown-tlvs"]["unknown-tlv"],
        {"oui": "00,12,0F", "subtype": "4", "len": "2", "value": "23,28"},
        {"oui": "00,80,C2", "subtype": "1", "len": "2", "value": "00,0A"},
    ]
    (n,) = lldp.parse_lldpcli(document).values()
    assert (n.max_frame_size, n.pvid, n.vlans) == (9000, 10, (10,))


def test_lldpd_neighbours_when_lldpd_is_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    monkeypatch.setattr(lldp.shutil, "which", lambda name: "/usr/sbin/lldpcli")

    def refused(command: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        assert command[-4:] == ["json0", "show", "neighbors", "details"]
        assert command[1:3] == ["-u", "/run/x.sock"]
        return subprocess.CompletedProcess(command, 1, "", "unable to connect to socket")

    assert lldp.lldpd_neighbours("/run/x.sock", run=refused) is None
    monkeypatch.setattr(lldp.shutil, "which", lambda name: None)
    assert lldp.lldpd_neighbours() is None


def test_lldpd_neighbours_parses_what_lldpcli_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    monkeypatch.setattr(lldp.shutil, "which", lambda name: "/usr/sbin/lldpcli")
    text = (DATA / "lldpcli-json0-two-ports.json").read_text()

    def ok(command: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 0, text, "")

    got = lldp.lldpd_neighbours(run=ok)
    assert got is not None and got["eth2"].max_frame_size == 1518


def test_capture_with_nothing_to_do_opens_nothing() -> None:
    assert lldp.capture([], 10) == {}
    assert lldp.capture(["eth0"], 0) == {}


# --------------------------------------------------------------------------
# The command


def _run(monkeypatch: pytest.MonkeyPatch, interfaces: list[Interface], *args: str) -> Any:
    from typer.testing import CliRunner

    import jumbopath.cli.local  # noqa: F401  (registers the commands)
    from jumbopath.cli import app

    monkeypatch.setattr(nics, "collect", lambda: interfaces)
    monkeypatch.setattr(lldp, "lldpd_neighbours", lambda socket_path=None: None)
    result = CliRunner().invoke(app, ["nics", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def test_nics_command_json_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    interfaces = [LO, nic("eth0", 1500, speed_mbps=10000, addresses=("198.18.0.1/24",))]
    result = _run(monkeypatch, interfaces, "--json", "--expect", "9000")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["schema"] == 1 and doc["expected_mtu"] == 9000
    assert doc["lldp"] == {"source": "none", "waited_s": 0.0, "notes": [nics.NO_LLDP_NOTE]}
    assert doc["interfaces"][1] == {
        "name": "eth0",
        "kind": "physical",
        "state": "up",
        "mtu": 1500,
        "speed_mbps": 10000,
        "mac": None,
        "addresses": ["198.18.0.1/24"],
        "parent": None,
        "vlan_id": None,
        "members": [],
        "master": None,
        "neighbour": None,
    }
    assert doc["problems"] == [
        {
            "interface": "eth0",
            "code": "below-expected",
            "message": "eth0 MTU 1500 is below the expected 9000",
            "fix": "ip link set dev eth0 mtu 9000",
        }
    ]


def test_nics_command_neighbour_json(monkeypatch: pytest.MonkeyPatch) -> None:
    interfaces = [nic("eth0", 9000, neighbour=switch("eth0", 9216, pvid=10, vlans=(10,)))]
    result = _run(monkeypatch, interfaces, "--json")
    assert result.exit_code == 0
    neighbour = json.loads(result.stdout)["interfaces"][0]["neighbour"]
    assert neighbour == {
        "source": "lldpd",
        "switch": "sw2",
        "chassis_id": "2e:f8:4b:13:14:3d",
        "system_name": "sw2",
        "port_id": "swp3",
        "port_id_subtype": "ifname",
        "port_description": "swp3",
        "pvid": 10,
        "vlans": [10],
        "max_frame_size": 9216,
        "ttl_s": None,
        "management_address": None,
    }


def test_nics_command_table(monkeypatch: pytest.MonkeyPatch) -> None:
    interfaces = [
        nic("br0", 9000, "bridge", members=("eth1", "eth2")),
        nic("eth1", 9000, master="br0", neighbour=switch("eth1", 1518)),
        nic("eth2", 1500, master="br0"),
    ]
    result = _run(monkeypatch, interfaces)
    assert result.exit_code == 1
    out = result.stdout
    assert "ports eth1, eth2" in out and "in br0" in out
    assert "LLDP neighbours" in out and "1518" in out
    assert "fix: ip link set dev eth2 mtu 9000" in out


def test_nics_command_nothing_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    result = _run(monkeypatch, [LO, nic("eth0", 9000)], "--expect", "9000")
    assert result.exit_code == 0
    assert "No problem found (expected MTU 9000)." in result.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--expect", "9k"), "--expect must be a whole number"),
        (("--expect", "20"), "MTU 20 is impossible"),
        (("--lldp-wait", "soon"), "--lldp-wait must be a number of seconds"),
        (("--lldp-wait", "-1"), "--lldp-wait must be between 0 and 300"),
        (("-i", "eth9"), "no interface 'eth9' here: choose from eth0"),
    ],
)
def test_nics_command_bad_input(
    monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], words: str
) -> None:
    with pytest.raises(UsageError, match=words) as caught:
        _run(monkeypatch, [nic("eth0")], *args)
    assert caught.value.exit_code == 2
