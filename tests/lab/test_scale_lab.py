"""Many targets in one ``jumbopath check``: each gets the verdict it gets alone.

One router, 100 clean targets (extra addresses on two host namespaces) on the
same switch as a host behind a port left at 1500, and one host behind a
router egress at 1500 that sends "fragmentation needed"::

    src ─9000─ sw0 ─9000─ r1 ─┬─9000─ sw-a ─┬─9000─ a1, a2   (100 addresses)
                              │             └─1500┆9000─ b   silent drop
                              └─1500─ sw-c ─9000─ c          PTB

Before the engine paced what it has in flight and timed answers by their
kernel receive time, the silent target ended "inconclusive" at the time
limit once about 100 clean targets were checked beside it.
"""

from __future__ import annotations

import ipaddress
import json
import sys
import time
from collections.abc import Iterator

import pytest

from jumbopath.lab import Host, Lab, Link, Router, Switch, Topology

CHECK = [sys.executable, "-m", "jumbopath", "check"]
CLEAN = 100


def topology() -> Topology:
    nodes = [Host("src"), Switch("sw0"), Router("r1"), Switch("sw-a"), Host("a1"), Host("a2")]
    nodes += [Host("b"), Switch("sw-c"), Host("c")]
    links = [
        Link("src", "sw0"),
        Link("sw0", "r1"),
        Link("r1", "sw-a"),
        Link("sw-a", "a1"),
        Link("sw-a", "a2"),
        Link("sw-a", "b", a_mtu=1500),
        Link("r1", "sw-c", a_mtu=1500),
        Link("sw-c", "c"),
    ]
    return Topology(nodes=tuple(nodes), links=tuple(links))


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with Lab(topology()) as built:
        yield built


def clean_targets(lab: Lab) -> list[str]:
    """``CLEAN`` addresses on a1 and a2, from the upper half of their own /24."""
    net = ipaddress.ip_network(f"{lab.addr('a1')}/24", strict=False)
    taken = {lab.addr(n) for n in ("r1", "a1", "a2", "b")}
    pool = [str(a) for a in list(net.hosts())[100:] if str(a) not in taken][:CLEAN]
    for i, host in enumerate(("a1", "a2")):
        dev = lab.iface(host, "sw-a")
        script = "".join(f"address add {a}/24 dev {dev}\n" for a in pool[i::2])
        done = lab.run(host, ["ip", "-batch", "-"], input=script)
        assert done.returncode == 0, done.stderr
    return pool


def test_every_verdict_is_exact_beside_a_hundred_clean_targets(lab: Lab) -> None:
    truth = {a: ("ok", 9000) for a in clean_targets(lab)}
    truth[lab.addr("b")] = ("below", 1500)
    truth[lab.addr("c")] = ("below", 1500)
    started = time.monotonic()
    done = lab.run("src", [*CHECK, "--expect", "9000", "--json", *truth], timeout=90)
    wall = time.monotonic() - started
    assert done.returncode == 1, done.stderr
    results = {r["address"]: r for r in json.loads(done.stdout)["results"]}
    got = {a: (r["status"], r["path_mtu"]) for a, r in results.items()}
    assert got == truth
    assert results[lab.addr("b")]["break"]["kind"] == "silent"
    assert results[lab.addr("c")]["break"]["kind"] == "ptb"
    for r in results.values():
        search = next(st for st in r["stages"] if st["name"] == "search")
        # Alone, a silent 1500 takes about 0.15 s; beside 100 others it used to
        # hit the 5 s limit. Generous for a busy 2-core machine.
        assert search["elapsed_s"] <= 1.5, r
        assert r["loss"] == 0.0, r
    assert wall < 30


def extra_addresses(lab: Lab, host: str, switch: str, count: int) -> list[str]:
    """``count`` more addresses on ``host``, from the top of its own /24."""
    net = ipaddress.ip_network(f"{lab.addr(host)}/24", strict=False)
    pool = [str(a) for a in list(net.hosts())[-count:]]
    dev = lab.iface(host, switch)
    script = "".join(f"address add {a}/24 dev {dev}\n" for a in pool)
    done = lab.run(host, ["ip", "-batch", "-"], input=script)
    assert done.returncode == 0, done.stderr
    return pool


def test_targets_behind_one_limit_share_its_localization(lab: Lab) -> None:
    """Twelve addresses behind the router egress that says "too big" and four behind
    the silent port: one localization per limit, the others judged by shared
    evidence (the remark says whose), every verdict still exact."""
    ptb = [lab.addr("c"), *extra_addresses(lab, "c", "sw-c", 11)]
    silent = [lab.addr("b"), *extra_addresses(lab, "b", "sw-a", 3)]
    done = lab.run("src", [*CHECK, "--expect", "9000", "--json", *ptb, *silent], timeout=90)
    assert done.returncode == 1, done.stderr
    results = {r["address"]: r for r in json.loads(done.stdout)["results"]}
    r1 = lab.addr("r1", 4, peer="sw0")
    for group, kind in ((ptb, "ptb"), (silent, "silent")):
        leaders = set()
        for a in group:
            r = results[a]
            assert (r["status"], r["path_mtu"]) == ("below", 1500), r
            brk = r["break"]
            assert brk["kind"] == kind and brk["confirmed"] and brk["after"] == r1, r
            assert brk["before"] == a and r["breaks"][-1]["kind"] == kind
            notes = [m for m in r["remarks"] if m["code"] == "shared-limit"]
            leaders |= {m["leader"] for m in notes}
            locate = next(st for st in r["stages"] if st["name"] == "locate")
            # Each located alone, they spent the router's ICMP budget (a burst of 6,
            # then 1 a second, drained by the test before) until the 8 s bound; now a
            # silent one spends one token of its own (its big probe reaches the
            # router), a "too big" one none.
            assert locate["elapsed_s"] <= 6.0, r
        assert len(leaders) == 1 and leaders <= set(group), (kind, leaders)
        shared = [
            a for a in group if any(m["code"] == "shared-limit" for m in results[a]["remarks"])
        ]
        assert len(shared) == len(group) - 1
