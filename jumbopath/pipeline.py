"""The check pipeline (``check`` and ``trace``): explicit stages over one state per path.

    resolve → route → search → locate (with the one-way test) → local side
            → kernel cache → every limit → triangulate

Each stage reads and updates the :class:`PathState` of every target; the
probing stages hand pure planners to :func:`jumbopath.engine.drive`, the
only network loop. Everything from outside (names, routes, the local side,
the prober and its clock) comes through one
:class:`~jumbopath.environment.Environment`, so a unit test runs the whole
pipeline on simulated paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from jumbopath.direction import DirectionConfig, DirectionTest
from jumbopath.echoscan import EchoOrPort
from jumbopath.engine import Job, drive
from jumbopath.environment import SystemEnvironment
from jumbopath.errors import CannotMeasure, UsageError
from jumbopath.locate import HopPacer, LocateConfig, LocateResult, Locator
from jumbopath.locate.config import Presumed
from jumbopath.locate.limits import every_limit
from jumbopath.locate.shared import (
    Cohort,
    cohorts,
    contradicted,
    end_ttl,
    mapped_only,
    presumption,
    shared_remark,
)
from jumbopath.measure import new_search, search_result, with_stage
from jumbopath.model import (
    Break,
    BreakKind,
    Cause,
    Direction,
    PathResult,
    Protocol,
    Report,
    Stage,
    Status,
    remark,
)
from jumbopath.pathstate import CheckConfig, PathState, Progress
from jumbopath.probers.base import Target, silence_floor_s, supports
from jumbopath.realflows import fallback_stage, flows_stage, soak_stage
from jumbopath.sizes import MIN_MTU, check_mtu
from jumbopath.triangulate import triangulate

if TYPE_CHECKING:  # names for annotations only: psutil loads with the first route lookup
    from jumbopath.egress import Egress
    from jumbopath.environment import Environment
    from jumbopath.probers.base import Prober

#: Bound on the localization time of one run, seconds, plus one per extra failing
#: target (they share routers' ICMP budgets, about one answer per second), capped.
LOCATE_MAX_TIME_S = 3.0
LOCATE_MAX_TIME_CAP_S = 8.0
#: Passing targets mapped alongside failing ones so they can be compared (triangulate):
#: the nearest few per failing target (by address), a handful in all. Every one
#: costs the shared routers ICMP budget the failing targets' localization needs.
COMPARED_PER_FAILING = 2
MAX_COMPARED = 8

__all__ = ["CheckConfig", "PathState", "check", "trace"]


# --------------------------------------------------------------------------
# The pipeline


def check(
    config: CheckConfig,
    env: Environment | None = None,
    on_progress: Progress | None = None,
    *,
    trace_all: bool = False,
) -> Report:
    """Find the exact path MTU to every target, all at once.

    Every target below expectation then gets its break located and the way
    its big packets die; with ``trace_all`` every target gets its hop map.
    """
    env = env if env is not None else SystemEnvironment(via=config.via)
    _validate(config)
    states = [PathState(t) for t in env.resolve(config.targets, config.family)]
    route_stage(states, env, config)
    if not any(s.route is not None for s in states):
        # Nothing could be measured at all: say why in one line (exit 3).
        first = states[0].result if states else None
        raise CannotMeasure(first.error if first and first.error else "nothing could be measured")
    prober = env.prober()
    try:
        search_stage(states, prober, config, on_progress)
        fallback_stage(states, prober, config)
        flows_stage(states, prober, config)
        locate_stage(states, prober, trace_all=trace_all)
        overlay_stage(states, env, prober, config)
        soak_stage(states, prober, config)
    finally:
        prober.close()
    local_side_stage(states, env)
    if config.switches is not None:
        switch_ports_stage(states, env, config.switches)
    kernel_cache_stage(states, env)
    limits_stage(states)
    results = tuple(s.done() for s in states)
    return Report(expected_mtu=config.expect, results=results, findings=triangulate(results))


def trace(
    config: CheckConfig,
    env: Environment | None = None,
    on_progress: Progress | None = None,
) -> Report:
    """``check`` plus the hop map of every target and where its big packets die."""
    return check(config, env, on_progress, trace_all=True)


def _validate(config: CheckConfig) -> None:
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


# --------------------------------------------------------------------------
# Stage: route


def route_stage(states: Sequence[PathState], env: Environment, config: CheckConfig) -> None:
    """Ask how each target is reached; a path that cannot be is an error result."""
    for state in states:
        try:
            state.route = env.egress(state.target)
        except CannotMeasure as exc:
            t = state.target
            state.result = PathResult(
                target=t.name,
                address=t.address,
                family=t.family,
                status=Status.ERROR,
                expected_mtu=config.expect,
                error=str(exc),
                cause=Cause.NOT_MEASURED,
            )


# --------------------------------------------------------------------------
# Stage: search


def search_stage(
    states: Sequence[PathState],
    prober: Prober,
    config: CheckConfig,
    on_progress: Progress | None = None,
) -> None:
    """The exact path MTU of every routed target, all in one drive."""
    protocol = config.probe or Protocol.ICMP
    floor = silence_floor_s(prober)
    jobs = [(s, *new_search(s, config, protocol, config.port, floor)) for s in states if s.route]
    if config.probe is None and supports(prober, Protocol.TCP):
        # --probe auto: a host that drops echo is told from one still being
        # resolved by the TCP port it answers on meanwhile.
        jobs = [(s, search, Job(job.target, EchoOrPort(search))) for s, search, job in jobs]
    longest = max((search.config.max_time_s for _, search, _ in jobs), default=0.0)
    drive(prober, [j for *_, j in jobs], max_time_s=longest + 1.0, on_progress=on_progress)
    for state, search, job in jobs:
        if isinstance(job.planner, EchoOrPort) and job.planner.scan is not None:
            state.tcp_port, state.scanned = job.planner.port, job.planner.scan.probes_sent
        state.timeout_s = search.timeout_s()
        found = search.abandon(prober.now())
        assert state.route is not None
        expected = config.expect if config.expect is not None else state.route.interface_mtu
        result = search_result(
            state.target, state.route, expected, found, prober.ignored(state.target)
        )
        state.result = replace(result, protocol=protocol, port=config.port)


# --------------------------------------------------------------------------
# Stage: locate, with the one-way test


def locate_stage(states: Sequence[PathState], prober: Prober, *, trace_all: bool = False) -> None:
    """Locate the break of every target below expectation, and the way its big
    packets die, all in one drive.

    Passing targets of the same family are mapped too (small probes only),
    so targets behind the same last hop can be compared; with ``trace_all``
    every measured target is mapped.
    """
    measured = [s for s in states if s.measured]
    failing = [s for s in measured if s.done().status is Status.BELOW and s.done().break_ is None]
    one_way = next((p for p in (Protocol.TCP, Protocol.UDP) if supports(prober, p)), None)
    directions = _direction_jobs(failing, one_way)
    chosen = list(failing)
    if trace_all:
        mapped = (Status.OK, Status.UNREACHABLE)
        chosen += [s for s in measured if s not in failing and s.done().status in mapped]
    elif failing:
        passing = [s for s in measured if s.done().status is Status.OK]
        chosen += _compared(failing, passing)
    if not chosen and not directions:
        return
    pacer = HopPacer()
    floor = silence_floor_s(prober)
    # Probing the interface MTU at every hop labels the links before the
    # break; with many paths through the same routers it would spend their
    # ICMP budget, so only when one break is located.
    label = len(failing) == 1
    budget = min(LOCATE_MAX_TIME_S + max(0, len(failing) - 1), LOCATE_MAX_TIME_CAP_S)
    started = prober.now()
    # Failing targets behind the same egress that fail at the same size share
    # their limits (jumbopath.locate.shared): one of each cohort is located in
    # full first, the others then take the hops it proved as known.
    groups = cohorts(
        [_cohort_key(s) for s in failing], [_ptb_hint(s.done()) is not None for s in failing]
    )
    leaders = [failing[c.leader] for c in groups]
    first = [(s, _locator(s, label, budget, floor, pacer, None)) for s in leaders]
    later: list[PathState] = []
    if trace_all or len(leaders) == len(failing):
        first += [
            (s, _locator(s, label, budget, floor, pacer, None)) for s in chosen[len(failing) :]
        ]
    else:
        later = chosen[len(failing) :]  # compared: mapped once the leaders' hops are known
    needed = [j for _, j in first[: len(leaders)]] + [j for _, j in directions]
    required = None if trace_all or not failing else (lambda: all(j.planner.done for j in needed))
    drive(
        prober,
        [*(j for _, j in first), *(j for _, j in directions)],
        max_time_s=budget + 1,
        until=required,
    )
    located = {id(s): (j.planner.config, j.planner.abandon(prober.now())) for s, j in first}
    given, leader_end = _presumptions(groups, failing, later, located)
    followers = [failing[i] for c in groups for i in c.followers]
    second = [
        (s, _locator(s, label, _left(budget, started, prober), floor, pacer, given.get(id(s))))
        for s in [*followers, *later]
    ]
    if second:
        _drive_until(prober, second, followers, _left(budget, started, prober))
    for s, j in second:
        found = j.planner.abandon(prober.now())
        shared = s in followers and id(s) in given
        if shared and not _judged_shared(s, given[id(s)], leader_end[id(s)], found):
            continue  # its own probes disagree: measured on its own below
        located[id(s)] = (j.planner.config, found)
    alone = [s for s in followers if id(s) not in located]
    third = [
        (s, _locator(s, label, _left(budget, started, prober), floor, pacer, None)) for s in alone
    ]
    if third:
        _drive_until(prober, third, alone, _left(budget, started, prober))
    for s, j in third:
        located[id(s)] = (j.planner.config, j.planner.abandon(prober.now()))
    for state in chosen:
        if id(state) in located:
            state.result = _with_location(state.done(), located[id(state)][1])
    for state, test in directions:
        state.result = _with_direction(state.done(), test.planner, prober.now())


def _presumptions(
    groups: Sequence[Cohort],
    failing: Sequence[PathState],
    compared: Sequence[PathState],
    located: dict[int, tuple[LocateConfig, LocateResult]],
) -> tuple[dict[int, Presumed], dict[int, int | None]]:
    """What each follower takes from its leader's localization (and each compared
    passing target from a leader that leaves the same way: the hops alone), and
    the distance of the leader's target (by ``id`` of the path state)."""
    given: dict[int, Presumed] = {}
    leader_end: dict[int, int | None] = {}
    hops_of: dict[tuple[object, ...], Presumed] = {}
    for c in groups:
        cfg, found = located[id(failing[c.leader])]
        p = presumption(cfg.target, found)
        if p is None:
            continue
        hops_of.setdefault(_route_key(failing[c.leader]), p)
        for i in c.followers:
            given[id(failing[i])] = p
            leader_end[id(failing[i])] = end_ttl(found, cfg.target)
    for s in compared:
        p = hops_of.get(_route_key(s))
        if p is not None:
            given[id(s)] = mapped_only(p)
    return given, leader_end


