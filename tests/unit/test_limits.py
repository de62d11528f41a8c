"""Every limit on a path, in order (PathResult.breaks): (path description, expected limits).

Each case runs the real ``trace`` pipeline against one simulated path whose
routers rate-limit their ICMP errors like Linux. A limit is (kind, after,
before, true MTU): a "too big" limit carries the MTU its router reported; a
silent one found by a larger probe carries a bracket (``mtu`` passes,
``size`` is dropped) around the true MTU; the last is the tightest, exact.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from test_locate import DST, R, path, seg, trace

from jumbopath import pipeline
from jumbopath.egress import Egress
from jumbopath.environment import SimulatedEnvironment
from jumbopath.locate.limits import every_limit
from jumbopath.model import Break, BreakKind, Evidence, PathResult, Report
from jumbopath.render.explain import limit_sentences
from jumbopath.render.json import render_json
from jumbopath.schema import result_from_dict

Limit = tuple[str, str | None, str | None, int]

# (description, path, limits in path order)
CASES: list[tuple[str, object, list[Limit]]] = [
    ("clean path", path(seg(), seg()), []),
    ("one silent port", path(seg(), seg(l2=4000)), [("silent", R[1], DST, 4000)]),
    ("one PTB router", path(seg(), seg(egress=4000), seg()), [("ptb", R[1], R[2], 4000)]),
    (
        "field case: PTB router at 8000, then a silent port at 4000",
        path(seg(), seg(egress=8000), seg(l2=4000)),
        [("ptb", R[1], R[2], 8000), ("silent", R[2], DST, 4000)],
    ),
    (
        "mirror: silent stretch at 8000, then a PTB router at 4000",
        path(seg(), seg(l2=8000), seg(egress=4000)),
        [("silent", R[1], R[2], 8000), ("ptb", R[2], DST, 4000)],
    ),
    (
        "two PTB routers, 8000 then 4000",
        path(seg(), seg(egress=8000), seg(egress=4000)),
        [("ptb", R[1], R[2], 8000), ("ptb", R[2], DST, 4000)],
    ),
    (
        "a PTB router and a silent drop at the same hop",
        path(seg(), seg(egress=8000, l2=4000), seg()),
        [("ptb", R[1], R[2], 8000), ("silent", R[1], R[2], 4000)],
    ),
    (
        "three limits: PTB routers at 8000 and 6000, a silent port at 4000",
        path(seg(), seg(egress=8000), seg(egress=6000), seg(l2=4000)),
        [("ptb", R[1], R[2], 8000), ("ptb", R[2], R[3], 6000), ("silent", R[3], DST, 4000)],
    ),
    (
        "a black hole at 8000 (no PTB), then a PTB router at 4000",
        path(seg(), seg(egress=8000), seg(egress=4000), routers={1: {"ptb": False}}),
        [("silent", R[1], R[2], 8000), ("ptb", R[2], DST, 4000)],
    ),
    (
        "a larger limit behind a smaller one cannot be seen",
        path(seg(), seg(egress=4000), seg(l2=8000)),
        [("ptb", R[1], R[2], 4000)],
    ),
]


def assert_limits(breaks: tuple[Break, ...], expected: list[Limit]) -> None:
    got = [(b.kind.value, b.after, b.before) for b in breaks]
    assert got == [e[:3] for e in expected]
    for b, (kind, *_, mtu) in zip(breaks, expected, strict=True):
        assert b.mtu is not None and b.size is not None
        if kind == "ptb" or b is breaks[-1]:
            assert b.mtu == mtu  # as the router reported it / the path MTU
        else:
            assert b.mtu <= mtu < b.size  # a bracket around the true MTU
        assert b.size > b.mtu
    mtus = [b.mtu for b in breaks]
    assert mtus == sorted(mtus, reverse=True) and len(set(mtus)) == len(mtus)


@pytest.mark.parametrize("desc,p,expected", CASES, ids=[c[0] for c in CASES])
def test_every_limit_in_path_order(desc: str, p: object, expected: list[Limit]) -> None:
    r = trace(p).result  # type: ignore[arg-type]
    assert_limits(r.breaks, expected)
    if expected:
        assert r.breaks[-1] == r.break_  # the tightest stays the break
        assert r.path_mtu == expected[-1][3]


def test_the_field_case_does_not_blame_the_router_for_the_port() -> None:
    """The router reported 8000: the failing size 4001 dies at the port behind it.

    The router has ICMP budget to spare, so the sweep's interface-MTU probes
    draw its "too big" too: that is no verdict on the failing size."""
    p = path(seg(), seg(egress=8000), seg(l2=4000), routers={1: {"rate_limited": False}})
    r = trace(p).result
    b = r.break_
    assert b is not None and (b.kind, b.after, b.before, b.mtu) == (
        BreakKind.SILENT,
        R[2],
        DST,
        4000,
    )
    router = r.breaks[0]
    # The size the router is said to refuse is one it did answer "too big" to.
    told = {(e.size, e.mtu) for e in r.evidence if e.outcome == "too-big" and e.reporter == R[1]}
    assert (router.size, router.mtu) in told


def test_two_targets_still_see_every_ptb_limit() -> None:
    """With two breaks to locate, the sweep has no labelling probe: the search's
    "too big" still places the looser router."""
    r = trace(path(seg(), seg(egress=8000), seg(l2=4000)), map_size=False).result
    # (Where the two targets spent hop 1's ICMP budget it may stay unnamed in the
    # hop map, and then so does the hop after the router.)
    got = [(b.kind.value, b.after, b.mtu, b.reported_by) for b in r.breaks]
    assert got == [("ptb", R[1], 8000, R[1]), ("silent", R[2], 4000, None)]


def test_two_targets_do_not_sweep_a_looser_silent_stretch() -> None:
    """Without the labelling probe nothing shows the silent stretch in front of
    the router: the router alone is listed, never a guess."""
    r = trace(path(seg(), seg(l2=8000), seg(egress=4000)), map_size=False).result
    assert [(b.kind.value, b.after) for b in r.breaks] == [("ptb", R[2])]


@pytest.mark.parametrize("seed", range(4))
def test_limits_under_loss(seed: int) -> None:
    p = path(seg(), seg(l2=8000), seg(egress=4000), loss=0.03)
    r = trace(p, seed=seed).result
    assert r.breaks[-1] == r.break_
    assert (r.breaks[-1].kind.value, r.breaks[-1].after) == ("ptb", R[2])
    # Loss may hide the looser limit, never invent one elsewhere.
    assert [(b.kind.value, b.after) for b in r.breaks[:-1]] in ([], [("silent", R[1])])


def test_breaks_round_trip_through_json() -> None:
    r = trace(path(seg(), seg(l2=8000), seg(egress=4000))).result
    doc = json.loads(render_json(Report(9000, (r,))))
    (res,) = doc["results"]
    assert [b["kind"] for b in res["breaks"]] == ["silent", "ptb"]
    assert res["breaks"][-1]["after"] == res["break"]["after"]
    back = result_from_dict(res)
    assert back.breaks == r.breaks


def test_hostile_breaks_list_is_bounded() -> None:
    r = trace(path(seg(), seg(egress=8000), seg(l2=4000))).result
    res = json.loads(render_json(Report(9000, (r,))))["results"][0]
    res["breaks"] = [res["breaks"][0]] * 1000
    assert len(result_from_dict(res).breaks) <= 16


def test_one_sentence_per_limit_when_there_are_several() -> None:
    r = trace(path(seg(), seg(egress=8000), seg(l2=4000))).result
    assert len(limit_sentences(r)) == 2
    one = trace(path(seg(), seg(l2=4000))).result
    assert limit_sentences(one) == []


def test_no_limits_without_a_break() -> None:
    r = PathResult(
        "x", "198.18.9.9", 4, status=trace(path(seg(), seg())).result.status, expected_mtu=9000
    )
    assert every_limit(r) == ()


def test_mesh_cells_carry_every_limit() -> None:
    """A host's ``check --json`` read back by the mesh (``report``): its cell and
    the mesh document keep every limit, in order."""
    from jumbopath.mesh import document
    from jumbopath.mesh.inventory import Network
    from jumbopath.mesh.matrix import build_mesh
    from jumbopath.mesh.runs import HostRun, NetworkRun
    from jumbopath.schema import result_dict

    r = trace(path(seg(), seg(egress=8000), seg(l2=4000))).result
    hosts = (("h1", "198.18.1.1"), ("h2", DST))
    check = {"schema": 1, "expected_mtu": 9000, "results": [result_dict(r)], "findings": []}
    runs = [
        HostRun("h1", (NetworkRun("storage", 9000, (hosts[1],), check, None, 1),)),
        HostRun("h2", (NetworkRun("storage", 9000, (hosts[0],), None, None, 0),)),
    ]
    mesh = build_mesh([Network("storage", 9000, hosts)], runs)
    cell = mesh.networks[0].cell("h1", "h2")
    assert cell is not None and cell.breaks == r.breaks and cell.break_ == r.break_
    doc = document.to_document(mesh)["networks"][0]
    (written,) = [c for c in doc["cells"] if (c["source"], c["destination"]) == ("h1", "h2")]
    assert [(b["kind"], b["after"], b["mtu"]) for b in written["breaks"]] == [
        ("ptb", R[1], 8000),
        ("silent", R[2], 4000),
    ]


def test_this_hosts_own_nic_is_the_first_limit() -> None:
    """Interface at 8000 with 9000 expected, a port at 4000 further on."""
    p = path(seg(egress=8000), seg(l2=4000))
    env = SimulatedEnvironment({DST: p}, routes={DST: Egress("198.18.0.1", "eth0", 8000, 8000)})
    (r,) = pipeline.check(pipeline.CheckConfig((DST,), expect=9000), env).results
    got = [(b.kind.value, b.after, b.before, b.mtu, b.interface) for b in r.breaks]
    assert got == [("local-nic", None, R[1], 8000, "eth0"), ("silent", R[1], DST, 4000, None)]


def test_a_too_big_from_beyond_the_tightest_names_no_limit() -> None:
    """Big packets die at the port behind hop 1: a "too big" said to come from
    hop 2 about a larger size cannot be about this path."""
    r = trace(path(seg(), seg(l2=4000), seg())).result
    assert [b.after for b in r.breaks] == [R[1]]
    forged = Evidence(9000, "too-big", 1, mtu=8000, reporter=R[2])
    assert every_limit(replace(r, evidence=(*r.evidence, forged))) == r.breaks
    # The same report from hop 1 itself is a limit in front of the port.
    told = Evidence(9000, "too-big", 1, mtu=8000, reporter=R[1])
    kinds = [b.kind.value for b in every_limit(replace(r, evidence=(*r.evidence, told)))]
    assert kinds == ["ptb", "silent"]
