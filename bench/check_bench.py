#!/usr/bin/env python3
"""Benchmark ``jumbopath check`` beside the system's own tools on real namespace labs.

For each scenario a lab is built (and always torn down), warmed, and then, in
every run, four methods find the path MTU from ``src`` to ``dst``:

* ``jumbopath check --expect 9000 ADDR --json`` (whole-process time, its own
  probing time ``elapsed_s``, ``probes_sent``, ``path_mtu``);
* the by-hand method: a DF bisection with ``ping -M do -s N -c 1 -W 1`` between
  68 and 9000, one ping at a time, as an admin's shell script does;
* ``tracepath -n ADDR`` (iputils), its ``pmtu N``;
* ``scamper -c "trace -M" -i ADDR``, the MTU on the destination's hop.

The order of the four rotates from run to run, and the prober's cached path
MTUs are flushed before every tool run, so no tool inherits another's PTB.
Every tool run is capped (``--timeout``); a capped run counts as a timeout.
A scale scenario checks 50 hosts on one switch in one ``jumbopath`` call.

Run as root::

    python3 bench/check_bench.py [--runs N] [--json FILE]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    Timed,
    apt_hint,
    bisect_argv,
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
    parse_bisect,
    parse_scamper,
    parse_tracepath,
    require_root,
    run_timed,
    snapshot,
    table,
)

if TYPE_CHECKING:
    from jumbopath.lab import Lab, Topology

# Set by main() once it knows which jumbopath code to measure (see --at).
LAB: ModuleType
JP_ENV: dict[str, str] | None = None
DEFAULT_SETTLE_S = 10.0
SETTLE_S = DEFAULT_SETTLE_S
"""Before each timed run, wait at most this long for a quiet machine (--settle)."""

EXPECT = 9000
"""The MTU every check expects (a jumbo-frame network)."""

# The speed targets for ``jumbopath check`` (issue 2, "Speed").
TARGET_PROBE_S = 0.5
"""Exact verdict with at most this much probing (``elapsed_s``), per target."""
TARGET_WHOLE_S = 1.5
"""Whole process, start-up included, one target."""
TARGET_PROBES = 40
"""Probe packets per target on a loss-free path."""
TARGET_SCALE_S = 3.0
"""Whole process for ``SCALE_TARGETS`` targets on one lab."""
SCALE_TARGETS = 50

TOOLS = ("jumbopath", "ping-bisect", "tracepath", "scamper")
TOOL_PROGRAMS = {
    "jumbopath": [],
    "ping-bisect": ["ping", "sh"],
    "tracepath": ["tracepath"],
    "scamper": ["scamper"],
}


@dataclass(frozen=True, slots=True)
class Scenario:
    """One lab and the path MTU from ``src`` to ``dst`` that is true on it."""

    key: str
    title: str
    build: Callable[[ModuleType], Topology]
    """Builds the topology from the ``jumbopath.lab`` module."""
    truth: int


SCENARIOS = (
    Scenario("clean", "clean 9000 path through one router", lambda lab: lab.chain(1), 9000),
    Scenario(
        "switch-1500",
        "access-switch port at 1500 on the destination side (silent drop)",
        lambda lab: lab.chain(1, mtus={("sw-dst", "dst"): 1500}),
        1500,
    ),
    Scenario(
        "router-1500-ptb",
        "router egress at 1500, sends fragmentation-needed",
        lambda lab: lab.chain(1, mtus={("r1", "sw-dst"): 1500}),
        1500,
    ),
    Scenario(
        "router-1500-noptb",
        "router egress at 1500, PTB suppressed (black hole)",
        lambda lab: lab.chain(1, mtus={("r1", "sw-dst"): 1500}, faults=(lab.NoPTB("r1"),)),
        1500,
    ),
    Scenario(
        "router-8950",
        "odd MTU 8950 on the router egress",
        lambda lab: lab.chain(1, mtus={("r1", "sw-dst"): 8950}),
        8950,
    ),
)
SCENARIO_KEYS = tuple(s.key for s in SCENARIOS) + ("scale",)


@dataclass(slots=True)
class Run:
    """One tool run on one scenario."""

    scenario: str
    tool: str
    run: int
    wall_s: float
    """Whole process, seconds."""
    mtu: int | None
    """Path MTU the tool reported (None: none)."""
    correct: bool
    timed_out: bool
    rc: int | None
    cpu_s: float | None = None
    """CPU seconds the whole process used (user + system)."""
    load1: float | None = None
    """1-minute load average of the machine when the run started."""
    idle: float | None = None
    """Idle share of the machine's CPUs just before the run."""
    probe_s: float | None = None
    """jumbopath: its own probing time (``elapsed_s``)."""
    probes: int | None = None
    """jumbopath: ``probes_sent`` (every stage); ping-bisect: pings run."""
    search_probes: int | None = None
    """jumbopath: probes of the path MTU search alone (its ``search`` stage)."""
    status: str | None = None
    """jumbopath: the verdict (ok, below, unreachable, error)."""
    notes: list[str] = field(default_factory=list)
    raw: Any = None
    """jumbopath: its result record; other tools: their output."""


