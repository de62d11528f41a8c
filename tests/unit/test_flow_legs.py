"""The legs out of this host flows take: netlink route messages, the probe headers
sent to a leg's next hop, the grouping by leg, and the legs named in a check."""

from __future__ import annotations

import json
import socket
import struct

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from scapy.layers.inet import IP, TCP
from scapy.layers.inet6 import IPv6

from jumbopath.environment import SimulatedEnvironment
from jumbopath.flows import group_legs
from jumbopath.model import Cause, FlowLeg, Flows, Leg, Protocol, Status
from jumbopath.pipeline import CheckConfig, check
from jumbopath.probers import legs
from jumbopath.probers.simulated import SimPath, SimRouter, SimSegment
from jumbopath.render.json import render_json
from jumbopath.render.text import render_check
from jumbopath.schema import result_from_dict


def attr(kind: int, value: bytes) -> bytes:
    size = 4 + len(value)
    return (struct.pack("=HH", size, kind) + value).ljust((size + 3) & ~3, b"\0")


def answer(seq: int, family: int, *attrs: bytes, kind: int = legs.RTM_NEWROUTE) -> bytes:
    af = socket.AF_INET if family == 4 else socket.AF_INET6
    body = struct.pack("=BBBBBBBBI", af, 32 if family == 4 else 128, 0, 0, 254, 0, 0, 1, 0)
    body += b"".join(attrs)
    return struct.pack("=IHHII", 16 + len(body), kind, 0, seq, 0) + body


def test_a_route_answer_gives_interface_next_hop_and_source() -> None:
    data = answer(
        7,
        4,
        attr(legs.RTA_DST, socket.inet_aton("198.18.3.3")),
        attr(legs.RTA_OIF, struct.pack("=I", 12)),
        attr(legs.RTA_GATEWAY, socket.inet_aton("198.18.2.2")),
        attr(legs.RTA_PREFSRC, socket.inet_aton("198.18.2.1")),
    )
    assert legs.parse(4, data, 7) == legs.Route(12, "198.18.2.2", "198.18.2.1")
    assert legs.parse(4, data, 8) is None  # another lookup's answer
    assert legs.parse(6, data, 7) is None  # another family
    gw6 = socket.inet_pton(socket.AF_INET6, "fe80::2")
    on_link = answer(3, 6, attr(legs.RTA_OIF, struct.pack("=I", 3)), attr(legs.RTA_GATEWAY, gw6))
    assert legs.parse(6, on_link, 3) == legs.Route(3, "fe80::2", None)
    via6 = struct.pack("=H", socket.AF_INET6) + gw6  # RFC 5549: IPv4 via an IPv6 next hop
    rfc5549 = answer(4, 4, attr(legs.RTA_OIF, struct.pack("=I", 3)), attr(legs.RTA_VIA, via6))
    assert legs.parse(4, rfc5549, 4) == legs.Route(3, "fe80::2", None, foreign_gateway=True)
    error = struct.pack("=IHHIIi", 20, legs.NLMSG_ERROR, 0, 7, 0, -101)
    assert legs.parse(4, error, 7) is None


def test_a_lookup_carries_the_flow_ports_only_when_given() -> None:
    def kinds(message: bytes) -> dict[int, bytes]:
        out, at = {}, 16 + 12
        while at < len(message):
            size, kind = struct.unpack_from("=HH", message, at)
            out[kind] = message[at + 4 : at + size]
            at += (size + 3) & ~3
        return out

    flow = kinds(legs.request(4, "198.18.3.3", socket.IPPROTO_TCP, 50001, 33435, 1))
    assert flow[legs.RTA_SPORT] == struct.pack("!H", 50001)
    assert flow[legs.RTA_DPORT] == struct.pack("!H", 33435)
    assert flow[legs.RTA_IP_PROTO] == bytes([socket.IPPROTO_TCP])
    raw = kinds(legs.request(6, "2001:db8:3::3", socket.IPPROTO_TCP, 0, 0, 2, oif=5))
    assert legs.RTA_SPORT not in raw and raw[legs.RTA_OIF] == struct.pack("=I", 5)
    assert raw[legs.RTA_DST] == socket.inet_pton(socket.AF_INET6, "2001:db8:3::3")


@given(st.binary(max_size=300), st.integers(0, 2**32 - 1), st.sampled_from([4, 6]))
def test_hostile_netlink_bytes_never_raise(data: bytes, seq: int, family: int) -> None:
    found = legs.parse(family, data, seq)
    assert found is None or isinstance(found, legs.Route)


