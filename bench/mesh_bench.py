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
``both`` runs each size both ways, side by side in one run.

Targets: 12 hosts (132 ordered pairs) in at most 10 s with jumbopath on every
host; agentless, all 132 pairs right within 20 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

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

    @property
    def median_s(self) -> float:
        return statistics.median(self.times)


def bench(n: int, runs: int, tmp: Path, agent: str) -> Row:
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
        times: list[float] = []
        codes: list[int] = []
        ok_cells = 0
        for _ in range(runs):
            start = time.monotonic()
            r = lab.run(
                "ctl",
                [
                    sys.executable,
                    "-m",
                    "jumbopath",
                    "mesh",
                    str(inv),
                    "--ssh-config",
                    str(ssh.config),
                    "--json",
                    "--concurrency",
                    str(max(16, n)),
                ],
                timeout=300,
                env=env,
            )
            times.append(time.monotonic() - start)
            codes.append(r.returncode)
            if r.stdout:
                doc = json.loads(r.stdout)
                ok_cells = sum(c["status"] == "ok" for net in doc["networks"] for c in net["cells"])
    return Row(agent, n, n * (n - 1), ok_cells, times, sorted(set(codes)), build_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[4, 8, 12, 16])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--agent", choices=("jumbopath", "ping", "both"), default="jumbopath")
    args = parser.parse_args()
    agents = ["jumbopath", "ping"] if args.agent == "both" else [args.agent]
    if os.geteuid() != 0:
        sys.exit("mesh_bench: needs root (it builds network namespaces): run with sudo")
    if any(not 2 <= n <= 32 for n in args.sizes) or not 1 <= args.runs <= 10:
        sys.exit("mesh_bench: sizes 2..32, runs 1..10")
    import tempfile

    rows = []
    with tempfile.TemporaryDirectory(prefix="jumbopath-meshbench-") as tmp:
        for n in args.sizes:
            for agent in agents:
                rows.append(bench(n, args.runs, Path(tmp), agent))
                print(
                    f"  {n} hosts ({agent}) done: median {rows[-1].median_s:.2f} s",
                    file=sys.stderr,
                )
    print(f"\njumbopath mesh, one network at 9000, median of {args.runs} runs (whole command)")
    print(
        f"{'agent':>9} {'hosts':>5} {'pairs':>5} {'ok':>5} {'median s':>9} {'min s':>7} "
        f"{'max s':>7} {'ms/pair':>8} {'exit':>5}"
    )
    for r in rows:
        print(
            f"{r.agent:>9} {r.hosts:>5} {r.pairs:>5} {r.ok:>5} {r.median_s:>9.2f} "
            f"{min(r.times):>7.2f} {max(r.times):>7.2f} {1000 * r.median_s / r.pairs:>8.1f} "
            f"{','.join(map(str, r.exits)):>5}"
        )
    for r in rows:
        if r.hosts == 12:
            limit = 10 if r.agent == "jumbopath" else 20
            right = "all pairs right" if r.ok == r.pairs else f"{r.ok} of {r.pairs} pairs right"
            verdict = "meets" if r.median_s <= limit and r.ok == r.pairs else "misses"
            print(
                f"12 hosts ({r.agent}): {r.median_s:.2f} s, {right}: "
                f"{verdict} the {limit} s target."
            )


if __name__ == "__main__":
    main()
