"""What real flows see: the check stages beyond one ICMP echo flow.

ICMP echo is one flow. Three common faults stay invisible to it:

- **hosts that drop echo**: the fallback stage finds a TCP port the host
  answers on (:mod:`jumbopath.portscan`) and runs the same loss-proof search
  with TCP SYN probes, else with UDP probes to a closed port;
- **one ECMP leg or LAG member at a smaller MTU**: the flows stage confirms
  the found MTU over many source ports (:mod:`jumbopath.flows`); when some
  fail, it measures the failing flows' MTU, traces one passing and one
  failing flow to see where they part, and locates the break on the bad leg;
- **loss that only hits big frames**: the soak stage (:mod:`jumbopath.soak`)
  compares loss at the path MTU with loss of small probes.

Each is bounded in probes and time; the flows and soak stages run for at
most :data:`MAX_FIELD_TARGETS` targets of a run (more would cost more
big probes than the check itself), and the run says when it skipped them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from jumbopath.budget import Budgeted
from jumbopath.engine import Job, drive
from jumbopath.flows import FlowCheck, FlowConfig, FlowResult
from jumbopath.locate import HopPacer, LocateConfig, Locator
from jumbopath.model import (
    BreakKind,
    Cause,
    Direction,
    Flows,
    Hop,
    PathResult,
    Protocol,
    SoakLoss,
    Stage,
    Status,
    remark,
)
from jumbopath.pathstate import CheckConfig, PathState
from jumbopath.portscan import PortScan, PortScanConfig
from jumbopath.probers.base import Prober, supports
from jumbopath.search import MtuSearch, SearchConfig
from jumbopath.soak import Soak, SoakConfig

#: Targets of one run that get the flows and soak stages.
MAX_FIELD_TARGETS = 32
#: Bound on each extra stage's probing time, seconds.
STAGE_MAX_TIME_S = 3.0
#: Bound on a UDP search, paced to the target's ICMP budget (about one answer a second).
UDP_MAX_TIME_S = 30.0


def _stage(r: PathResult, name: str, probes: int, elapsed_s: float) -> PathResult:
    return replace(
        r,
        stages=(*r.stages, Stage(name, probes, elapsed_s)),
        probes_sent=r.probes_sent + probes,
        elapsed_s=round(r.elapsed_s + elapsed_s, 4),
    )


# --------------------------------------------------------------------------
# Fallback: hosts that answer no echo


def fallback_stage(
    states: Sequence[PathState],
    prober: Prober,
    config: CheckConfig,
    search: type[MtuSearch] = MtuSearch,
) -> None:
    """For ``--probe auto``: a target that answered no echo is measured over TCP
    (the first well-known port it answers on), else over UDP."""
    if config.probe is not None:
        return
    silent = [
        s
        for s in states
        if s.route is not None and s.result is not None and s.result.cause is Cause.NO_ANSWER
    ]
    if not silent:
        return
    tcp, udp = supports(prober, Protocol.TCP), supports(prober, Protocol.UDP)
    if not udp:
        for gone in (Protocol.TCP, Protocol.UDP):
            _limit(silent, "fallback", gone)
        return
    scans = [(s, Job(s.target, PortScan(PortScanConfig(s.target.family)))) for s in silent]
    if tcp:
        drive(prober, [j for _, j in scans], max_time_s=2.0)
    searches = []
    for state, job in scans:
        port = job.planner.result() if tcp else None
        protocol = Protocol.TCP if port is not None else Protocol.UDP
        assert state.route is not None
        udp = protocol is Protocol.UDP
        cfg = SearchConfig(
            family=state.target.family,
            max_size=state.route.interface_mtu or 65535,
            expected=config.expect,
            max_time_s=max(config.max_time_s, UDP_MAX_TIME_S) if udp else config.max_time_s,
            protocol=protocol,
            port=port,
        )
        planner = search(cfg)
        paced: Any = Budgeted(planner) if protocol is Protocol.UDP else planner
        searches.append((state, job.planner.probes_sent, planner, Job(state.target, paced)))
    longest = max(p.config.max_time_s for _, _, p, _ in searches)
    drive(prober, [j for *_, j in searches], max_time_s=longest + 1.0)
    from jumbopath.pipeline import search_result

    for state, scanned, sjob, _ in searches:
        found = sjob.abandon(prober.now())
        assert state.route is not None
        old = state.done()
        if not found.reachable:
            state.result = _stage(old, "fallback", scanned + found.probes_sent, found.elapsed_s)
            continue
        expected = config.expect if config.expect is not None else state.route.interface_mtu
        new = search_result(state.target, state.route, expected, found, 0)
        used = sjob.config
        state.timeout_s = sjob.timeout_s()
        state.result = replace(
            _stage(new, "fallback", scanned, 0.0),
            protocol=used.protocol,
            port=used.port,
            notes=(*new.notes, remark("no-echo", protocol=used.protocol.value, port=used.port)),
        )
    if not tcp:
        _limit(silent, "fallback", Protocol.TCP)


# --------------------------------------------------------------------------
# Flows: every ECMP leg and LAG member


def flows_stage(states: Sequence[PathState], prober: Prober, config: CheckConfig) -> None:
    """Confirm each path's MTU over ``config.flows`` flows; locate the bad leg when some fail."""
    if config.flows <= 1:
        return
    chosen = [
        s
        for s in states
        if s.route is not None
        and s.result is not None
        and s.result.path_mtu is not None
        and s.result.status in (Status.OK, Status.BELOW)
    ]
    if len(chosen) > MAX_FIELD_TARGETS:
        _skip(chosen, "flows")
        return
    jobs = []
    for s in chosen:
        r = s.done()
        assert r.path_mtu is not None
        protocol = r.protocol if r.protocol is not Protocol.ICMP else Protocol.TCP
        if not supports(prober, protocol):
            _limit([s], "flows", protocol)
            continue
        cfg = FlowConfig(
            family=r.family,
            size=r.path_mtu,
            flows=config.flows,
            protocol=protocol,
            port=r.port,
            timeout_s=max(0.1, s.timeout_s),
        )
        jobs.append((s, Job(s.target, FlowCheck(cfg))))
    drive(prober, [j for _, j in jobs], max_time_s=STAGE_MAX_TIME_S)
    partial = []
    for s, job in jobs:
        found = job.planner.abandon(prober.now())
        cfg = job.planner.config
        flows = Flows(cfg.protocol, cfg.port, cfg.size, found.passing, found.failing, found.unknown)
        s.result = replace(
            _stage(s.done(), "flows", found.probes_sent, found.elapsed_s), flows=flows
        )
        if found.failing and found.passing:
            partial.append((s, found))
    if partial:
        _partial(partial, prober, config)


