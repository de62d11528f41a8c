"""Paths through a tunnel: the tunnel read from the kernel's JSON, which side is
short, and the whole check on simulated overlay and underlay paths."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jumbopath.egress import Egress
from jumbopath.environment import SimulatedEnvironment
from jumbopath.model import BreakKind, Cause, Status
from jumbopath.overlay import Tunnel, judge, read_tunnel, tunnel_from_link
from jumbopath.pipeline import CheckConfig, check
from jumbopath.probers.simulated import SimPath, SimRouter, SimSegment
from jumbopath.render.explain import remark_sentence
from jumbopath.render.json import render_json
from jumbopath.sizes import TUNNEL_OVERHEAD

REMOTE, REMOTE6 = "198.18.1.2", "2001:db8:1::2"
INNER = "198.19.42.2"


def link(kind: str, data: dict[str, Any] | None = None, mtu: Any = 9000) -> dict[str, Any]:
    return {"ifname": "tun0", "mtu": mtu, "linkinfo": {"info_kind": kind, "info_data": data or {}}}


TUNNELS = [
    # (what, ip -d -j link entry, wg endpoints, (kind, remote, overhead, family) or None)
    ("vxlan over IPv4", link("vxlan", {"id": 42, "remote": REMOTE}), None, (REMOTE, 50, 4)),
    ("vxlan over IPv6", link("vxlan", {"id": 42, "remote6": REMOTE6}), None, (REMOTE6, 70, 6)),
    ("vxlan, multicast group", link("vxlan", {"group": "239.1.1.1"}), None, (None, 50, 4)),
    ("geneve", link("geneve", {"remote": REMOTE}), None, (REMOTE, 50, 4)),
    ("gre", link("gre", {"remote": REMOTE, "local": "198.18.1.1"}), None, (REMOTE, 24, 4)),
    ("gretap", link("gretap", {"remote": REMOTE}), None, (REMOTE, 38, 4)),
    ("ip6gre", link("ip6gre", {"remote": REMOTE6}), None, (REMOTE6, 44, 6)),
    ("ipip", link("ipip", {"remote": REMOTE}), None, (REMOTE, 20, 4)),
    ("sit", link("sit", {"remote": REMOTE}), None, (REMOTE, 20, 4)),
    ("ip6tnl", link("ip6tnl", {"remote": REMOTE6}), None, (REMOTE6, 40, 6)),
    ("gre, remote any", link("gre", {"remote": "0.0.0.0"}), None, (None, 24, 4)),
    ("wireguard, one peer", link("wireguard"), f"KEY=\t{REMOTE}:51820\n", (REMOTE, 60, 4)),
    ("wireguard over IPv6", link("wireguard"), f"KEY=\t[{REMOTE6}]:51820\n", (REMOTE6, 80, 6)),
    (
        "wireguard, two peers",
        link("wireguard"),
        f"A=\t{REMOTE}:51820\nB=\t198.18.1.3:51820\n",
        (None, 60, 4),
    ),
    ("wireguard, no endpoint", link("wireguard"), "KEY=\t(none)\n", (None, 60, 4)),
    ("a veth is no tunnel", link("veth"), None, None),
    ("no linkinfo", {"ifname": "eth0", "mtu": 9000}, None, None),
    ("MTU not a number", link("vxlan", {"remote": REMOTE}, mtu="9000"), None, None),
    ("hostile remote", link("gre", {"remote": "\x1b[2J"}), None, (None, 24, 4)),
]


@pytest.mark.parametrize(("what", "entry", "wg", "expected"), TUNNELS, ids=[t[0] for t in TUNNELS])
def test_tunnel_from_link(what: str, entry: dict[str, Any], wg: str | None, expected: Any) -> None:
    found = tunnel_from_link(entry, wg)
    if expected is None:
        assert found is None
        return
    assert found is not None
    assert (found.remote, found.overhead, found.family) == expected
    assert (found.interface, found.mtu) == ("tun0", 9000)


def test_overheads_are_the_header_sums() -> None:
    assert TUNNEL_OVERHEAD[("vxlan", 4)] == 14 + 8 + 8 + 20
    assert TUNNEL_OVERHEAD[("vxlan", 6)] == 14 + 8 + 8 + 40
    assert TUNNEL_OVERHEAD[("wireguard", 4)] == 20 + 8 + 32
    assert TUNNEL_OVERHEAD[("gretap", 4)] == 20 + 4 + 14


def test_read_tunnel_from_ip_and_wg() -> None:
    class Done:
        def __init__(self, stdout: str, returncode: int = 0) -> None:
            self.stdout, self.returncode = stdout, returncode

    def run(argv: list[str], **kw: Any) -> Done:
        if argv[0] == "ip":
            return Done(json.dumps([{**link("wireguard"), "ifname": "wg0"}]))
        return Done(f"KEY=\t{REMOTE}:51820\n")

    found = read_tunnel("wg0", run)  # type: ignore[arg-type]
    assert found == Tunnel("wg0", "wireguard", 9000, REMOTE, 60, 4)
    assert read_tunnel("wg0", lambda *a, **k: Done("not json")) is None  # type: ignore[arg-type]
    assert read_tunnel("wg0", lambda *a, **k: Done("", 1)) is None  # type: ignore[arg-type]


VX = Tunnel("vx0", "vxlan", 9000, REMOTE, 50, 4)
JUDGED = [
    # (what, tunnel MTU, underlay path MTU, underlay interface MTU, --expect, short)
    ("9000 over 9000: the encapsulation is forgotten", 9000, 9000, 9000, 9000, "overlay"),
    ("8950 over 9000, 8950 expected: fits", 8950, 9000, 9000, 8950, None),
    ("8950 over 9000, 9000 expected: underlay too small", 8950, 9000, 9000, 9000, "underlay"),
    ("a 1500 port under a 1450 overlay", 1450, 1500, 9000, 9000, "underlay"),
    ("a 1500 port under a 9000 overlay", 9000, 1500, 9000, 9000, "underlay"),
    ("9050 underlay carries 9000", 9000, 9050, 9050, 9000, None),
    ("underlay not measured", 9000, None, 9000, 9000, None),
]


@pytest.mark.parametrize(("what", "mtu", "under", "uif", "expect", "short"), JUDGED)
def test_which_side_is_short(
    what: str, mtu: int, under: int | None, uif: int, expect: int, short: str | None
) -> None:
    t = Tunnel("vx0", "vxlan", mtu, REMOTE, 50, 4)
    found = judge(t, under, "eth0", uif, expect)
    assert found.short == short
    assert found.ceiling == (None if under is None else under - 50)


def overlay_env(tunnel_mtu: int, overlay_l2: int, underlay_l2: int) -> SimulatedEnvironment:
    """This host ─ vx0 ─ INNER; vx0's packets ride the underlay to REMOTE."""
    inner = SimPath((SimSegment(egress_mtu=tunnel_mtu, l2_mtu=overlay_l2),), ())
    under = SimPath(
        (SimSegment(9000, 9000), SimSegment(9000, underlay_l2)), (SimRouter("198.18.0.254"),)
    )
    return SimulatedEnvironment(
        {INNER: inner, REMOTE: under},
        routes={INNER: Egress("198.19.42.1", "vx0", tunnel_mtu, tunnel_mtu)},
        tunnels={"vx0": Tunnel("vx0", "vxlan", tunnel_mtu, REMOTE, 50, 4)},
    )