def _judged_shared(
    state: PathState, given: Presumed, leader_end: int | None, found: LocateResult
) -> bool:
    """Whether a follower's own probes agree with the shared limit; if so, its
    result says what confirmed it (the shared-limit remark)."""
    r = state.done()
    if contradicted(given, leader_end, found, state.target.address, r.evidence) is not None:
        return False
    note = shared_remark(given, found, state.target.address, r.evidence)
    state.result = replace(r, notes=(*r.notes, note))
    return True


def _locator(
    state: PathState,
    label: bool,
    budget: float,
    floor: float,
    pacer: HopPacer,
    presumed: Presumed | None,
) -> Job[Locator]:
    config = replace(_locate_config(state, label, budget, floor), presumed=presumed)
    return Job(state.target, Locator(config, pacer))


def _left(budget: float, started: float, prober: Prober) -> float:
    """What is left of the localization's time bound (never below a moment)."""
    return max(0.1, budget - (prober.now() - started))


def _drive_until(
    prober: Prober,
    jobs: Sequence[tuple[PathState, Job[Locator]]],
    needed: Sequence[PathState],
    max_time_s: float,
) -> None:
    """Drive localizers until the ones of ``needed`` are done (the rest are optional)."""
    wanted = [j for s, j in jobs if s in needed]
    until = (lambda: all(j.planner.done for j in wanted)) if wanted else None
    drive(prober, [j for _, j in jobs], max_time_s=max_time_s + 1, until=until)


