"""The verdicts no other lab test reaches, each on a real namespace lab.

``no-break`` (trace on a clean path), ``carries-expected`` and
``router-too-big`` (asserted here by code), ``icmp-unreachable`` (a router that
rejects), ``time-limit`` (nothing answers before ``--max-time``) and
``inconclusive`` (a lossy silent drop that ``--max-time`` cuts short)::

    src ─9000─ sw-src ─9000─ r1 ─9000─ sw-dst ─9000─ dst       (r1's nft rule varies)
    src ─9000─ sw-src ─9000─ r1 ─9000─ sw-dst ─1500┆9000─ dst  (r1 drops 30% each way)

``silent-drop-no-next-hop`` and ``below-unlocated`` are exercised only in
simulation and on data (see the README, "The lab").
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from jumbopath.lab import Lab, Loss, chain

JP = [sys.executable, "-m", "jumbopath"]
TABLE = "jpverdict"


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with Lab(chain(1)) as built:
        yield built


def run(lab: Lab, command: str, *args: str) -> tuple[int, dict[str, Any]]:
    argv = [*JP, command, "--json", "--expect", "9000", *args, lab.addr("dst", 4)]
    done = lab.run("src", argv, timeout=60)
    assert done.returncode in (0, 1, 3) and done.stdout.startswith("{"), done.stderr
    doc = json.loads(done.stdout)
    assert len(doc["results"]) == 1
    result: dict[str, Any] = doc["results"][0]
    return done.returncode, result


def forward_rule(lab: Lab, verdict: str | None) -> None:
    """r1 applies ``verdict`` (an nft statement) to everything forwarded to dst; None: nothing."""
    lab.run("r1", ["nft", "delete", "table", "inet", TABLE])
    if verdict is None:
        return
    script = (
        f"table inet {TABLE} {{\n  chain forward {{\n    type filter hook forward priority 0;\n"
        f"    ip daddr {lab.addr('dst', 4)} {verdict}\n  }}\n}}\n"
    )
    lab.run("r1", ["nft", "-f", "-"], input=script, check=True)


def test_trace_on_a_clean_path_finds_no_break(lab: Lab) -> None:
    forward_rule(lab, None)
    rc, r = run(lab, "trace")
    assert (rc, r["status"], r["path_mtu"]) == (0, "ok", 9000)
    assert (r["break"]["kind"], r["break"]["cause"]) == ("none", "no-break")


def test_check_on_a_clean_path_carries_and_a_short_router_egress_is_router_too_big(
    lab: Lab,
) -> None:
    forward_rule(lab, None)
    rc, r = run(lab, "check")
    assert (rc, r["status"], r["cause"], r["path_mtu"]) == (0, "ok", "carries-expected", 9000)
    lab.set_mtu("r1", "sw-dst", 1500)
    try:
        rc, r = run(lab, "check")
    finally:
        lab.set_mtu("r1", "sw-dst", 9000)
        lab.flush_pmtu("src")
    assert (rc, r["status"], r["cause"], r["path_mtu"]) == (1, "below", "router-too-big", 1500)
    assert r["break"]["cause"] == "router-too-big"


def test_a_router_that_rejects_is_icmp_unreachable(lab: Lab) -> None:
    forward_rule(lab, "reject with icmp type admin-prohibited")
    try:
        rc, r = run(lab, "check")
    finally:
        forward_rule(lab, None)
    assert (rc, r["status"], r["cause"]) == (1, "unreachable", "icmp-unreachable")
    assert (r["unreachable"], r["path_mtu"]) == ("administratively prohibited", None)


def test_nothing_answering_before_max_time_is_time_limit(lab: Lab) -> None:
    forward_rule(lab, "drop")
    try:
        rc, r = run(lab, "check", "--max-time", "0.1")
    finally:
        forward_rule(lab, None)
    assert (rc, r["status"], r["cause"], r["path_mtu"]) == (3, "error", "time-limit", None)


def test_a_lossy_silent_drop_cut_short_is_inconclusive() -> None:
    """Alone, a loss-free silent 1500 takes about 0.15 s; 30% loss each way needs
    more silences to prove the drop than 0.1 s allows."""
    topo = chain(1, mtus={("sw-dst", "dst"): 1500}, faults=(Loss("r1", percent=30),))
    with Lab(topo) as lossy:
        rc, r = run(lossy, "check", "--max-time", "0.1")
    assert (rc, r["status"], r["cause"]) == (3, "error", "inconclusive")
    # What was proven stays: some size answered, and it is no larger than the truth.
    assert r["path_mtu"] is not None and r["path_mtu"] <= 1500
    assert "reply" in {e["outcome"] for e in r["evidence"]}
