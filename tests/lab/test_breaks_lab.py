"""Every limit on a real path, in order (``"breaks"``): two faults on one chain.

One lab serves every test; each scenario changes MTUs and faults and puts
them back::

    src ─9000─ sw-src ─9000─ r1 ─9000─ r2 ─9000─ sw-dst ─9000─ dst

    field case: r1 ─8000┆9000─ r2 (r1 says "too big", MTU 8000), and
                sw-dst ─4000─ dst (a switch port that drops above 4000);
    mirror:     r1 ─8000┆9000─ r2 with r1's "too big" dropped (NoPTB: silent
                above 8000), and r2 ─4000┆9000─ sw-dst (r2 says "too big", 4000).

Routers keep the kernel's default ICMP rate limits.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest

from jumbopath.lab import Fault, Lab, NoPTB
from jumbopath.lab.presets import chain

#: Generous bound on one whole process, for loaded machines.
PROCESS_BOUND_S = 20.0
FIELD = {("r1", "r2"): 8000, ("sw-dst", "dst"): 4000}
MIRROR = {("r1", "r2"): 8000, ("r2", "sw-dst"): 4000}


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with Lab(chain(2)) as built:
        yield built


@contextlib.contextmanager
def scenario(
    lab: Lab, mtus: Mapping[tuple[str, str], int], faults: Sequence[Fault] = ()
) -> Iterator[None]:
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
        for node in ("src", "r1", "r2"):
            lab.flush_pmtu(node)


def run(lab: Lab, command: str, family: int = 4) -> dict[str, Any]:
    argv = [sys.executable, "-m", "jumbopath", command, "--json", f"-{family}"]
    argv += ["--expect", "9000", lab.addr("dst", family)]
    started = time.monotonic()
    done = lab.run("src", argv, timeout=60)
    elapsed = time.monotonic() - started
    assert done.stdout.startswith("{"), (done.returncode, done.stdout, done.stderr)
    assert done.returncode == 1
    print(f"{command} -{family}: {elapsed:.2f} s")
    assert elapsed < PROCESS_BOUND_S, elapsed
    (result,) = json.loads(done.stdout)["results"]
    return result


def limits(result: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(b["kind"], b["after"], b["before"], b["reported_by"]) for b in result["breaks"]]


@pytest.mark.parametrize(("command", "family"), [("check", 4), ("trace", 6)])
def test_field_case_router_at_8000_then_port_at_4000(lab: Lab, command: str, family: int) -> None:
    r1 = lab.addr("r1", family, peer="sw-src")
    r2 = lab.addr("r2", family, peer="r1")
    dst = lab.addr("dst", family)
    with scenario(lab, FIELD):
        r = run(lab, command, family)
    assert r["path_mtu"] == 4000
    assert limits(r) == [("ptb", r1, r2, r1), ("silent", r2, dst, None)]
    router, port = r["breaks"]
    assert router["mtu"] == 8000 and router["size"] > 8000  # what r1 itself said
    assert (port["mtu"], port["size"]) == (4000, 4001)
    assert r["break"] == port  # the tightest stays the break
    assert r["cause"] == "silent-drop"


def test_mirror_silent_at_8000_then_router_at_4000(lab: Lab) -> None:
    r1, r2, dst = lab.addr("r1", peer="sw-src"), lab.addr("r2", peer="r1"), lab.addr("dst")
    with scenario(lab, MIRROR, [NoPTB("r1")]):
        r = run(lab, "trace")
    assert r["path_mtu"] == 4000
    assert limits(r) == [("silent", r1, r2, None), ("ptb", r2, dst, r2)]
    stretch, router = r["breaks"]
    assert stretch["mtu"] <= 8000 < stretch["size"]  # a bracket around the silent 8000
    assert (router["mtu"], router["size"]) == (4000, 4001)
    assert r["break"] == router
