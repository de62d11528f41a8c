"""Random labs: every seed draws a valid lab, and its truth keeps its invariants.

Plus hand-drawn topologies whose truth is worked out by hand from the lab
facts (:mod:`jumbopath.lab.randomlab`'s docstring).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from jumbopath.lab import DropEcho, Host, Link, Loss, NoPTB, Route, Router, Switch, Topology, chain
from jumbopath.lab.plan import Plan
from jumbopath.lab.randomlab import (
    CLASSES,
    FAR,
    SOURCE,
    Limit,
    classify,
    compare,
    draw,
    names,
    truth,
)

seeds = st.integers(min_value=0, max_value=2**32)


def linked(topo: Topology, path: tuple[str, ...]) -> bool:
    pairs = {frozenset((lk.a, lk.b)) for lk in topo.links}
    return all(frozenset(p) in pairs for p in zip(path, path[1:], strict=False))


@settings(max_examples=300, deadline=None)
@given(seeds)
def test_every_seed_draws_a_valid_lab_the_same_way(seed: int) -> None:
    a, b = draw(seed), draw(seed)
    assert a == b
    assert isinstance(a.topology, Topology)  # constructing it validated it (Plan)
    assert a.classes and set(a.classes) <= set(CLASSES)
    assert ("clean" in a.classes) == (a.classes == ("clean",))
    plan = Plan(a.topology)
    assert all(plan.v6_ok.values()), "every segment carries IPv6 (all MTUs >= 1280)"


@settings(max_examples=300, deadline=None)
@given(seeds, st.sampled_from((4, 6)))
def test_truth_invariants(seed: int, family: int) -> None:
    topo = draw(seed).topology
    t = truth(topo, family)
    assert t.forward[0] == SOURCE and t.forward[-1] == FAR
    assert t.back[0] == FAR and t.back[-1] == SOURCE
    assert linked(topo, t.forward) and linked(topo, t.back)
    hosts = {n.name for n in topo.nodes if isinstance(n, Host)}
    assert not hosts & set(t.forward[1:-1]), "hosts never forward"
    mtus = [lim.mtu for lim in t.limits]
    assert mtus == sorted(mtus, reverse=True) and len(set(mtus)) == len(mtus)
    assert t.limits[-1].mtu == t.forward_mtu
    assert t.limits[0].kind == "local" and t.limits[0].node == SOURCE
    for lim in t.limits:
        assert lim.node in t.forward and lim.before in t.forward
        assert lim.kind in ("local", "ptb", "silent")
        assert (lim.after is None) == (lim.kind == "local")
    below = t.limits_below(9000)
    assert all(lim.mtu < 9000 for lim in below)
    assert (t.tightest(9000) is None) == (t.forward_mtu >= 9000)
    assert t.path_mtu <= t.forward_mtu
    assert (t.status(9000) == "below") == (t.path_mtu < 9000)
    if t.return_limit is None:
        assert t.return_mtu == 65535
    else:
        assert t.return_limit.node in t.back


def test_seeds_cover_every_class() -> None:
    seen = {c for s in range(400) for c in draw(s).classes}
    assert seen == set(CLASSES)


# ---------------------------------------------------------------------------
# Hand-drawn labs


def test_two_limits_in_path_order() -> None:
    """src ─ sw-src ─ r1 ─4000─ r2 (no PTB) ─ sw-dst ─1500┆9000─ dst"""
    topo = chain(
        2, mtus={("r1", "r2"): 4000, ("sw-dst", FAR): 1500}, faults=(NoPTB("r2"),), dst=FAR
    )
    t = truth(topo)
    assert t.forward == ("src", "sw-src", "r1", "r2", "sw-dst", FAR)
    assert t.limits_below(9000) == (
        # r1 sends "too big"; r2's NIC toward r1 is 4000 too, but receives 4004
        Limit("ptb", 4000, "r1", "r2", "r1", "r2"),
        Limit("silent", 1500, "sw-dst", FAR, "r2", FAR),
    )
    assert (t.forward_mtu, t.path_mtu, t.status(9000), t.direction(9000)) == (
        1500,
        1500,
        "below",
        "forward",
    )
    assert classify(topo) == ("multi-limit",)


def test_receiving_nic_passes_its_mtu_plus_four() -> None:
    """src ─ sw-src ─ r1 ─ sw-dst ─9000┆1500─ far: the NIC takes 1504."""
    t = truth(chain(1, mtus={(FAR, "sw-dst"): 1500}, dst=FAR))
    assert t.limits_below(9000) == (Limit("silent", 1504, FAR, "sw-dst", "r1", FAR),)
    assert t.path_mtu == 1504


def test_a_switch_sends_no_more_than_its_port_mtu_even_at_the_top() -> None:
    """src ─ sw-src ─ r1 ─9000┆8000─ sw-dst ─8000┆9000─ far: both switch ports are
    the bridge's largest (no nftables rule). sw-dst receives 8004 from r1 (a
    veth) but br_netfilter sends at most 8000 toward far: one silent stretch
    r1-far at 8000 (ping -M do agrees in the lab)."""
    topo = chain(1, mtus={("sw-dst", "r1"): 8000, ("sw-dst", FAR): 8000}, dst=FAR)
    t = truth(topo)
    assert t.limits_below(9000) == (Limit("silent", 8000, "sw-dst", FAR, "r1", FAR),)
    assert t.path_mtu == 8000


def test_silent_limits_on_one_stretch_are_one() -> None:
    """r1 without PTB at 4000, then sw-dst's port toward far at 1500: both between
    r1 and far, so one silent limit (the tighter) stands for both."""
    topo = chain(1, mtus={("r1", "sw-dst"): 4000, ("sw-dst", FAR): 1500}, dst=FAR)
    assert truth(topo.with_faults(NoPTB("r1"))).limits_below(9000) == (
        Limit("silent", 1500, "sw-dst", FAR, "r1", FAR),
    )
    assert truth(topo).limits_below(9000) == (  # with PTB: two limits
        Limit("ptb", 4000, "r1", "sw-dst", "r1", FAR),
        Limit("silent", 1500, "sw-dst", FAR, "r1", FAR),
    )


def test_local_nic() -> None:
    topo = chain(1, mtus={(SOURCE, "sw-src"): 8000}, dst=FAR)
    t = truth(topo)
    assert t.limits_below(9000) == (Limit("local", 8000, SOURCE, "sw-src", None, "r1"),)
    assert classify(topo) == ("local-nic",)


def asymmetric(rx_mtu: int, rx_noptb: bool, port_mtu: int = 9000) -> Topology:
    """Forward src ─ sw0 ─ r1 ─ swf ─ far; back far ─ swf ─ rx ─rx_mtu┆─ sw0 ─ src,
    sw0's port toward src at ``port_mtu``::

        src ─ sw0 ─ r1 ─ swf ─ far
               └─ rx ──┘
    """
    return Topology(
        nodes=(Host(SOURCE), Switch("sw0"), Router("r1"), Router("rx"), Switch("swf"), Host(FAR)),
        links=(
            Link(SOURCE, "sw0", 9000, port_mtu),
            Link("sw0", "r1"),
            Link("r1", "swf"),
            Link("swf", FAR),
            Link("swf", "rx"),
            Link("rx", "sw0", rx_mtu, 9000),
        ),
        faults=(NoPTB("rx"),) if rx_noptb else (),
        routes=(Route(FAR, SOURCE, "rx"), Route(SOURCE, FAR, "r1")),
    )


def test_return_router_limit_ipv4_fragments_ipv6_needs_ptb() -> None:
    for noptb, v6_back in ((False, 65535), (True, 1500)):
        topo = asymmetric(1500, noptb)
        t4, t6 = truth(topo, 4), truth(topo, 6)
        assert t4.forward == (SOURCE, "sw0", "r1", "swf", FAR)
        assert t4.back == (FAR, "swf", "rx", "sw0", SOURCE)
        assert t4.forward_mtu == 9000
        assert t4.return_mtu == 65535, "IPv4 replies carry no DF: rx fragments them"
        assert t6.return_mtu == v6_back
        assert "asymmetric" in classify(topo)


def test_return_switch_port_drops_the_fragments_too() -> None:
    """sw0's port toward src at 1400 (exact: below the bridge's 9000): requests
    from src die there too (1400), so the path is 1400 both ways."""
    t = truth(asymmetric(1500, False, port_mtu=1400), 4)
    assert t.forward_mtu == 1400 and t.return_mtu == 1400
    assert t.return_limit == Limit("silent", 1400, "sw0", SOURCE, "rx", SOURCE)


def test_return_limit_alone() -> None:
    """Only the way back is small: rx's egress at 1500 without PTB (IPv6)."""
    topo = asymmetric(1500, True)
    t6 = truth(topo, 6)
    assert (t6.path_mtu, t6.status(9000), t6.direction(9000)) == (1500, "below", "return")
    assert t6.return_limit == Limit("silent", 1500, "rx", "sw0", "rx", SOURCE)


