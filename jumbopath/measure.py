"""What every probing stage of the check pipeline shares: building an MTU search
for a path, reading a path's verdict from it, and adding a stage's cost.

The search stage (ICMP echo, or the protocol ``--probe`` names) and the
fallback stage (TCP or UDP for a host that answers no echo) build their
searches here, so a UDP search is paced to the target's ICMP budget and given
the time that takes in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from jumbopath.budget import Budgeted
from jumbopath.engine import Job
from jumbopath.model import Cause, PathResult, Protocol, Stage, Status, remark
from jumbopath.search import MtuSearch, SearchConfig, SearchResult
from jumbopath.sizes import MIN_MTU

if TYPE_CHECKING:
    from jumbopath.egress import Egress
    from jumbopath.pathstate import CheckConfig, PathState
    from jumbopath.probers.base import Target

#: Bound on a UDP search, paced to the target's ICMP budget (about one answer a second).
UDP_MAX_TIME_S = 30.0

#: Stages that run side by side (in one drive); the others run one after another.
SIDE_BY_SIDE = ("locate", "direction")


def new_search(
    state: PathState,
    config: CheckConfig,
    protocol: Protocol,
    port: int | None,
    silence_floor_s: float = 0.0,
) -> tuple[MtuSearch, Job[Any]]:
    """The search of one path, and the job that drives it.

    UDP probes are answered by the target's own rate-limited ICMP: their
    search is paced to it (:class:`~jumbopath.budget.Budgeted`) and given
    :data:`UDP_MAX_TIME_S`. A silence counts only after ``silence_floor_s``
    (the prober's, see :func:`~jumbopath.probers.base.silence_floor_s`).
    """
    assert state.route is not None
    udp = protocol is Protocol.UDP
    search_config = SearchConfig(
        family=state.target.family,
        max_size=state.route.interface_mtu or 65535,
        expected=_expectation(config.expect, state.target.family),
        max_time_s=max(config.max_time_s, UDP_MAX_TIME_S) if udp else config.max_time_s,
        protocol=protocol,
        port=port,
    )
    floor = max(search_config.timeout_floor_s, silence_floor_s)
    search = MtuSearch(replace(search_config, timeout_floor_s=floor))
    return search, Job(state.target, Budgeted(search) if udp else search)


def _expectation(expect: int | None, family: int) -> int | None:
    """The size the search tries first: ``--expect``, at least the IPv6 minimum."""
    if expect is not None and family == 6 and expect < MIN_MTU[6]:
        return MIN_MTU[6]
    return expect


def search_result(
    target: Target, route: Egress, expected: int | None, found: SearchResult, ignored: int
) -> PathResult:
    """A path's verdict from its search: status, cause and remarks."""
    remarks = []
    mtu = found.path_mtu
    if not found.reachable:
        status = Status.UNREACHABLE if found.conclusive else Status.ERROR
        if not found.conclusive:
            cause = Cause.TIME_LIMIT
        elif found.unreachable is not None:
            cause = Cause.ICMP_UNREACHABLE
        else:
            cause = Cause.NO_ANSWER
        why = found.unreachable.value if found.unreachable is not None else None
        remarks.append(remark("no-answer", address=target.address, reason=why))
    elif expected is not None and mtu is not None and mtu >= expected:
        status, cause = Status.OK, Cause.CARRIES
    elif not found.conclusive:
        status, cause = Status.ERROR, Cause.INCONCLUSIVE
    else:
        status, cause = Status.BELOW, Cause.BELOW_UNLOCATED
    if found.loss > 0 and found.reachable:
        remarks.append(remark("loss-retried", loss=found.loss))
    if ignored:
        remarks.append(remark("icmp-ignored", count=ignored, address=target.address))
    return PathResult(
        target=target.name,
        address=target.address,
        family=target.family,
        status=status,
        expected_mtu=expected,
        path_mtu=mtu,
        interface=route.interface,
        interface_mtu=route.interface_mtu,
        loss=found.loss if found.reachable else 1.0,
        probes_sent=found.probes_sent,
        elapsed_s=found.elapsed_s,
        stages=(Stage("search", found.probes_sent, found.elapsed_s),),
        evidence=found.evidence,
        cached_mtu=route.route_mtu,
        ignored_icmp=ignored,
        notes=tuple(remarks),
        cause=cause,
        unreachable=found.unreachable,
    )


def with_stage(r: PathResult, stage: Stage) -> PathResult:
    """``r`` with one more stage: its probes added, the probing time recomputed."""
    stages = (*r.stages, stage)
    return replace(
        r,
        stages=stages,
        probes_sent=r.probes_sent + stage.probes,
        elapsed_s=probing_time(stages),
    )


def probing_time(stages: Sequence[Stage]) -> float:
    """The sum of the stages that run one after another, plus the longest of
    those that run side by side."""
    serial = sum(st.elapsed_s for st in stages if st.name not in SIDE_BY_SIDE)
    parallel = [st.elapsed_s for st in stages if st.name in SIDE_BY_SIDE]
    return round(serial + max(parallel, default=0.0), 4)
