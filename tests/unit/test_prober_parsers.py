"""The probers' parsers and matching, fed crafted bytes: no root, no sockets opened.

Every packet here is built by hand with ``struct`` in the layout the kernel
hands to a raw socket (IPv4: with its IP header; IPv6: the ICMPv6 message
alone) or queues on a ping socket's error queue (``IP_RECVERR``). RFC 5927:
an ICMP error is believed only when it quotes one of our probes, including
this run's nonce whenever the quote is long enough to hold it.
"""

from __future__ import annotations

import socket
import struct

import pytest

from jumbopath.model import (
    Answer,
    Protocol,
    Reply,
    TimeExceeded,
    TooBig,
    Unreach,
    Unreachable,
)
from jumbopath.probers import pingsocket
from jumbopath.probers.base import Target
from jumbopath.probers.icmp import IP_RECVERR, IPV6_RECVERR
from jumbopath.probers.raw import NONCE_LEN, RawProber, _Sent

SRC4, DST4, ROUTER4 = "198.18.0.1", "198.19.0.2", "198.18.0.254"
SRC6, DST6, ROUTER6 = "2001:db8::1", "2001:db8:1::2", "2001:db8::fe"
ID, SEQ, SIZE = 0x1234, 7, 9000
AT = 100.0  # when the answer "arrived" (prober clock)
SENT_AT = 99.99  # when the probe left: 10 ms earlier


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def ip4(src: str, dst: str, payload: bytes, *, total: int | None = None, proto: int = 1) -> bytes:
    length = 20 + len(payload) if total is None else total
    head = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        length,
        0,
        0x4000,  # DF
        64,
        proto,
        0,
        socket.inet_aton(src),
        socket.inet_aton(dst),
    )
    head = head[:10] + struct.pack("!H", csum(head)) + head[12:]
    return head + payload


def icmp(kind: int, code: int, rest: bytes, body: bytes) -> bytes:
    msg = struct.pack("!BBH", kind, code, 0) + rest + body
    return msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]


def echo(kind: int, ident: int, seq: int, payload: bytes) -> bytes:
    return icmp(kind, 0, struct.pack("!HH", ident, seq), payload)


def ip6_header(src: str, dst: str, plen: int, nxt: int = 58) -> bytes:
    return struct.pack(
        "!IHBB16s16s",
        6 << 28,
        plen,
        nxt,
        64,
        socket.inet_pton(socket.AF_INET6, src),
        socket.inet_pton(socket.AF_INET6, dst),
    )


# ----------------------------------------------------------------- raw prober


def raw_prober(family: int) -> tuple[RawProber, _Sent]:
    """A raw prober (no socket is opened until it sends) that sent one echo probe."""
    prober = RawProber()
    dst = DST4 if family == 4 else DST6
    sent = _Sent(1, Target(dst, dst, family), ID, SEQ, SIZE, SENT_AT)
    prober._register(sent)
    return prober, sent


def quoted_probe4(prober: RawProber, *, nonce: bytes | None = None, body: int = 64) -> bytes:
    """Our IPv4 echo request as a router quotes it (IP header, ICMP header, payload)."""
    payload = ((prober.nonce if nonce is None else nonce) + bytes(body))[:body]
    return ip4(SRC4, DST4, echo(8, ID, SEQ, payload), total=SIZE)


def frag_needed(quote: bytes, mtu: int = 1500) -> bytes:
    return ip4(ROUTER4, SRC4, icmp(3, 4, struct.pack("!HH", 0, mtu), quote))


def error6(kind: int, code: int, rest: bytes, quote: bytes) -> bytes:
    return icmp(kind, code, rest, quote)  # checksum does not matter to the parser


def quoted_probe6(prober: RawProber, *, nonce: bytes | None = None, body: int = 64) -> bytes:
    payload = ((prober.nonce if nonce is None else nonce) + bytes(body))[:body]
    return ip6_header(SRC6, DST6, SIZE - 40) + echo(128, ID, SEQ, payload)