def _route_key(state: PathState) -> tuple[object, ...]:
    """Targets that leave this host the same way (family, interface, source)."""
    route = state.route
    assert route is not None
    return (state.target.family, route.interface, route.source)


def _cohort_key(state: PathState) -> tuple[object, ...] | None:
    """Failing targets with this key share their limits until proven otherwise:
    the same way out, the same failing size and protocol, the same "too big" heard
    by the search (or none), no local refusal."""
    r = state.done()
    if r.path_mtu is None or any(e.outcome == "local-refused" for e in r.evidence):
        return None
    # What the search heard decides the cohort too: a router's "too big" (which one,
    # which MTU) is never shared with a path whose big packets died silently.
    return (*_route_key(state), r.path_mtu, r.protocol, r.port, _ptb_hint(r))


def _compared(failing: Sequence[PathState], passing: Sequence[PathState]) -> list[PathState]:
    """The passing targets most likely behind the same last hop as a failing one:
    same family, the longest address prefix in common."""
    import ipaddress

    def number(state: PathState) -> int:
        return int(ipaddress.ip_address(state.target.address))

    chosen: list[PathState] = []
    for bad in failing:
        near = sorted(
            (s for s in passing if s.target.family == bad.target.family and s not in chosen),
            key=lambda s: number(s) ^ number(bad),
        )
        chosen += near[:COMPARED_PER_FAILING]
    return chosen[:MAX_COMPARED]


