"""The pure hop localizer against simulated paths: (path description, expected break).

Each case runs what ``jumbopath trace`` runs: the MTU search, then the
localizer with the search's failing size, against one simulated path whose
routers rate-limit their ICMP errors like Linux (burst 6, then 1 per second)
unless a case says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from jumbopath import pipeline as check
from jumbopath.egress import Egress
from jumbopath.engine import Job, drive
from jumbopath.environment import SimulatedEnvironment
from jumbopath.locate import HopPacer, LocateConfig, Locator
from jumbopath.model import BreakKind, Cause, PathResult, Reply, Stage, TimeExceeded, TooBig
from jumbopath.probers.base import Prober, Target
from jumbopath.probers.simulated import SimPath, SimRouter, SimSegment, SimulatedProber, _Bucket
from jumbopath.render.explain import break_sentence

DST = "198.18.9.9"
TWIN = "198.18.9.8"
EGRESS = Egress("198.18.0.1", "eth0", 9000, 9000)
R = [f"198.18.{i}.1" for i in range(20)]  # R[i]: the i-th router (1-based)


def seg(egress: int = 9000, l2: int = 9000) -> SimSegment:
    return SimSegment(egress_mtu=egress, l2_mtu=l2)


def path(*segments: SimSegment, routers: dict[int, dict[str, bool]] | None = None, **kw: object):
    """A path of ``segments``; router i (1-based) sits before segment i."""
    opts = routers or {}
    rs = tuple(SimRouter(R[i], **opts.get(i, {})) for i in range(1, len(segments)))
    return SimPath(segments, rs, **kw)  # type: ignore[arg-type]


@dataclass
class Traced:
    result: PathResult
    path_mtu: int | None
    elapsed_s: float
    packets: int

    @property
    def locate(self) -> Stage:
        return next(st for st in self.result.stages if st.name == "locate")


@dataclass
class DepletedEnvironment(SimulatedEnvironment):
    """Every router has just spent its whole ICMP budget on someone else."""

    def prober(self) -> Prober:
        prober = super().prober()
        assert isinstance(prober, SimulatedProber)
        for p in self.paths.values():
            prober._buckets.update({r.address: _Bucket(0.0, 0.0) for r in p.routers})
        return prober


def trace(
    p: SimPath,
    *,
    expected: int = 9000,
    seed: int = 1,
    depleted: bool = False,
    map_size: bool = True,
) -> Traced:
    """What ``jumbopath trace`` does, on a simulated path: the real pipeline.

    ``map_size=False``: a second identical target is traced beside it, and
    with two breaks to locate the links before them are not labelled.
    """
    paths = {DST: p} if map_size else {DST: p, TWIN: p}
    kind = DepletedEnvironment if depleted else SimulatedEnvironment
    env = kind(paths, routes={a: EGRESS for a in paths}, seed=seed)
    report = check.trace(check.CheckConfig(tuple(paths), expect=expected), env)
    r = report.results[0]
    prober = env.probers[0]
    assert isinstance(prober, SimulatedProber)
    located = next(st for st in r.stages if st.name == "locate")
    return Traced(r, r.path_mtu, located.elapsed_s, prober.packets_sent)


# (description, path, kind, after, before, mtu, reported_by, hop addresses)
CASES = [
    ("one router, clean", path(seg(), seg()), "none", None, None, 9000, None, [R[1], DST]),
    (
        "one router, access port 1500",
        path(seg(), seg(l2=1500)),
        "silent",
        R[1],
        DST,
        1500,
        None,
        [R[1], DST],
    ),
    (
        "no router, switch port 1500",
        path(seg(l2=1500)),
        "silent",
        None,
        DST,
        1500,
        None,
        [DST],
    ),
    (
        "two routers, last egress 1500 with PTB",
        path(seg(), seg(), seg(egress=1500)),
        "ptb",
        R[2],
        DST,
        1500,
        R[2],
        [R[1], R[2], DST],
    ),
    (
        "two routers, first egress 4000 with PTB",
        path(seg(), seg(egress=4000), seg()),
        "ptb",
        R[1],
        R[2],
        4000,
        R[1],
        [R[1], R[2], DST],
    ),
    (
        "three routers, silent L2 drop between r1 and r2",
        path(seg(), seg(l2=4000), seg(), seg()),
        "silent",
        R[1],
        R[2],
        4000,
        None,
        [R[1], R[2], R[3], DST],
    ),
    (
        "black hole router (egress 1500, no PTB)",
        path(seg(), seg(), seg(egress=1500), routers={2: {"ptb": False}}),
        "silent",
        R[2],
        DST,
        1500,
        None,
        [R[1], R[2], DST],
    ),
    (
        "black hole in the middle",
        path(seg(), seg(), seg(egress=1500), seg(), routers={2: {"ptb": False}}),
        "silent",
        R[2],
        R[3],
        1500,
        None,
        [R[1], R[2], R[3], DST],
    ),
    (
        "local NIC 1500",
        path(seg(egress=1500), seg()),
        "local-nic",
        None,
        R[1],
        1500,
        None,
        [R[1], DST],
    ),
    (
        "middle router sends no time-exceeded, break after it",
        path(seg(), seg(), seg(), seg(l2=1500), routers={2: {"time_exceeded": False}}),
        "silent",
        R[3],
        DST,
        1500,
        None,
        [R[1], None, R[3], DST],
    ),
    (
        "middle router sends no time-exceeded and is the black hole: bracketed",
        path(
            seg(),
            seg(),
            seg(egress=1500),
            seg(),
            routers={2: {"time_exceeded": False, "ptb": False}},
        ),
        "silent",
        R[1],
        R[3],
        1500,
        None,
        [R[1], None, R[3], DST],
    ),
    (
        "last router sends no time-exceeded and is the black hole",
        path(seg(), seg(), seg(egress=1500), routers={2: {"time_exceeded": False, "ptb": False}}),
        "silent",
        R[1],
        DST,
        1500,
        None,
        [R[1], None, DST],
    ),
    (
        "PTB router without rate limit",
        path(seg(), seg(egress=1500), routers={1: {"rate_limited": False}}),
        "ptb",
        R[1],
        DST,
        1500,
        R[1],
        [R[1], DST],
    ),
]


@pytest.mark.parametrize(
    "desc,p,kind,after,before,mtu,reported_by,addresses", CASES, ids=[c[0] for c in CASES]
)
def test_locates_the_break(desc, p, kind, after, before, mtu, reported_by, addresses) -> None:
    t = trace(p)
    b = t.result.break_
    assert b is not None
    assert (b.kind.value, b.after, b.before, b.mtu, b.reported_by) == (
        kind,
        after,
        before,
        mtu,
        reported_by,
    )
    assert t.result.hops is not None
    assert [h.address for h in t.result.hops] == addresses
    assert b.confirmed
    assert t.elapsed_s < 2.0, desc


def test_silent_break_names_both_suspects_plainly() -> None:
    b = trace(path(seg(), seg(), seg(egress=1500), routers={2: {"ptb": False}})).result.break_
    assert b is not None and b.cause is Cause.SILENT_DROP
    text = break_sentence(b)
    assert "black hole" in text and "switch port" in text
    assert R[2] in text and DST in text


def test_silent_hop_in_the_bracket_is_named_not_blamed() -> None:
    p = path(
        seg(), seg(), seg(egress=1500), seg(), routers={2: {"time_exceeded": False, "ptb": False}}
    )
    b = trace(p).result.break_
    assert b is not None and b.quiet_hops == (2,) and (b.after, b.before) == (R[1], R[3])
    assert "hop(s) 2" in break_sentence(b)


def test_largest_passing_labels_every_hop() -> None:
    t = trace(path(seg(), seg(l2=4000), seg(), seg()))
    assert [h.largest_passing for h in t.result.hops] == [9000, 4000, 4000, 4000]
    # Without the interface-MTU probe, the hop before the break is known to pass 4001.
    t = trace(path(seg(), seg(l2=4000), seg(), seg()), map_size=False)
    assert [h.largest_passing for h in t.result.hops] == [4001, 4000, 4000, 4000]


def test_clean_path_maps_hops_with_small_probes_only() -> None:
    t = trace(path(seg(), seg(), seg()))
    assert t.result.break_ is not None and t.result.break_.kind is BreakKind.NONE
    assert t.locate.probes <= 8
    assert all(e.size < 200 for e in t.result.evidence if e.ttl is not None)
    assert [h.largest_passing for h in t.result.hops] == [9000, 9000, 9000]


@pytest.mark.parametrize("seed", range(6))
def test_rate_limited_routers_at_the_start(seed: int) -> None:
    """Every router's ICMP budget is spent when the trace starts: it waits for
    tokens instead of reading the silence as a size drop."""
    t = trace(path(seg(), seg(l2=4000), seg(), seg()), seed=seed, depleted=True)
    b = t.result.break_
    assert b is not None and (b.kind, b.after, b.before) == (BreakKind.SILENT, R[1], R[2])
    assert t.elapsed_s < 4.0


@pytest.mark.parametrize("seed", range(8))
def test_loss_is_not_read_as_a_break(seed: int) -> None:
    p = path(seg(), seg(), seg(l2=4000), seg(), loss=0.05)
    t = trace(p, seed=seed)
    b = t.result.break_
    assert b is not None and (b.kind, b.after, b.before) == (BreakKind.SILENT, R[2], R[3])


def test_unresponsive_target_maps_routers_and_blames_nothing() -> None:
    p = path(seg(), seg(), seg(), answers_echo=False)
    prober = SimulatedProber({DST: p})
    locator = Locator(LocateConfig(4, DST, 9000, fail_size=None, pass_size=None))
    drive(prober, [Job(Target(DST, DST, 4), locator)], max_time_s=10)
    result = locator.abandon(prober.now())
    assert result.break_ is None
    assert [h.address for h in result.hops] == [R[1], R[2]]


def test_path_longer_than_one_sweep_window() -> None:
    p = path(*(seg() for _ in range(11)), seg(l2=1500))
    t = trace(p)
    b = t.result.break_
    assert b is not None and (b.kind, b.after, b.before) == (BreakKind.SILENT, R[11], DST)
    assert t.result.hops is not None and len(t.result.hops) == 12


def test_bounded_when_nothing_ever_answers() -> None:
    p = path(seg(), seg(), answers_echo=False, routers={1: {"time_exceeded": False}})
    prober = SimulatedProber({DST: p})
    cfg = LocateConfig(4, DST, 9000, fail_size=1501, pass_size=1500, max_time_s=3.0)
    locator = Locator(cfg)
    elapsed = drive(prober, [Job(Target(DST, DST, 4), locator)], max_time_s=10)
    assert elapsed <= 3.5
    result = locator.abandon(prober.now())
    assert result.probes_sent <= cfg.max_probes


def test_local_refusal_is_local_nic() -> None:
    """The kernel refuses the send (EMSGSIZE) although the configured MTU looked big enough."""
    p = path(seg(egress=1500), seg())
    prober = SimulatedProber({DST: p})
    cfg = LocateConfig(4, DST, max_size=9000, fail_size=1501, pass_size=1500)
    locator = Locator(cfg)
    drive(prober, [Job(Target(DST, DST, 4), locator)])
    b = locator.abandon(prober.now()).break_
    assert b is not None and b.kind is BreakKind.LOCAL_NIC and b.mtu == 1500


def test_late_errors_are_not_believed() -> None:
    locator = Locator(LocateConfig(4, DST, 9000, fail_size=1501, pass_size=1500))
    requests = locator.poll(0.0)
    for r in requests:
        locator.on_sent(r, 0.0)
    big = next(r for r in requests if r.size == 1501 and r.ttl == 1)
    locator.poll(5.0)  # everything timed out
    locator.on_outcome(big.key, TooBig(1400, R[1], 10.0), 5.0)
    assert not locator._ptb


def test_pacer_models_a_linux_bucket() -> None:
    pacer = HopPacer()
    for _ in range(6):
        pacer.charge(R[1], 0.0)
    assert pacer.tokens(R[1], 0.0) == 0
    assert pacer.ready_at(R[1], 0.0) == pytest.approx(1.0)
    pacer.drain(R[2], 0.0)
    assert pacer.tokens(R[2], 0.5) == pytest.approx(0.5)
    assert pacer.tokens(R[3], 0.0) == 6


def test_shared_pacer_keeps_two_targets_correct() -> None:
    """Two targets behind the same routers, located at once with one pacer."""
    other = "198.18.9.10"
    prober = SimulatedProber(
        {
            DST: path(seg(), seg(), seg(l2=1500)),
            other: path(seg(), seg(), seg(egress=1500), routers={2: {"ptb": False}}),
        }
    )
    pacer = HopPacer()
    jobs = [
        Job(Target(a, a, 4), Locator(LocateConfig(4, a, 9000, 1501, 1500), pacer))
        for a in (DST, other)
    ]
    drive(prober, jobs, max_time_s=10)
    for job, before in zip(jobs, (DST, other), strict=True):
        planner = job.planner
        assert isinstance(planner, Locator)
        b = planner.abandon(prober.now()).break_
        assert b is not None and (b.kind, b.after, b.before) == (BreakKind.SILENT, R[2], before)


def test_evidence_carries_ttl() -> None:
    t = trace(path(seg(), seg(egress=1500), routers={1: {"rate_limited": False}}))
    rows = [e for e in t.result.evidence if e.outcome == "too-big" and e.ttl is not None]
    assert rows and all(e.ttl is not None and e.reporter == R[1] for e in rows)
    assert any(e.outcome == "time-exceeded" for e in t.result.evidence)


def test_late_time_exceeded_for_a_big_probe_still_proves_reach() -> None:
    locator = Locator(LocateConfig(4, DST, 9000, fail_size=1501, pass_size=1500))
    requests = locator.poll(0.0)
    for r in requests:
        locator.on_sent(r, 0.0)
    for r in requests:  # every hop answers its control; hop 2 is the target
        if r.size != 1501:
            answer = TimeExceeded(R[1], 0.1) if r.ttl == 1 else Reply(0.1)
            locator.on_outcome(r.key, answer, 0.001)
    big = next(r for r in requests if r.size == 1501 and r.ttl == 2)
    locator.poll(2.0)  # the big probes time out: a miss at the target
    assert locator._misses.get(2) == 1
    locator.on_outcome(big.key, Reply(2000.0), 2.1)  # ... but its answer was only late
    assert locator._misses.get(2) == 0 and locator._reach[1501] == 2


@pytest.mark.parametrize("tokens", [6.0, 3.0, 0.0])
def test_three_targets_behind_routers_with_little_icmp_budget(tokens: float) -> None:
    """Three failing targets behind the same three routers, located at once, after
    something else has spent part (or all) of the routers' ICMP budget: the shared
    pacer spreads the probes so every target still gets the right break."""
    targets = ["198.18.9.1", "198.18.9.2", "198.18.9.3"]
    black_hole = path(seg(), seg(), seg(), seg(egress=1500), routers={3: {"ptb": False}})
    prober = SimulatedProber({t: black_hole for t in targets})
    prober._buckets.update({R[i]: _Bucket(tokens, 0.0) for i in (1, 2, 3)})
    pacer = HopPacer()
    jobs = [
        Job(Target(t, t, 4), Locator(LocateConfig(4, t, 9000, 1501, 1500, max_time_s=5.0), pacer))
        for t in targets
    ]
    elapsed = drive(prober, jobs, max_time_s=10)
    for job, t in zip(jobs, targets, strict=True):
        planner = job.planner
        assert isinstance(planner, Locator)
        result = planner.abandon(prober.now())
        b = result.break_
        assert b is not None and (b.kind, b.after, b.before) == (BreakKind.SILENT, R[3], t)
        assert result.conclusive
    assert elapsed < 5.5
