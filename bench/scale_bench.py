#!/usr/bin/env python3
"""Benchmark ``jumbopath check`` with hundreds of targets in one call: every verdict
must be the one the target gets alone, within a bound on the whole run.

Two scenarios, each on its own lab (always torn down):

* ``faults-250``: 250 targets behind one router, 245 clean (extra addresses on
  four host namespaces) and 5 faulty, each its own host behind its own fault:
  three behind a switch port at 1500 on the clean targets' own switch (big
  frames vanish silently) and two behind a router egress at 1500 that sends
  "fragmentation needed". Every MTU exact, the whole run within 3 s.
* ``clean-1000``: 1000 clean targets behind one router (extra addresses on
  four host namespaces, one /22 the router must resolve), within 1.5 s.
* ``silent-250``: 245 clean targets and 5 hosts behind switch ports at 1500
  on the clean targets' switch (big frames vanish silently), within 2 s.
* ``ptb-40``: 40 targets behind one router egress at 1500 (extra addresses on
  four hosts): the router's "fragmentation needed" answers all of them from
  one ICMP budget (Linux: a burst of about 6, then 1 a second), within 2 s.

Before every run the router forgets the targets' neighbour entries (so every
run makes first contact with hundreds of new hosts) and the prober forgets
its cached path MTUs. Results are medians over the runs.

Run as root from the repository root::

    python3 bench/scale_bench.py [--runs N] [--rest S] [--json FILE] [--at REV] [--scenarios LIST]
"""

from __future__ import annotations

import argparse
import importlib
import ipaddress
import json
import os
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    REPO,
    apt_hint,
    check_lab_address,
    check_record,
    environment,
    fmt_counts,
    fmt_s,
    git_commit,
    git_dirty,
    jumbopath_argv,
    median,
    missing_programs,
    require_root,
    run_timed,
    snapshot,
    table,
)

if TYPE_CHECKING:
    from jumbopath.lab import Lab, Topology

LAB: ModuleType
JP_ENV: dict[str, str] | None = None

EXPECT = 9000
"""The MTU every check expects."""
HOSTS = ("a1", "a2", "a3", "a4")
"""The clean host namespaces that carry the extra addresses."""
PTB_HOSTS = ("p1", "p2", "p3", "p4")
"""The hosts behind the one shared egress at 1500 (``shared_ptb``)."""
PTB_NET = ipaddress.ip_network("198.19.132.0/24")
"""Where the extra addresses behind the shared egress come from."""
EXTRA_NET = ipaddress.ip_network("198.19.128.0/22")
"""Where the extra target addresses come from (inside 198.18.0.0/15, far from
the lab's own segments, which use 198.18.N.0/24 and 198.19.N-256.0/24 for N
above 255)."""


@dataclass(frozen=True, slots=True)
class Scenario:
    """One lab, how many targets it checks, and the bound on the whole run."""

    key: str
    title: str
    clean: int
    """Clean targets (the clean hosts' own addresses first, then extra ones)."""
    silent: int
    """Hosts behind a switch port at 1500 (silent drop), on the clean targets' switch."""
    ptb: int
    """Hosts behind their own router egress at 1500 (the router sends PTB)."""
    limit_s: float
    """Bound on the whole process (start-up included)."""
    shared_ptb: int = 0
    """Targets behind one router egress at 1500 (one "too big" budget for all)."""


SCENARIOS = (
    Scenario("faults-250", "245 clean + 5 faulty targets behind one router", 245, 3, 2, 3.0),
    Scenario("clean-1000", "1000 clean targets behind one router", 1000, 0, 0, 1.5),
    Scenario("silent-250", "245 clean + 5 behind a silent switch port", 245, 5, 0, 2.0),
    Scenario(
        "ptb-40", "40 targets behind one router egress at 1500 (PTB)", 0, 0, 0, 2.0, shared_ptb=40
    ),
)