def _new_run(sc: Scenario, tool: str, i: int, t: Timed, mtu: int | None, correct: bool) -> Run:
    return Run(
        sc.key,
        tool,
        i,
        t.wall_s,
        mtu,
        correct,
        t.timed_out,
        t.rc,
        cpu_s=t.cpu_s,
        load1=t.load1,
        idle=t.idle,
    )


def _tail(text: str, n: int = 600) -> str:
    return text if len(text) <= n else "..." + text[-n:]


# ---------------------------------------------------------------------------
# One run of each tool


def _search_probes(res: dict[str, Any]) -> int | None:
    """Probes of the MTU search stage; the rest locate the break and its direction."""
    for stage in res.get("stages") or ():
        if stage.get("name") == "search":
            return int(stage["probes"])
    return res.get("probes_sent")


def run_jumbopath(lab: Lab, sc: Scenario, addr: str, i: int, timeout_s: float) -> Run:
    argv = [*jumbopath_argv(), "check", "--expect", str(EXPECT), addr, "--json"]
    t = run_timed(lab, "src", argv, timeout_s, env=JP_ENV, settle_s=SETTLE_S)
    want_status = "ok" if sc.truth >= EXPECT else "below"
    want_rc = 0 if want_status == "ok" else 1
    run = _new_run(sc, "jumbopath", i, t, None, False)
    if t.timed_out:
        run.notes.append(f"killed at the {timeout_s:g} s cap")
        run.raw = {"stdout": _tail(t.stdout), "stderr": _tail(t.stderr)}
        return run
    try:
        results = json.loads(t.stdout)["results"]
        res = next(r for r in results if r.get("address") == addr or r.get("target") == addr)
    except (ValueError, KeyError, StopIteration, TypeError):
        run.notes.append(f"no JSON result for {addr} (exit {t.rc})")
        run.raw = {"stdout": _tail(t.stdout), "stderr": _tail(t.stderr)}
        return run
    run.mtu = res.get("path_mtu")
    run.probe_s = res.get("elapsed_s")
    run.probes = res.get("probes_sent")
    run.search_probes = _search_probes(res)
    run.status = res.get("status")
    run.correct = run.mtu == sc.truth and run.status == want_status
    if t.rc != want_rc:
        run.notes.append(f"exit {t.rc}, expected {want_rc}")
    run.raw = res
    return run


def run_bisect(lab: Lab, sc: Scenario, addr: str, fam: int, i: int, timeout_s: float) -> Run:
    t = run_timed(lab, "src", bisect_argv(addr, fam, high=EXPECT), timeout_s, settle_s=SETTLE_S)
    mtu, pings = parse_bisect(t.stdout)
    run = _new_run(sc, "ping-bisect", i, t, mtu, mtu == sc.truth)
    run.probes = pings
    run.raw = {"stdout": _tail(t.stdout), "stderr": _tail(t.stderr)}
    if t.timed_out:
        run.notes.append(f"killed at the {timeout_s:g} s cap")
    return run


