"""TCP answers (RST, SYN-ACK) matched to the SYN probe they answer, with crafted packets.

Every probe of a TCP search shares one flow (source and destination port), so
only the acknowledgement number tells which probe an answer is for: ``seq + 1``
(a SYN-ACK) or ``seq + 1 + payload`` (an RST to a SYN with data, as Linux sends
from a closed port). No answer may be credited to a probe of another size.
"""

from __future__ import annotations

import socket
import struct

import pytest

from jumbopath.model import Answer, ProbeRequest, Protocol, Reply
from jumbopath.probers.base import Target
from jumbopath.probers.raw import (
    TCP_ACK,
    TCP_HEADER,
    TCP_RST,
    TCP_SYN,
    RawProber,
    _Sent,
)
from jumbopath.sizes import TCP_OVERHEAD

SPORT, DPORT = 41000, 22
ADDRESS = {4: "198.18.0.2", 6: "2001:db8::2"}


def _probe(prober: RawProber, target: Target, size: int) -> _Sent:
    """Registers a SYN probe of ``size`` bytes as the sender does (no socket needed)."""
    request = ProbeRequest(size, size, protocol=Protocol.TCP, port=DPORT)
    payload = request.size - TCP_OVERHEAD[target.family]
    prober._next_token += 1
    sent = _Sent(
        prober._next_token,
        target,
        SPORT,
        DPORT,
        size,
        prober.now(),
        prober._next_tcp_seq(),
        payload,
    )
    prober._register_flow(sent, Protocol.TCP)
    return sent


def _answer(family: int, ack: int, flags: int) -> bytes:
    """A TCP segment from the target's port to ours, as the raw socket reads it."""
    tcp = TCP_HEADER.pack(DPORT, SPORT, 12345, ack & 0xFFFFFFFF, 5 << 4, flags, 0, 0, 0)
    if family == 6:
        return tcp  # raw IPv6 sockets deliver no IP header
    head = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        20 + len(tcp),
        0,
        0,
        64,
        6,
        0,
        socket.inet_aton(ADDRESS[4]),
        socket.inet_aton("198.18.0.1"),
    )
    return head + tcp


def _matched(prober: RawProber, family: int, data: bytes) -> tuple[int, Reply] | None:
    hit = prober._parse_tcp(family, data, ADDRESS[family], prober.now())
    if hit is None:
        return None
    assert isinstance(hit[1], Reply)
    return hit[0], hit[1]


@pytest.mark.parametrize("family", [4, 6])
def test_rst_goes_to_its_own_size_not_an_older_bigger_probe(family: int) -> None:
    prober = RawProber()
    target = Target(ADDRESS[family], ADDRESS[family], family)
    # A descending run of sizes one byte apart, sent back to back: the 4009-byte
    # probe's seq + 1 + payload must not equal that of any smaller one.
    sent = [_probe(prober, target, size) for size in range(4009, 4002, -1)]
    small = sent[-1]  # 4003 bytes: the only one that arrives
    hit = _matched(
        prober, family, _answer(family, small.probe + 1 + small.payload, TCP_RST | TCP_ACK)
    )
    assert hit is not None
    assert hit[0] == small.token
    assert hit[1].answer is Answer.RESET
    # The same RST again (a retransmitted SYN answered twice) counts for nobody.
    again = _answer(family, small.probe + 1 + small.payload, TCP_RST | TCP_ACK)
    assert _matched(prober, family, again) is None
    prober.close()


@pytest.mark.parametrize("family", [4, 6])
def test_every_answer_of_a_run_finds_exactly_its_probe(family: int) -> None:
    prober = RawProber()
    target = Target(ADDRESS[family], ADDRESS[family], family)
    sizes = [*range(1409, 1399, -1), *range(1400, 1410)]
    sent = [_probe(prober, target, size) for size in sizes]
    tokens = []
    for i, probe in enumerate(sent):
        if i % 2:
            data = _answer(family, probe.probe + 1, TCP_SYN | TCP_ACK)
        else:
            data = _answer(family, probe.probe + 1 + probe.payload, TCP_RST | TCP_ACK)
        hit = _matched(prober, family, data)
        assert hit is not None
        tokens.append(hit[0])
    assert tokens == [probe.token for probe in sent]
    prober.close()


def test_sequence_numbers_wrap_without_collisions() -> None:
    prober = RawProber()
    target = Target(ADDRESS[4], ADDRESS[4], 4)
    prober._tcp_seq = 0xFFFFFFFF - 3 - (1 << 16)  # the first probe just below 2**32
    sent = [_probe(prober, target, size) for size in (9000, 8999, 8998)]
    assert sent[1].probe < sent[0].probe  # wrapped
    for probe in reversed(sent):
        hit = _matched(prober, 4, _answer(4, probe.probe + 1 + probe.payload, TCP_RST | TCP_ACK))
        assert hit is not None and hit[0] == probe.token
    prober.close()
