"""Header arithmetic against the published header sizes."""

from __future__ import annotations

import dataclasses

import pytest

from jumbopath import sizes
from jumbopath.errors import UsageError

# Published sizes, each from its source, written out independently of the
# module's constants so a wrong constant cannot check itself.
IPV4 = 20  # RFC 791 section 3.1: IHL 5 (no options) = 20 bytes
IPV6 = 40  # RFC 8200 section 3: fixed header
ICMP = 8  # RFC 792: echo: type, code, checksum, identifier, sequence number
ICMPV6 = 8  # RFC 4443 section 4.1: echo request
UDP = 8  # RFC 768
TCP = 20  # RFC 793 section 3.1: data offset 5 (no options)
ETH = 14  # IEEE 802.3 clause 3.1.1: destination 6, source 6, length/type 2
FCS = 4  # IEEE 802.3 clause 3.1.1: 32-bit CRC
TAG = 4  # IEEE 802.1Q clause 9.3: TPID 2 + TCI 2
VXLAN = 8  # RFC 7348 section 5: flags 1, reserved 3, VNI 3, reserved 1
GENEVE = 8  # RFC 8926 section 3.4: base header, no options


def test_header_constants_match_the_standards() -> None:
    assert sizes.IPV4_HEADER == IPV4
    assert sizes.IPV6_HEADER == IPV6
    assert sizes.ICMP_HEADER == ICMP
    assert sizes.ICMPV6_HEADER == ICMPV6
    assert sizes.UDP_HEADER == UDP
    assert sizes.TCP_HEADER == TCP
    assert sizes.ETHERNET_HEADER == ETH
    assert sizes.ETHERNET_FCS == FCS
    assert sizes.DOT1Q_TAG == TAG
    assert sizes.VXLAN_HEADER == VXLAN
    assert sizes.GENEVE_HEADER == GENEVE
    # RFC 7348 section 4.3: the underlay must carry the inner frame plus 50 (IPv4).
    assert sizes.VXLAN_OVERHEAD_V4 == ETH + VXLAN + UDP + IPV4 == 50
    assert sizes.VXLAN_OVERHEAD_V6 == ETH + VXLAN + UDP + IPV6 == 70
    assert sizes.GENEVE_OVERHEAD_V4 == ETH + GENEVE + UDP + IPV4 == 50
    assert sizes.GENEVE_OVERHEAD_V6 == ETH + GENEVE + UDP + IPV6 == 70
    # IEEE 802.3: maxBasicFrameSize 1518, maxQTaggedFrameSize 1522 for MTU 1500.
    assert 1500 + sizes.UNTAGGED_FRAME_OVERHEAD == 1518
    assert 1500 + sizes.TAGGED_FRAME_OVERHEAD == 1522
    assert sizes.MIN_MTU_V4 == 68  # RFC 791
    assert sizes.MIN_MTU_V6 == 1280  # RFC 8200 section 5


