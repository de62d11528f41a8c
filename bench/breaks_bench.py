#!/usr/bin/env python3
"""Benchmark ``check --json`` on a path with two limits, and its mirror.

Two scenarios on ``chain(2)`` (``src ─ r1 ─ r2 ─ dst``, each lab torn down):

* ``field``: r1's egress toward r2 at 8000 (it says "too big"), and dst's
  switch port at 4000 (silent). Truth: a router at 8000, then a port at 4000.
* ``mirror``: r1's egress at 8000 with its "too big" dropped (silent), and
  r2's egress at 4000 (it says "too big"). Truth: silent at 8000, then r2.

With ``--against REV`` the same runs alternate with the code committed at
REV, so both see the same machine load. Printed per code and scenario:
median whole-process wall time, median probing time (``elapsed_s``),
probes, and the limits found.

Run as root from the repository root::

    python3 bench/breaks_bench.py [--runs N] [--against REV]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import require_root, run_timed, snapshot  # noqa: E402

from jumbopath.lab import Lab, NoPTB  # noqa: E402
from jumbopath.lab.presets import chain  # noqa: E402

SCENARIOS = {
    "field": (chain(2, mtus={("r1", "r2"): 8000, ("sw-dst", "dst"): 4000}), ()),
    "mirror": (chain(2, mtus={("r1", "r2"): 8000, ("r2", "sw-dst"): 4000}), (NoPTB("r1"),)),
}
HERE = str(Path(__file__).resolve().parent.parent)


def limits(result: dict[str, Any]) -> list[str]:
    found = result.get("breaks")
    if found is None:  # older code: the one break
        found = [result["break"]] if result.get("break") else []
    return [f"{b['kind']} after {b['after']} mtu {b['mtu']} size {b['size']}" for b in found]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--against", metavar="REV", default=None)
    args = parser.parse_args()
    require_root()
    codes = {"this tree": HERE}
    tmp = None
    if args.against:
        tmp, commit = snapshot(args.against)
        codes[f"at {commit[:10]}"] = str(tmp)
    try:
        for name, (topo, faults) in SCENARIOS.items():
            rows: dict[str, list[tuple[float, float, int, list[str]]]] = {c: [] for c in codes}
            with Lab(topo.with_faults(*faults) if faults else topo) as lab:
                dst = lab.addr("dst")
                lab.run("src", ["ping", "-c1", "-W1", dst])  # warm the neighbours
                for _ in range(max(1, args.runs)):
                    for label, code in codes.items():
                        env = {**os.environ, "PYTHONPATH": code}
                        # -P: the code on PYTHONPATH, not the tree in the cwd
                        argv = [sys.executable, "-P", "-m", "jumbopath", "check", "--json", "-4"]
                        t = run_timed(lab, "src", [*argv, "--expect", "9000", dst], 60, env)
                        (r,) = json.loads(t.stdout)["results"]
                        rows[label].append((t.wall_s, r["elapsed_s"], r["probes_sent"], limits(r)))
                        for node in ("src", "r1", "r2"):
                            lab.flush_pmtu(node)
            for label, got in rows.items():
                wall = statistics.median(g[0] for g in got)
                probing = statistics.median(g[1] for g in got)
                print(
                    f"{name:7} {label:16} wall {wall:5.2f} s  probing {probing:.3f} s "
                    f"(min {min(g[1] for g in got):.3f}, max {max(g[1] for g in got):.3f})  "
                    f"probes {sorted({g[2] for g in got})}  limits {got[-1][3]}"
                )
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
