#!/usr/bin/env python3
"""Benchmark what real flows see, beside tracepath and scamper in one run.

Three scenarios, each on its own lab (always torn down):

* ``ecmp``: a diamond, ``src ─ r0 ═╦═ r1 ═╦═ dst`` with r0 spreading flows over
  r1 and r2 (multipath route, ports in the hash) and the leg ICMP echo does not
  take left at 1500. Truth: some flows carry only 1500. tracepath and scamper
  follow the echo/UDP flow they happen to hash onto.
* ``no-echo``: ``src ─ r1 ─ dst`` where dst drops echo requests, dst's
  switch port at 4000. Truth: 4000.
* ``soak``: a clean 9000 path, ``check`` with the default soak and with
  ``--soak 0``: what the soak costs.

Targets (issue "Measure what real flows see"): the echo-filtered target
measured within 1.5 s, the ECMP leg found within 2 s with the default flows,
the soak adding at most 1.2 s. Whole-process wall time, medians over runs.

Run as root from the repository root::

    python3 bench/flows_bench.py [--runs N]
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
    args = parser.parse_args()
    require_root()
    rows: list[list[Any]] = []
    with Lab(diamond()) as lab:
        one_leg_at(lab, 1500)
        dst = lab.addr("dst", 4)
        runs = [check(lab, dst) for _ in range(args.runs)]
        right = sum(
            1 for _, r in runs if r and r["cause"] == "partial-flows" and r["path_mtu"] == 1500
        )
        rows.append(["ecmp", "jumbopath", f"{right}/{args.runs}", _med(runs), "2 s"])
        for tool, results in _tools(lab, dst, args.runs).items():
            ok = sum(1 for _, mtu in results if mtu == 1500)
            rows.append(["ecmp", tool, f"{ok}/{args.runs}", _med(results), ""])
    topo = chain(1, faults=[DropEcho("dst")], mtus={("sw-dst", "dst"): 4000})
    with Lab(topo) as lab:
        dst = lab.addr("dst", 4)
        runs = [check(lab, dst) for _ in range(args.runs)]
        right = sum(1 for _, r in runs if r and r["path_mtu"] == 4000 and r["protocol"] == "tcp")
        rows.append(["no-echo", "jumbopath", f"{right}/{args.runs}", _med(runs), "1.5 s"])
        for tool, results in _tools(lab, dst, args.runs).items():
            ok = sum(1 for _, mtu in results if mtu == 4000)
            rows.append(["no-echo", tool, f"{ok}/{args.runs}", _med(results), ""])
    with Lab(chain(1)) as lab:
        dst = lab.addr("dst", 4)
        soaked = [check(lab, dst) for _ in range(args.runs)]
        plain = [check(lab, dst, "--soak", "0") for _ in range(args.runs)]
        ok = sum(1 for _, r in soaked if r and r["status"] == "ok" and r["soak"])
        rows.append(["soak", "jumbopath (default)", f"{ok}/{args.runs}", _med(soaked), ""])
        rows.append(["soak", "jumbopath --soak 0", "", _med(plain), ""])
        cost = statistics.median(w for w, _ in soaked) - statistics.median(w for w, _ in plain)
        rows.append(["soak", "added by the soak", "", f"{cost:.2f}s", "1.2 s"])
    print(table(["scenario", "tool", "right", "median wall", "target"], rows))
    return 0


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