# (field, expected value as a function of the MTU, where the rule comes from)
ROWS = [
    ("mtu", lambda m: m, "the IP MTU itself"),
    ("frame", lambda m: m + ETH, "802.3 frame as captured: header, no FCS"),
    ("frame_fcs", lambda m: m + ETH + FCS, "802.3 frame with FCS: 1518 for 1500"),
    ("frame_vlan", lambda m: m + ETH + TAG + FCS, "802.1Q tagged: 1522 for 1500"),
    ("frame_qinq", lambda m: m + ETH + 2 * TAG + FCS, "802.1ad double tagged: 1526"),
    ("windows_jumbo_packet", lambda m: m + ETH, "Windows counts the header: 9014"),
    ("icmp_payload_v4", lambda m: m - IPV4 - ICMP, "ping -s: 8972 for 9000"),
    ("icmp_payload_v6", lambda m: m - IPV6 - ICMPV6, "ping -6 -s: 8952 for 9000"),
    ("tcp_mss_v4", lambda m: m - IPV4 - TCP, "RFC 879 / RFC 9293: MSS = MTU - 40"),
    ("tcp_mss_v6", lambda m: m - IPV6 - TCP, "RFC 8200 section 8.3: MSS = MTU - 60"),
    ("vxlan_underlay_v4", lambda m: m + ETH + VXLAN + UDP + IPV4, "RFC 7348"),
    ("vxlan_underlay_v6", lambda m: m + ETH + VXLAN + UDP + IPV6, "RFC 7348 over IPv6"),
    ("geneve_underlay_v4", lambda m: m + ETH + GENEVE + UDP + IPV4, "RFC 8926"),
    ("geneve_underlay_v6", lambda m: m + ETH + GENEVE + UDP + IPV6, "RFC 8926 over IPv6"),
    ("vxlan_overlay_v4", lambda m: m - ETH - VXLAN - UDP - IPV4, "1450 over 1500"),
    ("vxlan_overlay_v6", lambda m: m - ETH - VXLAN - UDP - IPV6, "1430 over 1500"),
    ("geneve_overlay_v4", lambda m: m - ETH - GENEVE - UDP - IPV4, "1450 over 1500"),
    ("geneve_overlay_v6", lambda m: m - ETH - GENEVE - UDP - IPV6, "1430 over 1500"),
]


@pytest.mark.parametrize("mtu", [1280, 1500, 4470, 9000, 9001, 9216])
@pytest.mark.parametrize(("field", "rule", "source"), ROWS, ids=[r[0] for r in ROWS])
def test_every_row_of_the_table(mtu: int, field: str, rule: object, source: str) -> None:
    assert callable(rule)
    assert getattr(sizes.size_table(mtu), field) == rule(mtu), source


def test_rows_cover_every_field_in_order() -> None:
    names = [f.name for f in dataclasses.fields(sizes.SizeTable)]
    assert names == [row.field for row in sizes.ROWS] == [r[0] for r in ROWS]


def test_the_well_known_numbers() -> None:
    t = sizes.size_table(9000)
    assert (t.frame_fcs, t.frame_vlan, t.windows_jumbo_packet) == (9018, 9022, 9014)
    assert (t.icmp_payload_v4, t.icmp_payload_v6, t.tcp_mss_v4, t.tcp_mss_v6) == (
        8972,
        8952,
        8960,
        8940,
    )
    assert (t.vxlan_underlay_v4, t.vxlan_overlay_v4) == (9050, 8950)
    t = sizes.size_table(1500)
    assert (t.frame_fcs, t.frame_vlan, t.frame_qinq) == (1518, 1522, 1526)
    assert (t.icmp_payload_v4, t.tcp_mss_v4, t.vxlan_overlay_v4) == (1472, 1460, 1450)


@pytest.mark.parametrize(
    ("mtu", "missing"),
    [
        (576, {"icmp_payload_v6", "tcp_mss_v6"}),  # IPv6 needs 1280 (RFC 8200)
        (68, {"icmp_payload_v6", "tcp_mss_v6"} | {f for f in
              ("vxlan_overlay_v4", "vxlan_overlay_v6", "geneve_overlay_v4", "geneve_overlay_v6")}),
        (65535, {"vxlan_underlay_v4", "vxlan_underlay_v6", "geneve_underlay_v4",
                 "geneve_underlay_v6"}),
    ],
)  # fmt: skip
def test_numbers_that_cannot_exist_are_none(mtu: int, missing: set[str]) -> None:
    table = sizes.size_table(mtu)
    none = {f.name for f in dataclasses.fields(table) if getattr(table, f.name) is None}
    assert none == missing


@pytest.mark.parametrize("mtu", [67, 0, -1, 65536, 100000])
def test_size_table_refuses_impossible_mtus(mtu: int) -> None:
    with pytest.raises(UsageError, match="68"):
        sizes.size_table(mtu)


