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
from jumbopath.pacing import Pacer, PacingConfig
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
    pacing: PacingConfig | None = None,
    until: Callable[[], bool] | None = None,
) -> float:
    """Run every job until it is done or ``max_time_s`` passes. Returns elapsed seconds.

    ``on_progress``, if given, is called as ``on_progress(done_count, total)``
    whenever a job finishes. ``until``, if given, ends the drive early as soon
    as it returns true (the jobs that matter are done; the rest are optional).

    A :class:`~jumbopath.pacing.Pacer` decides which planners may send: bytes
    and probes in flight stay below what this host can take back, and only a
    few targets at a time are contacted for the first time (``pacing``;
    default: sized to the prober's receive buffer). Planners are asked in
    turn, starting one further each round, so none is starved.
    """
    start = prober.now()
    deadline = start + max_time_s
    owner: dict[int, tuple[Job[Any], int]] = {}
    config = pacing or _default_pacing(prober)
    pacer = Pacer(config)
    # A job the pacer holds back before its first probe (first contacts are
    # staggered) gets its own ``max_time_s`` from that probe on, as its planner's
    # clock starts there too; the wait for admission is bounded by the pacing.
    queued: set[int] = set()
    sent: set[int] = set()
    admit_by = start + max_time_s + config.hold_s * (len(jobs) // max(config.first_contacts, 1) + 2)
    finished = 0
    turn = 0
    for _ in range(MAX_ITERATIONS):
        now = prober.now()
        active = [job for job in jobs if not job.planner.done]
        if len(jobs) - len(active) != finished:
            finished = len(jobs) - len(active)
            if on_progress is not None:
                on_progress(finished, len(jobs))
        waiting = now < admit_by and any(id(job) in queued for job in active)
        if not active or (now >= deadline and not waiting) or (until is not None and until()):
            break
        pacer.expire(now)
        turn = (turn + 1) % len(active)
        held: set[int] = set()
        for job in active[turn:] + active[:turn]:
            if not pacer.admit(id(job), prober.now(), len(active)):
                held.add(id(job))
                if id(job) not in sent:
                    queued.add(id(job))
                continue
            if _send(prober, job, owner, pacer) and id(job) not in sent:
                sent.add(id(job))
                if id(job) in queued:
                    queued.discard(id(job))
                    deadline = max(deadline, prober.now() + max_time_s)
        # A held-back planner that wants to send now waits for the pacer, not
        # for itself: its due time would wake the loop at once, again and again.
        wakes = [
            w
            for job in active
            if (w := job.planner.wake_at()) is not None and (id(job) not in held or w > now)
        ]
        if held and (change := pacer.next_change(now)) is not None:
            wakes.append(change)
        # A planner with nothing in flight and nothing to send is polled again soon.
        limit = max(deadline, now + 0.01) if waiting else deadline
        wake = min([*wakes, limit]) if wakes else min(now + 0.01, limit)
        if held:
            wake = min(wake, now + 0.01)
        for token, outcome in prober.receive(max(0.0, wake - prober.now())):
            pacer.answered(token, prober.now())
            hit = owner.get(token)
            if hit is not None:
                job, key = hit
                job.planner.on_outcome(key, outcome, prober.now())
        _void(prober, owner, pacer)
    return prober.now() - start


def _default_pacing(prober: Prober) -> PacingConfig:
    capacity = getattr(prober, "capacity", None)
    return PacingConfig.for_buffer(capacity() if callable(capacity) else 8 << 20)


def _send(
    prober: Prober, job: Job[Any], owner: dict[int, tuple[Job[Any], int]], pacer: Pacer
) -> bool:
    """Send what ``job``'s planner asks for now; each probe is timed as it leaves.

    Returns whether the planner asked for anything."""
    asked = False
    for request in job.planner.poll(prober.now()):
        asked = True
        result = prober.send(job.target, request)
        left = prober.now()
        if isinstance(result, LocalRefused):
            job.planner.on_outcome(request.key, result, left)
        else:
            owner[result] = (job, request.key)
            pacer.sent(result, id(job), request.size, left)
            job.planner.on_sent(request, left)
    return asked


def _void(prober: Prober, owner: dict[int, tuple[Job[Any], int]], pacer: Pacer) -> None:
    """Probes whose answers this host dropped (or that never left) say nothing about
    a path: their planners forget them instead of counting them lost."""
    take = getattr(prober, "take_voided", None)
    if not callable(take):
        return
    for token in take():
        pacer.answered(token, prober.now())
        hit = owner.pop(token, None)
        if hit is None:
            continue
        job, key = hit
        void = getattr(job.planner, "void", None)
        if callable(void):
            void(key, prober.now())