def _direction_jobs(
    failing: Sequence[PathState], one_way: Protocol | None = Protocol.TCP
) -> list[tuple[PathState, Job[DirectionTest]]]:
    """A router's "too big" or the local kernel's refusal already says forward;
    a silent failure gets a one-way test (see :mod:`jumbopath.direction`) over
    ``one_way``: TCP where the prober sends it (a reset is not rate-limited
    like the ICMP port unreachable UDP gets, whose budget an earlier run may
    have spent), else UDP; with neither the direction stays unknown."""
    jobs: list[tuple[PathState, Job[DirectionTest]]] = []
    for state in failing:
        r = state.done()
        if r.expected_mtu is None or state.route is None:
            continue
        measured_one_way = r.protocol is not Protocol.ICMP  # its probes' answers were small
        if measured_one_way or {e.outcome for e in r.evidence} & {"too-big", "local-refused"}:
            state.result = replace(r, direction=Direction.FORWARD)
            continue
        if one_way is None:
            note = remark("prober-limit", stage="direction", protocol=Protocol.UDP.value)
            state.result = replace(r, notes=(*r.notes, note))
            continue
        # The smallest failing size: a bigger one may also die at a looser
        # limit the other way (a forward limit above a tighter return one).
        size = min(r.expected_mtu, state.route.interface_mtu or r.expected_mtu)
        if r.path_mtu is not None and r.path_mtu < size:
            size = r.path_mtu + 1
        config = DirectionConfig.for_loss(state.target.family, size, r.loss)
        # Wait as long as the search waited for an answer (it follows the RTT).
        config = replace(config, timeout_s=state.timeout_s, protocol=one_way)
        jobs.append((state, Job(state.target, DirectionTest(config))))
    return jobs


def _with_direction(r: PathResult, test: DirectionTest, now: float) -> PathResult:
    direction = test.abandon(now)
    brk = _return_break(r, test.config.size) if direction is Direction.RETURN else r.break_
    return replace(
        with_stage(r, Stage("direction", test.probes_sent, test.elapsed_s)),
        direction=direction,
        break_=brk,
        cause=_cause(r.status, brk, r.cause),
    )


def _return_break(r: PathResult, size: int) -> Break:
    """Big packets arrive but the big answers die on the way back.

    TTL-limited probes cannot see a return path that differs from the way
    there: their errors are small. So the forward hop map says nothing here.
    """
    return Break(
        kind=BreakKind.SILENT,
        cause=Cause.RETURN_PATH,
        after=r.address,
        before=None,
        mtu=r.path_mtu,
        reported_by=None,
        size=size,
        target=r.address,
        family=r.family,
    )