def topology(sc: Scenario) -> Topology:
    r"""The lab of a scenario::

    src ─9000─ sw0 ─9000─ r1 ─┬─9000─ sw-a ─┬─9000─ a1 .. a4   (the clean targets)
                              │             ├─1500┆9000─ b1    silent drop
                              │             └─1500┆9000─ bN    (one port each)
                              ├─1500─ sw-c1 ─9000─ c1          router egress 1500, PTB
                              ├─1500─ sw-cM ─9000─ cM          (one egress each)
                              └─1500─ sw-p ─9000─ p1 .. p4     one egress 1500 for all
                                                               (``shared_ptb`` addresses)
    """
    lab = LAB
    nodes: list[Any] = [lab.Host("src"), lab.Switch("sw0"), lab.Router("r1"), lab.Switch("sw-a")]
    links = [lab.Link("src", "sw0"), lab.Link("sw0", "r1"), lab.Link("r1", "sw-a")]
    for h in HOSTS:
        nodes.append(lab.Host(h))
        links.append(lab.Link("sw-a", h))
    for i in range(1, sc.silent + 1):
        nodes.append(lab.Host(f"b{i}"))
        links.append(lab.Link("sw-a", f"b{i}", a_mtu=1500))
    for i in range(1, sc.ptb + 1):
        nodes += [lab.Switch(f"sw-c{i}"), lab.Host(f"c{i}")]
        links += [lab.Link("r1", f"sw-c{i}", a_mtu=1500), lab.Link(f"sw-c{i}", f"c{i}")]
    if sc.shared_ptb:
        nodes.append(lab.Switch("sw-p"))
        links.append(lab.Link("r1", "sw-p", a_mtu=1500))
        for h in PTB_HOSTS:
            nodes.append(lab.Host(h))
            links.append(lab.Link("sw-p", h))
    return lab.Topology(nodes=tuple(nodes), links=tuple(links))


def populate(
    lab: Lab,
    count: int,
    hosts: tuple[str, ...] = HOSTS,
    net: ipaddress.IPv4Network | ipaddress.IPv6Network = EXTRA_NET,
    switch: str = "sw-a",
) -> list[str]:
    """Give ``hosts`` ``count`` addresses in all (their own ones first); the router
    reaches the extra ones on its link toward ``switch``, ``src`` through it."""
    own = [lab.addr(h) for h in hosts]
    extra = count - len(own)
    if extra <= 0:
        return own[:count]
    pool = list(net.hosts())
    if extra > len(pool):
        raise SystemExit(f"at most {len(pool) + len(own)} clean targets")
    chosen = [str(a) for a in pool[:extra]]
    per_host: dict[str, list[str]] = {h: [] for h in hosts}
    for i, a in enumerate(chosen):
        per_host[hosts[i % len(hosts)]].append(a)
    for h, addrs in per_host.items():
        dev = lab.iface(h, switch)
        script = "".join(f"address add {a}/{net.prefixlen} dev {dev}\n" for a in addrs)
        _ip_batch(lab, h, script)
    _ip_batch(lab, "r1", f"route add {net} dev {lab.iface('r1', switch)}\n")
    via = lab.addr("r1", 4, peer="sw0")
    _ip_batch(lab, "src", f"route add {net} via {via}\n")
    return own + chosen


def _ip_batch(lab: Lab, node: str, script: str) -> None:
    done = lab.run(node, ["ip", "-batch", "-"], input=script)
    if done.returncode != 0:
        raise SystemExit(f"configuring {node}: {done.stderr.strip()}")


def forget_neighbours(lab: Lab) -> None:
    """The router forgets the extra targets' link-layer addresses: first contact again."""
    lab.run("r1", ["ip", "neigh", "flush", "to", str(EXTRA_NET)])
    lab.run("r1", ["ip", "neigh", "flush", "to", str(PTB_NET)])
    lab.flush_pmtu("src")


# ---------------------------------------------------------------------------
# Runs


def one_run(
    lab: Lab, truth: dict[str, tuple[str, int]], i: int, timeout_s: float, settle_s: float
) -> dict[str, Any]:
    forget_neighbours(lab)
    argv = [*jumbopath_argv(), "check", "--expect", str(EXPECT), *truth, "--json"]
    t = run_timed(lab, "src", argv, timeout_s, JP_ENV, settle_s=settle_s)
    rec, results = check_record(t, i)
    by_addr = {r.get("address"): r for r in results}
    wrong = []
    for addr, (status, mtu) in truth.items():
        r = by_addr.get(addr)
        if r is None or r.get("status") != status or r.get("path_mtu") != mtu:
            wrong.append(
                {
                    "address": addr,
                    "want": [status, mtu],
                    "got": None if r is None else [r.get("status"), r.get("path_mtu")],
                    "error": None if r is None else r.get("error"),
                    "record": r,
                }
            )
    faulty = [by_addr[a] for a, (s, _) in truth.items() if s != "ok" and a in by_addr]
    rec.update(
        targets=len(truth),
        exact=len(truth) - len(wrong),
        wrong=wrong,
        max_probes=max((r.get("probes_sent") or 0 for r in results), default=None),
        max_search_probes=max((_search_probes(r) for r in results), default=None),
        slowest_s=max((r.get("elapsed_s") or 0.0 for r in results), default=None),
        slowest_search_s=max((_search_s(r) for r in results), default=None),
        faulty_s=max((r.get("elapsed_s") or 0.0 for r in faulty), default=None),
    )
    want_rc = 0 if all(s == "ok" for s, _ in truth.values()) else 1
    if t.rc != want_rc:
        rec["notes"].append(f"exit {t.rc}, expected {want_rc}")
    return rec


