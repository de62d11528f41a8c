"""Switches that could not be read are named with every silent break they may be on.

A map with one switch unread (sw-x, between two read switches) and others
elsewhere: check, trace and mesh carry the unread switch and its reason in the
break (``unread_switches``), next to the port another switch names.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from jumbopath.environment import SimulatedEnvironment
from jumbopath.mesh.model import Cell, CellStatus, FailingPair, Mesh, NetworkMatrix, OneWay
from jumbopath.mesh.switchports import with_switch_ports
from jumbopath.model import Break, BreakKind, Cause, UnreadSwitch
from jumbopath.pipeline import CheckConfig, check, trace
from jumbopath.probers.simulated import SimPath, SimRouter, SimSegment
from jumbopath.render.explain import break_sentence
from jumbopath.render.explain.mesh import pair_sentence
from jumbopath.render.json import render_json
from jumbopath.schema import break_dict, break_from_dict
from jumbopath.switches import files
from jumbopath.switches.graph import L2Graph, build
from jumbopath.switches.model import PollFailure, Source, SwitchInfo
from jumbopath.switches.suspects import suspect_ports

R1, STOR_B = "198.18.1.2", "198.18.2.3"

#   r1 ─ sw-a ─ sw-x ─ sw-c ─┬─ stor-b   (sw-c swp3 at 1500)
#                            └─ sw-y     (sw-y, sw-far: not read either)
THREE = """
switches:
  - name: sw-a
    vendor: linux
    ports:
      - {name: swp1, mtu: 9000}
      - {name: swp2, mtu: 9000}
    neighbours:
      - {port: swp1, system: r1, port_id: eth1, addresses: [198.18.1.2]}
      - {port: swp2, system: sw-x, port_id: swp1}
  - name: sw-c
    vendor: linux
    ports:
      - {name: swp1, mtu: 9000}
      - {name: swp3, mtu: SWP3}
      - {name: swp4, mtu: 9000}
      - {name: swp9, mtu: 9000}
    neighbours:
      - {port: swp1, system: sw-x, port_id: swp2}
      - {port: swp3, system: stor-b, port_id: eth0}
      - {port: swp4, system: SWP4, port_id: swp1}
    fdb:
      - {port: swp9, mac: "02:00:00:00:00:09"}
hosts:
  - {name: stor-b, addresses: [198.18.2.3]}
  - {name: stor-c, addresses: [198.18.2.4], macs: ["02:00:00:00:00:09"]}