def _cause(status: Status, brk: Break | None, current: Cause | None) -> Cause | None:
    """A below path's cause is its break's, once located."""
    if status is not Status.BELOW:
        return current
    if brk is not None and brk.kind is not BreakKind.NONE:
        return brk.cause
    return Cause.BELOW_UNLOCATED


def _locate_config(state: PathState, label: bool, budget: float, floor: float) -> LocateConfig:
    result, route = state.done(), state.route
    assert route is not None and result.address is not None
    below = result.status is Status.BELOW and result.path_mtu is not None
    config = LocateConfig(
        family=result.family,
        target=result.address,
        max_size=route.interface_mtu or 65535,
        fail_size=result.path_mtu + 1 if below and result.path_mtu is not None else None,
        pass_size=result.path_mtu,
        interface=route.interface,
        ptb_hint=_ptb_hint(result),
        map_size=route.interface_mtu if label else None,
        upper_sizes=_reported_mtus(result) if label else (),
        max_time_s=budget,
        protocol=result.protocol,
        port=result.port,
    )
    return replace(config, timeout_floor_s=max(config.timeout_floor_s, floor))


#: Next-hop MTUs reported above the path MTU swept with the failing size (each
#: costs every router on the path one more ICMP answer).
MAX_UPPER_SIZES = 2


def _reported_mtus(result: PathResult) -> tuple[int, ...]:
    """Next-hop MTUs routers reported above the path MTU during the search: a
    probe of that size passes its router and dies at the next limit."""
    if result.path_mtu is None:
        return ()
    mtus = {
        e.mtu
        for e in result.evidence
        if e.outcome == "too-big" and e.mtu is not None and e.mtu > result.path_mtu
    }
    return tuple(sorted(mtus, reverse=True)[:MAX_UPPER_SIZES])


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
        with_stage(result, Stage("locate", found.probes_sent, found.elapsed_s)),
        hops=found.hops,
        break_=found.break_,
        cause=_cause(result.status, found.break_, result.cause),
        evidence=result.evidence + found.evidence,
        notes=result.notes + found.notes,
    )


# --------------------------------------------------------------------------
# Stage: overlays (a path below expectation that leaves through a tunnel)


def overlay_stage(
    states: Sequence[PathState], env: Environment, prober: Prober, config: CheckConfig
) -> None:
    """Measure the underlay to the remote end of every tunnel a failing path leaves
    through, all in one drive, and say which side is short (:mod:`jumbopath.overlay`).

    When the tunnel is what limits the path, its cause replaces the break's.
    """
    from jumbopath.overlay import as_remark, explains, judge

    failing = [s for s in states if s.result is not None and s.result.status is Status.BELOW]
    names = {s.done().interface for s in failing} - {None}
    tunnels = {t.interface: t for name in sorted(n for n in names if n) if (t := env.tunnel(name))}
    if not tunnels:
        return
    underlay = _underlays({t.remote for t in tunnels.values() if t.remote}, env, prober, config)
    for state in failing:
        r = state.done()
        t = tunnels.get(r.interface or "")
        if t is None:
            continue
        route, mtu = underlay.get(t.remote or "", (None, None))
        o = judge(
            t,
            mtu,
            route.interface if route is not None else None,
            route.interface_mtu if route is not None else None,
            config.expect,
        )
        r = replace(r, notes=(*r.notes, as_remark(o)))
        brk = r.break_
        at_tunnel = brk is None or brk.kind is BreakKind.LOCAL_NIC or brk.after is None
        if explains(o, r.path_mtu) and at_tunnel and o.cause is not None:
            if brk is not None and brk.kind is not BreakKind.NONE:
                brk = replace(brk, cause=o.cause, interface=t.interface, mtu=o.limit)
            r = replace(r, break_=brk, cause=o.cause)
        state.result = r