@pytest.mark.parametrize("kind", sizes.FROM_KINDS)
@pytest.mark.parametrize("mtu", [68, 576, 1280, 1500, 9000, 9216, 65535])
def test_round_trip_for_every_from_kind(kind: str, mtu: int) -> None:
    value = sizes.size_table(mtu).value(kind)
    if value is None:
        return  # the number does not exist for this MTU (see the test above)
    assert sizes.parse_from(kind, value) == mtu


@pytest.mark.parametrize(
    ("kind", "value", "mtu"),
    [
        ("windows", 9014, 9000),
        ("ping", 8972, 9000),
        ("ping6", 8952, 9000),
        ("frame", 1514, 1500),
        ("frame-fcs", 1518, 1500),
        ("vlan", 1522, 1500),
        ("qinq", 1526, 1500),
        ("mss", 1460, 1500),
        ("mss6", 1440, 1500),
        ("vxlan-underlay", 9050, 9000),
        ("vxlan-overlay", 8950, 9000),
        ("geneve6-overlay", 8930, 9000),
        # aliases and spelling
        ("icmp", 1472, 1500),
        ("Windows", 9014, 9000),
        ("frame_fcs", 9018, 9000),
        ("vxlan", 1550, 1500),
        ("jumbo-packet", 9014, 9000),
    ],
)
def test_parse_from_examples(kind: str, value: int, mtu: int) -> None:
    assert sizes.parse_from(kind, value) == mtu


