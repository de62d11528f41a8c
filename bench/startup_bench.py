#!/usr/bin/env python3
"""Benchmark the start-up of the ``jumbopath`` command, and what each command imports.

Five commands, each timed as a whole process inside a lab namespace (the
``src`` host of a clean 9000 path through one router, built for the run and
always torn down):

* ``jumbopath --help``
* ``jumbopath check --help``
* ``jumbopath sizes 9000``
* ``jumbopath nics`` (the namespace's own interfaces: lo and one veth at 9000)
* ``jumbopath check --expect 9000 ADDR`` (``dst``: a clean 9000 path, exit 0)

Every ``--at REV`` (repeatable) is exported with ``git archive`` and measured
side by side in the same run, the order of the versions rotating from run to
run; without ``--at`` the working tree is measured, and ``--path DIR`` adds
any folder holding a ``jumbopath`` package (a patched copy, say). Each
version's bytecode is compiled first, as installing it does. For every
command and version it reports the median (and fastest) wall time and the median CPU time
of ``--runs`` runs (default 7), then, from as many more runs under
``python -X importtime``, how many modules the command loaded, their summed
import time, which packages cost the most, and whether it loaded scapy,
psutil, PyYAML, the check pipeline, the mesh package or anything Prometheus.

Run as root from the repository root::

    python3 bench/startup_bench.py --at a018f75 --at HEAD [--runs N] [--json FILE]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    REPO,
    check_lab_address,
    environment,
    fmt_s,
    git_commit,
    git_dirty,
    jumbopath_argv,
    median,
    missing_programs,
    require_root,
    settle,
    snapshot,
    table,
)

if TYPE_CHECKING:
    from jumbopath.lab import Lab

EXPECT = 9000
"""The MTU the timed check expects (the lab's path carries it)."""
DEFAULT_RUNS = 7
DEFAULT_SETTLE_S = 5.0
NODE = "src"
"""The lab host every command runs on."""

# Runs one command (argv as JSON in argv[1], cap in argv[2]) and prints its
# wall time, CPU time, exit status and output as JSON. It runs inside the lab
# namespace, so the time covers the command alone: neither ``ip netns exec``
# nor this timer's own start-up.
TIMER = r"""
import json, resource, subprocess, sys, time
argv, cap = json.loads(sys.argv[1]), float(sys.argv[2])
ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
t0 = time.perf_counter()
try:
    p = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=cap)
    rc, out, err, capped = p.returncode, p.stdout, p.stderr, False
except subprocess.TimeoutExpired as e:
    rc, out, err, capped = None, "", "", True
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (ru.ru_utime - ru0.ru_utime) + (ru.ru_stime - ru0.ru_stime)
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "rc": rc, "timed_out": capped,
                  "stdout": out[-4000:], "stderr": err}))
"""

NOTABLE = (
    ("scapy", "scapy"),
    ("psutil", "psutil"),
    ("yaml", "yaml"),
    ("pipeline", "jumbopath.pipeline"),
    ("nics", "jumbopath.nics"),
    ("mesh", "jumbopath.mesh"),
)
"""(label, module): modules worth naming when a command loads them."""


@dataclass(frozen=True, slots=True)
class Command:
    """One command line to time."""

    key: str
    """Short name for tables and ``--commands``."""
    args: Callable[[str], list[str]]
    """The arguments after ``jumbopath``, given the lab's ``dst`` address."""
    ok: tuple[int, ...]
    """Exit statuses that mean it worked."""


COMMANDS = (
    Command("--help", lambda addr: ["--help"], (0,)),
    Command("check --help", lambda addr: ["check", "--help"], (0,)),
    Command("sizes 9000", lambda addr: ["sizes", "9000"], (0,)),
    # 1: a configuration problem found (none expected in the lab; either is a clean run).
    Command("nics", lambda addr: ["nics"], (0, 1)),
    Command("check ADDR", lambda addr: ["check", "--expect", str(EXPECT), addr], (0,)),
)
COMMAND_KEYS = tuple(c.key for c in COMMANDS)


@dataclass(frozen=True, slots=True)
class Code:
    """One version of jumbopath being measured."""

    label: str
    """How tables name it (the revision as given, and its short hash)."""
    path: Path
    """Folder holding that version's ``jumbopath`` package (first on PYTHONPATH)."""
    commit: str | None
    """Full commit hash (None: the working tree)."""
    temporary: bool
    """Whether ``path`` is an export this benchmark removes."""

    def env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(self.path)}


