"""Inference over the mesh matrix, table-driven: (fault description, expected verdict)."""

from __future__ import annotations

from typing import Any

import pytest
from test_mesh_helpers import addr, mesh_of

from jumbopath.mesh.matrix import one_way
from jumbopath.mesh.runs import ErrorKind, HostError
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


CASES = [
    # (description, hosts, cells, expected verdict kinds, hosts named by the first verdict)
    ("clean", H4, {}, [], []),
    ("one host's access port at 1500", H5, host_fault("h3", H5), ["host"], ["h3"]),
    (
        "two bad hosts",
        H5,
        {**host_fault("h2", H5), **host_fault("h5", H5)},
        ["host", "host"],
        ["h2"],
    ),
    (
        "inter-switch link at 1500",
        H4,
        cross(["h1", "h2"], ["h3", "h4"]),
        ["link"],
        ["h1", "h2", "h3", "h4"],
    ),
    (
        "uplink between 3 and 2 hosts",
        H5,
        cross(["h1", "h2", "h3"], ["h4", "h5"]),
        ["link"],
        ["h1", "h2", "h3", "h4", "h5"],
    ),
    ("one pair", H4, both_ways([("h1", "h2")]), ["pair"], ["h1", "h2"]),
    (
        "two unrelated pairs",
        H5,
        both_ways([("h1", "h2"), ("h3", "h4")]),
        ["pair", "pair"],
        ["h1", "h2"],
    ),
    (
        "everything at 1500",
        H4,
        both_ways([(a, b) for a in H4 for b in H4 if a < b]),
        ["network"],
        H4,
    ),
    ("a two-host network", ["h1", "h2"], both_ways([("h1", "h2")]), ["pair"], ["h1", "h2"]),
    (
        "unreachable host",
        H4,
        host_fault("h4", H4)
        | both_ways([("h4", o) for o in ("h1", "h2", "h3")], status="unreachable", mtu=None),
        ["host"],
        ["h4"],
    ),
]


@pytest.mark.parametrize(
    ("desc", "hosts", "cells", "kinds", "named"), CASES, ids=[c[0] for c in CASES]
)
def test_inference(
    desc: str, hosts: list[str], cells: dict[Any, Any], kinds: list[str], named: list[str]
) -> None:
    mesh = mesh_of(hosts, cells=cells)
    net = mesh.networks[0]
    assert [v.kind for v in net.verdicts] == kinds, [v.explanation for v in net.verdicts]
    if kinds:
        assert sorted(net.verdicts[0].hosts) == sorted(named)
        assert mesh.exit_code == ExitCode.BELOW
    else:
        assert mesh.exit_code == ExitCode.OK


def test_link_verdict_names_both_groups() -> None:
    net = mesh_of(H4, cells=cross(["h1", "h2"], ["h3", "h4"])).networks[0]
    (v,) = net.verdicts
    assert v.groups == (("h1", "h2"), ("h3", "h4"))
    assert "h1 and h2 reach each other" in v.explanation
    assert "h3 and h4" in v.explanation
    assert "link between the two groups" in v.explanation


def test_host_verdict_blames_nic_when_its_interface_is_small() -> None:
    cells = host_fault("h3", H5)
    for o in H5:
        if o != "h3":
            cells[("h3", o)] = (
                "below",
                1500,
                {
                    "interface_mtu": 1500,
                    "brk": {
                        "kind": "local-nic",
                        "after": None,
                        "before": None,
                        "mtu": 1500,
                        "reported_by": None,
                        "explanation": "local NIC",
                    },
                },
            )
    (v,) = mesh_of(H5, cells=cells).networks[0].verdicts
    assert "h3's own NIC" in v.explanation
    assert "MTU 1500" in v.explanation


def test_host_verdict_blames_access_port_when_nic_is_right() -> None:
    cells = host_fault("h3", H5)
    for o in H5:
        if o != "h3":
            cells[(o, "h3")] = ("below", 1500, silent(None, addr("h3")))
    (v,) = mesh_of(H5, cells=cells).networks[0].verdicts
    assert "access port" in v.explanation
    assert "interface eth1 is set to 9000" in v.explanation