def overlay_facts(r: Any) -> dict[str, Any]:
    (note,) = [n for n in r.notes if n.code == "overlay"]
    return dict(note.facts)


def test_vxlan_at_9000_over_9000_is_the_encapsulation() -> None:
    env = overlay_env(9000, 8950, 9000)
    report = check(CheckConfig((INNER,), expect=9000), env)
    (r,) = report.results
    assert (r.status, r.path_mtu, r.cause) == (Status.BELOW, 8950, Cause.OVERLAY_ENCAPSULATION)
    assert r.break_ is not None and r.break_.kind is BreakKind.SILENT
    assert (r.break_.cause, r.break_.interface, r.break_.mtu) == (
        Cause.OVERLAY_ENCAPSULATION,
        "vx0",
        8950,
    )
    facts = overlay_facts(r)
    assert {k: facts[k] for k in ("underlay_mtu", "ceiling", "mtu", "overhead", "short")} == {
        "underlay_mtu": 9000,
        "ceiling": 8950,
        "mtu": 9000,
        "overhead": 50,
        "short": "overlay",
    }
    doc = json.loads(render_json(report))["results"][0]
    assert doc["cause"] == "overlay-encapsulation"
    assert doc["break"]["cause"] == "overlay-encapsulation"
    (remark,) = [x for x in doc["remarks"] if x["code"] == "overlay"]
    assert (remark["underlay_mtu"], remark["ceiling"], remark["short"]) == (9000, 8950, "overlay")
    # The arithmetic in words: underlay - overhead = ceiling, and what to change.
    said = remark_sentence(r.notes[-1])
    assert "9000 - 50 = 8950" in said and "vx0 to MTU 8950" in said and "9050" in said