def run_tracepath(lab: Lab, sc: Scenario, addr: str, i: int, timeout_s: float) -> Run:
    t = run_timed(lab, "src", ["tracepath", "-n", addr], timeout_s, settle_s=SETTLE_S)
    mtu = None if t.timed_out else parse_tracepath(t.stdout)
    run = _new_run(sc, "tracepath", i, t, mtu, mtu == sc.truth)
    run.raw = {"stdout": _tail(t.stdout, 4000), "stderr": _tail(t.stderr)}
    if t.timed_out:
        run.notes.append(f"killed at the {timeout_s:g} s cap")
    return run


def run_scamper(lab: Lab, sc: Scenario, addr: str, i: int, timeout_s: float) -> Run:
    argv = ["scamper", "-c", "trace -M", "-i", addr]
    t = run_timed(lab, "src", argv, timeout_s, settle_s=SETTLE_S)
    mtu = None if t.timed_out else parse_scamper(t.stdout, addr)
    run = _new_run(sc, "scamper", i, t, mtu, mtu == sc.truth)
    run.raw = {"stdout": _tail(t.stdout, 4000), "stderr": _tail(t.stderr)}
    if t.timed_out:
        run.notes.append(f"killed at the {timeout_s:g} s cap")
    return run


def _progress(r: Run, runs: int) -> None:
    verdict = "TIMEOUT" if r.timed_out else ("ok" if r.correct else "WRONG")
    extra = f" probing {r.probe_s:.3f}s" if r.probe_s is not None else ""
    extra += f" probes {r.probes}" if r.probes is not None else ""
    notes = f" ({'; '.join(r.notes)})" if r.notes else ""
    print(
        f"  [{r.scenario}] run {r.run}/{runs} {r.tool:<11} {r.wall_s:7.2f}s "
        f"(cpu {r.cpu_s:.2f}s, load {r.load1:.1f}, idle {_pct(r.idle)}) "
        f"mtu {r.mtu}{extra} {verdict}{notes}",
        file=sys.stderr,
        flush=True,
    )


def bench_scenario(
    sc: Scenario, tools: Sequence[str], runs: int, fam: int, timeout_s: float
) -> dict[str, Any]:
    print(f"== {sc.key}: {sc.title} (true path MTU {sc.truth})", file=sys.stderr, flush=True)
    out: dict[str, Any] = {"key": sc.key, "title": sc.title, "truth": sc.truth, "runs": []}
    with LAB.Lab(sc.build(LAB)) as lab:
        addr = check_lab_address(lab.addr("dst", fam))
        out.update(address=addr, build_s=lab.build_s, unwarmed=[list(p) for p in lab.unwarmed])
        # Warm-up, not timed: a small echo, one throwaway check (loads Python's
        # files into the page cache), and each tool's binary.
        run_timed(lab, "src", ["ping", "-c", "1", "-W", "1", addr], 10)
        if "jumbopath" in tools:
            run_timed(lab, "src", [*jumbopath_argv(), "check", addr, "--json"], timeout_s, JP_ENV)
        for prog in ("tracepath", "scamper"):
            if prog in tools:
                run_timed(lab, "src", [prog, "-V" if prog == "tracepath" else "-v"], 10)
        for i in range(1, runs + 1):
            k = (i - 1) % len(tools)
            for tool in [*tools[k:], *tools[:k]]:
                lab.flush_pmtu("src")
                if tool == "jumbopath":
                    r = run_jumbopath(lab, sc, addr, i, timeout_s)
                elif tool == "ping-bisect":
                    r = run_bisect(lab, sc, addr, fam, i, timeout_s)
                elif tool == "tracepath":
                    r = run_tracepath(lab, sc, addr, i, timeout_s)
                else:
                    r = run_scamper(lab, sc, addr, i, timeout_s)
                _progress(r, runs)
                out["runs"].append(asdict(r))
    return out


