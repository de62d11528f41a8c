"""What real flows see, on real namespaces: one ECMP leg at 1500, loss of big
frames only, and a host that answers no echo and no TCP.

The equal-cost lab (a diamond)::

    src ─9000─ swa ─9000─ r0 ─┬─9000─ sw1 ─9000─ r1 ─9000─┬─ swb ─9000─ dst
                              └─9000─ sw2 ─1500┆9000─ r2 ─┘
                                    (the leg ICMP echo does not take)

r0 spreads flows over r1 and r2 (a multipath route, ports in the hash:
``fib_multipath_hash_policy=1``); ICMP echo between two addresses always takes
one leg, so ping and tracepath see 9000 while half the TCP and UDP flows
black-hole. The system's ping and tracepath are the witnesses.

A host that routes (two uplinks, the multipath route and its hash on the
host itself)::

          ┌─9000─ sw1 ─9000─ r1 ─9000─┐
    src ──┤                           swb ─9000─ dst
          └─9000─ sw2 ─1500┆9000─ r2 ─┘
                (the uplink ICMP echo does not take)

Raw sockets are routed without their ports: each flow probe must leave by the
uplink the kernel hashes its flow onto, or every probe takes one uplink.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from jumbopath.lab import DropEcho, Lab, chain, diamond, one_leg_at, one_uplink_at, two_uplinks

CHECK = [sys.executable, "-m", "jumbopath", "check", "--json", "--expect", "9000"]


def run_check(lab: Lab, *args: str) -> tuple[int, dict[str, Any]]:
    done = lab.run("src", [*CHECK, *args], timeout=90)
    assert done.stdout.startswith("{"), done.stderr
    return done.returncode, json.loads(done.stdout)


def only(doc: dict[str, Any]) -> dict[str, Any]:
    (r,) = doc["results"]
    return r


def icmp_leg(lab: Lab) -> str:
    """Which of r1 and r2 the echo from src to dst takes (its hop 2 answers)."""
    out = lab.run("src", ["ping", "-c1", "-W1", "-t", "2", lab.addr("dst", 4)]).stdout
    for router in ("r1", "r2"):
        if any(f"From {a} " in out for a in lab.addrs(router, 4)):
            return router
    raise AssertionError(f"no time exceeded from r1 or r2: {out!r}")


@pytest.fixture(scope="module")
def ecmp() -> Iterator[tuple[Lab, str, str]]:
    """The diamond with ECMP on r0 and the leg ICMP does not take at 1500."""
    with Lab(diamond()) as lab:
        good, bad = one_leg_at(lab, 1500)
        assert icmp_leg(lab) == good
        yield lab, good, bad


def test_one_ecmp_leg_at_1500_is_a_partial_break(ecmp: tuple[Lab, str, str]) -> None:
    lab, good, bad = ecmp
    dst = lab.addr("dst", 4)
    # The witnesses: ping and tracepath take the good leg and see 9000.
    assert (
        lab.run("src", ["ping", "-M", "do", "-s", "8972", "-c", "2", "-W", "1", dst]).returncode
        == 0
    )
    traced = lab.run("src", ["tracepath", "-n", dst], timeout=60).stdout
    assert "pmtu 9000" in traced, traced
    rc, doc = run_check(lab, dst)
    r = only(doc)
    assert (r["status"], r["path_mtu"], r["cause"], rc) == ("below", 1500, "partial-flows", 1)
    flows = r["flows"]
    assert 0 < flows["failing"] < flows["tested"] == 32
    assert flows["failing_mtu"] == 1500
    assert flows["parted_after"] in lab.addrs("r0", 4)
    # Every flow leaves this host by the same leg, toward r0: the split is further on.
    (leg,) = flows["legs"]
    assert leg["next_hop"] in lab.addrs("r0", 4) and leg["interface"] == lab.iface("src", "swa")
    assert (leg["passing"], leg["failing"]) == (flows["passing"], flows["failing"])
    assert r["break"]["kind"] == "partial"
    assert r["break"]["before"] in lab.addrs(bad, 4)
    # One flow alone (echo) sees nothing: that is why the flows are on by default.
    rc, doc = run_check(lab, "--flows", "1", "--soak", "0", dst)
    assert (only(doc)["status"], only(doc)["path_mtu"], rc) == ("ok", 9000, 0)


def test_the_failing_source_ports_really_fail(ecmp: tuple[Lab, str, str]) -> None:
    """Probe a failing and a passing source port again, alone, with a fixed five tuple."""
    lab, _, _ = ecmp
    dst = lab.addr("dst", 4)
    _, doc = run_check(lab, dst)
    flows = only(doc)["flows"]
    failing, passing = flows["failing_ports"][0], flows["passing_ports"][0]
    script = (
        "import sys, time\n"
        "from jumbopath.model import ProbeRequest, Protocol, Reply\n"
        "from jumbopath.probers.base import Target\n"
        "from jumbopath.probers.raw import RawProber\n"
        "p = RawProber(); t = Target(sys.argv[1], sys.argv[1], 4)\n"
        "tokens = {p.send(t, ProbeRequest(i, 9000, protocol=Protocol.TCP, flow=int(port))): port\n"
        "          for i, port in enumerate(sys.argv[2:] * 3)}\n"
        "answered = set(); end = time.monotonic() + 1.5\n"
        "while time.monotonic() < end:\n"
        "    answered |= {tokens[k] for k, o in p.receive(0.1) if isinstance(o, Reply)}\n"
        "print(' '.join(sorted(answered)))\n"
    )
    out = lab.run("src", [sys.executable, "-c", script, dst, str(failing), str(passing)])
    assert out.stdout.split() == [str(passing)], out.stderr


@pytest.fixture(scope="module")
def uplinks() -> Iterator[tuple[Lab, str]]:
    """Two uplinks from src, a multipath route on src; the one echo does not take at 1500."""
    with Lab(two_uplinks()) as lab:
        _, bad = one_uplink_at(lab, 1500)
        yield lab, bad


@pytest.mark.parametrize("family", [4, 6])
def test_a_multipath_route_on_this_host_names_the_bad_uplink(
    uplinks: tuple[Lab, str], family: int
) -> None:
    lab, bad = uplinks
    dst = lab.addr("dst", family)
    # The witnesses: echo takes the good uplink and sees 9000; the kernel sends
    # flows of other ports by the bad one.
    size = str(9000 - (28 if family == 4 else 48))
    ping = ["ping", f"-{family}", "-M", "do", "-s", size, "-c", "2", "-W", "1", dst]
    assert lab.run("src", ping).returncode == 0
    routes = {
        lab.run(
            "src", ["ip", f"-{family}", "route", "get", dst, "ipproto", "tcp", "sport", str(port)]
        )
        .stdout.split(" dev ")[1]
        .split()[0]
        for port in range(50000, 50032)
    }
    bad_iface = lab.iface("src", f"sw{bad[1]}")
    assert bad_iface in routes and len(routes) == 2
    started = time.monotonic()
    rc, doc = run_check(lab, dst)
    wall_s = time.monotonic() - started
    r = only(doc)
    assert (r["status"], r["path_mtu"], r["cause"], rc) == ("below", 1500, "partial-flows", 1)
    flows = r["flows"]
    assert 0 < flows["failing"] < flows["tested"] == 32
    assert flows["failing_mtu"] == 1500
    named = {(g["interface"], g["next_hop"]): g for g in flows["legs"]}
    bad_leg = (bad_iface, lab.addr(bad, family, f"sw{bad[1]}"))
    assert named[bad_leg]["failing"] == flows["failing"] and named[bad_leg]["passing"] == 0
    assert sum(g["passing"] for g in named.values()) == flows["passing"]
    assert r["break"]["kind"] == "partial"
    assert r["break"]["before"] in lab.addrs(bad, family)
    assert wall_s < 20  # bounded even on a loaded machine; bench/flows_bench.py times it


def test_a_udp_flow_keeps_its_uplink(uplinks: tuple[Lab, str]) -> None:
    """UDP flow probes (a host that answers no TCP) keep one five tuple per flow, so
    each stays on the uplink the kernel hashes it onto: one on the bad uplink never
    carries 9000, one on the good uplink always does."""
    lab, bad = uplinks
    dst = lab.addr("dst", 4)
    bad_iface = lab.iface("src", f"sw{bad[1]}")
    on: dict[bool, int] = {}
    for port in range(50000, 50032):
        argv = ["ip", "route", "get", dst, "ipproto", "udp", "sport", str(port), "dport", "33434"]
        on.setdefault(f" dev {bad_iface} " in lab.run("src", argv).stdout, port)
    assert set(on) == {True, False}
    script = (
        "import sys, time\n"
        "from jumbopath.model import ProbeRequest, Protocol, Reply\n"
        "from jumbopath.probers.base import Target\n"
        "from jumbopath.probers.raw import RawProber\n"
        "p = RawProber(); t = Target(sys.argv[1], sys.argv[1], 4)\n"
        "tokens = {p.send(t, ProbeRequest(i, 9000, protocol=Protocol.UDP, flow=int(port))): port\n"
        "          for i, port in enumerate(sys.argv[2:] * 3)}\n"
        "answered = []; end = time.monotonic() + 1.5\n"
        "while time.monotonic() < end:\n"
        "    answered += [tokens[k] for k, o in p.receive(0.1) if isinstance(o, Reply)]\n"
        "print(' '.join(sorted(answered)))\n"
    )
    argv = [sys.executable, "-c", script, dst, str(on[True]), str(on[False])]
    out = lab.run("src", argv)
    assert out.stdout.split() == [str(on[False])] * 3, out.stderr


def test_link_local_next_hops_are_followed_and_named(uplinks: tuple[Lab, str]) -> None:
    """IPv6 next hops given by their link-local addresses (as BGP unnumbered sets them)."""
    lab, bad = uplinks
    dst = lab.addr("dst", 6)
    prefix = dst.rsplit(":", 1)[0] + ":/64"
    link_local = {}
    hops = []
    for router in ("r1", "r2"):
        iface = lab.iface(router, f"sw{router[1]}")
        argv = ["ip", "-6", "-o", "addr", "show", "dev", iface, "scope", "link"]
        found = re.search(r"inet6 (fe80::[0-9a-f:]+)/", lab.run(router, argv).stdout)
        assert found, iface
        link_local[router] = found.group(1)
        hops += ["nexthop", "via", link_local[router], "dev", lab.iface("src", f"sw{router[1]}")]
    before = lab.run("src", ["ip", "-6", "route", "show", prefix]).stdout
    assert "2001:db8" in before  # the global next hops one_uplink_at set
    lab.run("src", ["ip", "-6", "route", "replace", prefix, *hops], check=True)
    try:
        rc, doc = run_check(lab, dst)
        r = only(doc)
        assert (r["status"], r["path_mtu"], r["cause"], rc) == ("below", 1500, "partial-flows", 1)
        bad_legs = [(g["interface"], g["next_hop"]) for g in r["flows"]["legs"] if g["failing"]]
        assert bad_legs == [(lab.iface("src", f"sw{bad[1]}"), link_local[bad])]
    finally:
        hops = []
        for router in ("r1", "r2"):
            via = lab.addr(router, 6, f"sw{router[1]}")
            hops += ["nexthop", "via", via, "dev", lab.iface("src", f"sw{router[1]}")]
        lab.run("src", ["ip", "-6", "route", "replace", prefix, *hops], check=True)


@pytest.fixture(scope="module")
def line() -> Iterator[Lab]:
    """src ─ r1 ─ dst, all 9000; faults are added by the tests."""
    with Lab(chain(1)) as lab:
        yield lab


def nft(lab: Lab, node: str, *rules: str) -> None:
    script = "table inet jpt\ndelete table inet jpt\ntable inet jpt {\n"
    script += "  chain forward {\n    type filter hook forward priority 0; policy accept;\n"
    script += "".join(f"    {r}\n" for r in rules) + "  }\n}\n"
    done = lab.run(node, ["nft", "-f", "-"], input=script)
    assert done.returncode == 0, done.stderr


def loss_of(lab: Lab, size: int) -> float:
    out = lab.run(
        "src",
        [
            "ping",
            "-M",
            "do",
            "-c",
            "100",
            "-i",
            "0.01",
            "-W",
            "1",
            "-s",
            str(size),
            lab.addr("dst", 4),
        ],
        timeout=60,
    ).stdout
    m = re.search(r"(\d+(?:\.\d+)?)% packet loss", out)
    assert m, out
    return float(m.group(1))


def test_loss_of_big_frames_only_is_degraded(line: Lab) -> None:
    nft(line, "r1", "meta length > 1500 numgen random mod 100 < 20 drop")
    try:
        # The witness: the system's ping loses big packets and not small ones.
        assert loss_of(line, 8972) >= 15 and loss_of(line, 56) == 0
        rc, doc = run_check(line, line.addr("dst", 4))
        r = only(doc)
        assert (r["status"], r["path_mtu"], r["cause"], rc) == (
            "degraded",
            9000,
            "big-frame-loss",
            1,
        )
        soak = r["soak"]
        assert 0 < soak["big"]["sent"] == soak["small"]["sent"] <= 1000
        assert soak["big"]["lost"] > soak["small"]["lost"] and soak["degraded"]
        assert soak["stop"] == "big-frame-loss" and soak["big_only"] >= 12
    finally:
        nft(line, "r1")


def test_plain_loss_of_every_size_is_not_degraded(line: Lab) -> None:
    nft(line, "r1", "numgen random mod 100 < 10 drop")
    try:
        rc, doc = run_check(line, "--flows", "1", line.addr("dst", 4))
        r = only(doc)
        assert (r["status"], r["path_mtu"]) == ("ok", 9000)
        assert r["soak"] is not None and not r["soak"]["degraded"]
    finally:
        nft(line, "r1")


def test_a_host_that_answers_no_echo_and_no_tcp_is_measured_over_udp() -> None:
    with Lab(chain(1, faults=[DropEcho("dst")], mtus={("sw-dst", "dst"): 4000})) as lab:
        tcp_drop = "table inet jpd {\n  chain input {\n"
        tcp_drop += "    type filter hook input priority 0; policy accept;\n"
        tcp_drop += "    meta l4proto tcp drop\n  }\n}\n"
        assert lab.run("dst", ["nft", "-f", "-"], input=tcp_drop).returncode == 0
        dst = lab.addr("dst", 4)
        assert lab.run("src", ["ping", "-c1", "-W1", dst]).returncode != 0  # the witness
        rc, doc = run_check(lab, "--flows", "1", dst)
        r = only(doc)
        assert (r["status"], r["path_mtu"], r["protocol"], rc) == ("below", 4000, "udp", 1)
        # UDP answers are the host's rate-limited ICMP: the search paces itself
        # to them (about one a second), so this takes tens of seconds, not one.
        assert r["elapsed_s"] <= 35
        # Forced: --probe tcp:22 gets nothing from this host.
        _, doc = run_check(lab, "--probe", "tcp:22", "--flows", "1", dst)
        assert only(doc)["status"] == "unreachable"
