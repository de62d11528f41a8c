"""The flows and soak planners on their own: every verdict checked against the truth."""

from __future__ import annotations

import json
import math
import random
from dataclasses import replace

import pytest

from jumbopath.engine import Job, drive
from jumbopath.flows import FlowCheck, FlowConfig
from jumbopath.model import Lost, Outcome, Protocol, Reply, SoakStop
from jumbopath.pathstate import CheckConfig
from jumbopath.probers.base import Target
from jumbopath.probers.simulated import (
    SimPath,
    SimRouter,
    SimSegment,
    SimulatedProber,
    _flow_hash,
)
from jumbopath.schema import _soak, soak_dict
from jumbopath.soak import (
    Soak,
    SoakConfig,
    binomial_cdf,
    judge,
    paced,
    unlike_steps,
    wald_bounds,
)

DST = "198.18.9.9"


def legs(bad_l2: int = 1500, loss: float = 0.0) -> SimPath:
    good = SimPath((SimSegment(), SimSegment()), (SimRouter("198.18.1.1"),), loss=loss)
    bad = SimPath((SimSegment(), SimSegment(9000, bad_l2)), (SimRouter("198.18.2.1"),), loss=loss)
    return SimPath((SimSegment(),), (), legs=(good, bad))


@pytest.mark.parametrize("loss", [0.0, 0.1])
def test_flows_fail_exactly_on_the_bad_leg(loss: float) -> None:
    prober = SimulatedProber({DST: legs(loss=loss)}, seed=3)
    check = FlowCheck(FlowConfig(family=4, size=9000, protocol=Protocol.TCP))
    drive(prober, [Job(Target(DST, DST, 4), check)], max_time_s=5)
    found = check.abandon(prober.now())
    on_bad = {p for p in range(50000, 50032) if _flow_hash(p) % 2 == 1}
    assert set(found.flows.failing) <= on_bad  # never blames a flow on the good leg
    assert set(found.flows.passing) == set(range(50000, 50032)) - on_bad - set(found.flows.unknown)
    if loss == 0.0:
        assert set(found.flows.failing) == on_bad and not found.flows.unknown


def test_flows_all_pass_when_every_leg_carries_the_size() -> None:
    prober = SimulatedProber({DST: legs(bad_l2=9000)})
    check = FlowCheck(FlowConfig(family=4, size=9000, protocol=Protocol.TCP, flows=8))
    drive(prober, [Job(Target(DST, DST, 4), check)], max_time_s=5)
    found = check.abandon(prober.now())
    assert (len(found.flows.passing), found.flows.failing) == (8, ())


def test_wald_double_dichotomy_steps_and_bounds() -> None:
    # An unlike pair is a coin with P(big lost) = u / (1 + u); u = 1 when loss is alike.
    on_big, on_small = unlike_steps(10)
    assert (on_big, on_small) == pytest.approx((math.log(20 / 11), math.log(2 / 11)))
    lower, upper = wald_bounds(1e-3, 0.01)
    assert (lower, upper) == pytest.approx((math.log(0.01 / 0.999), math.log(1000)))
    # Twelve big-only pairs and nothing else: degraded; eleven: not yet.
    assert 11 * on_big < upper <= 12 * on_big
    assert binomial_cdf(0, 459, 0.01) < 0.01 < binomial_cdf(0, 458, 0.01)
    assert binomial_cdf(2, 10, 0.5) == pytest.approx(56 / 1024)
    assert binomial_cdf(5, 5, 0.3) == 1.0


CFG = SoakConfig(family=4, size=9000)
ON_BIG, ON_SMALL = unlike_steps(CFG.odds_ratio)


@pytest.mark.parametrize(
    ("llr", "big_lost", "pairs", "stop"),
    [
        (12 * ON_BIG, 12, 600, SoakStop.BIG_LOSS),
        (11 * ON_BIG, 11, 600, None),  # doubtful: keep sending
        (11 * ON_BIG + ON_SMALL + ON_SMALL, 11, 600, None),
        (3 * ON_SMALL, 0, 50, SoakStop.ALIKE),
        (0.0, 0, 459, SoakStop.CLEAN),
        (0.0, 0, 458, None),
        (ON_BIG, 1, 661, None),  # one big loss: the bound needs more pairs
        (ON_BIG, 1, 662, SoakStop.CLEAN),
    ],
)
def test_judge(llr: float, big_lost: int, pairs: int, stop: SoakStop | None) -> None:
    assert judge(CFG, llr, big_lost, pairs) is stop


def soak_in_memory(big_loss: float, small_loss: float, seed: int, pairs: int = 1000) -> Soak:
    """The planner fed directly: each probe lost with its chance, answered at once otherwise."""
    rng = random.Random(seed)
    soak = Soak(SoakConfig(family=4, size=9000, pairs=pairs, max_time_s=1e9))
    now = 0.0
    for _ in range(4 * pairs):
        if soak.done:
            break
        for request in soak.poll(now):
            soak.on_sent(request, now)
            chance = big_loss if request.size == 9000 else small_loss
            outcome: Outcome = Lost() if rng.random() < chance else Reply(1.0)
            soak.on_outcome(request.key, outcome, now)
        now += CFG.spacing_s
    return soak


