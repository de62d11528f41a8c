"""Inference over the mesh matrix, table-driven: (fault description, expected verdict).

The assertions are on the data (causes, hosts, groups, directions, breaks);
the words are tested in test_mesh_explain.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_mesh_helpers import addr, mesh_of

from jumbopath.mesh.matrix import (
    CellStatus,
    MeshCause,
    OneWay,
    VerdictKind,
    one_way,
)
from jumbopath.mesh.model import VERDICT_KIND
from jumbopath.mesh.runs import ErrorKind, HostError
from jumbopath.model import Break, BreakKind, Cause
from jumbopath.status import ExitCode

H4 = ["h1", "h2", "h3", "h4"]
H5 = ["h1", "h2", "h3", "h4", "h5"]


def silent(after: str | None, before: str) -> dict[str, Any]:
    return {
        "brk": {
            "kind": "silent",
            "after": after,
            "before": before,
            "mtu": None,
            "reported_by": None,
            "explanation": "big packets vanish",
        }
    }


def both_ways(
    pairs: list[tuple[str, str]],
    status: str = "below",
    mtu: int | None = 1500,
    extra: dict[str, Any] | None = None,
) -> dict[tuple[str, str], Any]:
    out: dict[tuple[str, str], Any] = {}
    for a, b in pairs:
        out[(a, b)] = (status, mtu, extra or {})
        out[(b, a)] = (status, mtu, extra or {})
    return out


def host_fault(bad: str, hosts: list[str]) -> dict[tuple[str, str], Any]:
    return both_ways([(bad, o) for o in hosts if o != bad])


def cross(left: list[str], right: list[str], **kw: Any) -> dict[tuple[str, str], Any]:
    return both_ways([(a, b) for a in left for b in right], **kw)


HOST = MeshCause.HOST_PORT_OR_NIC
LINK = MeshCause.INTER_GROUP_LINK
PAIR = MeshCause.PAIR_SPECIFIC

CASES = [
    # (description, hosts, cells, expected verdict causes, hosts named by the first verdict)
    ("clean", H4, {}, [], []),
    ("one host's access port at 1500", H5, host_fault("h3", H5), [HOST], ["h3"]),
    (
        "two bad hosts",
        H5,
        {**host_fault("h2", H5), **host_fault("h5", H5)},
        [HOST, HOST],
        ["h2"],
    ),
    (
        "inter-switch link at 1500",
        H4,
        cross(["h1", "h2"], ["h3", "h4"]),
        [LINK],
        ["h1", "h2", "h3", "h4"],
    ),
    (
        "uplink between 3 and 2 hosts",
        H5,
        cross(["h1", "h2", "h3"], ["h4", "h5"]),
        [LINK],
        ["h1", "h2", "h3", "h4", "h5"],
    ),
    ("one pair", H4, both_ways([("h1", "h2")]), [PAIR], ["h1", "h2"]),
    (
        "two unrelated pairs",
        H5,
        both_ways([("h1", "h2"), ("h3", "h4")]),
        [PAIR, PAIR],
        ["h1", "h2"],
    ),
    (
        "everything at 1500",
        H4,
        both_ways([(a, b) for a in H4 for b in H4 if a < b]),
        [MeshCause.NETWORK_WIDE],
        H4,
    ),
    ("a two-host network", ["h1", "h2"], both_ways([("h1", "h2")]), [PAIR], ["h1", "h2"]),
    (
        "unreachable host",
        H4,
        host_fault("h4", H4)
        | both_ways([("h4", o) for o in ("h1", "h2", "h3")], status="unreachable", mtu=None),
        [HOST],
        ["h4"],
    ),
    (
        "one host loses big frames",
        H4,
        both_ways([("h2", o) for o in ("h1", "h3", "h4")], status="degraded", mtu=9000),
        [HOST],
        ["h2"],
    ),
]


@pytest.mark.parametrize(
    ("desc", "hosts", "cells", "causes", "named"), CASES, ids=[c[0] for c in CASES]
)
def test_inference(
    desc: str,
    hosts: list[str],
    cells: dict[Any, Any],
    causes: list[MeshCause],
    named: list[str],
) -> None:
    mesh = mesh_of(hosts, cells=cells)
    net = mesh.networks[0]
    assert [v.cause for v in net.verdicts] == causes
    assert [v.kind for v in net.verdicts] == [VERDICT_KIND[c] for c in causes]
    if causes:
        assert sorted(net.verdicts[0].hosts) == sorted(named)
        assert mesh.exit_code == ExitCode.BELOW
    else:
        assert mesh.exit_code == ExitCode.OK


def test_link_verdict_names_both_groups() -> None:
    net = mesh_of(H4, cells=cross(["h1", "h2"], ["h3", "h4"])).networks[0]
    (v,) = net.verdicts
    assert (v.cause, v.kind) == (MeshCause.INTER_GROUP_LINK, VerdictKind.LINK)
    assert v.groups == (("h1", "h2"), ("h3", "h4"))
    # Both hosts of every cross pair fail and neither can tell the way: no direction.
    assert (v.only_from, v.only_to) == ((), ())
    assert v.shared_break is None


def local_nic() -> dict[str, Any]:
    return {
        "interface_mtu": 1500,
        "brk": {
            "kind": "local-nic",
            "after": None,
            "before": None,
            "mtu": 1500,
            "reported_by": None,
            "explanation": "local NIC",
        },
    }


def test_host_verdict_blames_nic_when_its_interface_is_small() -> None:
    cells = host_fault("h3", H5)
    for o in H5:
        if o != "h3":
            cells[("h3", o)] = ("below", 1500, local_nic())
    (v,) = mesh_of(H5, cells=cells).networks[0].verdicts
    assert (v.cause, v.hosts) == (MeshCause.HOST_NIC, ("h3",))
    assert (v.interface, v.interface_mtu) == ("eth1", 1500)
    assert v.both_directions and v.carried_mtu == 1500


def test_host_verdict_blames_access_port_when_nic_is_right() -> None:
    cells = host_fault("h3", H5)
    for o in H5:
        if o != "h3":
            cells[(o, "h3")] = ("below", 1500, silent(None, addr("h3")))
    (v,) = mesh_of(H5, cells=cells).networks[0].verdicts
    assert (v.cause, v.hosts) == (MeshCause.HOST_PORT_OR_NIC, ("h3",))
    assert (v.interface, v.interface_mtu) == ("eth1", 9000)
    assert v.both_directions and v.carried_mtu == 1500


def test_host_without_its_own_row_is_still_suspected_from_its_column() -> None:
    cells = {(o, "h4"): ("below", 1500) for o in ("h1", "h2", "h3")}
    down = {"h4": HostError(ErrorKind.CONNECTION_REFUSED, "nothing accepts SSH")}
    mesh = mesh_of(H4, cells=cells, down=down)
    net = mesh.networks[0]
    assert [v.kind for v in net.verdicts] == ["host"]
    assert net.row("h4").error.kind is ErrorKind.CONNECTION_REFUSED  # type: ignore[union-attr]
    assert {c.status for c in net.cells if c.source == "h4"} == {CellStatus.NOT_MEASURED}
    assert mesh.exit_code == ExitCode.BELOW


def test_unmeasured_row_without_failures_is_exit_3() -> None:
    down = {"h2": HostError(ErrorKind.HOST_KEY_CHANGED, "host key changed")}
    mesh = mesh_of(H4, down=down)
    assert mesh.exit_code == ExitCode.CANNOT_MEASURE
    assert mesh.networks[0].verdicts == ()


def test_nothing_measured_is_exit_3() -> None:
    err = HostError(ErrorKind.CONNECT_TIMEOUT, "no answer")
    mesh = mesh_of(["h1", "h2"], down={"h1": err, "h2": err})
    assert mesh.exit_code == ExitCode.CANNOT_MEASURE


@pytest.mark.parametrize(
    ("own", "mirror", "expected"),
    [
        ("forward", None, OneWay.FORWARD),
        ("return", None, OneWay.RETURN),
        (None, "forward", OneWay.RETURN),  # B says B→A dies: for A→B that is the way back
        (None, "return", OneWay.FORWARD),
        ("return", "forward", OneWay.RETURN),  # both views agree
        ("forward", "forward", OneWay.BOTH),
        (None, None, OneWay.UNKNOWN),
        ("both", None, OneWay.UNKNOWN),  # not a direction check says: read as unknown
    ],
)
def test_one_way_from_both_views(own: str | None, mirror: str | None, expected: OneWay) -> None:
    cells = {
        ("h1", "h2"): ("below", 1500, {"direction": own}),
        ("h2", "h1"): ("below", 1500, {"direction": mirror}),
    }
    net = mesh_of(["h1", "h2", "h3"], cells=cells).networks[0]
    c, m = net.cell("h1", "h2"), net.cell("h2", "h1")
    assert c is not None
    assert one_way(c, m) is expected
    f = next(f for f in net.failing if (f.source, f.destination) == ("h1", "h2"))
    assert f.one_way is expected


def test_return_path_limit_is_found_in_the_pair_and_the_link_verdict() -> None:
    # Big packets die only on the way from {h3, h4} to {h1, h2} (asymmetric routing).
    cells: dict[tuple[str, str], Any] = {}
    for a in ("h1", "h2"):
        for b in ("h3", "h4"):
            cells[(a, b)] = ("below", 1500, {"direction": "return"})
            cells[(b, a)] = ("below", 1500, {"direction": "forward"})
    net = mesh_of(H4, cells=cells).networks[0]
    f = next(f for f in net.failing if (f.source, f.destination) == ("h1", "h3"))
    assert f.one_way is OneWay.RETURN and f.other_way_carries
    back = next(f for f in net.failing if (f.source, f.destination) == ("h3", "h1"))
    assert back.one_way is OneWay.FORWARD
    (v,) = net.verdicts
    assert v.cause is MeshCause.INTER_GROUP_LINK
    assert (v.only_from, v.only_to) == (("h3", "h4"), ("h1", "h2"))


def test_one_way_group_failure_without_direction_field() -> None:
    # IPv4 echo replies carry no DF: a router on the way b → a fragments a's replies,
    # so a's probes pass and only b's fail. The failure is one-way, b toward a.
    cells = {(b, a): ("below", 1500) for a in ("h1", "h2") for b in ("h3", "h4")}
    net = mesh_of(H4, cells=cells).networks[0]
    assert {f.one_way for f in net.failing} == {OneWay.FORWARD}
    assert all(f.other_way_carries for f in net.failing)
    (v,) = net.verdicts
    assert v.cause is MeshCause.INTER_GROUP_LINK and v.groups == (("h1", "h2"), ("h3", "h4"))
    assert (v.only_from, v.only_to) == (("h3", "h4"), ("h1", "h2"))


PTB = {
    "brk": {
        "kind": "ptb",
        "after": "198.18.9.1",
        "before": None,
        "mtu": 1500,
        "reported_by": "198.18.9.1",
        "explanation": "router says 1500",
    }
}


def test_the_router_most_paths_blame_is_the_shared_break() -> None:
    net = mesh_of(H4, cells=cross(["h1", "h2"], ["h3", "h4"], extra=PTB)).networks[0]
    (v,) = net.verdicts
    assert v.shared_break is not None and v.shared_break.paths == 8
    b = v.shared_break.break_
    assert isinstance(b, Break)  # the core model's Break, read by the schema
    assert (b.kind, b.cause, b.reported_by, b.mtu) == (
        BreakKind.PTB,
        Cause.ROUTER_TOO_BIG,
        "198.18.9.1",
        1500,
    )
    assert {f.cause for f in net.failing} == {Cause.ROUTER_TOO_BIG}


def test_network_wide_failure_with_a_layer_2_drop() -> None:
    pairs = [(a, b) for a in H4 for b in H4 if a < b]
    cells = {}
    for a, b in pairs:
        cells[(a, b)] = ("below", 1500, silent(None, addr(b)))
        cells[(b, a)] = ("below", 1500, silent(None, addr(a)))
    (v,) = mesh_of(H4, cells=cells).networks[0].verdicts
    assert v.cause is MeshCause.NETWORK_WIDE and v.hosts == tuple(H4)
    assert v.shared_break is not None and v.shared_break.break_.after is None
    assert v.shared_break.break_.cause is Cause.SILENT_DROP


def test_pair_whose_hosts_disagree() -> None:
    net = mesh_of(H4, cells={("h1", "h2"): ("below", 1500)}).networks[0]
    (f,) = net.failing
    assert (f.one_way, f.other_way_carries, f.cause) == (
        OneWay.FORWARD,
        True,
        Cause.BELOW_UNLOCATED,
    )
    (v,) = net.verdicts
    assert v.cause is MeshCause.PAIR_SPECIFIC and v.hosts == ("h1", "h2")
    assert v.pairs == (f,)
    assert (v.carrying, v.carrying_mtu) == (("h2", "h1"), 9000)


def test_the_cause_check_wrote_is_kept() -> None:
    cells = {("h1", "h2"): ("below", 1500, {"cause": "return-path", "direction": "return"})}
    net = mesh_of(["h1", "h2"], cells=cells).networks[0]
    cell = net.cell("h1", "h2")
    assert cell is not None and cell.cause is Cause.RETURN_PATH
    assert net.failing[0].cause is Cause.RETURN_PATH
    ok = net.cell("h2", "h1")
    assert ok is not None and ok.cause is Cause.CARRIES


def test_degraded_cells_fail_with_their_own_cause() -> None:
    mesh = mesh_of(["h1", "h2"], cells={("h1", "h2"): ("degraded", 9000)})
    net = mesh.networks[0]
    cell = net.cell("h1", "h2")
    assert cell is not None and cell.status is CellStatus.DEGRADED
    (f,) = net.failing
    assert (f.status, f.cause, f.one_way) == (
        CellStatus.DEGRADED,
        Cause.BIG_FRAME_LOSS,
        OneWay.UNKNOWN,
    )
    assert mesh.exit_code == ExitCode.BELOW


@pytest.mark.parametrize(
    ("broken", "why"),
    [
        ({"family": None}, "'family' must be 4 or 6"),
        ({"path_mtu": "big"}, "'path_mtu' must be a whole number"),
        ({"path_mtu": 70000}, "'path_mtu' must be a whole number"),
        ({"status": "wonderful"}, "unknown status 'wonderful'"),
        ({"brk": {"kind": "wormhole"}}, "unknown break kind 'wormhole'"),
    ],
)
def test_a_result_the_schema_refuses_is_that_cells_error(broken: dict[str, Any], why: str) -> None:
    from test_mesh_helpers import check_doc, result

    from jumbopath.mesh.inventory import Network
    from jumbopath.mesh.matrix import build_mesh
    from jumbopath.mesh.runs import HostRun, NetworkRun

    net = Network("s", 9000, (("a", "198.18.1.1"), ("b", "198.18.1.2"), ("c", "198.18.1.3")))
    bad = result("198.18.1.2", "below", 1500)
    for key, value in broken.items():
        bad["break" if key == "brk" else key] = value
    t = (("b", "198.18.1.2"), ("c", "198.18.1.3"))
    runs = [HostRun("a", (NetworkRun("s", 9000, t, check_doc(9000, [bad, result("198.18.1.3")])),))]
    m = build_mesh([net], runs).networks[0]
    cell = m.cell("a", "b")
    assert cell is not None and cell.status is CellStatus.ERROR
    assert why in (cell.error or "")
    good = m.cell("a", "c")
    assert good is not None and good.status is CellStatus.OK and good.path_mtu == 9000


def test_ipv4_and_ipv6_results_for_one_name_take_the_worse() -> None:
    from test_mesh_helpers import check_doc, result

    from jumbopath.mesh.inventory import Network
    from jumbopath.mesh.matrix import build_mesh
    from jumbopath.mesh.runs import HostRun, NetworkRun

    net = Network("s", 9000, (("a", "a.lab"), ("b", "b.lab")))
    r1 = result("b.lab", "ok", 9000)
    r2 = result("b.lab", "below", 1500)
    runs = [
        HostRun("a", (NetworkRun("s", 9000, (("b", "b.lab"),), check_doc(9000, [r1, r2])),)),
        HostRun(
            "b", (NetworkRun("s", 9000, (("a", "a.lab"),), check_doc(9000, [result("a.lab")])),)
        ),
    ]
    cell = build_mesh([net], runs).networks[0].cell("a", "b")
    assert cell is not None and cell.status is CellStatus.BELOW and cell.path_mtu == 1500


def test_missing_target_in_check_output_is_not_measured() -> None:
    from test_mesh_helpers import check_doc, result

    from jumbopath.mesh.inventory import Network
    from jumbopath.mesh.matrix import build_mesh
    from jumbopath.mesh.runs import HostRun, NetworkRun

    net = Network("s", 9000, (("a", "198.18.1.1"), ("b", "198.18.1.2"), ("c", "198.18.1.3")))
    t = (("b", "198.18.1.2"), ("c", "198.18.1.3"))
    runs = [HostRun("a", (NetworkRun("s", 9000, t, check_doc(9000, [result("198.18.1.2")])),))]
    m = build_mesh([net], runs)
    c = m.networks[0].cell("a", "c")
    assert c is not None and c.status is CellStatus.NOT_MEASURED
    assert "no result for c" in (c.error or "")
    assert m.networks[0].row("b").error.kind is ErrorKind.MISSING  # type: ignore[union-attr]