def test_loss_and_echo_classes() -> None:
    topo = chain(1, faults=(Loss("r1", 5, above=1500), DropEcho(FAR)), dst=FAR)
    t = truth(topo)
    assert t.big_loss and t.echo_filtered and t.status(9000) == "degraded"
    assert classify(topo) == ("big-loss", "echo-filtered")
    assert not truth(chain(1, faults=(Loss("r1", 5),), dst=FAR)).big_loss


# ---------------------------------------------------------------------------
# compare


def result(topo: Topology, **fields: Any) -> dict[str, Any]:
    return {"status": "below", "path_mtu": 1500, "direction": "forward", **fields}


def test_compare_agrees_and_names_each_difference() -> None:
    topo = chain(
        2, mtus={("r1", "r2"): 4000, ("sw-dst", FAR): 1500}, faults=(NoPTB("r2"),), dst=FAR
    )
    plan = Plan(topo)
    t, addrs = truth(topo), names(topo)
    r2 = plan.addr(("r2", "r1"), 4)
    r1 = plan.addr(("r1", "sw-src"), 4)
    far = plan.addr((FAR, "sw-dst"), 4)
    right = {"kind": "silent", "after": r2, "before": far}
    assert compare(t, result(topo, **{"break": right}), addrs) == ()
    wrong = {"kind": "ptb", "after": r1, "before": r2}
    assert compare(t, result(topo, **{"break": wrong}), addrs) == (
        "break: truth ('silent', 'r2', 'far'), tool ('ptb', 'r1', 'r2')",
    )
    both = [wrong, right]
    assert compare(t, result(topo, breaks=both, **{"break": right}), addrs) == ()
    assert compare(t, result(topo, breaks=[right], **{"break": right}), addrs) != ()
    assert compare(t, {"status": "ok", "path_mtu": 9000}, addrs) == (
        "status: truth below, tool ok",
        "path_mtu: truth 1500, tool 9000",
    )


def test_compare_a_return_path_drop_is_no_break_on_the_way_there() -> None:
    topo = asymmetric(1500, True)
    t, addrs = truth(topo, 6), names(topo)
    plan = Plan(topo)
    r1, far = plan.addr(("r1", "sw0"), 6), plan.addr((FAR, "swf"), 6)
    back = {"kind": "silent", "cause": "return-path", "after": far, "before": None}
    there = {"kind": "silent", "cause": "silent-drop", "after": r1, "before": far}
    ok = {"status": "below", "path_mtu": 1500, "direction": "return", "break": back}
    assert compare(t, ok, addrs) == ()
    assert compare(t, {**ok, "direction": None}, addrs) == ()  # no claim made
    assert compare(t, {**ok, "direction": "forward", "break": there}, addrs) == (
        "direction: truth return, tool forward",
        "break: truth on the way back (return-path), tool ('silent', 'r1', 'far')",
    )