def test_echo_reply4_with_our_nonce_is_a_reply_with_its_rtt() -> None:
    prober, _ = raw_prober(4)
    packet = ip4(DST4, SRC4, echo(0, ID, SEQ, prober.nonce + bytes(32)))
    assert prober._parse4(packet, AT) == (1, Reply(10.0))
    assert prober._echo_reply(4, packet, DST4, AT) == (1, Reply(10.0))


@pytest.mark.parametrize(
    ("ident", "seq", "src", "nonce_ok"),
    [
        (ID + 1, SEQ, DST4, True),  # another id
        (ID, SEQ + 1, DST4, True),  # another sequence
        (ID, SEQ, "198.19.0.3", True),  # another source
        (ID, SEQ, DST4, False),  # our id and sequence, but not this run's nonce
    ],
)
def test_echo_reply4_not_ours_is_ignored(ident: int, seq: int, src: str, nonce_ok: bool) -> None:
    prober, _ = raw_prober(4)
    nonce = prober.nonce if nonce_ok else bytes(NONCE_LEN)
    packet = ip4(src, SRC4, echo(0, ident, seq, nonce + bytes(32)))
    assert prober._parse4(packet, AT) is None
    assert prober._echo_reply(4, packet, src, AT) is None


def test_echo_reply4_shorter_than_the_nonce_is_ignored() -> None:
    prober, _ = raw_prober(4)
    assert prober._parse4(ip4(DST4, SRC4, echo(0, ID, SEQ, prober.nonce[:4])), AT) is None


def test_frag_needed_quoting_our_probe_is_too_big_from_the_router() -> None:
    prober, _ = raw_prober(4)
    assert prober._parse4(frag_needed(quoted_probe4(prober)), AT) == (
        1,
        TooBig(1500, ROUTER4, 10.0),
    )


def test_frag_needed_with_our_id_and_sequence_but_a_wrong_nonce_is_ignored_and_counted() -> None:
    prober, sent = raw_prober(4)
    forged = frag_needed(quoted_probe4(prober, nonce=b"\xaa" * NONCE_LEN), mtu=576)
    assert prober._parse4(forged, AT) is None
    assert prober.ignored(sent.target) == 1


def test_frag_needed_quoting_too_little_to_hold_the_nonce_is_believed() -> None:
    """RFC 792 routers quote 8 bytes past the IP header: id and sequence, no nonce."""
    prober, _ = raw_prober(4)
    quote = quoted_probe4(prober, body=0)
    assert prober._parse4(frag_needed(quote, mtu=1400), AT) == (1, TooBig(1400, ROUTER4, 10.0))


def test_frag_needed_with_mtu_zero_assumes_the_next_plateau_down() -> None:
    """RFC 1191 section 5: an old router reports 0; 9000 falls to the 8166 plateau."""
    prober, _ = raw_prober(4)
    found = prober._parse4(frag_needed(quoted_probe4(prober), mtu=0), AT)
    assert found is not None and isinstance(found[1], TooBig)
    assert found[1].mtu < SIZE and found[1].mtu >= 1500


def test_frag_needed_claiming_an_mtu_not_below_the_probe_is_ignored() -> None:
    prober, sent = raw_prober(4)
    assert prober._parse4(frag_needed(quoted_probe4(prober), mtu=SIZE), AT) is None
    assert prober.ignored(sent.target) == 1


@pytest.mark.parametrize(
    "quote",
    [
        b"",  # nothing quoted
        b"\x45\x00",  # a quote cut inside the IP header
        ip4(SRC4, DST4, b"", total=SIZE),  # the IP header alone: no ICMP header
    ],
)
def test_errors_with_truncated_quotes_are_not_believed(quote: bytes) -> None:
    prober, _ = raw_prober(4)
    assert prober._parse4(frag_needed(quote), AT) is None


def test_error_quoting_someone_elses_echo_request_is_ignored() -> None:
    prober, _ = raw_prober(4)
    other = ip4(SRC4, DST4, echo(8, ID, SEQ + 100, prober.nonce), total=SIZE)
    assert prober._parse4(frag_needed(other), AT) is None


