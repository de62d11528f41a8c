"""How ``jumbopath mesh`` grows with the number of hosts (needs root: builds a lab).

For 4, 8, 12 and 16 hosts on one switch (one network, MTU 9000), with a real
sshd on each and the controller in its own namespace, runs the whole
``jumbopath mesh`` command three times and prints the median wall time::

    ctl ─┐
    h1 ──┤
    ...  sw   (every port 9000)
    hN ──┘

    sudo python bench/mesh_bench.py            # 4 8 12 16
    sudo python bench/mesh_bench.py 12 --runs 5
    sudo python bench/mesh_bench.py 12 --agent both   # jumbopath on every host, then none

``--agent ping`` makes every host agentless (``agent: ping``: nothing
installed there, its own iputils ping driven over one SSH connection);
``both`` runs each size both ways, side by side in one run. ``--hog N`` keeps
N busy loops running during the timed runs (started and killed by the
benchmark), for a machine under load. The sshds run with the distribution's
defaults (``MaxSessions 10``, ``MaxStartups 10:30:100``, ``StrictModes yes``).

Each run's cells are counted three ways: right (``ok`` at 9000: every link is
9000), wrong (any other measured finding: a made-up MTU, a loss, an
unreachable) and unmeasured (an error cell that says why). ``--keep DIR``
keeps every run's JSON document there.

Targets: 12 hosts (132 ordered pairs) in at most 10 s with jumbopath on every
host; agentless, all 132 pairs right in every run, each within 15 s; under a
hog of two busy loops, no internal error (exit 4) and no wrong cell.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "lab"))

from sshlab import REMOTE_COMMAND, SshLab  # noqa: E402

from jumbopath.lab import Host, Lab, Link, Switch, Topology  # noqa: E402


def topology(n: int) -> Topology:
    hosts = [f"h{i}" for i in range(1, n + 1)]
    nodes: list[Host | Switch] = [Host("ctl"), *(Host(h) for h in hosts), Switch("sw")]
    links = [Link("ctl", "sw", 9000, 9000)] + [Link(h, "sw", 9000, 9000) for h in hosts]
    return Topology(tuple(nodes), tuple(links))


@dataclass(frozen=True)
class Row:
    """One size's measurements."""

    agent: str
    hosts: int
    pairs: int
    ok: int
    times: list[float]
    exits: list[int]
    lab_s: float
    right: list[int]
    """Cells ok at 9000, per run."""
    wrong: list[int]
    """Measured cells that are not ok at 9000, per run."""
    unmeasured: list[int]
    """Error and not-measured cells, per run."""

    @property
    def median_s(self) -> float:
        return statistics.median(self.times)


def count(doc: dict[str, Any]) -> tuple[int, int, int]:
    """(right, wrong, unmeasured) cells of one mesh document (every link is 9000)."""
    cells = [c for net in doc["networks"] for c in net["cells"]]
    right = sum(c["status"] == "ok" and c["path_mtu"] == 9000 for c in cells)
    unmeasured = sum(c["status"] in ("error", "not-measured") for c in cells)
    return right, len(cells) - right - unmeasured, unmeasured


def bench(
    n: int, runs: int, tmp: Path, agent: str, keep: Path | None = None, loops: int = 0
) -> Row:
    hosts = [f"h{i}" for i in range(1, n + 1)]
    t0 = time.monotonic()
    with Lab(topology(n)) as lab, SshLab(lab, hosts) as ssh:
        build_s = time.monotonic() - t0
        inv = tmp / f"mesh{n}-{agent}.yml"
        inv.write_text(
            f"defaults: {{user: root, agent: {agent}, command: {json.dumps(REMOTE_COMMAND)}}}\n"
            "hosts:\n"
            + "".join(f"  {h}: {{ssh: {ssh.addr(h)}}}\n" for h in hosts)
            + "networks:\n  storage:\n    mtu: 9000\n    hosts:\n"
            + "".join(f"      {h}: {ssh.addr(h)}\n" for h in hosts)
        )
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        argv = [sys.executable, "-m", "jumbopath", "mesh", str(inv)]
        argv += ["--ssh-config", str(ssh.config), "--json", "--concurrency", str(max(16, n))]
        times: list[float] = []
        codes: list[int] = []
        counts: list[tuple[int, int, int]] = []
        with hog(loops):
            for run in range(runs):
                start = time.monotonic()
                r = lab.run("ctl", argv, timeout=300, env=env)
                times.append(time.monotonic() - start)
                codes.append(r.returncode)
                if keep is not None:
                    (keep / f"mesh{n}-{agent}-{run + 1}.json").write_text(r.stdout)
                    (keep / f"mesh{n}-{agent}-{run + 1}.err").write_text(r.stderr)
                counts.append(count(json.loads(r.stdout)) if r.stdout else (0, 0, n * (n - 1)))
                print(
                    f"    run {run + 1}: {times[-1]:.2f} s, exit {r.returncode}, right "
                    f"{counts[-1][0]}, wrong {counts[-1][1]}, unmeasured {counts[-1][2]}",
                    file=sys.stderr,
                )
    right, wrong, unmeasured = ([c[i] for c in counts] for i in range(3))
    return Row(agent, n, n * (n - 1), min(right), times, codes, build_s, right, wrong, unmeasured)


