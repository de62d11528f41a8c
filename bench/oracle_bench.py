#!/usr/bin/env python3
"""Hold jumbopath, tracepath and scamper to the truth of random labs.

For each seed (``--start S`` .. ``S + N - 1``, ``--seeds N``, default 300),
:func:`jumbopath.lab.randomlab.draw` draws a lab and
:func:`~jumbopath.lab.randomlab.truth` says, from the topology alone, what a
correct tool finds from ``src`` toward ``far`` over IPv4 (``--family 6``:
IPv6). The lab is built, then, each capped at ``--timeout`` seconds:

* ``jumbopath check --json --expect 9000 ADDR`` and ``jumbopath trace ...``:
  held to the truth by :func:`~jumbopath.lab.randomlab.compare` (status,
  path MTU, direction, the tightest limit's kind and place, or every limit
  when the result has a ``breaks`` list);
* ``tracepath -4 -n -m 10 ADDR``: its ``Resume: pmtu N``;
* ``scamper -I "trace -M ADDR"``: the ``[mtu: N]`` on the far host's line (IPv4
  only: over IPv6 it gets no answer inside the lab namespaces, see trace_bench.py).

tracepath and scamper report the forward path MTU only (no verdict, no
break), so they are held to that (capped at 9000, as jumbopath's search is)
and count where they can answer: not on a far host that drops echo
(scamper's PMTUD needs its answers), and not with loss on every size (one
lost probe is read as the MTU). The table gives, per fault class, how many
labs had it and how often each tool disagreed; a lab counts in every class
it has. ``--log FILE`` appends one JSON line per seed (resumable evidence);
``--table-from FILE...`` prints the table of such logs (one record per seed),
held again to the current truth (what the tools said is kept), after one line
per jumbopath disagreement. Run as root::

    python3 bench/oracle_bench.py [--seeds 300] [--start 0] [--json OUT] [--log FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from common import check_lab_address, parse_scamper, parse_tracepath, table  # noqa: E402

from jumbopath.lab import Lab  # noqa: E402
from jumbopath.lab.randomlab import CLASSES, FAR, SOURCE, compare, draw, names, truth  # noqa: E402

EXPECT = 9000
TOOLS = ("jumbopath check", "jumbopath trace", "tracepath", "scamper")


def run_capped(lab: Lab, argv: Sequence[str], timeout_s: float) -> tuple[str, int | None, float]:
    """Run inside ``src``; kill the whole process group at the cap (rc None)."""
    t0 = time.perf_counter()
    p = lab.popen(
        SOURCE,
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        out, _ = p.communicate(timeout=timeout_s)
        return out, p.returncode, time.perf_counter() - t0
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate(timeout=5)
        return out or "", None, time.perf_counter() - t0


def flush(lab: Lab, family: int) -> None:
    """Forget the path MTUs the last tool taught ``src``'s kernel."""
    lab.run(SOURCE, ["ip", f"-{family}", "route", "flush", "cache"])


def one_seed(seed: int, timeout_s: float, family: int = 4) -> dict[str, Any]:
    """Build the lab of ``seed``, run every tool, hold each to the truth."""
    drawn = draw(seed)
    t = truth(drawn.topology, family)
    addresses = names(drawn.topology)
    rec: dict[str, Any] = {
        "seed": seed,
        "family": family,
        "classes": list(drawn.classes),
        "truth": {
            "status": t.status(EXPECT),
            "path_mtu": min(t.path_mtu, EXPECT),
            "forward_mtu": min(t.forward_mtu, EXPECT),
            "limits": [
                [lim.kind, lim.mtu, lim.after, lim.before] for lim in t.limits_below(EXPECT)
            ],
        },
        "tools": {},
    }
    loss_everywhere = "all-loss" in drawn.classes
    with Lab(drawn.topology) as lab:
        addr = check_lab_address(lab.addr(FAR, family))
        for cmd in ("check", "trace"):
            flush(lab, family)
            argv = [sys.executable, "-m", "jumbopath", cmd, "--json", "--expect", str(EXPECT)]
            out, rc, took = run_capped(lab, [*argv, addr], timeout_s)
            cell: dict[str, Any] = {"rc": rc, "s": round(took, 2)}
            try:
                result = json.loads(out)["results"][0]
                cell["got"] = {
                    k: result.get(k) for k in ("status", "path_mtu", "direction", "break")
                }
                if "breaks" in result:
                    cell["got"]["breaks"] = result["breaks"]
                cell["differences"] = list(compare(t, result, addresses, EXPECT))
            except (ValueError, KeyError, IndexError, TypeError):
                cell["differences"] = [f"no JSON result (exit {rc})"]
            rec["tools"][f"jumbopath {cmd}"] = cell
        fwd = min(t.forward_mtu, EXPECT)
        others = {
            "tracepath": (["tracepath", f"-{family}", "-n", "-m", "10", addr], parse_tracepath),
            "scamper": (["scamper", "-I", f"trace -M {addr}"], lambda s: parse_scamper(s, addr)),
        }
        for name, (argv2, parse) in others.items():
            if shutil.which(argv2[0]) is None or t.echo_filtered or loss_everywhere:
                continue
            if name == "scamper" and family == 6:
                continue  # no answers inside the lab namespaces over IPv6 (trace_bench.py)
            flush(lab, family)
            out, rc, took = run_capped(lab, argv2, timeout_s)
            got = parse(out)
            diff = (
                []
                if got is not None and min(got, EXPECT) == fwd
                else [f"forward path_mtu: truth {fwd}, tool {got}"]
            )
            rec["tools"][name] = {"rc": rc, "s": round(took, 2), "got": got, "differences": diff}
    return rec