@dataclass(slots=True)
class Run:
    """One run of one command with one version."""

    command: str
    code: str
    run: int
    wall_s: float | None
    cpu_s: float | None
    rc: int | None
    timed_out: bool
    idle: float | None
    """Idle share of the machine's CPUs just before the run."""
    importtime: bool = False
    """Whether it ran under ``python -X importtime`` (not counted for wall time)."""
    modules: int | None = None
    """importtime runs: modules loaded by the process (start-up included)."""
    import_ms: float | None = None
    """importtime runs: summed self time of every import, milliseconds."""
    by_package: dict[str, float] = field(default_factory=dict)
    """importtime runs: import milliseconds per top-level package."""
    loaded: list[str] = field(default_factory=list)
    """importtime runs: every module loaded, in order."""
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------
# Running


def _command_argv(args: Sequence[str], importtime: bool) -> list[str]:
    """How to start jumbopath with ``args`` (optionally under ``-X importtime``)."""
    argv = jumbopath_argv()
    if not importtime:
        return [*argv, *args]
    if argv[0] == sys.executable:  # python -m jumbopath
        return [sys.executable, "-X", "importtime", *argv[1:], *args]
    return [sys.executable, "-X", "importtime", argv[0], *args]  # the console script


def _timed(lab: Lab, argv: Sequence[str], env: dict[str, str], timeout_s: float) -> dict[str, Any]:
    """Run ``argv`` on the lab host through :data:`TIMER`; its JSON report."""
    done = lab.run(
        NODE,
        [sys.executable, "-c", TIMER, json.dumps(list(argv)), str(timeout_s)],
        timeout=timeout_s + 30,
        env=env,
        cwd="/",  # not a checkout: nothing before PYTHONPATH on sys.path
    )
    try:
        rec: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        rec = {"wall_s": None, "cpu_s": None, "rc": None, "timed_out": False, "stdout": ""}
        rec["stderr"] = f"timer failed (exit {done.returncode}): {done.stderr[-600:]}"
    return rec


def parse_importtime(stderr: str) -> tuple[list[str], float, dict[str, float]]:
    """(modules in load order, summed self time in ms, ms per top-level package)
    from ``python -X importtime`` output; other stderr lines are ignored."""
    names: list[str] = []
    total_us = 0
    per: dict[str, float] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line[len("import time:") :].split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue  # the header line
        self_us, name = int(parts[0]), parts[2].strip()
        names.append(name)
        total_us += self_us
        top = name.split(".")[0]
        per[top] = per.get(top, 0.0) + self_us / 1000
    return names, total_us / 1000, per


def one_run(
    lab: Lab,
    cmd: Command,
    code: Code,
    addr: str,
    i: int,
    importtime: bool,
    timeout_s: float,
    settle_s: float,
) -> Run:
    idle = settle(settle_s) if settle_s > 0 else None
    rec = _timed(lab, _command_argv(cmd.args(addr), importtime), code.env(), timeout_s)
    run = Run(
        cmd.key,
        code.label,
        i,
        rec["wall_s"],
        rec["cpu_s"],
        rec["rc"],
        bool(rec["timed_out"]),
        idle,
        importtime=importtime,
    )
    if run.timed_out:
        run.notes.append(f"killed at the {timeout_s:g} s cap")
    elif run.rc not in cmd.ok:
        run.notes.append(f"exit {run.rc}: {rec['stderr'][-300:].strip()}")
    if importtime:
        run.loaded, run.import_ms, run.by_package = parse_importtime(rec["stderr"])
        run.modules = len(run.loaded)
        if not run.loaded:
            run.notes.append("no importtime lines")
    return run


def _where(lab: Lab, code: Code) -> str:
    """The folder the measured commands import jumbopath from (checked, not assumed)."""
    done = lab.run(
        NODE,
        [sys.executable, "-c", "import jumbopath; print(jumbopath.__file__)"],
        env=code.env(),
        cwd="/",
    )
    found = Path(done.stdout.strip()).resolve().parent.parent
    if done.returncode != 0 or found != code.path.resolve():
        raise SystemExit(
            f"{code.label}: jumbopath imports from {done.stdout.strip() or done.stderr.strip()}, "
            f"not from {code.path}"
        )
    return str(found)


def bench(
    labmod: ModuleType,
    codes: Sequence[Code],
    cmds: Sequence[Command],
    runs: int,
    timeout_s: float,
    settle_s: float,
) -> dict[str, Any]:
    out: dict[str, Any] = {"runs": [], "imported_from": {}}
    with labmod.Lab(labmod.chain(1)) as lab:
        addr = check_lab_address(lab.addr("dst", 4))
        out["address"] = addr
        for code in codes:
            out["imported_from"][code.label] = _where(lab, code)
        # Untimed: one run of everything loads every file into the page cache.
        for code in codes:
            for cmd in cmds:
                _timed(lab, _command_argv(cmd.args(addr), False), code.env(), timeout_s)
        for importtime in (False, True):
            for i in range(1, runs + 1):
                k = (i - 1) % len(codes)
                for cmd in cmds:
                    for code in [*codes[k:], *codes[:k]]:
                        r = one_run(lab, cmd, code, addr, i, importtime, timeout_s, settle_s)
                        _progress(r, runs)
                        out["runs"].append(asdict(r))
    return out


