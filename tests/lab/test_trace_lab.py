"""``jumbopath trace`` (and the located breaks of ``check``) on real namespaces.

The installed command runs inside the source namespace and its JSON is
checked: the break's kind, where it is (``after``/``before``), its MTU and
who reported it. Routers keep the kernel's default ICMP rate limits
throughout, and the tests run back to back through the same routers, so
every trace also proves it copes with routers that have just spent part of
their ICMP budget.

One lab serves every test; each scenario changes MTUs and faults and puts
them back::

    src ─9000─ sw0 ─9000─ r1 ─9000─ sw12 ─9000─ r2 ─9000─ sw23 ─9000─ r3 ─9000─ sw3 ─┬─ dst
                                     │                     │                       ├─ d2
                                     h1                    h2                      └─ d3

    h1: one router away (r1); h2: two (r1, r2); dst, d2, d3: three (r1, r2, r3).
    Every end is 9000 unless a test changes it. sw12's port toward r2 is the
    "bridge port on the segment between two routers"; sw3's ports are the
    access ports of dst, d2 and d3.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest

from jumbopath.lab import Fault, Host, Lab, Link, NoPTB, NoTimeExceeded, Router, Switch, Topology

NODES = (
    Host("src"),
    Switch("sw0"),
    Router("r1"),
    Switch("sw12"),
    Host("h1"),
    Router("r2"),
    Switch("sw23"),
    Host("h2"),
    Router("r3"),
    Switch("sw3"),
    Host("dst"),
    Host("d2"),
    Host("d3"),
)
LINKS = (
    Link("src", "sw0"),
    Link("sw0", "r1"),
    Link("r1", "sw12"),
    Link("sw12", "h1"),
    Link("sw12", "r2"),
    Link("r2", "sw23"),
    Link("sw23", "h2"),
    Link("sw23", "r3"),
    Link("r3", "sw3"),
    Link("sw3", "dst"),
    Link("sw3", "d2"),
    Link("sw3", "d3"),
)
TOPOLOGY = Topology(nodes=NODES, links=LINKS)
#: Where each router answers TTL-limited probes from src: its side toward src.
UPLINK = {"r1": "sw0", "r2": "sw12", "r3": "sw23"}
#: Generous bound on one whole process, for loaded machines (bench/ measures real times).
PROCESS_BOUND_S = 15.0


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with Lab(TOPOLOGY) as built:
        yield built


def hop(lab: Lab, router: str, family: int = 4) -> str:
    return lab.addr(router, family, peer=UPLINK[router])  # type: ignore[arg-type]


def addr(lab: Lab, host: str, family: int = 4) -> str:
    return lab.addr(host, family)  # type: ignore[arg-type]


@contextlib.contextmanager
def scenario(
    lab: Lab, mtus: Mapping[tuple[str, str], int] = {}, faults: Sequence[Fault] = ()
) -> Iterator[None]:
    """Apply MTUs and faults, and put everything back afterwards."""
    old = {key: lab.mtu(*key) for key in mtus}
    try:
        for (node, peer), mtu in mtus.items():
            lab.set_mtu(node, peer, mtu)
        for fault in faults:
            lab.add_fault(fault)
        yield
    finally:
        for fault in faults:
            if fault in lab.faults:
                lab.remove_fault(fault)
        for (node, peer), mtu in old.items():
            lab.set_mtu(node, peer, mtu)
        for node in ("src", "r1", "r2", "r3"):
            lab.flush_pmtu(node)


def run(lab: Lab, command: str, *targets: str, family: int = 4, expect: int = 9000) -> Any:
    argv = [sys.executable, "-m", "jumbopath", command, "--json", f"-{family}"]
    argv += ["--expect", str(expect), *targets]
    started = time.monotonic()
    done = lab.run("src", argv, timeout=60)
    elapsed = time.monotonic() - started
    assert done.stdout.startswith("{"), (done.returncode, done.stdout, done.stderr)
    doc = json.loads(done.stdout)
    doc["returncode"] = done.returncode
    doc["process_s"] = elapsed
    print(f"{command} {' '.join(targets)}: {elapsed:.2f} s")
    assert elapsed < PROCESS_BOUND_S, elapsed
    return doc


def verdict(result: dict[str, Any]) -> tuple[Any, ...]:
    b = result["break"]
    return (b["kind"], b["after"], b["before"], b["mtu"], b["reported_by"])


def hops(result: dict[str, Any]) -> list[str | None]:
    return [h["address"] for h in result["hops"]]


# --------------------------------------------------------------------------


def test_clean_paths_with_one_two_and_three_routers(lab: Lab) -> None:
    doc = run(lab, "trace", addr(lab, "h1"), addr(lab, "h2"), addr(lab, "dst"))
    assert doc["returncode"] == 0
    h1, h2, dst = doc["results"]
    assert hops(h1) == [hop(lab, "r1"), addr(lab, "h1")]
    assert hops(h2) == [hop(lab, "r1"), hop(lab, "r2"), addr(lab, "h2")]
    assert hops(dst) == [hop(lab, "r1"), hop(lab, "r2"), hop(lab, "r3"), addr(lab, "dst")]
    for r in (h1, h2, dst):
        assert r["status"] == "ok"
        assert verdict(r) == ("none", None, None, 9000, None)
        assert all(h["largest_passing"] == 9000 for h in r["hops"])
        assert all(h["rtt_ms"] is not None for h in r["hops"])


def test_access_ports_at_1500_behind_one_two_and_three_routers(lab: Lab) -> None:
    ports = {("sw12", "h1"): 1500, ("sw23", "h2"): 1500, ("sw3", "dst"): 1500}
    with scenario(lab, ports):
        doc = run(lab, "trace", addr(lab, "h1"), addr(lab, "h2"), addr(lab, "dst"))
    assert doc["returncode"] == 1
    for r, host, last in zip(doc["results"], ("h1", "h2", "dst"), ("r1", "r2", "r3"), strict=True):
        assert r["status"] == "below" and r["path_mtu"] == 1500
        assert verdict(r) == ("silent", hop(lab, last), addr(lab, host), 1500, None)
        assert hops(r)[-1] == addr(lab, host)


def test_bridge_port_at_4000_between_two_routers(lab: Lab) -> None:
    with scenario(lab, {("sw12", "r2"): 4000}):
        doc = run(lab, "trace", addr(lab, "dst"))
    (r,) = doc["results"]
    assert r["path_mtu"] == 4000
    assert verdict(r) == ("silent", hop(lab, "r1"), hop(lab, "r2"), 4000, None)
    assert r["cause"] == r["break"]["cause"] == "silent-drop"
    labels = [h["largest_passing"] for h in r["hops"]]
    # Hop 1's label is the interface MTU when r1 had an ICMP token left for the
    # labelling probe, else the failing size its big probes proved to reach it.
    assert labels[0] in (9000, 4001) and labels[1:] == [4000, 4000, 4000]


@pytest.mark.parametrize("family", [4, 6])
def test_last_router_egress_1500_with_ptb(lab: Lab, family: int) -> None:
    with scenario(lab, {("r3", "sw3"): 1500}):
        doc = run(lab, "trace", addr(lab, "dst", family), family=family)
    (r,) = doc["results"]
    r3 = hop(lab, "r3", family)
    assert verdict(r) == ("ptb", r3, addr(lab, "dst", family), 1500, r3)


@pytest.mark.parametrize("family", [4, 6])
def test_last_router_egress_1500_without_ptb(lab: Lab, family: int) -> None:
    with scenario(lab, {("r3", "sw3"): 1500}, [NoPTB("r3")]):
        doc = run(lab, "trace", addr(lab, "dst", family), family=family)
    (r,) = doc["results"]
    assert verdict(r) == ("silent", hop(lab, "r3", family), addr(lab, "dst", family), 1500, None)
    assert r["cause"] == "silent-drop" and r["break"]["confirmed"]


def test_one_of_three_behind_one_router_fails_host_verdict(lab: Lab) -> None:
    with scenario(lab, {("sw3", "d2"): 1500}):
        doc = run(lab, "check", addr(lab, "dst"), addr(lab, "d2"), addr(lab, "d3"))
    assert doc["returncode"] == 1
    dst, d2, d3 = doc["results"]
    assert (dst["status"], d2["status"], d3["status"]) == ("ok", "below", "ok")
    assert verdict(d2) == ("silent", hop(lab, "r3"), addr(lab, "d2"), 1500, None)
    (f,) = doc["findings"]
    assert f["scope"] == "host" and f["hop"] == hop(lab, "r3")
    assert f["failing"] == [addr(lab, "d2")]
    assert sorted(f["passing"]) == sorted([addr(lab, "dst"), addr(lab, "d3")])


def test_all_three_behind_one_router_fail_shared_verdict(lab: Lab) -> None:
    with scenario(lab, {("r3", "sw3"): 1500}, [NoPTB("r3")]):
        doc = run(lab, "check", addr(lab, "dst"), addr(lab, "d2"), addr(lab, "d3"))
    assert doc["returncode"] == 1
    for r in doc["results"]:
        assert r["status"] == "below"
        assert verdict(r) == ("silent", hop(lab, "r3"), r["address"], 1500, None)
    (f,) = doc["findings"]
    assert f["scope"] == "shared" and f["hop"] == hop(lab, "r3") and f["passing"] == []
    assert len(f["failing"]) == 3


def test_middle_router_without_time_exceeded(lab: Lab) -> None:
    with scenario(lab, {("r3", "sw3"): 1500}, [NoPTB("r3"), NoTimeExceeded("r2")]):
        doc = run(lab, "trace", addr(lab, "dst"))
    (r,) = doc["results"]
    assert hops(r) == [hop(lab, "r1"), None, hop(lab, "r3"), addr(lab, "dst")]
    assert verdict(r) == ("silent", hop(lab, "r3"), addr(lab, "dst"), 1500, None)


def test_silent_middle_router_is_bracketed_not_blamed(lab: Lab) -> None:
    faults = [NoPTB("r2"), NoTimeExceeded("r2")]
    with scenario(lab, {("r2", "sw23"): 1500}, faults):
        doc = run(lab, "trace", addr(lab, "dst"))
    (r,) = doc["results"]
    assert verdict(r) == ("silent", hop(lab, "r1"), hop(lab, "r3"), 1500, None)
    assert r["break"]["quiet_hops"] == [2]


def test_ipv6_bridge_port_between_routers(lab: Lab) -> None:
    with scenario(lab, {("sw12", "r2"): 4000}):
        doc = run(lab, "trace", addr(lab, "dst", 6), family=6)
    (r,) = doc["results"]
    assert verdict(r) == ("silent", hop(lab, "r1", 6), hop(lab, "r2", 6), 4000, None)


def test_back_to_back_traces_with_default_rate_limits(lab: Lab) -> None:
    """Three traces in a row through the same routers: each finds the same break."""
    with scenario(lab, {("sw23", "r3"): 1500}):
        for _ in range(3):
            doc = run(lab, "trace", addr(lab, "dst"))
            (r,) = doc["results"]
            assert verdict(r) == ("silent", hop(lab, "r2"), hop(lab, "r3"), 1500, None)


def test_trace_draws_the_map(lab: Lab) -> None:
    with scenario(lab, {("sw3", "dst"): 1500}):
        argv = [sys.executable, "-m", "jumbopath", "trace", "-4", "--format", "mermaid"]
        done = lab.run("src", [*argv, "--expect", "9000", addr(lab, "dst")], timeout=60)
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("flowchart LR")
    assert "==>" in done.stdout and "1500 ✗" in done.stdout


def test_trace_table_shows_the_chain(lab: Lab) -> None:
    with scenario(lab, {("sw3", "dst"): 1500}):
        argv = [sys.executable, "-m", "jumbopath", "trace", "-4", "--expect", "9000"]
        done = lab.run(
            "src", [*argv, addr(lab, "dst")], timeout=60, env={**os.environ, "COLUMNS": "250"}
        )
    assert done.returncode == 1, done.stderr
    assert f"{hop(lab, 'r3')} ═╳ 1500 ╳═ {addr(lab, 'dst')}" in done.stdout