def rejudge(rec: dict[str, Any]) -> dict[str, Any]:
    """``rec`` (a --log line) held again to the truth of today's oracle: what
    the tools said is kept, the truth and the differences are recomputed."""
    drawn = draw(rec["seed"])
    t = truth(drawn.topology, rec.get("family", 4))
    addresses = names(drawn.topology)
    fwd = min(t.forward_mtu, EXPECT)
    tools: dict[str, Any] = {}
    for tool, cell in rec["tools"].items():
        cell = dict(cell)
        if tool.startswith("jumbopath") and isinstance(cell.get("got"), dict):
            cell["differences"] = list(compare(t, cell["got"], addresses, EXPECT))
        elif not tool.startswith("jumbopath"):
            got = cell.get("got")
            ok = isinstance(got, int) and min(got, EXPECT) == fwd
            cell["differences"] = [] if ok else [f"forward path_mtu: truth {fwd}, tool {got}"]
        tools[tool] = cell
    return {**rec, "classes": list(drawn.classes), "tools": tools}


def report(records: Sequence[dict[str, Any]]) -> str:
    """Per class: labs, and per tool ``disagreed/answered (rate)``."""
    rows = []
    for cls in (*CLASSES, "all"):
        recs = [r for r in records if cls == "all" or cls in r["classes"]]
        if not recs:
            continue
        row: list[Any] = [cls, len(recs)]
        for tool in TOOLS:
            cells = [r["tools"][tool] for r in recs if tool in r["tools"]]
            bad = sum(1 for c in cells if c["differences"])
            row.append(f"{bad}/{len(cells)} ({bad / len(cells):.0%})" if cells else "-")
        rows.append(row)
    return table(["class", "labs", *TOOLS], rows, right=(1,))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=300, help="how many seeds")
    parser.add_argument("--start", type=int, default=0, help="first seed")
    parser.add_argument("--timeout", type=float, default=60.0, help="cap per tool run, s")
    parser.add_argument("--family", type=int, choices=(4, 6), default=4, help="IPv4 or IPv6")
    parser.add_argument("--json", type=Path, help="write every record here at the end")
    parser.add_argument("--log", type=Path, help="append one JSON line per seed here")
    parser.add_argument(
        "--table-from", type=Path, nargs="+", help="print the table of --log files (by seed)"
    )
    args = parser.parse_args()
    if args.table_from:
        by_seed: dict[int, dict[str, Any]] = {}
        for path in args.table_from:
            for line in path.read_text().splitlines():
                if line.strip():
                    rec = json.loads(line)
                    by_seed[rec["seed"]] = rejudge(rec)
        for seed in sorted(by_seed):
            rec = by_seed[seed]
            for tool in TOOLS[:2]:
                diffs = rec["tools"].get(tool, {}).get("differences")
                if diffs:
                    print(f"seed {seed} ({','.join(rec['classes'])}) {tool}: {'; '.join(diffs)}")
        print()
        print(report([by_seed[s] for s in sorted(by_seed)]))
        print(f"\n{len(by_seed)} seeds, {min(by_seed, default=0)}..{max(by_seed, default=0)}")
        return
    if not 1 <= args.seeds <= 100_000 or args.start < 0:
        sys.exit("oracle_bench: --seeds 1..100000 and --start >= 0")
    if os.geteuid() != 0:
        sys.exit("oracle_bench: needs root (network namespaces, raw sockets): run with sudo")
    started = time.monotonic()
    records = []
    for seed in range(args.start, args.start + args.seeds):
        rec = one_seed(seed, args.timeout, args.family)
        records.append(rec)
        bad = [tool for tool, c in rec["tools"].items() if c["differences"]]
        print(f"seed {seed} {','.join(rec['classes'])}: disagree {bad or 'none'}", flush=True)
        if args.log:
            with args.log.open("a") as f:
                f.write(json.dumps(rec) + "\n")
    print()
    print(report(records))
    print(f"\n{time.monotonic() - started:.0f} s in all; load average {os.getloadavg()[0]:.1f}")
    if args.json:
        args.json.write_text(json.dumps(records, indent=2))


if __name__ == "__main__":
    main()