def _partial(
    partial: Sequence[tuple[PathState, FlowResult]], prober: Prober, config: CheckConfig
) -> None:
    """Some flows fail: their MTU, where the flows part, and the bad leg's break."""
    pacer = HopPacer()
    first = []
    for s, found in partial:
        r = s.done()
        assert r.flows is not None and s.route is not None and r.path_mtu is not None
        flows = r.flows
        search = MtuSearch(
            SearchConfig(
                family=r.family,
                max_size=r.path_mtu,
                expected=None,
                max_time_s=STAGE_MAX_TIME_S,
                protocol=flows.protocol,
                flow=found.failing[0],
                port=flows.port,
            )
        )
        mapper = Locator(_map_config(r, s, found.passing[0], flows.protocol, flows.port), pacer)
        first.append((s, found, Job(s.target, search), Job(s.target, mapper)))
    drive(prober, [j for *_, a, b in first for j in (a, b)], max_time_s=STAGE_MAX_TIME_S + 1)
    second = []
    for s, found, search_job, map_job in first:
        leg = search_job.planner.abandon(prober.now())
        good = map_job.planner.abandon(prober.now())
        r = s.done()
        assert r.flows is not None and s.route is not None
        bad_mtu = leg.path_mtu if leg.path_mtu is not None else found.too_big
        if bad_mtu is None:
            continue
        cfg = replace(
            _map_config(r, s, found.failing[0], r.flows.protocol, r.flows.port),
            fail_size=bad_mtu + 1,
            pass_size=bad_mtu,
            map_size=None,
        )
        probes = leg.probes_sent + good.probes_sent
        second.append((s, bad_mtu, good.hops, probes, Job(s.target, Locator(cfg, pacer))))
    drive(prober, [j for *_, j in second], max_time_s=STAGE_MAX_TIME_S + 1)
    for s, bad_mtu, good_hops, probes, job in second:
        bad = job.planner.abandon(prober.now())
        r = s.done()
        assert r.flows is not None and r.path_mtu is not None
        mtu = min(r.path_mtu, bad_mtu)
        brk = None
        if bad.break_ is not None and bad.break_.kind is not BreakKind.NONE:
            brk = replace(bad.break_, kind=BreakKind.PARTIAL, cause=Cause.PARTIAL_FLOWS)
        below = r.expected_mtu is not None and mtu < r.expected_mtu
        r = replace(
            _stage(r, "partial", probes + bad.probes_sent, bad.elapsed_s),
            path_mtu=mtu,
            status=Status.BELOW if below else r.status,
            cause=Cause.PARTIAL_FLOWS if below else r.cause,
            direction=Direction.FORWARD if below else r.direction,
            break_=brk if below else r.break_,
            hops=bad.hops if below else r.hops,
            flows=replace(r.flows, failing_mtu=bad_mtu, parted_after=_parted(good_hops, bad.hops)),
        )
        s.result = r