def _underlays(
    remotes: set[str], env: Environment, prober: Prober, config: CheckConfig
) -> dict[str, tuple[Egress, int | None]]:
    """The route to every tunnel's remote end and the path MTU measured over it
    (None: not measured), all searched in one drive from the route's interface MTU."""
    routed: list[PathState] = []
    for remote in sorted(remotes):
        under = PathState(Target(remote, remote, 6 if ":" in remote else 4))
        try:
            under.route = env.egress(under.target)
        except CannotMeasure:
            continue
        routed.append(under)
    searches = []
    for under in routed:
        assert under.route is not None
        asked = replace(config, expect=under.route.interface_mtu)
        searches.append(new_search(under, asked, Protocol.ICMP, None, silence_floor_s(prober)))
    if searches:
        longest = max(search.config.max_time_s for search, _ in searches)
        drive(prober, [job for _, job in searches], max_time_s=longest + 1.0)
    found: dict[str, tuple[Egress, int | None]] = {}
    for under, (search, _) in zip(routed, searches, strict=True):
        done = search.abandon(prober.now())
        ok = done.reachable and done.conclusive
        assert under.route is not None
        found[under.target.address] = (under.route, done.path_mtu if ok else None)
    return found


# --------------------------------------------------------------------------
# Stages after probing: the local side and the kernel's cache


def local_side_stage(states: Sequence[PathState], env: Environment) -> None:
    """Add what the local side says to every verdict below expectation.

    A local interface below the expected MTU, a VLAN or bridge larger than
    what it rides on, or a switch port whose LLDP maximum frame size is too
    small (from lldpd, when it runs): in the break when the break is the
    local NIC, else as remarks.
    """
    said: dict[tuple[str, int | None], list[str]] = {}
    for state in states:
        r = state.result
        if r is None or r.status is not Status.BELOW or r.interface is None:
            continue
        key = (r.interface, r.expected_mtu)
        if key not in said:
            said[key] = env.local_context(r.interface, r.expected_mtu)
        facts = said[key]
        if not facts:
            continue
        brk = r.break_
        if brk is not None and brk.kind is BreakKind.LOCAL_NIC:
            state.result = replace(r, break_=replace(brk, local=(*brk.local, *facts)))
        else:
            extra = tuple(remark("local-side", text=f) for f in facts)
            state.result = replace(r, notes=(*r.notes, *extra))


def switch_ports_stage(states: Sequence[PathState], env: Environment, switches: str) -> None:
    """Name the switch ports behind every silent break, from the switches' own tables.

    The switches are read only when some path has a silent break.
    """
    from jumbopath.switches.suspects import placed, suspect_ports

    silent = [
        s
        for s in states
        if s.result is not None
        and s.result.break_ is not None
        and s.result.break_.kind is BreakKind.SILENT
    ]
    if not silent:
        return
    graph = env.switch_map(switches)
    for state in silent:
        r = state.done()
        assert r.break_ is not None
        source = (state.route.source,) if state.route is not None else ()
        found = suspect_ports(r.break_, graph, expected=r.expected_mtu, source=source)
        state.result = replace(r, break_=placed(r.break_, found))


def limits_stage(states: Sequence[PathState]) -> None:
    """Every limit on each located path, in order, the break last (its final form)."""
    for state in states:
        r = state.result
        if r is not None and r.break_ is not None:
            state.result = replace(r, breaks=every_limit(r))


def kernel_cache_stage(states: Sequence[PathState], env: Environment) -> None:
    """What the kernel's path MTU cache says, before and after the run.

    After: it may have learnt from the probes' errors, or from forgeries.
    A cached value below both the measured MTU and the interface MTU is
    worth telling: applications on this host use it until it expires.
    """
    for state in states:
        r, route = state.result, state.route
        if r is None or route is None:
            continue
        after = env.route_mtu(state.target)
        mtu = r.path_mtu
        extra = []
        for value in dict.fromkeys(v for v in (route.route_mtu, after) if v is not None):
            if mtu is not None and r.interface_mtu is not None and mtu != value < r.interface_mtu:
                extra.append(remark("kernel-cache", cached=value, measured=mtu, address=r.address))
        cached = after if after is not None else route.route_mtu
        state.result = replace(r, cached_mtu=cached, notes=(*r.notes, *extra))
