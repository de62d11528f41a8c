"""The only network loop: drives pure planners against a prober.

A planner (the MTU search, the hop localizer) proposes probes and consumes
outcomes; it never touches sockets or clocks. :func:`drive` sends what every
planner asks for, waits until the earliest moment any of them wants to be
woken, hands each outcome to the planner whose probe caused it, and stops
when all are done or the overall deadline passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from jumbopath.direction import DirectionConfig, DirectionTest
from jumbopath.egress import Egress, egress, resolve
from jumbopath.errors import CannotMeasure, UsageError
from jumbopath.locate import HopPacer, LocateConfig, LocateResult, Locator
from jumbopath.model import (
    Break,
    BreakKind,
    LocalRefused,
    Outcome,
    PathResult,
    ProbeRequest,
    Report,
    Stage,
    Status,
)
from jumbopath.pacing import Pacer, PacingConfig
from jumbopath.probers.base import Prober, Target
from jumbopath.search import MIN_MTU, MtuSearch, SearchConfig, SearchResult
from jumbopath.sizes import check_mtu
from jumbopath.triangulate import triangulate


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


@dataclass(frozen=True, slots=True)
class Job:
    """A planner and the target it probes."""

    target: Target
    """Where its probes go."""
    planner: Planner
    """What decides them."""


#: Upper bound on loop iterations, whatever the planners do.
MAX_ITERATIONS = 200_000


def drive(
    prober: Prober,
    jobs: Sequence[Job],
    *,
    max_time_s: float = 10.0,
    on_progress: object = None,
    pacing: PacingConfig | None = None,
) -> float:
    """Run every job until it is done or ``max_time_s`` passes. Returns elapsed seconds.

    ``on_progress``, if given, is called as ``on_progress(done_count, total)``
    whenever a job finishes.

    A :class:`~jumbopath.pacing.Pacer` decides which planners may send: bytes
    and probes in flight stay below what this host can take back, and only a
    few targets at a time are contacted for the first time (``pacing``;
    default: sized to the prober's receive buffer). Planners are asked in
    turn, starting one further each round, so none is starved.
    """
    start = prober.now()
    deadline = start + max_time_s
    owner: dict[int, tuple[Job, int]] = {}
    pacer = Pacer(pacing or _default_pacing(prober))
    finished = 0
    turn = 0
    for _ in range(MAX_ITERATIONS):
        now = prober.now()
        active = [job for job in jobs if not job.planner.done]
        if len(jobs) - len(active) != finished:
            finished = len(jobs) - len(active)
            if callable(on_progress):
                on_progress(finished, len(jobs))
        if not active or now >= deadline:
            break
        pacer.expire(now)
        turn = (turn + 1) % len(active)
        held_back = False
        for job in active[turn:] + active[:turn]:
            if not pacer.admit(id(job), prober.now(), len(active)):
                held_back = True
                continue
            _send(prober, job, owner, pacer)
        wakes = [w for job in active if (w := job.planner.wake_at()) is not None]
        if held_back and (change := pacer.next_change(now)) is not None:
            wakes.append(change)
        # A planner with nothing in flight and nothing to send is polled again soon.
        wake = min([*wakes, deadline]) if wakes else min(now + 0.01, deadline)
        if held_back:
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


def _send(prober: Prober, job: Job, owner: dict[int, tuple[Job, int]], pacer: Pacer) -> None:
    """Send what ``job``'s planner asks for now; each probe is timed as it leaves."""
    for request in job.planner.poll(prober.now()):
        result = prober.send(job.target, request)
        left = prober.now()
        if isinstance(result, LocalRefused):
            job.planner.on_outcome(request.key, result, left)
        else:
            owner[result] = (job, request.key)
            pacer.sent(result, id(job), request.size, left)
            job.planner.on_sent(request, left)


def _void(prober: Prober, owner: dict[int, tuple[Job, int]], pacer: Pacer) -> None:
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


# --------------------------------------------------------------------------
# check: the exact path MTU to many targets at once


@dataclass(frozen=True, slots=True)
class CheckConfig:
    """What ``jumbopath check`` was asked to do."""

    targets: tuple[str, ...]
    """Names or addresses as typed."""
    expect: int | None = None
    """MTU every path must carry; None: each path's egress interface MTU."""
    family: int | None = None
    """4, 6, or None for every family a name resolves to."""
    max_time_s: float = 5.0
    """Bound on probing time for the whole run."""


def _result_for(
    target: Target,
    eg: Egress,
    expected: int | None,
    found: SearchResult,
    ignored: int,
) -> PathResult:
    notes: list[str] = []
    status: Status
    error = None
    mtu = found.path_mtu
    if not found.reachable:
        status = Status.UNREACHABLE if found.conclusive else Status.ERROR
        why = found.unreachable_reason
        notes.append(
            f"no answer from {target.address}"
            + (f" ({why})" if why else ": it drops echo requests, is down, or the path is cut")
        )
        if not found.conclusive:
            error = "no answer before the time limit"
    elif expected is not None and mtu is not None and mtu >= expected:
        status = Status.OK
    elif not found.conclusive:
        status = Status.ERROR
        error = (
            f"inconclusive: {mtu} passes, larger sizes unproven after "
            f"{found.probes_sent} probes (loss {found.loss:.0%})"
        )
    else:
        status = Status.BELOW
    if found.loss > 0 and found.reachable:
        notes.append(
            f"{found.loss:.0%} of probes that should pass were lost; "
            "sizes were retried until loss could not explain the result"
        )
    if ignored:
        notes.append(
            f"{ignored} ICMP error(s) about {target.address} ignored: they quoted no probe "
            "of this run or claimed an impossible MTU (RFC 5927)"
        )
    # What the kernel's path MTU cache says, before and after the run
    # (after: it may have learnt from the probes' errors, or from forgeries).
    cached = eg.route_mtu
    try:
        after = egress(target).route_mtu
    except CannotMeasure:
        after = None
    for value in dict.fromkeys(v for v in (cached, after) if v is not None):
        if mtu is not None and eg.interface_mtu is not None and mtu != value < eg.interface_mtu:
            notes.append(
                f"the kernel has cached a path MTU of {value} toward {target.address}, "
                f"but {mtu} was measured: applications here use {value} until it "
                f"expires (`ip route flush cache` clears it)"
            )
    cached = after if after is not None else cached
    return PathResult(
        target=target.name,
        address=target.address,
        family=target.family,
        status=status,
        expected_mtu=expected,
        path_mtu=mtu,
        interface=eg.interface,
        interface_mtu=eg.interface_mtu,
        loss=found.loss if found.reachable else 1.0,
        probes_sent=found.probes_sent,
        elapsed_s=found.elapsed_s,
        stages=(Stage("search", found.probes_sent, found.elapsed_s),),
        evidence=found.evidence,
        cached_mtu=cached,
        ignored_icmp=ignored,
        notes=tuple(notes),
        error=error,
    )


def check(
    config: CheckConfig,
    prober: Prober | None = None,
    on_progress: object = None,
    *,
    trace_all: bool = False,
) -> Report:
    """Find the exact path MTU to every target, all at once.

    Every target below expectation then gets its break located (all at once,
    see :func:`locate`); with ``trace_all`` every target gets its hop map.
    """
    if not config.targets:
        raise UsageError(
            "no targets given: name at least one host or address, e.g. jumbopath check 198.18.2.1"
        )
    if config.expect is not None:
        check_mtu(config.expect)
        if config.family == 6 and config.expect < MIN_MTU[6]:
            raise UsageError(
                f"--expect {config.expect} is below the IPv6 minimum MTU of 1280 (RFC 8200)"
            )
    targets = resolve(list(config.targets), config.family)
    results: dict[Target, PathResult] = {}
    jobs: list[Job] = []
    routes: dict[Target, Egress] = {}
    for target in targets:
        expected = config.expect
        if expected is not None and target.family == 6 and expected < MIN_MTU[6]:
            expected = MIN_MTU[6]
        try:
            eg = egress(target)
        except CannotMeasure as exc:
            results[target] = PathResult(
                target=target.name,
                address=target.address,
                family=target.family,
                status=Status.ERROR,
                expected_mtu=config.expect,
                error=str(exc),
            )
            continue
        routes[target] = eg
        search = MtuSearch(
            SearchConfig(
                family=target.family,
                max_size=eg.interface_mtu or 65535,
                expected=expected,
                max_time_s=config.max_time_s,
            )
        )
        jobs.append(Job(target, search))
    if not jobs:
        # Nothing could be measured at all: say why in one line (exit 3).
        first = next(iter(results.values()))
        raise CannotMeasure(first.error or "nothing could be measured")
    own = prober is None
    if prober is None:
        from jumbopath.probers.raw import RawProber

        prober = RawProber()
    try:
        drive(prober, jobs, max_time_s=config.max_time_s + 1.0, on_progress=on_progress)
        timeouts: dict[Target, float] = {}
        for job in jobs:
            planner = job.planner
            assert isinstance(planner, MtuSearch)
            timeouts[job.target] = planner.timeout_s()
            found = planner.abandon(prober.now())
            eg = routes[job.target]
            expected = config.expect if config.expect is not None else eg.interface_mtu
            results[job.target] = _result_for(
                job.target, eg, expected, found, prober.ignored(job.target)
            )
        # Locate breaks and run the one-way tests in the same drive.
        one_way, decided = plan_directions(results, routes, timeouts)
        results.update(decided)
        results.update(locate(prober, results, routes, trace_all=trace_all, alongside=one_way))
        results.update(finish_directions(prober, results, one_way))
        results.update(local_side(results))
    finally:
        if own:
            prober.close()
    ordered = tuple(results[t] for t in targets)
    return Report(expected_mtu=config.expect, results=ordered, findings=triangulate(ordered))


def trace(
    config: CheckConfig,
    prober: Prober | None = None,
    on_progress: object = None,
) -> Report:
    """``check`` plus the hop map of every target and where its big packets die."""
    return check(config, prober, on_progress, trace_all=True)


# --------------------------------------------------------------------------
# locate: where big packets die, for many targets at once

#: Bound on the localization time of one run, seconds, plus one per extra failing
#: target (they share routers' ICMP budgets, about one answer per second), capped.
LOCATE_MAX_TIME_S = 3.0
LOCATE_MAX_TIME_CAP_S = 8.0
#: Passing targets mapped alongside failing ones so they can be compared (triangulate).
MAX_COMPARED = 32


def locate(
    prober: Prober,
    results: dict[Target, PathResult],
    routes: dict[Target, Egress],
    *,
    trace_all: bool = False,
    alongside: Sequence[Job] = (),
) -> dict[Target, PathResult]:
    """Locate the break of every target below expectation, all in one :func:`drive`.

    ``alongside`` jobs (the one-way tests) are driven in the same loop.

    Passing targets of the same family are mapped too (small probes only),
    so targets behind the same last hop can be compared; with ``trace_all``
    every measured target is mapped. Returns the results that changed.
    """
    failing = [t for t, r in results.items() if r.status is Status.BELOW and t in routes]
    chosen = list(failing)
    if trace_all:
        chosen += [
            t
            for t, r in results.items()
            if t in routes and t not in failing and r.status in (Status.OK, Status.UNREACHABLE)
        ]
    elif failing:
        families = {t.family for t in failing}
        passing = [
            t
            for t, r in results.items()
            if t in routes and r.status is Status.OK and t.family in families
        ]
        chosen += passing[:MAX_COMPARED]
    if not chosen:
        if alongside:
            drive(prober, alongside, max_time_s=LOCATE_MAX_TIME_S + 1.0)
        return {}
    pacer = HopPacer()
    # Probing the interface MTU at every hop labels the links before the
    # break; with many paths through the same routers it would spend their
    # ICMP budget, so only when one break is located.
    label = len(failing) == 1
    budget = min(LOCATE_MAX_TIME_S + max(0, len(failing) - 1), LOCATE_MAX_TIME_CAP_S)
    jobs = [
        Job(t, Locator(_locate_config(results[t], routes[t], label=label, budget=budget), pacer))
        for t in chosen
    ]
    drive(prober, [*jobs, *alongside], max_time_s=budget + 1.0)
    located: dict[Target, PathResult] = {}
    for job in jobs:
        planner = job.planner
        assert isinstance(planner, Locator)
        located[job.target] = _with_location(results[job.target], planner.abandon(prober.now()))
    return located


def plan_directions(
    results: dict[Target, PathResult],
    routes: dict[Target, Egress],
    timeouts: dict[Target, float],
) -> tuple[list[Job], dict[Target, PathResult]]:
    """Which way big packets die, for every target below expectation.

    A router's "too big" or the local kernel's refusal already says
    "forward" (returned as decided results); a silent failure gets a one-way
    UDP test (see :mod:`jumbopath.direction`), returned as jobs to drive.
    """
    decided: dict[Target, PathResult] = {}
    jobs: list[Job] = []
    for target, r in results.items():
        if r.status is not Status.BELOW or target not in routes or r.expected_mtu is None:
            continue
        if {e.outcome for e in r.evidence} & {"too-big", "local-refused"}:
            decided[target] = replace(r, direction="forward")
            continue
        size = min(r.expected_mtu, routes[target].interface_mtu or r.expected_mtu)
        config = DirectionConfig.for_loss(target.family, size, r.loss)
        # Wait as long as the search waited for an answer (it follows the RTT).
        config = replace(config, timeout_s=timeouts.get(target, config.timeout_s))
        jobs.append(Job(target, DirectionTest(config)))
    return jobs, decided


def finish_directions(
    prober: Prober, results: dict[Target, PathResult], jobs: Sequence[Job]
) -> dict[Target, PathResult]:
    """Fold the driven one-way tests into the results."""
    decided: dict[Target, PathResult] = {}
    for job in jobs:
        test = job.planner
        assert isinstance(test, DirectionTest)
        r = results[job.target]
        direction = test.abandon(prober.now())
        decided[job.target] = replace(
            r,
            direction=direction,
            break_=_return_break(r, test.config.size) if direction == "return" else r.break_,
            probes_sent=r.probes_sent + test.probes_sent,
            stages=(stages := (*r.stages, Stage("direction", test.probes_sent, test.elapsed_s))),
            elapsed_s=_probing_time(stages),
        )
    return decided


def local_side(results: dict[Target, PathResult]) -> dict[Target, PathResult]:
    """Add what the local side says to every verdict below expectation.

    A local interface below the expected MTU, a VLAN or bridge larger than
    what it rides on, or a switch port whose LLDP maximum frame size is too
    small (from lldpd, when it runs) is named in the notes, and in the break
    when the break is the local NIC.
    """
    import os

    from jumbopath.nics import local_context

    socket_path = os.environ.get("JUMBOPATH_LLDPD_SOCKET")
    said: dict[tuple[str, int | None], list[str]] = {}
    changed: dict[Target, PathResult] = {}
    for target, r in results.items():
        if r.status is not Status.BELOW or r.interface is None:
            continue
        key = (r.interface, r.expected_mtu)
        if key not in said:
            said[key] = local_context(r.interface, r.expected_mtu, lldpd_socket=socket_path)
        sentences = said[key]
        if not sentences:
            continue
        brk = r.break_
        if brk is not None and brk.kind is BreakKind.LOCAL_NIC:
            text = brk.explanation.rstrip(".")
            changed[target] = replace(
                r, break_=replace(brk, explanation="; ".join([text, *sentences]))
            )
        else:
            changed[target] = replace(r, notes=(*r.notes, *sentences))
    return changed


def _probing_time(stages: Sequence[Stage]) -> float:
    """The search runs first; the later stages run side by side."""
    first = sum(st.elapsed_s for st in stages if st.name == "search")
    later = [st.elapsed_s for st in stages if st.name != "search"]
    return round(first + max(later, default=0.0), 4)


def _return_break(r: PathResult, size: int) -> Break:
    """The break when big packets arrive but the big answers die on the way back.

    TTL-limited probes cannot see a return path that differs from the way
    there: their errors are small. So the forward hop map says nothing here.
    """
    return Break(
        kind=BreakKind.SILENT,
        after=r.address,
        before=None,
        mtu=r.path_mtu,
        reported_by=None,
        explanation=(
            f"{size}-byte packets reach {r.address} (one-way UDP probes arrive), but its "
            f"answers larger than {r.path_mtu} bytes never come back: the limit is on the "
            f"return path from {r.address}, which takes a different route; run "
            f"`jumbopath trace` from {r.address} toward this host to locate it"
        ),
    )


def _locate_config(
    result: PathResult, eg: Egress, *, label: bool, budget: float = LOCATE_MAX_TIME_S
) -> LocateConfig:
    below = result.status is Status.BELOW and result.path_mtu is not None
    assert result.address is not None
    return LocateConfig(
        family=result.family,
        target=result.address,
        max_size=eg.interface_mtu or 65535,
        fail_size=result.path_mtu + 1 if below and result.path_mtu is not None else None,
        pass_size=result.path_mtu,
        interface=eg.interface,
        ptb_hint=_ptb_hint(result),
        map_size=eg.interface_mtu if label else None,
        max_time_s=budget,
    )


def _ptb_hint(result: PathResult) -> tuple[int, str] | None:
    """The "too big" that set the path MTU during the search, if any."""
    for e in result.evidence:
        if e.outcome != "too-big" or e.reporter is None:
            continue
        if e.mtu is not None and e.mtu == result.path_mtu:
            return (e.mtu, e.reporter)
    return None


def _with_location(result: PathResult, found: LocateResult) -> PathResult:
    return replace(
        result,
        hops=found.hops,
        break_=found.break_,
        probes_sent=result.probes_sent + found.probes_sent,
        elapsed_s=round(result.elapsed_s + found.elapsed_s, 4),
        stages=(*result.stages, Stage("locate", found.probes_sent, found.elapsed_s)),
        evidence=result.evidence + found.evidence,
        notes=result.notes + found.notes,
    )