def bench_scale(runs: int, fam: int, timeout_s: float, targets: int) -> dict[str, Any]:
    print(
        f"== scale: {targets} targets on one switch, checked from h1 at once",
        file=sys.stderr,
        flush=True,
    )
    out: dict[str, Any] = {"key": "scale", "targets": targets, "truth": EXPECT, "runs": []}
    with LAB.Lab(LAB.star(targets + 1)) as lab:
        addrs = [check_lab_address(lab.addr(f"h{i}", fam)) for i in range(2, targets + 2)]
        out.update(build_s=lab.build_s, unwarmed=[list(p) for p in lab.unwarmed])
        argv = [*jumbopath_argv(), "check", "--expect", str(EXPECT), *addrs, "--json"]
        run_timed(lab, "h1", argv, timeout_s, JP_ENV)  # throwaway
        for i in range(1, runs + 1):
            lab.flush_pmtu("h1")
            t = run_timed(lab, "h1", argv, timeout_s, JP_ENV, settle_s=SETTLE_S)
            rec, results = check_record(t, i)
            by_addr = {r.get("address"): r for r in results}
            missing = [a for a in addrs if a not in by_addr]
            wrong = [
                r
                for a, r in by_addr.items()
                if a in addrs and (r.get("path_mtu") != EXPECT or r.get("status") != "ok")
            ]
            rec.update(
                results=len(results),
                correct=len(addrs) - len(missing) - len(wrong),
                missing=missing,
                wrong=wrong,  # full records, evidence included
                max_probes=max((r.get("probes_sent") or 0 for r in results), default=None),
                max_probe_s=max((r.get("elapsed_s") or 0.0 for r in results), default=None),
                per_target=[
                    {
                        "address": r.get("address"),
                        "path_mtu": r.get("path_mtu"),
                        "status": r.get("status"),
                        "probes_sent": r.get("probes_sent"),
                        "elapsed_s": r.get("elapsed_s"),
                    }
                    for r in results
                ],
            )
            if t.rc != 0:
                rec["notes"].append(f"exit {t.rc}, expected 0")
            print(
                f"  [scale] run {i}/{runs} {t.wall_s:6.2f}s (cpu {t.cpu_s:.2f}s, "
                f"load {t.load1:.1f}, idle {_pct(t.idle)}) correct {rec['correct']}/{targets} "
                f"max probes {rec['max_probes']} max probing {rec['max_probe_s']}"
                f"{' (' + '; '.join(rec['notes']) + ')' if rec['notes'] else ''}",
                file=sys.stderr,
                flush=True,
            )
            out["runs"].append(rec)
    return out


# ---------------------------------------------------------------------------
# Summaries


