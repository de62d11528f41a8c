"""Shared evidence: targets behind the same rate-limited router or silent segment are
located once, the others judged by what that localization proved (simulated paths,
routers rate-limited like Linux: a burst of 6 ICMP errors, then 1 a second)."""

from __future__ import annotations

import json

import pytest

from jumbopath.environment import SimulatedEnvironment
from jumbopath.locate.config import LocateResult, Presumed
from jumbopath.locate.shared import cohorts, presumption
from jumbopath.model import Break, BreakKind, Cause, Evidence, Hop, PathResult, Remark, Status
from jumbopath.pipeline import CheckConfig, check
from jumbopath.probers.simulated import SimPath, SimRouter, SimSegment
from jumbopath.render.explain import remark_sentence
from jumbopath.render.json import render_json

R1, R2 = "198.18.1.1", "198.18.2.1"


def seg(egress: int = 9000, l2: int = 9000) -> SimSegment:
    return SimSegment(egress_mtu=egress, l2_mtu=l2)


def path(*segments: SimSegment) -> SimPath:
    # Like Linux: "time exceeded" rate-limited (a burst of 6, then 1 a second),
    # "too big" exempt from the per-host limit.
    routers = tuple(SimRouter([R1, R2][i], ptb_limited=False) for i in range(len(segments) - 1))
    return SimPath(segments, routers)


def addresses(n: int, net: int = 9) -> list[str]:
    return [f"198.18.{net}.{i}" for i in range(1, n + 1)]


def run(paths: dict[str, SimPath]) -> dict[str, PathResult]:
    env = SimulatedEnvironment(paths)
    report = check(CheckConfig(tuple(paths), expect=9000), env)
    return {r.address or "": r for r in report.results}


def shared(r: PathResult) -> Remark | None:
    return next((n for n in r.notes if n.code == "shared-limit"), None)


def locate_s(r: PathResult) -> float:
    return next(st.elapsed_s for st in r.stages if st.name == "locate")


PTB_40 = {a: path(seg(), seg(egress=1500)) for a in addresses(40)}
SILENT_5 = {a: path(seg(), seg(l2=1500)) for a in addresses(5)} | {
    a: path(seg(), seg()) for a in addresses(20, net=10)
}

# (description, paths, kind, reporter, followers judged by shared evidence)
CASES = [
    ("40 targets behind one router that says too big", PTB_40, BreakKind.PTB, R1, 39),
    ("5 targets behind silent ports, 20 clean beside", SILENT_5, BreakKind.SILENT, None, 4),
]


@pytest.mark.parametrize(("desc", "paths", "kind", "reporter", "followers"), CASES)
def test_one_localization_answers_for_the_cohort(
    desc: str, paths: dict[str, SimPath], kind: BreakKind, reporter: str | None, followers: int
) -> None:
    results = run(paths)
    failing = [r for r in results.values() if r.status is Status.BELOW]
    assert failing
    for r in failing:
        assert r.path_mtu == 1500, desc
        b = r.break_
        assert b is not None and b.kind is kind and b.confirmed, (desc, r.address, b)
        assert b.after == R1 and b.reported_by == reporter and b.before == r.address
        assert r.breaks and r.breaks[-1] == b  # the limits list ends with the break
        # Every located path has its full hop map, shared hops included.
        assert [h.address for h in r.hops] == [R1, r.address]
    judged = [r for r in failing if shared(r) is not None]
    assert len(judged) == followers, desc
    leaders = {shared(r).fact("leader") for r in judged}  # type: ignore[union-attr]
    assert len(leaders) == 1 and leaders.pop() not in {r.address for r in judged}
    for r in judged:
        note = shared(r)
        assert note is not None
        assert note.fact("kind") == kind.value and note.fact("presumed_hops") == 1
        assert note.fact("end_ttl") == 2
        if kind is BreakKind.SILENT:
            assert int(note.fact("own_silent") or 0) >= 2  # its own big probes died past R1
        # Of the shared router (TTL 1) this path asked nothing past a "too big", and
        # one answer (its own big probe got there) before a silent stretch.
        asked = [(e.size, e.outcome, e.count) for e in r.evidence if e.ttl == 1]
        assert asked == ([] if kind is BreakKind.PTB else [(1501, "time-exceeded", 1)])
    # One router's ICMP budget (6, then 1 a second) is spent once, not per target:
    # the slowest localization ends within about a second of virtual time.
    assert max(locate_s(r) for r in failing) < 1.5, desc


