"""Which way big packets die: a pure one-way test.

An echo probe tests both directions at once: the request travels at the
probe size, and so does the reply. When it fails, the fault can be on the
way there or on the way back (asymmetric routing, a return-path switch
port). A UDP datagram of the same size to a closed port is answered by a
small ICMP "port unreachable" (RFC 792, RFC 4443 section 3.1), which comes
back whatever the return path's MTU, so it tests the forward direction
alone. This is the trick classic traceroute uses. A TCP SYN of the same
size to a closed port works the same way (a small reset comes back), and
its answers are not rate-limited: the pipeline uses it where the prober
can send TCP.

Small UDP control probes go out alongside: a target (or firewall) that
never answers UDP at all tells us nothing, and the test says so.

The target rate-limits ICMP answers (Linux: a burst of 6 per peer, then
one a second), and an earlier run may have spent part of the burst. The big
probes therefore go first: while any answer is left, the first datagrams to
arrive get it, so a small answer after silent big ones proves the big ones
did not arrive, and a spent budget silences the controls too (no verdict)
instead of faking "forward".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from jumbopath.batch import OneShot, OneShotPlanner
from jumbopath.confirm import proves_drop, silences_needed
from jumbopath.model import (
    Answer,
    Direction,
    Outcome,
    ProbeRequest,
    Protocol,
    Reply,
    TooBig,
)
from jumbopath.sizes import CONTROL_SIZE

#: Most ICMP errors a Linux host sends in one burst (``icmp_ratelimit``): all
#: one-way probes of a test go within it.
ICMP_BURST = 6
#: Loss rate assumed at least: a clean search proves little about the far host's limit.
MIN_LOSS = 0.1


class _Seen(str, Enum):
    ARRIVED = "arrived"
    TOO_BIG = "too-big"
    LOST = "lost"


@dataclass(frozen=True, slots=True)
class DirectionConfig:
    """One one-way test."""

    family: int
    """4 or 6."""
    size: int
    """The smallest size that fails round trip (IP packet bytes): the path MTU
    plus one, so the limit tested is the one that sets the path MTU."""
    loss: float = 0.0
    """Round-trip loss rate measured by the search."""
    big_probes: int = 3
    """UDP probes at ``size``; with the controls, within a Linux ICMP burst (6)."""
    control_probes: int = 2
    """Small UDP probes."""
    timeout_s: float = 0.3
    """Wait for the answers."""
    error_rate: float = 0.01
    """Accepted chance that "forward" is really loss."""
    protocol: Protocol = Protocol.UDP
    """One-way probe protocol (answered small whatever the return path carries)."""

    @classmethod
    def for_loss(
        cls, family: int, size: int, loss: float, error_rate: float = 0.01
    ) -> DirectionConfig:
        """Enough big probes for the loss seen, all within one ICMP burst of the target."""
        p = max(loss, MIN_LOSS)
        big = min(ICMP_BURST - 1, max(3, silences_needed(p, error_rate)))
        return cls(
            family=family,
            size=size,
            loss=p,
            big_probes=big,
            control_probes=ICMP_BURST - big,
            error_rate=error_rate,
        )


@dataclass
class DirectionTest(OneShotPlanner):
    """Sends the probes once, then judges. Same planner protocol as the search."""

    config: DirectionConfig
    _round: OneShot = field(init=False)

    def __post_init__(self) -> None:
        cfg = self.config
        # Big first: they take the target's answer budget before the controls.
        sizes = [cfg.size] * cfg.big_probes + [CONTROL_SIZE[cfg.family]] * cfg.control_probes
        requests = [ProbeRequest(k, size, protocol=cfg.protocol) for k, size in enumerate(sizes)]
        self._round = OneShot(requests, cfg.timeout_s)

    def abandon(self, now: float) -> Direction | None:
        """The verdict: forward, return or None (cannot tell). Probes still out
        count for nothing."""
        cfg = self.config
        sizes = {r.key: r.size for r in self._round.requests}
        seen = {k: _seen(o) for k, o in self._round.outcomes.items()}
        big = [o for k, o in seen.items() if sizes[k] == cfg.size]
        small = [o for k, o in seen.items() if sizes[k] == CONTROL_SIZE[cfg.family]]
        if _Seen.ARRIVED in big:
            return Direction.RETURN
        if _Seen.TOO_BIG in big:
            return Direction.FORWARD
        lost_big = sum(1 for o in big if o is _Seen.LOST)
        proven = proves_drop(lost_big, max(cfg.loss, MIN_LOSS), cfg.error_rate)
        if _Seen.ARRIVED in small and proven:
            return Direction.FORWARD
        return None


def _seen(outcome: Outcome) -> _Seen:
    """A small answer from the target means the probe arrived (the target's own port
    unreachable for UDP, or its SYN-ACK/RST for TCP: the prober reports these as a
    small Reply; another host's port unreachable is not one); a too-big, that it did not."""
    if isinstance(outcome, Reply) and outcome.answer is not Answer.ECHO_REPLY:
        return _Seen.ARRIVED
    if isinstance(outcome, TooBig):
        return _Seen.TOO_BIG
    return _Seen.LOST
