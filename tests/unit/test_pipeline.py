"""``check`` and ``trace`` end to end on simulated paths, no root: (path, expected verdict).

Every verdict the pipeline can give is reached here through the real stages
(route, search, one-way test, locate, local side, kernel cache, triangulate)
with a :class:`SimulatedEnvironment` in place of the system.
"""

from __future__ import annotations

import json

import pytest

from jumbopath.egress import Egress
from jumbopath.environment import SimulatedEnvironment
from jumbopath.errors import CannotMeasure, UsageError
from jumbopath.model import BreakKind, Cause, Direction, ProbeRequest, Protocol, Status
from jumbopath.pipeline import CheckConfig, check, trace
from jumbopath.probers.base import Target
from jumbopath.probers.simulated import SimPath, SimRouter, SimSegment, SimulatedProber
from jumbopath.render.json import render_json
from jumbopath.render.text import render_check

DST, DST2 = "198.18.9.9", "198.18.9.10"
R1, R2 = "198.18.1.1", "198.18.2.1"


def seg(egress: int = 9000, l2: int = 9000) -> SimSegment:
    return SimSegment(egress_mtu=egress, l2_mtu=l2)


def path(*segments: SimSegment, ptb: bool = True, **kw: object) -> SimPath:
    routers = tuple(SimRouter([R1, R2][i], ptb=ptb) for i in range(len(segments) - 1))
    return SimPath(segments, routers, **kw)  # type: ignore[arg-type]


def run(paths: dict[str, SimPath], *, expect: int | None = 9000, traced: bool = False, **kw):
    env = SimulatedEnvironment(paths, **kw)
    runner = trace if traced else check
    return runner(CheckConfig(tuple(paths), expect=expect), env)


# (description, path, status, path MTU, cause, direction, break after, break before)
CASES = [
    ("clean", path(seg(), seg()), Status.OK, 9000, Cause.CARRIES, None, None, None),
    (
        "access port 1500 behind a router",
        path(seg(), seg(l2=1500)),
        Status.BELOW,
        1500,
        Cause.SILENT_DROP,
        Direction.FORWARD,
        R1,
        DST,
    ),
    (
        "switch port 1500 on this host's own segment",
        path(seg(l2=1500)),
        Status.BELOW,
        1500,
        Cause.SILENT_FIRST_SEGMENT,
        Direction.FORWARD,
        None,
        DST,
    ),
    (
        "router egress 1500 that says too big",
        path(seg(), seg(), seg(egress=1500)),
        Status.BELOW,
        1500,
        Cause.ROUTER_TOO_BIG,
        Direction.FORWARD,
        R2,
        DST,
    ),
    (
        "black-hole router (egress 1500, no too big)",
        path(seg(), seg(), seg(egress=1500), ptb=False),
        Status.BELOW,
        1500,
        Cause.SILENT_DROP,
        Direction.FORWARD,
        R2,
        DST,
    ),
    (
        "return path at 4000: big answers die on the way back",
        path(seg(), seg(), return_mtu=4000),
        Status.BELOW,
        4000,
        Cause.RETURN_PATH,
        Direction.RETURN,
        DST,
        None,
    ),
    (
        "return path at 4000, a switch port at 4500 on the way there: the tighter"
        " return limit sets the path MTU, so the one-way test probes 4001, not 9000",
        path(seg(), seg(l2=4500), return_mtu=4000),
        Status.BELOW,
        4000,
        Cause.RETURN_PATH,
        Direction.RETURN,
        DST,
        None,
    ),
    (
        "target drops echo, answers TCP: measured over TCP",
        path(seg(), seg(l2=4000), answers_echo=False),
        Status.BELOW,
        4000,
        Cause.SILENT_DROP,
        Direction.FORWARD,
        R1,
        DST,
    ),
    (
        "target answers nothing at all",
        path(seg(), seg(), answers_echo=False, answers_tcp=False, answers_udp=False),
        Status.UNREACHABLE,
        None,
        Cause.NO_ANSWER,
        None,
        None,
        None,
    ),
    (
        "8950 between routers, one way unknown: the target answers no UDP",
        path(seg(), seg(egress=8950), seg(), answers_udp=False),
        Status.BELOW,
        8950,
        Cause.ROUTER_TOO_BIG,
        Direction.FORWARD,  # the router's too big already says forward
        R1,
        R2,
    ),
]