def summarize(scen: dict[str, Any], tools: Sequence[str]) -> dict[str, dict[str, Any]]:
    summ: dict[str, dict[str, Any]] = {}
    for tool in tools:
        rs = [r for r in scen["runs"] if r["tool"] == tool]
        if not rs:
            continue
        summ[tool] = {
            "runs": len(rs),
            "correct": sum(r["correct"] for r in rs),
            "timeouts": sum(r["timed_out"] for r in rs),
            "found": fmt_counts([("timeout" if r["timed_out"] else r["mtu"]) for r in rs]),
            "median_wall_s": median([r["wall_s"] for r in rs]),
            "max_wall_s": max(r["wall_s"] for r in rs),
            "median_cpu_s": median([r["cpu_s"] for r in rs]),
            "median_load1": median([r["load1"] for r in rs]),
            "median_idle": median([r["idle"] for r in rs]),
            "median_probe_s": median([r["probe_s"] for r in rs]),
            "max_probe_s": max(
                (r["probe_s"] for r in rs if r["probe_s"] is not None), default=None
            ),
            "median_probes": median([r["probes"] for r in rs]),
            "max_probes": max((r["probes"] for r in rs if r["probes"] is not None), default=None),
            "max_search_probes": max(
                (r["search_probes"] for r in rs if r.get("search_probes") is not None),
                default=None,
            ),
        }
    return summ


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def _pm(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(results: dict[str, Any], tools: Sequence[str], runs: int, timeout_s: float) -> str:
    lines: list[str] = []
    rows = []
    for scen in results["scenarios"]:
        for tool, s in scen["summary"].items():
            probes = "-"
            if s["median_probes"] is not None:
                probes = f"{s['median_probes']:g} (max {s['max_probes']})"
            rows.append(
                [
                    scen["key"],
                    scen["truth"],
                    tool,
                    f"{s['correct']}/{s['runs']}",
                    s["found"],
                    fmt_s(s["median_wall_s"]),
                    fmt_s(s["median_cpu_s"]),
                    fmt_s(s["median_probe_s"], 3),
                    probes,
                    s["timeouts"] or "",
                    f"{s['median_load1']:.1f}",
                    _pct(s["median_idle"]),
                ]
            )
    lines.append(
        f"Side by side: median of {runs} run(s) per tool; wall = whole process "
        f"(start-up included); cpu = its user+system CPU time; probing = jumbopath's "
        f"elapsed_s; load = machine 1-min load average at start, idle = idle CPU share "
        f"just before; each run capped "
        f"at {timeout_s:g} s"
    )
    lines.append(
        table(
            [
                "scenario",
                "truth",
                "tool",
                "exact",
                "found (value x runs)",
                "wall",
                "cpu",
                "probing",
                "probes/pings",
                "timeouts",
                "load",
                "idle",
            ],
            rows,
            right=(1, 5, 6, 7, 10, 11),
        )
    )

    # jumbopath against its targets
    trows = []
    all_exact = True
    verdicts: dict[str, bool] = {}
    for scen in results["scenarios"]:
        s = scen["summary"].get("jumbopath")
        if not s:
            continue
        exact = s["correct"] == s["runs"]
        all_exact &= exact
        ok_probe = s["median_probe_s"] is not None and s["median_probe_s"] <= TARGET_PROBE_S
        ok_whole = s["median_wall_s"] is not None and s["median_wall_s"] <= TARGET_WHOLE_S
        search = s.get("max_search_probes")
        ok_probes = search is not None and search <= TARGET_PROBES
        verdicts[f"{scen['key']}:exact"] = exact
        verdicts[f"{scen['key']}:probing"] = ok_probe
        verdicts[f"{scen['key']}:whole"] = ok_whole
        verdicts[f"{scen['key']}:probes"] = ok_probes
        trows.append(
            [
                scen["key"],
                f"{s['correct']}/{s['runs']} {_pm(exact)}",
                f"{fmt_s(s['median_probe_s'], 3)} {_pm(ok_probe)}",
                f"{fmt_s(s['median_wall_s'])} {_pm(ok_whole)}",
                f"{search} {_pm(ok_probes)} ({s['max_probes']} in all)",
                "",
                fmt_s(s["median_cpu_s"]),
            ]
        )
    sc = results.get("scale")
    if sc and sc["runs"]:
        n = sc["targets"]
        walls = [r["wall_s"] for r in sc["runs"]]
        exact_runs = sum(r["correct"] == n for r in sc["runs"])
        exact = exact_runs == len(sc["runs"])
        mw = median(walls)
        maxp = max(
            (r["max_probes"] for r in sc["runs"] if r["max_probes"] is not None), default=None
        )
        slowest = median([r["max_probe_s"] for r in sc["runs"]])
        ok_scale = mw is not None and mw <= TARGET_SCALE_S
        ok_probes = maxp is not None and maxp <= TARGET_PROBES
        all_exact &= exact
        verdicts["scale:exact"] = exact
        verdicts["scale:whole"] = ok_scale
        verdicts["scale:probes"] = ok_probes
        sc["summary"] = {
            "runs": len(sc["runs"]),
            "exact_runs": exact_runs,
            "median_wall_s": mw,
            "max_wall_s": max(walls),
            "max_probes": maxp,
            "median_slowest_probe_s": slowest,
            "median_cpu_s": median([r["cpu_s"] for r in sc["runs"]]),
            "median_load1": median([r["load1"] for r in sc["runs"]]),
            "median_idle": median([r["idle"] for r in sc["runs"]]),
        }
        trows.append(
            [
                f"scale ({n} targets)",
                f"{exact_runs}/{len(sc['runs'])} runs all {n} {_pm(exact)}",
                f"{fmt_s(slowest, 3)} (slowest target)",
                "",
                f"{maxp} {_pm(ok_probes)}",
                f"{fmt_s(mw)} {_pm(ok_scale)}",
                fmt_s(sc["summary"]["median_cpu_s"]),
            ]
        )
    lines.append("")
    lines.append("jumbopath check against its targets (medians; probes = max over runs)")
    lines.append(
        table(
            [
                "scenario",
                "exact verdict",
                f"probing <= {TARGET_PROBE_S:g}s",
                f"whole <= {TARGET_WHOLE_S:g}s",
                f"search probes <= {TARGET_PROBES}",
                f"{SCALE_TARGETS} targets <= {TARGET_SCALE_S:g}s",
                "cpu (whole)",
            ],
            trows,
        )
    )
    results["verdicts"] = verdicts

    def group(suffix: str) -> str:
        vals = [v for k, v in verdicts.items() if k.endswith(suffix) and not k.startswith("scale")]
        return _pm(bool(vals) and all(vals))

    lines.append("")
    lines.append("Targets:")
    lines.append(f"  exact verdict in every run ..................... {_pm(all_exact)}")
    lines.append(
        f"  probing (elapsed_s) <= {TARGET_PROBE_S:g} s ................. {group(':probing')}"
    )
    lines.append(
        f"  whole process <= {TARGET_WHOLE_S:g} s ...................... {group(':whole')}"
    )
    probes_ok = group(":probes") == "PASS" and verdicts.get("scale:probes", True)
    lines.append(
        f"  <= {TARGET_PROBES} search probes per target (loss-free) ... {_pm(probes_ok)}"
        "  (locating the break and its direction adds more; see 'in all')"
    )
    if "scale:whole" in verdicts:
        lines.append(
            f"  {SCALE_TARGETS} targets <= {TARGET_SCALE_S:g} s ......................... "
            f"{_pm(verdicts['scale:whole'])}"
        )

    # Anything a reader must look at: wrong answers and odd exits.
    odd = []
    for scen in results["scenarios"]:
        for r in scen["runs"]:
            if r["tool"] == "jumbopath" and (not r["correct"] or r["notes"]):
                ev = r["raw"].get("evidence") if isinstance(r["raw"], dict) else None
                odd.append(
                    f"  jumbopath {scen['key']} run {r['run']}: expected {scen['truth']}, "
                    f"got {r['mtu']} status {r['status']} {'; '.join(r['notes'])}"
                    + (
                        f"\n    evidence: {json.dumps(ev)}"
                        if ev is not None and not r["correct"]
                        else ""
                    )
                )
    if sc:
        for r in sc["runs"]:
            if r["missing"] or r["wrong"] or r["notes"]:
                wrong = [(w.get("address"), w.get("path_mtu"), w.get("status")) for w in r["wrong"]]
                odd.append(
                    f"  jumbopath scale run {r['run']}: missing {r['missing']}, "
                    f"wrong {wrong} {'; '.join(r['notes'])}"
                )
    if odd:
        lines.append("")
        lines.append("jumbopath wrong answers / unexpected exits:")
        lines.extend(odd)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="runs per tool and scenario (1..100)")
    ap.add_argument("--json", metavar="FILE", help="write the raw numbers to FILE")
    ap.add_argument(
        "--timeout", type=float, default=120.0, help="cap per tool run, seconds (default 120)"
    )
    ap.add_argument(
        "--at",
        metavar="REV",
        help="measure jumbopath as committed at git revision REV (exported to a "
        "temporary folder) instead of the installed/working-tree code",
    )
    ap.add_argument(
        "--settle",
        type=float,
        default=DEFAULT_SETTLE_S,
        help="before each timed run wait up to this many seconds for the CPUs to be "
        "half idle (0: do not wait; default %(default)g)",
    )
    ap.add_argument("--family", type=int, choices=(4, 6), default=4, help="IPv4 (default) or IPv6")
    ap.add_argument("--tools", default=",".join(TOOLS), help=f"comma list out of {','.join(TOOLS)}")
    ap.add_argument(
        "--scenarios",
        default=",".join(SCENARIO_KEYS),
        help=f"comma list out of {','.join(SCENARIO_KEYS)}",
    )
    args = ap.parse_args(argv)
    if not 1 <= args.runs <= 100:
        ap.error("--runs must be 1..100")
    if not 1 <= args.timeout <= 600:
        ap.error("--timeout must be 1..600 seconds")
    if not 0 <= args.settle <= 600:
        ap.error("--settle must be 0..600 seconds")
    tools = [t for t in args.tools.split(",") if t]
    keys = [k for k in args.scenarios.split(",") if k]
    bad = [t for t in tools if t not in TOOLS] + [k for k in keys if k not in SCENARIO_KEYS]
    if bad:
        ap.error(f"unknown: {', '.join(bad)}")
    require_root()
    needed = ["ip", "nft"] + [p for t in tools for p in TOOL_PROGRAMS[t]]
    missing = missing_programs(needed)
    if missing:
        print(f"missing programs {missing}: {apt_hint(missing)}", file=sys.stderr)
        return 3

    global LAB, JP_ENV, SETTLE_S
    SETTLE_S = args.settle
    snap: Path | None = None
    code: dict[str, Any]
    if args.at:
        snap, commit = snapshot(args.at)
        sys.path.insert(0, str(snap))
        JP_ENV = {**os.environ, "PYTHONPATH": str(snap)}
        code = {"source": "commit", "commit": commit, "path": str(snap)}
    else:
        code = {"source": "installed", "commit": git_commit(), "tree_dirty": git_dirty()}
    try:
        LAB = importlib.import_module("jumbopath.lab")
        code["module"] = str(Path(importlib.import_module("jumbopath").__file__ or "").parent)
        return _bench(args, tools, keys, code)
    finally:
        if snap is not None:
            shutil.rmtree(snap, ignore_errors=True)