def _search_probes(r: dict[str, Any]) -> int:
    for st in r.get("stages") or ():
        if st.get("name") == "search":
            return int(st.get("probes") or 0)
    return int(r.get("probes_sent") or 0)


def _search_s(r: dict[str, Any]) -> float:
    for st in r.get("stages") or ():
        if st.get("name") == "search":
            return float(st.get("elapsed_s") or 0.0)
    return float(r.get("elapsed_s") or 0.0)


def bench_scenario(
    sc: Scenario, runs: int, timeout_s: float, settle_s: float, rest_s: float = 0.0
) -> dict[str, Any]:
    print(f"== {sc.key}: {sc.title}", file=sys.stderr, flush=True)
    out: dict[str, Any] = {"key": sc.key, "title": sc.title, "limit_s": sc.limit_s, "runs": []}
    with LAB.Lab(topology(sc)) as lab:
        truth: dict[str, tuple[str, int]] = {}
        for a in populate(lab, sc.clean):
            truth[check_lab_address(a)] = ("ok", EXPECT)
        faulty = [f"b{i}" for i in range(1, sc.silent + 1)]
        faulty += [f"c{i}" for i in range(1, sc.ptb + 1)]
        for node in faulty:
            truth[check_lab_address(lab.addr(node))] = ("below", 1500)
        if sc.shared_ptb:
            for a in populate(lab, sc.shared_ptb, PTB_HOSTS, PTB_NET, "sw-p"):
                truth[check_lab_address(a)] = ("below", 1500)
        out.update(build_s=lab.build_s, unwarmed=[list(p) for p in lab.unwarmed])
        out["targets"] = len(truth)
        # Throwaway run: Python's files into the page cache.
        run_timed(lab, "src", [*jumbopath_argv(), "check", lab.addr("a1"), "--json"], 60, JP_ENV)
        for i in range(1, runs + 1):
            if i > 1 and rest_s:
                time.sleep(rest_s)  # the routers' ICMP budget refills (1 a second)
            rec = one_run(lab, truth, i, timeout_s, settle_s)
            print(
                f"  [{sc.key}] run {i}/{runs} {rec['wall_s']:6.2f}s (cpu {rec['cpu_s']:.2f}s, "
                f"load {rec['load1']:.1f}) exact {rec['exact']}/{rec['targets']} "
                f"slowest {fmt_s(rec['slowest_s'], 3)} faulty {fmt_s(rec['faulty_s'], 3)} "
                f"max probes {rec['max_probes']}"
                + (f" ({'; '.join(rec['notes'])})" if rec["notes"] else ""),
                file=sys.stderr,
                flush=True,
            )
            for w in rec["wrong"][:5]:
                print(
                    f"    wrong {w['address']}: want {w['want']} got {w['got']} {w['error'] or ''}",
                    file=sys.stderr,
                    flush=True,
                )
            out["runs"].append(rec)
    return out


# ---------------------------------------------------------------------------
# Report