@pytest.mark.parametrize(
    ("kind", "value", "words"),
    [
        ("bogus", 9000, "unknown --from kind 'bogus': use one of mtu, frame"),
        ("windows", 50, "windows goes from 82 to 65549"),
        ("ping", 40000000, "ping goes from 40 to 65507"),
        ("ping6", 100, "an IPv6 MTU is 1280 to 65535, RFC 8200"),
        ("mss6", 1000, "mss6 goes from 1220"),
        ("mtu", 67, "mtu goes from 68 to 65535"),
        ("mtu", 65536, "mtu goes from 68 to 65535"),
        ("vxlan-underlay", 100, "vxlan-underlay goes from 118 to 65535"),
        ("vxlan-underlay", 65536, "vxlan-underlay goes from 118 to 65535"),
        ("vxlan-overlay", 65500, "vxlan-overlay goes from 68 to 65485"),
    ],
)
def test_parse_from_refuses_bad_input(kind: str, value: int, words: str) -> None:
    with pytest.raises(UsageError, match=words.replace("(", r"\(")) as caught:
        sizes.parse_from(kind, value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("kind", sizes.FROM_KINDS)
def test_from_range_ends_are_accepted_and_beyond_refused(kind: str) -> None:
    low, high = sizes.from_range(kind)
    sizes.parse_from(kind, low)
    sizes.parse_from(kind, high)
    for outside in (low - 1, high + 1):
        with pytest.raises(UsageError):
            sizes.parse_from(kind, outside)


def test_icmp_payload_and_back() -> None:
    assert sizes.icmp_payload(9000, 4) == 8972
    assert sizes.icmp_payload(9000, 6) == 8952
    assert sizes.icmp_payload(1500, 4) == 1472
    assert sizes.mtu_from_payload(8972, 4) == 9000
    assert sizes.mtu_from_payload(8952, 6) == 9000
    with pytest.raises(ValueError):
        sizes.icmp_payload(9000, 5)


def test_windows_jumbo_packet_and_back() -> None:
    assert sizes.windows_jumbo_packet(9000) == 9014
    assert sizes.windows_jumbo_packet(1500) == 1514
    assert sizes.mtu_from_windows_jumbo_packet(9014) == 9000


def test_reproduce_commands_ipv4() -> None:
    assert sizes.reproduce_commands("198.18.0.2", 9000, 4) == [
        ("Linux", "ping -M do -s 8972 -c 3 198.18.0.2"),
        ("Windows", "ping -f -l 8972 198.18.0.2"),
        ("ESXi", "vmkping -d -s 8972 198.18.0.2"),
        ("macOS", "ping -D -s 8972 -c 3 198.18.0.2"),
    ]


def test_reproduce_commands_ipv6() -> None:
    assert sizes.reproduce_commands("2001:db8::2", 9000, 6) == [
        ("Linux", "ping -6 -M do -s 8952 -c 3 2001:db8::2"),
        ("Windows", "ping -6 -l 8952 2001:db8::2"),
        ("ESXi", "vmkping -6 -d -s 8952 2001:db8::2"),
        ("macOS", "ping6 -m -D -s 8952 -c 3 2001:db8::2"),
    ]


def test_arithmetic_line() -> None:
    assert sizes.arithmetic_line(9000) == (
        'MTU 9000 = Windows "Jumbo Packet" 9014 = ICMP payload 8972 (IPv4) / 8952 (IPv6)'
    )
    assert sizes.arithmetic_line(576) == (
        'MTU 576 = Windows "Jumbo Packet" 590 = ICMP payload 548 (IPv4)'
    )


def test_plateaus() -> None:
    p = sizes.PLATEAUS
    assert list(p) == sorted(p, reverse=True) and len(set(p)) == len(p)
    # RFC 1191 section 7 entries still in use today
    assert {4352, 1500, 1492, 1006, 296, 68} <= set(p)
    assert {9216, 9001, 9000, 8950, 1280, 576} <= set(p)
    assert all(sizes.MIN_MTU_V4 <= x <= sizes.MAX_MTU for x in p)
    assert sizes.next_plateau_below(9000) == 8950
    assert sizes.next_plateau_below(1501) == 1500
    assert sizes.next_plateau_below(1500) == 1492
    assert sizes.next_plateau_below(68) is None


def test_canonical_kind() -> None:
    assert sizes.canonical_kind("icmp") == "ping"
    assert sizes.canonical_kind(" MTU ") == "mtu"
    with pytest.raises(UsageError):
        sizes.canonical_kind("nope")


# --------------------------------------------------------------------------
# The command


def _run(*args: str) -> tuple[int, str, str]:
    from typer.testing import CliRunner

    import jumbopath.cli.local  # noqa: F401  (registers the commands)
    from jumbopath.cli import app

    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_sizes_command_table() -> None:
    code, out, _ = _run("sizes", "9000")
    assert code == 0
    for text in ("9014", "9018", "9022", "8972", "8952", "8960", "9050", "8950"):
        assert text in out
    assert "ping -M do -s 8972 -c 3 TARGET" in out
    assert 'MTU 9000 = Windows "Jumbo Packet" 9014' in out


def test_sizes_command_json_from_windows() -> None:
    import json

    code, out, _ = _run("sizes", "--from", "windows", "9014", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["schema"] == 1 and doc["mtu"] == 9000
    assert doc["from"] == {"kind": "windows", "value": 9014}
    assert doc["sizes"]["ping"] == 8972 and doc["sizes"]["frame-fcs"] == 9018
    assert set(doc["sizes"]) == set(sizes.FROM_KINDS)
    assert doc["commands"]["6"][0]["command"] == "ping -6 -M do -s 8952 -c 3 TARGET"


def test_sizes_command_from_ping() -> None:
    code, out, _ = _run("sizes", "--from", "ping", "8972", "--json")
    assert code == 0 and '"mtu": 9000' in out


@pytest.mark.parametrize(
    "args",
    [("sizes", "abc"), ("sizes", "20"), ("sizes", "--from", "nope", "1"), ("sizes",),
     ("sizes", "--from", "ping6", "100")],
)  # fmt: skip
def test_sizes_command_bad_input_is_a_usage_error(args: tuple[str, ...]) -> None:
    with pytest.raises(UsageError) as caught:
        _run(*args)
    assert caught.value.exit_code == 2
    assert "\n" not in str(caught.value)