def test_host_without_its_own_row_is_still_suspected_from_its_column() -> None:
    cells = {(o, "h4"): ("below", 1500) for o in ("h1", "h2", "h3")}
    down = {"h4": HostError(ErrorKind.CONNECTION_REFUSED, "nothing accepts SSH")}
    mesh = mesh_of(H4, cells=cells, down=down)
    net = mesh.networks[0]
    assert [v.kind for v in net.verdicts] == ["host"]
    assert net.row("h4").error.kind is ErrorKind.CONNECTION_REFUSED  # type: ignore[union-attr]
    assert {c.status for c in net.cells if c.source == "h4"} == {"not-measured"}
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
        ("forward", None, "forward"),
        ("return", None, "return"),
        ("both", None, "both"),
        (None, "forward", "return"),  # B says B→A dies: for A→B that is the way back
        (None, "return", "forward"),
        ("return", "forward", "return"),  # both views agree
        ("forward", "forward", "both"),
        (None, None, "unknown"),
    ],
)
def test_one_way_from_both_views(own: str | None, mirror: str | None, expected: str) -> None:
    cells = {
        ("h1", "h2"): ("below", 1500, {"direction": own}),
        ("h2", "h1"): ("below", 1500, {"direction": mirror}),
    }
    net = mesh_of(["h1", "h2", "h3"], cells=cells).networks[0]
    c, m = net.cell("h1", "h2"), net.cell("h2", "h1")
    assert c is not None
    assert one_way(c, m) == expected


def test_return_path_limit_is_said_in_the_pair_and_the_link_verdict() -> None:
    # Big packets die only on the way from {h3, h4} to {h1, h2} (asymmetric routing).
    cells: dict[tuple[str, str], Any] = {}
    for a in ("h1", "h2"):
        for b in ("h3", "h4"):
            cells[(a, b)] = ("below", 1500, {"direction": "return"})
            cells[(b, a)] = ("below", 1500, {"direction": "forward"})
    net = mesh_of(H4, cells=cells).networks[0]
    f = next(f for f in net.failing if (f.source, f.destination) == ("h1", "h3"))
    assert f.one_way == "return"
    assert "on the way back from h3 to h1" in f.explanation
    (v,) = net.verdicts
    assert v.kind == "link"
    assert "only on the way from h3 and h4 to h1 and h2" in v.explanation


def test_one_way_group_failure_without_direction_field() -> None:
    # IPv4 echo replies carry no DF: a router on the way b → a fragments a's replies,
    # so a's probes pass and only b's fail. The failure is one-way, b toward a.
    cells = {(b, a): ("below", 1500) for a in ("h1", "h2") for b in ("h3", "h4")}
    net = mesh_of(H4, cells=cells).networks[0]
    assert {f.one_way for f in net.failing} == {"forward"}
    (v,) = net.verdicts
    assert v.kind == "link" and v.groups == (("h1", "h2"), ("h3", "h4"))
    assert "only on the way from h3 and h4 to h1 and h2" in v.explanation


def test_ptb_reporter_is_named() -> None:
    ptb = {
        "brk": {
            "kind": "ptb",
            "after": "198.18.9.1",
            "before": None,
            "mtu": 1500,
            "reported_by": "198.18.9.1",
            "explanation": "router says 1500",
        }
    }
    net = mesh_of(H4, cells=cross(["h1", "h2"], ["h3", "h4"], extra=ptb)).networks[0]
    assert "198.18.9.1 reports next-hop MTU 1500" in net.verdicts[0].explanation
    assert "198.18.9.1 reports next-hop MTU 1500" in net.failing[0].explanation


def test_silent_break_names_hosts_by_network_address() -> None:
    cells = {
        ("h1", "h2"): ("below", 1500, silent(None, addr("h2"))),
        ("h2", "h1"): ("below", 1500, silent(None, addr("h1"))),
    }
    net = mesh_of(H4, cells=cells).networks[0]
    assert f"before h2 ({addr('h2')})" in net.failing[0].explanation


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
    assert cell is not None and cell.status == "below" and cell.path_mtu == 1500


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
    assert c is not None and c.status == "not-measured"
    assert "no result for c" in (c.error or "")
    assert m.networks[0].row("b").error.kind is ErrorKind.MISSING  # type: ignore[union-attr]