def test_time_exceeded4_names_the_hop() -> None:
    prober, _ = raw_prober(4)
    packet = ip4(ROUTER4, SRC4, icmp(11, 0, bytes(4), quoted_probe4(prober)))
    assert prober._parse4(packet, AT) == (1, TimeExceeded(ROUTER4, 10.0))


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (0, Unreach.NETWORK),
        (1, Unreach.HOST),
        (3, Unreach.PORT),
        (10, Unreach.PROHIBITED),
        (13, Unreach.PROHIBITED),
        (8, Unreach.OTHER),  # not in the table
    ],
)
def test_unreachable4_codes(code: int, reason: Unreach) -> None:
    prober, _ = raw_prober(4)
    packet = ip4(ROUTER4, SRC4, icmp(3, code, bytes(4), quoted_probe4(prober)))
    assert prober._parse4(packet, AT) == (1, Unreachable(reason, ROUTER4))


def test_other_icmp4_types_are_not_outcomes() -> None:
    prober, _ = raw_prober(4)
    redirect = ip4(ROUTER4, SRC4, icmp(5, 1, socket.inet_aton(ROUTER4), quoted_probe4(prober)))
    assert prober._parse4(redirect, AT) is None
    assert prober._parse4(b"\x45", AT) is None  # malformed: never a traceback


def test_echo_reply6_with_our_nonce_is_a_reply() -> None:
    prober, _ = raw_prober(6)
    packet = echo(129, ID, SEQ, prober.nonce + bytes(32))
    assert prober._parse6(packet, DST6, AT) == (1, Reply(10.0))
    assert prober._echo_reply(6, packet, DST6, AT) == (1, Reply(10.0))
    wrong = echo(129, ID, SEQ, bytes(NONCE_LEN + 32))
    assert prober._parse6(wrong, DST6, AT) is None
    assert prober._echo_reply(6, wrong, DST6, AT) is None


def test_packet_too_big6_quoting_our_probe_is_too_big() -> None:
    prober, _ = raw_prober(6)
    ptb = error6(2, 0, struct.pack("!I", 1500), quoted_probe6(prober))
    assert prober._parse6(ptb, ROUTER6, AT) == (1, TooBig(1500, ROUTER6, 10.0))


def test_packet_too_big6_with_a_wrong_nonce_or_an_impossible_mtu_is_ignored() -> None:
    prober, sent = raw_prober(6)
    forged = error6(2, 0, struct.pack("!I", 1500), quoted_probe6(prober, nonce=bytes(NONCE_LEN)))
    assert prober._parse6(forged, ROUTER6, AT) is None
    below_minimum = error6(2, 0, struct.pack("!I", 1000), quoted_probe6(prober))
    assert prober._parse6(below_minimum, ROUTER6, AT) is None  # RFC 8200: never below 1280
    not_smaller = error6(2, 0, struct.pack("!I", SIZE), quoted_probe6(prober))
    assert prober._parse6(not_smaller, ROUTER6, AT) is None
    assert prober.ignored(sent.target) == 3


def test_packet_too_big6_with_a_truncated_quote_is_not_believed() -> None:
    prober, _ = raw_prober(6)
    header_only = ip6_header(SRC6, DST6, SIZE - 40)
    assert prober._parse6(error6(2, 0, struct.pack("!I", 1500), header_only), ROUTER6, AT) is None
    assert prober._parse6(error6(2, 0, struct.pack("!I", 1500), b""), ROUTER6, AT) is None


def test_time_exceeded6_and_unreachable6_codes() -> None:
    prober, _ = raw_prober(6)
    hop = error6(3, 0, bytes(4), quoted_probe6(prober))
    assert prober._parse6(hop, f"{ROUTER6}%eth0", AT) == (1, TimeExceeded(ROUTER6, 10.0))
    for code, reason in [(0, Unreach.NO_ROUTE), (1, Unreach.PROHIBITED), (3, Unreach.ADDRESS)]:
        unreach = error6(1, code, bytes(4), quoted_probe6(prober))
        assert prober._parse6(unreach, ROUTER6, AT) == (1, Unreachable(reason, ROUTER6))


