"""Every limit on a path, in path order: pure, from what the run already saw.

A path can hold more than one element below the expected MTU: a router
that answers "too big" with next-hop MTU 8000 and, behind it, a switch
port that silently drops everything above 4000. The localization names
where the failing size (path MTU + 1) dies: the tightest limit. The larger
sizes the run also sent say where the looser ones are:

* a "too big" (RFC 1191 / RFC 4443) quoting a size above the path MTU, from
  the search or the sweep, is a limit at its reporter with the MTU it
  reports (the prober matched it to a probe in flight, RFC 5927);
* the sweep's labelling probe (the interface MTU at every TTL, paired with
  a control) that reaches hop X and never the next hop that answers its
  control, and draws no "too big" anywhere, dies silently between them.
  Its MTU is not measured: the limit carries the largest size known to get
  past it (``mtu``) and the size it was seen to drop (``size``).

Only limits smaller than every earlier one can be seen (a packet dies at
the first element too small for it), so in path order their MTUs fall, the
tightest last. The local interface, when it is below the expected MTU and
something further is tighter still, is the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from jumbopath.model import Break, BreakKind, Cause, Evidence, PathResult

_REACHED = ("time-exceeded", "reply")


@dataclass(frozen=True, slots=True)
class _Seen:
    """The evidence of one run, indexed."""

    rows: tuple[Evidence, ...]
    position: Mapping[str, int]
    """Address to the smallest TTL it answered from."""
    addresses: Mapping[int, str | None]
    """TTL to the address of that hop."""
    path_mtu: int

    def reach(self, size: int) -> int:
        """Farthest TTL a probe of ``size`` is known to have reached (0: none)."""
        ttls = [e.ttl for e in self.rows if e.size == size and e.outcome in _REACHED and e.ttl]
        return max(ttls, default=0)

    def answered(self, ttl: int, below: int) -> bool:
        """The hop at ``ttl`` answered a probe smaller than ``below`` (its control, or
        the failing size): it had an ICMP token when the larger one was due."""
        return any(e.ttl == ttl and e.size < below and e.outcome in _REACHED for e in self.rows)

    def too_big(self, size: int) -> bool:
        return any(e.size == size and e.outcome == "too-big" for e in self.rows)


def every_limit(r: PathResult) -> tuple[Break, ...]:
    """Each element that limits ``r``'s path, in path order, ``r.break_`` last.

    Empty when nothing was located (no break, or ``none``); the break alone
    when it is the only limit the evidence shows (or cannot be compared:
    local NIC, return path, partial flows, no hop map).
    """
    tight = r.break_
    if tight is None or tight.kind is BreakKind.NONE:
        return ()
    if (
        tight.kind not in (BreakKind.PTB, BreakKind.SILENT)
        or tight.cause is Cause.RETURN_PATH
        or r.path_mtu is None
        or r.hops is None
    ):
        return (tight,)
    position: dict[str, int] = {}
    for h in r.hops:
        if h.address is not None:
            position.setdefault(h.address, h.ttl)
    seen = _Seen(r.evidence, position, {h.ttl: h.address for h in r.hops}, r.path_mtu)
    ptbs = _ptb_limits(r, tight, seen)
    upper = [*ptbs, *_silent_limits(tight, seen, ptbs)]
    upper.sort(key=lambda b: -(b.mtu or 0))
    return (*_local_limit(r, tight), *upper, tight)


def _local_limit(r: PathResult, tight: Break) -> tuple[Break, ...]:
    """This host's interface, when it is below the expected MTU and not the tightest."""
    nic, want = r.interface_mtu, r.expected_mtu
    if nic is None or want is None or r.path_mtu is None or not r.path_mtu < nic < want:
        return ()
    return (
        Break(
            kind=BreakKind.LOCAL_NIC,
            cause=Cause.LOCAL_MTU,
            after=None,
            before=r.hops[0].address if r.hops else None,
            mtu=nic,
            reported_by=None,
            size=want,
            target=tight.target,
            family=tight.family,
            interface=r.interface,
        ),
    )


def _ptb_limits(r: PathResult, tight: Break, seen: _Seen) -> list[Break]:
    """Routers that said "too big" with a next-hop MTU above the path MTU."""
    assert r.path_mtu is not None
    smallest: dict[tuple[str, int], int] = {}
    for e in seen.rows:
        if e.outcome != "too-big" or e.reporter is None or e.mtu is None:
            continue
        if not r.path_mtu < e.mtu < e.size:
            continue  # the tightest itself, or a report that contradicts itself
        key = (e.reporter, e.mtu)
        smallest[key] = min(smallest.get(key, e.size), e.size)
    # A limit is seen only in front of the tightest: a "too big" from farther
    # on (a path that changed, a forged error) names no limit of this path.
    last = seen.position.get(tight.reported_by or tight.after or "")
    out = []
    for (reporter, mtu), size in smallest.items():
        at = seen.position.get(reporter)
        if at is not None and last is not None and at > last:
            continue
        out.append(
            Break(
                kind=BreakKind.PTB,
                cause=Cause.ROUTER_TOO_BIG,
                after=reporter,
                before=seen.addresses.get(at + 1) if at is not None else None,
                mtu=mtu,
                reported_by=reporter,
                size=size,
                target=tight.target,
                family=tight.family,
            )
        )
    return out


def _silent_limits(tight: Break, seen: _Seen, ptbs: list[Break]) -> list[Break]:
    """Where the sweep's larger probes vanish, before the tightest limit."""
    fail = tight.size
    if fail is None:
        return []
    out: list[Break] = []
    sizes = sorted({e.size for e in seen.rows if e.ttl is not None and e.size > fail})
    for size in sizes:
        if seen.too_big(size):
            continue  # a router said where it dies
        reach = seen.reach(size)
        if reach >= seen.reach(fail):
            continue  # no earlier than the tightest: the same limit, as far as TTLs tell
        if any(
            (seen.position.get(p.after or "") or 0) <= reach and (p.mtu or 0) < size for p in ptbs
        ):
            continue  # it got past a router too small for it: its error was rate-limited
        lost = sorted(
            e.ttl
            for e in seen.rows
            if e.size == size and e.outcome == "lost" and e.ttl and e.ttl > reach
        )
        proof = [t for t in lost if seen.answered(t, size)]
        nxt = next((t for t in range(reach + 1, 256) if seen.answered(t, size)), None)
        if nxt is None or not proof or proof[0] != nxt:
            continue  # the next hop that answers was not asked with this size
        if any(b.kind is BreakKind.SILENT and b.after == seen.addresses.get(reach) for b in out):
            continue  # a smaller size already showed this stretch
        passing = [e.size for e in seen.rows if e.outcome in _REACHED and (e.ttl or 0) >= nxt]
        passing += [
            e.size
            for e in seen.rows
            if e.outcome == "too-big" and (seen.position.get(e.reporter or "") or 0) >= nxt
        ]
        after = seen.addresses.get(reach) if reach else None
        out.append(
            Break(
                kind=BreakKind.SILENT,
                cause=Cause.SILENT_DROP if after is not None else Cause.SILENT_FIRST_SEGMENT,
                after=after,
                before=seen.addresses.get(nxt),
                mtu=max([seen.path_mtu, *passing]),
                reported_by=None,
                size=size,
                target=tight.target,
                family=tight.family,
                quiet_hops=tuple(t for t in range(reach + 1, nxt) if seen.addresses.get(t) is None),
                confirmed=len(proof) >= 2,
            )
        )
    return out