def _progress(r: Run, runs: int) -> None:
    what = (
        f"{r.modules} modules {r.import_ms:.0f} ms imports"
        if r.importtime and r.import_ms is not None
        else f"{fmt_s(r.wall_s, 3)} (cpu {fmt_s(r.cpu_s, 3)})"
    )
    notes = f" ({'; '.join(r.notes)})" if r.notes else ""
    print(
        f"  [{r.command}] {'importtime ' if r.importtime else ''}run {r.run}/{runs} "
        f"{r.code:<16} {what}{notes}",
        file=sys.stderr,
        flush=True,
    )


# ---------------------------------------------------------------------------
# Summaries


def _loads(loaded: Sequence[str]) -> str:
    names = set(loaded)
    found = [
        label for label, mod in NOTABLE if any(n == mod or n.startswith(mod + ".") for n in names)
    ]
    found += ["prometheus"] if any("prometheus" in n.lower() for n in names) else []
    return " ".join(found) or "-"


def summarize(results: dict[str, Any], codes: Sequence[Code], cmds: Sequence[Command]) -> None:
    rows = []
    for cmd in cmds:
        for code in codes:
            rs = [r for r in results["runs"] if (r["command"], r["code"]) == (cmd.key, code.label)]
            timed = [r for r in rs if not r["importtime"] and not r["notes"]]
            imp = [r for r in rs if r["importtime"] and r["import_ms"] is not None]
            per: dict[str, list[float]] = {}
            for r in imp:
                for pkg, ms in r["by_package"].items():
                    per.setdefault(pkg, []).append(ms)
            # a package missing from a run counted as 0 there
            per_med = {p: median(v + [0.0] * (len(imp) - len(v))) or 0.0 for p, v in per.items()}
            last = imp[-1]["loaded"] if imp else []
            rows.append(
                {
                    "command": cmd.key,
                    "code": code.label,
                    "runs": len(timed),
                    "failed": len([r for r in rs if r["notes"]]),
                    "median_wall_s": median([r["wall_s"] for r in timed]),
                    "min_wall_s": min((r["wall_s"] for r in timed), default=None),
                    "median_cpu_s": median([r["cpu_s"] for r in timed]),
                    "median_idle": median([r["idle"] for r in timed]),
                    "modules": median([r["modules"] for r in imp]),
                    "jumbopath_modules": sorted(m for m in last if m.split(".")[0] == "jumbopath"),
                    "median_import_ms": median([r["import_ms"] for r in imp]),
                    "import_ms_by_package": dict(sorted(per_med.items(), key=lambda kv: -kv[1])),
                    "loads": _loads(last),
                }
            )
    results["summary"] = rows


def report(results: dict[str, Any]) -> str:
    rows = results["summary"]
    lines = [
        "Whole process (medians; wall = start to exit of the command alone; "
        "idle = the CPUs' idle share just before a run)"
    ]
    lines.append(
        table(
            ["command", "code", "wall", "fastest", "cpu", "idle", "modules", "imports", "loads"],
            [
                [
                    s["command"],
                    s["code"],
                    fmt_s(s["median_wall_s"], 3),
                    fmt_s(s["min_wall_s"], 3),
                    fmt_s(s["median_cpu_s"], 3),
                    "-" if s["median_idle"] is None else f"{100 * s['median_idle']:.0f}%",
                    "-" if s["modules"] is None else f"{s['modules']:.0f}",
                    "-" if s["median_import_ms"] is None else f"{s['median_import_ms']:.0f} ms",
                    s["loads"],
                ]
                for s in rows
            ],
            right=(2, 3, 4, 5, 6, 7),
        )
    )
    lines.append("")
    lines.append("Import time by package (median ms under -X importtime; the 5 largest)")
    lines.append(
        table(
            ["command", "code", "jumbopath modules", "largest"],
            [
                [
                    s["command"],
                    s["code"],
                    str(len(s["jumbopath_modules"])),
                    ", ".join(
                        f"{p} {ms:.0f}" for p, ms in list(s["import_ms_by_package"].items())[:5]
                    ),
                ]
                for s in rows
            ],
            right=(2,),
        )
    )
    odd = [
        f"  {r['command']} {r['code']} run {r['run']}"
        f"{' (importtime)' if r['importtime'] else ''}: {'; '.join(r['notes'])}"
        for r in results["runs"]
        if r["notes"]
    ]
    if odd:
        lines += ["", "Runs left out (failed or capped):", *odd]
    return "\n".join(lines)


