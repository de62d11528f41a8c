"""Loss that only hits big frames: a pure planner for a short soak at the path MTU.

A bad optic, a dirty fibre or CRC errors at jumbo size drop a few percent
of long frames while every small ping passes and the MTU search succeeds
(its confirmations only need *some* big probes through). The soak sends
pairs of echo probes, one at the path MTU and one small, paced evenly (so
that self-inflicted queueing hits both alike), and compares their loss.

The test (one-sided Fisher exact test on the 2x2 table big/small x
lost/answered): the probability, if big and small packets were lost alike,
of seeing at least as many big ones lost as were, given how many were lost
in all. The path is *degraded* when that probability is below
``error_rate`` (1e-3 by default). With the default 100 pairs this flags
roughly 10% or more big-frame loss over a clean small-frame baseline; a
longer soak (``--soak N``) sees smaller differences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from jumbopath.model import Outcome, ProbeRequest, Reply, SoakLoss
from jumbopath.sizes import CONTROL_SIZE

#: Time between pairs: paced evenly, so self-inflicted queueing hits big and small alike.
SPACING_S = 0.004


@dataclass(frozen=True, slots=True)
class SoakConfig:
    """One soak."""

    family: int
    """4 or 6."""
    size: int
    """The big size (the path MTU)."""
    pairs: int = 100
    """Big and small probe pairs."""
    spacing_s: float = SPACING_S
    """Time between pairs."""
    timeout_s: float = 0.3
    """Wait for an answer."""
    error_rate: float = 1e-3
    """Accepted chance of calling a path degraded when big and small are lost alike."""
    max_time_s: float = 1.2
    """Hard bound on time."""


@dataclass(frozen=True, slots=True)
class SoakResult:
    """What the soak saw."""

    loss: SoakLoss
    """Both losses, their counts and the verdict."""
    elapsed_s: float
    """From the first probe to the verdict."""


def paced(family: int, size: int, pairs: int, timeout_s: float) -> SoakConfig:
    """A soak of ``pairs`` pairs, given the time to send them all and hear the last."""
    bound = max(1.2, pairs * SPACING_S + timeout_s + 0.2)
    return SoakConfig(family, size, pairs, timeout_s=timeout_s, max_time_s=bound)


def fisher_greater(big_lost: int, big_sent: int, small_lost: int, small_sent: int) -> float:
    """One-sided Fisher exact test: P(at least ``big_lost`` of the losses fall on big probes)."""
    total, lost = big_sent + small_sent, big_lost + small_lost
    if total == 0 or lost == 0:
        return 1.0
    denominator = math.comb(total, lost)
    top = min(lost, big_sent)
    tail = sum(
        math.comb(big_sent, k) * math.comb(small_sent, lost - k)
        for k in range(big_lost, top + 1)
        if lost - k <= small_sent
    )
    return min(1.0, tail / denominator)


@dataclass
class Soak:
    """Sends the pairs paced, then judges. Same planner protocol as the search."""

    config: SoakConfig
    _pending: dict[int, tuple[bool, float | None]] = field(default_factory=dict)
    _next_key: int = 0
    _pairs_sent: int = 0
    _next_at: float | None = None
    _started: float | None = None
    _last: float = 0.0
    _done: bool = False
    big_lost: int = 0
    small_lost: int = 0
    big_sent: int = 0
    small_sent: int = 0

    @property
    def done(self) -> bool:
        """True once every pair is sent and answered or timed out."""
        return self._done

    @property
    def probes_sent(self) -> int:
        """Probes sent."""
        return self.big_sent + self.small_sent

    def poll(self, now: float) -> list[ProbeRequest]:
        """Expire, then the next pair when its time has come."""
        cfg = self.config
        if self._started is None:
            self._started = self._next_at = now
        for key, (big, at) in list(self._pending.items()):
            if at is not None and at + cfg.timeout_s <= now:
                del self._pending[key]
                self._lost(big, now)
        late = now >= self._started + cfg.max_time_s
        if self._pairs_sent >= cfg.pairs or late:
            self._done = not self._pending or late
            return []
        assert self._next_at is not None
        if now < self._next_at:
            return []
        self._next_at = now + cfg.spacing_s
        self._pairs_sent += 1
        return [self._request(cfg.size, True), self._request(CONTROL_SIZE[cfg.family], False)]

    def _request(self, size: int, big: bool) -> ProbeRequest:
        key = self._next_key
        self._next_key += 1
        self._pending[key] = (big, None)
        return ProbeRequest(key, size)

    def _lost(self, big: bool, now: float) -> None:
        self._last = max(self._last, now)
        if big:
            self.big_lost += 1
        else:
            self.small_lost += 1

    def on_sent(self, request: ProbeRequest, now: float) -> None:
        """``request`` left."""
        big, _ = self._pending[request.key]
        self._pending[request.key] = (big, now)
        if big:
            self.big_sent += 1
        else:
            self.small_sent += 1

    def on_outcome(self, key: int, outcome: Outcome, now: float) -> None:
        """An echo reply answers; anything else counts as lost."""
        hit = self._pending.pop(key, None)
        if hit is None:
            return
        if isinstance(outcome, Reply):
            self._last = max(self._last, now)
        else:
            self._lost(hit[0], now)

    def wake_at(self) -> float | None:
        """The next pair's time, or the oldest probe's timeout."""
        times = [at + self.config.timeout_s for _, at in self._pending.values() if at is not None]
        if self._next_at is not None and self._pairs_sent < self.config.pairs:
            times.append(self._next_at)
        return min(times) if times else None

    def abandon(self, now: float) -> SoakResult:
        """The verdict."""
        self._done = True
        for _key, (big, at) in list(self._pending.items()):
            if at is not None:
                self._lost(big, now)
        self._pending.clear()
        p = fisher_greater(self.big_lost, self.big_sent, self.small_lost, self.small_sent)
        started = self._started if self._started is not None else now
        loss = SoakLoss(
            size=self.config.size,
            big_sent=self.big_sent,
            big_lost=self.big_lost,
            small_sent=self.small_sent,
            small_lost=self.small_lost,
            p_value=round(p, 6),
            degraded=p < self.config.error_rate and self.big_lost > self.small_lost,
        )
        return SoakResult(loss, round(max(self._last, started) - started, 4))
