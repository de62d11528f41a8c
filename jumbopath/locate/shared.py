"""Shared evidence: what one target's localization proves for the targets beside it.

Linux routers send ICMP errors toward one host in a burst of about 6, then
about 1 a second (``icmp_ratelimit``), whichever target the probes were for.
Forty targets behind one router that says "too big" would each spend that one
budget to be told the same thing. Instead, failing targets that leave through
the same interface from the same source and fail at the same size form a
*cohort*: one of them (the leader) is located in full; the others take the
hops it proved (its hop map up to the break) as known, until their own probes
say otherwise, and probe only what costs no shared router a token:

* behind a router that said "too big": no big probe at all (the router's
  answer is the leader's), only small probes past that router, which the
  target answers with echo replies (not rate-limited);
* behind a silent segment: one big probe of its own at the last hop the
  leader's big packets reached (one token: its answer proves this path's big
  packets get there too), then the sweep and the confirmation past it, as
  usual (big probes that die cost no router a token, the target's echo
  replies neither).

A router's "too big" is shared only with paths whose own search heard it (the
same router, the same MTU): those few probes confirm it. A follower whose own
probes contradict the shared limit (its target answers at another distance
than the leader's past a "too big", its own search heard no "too big" from
that router or one from another, its own big probe went unanswered at the
silent stretch's near end, or its localization did not conclude) is
located again on its own. Pure: no IO, no clock.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from jumbopath.locate.config import LocateResult, Presumed
from jumbopath.model import BreakKind, Evidence, Remark, remark


@dataclass(frozen=True, slots=True)
class Cohort:
    """Failing targets that share their limits until proven otherwise."""

    leader: int
    """Index of the target located in full."""
    followers: tuple[int, ...]
    """Indices of the targets that take its hops as known."""


def cohorts(keys: Sequence[Hashable | None], prefer: Sequence[bool] = ()) -> list[Cohort]:
    """Group targets by key, in order; a None key stands alone. The first of each
    group leads, the first ``prefer``-red one if any (a target whose own search
    already heard the router's "too big")."""
    groups: dict[Hashable, list[int]] = {}
    alone: list[Cohort] = []
    for i, key in enumerate(keys):
        if key is None:
            alone.append(Cohort(i, ()))
        else:
            groups.setdefault(key, []).append(i)
    found = alone
    for g in groups.values():
        lead = next((i for i in g if i < len(prefer) and prefer[i]), g[0])
        found.append(Cohort(lead, tuple(i for i in g if i != lead)))
    return sorted(found, key=lambda c: c.leader)


def end_ttl(found: LocateResult, target: str) -> int | None:
    """TTL at which ``target`` answered (its distance), if it did."""
    return next((h.ttl for h in found.hops if h.address == target), None)


def presumption(leader: str, found: LocateResult) -> Presumed | None:
    """What the leader's localization proves for its cohort: None unless it
    concluded on a router's "too big" or a silent segment placed on its hop map."""
    brk = found.break_
    if brk is None or not found.conclusive or not brk.confirmed or brk.after is None:
        return None
    ttls = {h.address: h.ttl for h in found.hops if h.address is not None}
    at = ttls.get(brk.after)
    if at is None and brk.kind is BreakKind.PTB:
        # The router stayed quiet at its own TTL (out of tokens), but it said
        # "too big" to the failing size one TTL further.
        sent = [
            e.ttl
            for e in found.evidence
            if e.outcome == "too-big"
            and e.reporter == brk.after
            and e.size == brk.size
            and e.ttl is not None
            and e.ttl > 1
        ]
        at = min(sent) - 1 if sent else None
    if at is None:
        return None
    hops = tuple(
        brk.after if h.ttl == at and h.address is None else h.address
        for h in found.hops
        if h.ttl <= at
    )
    if brk.kind is BreakKind.PTB and brk.mtu is not None and brk.reported_by == brk.after:
        return Presumed(leader, hops, at - 1, (at, brk.mtu, brk.after))
    if brk.kind is BreakKind.SILENT:
        return Presumed(leader, hops, at)
    return None


def mapped_only(given: Presumed) -> Presumed:
    """The hops alone, for a passing target mapped to be compared (no limit)."""
    return Presumed(given.leader, given.hops, 0)


def own_too_big(evidence: Sequence[Evidence], given: Presumed) -> tuple[int, bool]:
    """(how many "too big" the follower's own probes got from the shared router at
    the shared MTU, whether any came from elsewhere or with another MTU)."""
    if given.ptb is None:
        return 0, False
    _, mtu, reporter = given.ptb
    same = other = 0
    for e in evidence:
        if e.outcome != "too-big":
            continue
        if e.reporter == reporter and e.mtu == mtu:
            same += e.count
        elif e.mtu is not None and e.mtu <= mtu:
            other += e.count  # a limit at or below the shared one, reported elsewhere
    return same, other > 0


def contradicted(
    given: Presumed,
    leader_end: int | None,
    found: LocateResult,
    target: str,
    search_evidence: Sequence[Evidence],
) -> str | None:
    """Why the follower's own probes disagree with the shared limit (a stable code),
    or None when they agree."""
    if not found.conclusive or found.break_ is None:
        return "unconcluded"
    same, other = own_too_big(search_evidence, given)
    if other:
        return "other-too-big"
    if given.ptb is not None and not same:
        return "no-own-too-big"  # a router's report is shared only with paths that heard it
    if given.ptb is not None and end_ttl(found, target) != leader_end:
        return "distance"
    if given.ptb is None and given.reach and not reached(found, given.reach):
        return "reach-unproven"
    return None


def reached(found: LocateResult, ttl: int) -> bool:
    """Whether one of the path's own failing-size probes was answered at ``ttl``."""
    size = found.break_.size if found.break_ is not None else None
    return any(
        e.ttl == ttl and e.size == size and e.outcome in ("time-exceeded", "reply")
        for e in found.evidence
    )


def shared_remark(
    given: Presumed, found: LocateResult, target: str, search_evidence: Sequence[Evidence]
) -> Remark:
    """The facts that confirmed the shared limit for one follower."""
    size = found.break_.size if found.break_ is not None else None
    silent = sum(
        e.count
        for e in found.evidence
        if e.outcome == "lost" and e.size == size and e.ttl is not None and e.ttl > given.reach
    )
    return remark(
        "shared-limit",
        leader=given.leader,
        kind="ptb" if given.ptb is not None else "silent",
        presumed_hops=len(given.hops),
        reporter=given.ptb[2] if given.ptb is not None else None,
        own_too_big=own_too_big(search_evidence, given)[0],
        end_ttl=end_ttl(found, target),
        own_silent=silent if given.ptb is None else 0,
    )