@pytest.mark.parametrize(
    "desc,p,status,mtu,cause,direction,after,before", CASES, ids=[c[0] for c in CASES]
)
def test_check_verdicts(desc, p, status, mtu, cause, direction, after, before) -> None:
    (r,) = run({DST: p}).results
    assert (r.status, r.path_mtu, r.cause, r.direction) == (status, mtu, cause, direction), desc
    if after is None and before is None:
        assert r.break_ is None or r.break_.kind is BreakKind.NONE
    else:
        assert r.break_ is not None and r.break_.cause is cause
        assert (r.break_.after, r.break_.before) == (after, before)
        assert r.break_.confirmed


def test_local_nic_below_expectation() -> None:
    (r,) = run({DST: path(seg(egress=1500), seg())}).results
    assert (r.status, r.path_mtu, r.cause) == (Status.BELOW, 1500, Cause.LOCAL_MTU)
    assert r.break_ is not None and r.break_.interface == "lab0" and r.break_.mtu == 1500


def test_local_side_facts_join_the_break_or_the_remarks() -> None:
    facts = {"lab0": ["switch sw1 port 7 advertises a maximum frame size of 1518"]}
    (r,) = run({DST: path(seg(egress=1500), seg())}, local=facts).results
    assert r.break_ is not None and r.break_.local == tuple(facts["lab0"])
    (r,) = run({DST: path(seg(), seg(l2=1500))}, local=facts).results
    assert [n.code for n in r.notes if n.code == "local-side"] == ["local-side"]


def test_without_expectation_the_interface_mtu_is_expected() -> None:
    (r,) = run({DST: path(seg(), seg(l2=4000))}, expect=None).results
    assert (r.status, r.expected_mtu, r.path_mtu) == (Status.BELOW, 9000, 4000)


def test_trace_maps_passing_paths_too() -> None:
    (r,) = run({DST: path(seg(), seg(), seg())}, traced=True).results
    assert r.status is Status.OK and r.hops is not None
    assert [h.address for h in r.hops] == [R1, R2, DST]
    assert r.break_ is not None and r.break_.cause is Cause.NO_BREAK


def test_loss_is_never_a_verdict() -> None:
    for seed in range(10):
        paths = {DST: path(seg(), seg(l2=1500), loss=0.1), DST2: path(seg(), seg(), loss=0.1)}
        report = run(paths, seed=seed)
        assert [r.path_mtu for r in report.results] == [1500, 9000], seed


def test_host_specific_finding_across_targets() -> None:
    report = run({DST: path(seg(), seg(l2=1500)), DST2: path(seg(), seg())})
    (f,) = report.findings
    assert (f.cause, f.hop, f.failing, f.passing) == (Cause.HOST_SPECIFIC, R1, (DST,), (DST2,))


def test_kernel_cache_disagreement_is_a_remark() -> None:
    routes = {DST: Egress("198.18.0.1", "lab0", 9000, 576)}
    (r,) = run({DST: path(seg(), seg())}, routes=routes).results
    (cache,) = [n for n in r.notes if n.code == "kernel-cache"]
    assert (cache.fact("cached"), cache.fact("measured")) == (576, 9000)


def test_no_route_for_one_target_is_its_error_not_the_run() -> None:
    report = run({DST: path(seg(), seg())}, routes={})
    assert report.results[0].status is Status.OK
    env = SimulatedEnvironment({DST: path(seg(), seg())})
    report = check(CheckConfig((DST, "198.18.77.1"), expect=9000), env)
    assert [r.cause for r in report.results] == [Cause.CARRIES, Cause.NOT_MEASURED]
    with pytest.raises(CannotMeasure):
        check(CheckConfig(("198.18.77.1",), expect=9000), env)


def test_bad_input_is_a_usage_error() -> None:
    env = SimulatedEnvironment({})
    with pytest.raises(UsageError):
        check(CheckConfig(()), env)
    with pytest.raises(UsageError):
        check(CheckConfig(("stor-x",), expect=9000), env)
    with pytest.raises(UsageError):
        check(CheckConfig((DST,), expect=1000, family=6), env)


