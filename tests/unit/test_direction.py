"""The one-way test's verdict from what its probes came to."""

from __future__ import annotations

import pytest

from jumbopath.direction import DirectionConfig, DirectionTest
from jumbopath.model import (
    Answer,
    Lost,
    Outcome,
    ProbeRequest,
    Protocol,
    Reply,
    TooBig,
    Unreach,
    Unreachable,
)
from jumbopath.sizes import CONTROL_SIZE

ARRIVED = Reply(0.2, Answer.PORT_UNREACHABLE)
PROHIBITED = Unreachable(Unreach.PROHIBITED, "198.18.1.1")


def judge(config: DirectionConfig, small: Outcome | None, big: Outcome | None) -> str | None:
    test = DirectionTest(config)
    requests = test.poll(0.0)
    assert all(r.protocol is Protocol.UDP for r in requests)
    for r in requests:
        test.on_sent(r, 0.0)
    for r in requests:
        outcome = small if r.size == CONTROL_SIZE[config.family] else big
        if outcome is not None:
            test.on_outcome(r.key, outcome, 0.001)
    test.poll(1.0)  # the rest time out
    assert test.done
    return test.abandon(1.0)


@pytest.mark.parametrize(
    ("small", "big", "loss", "verdict"),
    [
        (ARRIVED, ARRIVED, 0.0, "return"),  # big datagrams arrive: the answers die on the way back
        (ARRIVED, None, 0.0, "forward"),  # small arrive, big vanish
        (ARRIVED, TooBig(1500, "198.18.1.1", 0.1), 0.0, "forward"),
        (None, None, 0.0, None),  # nothing answers UDP: cannot tell
        (PROHIBITED, None, 0.0, None),  # a firewall answers, not the target
        (Unreachable(Unreach.PORT, "198.18.1.1"), None, 0.0, None),  # another host's, not proof
        (ARRIVED, Lost(), 0.36, None),  # 36% loss: 3-5 silent probes are not proof
    ],
)
def test_verdicts(
    small: Outcome | None, big: Outcome | None, loss: float, verdict: str | None
) -> None:
    config = DirectionConfig(family=4, size=9000, loss=loss)
    assert judge(config, small, big) == verdict


def test_probe_budget_fits_one_icmp_burst() -> None:
    for loss in (0.0, 0.2, 0.36, 0.9):
        config = DirectionConfig.for_loss(6, 9000, loss)
        assert config.big_probes + config.control_probes == 6
        assert 3 <= config.big_probes <= 5


def test_big_probes_take_a_spent_answer_budget_first() -> None:
    """The target had two ICMP answers left (an earlier run spent the rest of
    its burst of 6): the big UDP datagrams arrive and get them, so the verdict
    is return, not "small answered, big silent" (forward)."""
    from jumbopath.engine import Job, drive
    from jumbopath.probers.base import Target
    from jumbopath.probers.simulated import SimPath, SimSegment, SimulatedProber

    dst = "198.18.9.9"
    prober = SimulatedProber({dst: SimPath((SimSegment(9000, 9000),), (), return_mtu=4000)})
    target = Target(dst, dst, 4)
    earlier = [
        prober.send(target, ProbeRequest(100 + i, 100, protocol=Protocol.UDP)) for i in range(4)
    ]
    assert len({t for t, _ in prober.receive(0.5)} & set(earlier)) == 4
    test = DirectionTest(DirectionConfig(family=4, size=4001, protocol=Protocol.UDP))
    drive(prober, [Job(target, test)], max_time_s=2.0)
    sizes = {r.key: r.size for r in test._round.requests}
    answered = [sizes[k] for k, o in test._round.outcomes.items() if isinstance(o, Reply)]
    assert answered == [4001, 4001]
    assert test.abandon(prober.now()) == "return"
