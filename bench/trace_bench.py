#!/usr/bin/env python3
"""Benchmark ``jumbopath trace`` beside ``scamper trace -M`` and ``tracepath`` on real labs.

One namespace lab (the one of ``tests/lab/test_trace_lab.py``, always torn
down) is reconfigured for each scenario; in every run each tool traces from
``src`` to the scenario's target and its answer is scored: did it name the
right kind of break (``ptb`` / ``silent``) at the right place (the hop big
packets still reach, and the next one)? Times are whole processes, including
``ip netns exec``.

* ``jumbopath trace --json --expect 9000 ADDR``: ``break.kind/after/before``.
* ``scamper -I "trace -M ADDR"`` (Debian's scamper; its ``-c ... -i`` form
  fails inside a namespace here): the per-hop ``[mtu: N]`` of its PMTUD; the
  first hop whose MTU drops is ``before``, the hop in front of it ``after``;
  ``*mtu`` (inferred from silence) means silent, a plain ``mtu`` a PTB.
* ``tracepath -n -m 8 ADDR`` (iputils; at most 8 hops, the lab has 4): the
  hop whose line first reports a smaller ``pmtu`` (a PTB it received);
  tracepath cannot see silent drops.

Seen here (Debian scamper 20211212): over IPv6 scamper gets no answer from
any hop inside the lab namespaces (every hop ``*``, 50 s), so its IPv6 rows
measure that, not its PMTUD.

The probing namespace's cached path MTUs are flushed before every run, the
order of the tools rotates, and runs are spaced (``--gap``) so routers' ICMP
rate-limit budgets are not left empty by the previous tool. Every run is
capped (``--timeout``). Run as root::

    python3 bench/trace_bench.py [--runs 5] [--other-runs 3] [--only NAME] [--json FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "lab"))

from test_trace_lab import TOPOLOGY, UPLINK  # noqa: E402

from jumbopath.lab import Fault, Lab, NoPTB, NoTimeExceeded  # noqa: E402

Verdict = tuple[str | None, str | None, str | None]  # kind, after, before


@dataclass(frozen=True)
class Scenario:
    """One fault and what a correct answer names."""

    name: str
    target: str
    family: int
    mtus: Mapping[tuple[str, str], int]
    faults: tuple[Fault, ...]
    kind: str
    after: str  # node whose address big packets still reach
    before: str  # next node (target or router)
    what: str


SCENARIOS = (
    Scenario(
        "access-1r",
        "h1",
        4,
        {("sw12", "h1"): 1500},
        (),
        "silent",
        "r1",
        "h1",
        "access port 1500, one router away",
    ),
    Scenario(
        "bridge-4000",
        "dst",
        4,
        {("sw12", "r2"): 4000},
        (),
        "silent",
        "r1",
        "r2",
        "bridge port 4000 between r1 and r2",
    ),
    Scenario(
        "egress-ptb",
        "dst",
        4,
        {("r3", "sw3"): 1500},
        (),
        "ptb",
        "r3",
        "dst",
        "last router egress 1500, sends PTB",
    ),
    Scenario(
        "egress-blackhole",
        "dst",
        4,
        {("r3", "sw3"): 1500},
        (NoPTB("r3"),),
        "silent",
        "r3",
        "dst",
        "last router egress 1500, no PTB",
    ),
    Scenario(
        "access-3r",
        "dst",
        4,
        {("sw3", "dst"): 1500},
        (),
        "silent",
        "r3",
        "dst",
        "access port 1500, three routers away",
    ),
    Scenario(
        "no-te-middle",
        "dst",
        4,
        {("r3", "sw3"): 1500},
        (NoPTB("r3"), NoTimeExceeded("r2")),
        "silent",
        "r3",
        "dst",
        "r2 sends no time-exceeded; r3 black hole",
    ),
    Scenario(
        "v6-ptb",
        "dst",
        6,
        {("r3", "sw3"): 1500},
        (),
        "ptb",
        "r3",
        "dst",
        "IPv6: last router egress 1500, PTB",
    ),
    Scenario(
        "v6-bridge-4000",
        "dst",
        6,
        {("sw12", "r2"): 4000},
        (),
        "silent",
        "r1",
        "r2",
        "IPv6: bridge port 4000 between r1 and r2",
    ),
)


@dataclass
class Run:
    tool: str
    wall_s: float
    timed_out: bool
    verdict: Verdict
    correct: bool
    kind_ok: bool


@dataclass
class Cell:
    runs: list[Run] = field(default_factory=list)


# --------------------------------------------------------------------------
# running


def run_capped(lab: Lab, argv: Sequence[str], timeout_s: float) -> tuple[str, float, bool]:
    """Run inside ``src``; kill the whole process group at the cap."""
    t0 = time.perf_counter()
    p = lab.popen(
        "src",
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        out, _ = p.communicate(timeout=timeout_s)
        return out, time.perf_counter() - t0, False
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate(timeout=5)
        return out or "", time.perf_counter() - t0, True


def jumbopath_verdict(out: str) -> Verdict:
    try:
        doc = json.loads(out)
        b = doc["results"][0]["break"] or {}
    except (ValueError, KeyError, IndexError, TypeError):
        return (None, None, None)
    return (b.get("kind"), b.get("after"), b.get("before"))


_SCAMPER_HOP = re.compile(r"^\s*(\d+)\s+(\S+)\s.*\[(\*?)mtu: (\d+)\]")


def scamper_verdict(out: str) -> Verdict:
    previous: str | None = None
    last_mtu: int | None = None
    for line in out.splitlines():
        m = _SCAMPER_HOP.match(line)
        if not m:
            continue
        address, star, mtu = m.group(2), m.group(3), int(m.group(4))
        if last_mtu is not None and mtu < last_mtu:
            return ("silent" if star else "ptb", previous, address)
        previous, last_mtu = address, mtu
    return ("none", None, None) if last_mtu is not None else (None, None, None)


_TRACEPATH_HOP = re.compile(r"^\s*(\d+)\??:\s+(\S+)")


def tracepath_verdict(out: str) -> Verdict:
    """The line that first shows a smaller ``pmtu`` names the router that sent the
    PTB (``4:  198.18.3.3  0.03ms pmtu 1500``); the next address is ``before``."""
    hops = []
    for line in out.splitlines():
        m = _TRACEPATH_HOP.match(line)
        if m:
            pmtu = re.search(r"pmtu (\d+)", line)
            hops.append((m.group(2), int(pmtu.group(1)) if pmtu else None))
    first = next((p for _, p in hops if p is not None), None)
    for i, (address, pmtu) in enumerate(hops):
        if address != "[LOCALHOST]" and pmtu is not None and first is not None and pmtu < first:
            later = [a for a, _ in hops[i + 1 :] if a not in (address, "no")]
            return ("ptb", address, later[0] if later else None)
    return ("none", None, None)


def tools(addr: str, family: int) -> dict[str, tuple[list[str], Callable[[str], Verdict]]]:
    jp = [sys.executable, "-m", "jumbopath", "trace", "--json", f"-{family}", "--expect", "9000"]
    return {
        "jumbopath trace": ([*jp, addr], jumbopath_verdict),
        "scamper trace -M": (["scamper", "-I", f"trace -M {addr}"], scamper_verdict),
        "tracepath -n": (["tracepath", f"-{family}", "-n", "-m", "8", addr], tracepath_verdict),
    }


@contextlib.contextmanager
def applied(lab: Lab, sc: Scenario) -> Iterator[None]:
    old = {key: lab.mtu(*key) for key in sc.mtus}
    try:
        for (node, peer), mtu in sc.mtus.items():
            lab.set_mtu(node, peer, mtu)
        for fault in sc.faults:
            lab.add_fault(fault)
        yield
    finally:
        for fault in sc.faults:
            if fault in lab.faults:
                lab.remove_fault(fault)
        for (node, peer), mtu in old.items():
            lab.set_mtu(node, peer, mtu)


def address_of(lab: Lab, node: str, family: int) -> str:
    if node in UPLINK:
        return lab.addr(node, family, peer=UPLINK[node])  # type: ignore[arg-type]
    return lab.addr(node, family)  # type: ignore[arg-type]


def bench(args: argparse.Namespace) -> dict[str, dict[str, Cell]]:
    cells: dict[str, dict[str, Cell]] = {}
    chosen = [s for s in SCENARIOS if not args.only or s.name in args.only]
    with Lab(TOPOLOGY) as lab:
        for sc in chosen:
            addr = address_of(lab, sc.target, sc.family)
            want = (
                sc.kind,
                address_of(lab, sc.after, sc.family),
                address_of(lab, sc.before, sc.family),
            )
            row = cells[sc.name] = {}
            with applied(lab, sc):
                available = tools(addr, sc.family)
                names = list(available)
                for i in range(max(args.runs, args.other_runs)):
                    order = names[i % len(names) :] + names[: i % len(names)]
                    for name in order:
                        runs = args.runs if name == "jumbopath trace" else args.other_runs
                        if i >= runs or shutil.which(available[name][0][0]) is None:
                            continue
                        argv, parse = available[name]
                        for node in ("src", "r1", "r2", "r3"):
                            lab.flush_pmtu(node)
                        time.sleep(args.gap)
                        out, wall, capped = run_capped(lab, argv, args.timeout)
                        got = parse(out)
                        run = Run(name, wall, capped, got, got == want, got[0] == want[0])
                        row.setdefault(name, Cell()).runs.append(run)
                        mark = "ok" if run.correct else f"WRONG {got}"
                        print(f"  {sc.name:16} {name:17} {wall:6.2f}s {mark}", flush=True)
    return cells


def median(xs: Sequence[float]) -> float | None:
    return statistics.median(xs) if xs else None


def report(cells: dict[str, dict[str, Cell]]) -> str:
    names = ["jumbopath trace", "scamper trace -M", "tracepath -n"]
    head = ["scenario", "what"] + [f"{n} (correct, median s)" for n in names]
    rows = []
    for sc in SCENARIOS:
        if sc.name not in cells:
            continue
        row = [sc.name, sc.what]
        for n in names:
            cell = cells[sc.name].get(n)
            if cell is None or not cell.runs:
                row.append("-")
                continue
            ok = sum(r.correct for r in cell.runs)
            med = median([r.wall_s for r in cell.runs])
            capped = sum(r.timed_out for r in cell.runs)
            row.append(
                f"{ok}/{len(cell.runs)} {med:.2f}s" + (f" ({capped} capped)" if capped else "")
            )
        rows.append(row)
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in [head, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="jumbopath runs per scenario")
    parser.add_argument("--other-runs", type=int, default=3, help="scamper/tracepath runs")
    parser.add_argument("--timeout", type=float, default=120.0, help="cap per tool run, s")
    parser.add_argument("--gap", type=float, default=2.0, help="pause before every run, s")
    parser.add_argument("--only", nargs="*", help="scenario names")
    parser.add_argument("--json", type=Path, help="write raw runs here")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("trace_bench: needs root (network namespaces, raw sockets): run with sudo")
    missing = [p for p in ("scamper", "tracepath") if shutil.which(p) is None]
    if missing:
        print(
            f"note: {', '.join(missing)} not installed (apt-get install scamper iputils-tracepath)"
        )
    started = time.monotonic()
    cells = bench(args)
    print()
    print(report(cells))
    print(f"\n{time.monotonic() - started:.0f} s in all; load average {os.getloadavg()[0]:.1f}")
    if args.json:
        raw = {
            s: {t: [r.__dict__ for r in c.runs] for t, c in row.items()} for s, row in cells.items()
        }
        args.json.write_text(json.dumps(raw, indent=2))


if __name__ == "__main__":
    main()
