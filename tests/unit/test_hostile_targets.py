"""Hundreds of silent targets: every one gets a verdict, none trips the search.

The pacer staggers first contacts (a few dozen targets at a time), so late
targets start their search after the first ones' budget is spent; the engine
gives each its own ``max_time_s`` from its first probe, and a wake-up that
falls a rounding error short of a planner's due time no longer spins.
"""

from __future__ import annotations

import pytest

from jumbopath.environment import SimulatedEnvironment
from jumbopath.model import Cause, Status
from jumbopath.pipeline import CheckConfig, check
from jumbopath.probers.simulated import SimPath, SimSegment


def silent(count: int) -> dict[str, SimPath]:
    quiet = SimPath(
        (SimSegment(9000, 9000),), answers_echo=False, answers_udp=False, answers_tcp=False
    )
    return {f"198.18.{10 + i // 250}.{1 + i % 250}": quiet for i in range(count)}


# (targets, --max-time)
CASES = [(250, 5.0), (300, 0.1)]


@pytest.mark.parametrize(("count", "max_time"), CASES)
def test_silent_targets_each_get_a_verdict(count: int, max_time: float) -> None:
    paths = silent(count)
    report = check(
        CheckConfig(tuple(paths), expect=9000, max_time_s=max_time), SimulatedEnvironment(paths)
    )
    assert [r.address for r in report.results] == list(paths)
    for r in report.results:
        assert r.path_mtu is None
        assert (r.status, r.cause) in {
            (Status.UNREACHABLE, Cause.NO_ANSWER),
            (Status.ERROR, Cause.TIME_LIMIT),
        }