def test_renderers_read_the_data() -> None:
    report = run({DST: path(seg(), seg(l2=1500)), DST2: path(seg(), seg())})
    doc = json.loads(render_json(report))
    bad = doc["results"][0]
    assert bad["cause"] == "silent-drop" and bad["break"]["cause"] == "silent-drop"
    assert bad["direction"] == "forward" and "switch port" in bad["break"]["explanation"]
    assert doc["findings"][0]["cause"] == "host-specific"
    from rich.console import Console

    console = Console(width=200, record=True)
    console.print(render_check(report))
    text = console.export_text()
    assert "BELOW 9000" in text and "verdict:" in text and "access switch port" in text


def test_simulated_legs_follow_the_flow_hash() -> None:
    good, bad = path(seg(), seg()), path(seg(), seg(l2=1500))
    p = SimPath((seg(),), (), legs=(good, bad))
    prober = SimulatedProber({DST: p})
    target = Target(DST, DST, 4)
    echo = [prober.send(target, ProbeRequest(i, 9000)) for i in range(8)]
    tcp = [
        prober.send(target, ProbeRequest(100 + i, 9000, protocol=Protocol.TCP, flow=40000 + i))
        for i in range(32)
    ]
    answered = {token for token, _ in prober.receive(1.0)}
    assert set(echo) <= answered  # ICMP echo always takes the first (good) leg
    assert 8 <= len(answered & set(tcp)) <= 24  # flows spread over both legs
    # UDP answers are ICMP errors: the target rate-limits them (a burst of 6).
    udp = [
        prober.send(target, ProbeRequest(200 + i, 100, protocol=Protocol.UDP, flow=40000 + i))
        for i in range(10)
    ]
    assert len({token for token, _ in prober.receive(1.0)} & set(udp)) == 6


def test_the_json_document_reads_back_into_the_same_model() -> None:
    from jumbopath.schema import result_from_dict

    report = run(
        {DST: path(seg(), seg(), seg(egress=1500), ptb=False), DST2: path(seg(), seg())},
        traced=True,
    )
    doc = json.loads(render_json(report))
    for written, read in zip(report.results, map(result_from_dict, doc["results"]), strict=True):
        assert read.break_ == written.break_
        assert (read.status, read.cause, read.path_mtu, read.direction, read.hops) == (
            written.status,
            written.cause,
            written.path_mtu,
            written.direction,
            written.hops,
        )
        assert read.notes == written.notes


def test_echo_filtered_target_is_measured_over_tcp() -> None:
    (r,) = run({DST: path(seg(), seg(), answers_echo=False)}).results
    assert (r.status, r.path_mtu, r.protocol) == (Status.OK, 9000, Protocol.TCP)
    assert r.port == 22  # the first well-known port it answers on
    assert [n.code for n in r.notes] == ["no-echo"]
    (r,) = run({DST: path(seg(), seg(), answers_echo=False, answers_tcp=False)}).results
    assert (r.status, r.path_mtu, r.protocol) == (Status.OK, 9000, Protocol.UDP)


def test_one_ecmp_leg_at_1500_is_a_partial_break() -> None:
    good = path(seg(), seg(), seg())
    bad = SimPath(
        (seg(), seg(l2=1500), seg()),
        (SimRouter("198.18.1.1"), SimRouter("198.18.3.1")),
    )
    p = SimPath((seg(),), (), legs=(good, bad))
    (r,) = run({DST: p}).results
    assert (r.status, r.path_mtu, r.cause) == (Status.BELOW, 1500, Cause.PARTIAL_FLOWS)
    assert r.flows is not None and r.flows.failing and r.flows.passing
    assert r.flows.failing_mtu == 1500 and r.flows.parted_after == R1
    assert r.break_ is not None and r.break_.kind is BreakKind.PARTIAL
    assert (r.break_.after, r.break_.before) == ("198.18.1.1", "198.18.3.1")
    # --flows 1: echo alone takes the good leg and sees nothing.
    env = SimulatedEnvironment({DST: p})
    (r,) = check(CheckConfig((DST,), expect=9000, flows=1), env).results
    assert (r.status, r.path_mtu, r.flows) == (Status.OK, 9000, None)


def test_loss_of_big_frames_only_is_degraded() -> None:
    degraded = 0
    for seed in range(5):
        (r,) = run({DST: path(seg(), seg(), big_loss=0.2)}, seed=seed).results
        assert r.soak is not None and 0 < r.soak.big_sent <= 1000
        degraded += r.status is Status.DEGRADED
    assert degraded >= 4
    for seed in range(5):  # plain loss, alike for all sizes: never degraded
        (r,) = run({DST: path(seg(), seg(), loss=0.1)}, seed=seed).results
        assert r.status is Status.OK and r.soak is not None and not r.soak.degraded