def test_match_needs_family_address_id_sequence_and_the_nonce_when_quoted() -> None:
    prober, sent = raw_prober(4)
    assert prober._match(4, DST4, ID, SEQ, None) is sent  # nothing quoted past the header
    assert prober._match(4, DST4, ID, SEQ, prober.nonce) is sent
    assert prober._match(4, DST4, ID, SEQ, prober.nonce[:3]) is sent  # too short to check
    assert prober._match(4, DST4, ID, SEQ, b"\x01" * NONCE_LEN) is None
    assert prober._match(6, DST4, ID, SEQ, prober.nonce) is None
    assert prober._match(4, DST4, ID ^ 1, SEQ, prober.nonce) is None
    assert prober._match(4, DST4, ID, SEQ ^ 1, prober.nonce) is None


# ---------------------------------------------------------- ping-socket prober


def ping_prober(
    family: int, protocol: Protocol = Protocol.ICMP
) -> tuple[pingsocket.PingSocketProber, pingsocket._Sent]:
    """A ping-socket prober that sent one probe (registered as ``send`` would)."""
    prober = pingsocket.PingSocketProber()
    dst = DST4 if family == 4 else DST6
    sent = pingsocket._Sent(1, Target(dst, dst, family), SIZE, SENT_AT, protocol)
    if protocol is Protocol.ICMP:
        prober._echo[(family, dst, SEQ)] = sent
    else:
        prober._flows[(family, dst, 40000, 33434)] = {77: sent}
    return prober, sent


def ext_err(family: int, origin: int, kind: int, code: int, info: int, offender: str) -> bytes:
    """``struct sock_extended_err`` and the offender's sockaddr (SO_EE_OFFENDER)."""
    head = struct.pack("=IBBBBII", 90, origin, kind, code, 0, info, 0)
    if family == 4:
        addr = struct.pack("=HH4s8x", socket.AF_INET, 0, socket.inet_aton(offender))
    else:
        raw = socket.inet_pton(socket.AF_INET6, offender)
        addr = struct.pack("=HHI16sI", socket.AF_INET6, 0, 0, raw, 0)
    return head + addr


def queued(
    family: int, kind: int, code: int, info: int = 0, offender: str | None = None
) -> list[tuple[int, int, bytes]]:
    origin = pingsocket.SO_EE_ORIGIN_ICMP if family == 4 else pingsocket.SO_EE_ORIGIN_ICMP6
    level = (socket.IPPROTO_IP, IP_RECVERR) if family == 4 else (socket.IPPROTO_IPV6, IPV6_RECVERR)
    who = offender or (ROUTER4 if family == 4 else ROUTER6)
    return [(*level, ext_err(family, origin, kind, code, info, who))]


def queued_echo(
    prober: pingsocket.PingSocketProber, family: int, nonce: bytes | None = None
) -> bytes:
    """The queued data of an echo error: our echo request (the kernel's id), then the nonce."""
    request = pingsocket.ECHO_REQUEST[family]
    return struct.pack("!BBHHH", request, 0, 0, 999, SEQ) + (nonce or prober.nonce) + bytes(16)


def test_ping_socket_echo_reply_needs_sequence_source_and_nonce() -> None:
    for family, dst in ((4, DST4), (6, DST6)):
        reply = pingsocket.ECHO_REPLY[family]
        prober, _ = ping_prober(family)
        wrong = struct.pack("!BBHHH", reply, 0, 0, 999, SEQ) + bytes(NONCE_LEN + 8)
        assert prober._reply(family, wrong, dst, AT) is None
        other = struct.pack("!BBHHH", reply, 0, 0, 999, SEQ + 1) + prober.nonce
        assert prober._reply(family, other, dst, AT) is None
        good = struct.pack("!BBHHH", reply, 0, 0, 999, SEQ) + prober.nonce + bytes(8)
        assert prober._reply(family, good, "198.19.9.9", AT) is None
        assert prober._reply(family, good, dst, AT) == (1, Reply(10.0))
        assert prober._reply(family, good, dst, AT) is None  # settled once