def test_a_follower_that_hears_another_router_is_measured_on_its_own() -> None:
    """Same way out and same path MTU, but its own search heard "too big" from R2:
    it is located on its own, and its break names R2."""
    paths = {a: path(seg(), seg(egress=1500)) for a in addresses(3)}
    odd = "198.18.9.99"
    paths[odd] = path(seg(), seg(), seg(egress=1500))
    results = run(paths)
    r = results[odd]
    assert r.status is Status.BELOW and r.path_mtu == 1500
    assert r.break_ is not None and r.break_.kind is BreakKind.PTB
    assert r.break_.reported_by == R2 and r.break_.before == odd
    assert shared(r) is None
    assert r.hops[0].address == R1 and r.hops[-1].address == odd and len(r.hops) == 3
    others = [results[a] for a in addresses(3)]
    assert sum(shared(x) is not None for x in others) == 2


def test_a_follower_farther_than_the_leader_is_measured_on_its_own() -> None:
    """Past the router that says "too big", its target answers at another distance
    than the leader's: the shared limit is not taken, its own localization is."""
    paths = {a: path(seg(), seg(egress=1500)) for a in addresses(2)}
    far = "198.18.9.99"
    paths[far] = path(seg(), seg(egress=1500), seg())
    results = run(paths)
    r = results[far]
    assert r.break_ is not None and r.break_.kind is BreakKind.PTB
    assert r.break_.reported_by == R1 and r.break_.before == R2
    assert shared(r) is None
    assert [h.address for h in r.hops] == [R1, R2, far]


def test_a_follower_whose_big_packets_die_before_the_shared_hops_is_measured_alone() -> None:
    """Its own big probe at the shared hop goes unanswered: the silent stretch is on
    its own first segment, not past the router the others' big packets reach."""
    paths = {a: path(seg(), seg(l2=1500)) for a in addresses(3)}
    near = "198.18.9.99"
    paths[near] = path(seg(l2=1500), seg())
    results = run(paths)
    b = results[near].break_
    assert b is not None and b.kind is BreakKind.SILENT and b.after is None and b.before == R1
    assert b.cause is Cause.SILENT_FIRST_SEGMENT and shared(results[near]) is None
    assert sum(shared(results[a]) is not None for a in addresses(3)) == 2


def test_a_silent_port_and_a_router_that_says_too_big_are_not_mixed() -> None:
    """Same router, same way out, same path MTU: the "too big" one path's search
    heard is not the verdict of a path whose big packets die silently."""
    silent, ptb = addresses(4), addresses(4, net=10)
    paths = {a: path(seg(), seg(l2=1500)) for a in silent}
    paths |= {a: path(seg(), seg(egress=1500)) for a in ptb}
    results = run(paths)
    for a in silent:
        b = results[a].break_
        assert b is not None and b.kind is BreakKind.SILENT and b.confirmed, (a, b)
        assert b.after == R1 and b.before == a
    for a in ptb:
        b = results[a].break_
        assert b is not None and b.kind is BreakKind.PTB and b.reported_by == R1, (a, b)
    leaders = {n.fact("leader") for r in results.values() if (n := shared(r)) is not None}
    assert len(leaders) == 2  # one localization per kind of limit


def test_the_shared_evidence_is_in_the_json_and_has_a_sentence() -> None:
    env = SimulatedEnvironment({a: path(seg(), seg(l2=1500)) for a in addresses(3)})
    report = check(CheckConfig(tuple(addresses(3)), expect=9000), env)
    doc = json.loads(render_json(report))
    found = [m for r in doc["results"] for m in r["remarks"] if m.get("code") == "shared-limit"]
    assert len(found) == 2
    assert {m["leader"] for m in found} == {addresses(3)[0]}
    assert all(m["kind"] == "silent" and m["end_ttl"] == 2 for m in found)
    note = next(n for r in report.results for n in r.notes if n.code == "shared-limit")
    assert remark_sentence(note) != note.code


def test_cohorts_prefer_a_leader_that_heard_the_router() -> None:
    got = cohorts([("a",), ("b",), ("a",), None, ("a",)], [False, False, True, False, False])
    assert [(c.leader, c.followers) for c in got] == [(1, ()), (2, (0, 4)), (3, ())]


def test_a_router_quiet_at_its_own_ttl_is_placed_by_its_too_big() -> None:
    """The leader's router sent no "time exceeded" (out of tokens) but said "too
    big" to the failing size at TTL 2: it sits at TTL 1, and is shared as such."""
    dst = "198.18.9.1"
    brk = Break(BreakKind.PTB, R1, dst, 1500, R1, Cause.ROUTER_TOO_BIG, size=1501, target=dst)
    found = LocateResult(
        hops=(Hop(1, None, None, None), Hop(2, dst, 0.1, 1500)),
        break_=brk,
        conclusive=True,
        probes_sent=16,
        elapsed_s=0.1,
        evidence=(
            Evidence(1501, "lost", 1, ttl=1),
            Evidence(1501, "too-big", 1, 1500, R1, ttl=2),
            Evidence(1501, "too-big", 1, 1500, R1, ttl=3),
        ),
        notes=(),
    )
    assert presumption(dst, found) == Presumed(dst, (R1,), 0, (1, 1500, R1))