def test_switches_name_the_port_behind_a_silent_break() -> None:
    """--switches: the switches' own tables name the port (here given as data)."""
    import yaml

    from jumbopath.switches import files
    from jumbopath.switches.graph import build
    from tests.unit.test_switches import CHAIN

    text = CHAIN.replace("SWP1", "9014").replace("SWP7", "1514")  # IOS XR: IP MTU 1500
    spec = files.parse(yaml.safe_load(text), "sw.yaml")
    graph = build(spec.given, spec.hosts)
    stor_b = "198.18.2.3"
    p = SimPath((seg(), seg(l2=1500)), (SimRouter("198.18.1.2"),))
    env = SimulatedEnvironment({stor_b: p}, switches={"sw.yaml": graph})
    (r,) = check(CheckConfig((stor_b,), expect=9000, switches="sw.yaml"), env).results
    assert r.break_ is not None and r.break_.cause is Cause.SILENT_DROP
    ((port),) = r.break_.ports
    assert (port.switch, port.port, port.toward) == ("sw-c", "Ethernet1/7", "stor-b")
    assert port.mtu == 1500
    doc = json.loads(render_json(check(CheckConfig((stor_b,), 9000, switches="sw.yaml"), env)))
    assert doc["results"][0]["break"]["ports"][0]["port"] == "Ethernet1/7"
    assert (
        "sw-c port Ethernet1/7 (toward stor-b) has MTU 1500"
        in doc["results"][0]["break"]["explanation"]
    )


def test_a_target_silent_for_two_seconds_is_measured_not_unreachable() -> None:
    """A router resolving a new neighbour drops the first packets for up to ~3 s."""
    (r,) = run({DST: path(seg(), seg(), silent_until_s=2.0)}).results
    assert (r.status, r.path_mtu) == (Status.OK, 9000)
    p = path(seg(), seg(), answers_echo=False, answers_tcp=False, answers_udp=False)
    (r,) = run({DST: p}).results
    assert r.status is Status.UNREACHABLE and r.elapsed_s >= 3.0


def test_a_host_that_drops_echo_is_told_by_its_tcp_port_without_the_long_wait() -> None:
    """The port scan runs beside the echo search: a SYN-ACK proves the host and
    the path alive, so echo's silence is a filter, not neighbour resolution."""
    env = SimulatedEnvironment({DST: path(seg(), seg(), answers_echo=False)})
    (r,) = check(CheckConfig((DST,), expect=9000), env).results
    assert (r.status, r.path_mtu, r.protocol, r.port) == (Status.OK, 9000, Protocol.TCP, 22)
    assert env.probers[0].now() < 1.5  # not the 3 s an unanswered host waits
    # No TCP answer either: the wait is the same as before, then UDP.
    env = SimulatedEnvironment({DST: path(seg(), seg(), answers_echo=False, answers_tcp=False)})
    (r,) = check(CheckConfig((DST,), expect=9000), env).results
    assert (r.status, r.protocol) == (Status.OK, Protocol.UDP)
    assert env.probers[0].now() >= 3.0
    # Silent to everything for two seconds (a neighbour being resolved): echo.
    env = SimulatedEnvironment({DST: path(seg(), seg(), silent_until_s=2.0)})
    (r,) = check(CheckConfig((DST,), expect=9000), env).results
    assert (r.status, r.path_mtu, r.protocol) == (Status.OK, 9000, Protocol.ICMP)
    # --probe icmp: no scan beside the search.
    env = SimulatedEnvironment({DST: path(seg(), seg(), answers_echo=False)})
    (r,) = check(CheckConfig((DST,), expect=9000, probe=Protocol.ICMP), env).results
    assert r.status is Status.UNREACHABLE and env.probers[0].now() >= 3.0


@pytest.mark.parametrize("traced", [False, True])
def test_the_one_way_test_needs_no_udp_answer_where_tcp_is_sent(traced: bool) -> None:
    """Its TCP resets are not rate-limited like ICMP port unreachables: a target
    that answers no UDP (or has spent its ICMP burst) still tells the way back."""
    (r,) = run({DST: path(seg(), seg(), return_mtu=4000, answers_udp=False)}, traced=traced).results
    assert (r.direction, r.cause) == (Direction.RETURN, Cause.RETURN_PATH)
    assert r.break_ is not None and r.break_.size == 4001
