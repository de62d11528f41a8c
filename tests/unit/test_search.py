"""The pure MTU search against simulated paths: (path description, expected verdict)."""

from __future__ import annotations

import pytest

from jumbopath.engine import Job, drive
from jumbopath.model import Lost, Reply, TooBig
from jumbopath.probers.base import Target
from jumbopath.probers.simulated import SimPath, SimRouter, SimSegment, SimulatedProber
from jumbopath.search import MtuSearch, SearchConfig, SearchResult

ADDR = "198.18.2.2"
R1 = SimRouter("198.18.1.1")


def one_router(
    first: SimSegment = SimSegment(),
    second: SimSegment = SimSegment(),
    router: SimRouter = R1,
    **kw: object,
) -> SimPath:
    return SimPath((first, second), (router,), **kw)  # type: ignore[arg-type]


def search(
    path: SimPath, *, expected: int | None = 9000, seed: int = 1, family: int = 4
) -> SearchResult:
    prober = SimulatedProber({ADDR: path}, seed=seed)
    planner = MtuSearch(
        SearchConfig(family=family, max_size=path.segments[0].egress_mtu, expected=expected)
    )
    drive(prober, [Job(Target(ADDR, ADDR, family), planner)])
    return planner.abandon(prober.now())


# (description, path, path MTU, limited_by)
CASES = [
    ("clean 9000", one_router(), 9000, None),
    ("switch port 1500, silent", one_router(second=SimSegment(l2_mtu=1500)), 1500, None),
    ("router egress 1500, PTB", one_router(second=SimSegment(egress_mtu=1500)), 1500, "ptb"),
    (
        "router egress 1500, black hole",
        one_router(second=SimSegment(egress_mtu=1500), router=SimRouter("198.18.1.1", ptb=False)),
        1500,
        None,
    ),
    ("local NIC 1500", one_router(first=SimSegment(egress_mtu=1500)), 1500, None),
    ("odd 8950 with PTB", one_router(second=SimSegment(egress_mtu=8950)), 8950, "ptb"),
    ("odd 7777 silent", one_router(second=SimSegment(l2_mtu=7777)), 7777, None),
    ("odd 1499 silent", one_router(second=SimSegment(l2_mtu=1499)), 1499, None),
    (
        "PTB without rate limit",
        one_router(
            second=SimSegment(egress_mtu=4000), router=SimRouter("198.18.1.1", rate_limited=False)
        ),
        4000,
        "ptb",
    ),
]


@pytest.mark.parametrize(("desc", "path", "mtu", "limited_by"), CASES, ids=[c[0] for c in CASES])
def test_exact_mtu_loss_free(desc: str, path: SimPath, mtu: int, limited_by: str | None) -> None:
    found = search(path)
    assert (found.path_mtu, found.conclusive, found.limited_by) == (mtu, True, limited_by)
    assert found.probes_sent <= 40
    assert found.elapsed_s <= 0.5
    assert found.loss == 0.0


def test_ipv6_search() -> None:
    found = search(one_router(second=SimSegment(l2_mtu=1500)), family=6)
    assert found.path_mtu == 1500


def test_target_that_drops_echo_is_unreachable_not_small() -> None:
    found = search(one_router(answers_echo=False))
    assert (found.path_mtu, found.reachable, found.conclusive) == (None, False, True)


@pytest.mark.parametrize(
    ("path", "truth"),
    [
        (one_router(loss=0.2), 9000),
        (one_router(second=SimSegment(l2_mtu=1500), loss=0.2), 1500),
        (one_router(second=SimSegment(egress_mtu=1500), loss=0.2), 1500),
        (one_router(second=SimSegment(l2_mtu=7777), loss=0.2), 7777),
    ],
    ids=["clean", "silent-1500", "ptb-1500", "silent-7777"],
)
def test_twenty_percent_loss_each_way_never_gives_a_wrong_mtu(path: SimPath, truth: int) -> None:
    wrong = [seed for seed in range(300) if search(path, seed=seed).path_mtu != truth]
    assert wrong == []


def test_loss_is_measured() -> None:
    losses = [
        search(one_router(loss=0.2, second=SimSegment(l2_mtu=1500)), seed=s).loss for s in range(40)
    ]
    mean = sum(losses) / len(losses)
    assert 0.15 < mean < 0.6  # about 36% round trip


def test_bogus_too_big_is_ignored() -> None:
    """A "too big" claiming an MTU not below the probe size is impossible (RFC 5927)."""
    planner = MtuSearch(SearchConfig(family=4, max_size=9000))
    first = planner.poll(0.0)
    for req in first:
        planner.on_sent(req, 0.0)
    big = next(r for r in first if r.size == 9000)
    planner.on_outcome(big.key, TooBig(9000, "198.18.9.9", 1.0), 0.001)
    for req in first:
        if req.key != big.key:
            planner.on_outcome(req.key, Reply(1.0), 0.001)
    assert planner.abandon(0.002).ignored_icmp == 1


def test_late_reply_after_timeout_still_counts() -> None:
    planner = MtuSearch(SearchConfig(family=4, max_size=9000))
    reqs = planner.poll(0.0)
    for req in reqs:
        planner.on_sent(req, 0.0)
    small = [r for r in reqs if r.size < 9000]
    for req in small:
        planner.on_outcome(req.key, Reply(1.0), 0.001)
    big = next(r for r in reqs if r.size == 9000)
    planner.poll(1.0)  # the 9000 probe times out
    assert not planner.done
    planner.on_outcome(big.key, Reply(1000.0), 1.0)
    assert planner.done and planner.result().path_mtu == 9000


def test_bounded_in_probes_and_time() -> None:
    """A path that loses 95% can never keep the search going past its bounds."""
    found = search(one_router(loss=0.95))
    assert found.probes_sent <= SearchConfig(family=4, max_size=9000).max_probes
    assert found.elapsed_s <= SearchConfig(family=4, max_size=9000).max_time_s + 1


def test_lost_outcome_is_silence_not_a_verdict() -> None:
    planner = MtuSearch(SearchConfig(family=4, max_size=9000))
    reqs = planner.poll(0.0)
    for req in reqs:
        planner.on_sent(req, 0.0)
        planner.on_outcome(req.key, Lost(), 0.01)
    assert not planner.done
