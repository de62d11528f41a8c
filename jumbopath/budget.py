"""Pace a planner to the far host's ICMP budget: for UDP probes, whose answers are
the target's own port unreachable messages.

Linux sends ICMP errors toward one destination in a burst of about 6 and
then about one per second (``icmp_ratelimit``, ``icmp_ratemask``); other
systems do likewise. Sent faster, UDP probes come back as silence the
search would have to read as loss. Wrapped in :class:`Budgeted`, a planner's
probes leave only as fast as the target can answer them: slow, but never a
verdict made of self-inflicted silence. Pure: time arrives as ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jumbopath.model import Outcome, ProbeRequest


@dataclass
class Budgeted:
    """A planner whose probes wait for the target's ICMP tokens."""

    inner: Any
    """The planner (same protocol: poll, on_sent, on_outcome, wake_at, done)."""
    burst: float = 6.0
    """Answers a rested host sends at once."""
    rate_per_s: float = 1.0
    """Answers it sends per second after that."""
    _tokens: float | None = None
    _stamp: float = 0.0
    _queue: list[ProbeRequest] = field(default_factory=list)

    @property
    def done(self) -> bool:
        """The inner planner's verdict is in."""
        return bool(self.inner.done)

    def _refill(self, now: float) -> None:
        if self._tokens is None:
            self._tokens, self._stamp = self.burst, now
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate_per_s)
        self._stamp = now

    def poll(self, now: float) -> list[ProbeRequest]:
        """What the inner planner wants, as far as the budget allows.

        The inner planner is asked again only once its last probes have all
        left: it plans on what it sent, not on what still waits here.
        """
        if not self._queue:
            self._queue = list(self.inner.poll(now))
        if self.inner.done:
            self._queue.clear()
            return []
        self._refill(now)
        assert self._tokens is not None
        # The token due at wake_at() may be a rounding error short of whole.
        count = min(len(self._queue), int(self._tokens + 1e-9))
        out, self._queue = self._queue[:count], self._queue[count:]
        self._tokens -= count
        return out

    def on_sent(self, request: ProbeRequest, now: float) -> None:
        """``request`` left."""
        self.inner.on_sent(request, now)

    def on_outcome(self, key: int, outcome: Outcome, now: float) -> None:
        """What became of probe ``key``."""
        self.inner.on_outcome(key, outcome, now)

    def wake_at(self) -> float | None:
        """The next token while probes wait here (the inner planner is not asked
        then), else the inner planner's own wake-up."""
        if self._queue and self._tokens is not None:
            return self._stamp + max(0.0, 1.0 - self._tokens) / self.rate_per_s
        wake: float | None = self.inner.wake_at()
        return wake