def _map_config(
    r: PathResult, s: PathState, flow: int, protocol: Protocol, port: int | None
) -> LocateConfig:
    assert r.address is not None and s.route is not None
    return LocateConfig(
        family=r.family,
        target=r.address,
        max_size=s.route.interface_mtu or 65535,
        fail_size=None,
        pass_size=r.path_mtu,
        interface=s.route.interface,
        protocol=protocol,
        flow=flow,
        port=port,
        max_time_s=STAGE_MAX_TIME_S,
    )


def _parted(good: Sequence[Hop], bad: Sequence[Hop]) -> str | None:
    """The last hop both flows pass through before their paths differ (None: this host)."""
    last = None
    for g, b in zip(good, bad, strict=False):
        if g.address is None or b.address is None:
            continue
        if g.address != b.address:
            return last
        last = g.address
    return last


# --------------------------------------------------------------------------
# Soak: loss that only hits big frames


def soak_stage(states: Sequence[PathState], prober: Prober, config: CheckConfig) -> None:
    """Soak every path that carries the expected MTU at its path MTU beside small probes."""
    pairs = config.soak // 2
    if pairs <= 0:
        return
    chosen = [
        s
        for s in states
        if s.result is not None
        and s.result.status is Status.OK
        and s.result.protocol is Protocol.ICMP
        and s.result.path_mtu is not None
    ]
    if len(chosen) > MAX_FIELD_TARGETS:
        _skip(chosen, "soak")
        return
    jobs = []
    for s in chosen:
        r = s.done()
        assert r.path_mtu is not None
        timeout = max(0.1, s.timeout_s)
        cfg = SoakConfig(
            family=r.family,
            size=r.path_mtu,
            pairs=pairs,
            timeout_s=timeout,
            max_time_s=max(1.2, pairs * 0.004 + timeout + 0.2),
        )
        jobs.append((s, Job(s.target, Soak(cfg))))
    limit = max(j.planner.config.max_time_s for _, j in jobs) if jobs else 0.0
    drive(prober, [j for _, j in jobs], max_time_s=limit + 0.5)
    for s, job in jobs:
        found = job.planner.abandon(prober.now())
        loss = SoakLoss(
            found.size,
            found.big_sent,
            found.big_lost,
            found.small_sent,
            found.small_lost,
            round(found.p_value, 6),
            found.degraded,
        )
        r = _stage(s.done(), "soak", found.big_sent + found.small_sent, found.elapsed_s)
        if found.degraded:
            r = replace(r, status=Status.DEGRADED, cause=Cause.BIG_FRAME_LOSS)
        s.result = replace(r, soak=loss)


def _skip(states: Sequence[PathState], stage: str) -> None:
    for s in states:
        r = s.done()
        s.result = replace(
            r, notes=(*r.notes, remark("stage-skipped", stage=stage, limit=MAX_FIELD_TARGETS))
        )


def _limit(states: Sequence[PathState], stage: str, protocol: Protocol) -> None:
    """This prober cannot send ``protocol`` probes: the stage is skipped, and said so."""
    for s in states:
        r = s.done()
        note = remark("prober-limit", stage=stage, protocol=protocol.value)
        s.result = replace(r, notes=(*r.notes, note))