def _bench(
    args: argparse.Namespace, tools: list[str], keys: list[str], code: dict[str, Any]
) -> int:
    results: dict[str, Any] = {
        "code": code,
        "args": vars(args),
        "environment": environment(),
        "targets": {
            "probe_s": TARGET_PROBE_S,
            "whole_s": TARGET_WHOLE_S,
            "probes_per_target": TARGET_PROBES,
            "scale_targets": SCALE_TARGETS,
            "scale_whole_s": TARGET_SCALE_S,
        },
        "scenarios": [],
        "scale": None,
    }
    for sc in SCENARIOS:
        if sc.key in keys:
            scen = bench_scenario(sc, tools, args.runs, args.family, args.timeout)
            scen["summary"] = summarize(scen, tools)
            results["scenarios"].append(scen)
    if "scale" in keys and "jumbopath" in tools:
        results["scale"] = bench_scale(args.runs, args.family, args.timeout, SCALE_TARGETS)

    text = report(results, tools, args.runs, args.timeout)
    env = results["environment"]
    what = (
        f"commit {code['commit'][:12]}"
        if code["source"] == "commit"
        else f"{code['module']} (HEAD {str(code['commit'])[:12]}"
        + (", uncommitted changes)" if code.get("tree_dirty") else ")")
    )
    print(
        f"\njumbopath check benchmark, IPv{args.family}, kernel {env['kernel']}, "
        f"{env['cpus']} CPU(s), {env['time']}\njumbopath code measured: {what}"
    )
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"\nraw numbers: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