# ---------------------------------------------------------------------------


def _codes(revs: Sequence[str], paths: Sequence[str]) -> list[Code]:
    """The versions to measure; exports are made here and removed by the caller."""
    codes = []
    if not revs and not paths:
        commit = git_commit()
        dirty = git_dirty()
        label = "tree" + (f" {commit[:7]}" if commit else "") + ("+" if dirty else "")
        codes.append(Code(label, REPO, None, False))
    for rev in revs:
        path, commit = snapshot(rev)
        label = rev if commit.startswith(rev) else f"{rev} {commit[:7]}"
        codes.append(Code(label, path, commit, True))
    for folder in paths:
        path = Path(folder).resolve()
        if not (path / "jumbopath" / "__init__.py").is_file():
            raise SystemExit(f"--path {folder}: no jumbopath package in that folder")
        codes.append(Code(f"path {path.name}", path, None, False))
    return codes


def compile_bytecode(code: Code) -> None:
    """Write the bytecode of ``code``'s package, as installing it would: a
    fresh export has none, and with PYTHONDONTWRITEBYTECODE set every run
    would otherwise compile every module again."""
    done = subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(code.path / "jumbopath")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{code.label}: compileall failed: {done.stdout}{done.stderr}")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--at",
        metavar="REV",
        action="append",
        default=[],
        help="measure jumbopath as committed at REV (repeatable: side by side); "
        "default: the working tree",
    )
    ap.add_argument(
        "--path",
        metavar="DIR",
        action="append",
        default=[],
        help="also measure the jumbopath package in DIR (e.g. a patched copy; repeatable)",
    )
    ap.add_argument(
        "--runs", type=int, default=DEFAULT_RUNS, help="runs per command and version (1..100)"
    )
    ap.add_argument(
        "--commands",
        default=",".join(COMMAND_KEYS),
        help=f"comma list out of: {','.join(COMMAND_KEYS)}",
    )
    ap.add_argument("--json", metavar="FILE", help="write the raw numbers to FILE")
    ap.add_argument(
        "--timeout", type=float, default=60.0, help="cap per command run, seconds (default 60)"
    )
    ap.add_argument(
        "--settle",
        type=float,
        default=DEFAULT_SETTLE_S,
        help="before each run wait up to this many seconds for the CPUs to be half idle "
        "(0: do not wait; default %(default)g)",
    )
    args = ap.parse_args(argv)
    if not 1 <= args.runs <= 100:
        ap.error("--runs must be 1..100")
    if not 1 <= args.timeout <= 600:
        ap.error("--timeout must be 1..600 seconds")
    if not 0 <= args.settle <= 600:
        ap.error("--settle must be 0..600 seconds")
    keys = [k.strip() for k in args.commands.split(",") if k.strip()]
    bad = [k for k in keys if k not in COMMAND_KEYS]
    if bad:
        ap.error(f"unknown commands: {', '.join(bad)}")
    if len(set(args.at)) != len(args.at):
        ap.error("each --at REV once")
    cmds = [c for c in COMMANDS if c.key in keys]
    require_root()
    missing = missing_programs(["ip"])
    if missing:
        print("missing program ip: apt-get install -y iproute2", file=sys.stderr)
        return 3

    # The lab comes from this checkout; only the measured commands use the
    # versions under test (through PYTHONPATH).
    sys.path.insert(0, str(REPO))
    labmod = importlib.import_module("jumbopath.lab")
    codes = _codes(args.at, args.path)
    try:
        for code in codes:
            compile_bytecode(code)
        started = time.monotonic()
        results: dict[str, Any] = {
            "args": vars(args),
            "codes": [{"label": c.label, "commit": c.commit, "path": str(c.path)} for c in codes],
            "environment": environment(),
            "commands": {c.key: ["jumbopath", *c.args("ADDR")] for c in cmds},
        }
        results.update(bench(labmod, codes, cmds, args.runs, args.timeout, args.settle))
        results["bench_s"] = time.monotonic() - started
    finally:
        for c in codes:
            if c.temporary:
                shutil.rmtree(c.path, ignore_errors=True)
    summarize(results, codes, cmds)
    env = results["environment"]
    print(
        f"\njumbopath start-up benchmark, {args.runs} runs each, kernel {env['kernel']}, "
        f"{env['cpus']} CPU(s), Python {env['python']}, {env['time']}\n"
        f"started as: {' '.join(jumbopath_argv())} (PYTHONPATH = the version measured)\n"
        f"versions: " + ", ".join(f"{c.label} = {c.commit or str(c.path)}" for c in codes)
    )
    print(report(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"\nraw numbers: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