def test_false_alarms_stay_below_the_stated_rate() -> None:
    """Loss of every size alike: the chance of ever calling it degraded is at most
    ``error_rate`` (1e-3) by Ville's inequality, whatever the loss rate."""
    runs = 3000
    alarms = 0
    for seed in range(runs):
        soak = soak_in_memory(0.1, 0.1, seed)
        result = soak.abandon(0.0)
        alarms += result.loss.degraded
        assert result.loss.stop is not SoakStop.CLEAN  # 10% loss is never bounded below 1%
    # At most 3 expected at the bound (measured: 1 in 3000 with these seeds).
    assert alarms <= 6


@pytest.mark.parametrize(
    ("big_loss", "small_loss", "caught", "stops"),
    [
        (0.0199, 0.0, 48, None),  # 1% each way: 2% of echoes
        (0.0975, 0.0, 50, None),
        (0.0, 0.0, 0, {SoakStop.CLEAN}),
        (0.02, 0.02, 0, {SoakStop.ALIKE, SoakStop.LIMIT}),
    ],
)
def test_soak_verdicts_over_seeds(
    big_loss: float, small_loss: float, caught: int, stops: set[SoakStop] | None
) -> None:
    results = [soak_in_memory(big_loss, small_loss, seed).abandon(0.0).loss for seed in range(50)]
    degraded = sum(r.degraded for r in results)
    assert degraded >= caught if caught else degraded == 0
    if stops is not None:
        assert {r.stop for r in results} <= stops
    for r in results:
        assert r.big_sent == r.small_sent <= 1000
        assert r.degraded == (r.stop is SoakStop.BIG_LOSS) == (r.p_value <= CFG.error_rate)


def test_a_clean_soak_stops_early_and_plain_loss_stops_fast() -> None:
    clean = soak_in_memory(0.0, 0.0, 1)
    assert (clean.judged, clean.probes_sent, clean.stop) == (459, 918, SoakStop.CLEAN)
    lossy = soak_in_memory(0.1, 0.1, 1)
    assert lossy.stop is SoakStop.ALIKE and lossy.judged < 459


def test_pairs_in_flight_at_the_verdict_are_not_counted_lost() -> None:
    soak = Soak(SoakConfig(family=4, size=9000, pairs=10, timeout_s=1.0, max_time_s=0.5))
    sent = []
    now = 0.0
    while not soak.done and now < 1.0:
        for request in soak.poll(now):
            soak.on_sent(request, now)
            sent.append(request)
        now += 0.001
    assert len(sent) == 20  # every pair left; none answered before the time bound
    loss = soak.abandon(now).loss
    assert (loss.big_sent, loss.big_lost, loss.small_lost, loss.stop) == (0, 0, 0, SoakStop.LIMIT)
    assert not loss.degraded


def test_a_voided_probe_voids_its_pair() -> None:
    soak = Soak(SoakConfig(family=4, size=9000, pairs=1))
    big, small = soak.poll(0.0)
    soak.on_sent(big, 0.0)
    soak.on_sent(small, 0.0)
    soak.void(big.key, 0.01)
    soak.on_outcome(small.key, Reply(1.0), 0.01)
    soak.poll(0.02)
    assert soak.done and soak.abandon(0.02).loss.big_sent == 0


def test_soak_on_a_simulated_path() -> None:
    def soak(path: SimPath, seed: int) -> tuple[bool, SoakStop | None, float]:
        prober = SimulatedProber({DST: path}, seed=seed)
        s = Soak(paced(4, 9000, 1000, 0.1))
        drive(prober, [Job(Target(DST, DST, 4), s)], max_time_s=5)
        found = s.abandon(prober.now())
        return found.loss.degraded, found.loss.stop, found.elapsed_s

    seg = (SimSegment(), SimSegment())
    router = (SimRouter("198.18.1.1"),)
    assert sum(soak(SimPath(seg, router, big_loss=0.02), seed)[0] for seed in range(10)) >= 9
    for seed in range(5):
        assert soak(SimPath(seg, router, loss=0.05), seed)[:2] == (False, SoakStop.ALIKE)
    degraded, stop, elapsed = soak(SimPath(seg, router), 0)
    assert (degraded, stop) == (False, SoakStop.CLEAN) and elapsed < 0.7


def test_the_soak_reads_back_from_json_and_old_documents_stay_readable() -> None:
    loss = soak_in_memory(0.0975, 0.0, 2).abandon(0.0).loss
    assert loss.degraded and loss.big_only >= 12 and loss.stop is SoakStop.BIG_LOSS
    doc = soak_dict(loss)
    assert (doc["stop"], doc["big_only"], doc["small_only"]) == ("big-frame-loss", loss.big_only, 0)
    assert _soak(json.loads(json.dumps(doc))) == loss
    old = {k: v for k, v in doc.items() if k not in ("stop", "big_only", "small_only")}
    back = _soak(old)
    assert back is not None and (back.stop, back.big_only, back.degraded) == (None, 0, True)
    assert _soak({**doc, "stop": "no-such-stop"}) == replace(loss, stop=None)


def test_the_default_soak_is_at_most_1000_pairs_1_ms_apart_within_a_bound() -> None:
    assert CheckConfig(("198.18.0.1",)).soak == 2000  # probes: 1000 pairs
    cfg = paced(4, 9000, 2000 // 2, 0.1)
    assert (cfg.pairs, cfg.spacing_s) == (1000, 0.001)
    assert cfg.max_time_s == pytest.approx(2.3)
    soak = Soak(cfg)
    assert [r.size for r in soak.poll(0.0)] == [9000, 84]
    assert soak.poll(0.0009) == [] and len(soak.poll(0.001)) == 2
