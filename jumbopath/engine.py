"""The only network loop: drives pure planners against a prober.

A planner (the MTU search, the hop localizer) proposes probes and consumes
outcomes; it never touches sockets or clocks. :func:`drive` sends what every
planner asks for, waits until the earliest moment any of them wants to be
woken, hands each outcome to the planner whose probe caused it, and stops
when all are done or the overall deadline passes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from jumbopath.model import LocalRefused, Outcome, ProbeRequest
from jumbopath.probers.base import Prober, Target


class Planner(Protocol):
    """What :func:`drive` needs from a pure decision object."""

    @property
    def done(self) -> bool:
        """True once the planner needs no more probes."""
        ...

    def poll(self, now: float) -> list[ProbeRequest]:
        """Probes to send now (also expires old ones)."""
        ...

    def on_sent(self, request: ProbeRequest, now: float) -> None:
        """``request`` left at ``now``."""
        ...

    def on_outcome(self, key: int, outcome: Outcome, now: float) -> None:
        """What became of probe ``key``."""
        ...

    def wake_at(self) -> float | None:
        """Next moment the planner wants :meth:`poll` called, if any."""
        ...


P = TypeVar("P", bound=Planner)


@dataclass(frozen=True, slots=True)
class Job(Generic[P]):
    """A planner and the target it probes; typed by its planner, so a stage gets
    its own planners back without casts."""

    target: Target
    """Where its probes go."""
    planner: P
    """What decides them."""


#: Upper bound on loop iterations, whatever the planners do.
MAX_ITERATIONS = 200_000


def drive(
    prober: Prober,
    jobs: Sequence[Job[Any]],
    *,
    max_time_s: float = 10.0,
    on_progress: Callable[[int, int], None] | None = None,
) -> float:
    """Run every job until it is done or ``max_time_s`` passes. Returns elapsed seconds.

    ``on_progress``, if given, is called as ``on_progress(done_count, total)``
    whenever a job finishes.
    """
    start = prober.now()
    deadline = start + max_time_s
    owner: dict[int, tuple[Job[Any], int]] = {}
    finished = 0
    for _ in range(MAX_ITERATIONS):
        now = prober.now()
        active = [job for job in jobs if not job.planner.done]
        if len(jobs) - len(active) != finished:
            finished = len(jobs) - len(active)
            if on_progress is not None:
                on_progress(finished, len(jobs))
        if not active or now >= deadline:
            break
        for job in active:
            for request in job.planner.poll(now):
                result = prober.send(job.target, request)
                if isinstance(result, LocalRefused):
                    job.planner.on_outcome(request.key, result, now)
                else:
                    owner[result] = (job, request.key)
                    job.planner.on_sent(request, now)
        wakes = [w for job in active if (w := job.planner.wake_at()) is not None]
        # A planner with nothing in flight and nothing to send is polled again soon.
        wake = min([*wakes, deadline]) if wakes else min(now + 0.01, deadline)
        for token, outcome in prober.receive(max(0.0, wake - prober.now())):
            hit = owner.get(token)
            if hit is not None:
                job, key = hit
                job.planner.on_outcome(key, outcome, prober.now())
    return prober.now() - start
