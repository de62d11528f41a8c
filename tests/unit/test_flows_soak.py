"""The flows and soak planners on their own: every verdict checked against the truth."""

from __future__ import annotations

import math

import pytest

from jumbopath.engine import Job, drive
from jumbopath.flows import FlowCheck, FlowConfig
from jumbopath.model import Protocol
from jumbopath.probers.base import Target
from jumbopath.probers.simulated import (
    SimPath,
    SimRouter,
    SimSegment,
    SimulatedProber,
    _flow_hash,
)
from jumbopath.soak import Soak, fisher_greater, paced

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


def test_fisher_exact_one_sided() -> None:
    # 10 of 100 big lost, none of 100 small: C(100,10) / C(200,10).
    assert fisher_greater(10, 100, 0, 100) == pytest.approx(math.comb(100, 10) / math.comb(200, 10))
    assert fisher_greater(10, 100, 0, 100) < 1e-3 < fisher_greater(5, 100, 0, 100)
    assert fisher_greater(5, 100, 5, 100) > 0.5  # alike: no evidence
    assert fisher_greater(0, 100, 0, 100) == 1.0


def test_soak_sees_big_frame_loss_and_not_plain_loss() -> None:
    def soak(path: SimPath) -> bool:
        prober = SimulatedProber({DST: path}, seed=7)
        s = Soak(paced(4, 9000, 100, 0.1))
        drive(prober, [Job(Target(DST, DST, 4), s)], max_time_s=5)
        found = s.abandon(prober.now())
        assert found.loss.big_sent == found.loss.small_sent == 100
        return found.loss.degraded

    seg = (SimSegment(), SimSegment())
    router = (SimRouter("198.18.1.1"),)
    assert soak(SimPath(seg, router, big_loss=0.2))
    assert not soak(SimPath(seg, router, loss=0.1))
    assert not soak(SimPath(seg, router))
