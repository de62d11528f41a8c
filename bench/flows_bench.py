#!/usr/bin/env python3
"""Benchmark what real flows see, beside tracepath and scamper in one run.

Three scenarios, each on its own lab (always torn down):

* ``ecmp``: a diamond, ``src ─ r0 ═╦═ r1 ═╦═ dst`` with r0 spreading flows over
  r1 and r2 (multipath route, ports in the hash) and the leg ICMP echo does not
  take left at 1500. Truth: some flows carry only 1500. tracepath and scamper
  follow the echo/UDP flow they happen to hash onto.
* ``host-ecmp``: the host itself routes, ``src ═╦═ r1, r2 ═╦═ dst`` (two
  uplinks, a multipath route on src hashing on ports), the uplink ICMP echo
  does not take at 1500. Truth: some flows carry only 1500, and they leave by
  that uplink (the leg must be named: interface and next hop).
* ``no-echo``: ``src ─ r1 ─ dst`` where dst drops echo requests, dst's
  switch port at 4000. Truth: 4000.
* ``soak``: a clean 9000 path, ``check`` with the default soak and with
  ``--soak 0``: what the soak costs.

Targets (issue "Measure what real flows see"): the echo-filtered target
measured within 1.5 s, the ECMP leg found within 2 s with the default flows
(on a router or on the host itself), the soak adding at most 1.2 s.
Whole-process wall time, medians over runs.

Run as root from the repository root::

    python3 bench/flows_bench.py [--runs N] [--only ecmp,host-ecmp,no-echo,soak]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    jumbopath_argv,
    parse_scamper,
    parse_tracepath,
    require_root,
    run_timed,
    table,
)

from jumbopath.lab import (  # noqa: E402
    DropEcho,
    Lab,
    chain,
    diamond,
    one_leg_at,
    one_uplink_at,
    two_uplinks,
)

CAP_S = 60.0


def check(lab: Lab, addr: str, *extra: str) -> tuple[float, dict[str, Any] | None]:
    argv = [*jumbopath_argv(), "check", "--json", "--expect", "9000", *extra, addr]
    t = run_timed(lab, "src", argv, CAP_S)
    try:
        return t.wall_s, json.loads(t.stdout)["results"][0]
    except (ValueError, KeyError, IndexError):
        return t.wall_s, None


def others(lab: Lab, addr: str) -> dict[str, tuple[float, int | None]]:
    tp = run_timed(lab, "src", ["tracepath", "-n", addr], CAP_S)
    sc = run_timed(lab, "src", ["scamper", "-c", "trace -M", "-i", addr], CAP_S)
    return {
        "tracepath": (tp.wall_s, parse_tracepath(tp.stdout)),
        "scamper": (sc.wall_s, parse_scamper(sc.stdout, addr)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default="ecmp,host-ecmp,no-echo,soak")
    args = parser.parse_args()
    only = set(args.only.split(","))
    require_root()
    rows: list[list[Any]] = []
    if "ecmp" in only:
        rows += _ecmp(args.runs)
    if "host-ecmp" in only:
        rows += _host_ecmp(args.runs)
    if "no-echo" in only:
        rows += _no_echo(args.runs)
    if "soak" in only:
        rows += _soak(args.runs)
    print(table(["scenario", "tool", "right", "median wall", "target"], rows))
    return 0


def _ecmp(n: int) -> list[list[Any]]:
    rows: list[list[Any]] = []
    with Lab(diamond()) as lab:
        one_leg_at(lab, 1500)
        dst = lab.addr("dst", 4)
        runs = [check(lab, dst) for _ in range(n)]
        right = sum(
            1 for _, r in runs if r and r["cause"] == "partial-flows" and r["path_mtu"] == 1500
        )
        rows.append(["ecmp", "jumbopath", f"{right}/{n}", _med(runs), "2 s"])
        for tool, results in _tools(lab, dst, n).items():
            ok = sum(1 for _, mtu in results if mtu == 1500)
            rows.append(["ecmp", tool, f"{ok}/{n}", _med(results), ""])
    return rows


def _host_ecmp(n: int) -> list[list[Any]]:
    rows: list[list[Any]] = []
    with Lab(two_uplinks()) as lab:
        _, bad = one_uplink_at(lab, 1500)
        for family in (4, 6):
            dst = lab.addr("dst", family)
            leg = [lab.iface("src", f"sw{bad[1]}"), lab.addr(bad, family, f"sw{bad[1]}")]
            name = f"host-ecmp IPv{family}"
            runs = [check(lab, dst) for _ in range(n)]
            right = sum(1 for _, r in runs if r and _names_leg(r, leg))
            rows.append([name, "jumbopath", f"{right}/{n}", _med(runs), "2 s"])
            for tool, results in _tools(lab, dst, n).items():
                ok = sum(1 for _, mtu in results if mtu == 1500)
                rows.append([name, tool, f"{ok}/{n}", _med(results), ""])
    return rows


def _names_leg(r: dict[str, Any], leg: list[str]) -> bool:
    """Partial flows at 1500, and the failing flows all on ``leg`` (interface, next hop)."""
    if r["cause"] != "partial-flows" or r["path_mtu"] != 1500 or not r["flows"]:
        return False
    bad = [[g["interface"], g["next_hop"]] for g in r["flows"]["legs"] if g["failing"]]
    return bad == [leg]


def _no_echo(n: int) -> list[list[Any]]:
    rows: list[list[Any]] = []
    topo = chain(1, faults=[DropEcho("dst")], mtus={("sw-dst", "dst"): 4000})
    with Lab(topo) as lab:
        dst = lab.addr("dst", 4)
        runs = [check(lab, dst) for _ in range(n)]
        right = sum(1 for _, r in runs if r and r["path_mtu"] == 4000 and r["protocol"] == "tcp")
        rows.append(["no-echo", "jumbopath", f"{right}/{n}", _med(runs), "1.5 s"])
        for tool, results in _tools(lab, dst, n).items():
            ok = sum(1 for _, mtu in results if mtu == 4000)
            rows.append(["no-echo", tool, f"{ok}/{n}", _med(results), ""])
    return rows


def _soak(n: int) -> list[list[Any]]:
    rows: list[list[Any]] = []
    with Lab(chain(1)) as lab:
        dst = lab.addr("dst", 4)
        soaked = [check(lab, dst) for _ in range(n)]
        plain = [check(lab, dst, "--soak", "0") for _ in range(n)]
        ok = sum(1 for _, r in soaked if r and r["status"] == "ok" and r["soak"])
        rows.append(["soak", "jumbopath (default)", f"{ok}/{n}", _med(soaked), ""])
        rows.append(["soak", "jumbopath --soak 0", "", _med(plain), ""])
        cost = statistics.median(w for w, _ in soaked) - statistics.median(w for w, _ in plain)
        rows.append(["soak", "added by the soak", "", f"{cost:.2f}s", "1.2 s"])
    return rows


def _tools(lab: Lab, addr: str, runs: int) -> dict[str, list[tuple[float, int | None]]]:
    out: dict[str, list[tuple[float, int | None]]] = {"tracepath": [], "scamper": []}
    for _ in range(runs):
        for tool, result in others(lab, addr).items():
            out[tool].append(result)
    return out


def _med(results: list[tuple[float, Any]]) -> str:
    return f"{statistics.median(w for w, _ in results):.2f}s"


if __name__ == "__main__":
    sys.exit(main())