@pytest.mark.parametrize(
    ("family", "kind", "code", "info", "outcome"),
    [
        (4, 3, 4, 1500, TooBig(1500, ROUTER4, 10.0)),
        (4, 11, 0, 0, TimeExceeded(ROUTER4, 10.0)),
        (4, 3, 1, 0, Unreachable(Unreach.HOST, ROUTER4)),
        (4, 3, 13, 0, Unreachable(Unreach.PROHIBITED, ROUTER4)),
        (4, 3, 4, SIZE, None),  # an MTU not below the probe: not believed
        (6, 2, 0, 1500, TooBig(1500, ROUTER6, 10.0)),
        (6, 2, 0, 1000, None),  # below the IPv6 minimum: not believed
        (6, 3, 0, 0, TimeExceeded(ROUTER6, 10.0)),
        (6, 1, 0, 0, Unreachable(Unreach.NO_ROUTE, ROUTER6)),
        (6, 1, 1, 0, Unreachable(Unreach.PROHIBITED, ROUTER6)),
    ],
)
def test_ping_socket_errors_quoting_our_echo(
    family: int, kind: int, code: int, info: int, outcome: object
) -> None:
    prober, sent = ping_prober(family)
    dst = sent.target.address
    anc = queued(family, kind, code, info)
    addr = (dst, 0)
    assert prober._error(family, queued_echo(prober, family), anc, addr, None, AT) == (
        None if outcome is None else (1, outcome)
    )


def test_ping_socket_frag_needed_with_mtu_zero_takes_the_next_plateau() -> None:
    prober, _ = ping_prober(4)
    hit = prober._error(4, queued_echo(prober, 4), queued(4, 3, 4, 0), (DST4, 0), None, AT)
    assert hit is not None and isinstance(hit[1], TooBig) and 1500 <= hit[1].mtu < SIZE


def test_ping_socket_error_with_a_wrong_nonce_is_ignored_and_counted() -> None:
    for family in (4, 6):
        prober, sent = ping_prober(family)
        kind = 3 if family == 4 else 2
        anc = queued(family, kind, 4 if family == 4 else 0, 1500)
        data = queued_echo(prober, family, nonce=b"\x55" * NONCE_LEN)
        assert prober._error(family, data, anc, (sent.target.address, 0), None, AT) is None
        assert prober.ignored(sent.target) == 1


def test_ping_socket_error_with_a_truncated_quote() -> None:
    prober, sent = ping_prober(4)
    anc = queued(4, 3, 4, 1500)
    addr = (DST4, 0)
    assert prober._error(4, b"\x08\x00\x00", anc, addr, None, AT) is None  # no echo header
    header_only = queued_echo(prober, 4)[:8]  # too short to hold the nonce: id/seq decide
    assert prober._error(4, header_only, anc, addr, None, AT) == (1, TooBig(1500, ROUTER4, 10.0))


def test_ping_socket_error_without_its_control_message_or_from_the_local_stack() -> None:
    prober, _ = ping_prober(4)
    assert prober._error(4, queued_echo(prober, 4), [], (DST4, 0), None, AT) is None
    local = [(socket.IPPROTO_IP, IP_RECVERR, ext_err(4, 1, 0, 0, 0, SRC4))]
    assert prober._error(4, queued_echo(prober, 4), local, (DST4, 0), None, AT) is None
    assert prober._local_refusal


def test_ping_socket_udp_port_unreachable_from_the_target_proves_arrival() -> None:
    prober, sent = ping_prober(4, Protocol.UDP)
    data = prober.nonce + struct.pack("!I", 77) + bytes(8)
    anc = queued(4, 3, 3, 0, offender=DST4)
    hit = prober._error(4, data, anc, (DST4, 33434), 40000, AT)
    assert hit == (1, Reply(10.0, Answer.PORT_UNREACHABLE))
    prober, sent = ping_prober(4, Protocol.UDP)
    wrong = bytes(NONCE_LEN) + struct.pack("!I", 77)
    assert prober._error(4, wrong, anc, (DST4, 33434), 40000, AT) is None
    # From a router on the way, port unreachable is not arrival.
    prober, sent = ping_prober(4, Protocol.UDP)
    data = prober.nonce + struct.pack("!I", 77) + bytes(8)
    from_router = queued(4, 3, 3, 0)
    assert prober._error(4, data, from_router, (DST4, 33434), 40000, AT) == (
        1,
        Unreachable(Unreach.PORT, ROUTER4),
    )