def test_a_probe_headed_for_a_leg_has_valid_headers_and_checksum() -> None:
    """The IP header and TCP checksum the raw prober builds for a flow sent to its
    leg's next hop, checked by scapy's own parser (DF set, checksum recomputed)."""
    for family, src, dst in ((4, "198.18.2.1", "198.18.3.3"), (6, "2001:db8:2::1", "2001:db8::3")):
        tcp = bytes(TCP(sport=50001, dport=33435, flags="S", seq=9, chksum=0)) + bytes(100)
        pseudo = legs.pseudo_header(family, src, dst, socket.IPPROTO_TCP, len(tcp))
        csum = _checksum(pseudo + tcp)
        tcp = tcp[:16] + struct.pack("!H", csum) + tcp[18:]
        packet = legs.ip_header(family, src, dst, socket.IPPROTO_TCP, len(tcp), 3) + tcp
        parsed = IP(packet) if family == 4 else IPv6(packet)
        assert (parsed.src, parsed.dst) == (src, dst)
        if family == 4:
            assert parsed.flags == "DF" and parsed.ttl == 3 and parsed.len == len(packet)
        else:
            assert parsed.hlim == 3 and parsed.plen == len(tcp)
        seg = parsed[TCP]
        sent = seg.chksum
        del seg.chksum
        rebuilt = IP(bytes(parsed)) if family == 4 else IPv6(bytes(parsed))
        assert rebuilt[TCP].chksum == sent


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def test_flows_are_counted_by_leg_in_order_of_first_use() -> None:
    a, b = Leg("eth0", "198.18.1.2"), Leg("eth1", "198.18.2.2")
    flows = Flows(Protocol.TCP, None, 9000, passing=(1, 3), failing=(2, 4, 5), unknown=(6, 7))
    grouped = group_legs(flows, {1: a, 2: b, 3: a, 4: b, 5: b, 6: a, 7: None})
    assert grouped == (FlowLeg(a, 2, 0, 1), FlowLeg(b, 0, 3, 0))
    assert group_legs(flows, {}) == ()


def test_a_check_names_the_leg_the_failing_flows_leave_by() -> None:
    """A host with two legs (simulated: each flow takes one by its source port), the
    second's first segment at 1500: the flows are split by leg, the bad one named."""
    dst = "198.18.9.9"
    good = SimPath((SimSegment(), SimSegment()), (SimRouter("198.18.1.2"),))
    bad = SimPath((SimSegment(l2_mtu=1500), SimSegment()), (SimRouter("198.18.2.2"),))
    env = SimulatedEnvironment({dst: SimPath((SimSegment(),), (), legs=(good, bad))})
    report = check(CheckConfig((dst,), expect=9000), env)
    (r,) = report.results
    assert (r.status, r.cause, r.path_mtu) == (Status.BELOW, Cause.PARTIAL_FLOWS, 1500)
    assert r.flows is not None
    by_leg = {(g.leg.interface, g.leg.next_hop): (g.passing, g.failing) for g in r.flows.legs}
    assert set(by_leg) == {("leg0", "198.18.1.2"), ("leg1", "198.18.2.2")}
    assert by_leg[("leg0", "198.18.1.2")][1] == 0 and by_leg[("leg1", "198.18.2.2")][0] == 0
    assert sum(p + f for p, f in by_leg.values()) == 32
    # The JSON names them and reads back into the same model.
    (doc,) = json.loads(render_json(report))["results"]
    bad_legs = [g for g in doc["flows"]["legs"] if g["failing"] and not g["passing"]]
    assert [(g["interface"], g["next_hop"]) for g in bad_legs] == [("leg1", "198.18.2.2")]
    assert result_from_dict(doc).flows == r.flows
    # The text names the bad leg beside the failing ports.
    console = Console(width=400, record=True)
    console.print(render_check(report))
    flows_line = next(line for line in console.export_text().splitlines() if "flows:" in line)
    assert "leg1" in flows_line and "198.18.2.2" in flows_line


def test_the_kernel_answers_a_flow_lookup_for_loopback() -> None:
    """The real kernel parses our message (no root needed, no packet sent): loopback
    is on ``lo``, with no next hop and itself as the source."""
    lookup = legs.RouteLookup()
    try:
        found = lookup.route(4, "127.0.0.1", socket.IPPROTO_TCP, 50000, 33435)
        assert found is not None
        assert (legs.interface_name(found.ifindex), found.gateway) == ("lo", None)
        assert found.source == "127.0.0.1"
        again = lookup.route(4, "127.0.0.2", socket.IPPROTO_UDP)  # the same socket, again
        assert again is not None and again.ifindex == found.ifindex
    finally:
        lookup.close()
