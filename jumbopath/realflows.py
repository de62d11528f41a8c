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

from collections.abc import Callable, Sequence
from dataclasses import replace

from jumbopath.engine import Job, drive
from jumbopath.flows import FlowCheck, FlowConfig, FlowResult, group_legs
from jumbopath.locate import HopPacer, LocateConfig, Locator
from jumbopath.measure import new_search, search_result, with_stage
from jumbopath.model import (
    BreakKind,
    Cause,
    Direction,
    Flows,
    Hop,
    PathResult,
    ProbeRequest,
    Protocol,
    Stage,
    Status,
    remark,
)
from jumbopath.pathstate import CheckConfig, PathState
from jumbopath.portscan import PortScan, PortScanConfig
from jumbopath.probers.base import Prober, Target, leg_of, silence_floor_s, supports
from jumbopath.search import MtuSearch, SearchConfig
from jumbopath.soak import Soak, paced

#: Targets of one run that get the flows and soak stages.
MAX_FIELD_TARGETS = 32
#: Bound on each extra stage's probing time, seconds.
STAGE_MAX_TIME_S = 3.0


# --------------------------------------------------------------------------
# Fallback: hosts that answer no echo


def fallback_stage(states: Sequence[PathState], prober: Prober, config: CheckConfig) -> None:
    """For ``--probe auto``: a target that answered no echo is measured over TCP
    (the first well-known port it answers on), else over UDP."""
    if config.probe is not None:
        return
    silent = [s for s in states if s.route is not None and s.done().cause is Cause.NO_ANSWER]
    if not silent:
        return
    tcp = supports(prober, Protocol.TCP)
    if not supports(prober, Protocol.UDP):
        for gone in (Protocol.TCP, Protocol.UDP):
            _limit(silent, "fallback", gone)
        return
    # A port found beside the echo search is used as it is; the others are scanned now.
    scans = [(s, PortScan(PortScanConfig(s.target.family))) for s in silent if s.tcp_port is None]
    if tcp and scans:
        drive(prober, [Job(s.target, scan) for s, scan in scans], max_time_s=2.0)
    scanned_now = {id(s): (scan.result() if tcp else None, scan.probes_sent) for s, scan in scans}
    searches = []
    for state in silent:
        port, scanned = scanned_now.get(id(state), (state.tcp_port, state.scanned))
        protocol = Protocol.TCP if port is not None else Protocol.UDP
        planned = new_search(state, config, protocol, port, silence_floor_s(prober))
        searches.append((state, scanned, *planned))
    longest = max(search.config.max_time_s for _, _, search, _ in searches)
    drive(prober, [job for *_, job in searches], max_time_s=longest + 1.0)
    for state, scanned, search, _ in searches:
        found = search.abandon(prober.now())
        scan_stage = Stage("fallback", scanned, 0.0)
        if not found.reachable:
            spent = Stage("fallback", scanned + found.probes_sent, found.elapsed_s)
            state.result = with_stage(state.done(), spent)
            continue
        assert state.route is not None
        expected = config.expect if config.expect is not None else state.route.interface_mtu
        new = search_result(state.target, state.route, expected, found, 0)
        used = search.config
        state.timeout_s = search.timeout_s()
        note = remark("no-echo", protocol=used.protocol.value, port=used.port)
        state.result = replace(
            with_stage(new, scan_stage),
            protocol=used.protocol,
            port=used.port,
            notes=(*new.notes, note),
        )
    if not tcp:
        _limit(silent, "fallback", Protocol.TCP)


# --------------------------------------------------------------------------
# Flows: every ECMP leg and LAG member


def flows_stage(states: Sequence[PathState], prober: Prober, config: CheckConfig) -> None:
    """Confirm each path's MTU over ``config.flows`` flows; locate the bad leg when some fail."""
    if config.flows <= 1:
        return

    def carries_some(r: PathResult) -> bool:
        return r.path_mtu is not None and r.status in (Status.OK, Status.BELOW)

    jobs = []
    for s in _field_targets(states, "flows", carries_some):
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
        jobs.append((s, FlowCheck(cfg)))
    drive(prober, [Job(s.target, check) for s, check in jobs], max_time_s=STAGE_MAX_TIME_S)
    partial = []
    for s, check in jobs:
        found = check.abandon(prober.now())
        stage = Stage("flows", found.probes_sent, found.elapsed_s)
        flows = _with_legs(found.flows, s.target, prober)
        s.result = replace(with_stage(s.done(), stage), flows=flows)
        if found.flows.failing and found.flows.passing:
            partial.append((s, found))
    if partial:
        _partial(partial, prober)


def _with_legs(flows: Flows, target: Target, prober: Prober) -> Flows:
    """``flows`` with the legs out of this host its flows took (the kernel's own
    choice per flow, when the prober can ask it)."""
    legs = {
        port: leg_of(
            prober,
            target,
            ProbeRequest(0, flows.size, protocol=flows.protocol, flow=port, port=flows.port),
        )
        for port in (*flows.passing, *flows.failing, *flows.unknown)
    }
    return replace(flows, legs=group_legs(flows, legs))