def _pm(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(results: dict[str, Any], runs: int) -> str:
    rows = []
    verdicts: dict[str, bool] = {}
    for sc in results["scenarios"]:
        rs = sc["runs"]
        n = sc["targets"]
        all_exact = sum(r["exact"] == n for r in rs)
        wall = median([r["wall_s"] for r in rs])
        exact_ok = all_exact == len(rs)
        wall_ok = wall is not None and wall <= sc["limit_s"]
        verdicts[f"{sc['key']}:exact"] = exact_ok
        verdicts[f"{sc['key']}:wall"] = wall_ok
        wrong = [
            (w["got"][0] if w["got"] else "missing")
            + (f" ({(w['error'] or '').split(':')[0]})" if w["error"] else "")
            for r in rs
            for w in r["wrong"]
        ]
        rows.append(
            [
                sc["key"],
                n,
                f"{all_exact}/{len(rs)} {_pm(exact_ok)}",
                f"{median([r['exact'] for r in rs]):g}",
                f"{fmt_s(wall)} {_pm(wall_ok)}",
                fmt_s(max(r["wall_s"] for r in rs)),
                fmt_s(median([r["cpu_s"] for r in rs])),
                fmt_s(median([r["slowest_search_s"] for r in rs]), 3),
                fmt_s(median([r["faulty_s"] for r in rs]), 3),
                f"{median([r['max_search_probes'] for r in rs])}",
                fmt_counts(wrong) if wrong else "",
            ]
        )
    results["verdicts"] = verdicts
    head = (
        f"Median of {runs} run(s); wall = whole process (start-up included); "
        "all exact = runs in which every target got its true verdict and MTU; "
        "slowest search = the slowest target's search stage; faulty = the slowest "
        "faulty target's probing time (search, locate, direction)"
    )
    return "\n".join(
        [
            head,
            table(
                [
                    "scenario",
                    "targets",
                    "all exact",
                    "exact",
                    "wall (limit)",
                    "max wall",
                    "cpu",
                    "slowest search",
                    "faulty",
                    "search probes",
                    "wrong (status x count)",
                ],
                rows,
                right=(1, 3, 5, 6, 7, 8, 9),
            ),
            "",
            "Limits: "
            + ", ".join(
                f"{sc['key']} <= {sc['limit_s']:g}s {_pm(verdicts[sc['key'] + ':wall'])}"
                for sc in results["scenarios"]
            ),
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    keys = tuple(s.key for s in SCENARIOS)
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="runs per scenario (1..100, default 5)")
    ap.add_argument("--json", metavar="FILE", help="write the raw numbers to FILE")
    ap.add_argument("--timeout", type=float, default=60.0, help="cap per run, seconds (60)")
    ap.add_argument("--settle", type=float, default=10.0, help="wait for a quiet machine (s)")
    ap.add_argument(
        "--rest",
        type=float,
        default=0.0,
        help="seconds between runs, so every run meets rested routers (Linux refills "
        "its ICMP budget at 1 a second, a burst of 6: 6 s); default 0",
    )
    ap.add_argument("--at", metavar="REV", help="measure jumbopath as committed at REV")
    ap.add_argument("--scenarios", default=",".join(keys), help=f"comma list out of {keys}")
    args = ap.parse_args(argv)
    if not 1 <= args.runs <= 100:
        ap.error("--runs must be 1..100")
    if not 1 <= args.timeout <= 600:
        ap.error("--timeout must be 1..600 seconds")
    if not 0 <= args.rest <= 60:
        ap.error("--rest must be 0..60 seconds")
    if not 0 <= args.settle <= 600:
        ap.error("--settle must be 0..600 seconds")
    chosen = [k for k in args.scenarios.split(",") if k]
    bad = [k for k in chosen if k not in keys]
    if bad:
        ap.error(f"unknown scenario(s): {', '.join(bad)}")
    require_root()
    missing = missing_programs(["ip", "nft"])
    if missing:
        print(f"missing programs {missing}: {apt_hint(missing)}", file=sys.stderr)
        return 3
    global LAB, JP_ENV
    snap: Path | None = None
    if args.at:
        snap, commit = snapshot(args.at)
        JP_ENV = {**os.environ, "PYTHONPATH": str(snap)}
        code: dict[str, Any] = {"source": "commit", "commit": commit}
    else:
        # This checkout's code, whatever jumbopath the interpreter has installed.
        JP_ENV = {**os.environ, "PYTHONPATH": str(REPO)}
        code = {"source": "working tree", "commit": git_commit(), "tree_dirty": git_dirty()}
    try:
        # The lab is always the working tree's: only the measured code changes with --at.
        LAB = importlib.import_module("jumbopath.lab")
        results: dict[str, Any] = {
            "code": code,
            "args": vars(args),
            "environment": environment(),
            "scenarios": [],
        }
        for sc in SCENARIOS:
            if sc.key in chosen:
                results["scenarios"].append(
                    bench_scenario(sc, args.runs, args.timeout, args.settle, args.rest)
                )
    finally:
        if snap is not None:
            shutil.rmtree(snap, ignore_errors=True)
    env = results["environment"]
    what = str(code["commit"])[:12] + (" + uncommitted changes" if code.get("tree_dirty") else "")
    print(
        f"\njumbopath scale benchmark, IPv4, kernel {env['kernel']}, {env['cpus']} CPU(s), "
        f"{env['time']}\njumbopath code measured: {code['source']} {what}"
    )
    print(report(results, args.runs))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"\nraw numbers: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