"""


def failed(name: str, why: PollFailure = PollFailure.TIMEOUT) -> SwitchInfo:
    return SwitchInfo(name, None, Source.SNMP, "unknown", failure=why, error="not read")


def graph(swp3: int = 1500, beside: str = "stor-d", unread: tuple[SwitchInfo, ...] = ()) -> L2Graph:
    text = THREE.replace("SWP3", str(swp3)).replace("SWP4", beside)
    spec = files.parse(yaml.safe_load(text), "three.yaml")
    return build([*spec.given, *unread], spec.hosts)


def silent(after: str | None = R1, before: str | None = STOR_B, target: str = STOR_B) -> Break:
    return Break(BreakKind.SILENT, after, before, 1500, None, Cause.SILENT_DROP, 9000, target)


SW_X = failed("sw-x")
SW_Y = failed("sw-y", PollFailure.AUTH)
FAR = failed("sw-far", PollFailure.NO_DATA)

CASES: list[tuple[str, L2Graph, Break, Any, list[tuple[str, str]]]] = [
    # (what, map, break, ports named or reason, unread switches listed)
    (
        "on the walk, the port named beyond it",
        graph(unread=(SW_X, FAR)),
        silent(),
        [("sw-c", "swp3")],
        [("sw-x", "timeout")],
    ),
    (
        "on the walk, nothing named",
        graph(swp3=9000, unread=(SW_X,)),
        silent(),
        "unread",
        [("sw-x", "timeout")],
    ),
    (
        "beside a switch of the walk: another way around",
        graph(beside="sw-y", unread=(SW_X, SW_Y, FAR)),
        silent(),
        [("sw-c", "swp3")],
        [("sw-x", "timeout"), ("sw-y", "auth")],
    ),
    (
        "the walk ends at a host placed by MAC: it may be behind any of them",
        graph(unread=(SW_X, FAR)),
        silent(target="198.18.2.4", before="198.18.2.4"),
        "unread",
        [("sw-x", "timeout"), ("sw-far", "no-data")],
    ),
    (
        "no walk: every switch not read",
        graph(unread=(SW_X, FAR)),
        silent(before="198.18.9.9", target="198.18.9.9"),
        "unplaced",
        [("sw-x", "timeout"), ("sw-far", "no-data")],
    ),
    (
        "every switch read",
        graph(),
        silent(),
        "no-path",  # sw-x is not on the map: nothing joins sw-a and sw-c
        [],
    ),
    (
        "a router said too big: no switch matters",
        graph(unread=(SW_X,)),
        Break(BreakKind.PTB, R1, None, 1500, R1, Cause.ROUTER_TOO_BIG, 9000, STOR_B),
        "not-silent",
        [],
    ),
]


@pytest.mark.parametrize(("what", "l2", "brk", "named", "unread"), CASES, ids=[c[0] for c in CASES])
def test_unread_switches_of_a_break(
    what: str, l2: L2Graph, brk: Break, named: Any, unread: list[tuple[str, str]]
) -> None:
    found = suspect_ports(brk, l2)
    if isinstance(named, str):
        assert (found.ports, found.reason) == ((), named), found
    else:
        assert [(p.node, p.port) for p in found.ports] == named
    assert list(found.unread_switches) == unread


def test_the_switches_check_json_lists_them() -> None:
    from jumbopath.switches.render import suspects_dict

    doc = suspects_dict(suspect_ports(silent(), graph(unread=(SW_X,))))
    assert doc["unread_switches"] == [{"switch": "sw-x", "reason": "timeout"}]
    assert [p["port"] for p in doc["ports"]] == ["swp3"]


def sim_env(l2: L2Graph) -> SimulatedEnvironment:
    # this host ─ r1 ─ (switches) ─ stor-b, the layer 2 behind r1 at 1500
    p = SimPath(
        (SimSegment(egress_mtu=9000, l2_mtu=9000), SimSegment(egress_mtu=9000, l2_mtu=1500)),
        (SimRouter(R1),),
    )
    return SimulatedEnvironment({STOR_B: p}, switches={"sw.yaml": l2})


@pytest.mark.parametrize("runner", [check, trace])
def test_check_and_trace_carry_the_unread_switch_in_json_and_text(runner: Any) -> None:
    env = sim_env(graph(unread=(SW_X, FAR)))
    report = runner(CheckConfig((STOR_B,), expect=9000, switches="sw.yaml"), env)
    (r,) = report.results
    assert r.break_ is not None and r.break_.cause is Cause.SILENT_DROP
    assert [(p.switch, p.port, p.mtu) for p in r.break_.ports] == [("sw-c", "swp3", 1500)]
    assert r.break_.unread_switches == (UnreadSwitch("sw-x", "timeout"),)
    doc = json.loads(render_json(report))
    brk = doc["results"][0]["break"]
    assert brk["unread_switches"] == [{"switch": "sw-x", "reason": "timeout"}]
    # Read back (mesh and report read other hosts' documents): the same break.
    again = break_from_dict(brk, target=STOR_B, family=4)
    assert again.unread_switches == r.break_.unread_switches
    assert again.ports == r.break_.ports
    assert "sw-x (timeout)" in break_sentence(r.break_)
    assert "sw-far" not in break_sentence(r.break_)


def test_every_switch_read_lists_none() -> None:
    env = sim_env(graph(unread=()))
    (r,) = check(CheckConfig((STOR_B,), expect=9000, switches="sw.yaml"), env).results
    assert r.break_ is not None and r.break_.unread_switches == ()
    assert break_dict(r.break_)["unread_switches"] == []


def test_hostile_unread_switches_are_bounded_and_made_safe() -> None:
    doc = break_dict(silent())
    doc["unread_switches"] = [{"switch": "sw\x1b[2J", "reason": "x" * 500}] * 100 + ["junk", 3]
    brk = break_from_dict(doc, target=STOR_B)
    assert len(brk.unread_switches) == 16
    assert "\x1b" not in brk.unread_switches[0].switch
    assert len(brk.unread_switches[0].reason) < 100


def test_mesh_pairs_carry_the_unread_switch() -> None:
    brk = silent()
    cell = Cell("client", "stor-b", STOR_B, CellStatus.BELOW, 1500, break_=brk)
    pair = FailingPair(
        "client", "stor-b", CellStatus.BELOW, 1500, OneWay.FORWARD, brk, Cause.SILENT_DROP
    )
    net = NetworkMatrix("storage", 9000, ("client", "stor-b"), (), (cell,), (), (pair,), ())
    found = with_switch_ports(Mesh((net,), ()), graph(unread=(SW_X,))).networks[0]
    for b in (found.cells[0].break_, found.failing[0].break_):
        assert b is not None and b.unread_switches == (UnreadSwitch("sw-x", "timeout"),)
        assert [p.port for p in b.ports] == ["swp3"]
    text = pair_sentence(found.failing[0], found)
    assert "sw-c port swp3" in text and "sw-x (timeout)" in text
