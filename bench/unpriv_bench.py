#!/usr/bin/env python3
"""Benchmark ``jumbopath check`` without root, beside the same check as root.

One lab, ``src — sw-src — r1 — sw-dst ─1500┆9000─ dst``: the switch port
toward ``dst`` is left at 1500, so 9000-byte frames vanish silently (the
slowest verdict to prove). Inside the lab's ``src`` namespace only,
``net.ipv4.ping_group_range`` lets every group open ping sockets. Every run
(default 7) times the whole process of three ways to check it:

* ``raw``: as root, raw sockets (``--via raw``);
* ``ping-socket``: as ``nobody``, unprivileged ICMP and UDP sockets (``--via auto``);
* ``system ping``: as ``nobody``, the system's iputils ping (``--via ping``).

Each is correct when it says ``below`` with path MTU 1500. The targets
(issue "Run where admins are"): unprivileged within 1.5 s, ``--via ping``
within 5 s. The order rotates; the prober's cached path MTUs are flushed
before every run, and runs are ``--gap`` seconds apart (default 6) so that
r1's ICMP rate limit (Linux: one error a second, a burst of 6) has refilled:
back to back, the hop map of the next run waits for r1's budget, whoever probes.
Run as root from the repository root::

    python3 bench/unpriv_bench.py [--runs N]

The interpreter must be one every user can run (install.sh's venv on
/usr/bin/python3), as must the checkout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    REPO,
    fmt_s,
    jumbopath_argv,
    median,
    require_root,
    run_timed,
    table,
)

NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]
TARGETS = {"raw": 1.5, "ping-socket": 1.5, "system ping": 5.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, choices=range(1, 51), metavar="1..50")
    parser.add_argument("--settle", type=float, default=10.0)
    parser.add_argument(
        "--gap",
        type=float,
        default=6.0,
        help="seconds between runs, so r1's ICMP rate limit (Linux: 1/s, burst 6) refills",
    )
    parser.add_argument("--verbose", action="store_true", help="print every run's stages")
    args = parser.parse_args()
    require_root()
    sys.path.insert(0, str(REPO))
    from jumbopath.lab import Lab, chain

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    base = jumbopath_argv()
    # (who runs it, --via): the command is the same installed jumbopath for all.
    ways = {
        "raw": ([], ["--via", "raw"]),
        "ping-socket": (NOBODY, []),
        "system ping": (NOBODY, ["--via", "ping"]),
    }
    times: dict[str, list[float]] = {w: [] for w in ways}
    right: dict[str, int] = {w: 0 for w in ways}
    probing: dict[str, list[float]] = {w: [] for w in ways}
    with Lab(chain(1, mtus={("sw-dst", "dst"): 1500})) as lab:
        lab.run("src", ["sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647"], check=True)
        dst = lab.addr("dst", 4)
        for i in range(args.runs):
            order = list(ways)[i % 3 :] + list(ways)[: i % 3]
            for way in order:
                who, via = ways[way]
                full = [*who, *base, "check", "--json", "--expect", "9000", *via, dst]
                lab.flush_pmtu("src")
                time.sleep(args.gap)
                done = run_timed(lab, "src", full, 30.0, env=env, settle_s=args.settle)
                times[way].append(done.wall_s)
                try:
                    r = json.loads(done.stdout)["results"][0]
                    right[way] += (r["status"], r["path_mtu"]) == ("below", 1500)
                    probing[way].append(r["elapsed_s"])
                    if args.verbose:
                        stages = [(x["name"], x["probes"], x["elapsed_s"]) for x in r["stages"]]
                        print(f"{way}: {done.wall_s:.2f} s {stages}", file=sys.stderr)
                except (ValueError, KeyError, IndexError):
                    print(f"{way}: no JSON ({done.stderr.strip()[:200]})", file=sys.stderr)
    rows = []
    for way in ways:
        m = median(times[way])
        ok = m is not None and m <= TARGETS[way]
        rows.append(
            [
                way,
                f"{right[way]}/{args.runs}",
                fmt_s(m),
                fmt_s(min(times[way])),
                fmt_s(max(times[way])),
                f"{TARGETS[way]:g} s",
                "yes" if ok else "NO",
            ]
        )
    print(
        table(
            ["way", "correct", "median s", "min s", "max s", "target", "met"], rows, right=(2, 3, 4)
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
