"""The warm-up: small echoes between the lab's hosts and routers, before anything is timed.

The first packets through a fresh namespace wait for neighbour discovery
(up to a second for IPv6). Before faults go in, small echoes (IPv4 and IPv6,
sent from this process through raw sockets opened inside each namespace)
join every pair of hosts/routers. The kernel's neighbour tables are shared
by every namespace on the machine, the machine's own traffic included
(``gc_thresh3``, 1024 entries by default), so a lab whose segments are big
warms only the first member and the routers of each segment with everyone
there. Bounded in time; silence is recorded, never raised.
"""

from __future__ import annotations

import contextlib
import secrets
import selectors
import socket
import struct
import time
from collections.abc import Iterator, Mapping

from jumbopath.lab.kernel import in_netns
from jumbopath.lab.plan import Plan
from jumbopath.lab.topology import Router

WARM_ALL_PAIRS_MAX = 256
"""Neighbour entries the all-pairs warm-up may create per family."""

_ICMP_ECHO4, _ICMP_REPLY4 = 8, 0
_ICMP_ECHO6, _ICMP_REPLY6 = 128, 129
_SOL_RAW, _ICMP_FILTER = 255, 1  # linux/icmp.h: drop the ICMP types whose bit is set
_ICMP6_FILTER = 1  # linux/icmpv6.h: same, 256-bit map

Targets = Mapping[tuple[str, int], list[str]]
"""(source node, family) -> addresses it sends one echo to each."""
_Pending = set[tuple[str, int, int]]  # (source node, family, index into its targets)


def warm_pairs(plan: Plan) -> list[tuple[str, str]]:
    """Which (a, b) pairs the warm-up joins; ``a`` sends to every address of ``b``.

    Every pair of hosts/routers when that is cheap. The kernel's neighbour
    tables are shared by all namespaces of the machine (``gc_thresh3``,
    1024 entries by default, for the machine's own traffic too), so in big
    segments only the first member and every router meet everyone on the
    segment: first hops and the usual prober are warm, the table is spared.
    """
    cost = sum(len(m) * (len(m) - 1) for m in plan.members.values())
    if cost <= WARM_ALL_PAIRS_MAX:
        return [(a, b) for i, a in enumerate(plan.l3) for b in plan.l3[i + 1 :]]
    pairs: dict[tuple[str, str], None] = {}
    for members in plan.members.values():
        nodes = [n for n, _ in members]
        hubs = [nodes[0], *(n for n in nodes[1:] if plan.kind[n] is Router)]
        for hub in hubs:
            for other in nodes:
                if other != hub and (other, hub) not in pairs:
                    pairs[(hub, other)] = None
    return list(pairs)


def warm_targets(plan: Plan) -> dict[tuple[str, int], list[str]]:
    """The addresses each warm pair's sender echoes, per family (reachable ones only)."""
    targets: dict[tuple[str, int], list[str]] = {}
    for a, b in warm_pairs(plan):
        for fam in (4, 6):
            reach = plan.reach[(a, fam)]
            overrides = {r.prefix.split("/")[0] for r in plan.host_routes.get((a, fam), [])}
            for key in plan.by_node[b]:
                addr = plan.addr(key, fam)
                seg = plan.ifaces[key].segment
                if addr and (seg in reach or addr in overrides):
                    targets.setdefault((a, fam), []).append(addr)
    return targets