@contextmanager
def hog(loops: int) -> Iterator[None]:
    """``loops`` busy loops (one process each) while the block runs; killed after it."""
    procs = [
        subprocess.Popen(
            ["sh", "-c", "while :; do :; done"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(loops)
    ]
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[4, 8, 12, 16])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--agent", choices=("jumbopath", "ping", "both"), default="jumbopath")
    parser.add_argument("--hog", type=int, default=0, help="busy loops during the runs (0..8)")
    parser.add_argument("--keep", type=Path, default=None, help="keep each run's JSON here")
    args = parser.parse_args()
    agents = ["jumbopath", "ping"] if args.agent == "both" else [args.agent]
    if os.geteuid() != 0:
        sys.exit("mesh_bench: needs root (it builds network namespaces): run with sudo")
    if any(not 2 <= n <= 32 for n in args.sizes) or not 1 <= args.runs <= 10:
        sys.exit("mesh_bench: sizes 2..32, runs 1..10")
    if not 0 <= args.hog <= 8:
        sys.exit("mesh_bench: --hog 0..8")
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
    import tempfile

    rows = []
    with tempfile.TemporaryDirectory(prefix="jumbopath-meshbench-") as tmp:
        for n in args.sizes:
            for agent in agents:
                rows.append(bench(n, args.runs, Path(tmp), agent, args.keep, args.hog))
                print(
                    f"  {n} hosts ({agent}) done: median {rows[-1].median_s:.2f} s",
                    file=sys.stderr,
                )
    hogged = f", {args.hog} busy loop(s) running" if args.hog else ""
    print(f"\njumbopath mesh, one network at 9000, {args.runs} runs (whole command){hogged}")
    print(
        f"{'agent':>9} {'hosts':>5} {'pairs':>5} {'right':>11} {'wrong':>5} {'unmeas':>6} "
        f"{'median s':>9} {'min s':>7} {'max s':>7} {'ms/pair':>8} {'exits':>10}"
    )
    for r in rows:
        all_right = sum(x == r.pairs for x in r.right)
        print(
            f"{r.agent:>9} {r.hosts:>5} {r.pairs:>5} {f'{all_right}/{len(r.right)} runs':>11} "
            f"{sum(r.wrong):>5} {sum(r.unmeasured):>6} {r.median_s:>9.2f} {min(r.times):>7.2f} "
            f"{max(r.times):>7.2f} {1000 * r.median_s / r.pairs:>8.1f} "
            f"{','.join(map(str, r.exits)):>10}"
        )
    for r in rows:
        if r.hosts != 12:
            continue
        if args.hog:
            crashed = sum(code == 4 for code in r.exits)
            verdict = "meets" if not crashed and not sum(r.wrong) else "misses"
            print(
                f"12 hosts ({r.agent}) under load: {crashed} internal error(s), "
                f"{sum(r.wrong)} wrong cell(s) in {len(r.exits)} runs: {verdict} the target."
            )
            continue
        limit = 10 if r.agent == "jumbopath" else 15
        every = all(x == r.pairs for x in r.right)
        slow = r.median_s if r.agent == "jumbopath" else max(r.times)
        verdict = "meets" if slow <= limit and every else "misses"
        right = "all pairs right in every run" if every else f"right {r.right}"
        print(f"12 hosts ({r.agent}): {slow:.2f} s, {right}: {verdict} the {limit} s target.")


if __name__ == "__main__":
    main()