def test_a_1500_port_in_the_underlay_under_a_1450_overlay_names_the_underlay() -> None:
    env = overlay_env(1450, 1450, 1500)
    (r,) = check(CheckConfig((INNER,), expect=9000), env).results
    assert (r.path_mtu, r.cause) == (1450, Cause.UNDERLAY_SHORT)
    assert r.break_ is not None and r.break_.kind is BreakKind.LOCAL_NIC
    assert r.break_.cause is Cause.UNDERLAY_SHORT
    facts = overlay_facts(r)
    assert (facts["underlay_mtu"], facts["underlay_interface_mtu"], facts["ceiling"]) == (
        1500,
        9000,
        1450,
    )
    assert facts["short"] == "underlay"
    assert "1500 - 50 = 1450" in remark_sentence(r.notes[-1])


def test_a_limit_beyond_the_tunnel_keeps_its_own_cause() -> None:
    env = overlay_env(8950, 4000, 9000)  # the tunnel fits: something behind it is smaller
    (r,) = check(CheckConfig((INNER,), expect=8950), env).results
    assert r.path_mtu == 4000 and r.cause is Cause.SILENT_FIRST_SEGMENT
    assert overlay_facts(r)["short"] is None


def sent(env: SimulatedEnvironment, expect: int) -> int:
    check(CheckConfig((INNER,), expect=expect), env)
    return sum(p.packets_sent for p in env.probers)  # type: ignore[attr-defined]


def test_the_underlay_is_probed_only_for_a_failing_path() -> None:
    plain = overlay_env(8950, 8950, 9000)
    plain.tunnels = {}
    assert sent(overlay_env(8950, 8950, 9000), 8950) == sent(plain, 8950)  # ok: no underlay
    plain = overlay_env(9000, 8950, 9000)
    plain.tunnels = {}
    assert sent(overlay_env(9000, 8950, 9000), 9000) > sent(plain, 9000)


def test_a_mesh_pair_read_back_names_the_tunnel() -> None:
    from jumbopath.mesh.model import CellStatus, FailingPair, NetworkMatrix, OneWay
    from jumbopath.render.explain.mesh import pair_sentence
    from jumbopath.schema import break_dict, break_from_dict

    (r,) = check(CheckConfig((INNER,), expect=9000), overlay_env(9000, 8950, 9000)).results
    assert r.break_ is not None
    again = break_from_dict(break_dict(r.break_), target=INNER)
    assert (again.cause, again.interface, again.mtu) == (Cause.OVERLAY_ENCAPSULATION, "vx0", 8950)
    pair = FailingPair("a", "b", CellStatus.BELOW, 8950, OneWay.FORWARD, again, again.cause)
    net = NetworkMatrix("overlay", 9000, ("a", "b"), (), (), (), (pair,), ())
    assert "tunnel vx0" in pair_sentence(pair, net)


def test_a_tunnel_without_a_remote_end_gets_the_remark_unmeasured() -> None:
    env = overlay_env(9000, 8950, 9000)
    env.tunnels = {"vx0": Tunnel("vx0", "vxlan", 9000, None, 50, 4)}
    (r,) = check(CheckConfig((INNER,), expect=9000), env).results
    facts = overlay_facts(r)
    assert (facts["remote"], facts["underlay_mtu"], facts["short"]) == (None, None, None)
    assert r.cause is Cause.SILENT_FIRST_SEGMENT  # nothing proves the tunnel is the limit