def warm_up(plan: Plan, prefix: str, timeout_s: float) -> tuple[tuple[str, str], ...]:
    """One small echo per warm pair (see :func:`warm_pairs`), IPv4 and IPv6.

    Returns the (node, address) pairs that stayed silent within ``timeout_s``
    (normally none).
    """
    targets = warm_targets(plan)
    if not targets:
        return ()
    srcs = sorted({a for a, _ in targets}, key=plan.order.index)

    def open_sockets(ns: str) -> dict[int, socket.socket]:
        node = ns[len(prefix) :]
        return {fam: _open_icmp(fam) for fam in (4, 6) if (node, fam) in targets}

    opened = in_netns([prefix + a for a in srcs], open_sockets)
    socks = {(ns[len(prefix) :], fam): s for ns, d in opened.items() for fam, s in d.items()}
    try:
        pending = _exchange(socks, targets, time.monotonic() + timeout_s)
    finally:
        for s in socks.values():
            s.close()
    return tuple((src, targets[(src, fam)][seq]) for src, fam, seq in sorted(pending))


def _exchange(
    socks: Mapping[tuple[str, int], socket.socket], targets: Targets, deadline: float
) -> _Pending:
    """Send every echo, resending the unanswered ones, until all are answered or time is up."""
    ident = secrets.randbelow(0xFFFF) + 1
    pending = {
        (src, fam, seq) for (src, fam), addrs in targets.items() for seq in range(len(addrs))
    }
    resend_every = 0.05  # doubling up to 0.4 s: a late carrier costs little
    next_send = time.monotonic()
    with selectors.DefaultSelector() as sel:
        for sock_key, s in socks.items():
            sel.register(s, selectors.EVENT_READ, sock_key)
        while pending:
            now = time.monotonic()
            if now >= deadline:
                break
            if now >= next_send:
                _send(socks, targets, pending, ident)
                next_send = now + resend_every
                resend_every = min(resend_every * 2, 0.4)
            for skey, _ in sel.select(timeout=max(0.0, min(deadline, next_send) - now)):
                src, fam = skey.data
                for seq in _replies(socks[(src, fam)], fam, ident):
                    pending.discard((src, fam, seq))
    return pending


def _send(
    socks: Mapping[tuple[str, int], socket.socket], targets: Targets, todo: _Pending, ident: int
) -> None:
    for src, fam, seq in sorted(todo):
        with contextlib.suppress(OSError):  # e.g. ENOBUFS: sent again later
            socks[(src, fam)].sendto(_echo(fam, ident, seq), (targets[(src, fam)][seq], 0))


def _replies(sock: socket.socket, family: int, ident: int) -> Iterator[int]:
    """Sequence numbers of the echo replies waiting on ``sock`` (a bounded drain)."""
    for _ in range(4096):
        try:
            data = sock.recv(2048)
        except BlockingIOError:
            return
        seq = _parse_reply(family, data, ident)
        if seq is not None:
            yield seq


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def _echo(family: int, ident: int, seq: int) -> bytes:
    kind = _ICMP_ECHO4 if family == 4 else _ICMP_ECHO6
    body = struct.pack("!BBHHH", kind, 0, 0, ident, seq) + b"jumbopath-warm"
    if family == 6:
        return body  # the kernel fills in the ICMPv6 checksum
    return body[:2] + struct.pack("!H", _checksum(body)) + body[4:]


def _open_icmp(family: int) -> socket.socket:
    if family == 4:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        s.setsockopt(_SOL_RAW, _ICMP_FILTER, struct.pack("I", ~(1 << _ICMP_REPLY4) & 0xFFFFFFFF))
    else:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        words = [0xFFFFFFFF] * 8
        words[_ICMP_REPLY6 >> 5] &= ~(1 << (_ICMP_REPLY6 & 31))
        s.setsockopt(socket.IPPROTO_ICMPV6, _ICMP6_FILTER, struct.pack("8I", *words))
    s.setblocking(False)
    return s


def _parse_reply(family: int, data: bytes, ident: int) -> int | None:
    if family == 4:
        if not data:
            return None
        data = data[(data[0] & 0x0F) * 4 :]
    if len(data) < 8:
        return None
    kind, _code, _ck, rid, seq = struct.unpack("!BBHHH", data[:8])
    want = _ICMP_REPLY4 if family == 4 else _ICMP_REPLY6
    return seq if kind == want and rid == ident else None
