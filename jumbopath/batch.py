"""A fixed set of probes sent at once, each waited for until its answer or timeout.

The one-way test and the TCP port scan both work this way: everything they
want to know is asked in one round. :class:`OneShot` is that round, with the
planner protocol (``poll``, ``on_sent``, ``on_outcome``, ``wake_at``,
``done``); the planners built on it only judge what came back. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from jumbopath.model import Lost, Outcome, ProbeRequest


@dataclass
class OneShot:
    """Sends ``requests`` on the first poll; a probe with no answer after
    ``timeout_s`` comes to :class:`~jumbopath.model.Lost`."""

    requests: Sequence[ProbeRequest]
    """Every probe of the round (keys unique)."""
    timeout_s: float
    """Wait for an answer."""
    outcomes: dict[int, Outcome] = field(default_factory=dict)
    """Key to what became of the probe (the first outcome counts)."""
    _sent_at: dict[int, float] = field(default_factory=dict)
    _started: bool = False
    _last: float = 0.0

    @property
    def done(self) -> bool:
        """True once every probe is answered or timed out."""
        return len(self.outcomes) == len(self.requests)

    @property
    def probes_sent(self) -> int:
        """Probes that left."""
        return len(self._sent_at)

    @property
    def elapsed_s(self) -> float:
        """From the first probe to the last answer or timeout seen."""
        return round(self._last - min(self._sent_at.values()), 4) if self._sent_at else 0.0

    def poll(self, now: float) -> list[ProbeRequest]:
        """First call: every probe. Later: expire the ones past their timeout."""
        if not self._started:
            self._started = True
            return list(self.requests)
        for key, at in self._sent_at.items():
            if key not in self.outcomes and at + self.timeout_s <= now:
                self.outcomes[key] = Lost()
                self._last = max(self._last, now)
        return []

    def on_sent(self, request: ProbeRequest, now: float) -> None:
        """``request`` left."""
        self._sent_at[request.key] = now

    def on_outcome(self, key: int, outcome: Outcome, now: float) -> None:
        """What became of probe ``key`` (a later outcome for it is ignored)."""
        if key not in self.outcomes:
            self.outcomes[key] = outcome
            self._last = max(self._last, now)

    def wake_at(self) -> float | None:
        """When the oldest unanswered probe times out."""
        pending = [at for k, at in self._sent_at.items() if k not in self.outcomes]
        return min(pending) + self.timeout_s if pending else None


class OneShotPlanner:
    """The planner protocol of a planner whose probes are one :class:`OneShot`
    round (``self._round``): it only judges what came back."""

    _round: OneShot

    @property
    def done(self) -> bool:
        """True once every probe is answered or timed out."""
        return self._round.done

    @property
    def probes_sent(self) -> int:
        """Probes that left."""
        return self._round.probes_sent

    @property
    def elapsed_s(self) -> float:
        """From the first probe to the last answer or timeout seen."""
        return self._round.elapsed_s

    def poll(self, now: float) -> list[ProbeRequest]:
        """First call: every probe at once. Later: expire, then nothing."""
        return self._round.poll(now)

    def on_sent(self, request: ProbeRequest, now: float) -> None:
        """``request`` left."""
        self._round.on_sent(request, now)

    def on_outcome(self, key: int, outcome: Outcome, now: float) -> None:
        """What became of probe ``key`` (judged once the round is over)."""
        self._round.on_outcome(key, outcome, now)

    def wake_at(self) -> float | None:
        """When the oldest unanswered probe times out."""
        return self._round.wake_at()