def _partial(partial: Sequence[tuple[PathState, FlowResult]], prober: Prober) -> None:
    """Some flows fail: their MTU, where the flows part, and the bad leg's break.

    First, side by side: the search on one failing flow (its MTU) and the hop
    map of one passing flow. Then the failing flow's localization at its MTU.
    """
    pacer = HopPacer()
    first = []
    for s, found in partial:
        r = s.done()
        assert r.path_mtu is not None
        flows = found.flows
        search = MtuSearch(
            SearchConfig(
                family=r.family,
                max_size=r.path_mtu,
                max_time_s=STAGE_MAX_TIME_S,
                protocol=flows.protocol,
                flow=flows.failing[0],
                port=flows.port,
            )
        )
        mapper = Locator(_flow_map(s, flows.passing[0]), pacer)
        first.append((s, found, search, mapper))
    jobs = [Job(s.target, p) for s, _, search, mapper in first for p in (search, mapper)]
    drive(prober, jobs, max_time_s=STAGE_MAX_TIME_S + 1)
    second = []
    for s, found, search, mapper in first:
        leg = search.abandon(prober.now())
        good = mapper.abandon(prober.now())
        bad_mtu = leg.path_mtu if leg.path_mtu is not None else found.too_big
        if bad_mtu is None:
            continue
        cfg = replace(
            _flow_map(s, found.flows.failing[0]), fail_size=bad_mtu + 1, pass_size=bad_mtu
        )
        probes = leg.probes_sent + good.probes_sent
        second.append((s, bad_mtu, good.hops, probes, Locator(cfg, pacer)))
    drive(prober, [Job(s.target, loc) for s, *_, loc in second], max_time_s=STAGE_MAX_TIME_S + 1)
    for s, bad_mtu, good_hops, probes, locator in second:
        bad = locator.abandon(prober.now())
        r = with_stage(s.done(), Stage("partial", probes + bad.probes_sent, bad.elapsed_s))
        assert r.flows is not None and r.path_mtu is not None
        flows = replace(r.flows, failing_mtu=bad_mtu, parted_after=_parted(good_hops, bad.hops))
        mtu = min(r.path_mtu, bad_mtu)
        if r.expected_mtu is None or mtu >= r.expected_mtu:
            s.result = replace(r, path_mtu=mtu, flows=flows)
            continue
        brk = None
        if bad.break_ is not None and bad.break_.kind is not BreakKind.NONE:
            brk = replace(bad.break_, kind=BreakKind.PARTIAL, cause=Cause.PARTIAL_FLOWS)
        s.result = replace(
            r,
            path_mtu=mtu,
            status=Status.BELOW,
            cause=Cause.PARTIAL_FLOWS,
            direction=Direction.FORWARD,
            break_=brk,
            hops=bad.hops,
            flows=flows,
        )


def _flow_map(s: PathState, flow: int) -> LocateConfig:
    """The hop map of one flow of ``s``'s path (the flows' protocol and port)."""
    r = s.done()
    assert r.address is not None and s.route is not None and r.flows is not None
    return LocateConfig(
        family=r.family,
        target=r.address,
        max_size=s.route.interface_mtu or 65535,
        fail_size=None,
        pass_size=r.path_mtu,
        interface=s.route.interface,
        protocol=r.flows.protocol,
        flow=flow,
        port=r.flows.port,
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

    def carries_expected(r: PathResult) -> bool:
        return r.status is Status.OK and r.protocol is Protocol.ICMP and r.path_mtu is not None

    jobs = []
    for s in _field_targets(states, "soak", carries_expected):
        r = s.done()
        assert r.path_mtu is not None
        jobs.append((s, Soak(paced(r.family, r.path_mtu, pairs, max(0.1, s.timeout_s)))))
    if not jobs:
        return
    limit = max(soak.config.max_time_s for _, soak in jobs)
    drive(prober, [Job(s.target, soak) for s, soak in jobs], max_time_s=limit + 0.5)
    for s, soak in jobs:
        found = soak.abandon(prober.now())
        r = with_stage(s.done(), Stage("soak", soak.probes_sent, found.elapsed_s))
        if found.loss.degraded:
            r = replace(r, status=Status.DEGRADED, cause=Cause.BIG_FRAME_LOSS)
        s.result = replace(r, soak=found.loss)


# --------------------------------------------------------------------------
# Which targets, and saying what was left out


def _field_targets(
    states: Sequence[PathState], stage: str, wanted: Callable[[PathResult], bool]
) -> list[PathState]:
    """The measured targets ``wanted`` picks; none (and a remark) past the bound."""
    chosen = [s for s in states if s.route is not None and s.result and wanted(s.result)]
    if len(chosen) <= MAX_FIELD_TARGETS:
        return chosen
    for s in chosen:
        note = remark("stage-skipped", stage=stage, limit=MAX_FIELD_TARGETS)
        s.result = replace(s.done(), notes=(*s.done().notes, note))
    return []


def _limit(states: Sequence[PathState], stage: str, protocol: Protocol) -> None:
    """This prober cannot send ``protocol`` probes: the stage is skipped, and said so."""
    for s in states:
        note = remark("prober-limit", stage=stage, protocol=protocol.value)
        s.result = replace(s.done(), notes=(*s.done().notes, note))
