"""``mesh --dry-run`` and ``report --dry-run``: the plan, in memory linear in hosts.

A mesh of N hosts has N x (N - 1) paths; a 10,000-host inventory (the most
an inventory may hold) or a result file naming 4,096 targets must plan well
within 300 MB, and the plan says exactly what would be checked.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from jumbopath.mesh import document
from jumbopath.mesh.inventory import Network, load_inventory
from jumbopath.mesh.plan import MAX_PATHS, HostPlan, NetworkPlan, mesh_plan, too_many_paths
from jumbopath.status import ExitCode

REPO = Path(__file__).resolve().parents[2]
MAX_RSS_MB = 300


def addr(i: int, third: int = 0) -> str:
    return f"198.{18 + (i >> 16)}.{(i >> 8) & 255 | third}.{i & 255}"


def big_inventory(path: Path, n: int) -> Path:
    hosts = "".join(f"  h{i}: {{ssh: {addr(i)}}}\n" for i in range(n))
    members = "".join(f"      h{i}: {addr(i)}\n" for i in range(n))
    path.write_text(f"hosts:\n{hosts}networks:\n  storage:\n    mtu: 9000\n    hosts:\n{members}")
    return path


def run_measured(*args: str) -> tuple[int, dict[str, Any], int]:
    """(exit status, JSON printed, peak RSS in MiB) of ``jumbopath ARGS`` in a child."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024\n"
        "sys.stderr.write(done.stderr)\n"
        "print(done.returncode, peak)\n"
        "print(done.stdout)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", wrapper, sys.executable, "-m", "jumbopath", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    head, _, body = done.stdout.partition("\n")
    rc, peak = (int(x) for x in head.split())
    assert rc == 0, done.stderr
    return rc, json.loads(body), peak


def test_plan_counts_paths_and_targets_per_host(tmp_path: Path) -> None:
    inv = tmp_path / "inv.yml"
    inv.write_text(
        "hosts:\n  a: {ssh: 198.18.0.1}\n  b: {ssh: 198.18.0.2, agent: ping}\n"
        "  c: {ssh: 198.18.0.3}\n  idle: {ssh: 198.18.0.9}\n"
        "networks:\n"
        "  storage: {mtu: 9000, hosts: {a: 198.18.1.1, b: 198.18.1.2, c: 198.18.1.3}}\n"
        "  backup: {mtu: 1500, hosts: {a: 198.18.2.1, c: 198.18.2.3}}\n"
    )
    plan = mesh_plan(load_inventory(inv))
    assert plan.networks == (NetworkPlan("storage", 9000, 3, 6), NetworkPlan("backup", 1500, 2, 2))
    assert plan.paths == 8
    assert plan.hosts == (
        HostPlan("a", "198.18.0.1", "jumbopath", ("storage", "backup"), 3),
        HostPlan("b", "198.18.0.2", "ping", ("storage",), 2),
        HostPlan("c", "198.18.0.3", "jumbopath", ("storage", "backup"), 3),
    )  # idle is in no network: no session


def test_mesh_dry_run_of_10000_hosts_stays_small(tmp_path: Path) -> None:
    inv = big_inventory(tmp_path / "inv.yml", 10_000)
    rc, doc, peak = run_measured("mesh", str(inv), "--dry-run", "--json")
    assert rc == ExitCode.OK
    assert doc["kind"] == "jumbopath-mesh-plan" and doc["paths"] == 10_000 * 9_999
    assert len(doc["hosts"]) == 10_000 and doc["hosts"][-1]["targets"] == 9_999
    assert peak < MAX_RSS_MB, peak


def test_report_dry_run_of_a_4096_host_network_stays_small(tmp_path: Path) -> None:
    targets = {f"h{i}": addr(i, 1) for i in range(1, 4096)}
    net = {"name": "storage", "mtu": 9000, "targets": targets, "rc": 3, "check": None}
    source = tmp_path / "h0.json"
    source.write_text(json.dumps({"schema": 1, "host": "h0", "networks": [net]}))
    rc, doc, peak = run_measured("report", str(source), "--dry-run", "--json")
    assert doc["paths"] == 4096 * 4095
    files = {h["name"]: h["file"] for h in doc["hosts"]}
    assert len(files) == 4096 and files["h0"] == str(source)
    assert sum(f is None for f in files.values()) == 4095
    assert peak < MAX_RSS_MB, peak


def _network(n: int) -> Network:
    return Network("storage", 9000, tuple((f"h{i}", addr(i)) for i in range(n)))


def test_the_paths_limit_is_one_network_of_1000_hosts() -> None:
    assert MAX_PATHS == 1_000_000
    assert too_many_paths([_network(1000)]) is None  # 999,000 paths
    assert too_many_paths([_network(1001)]) == NetworkPlan("storage", 9000, 1001, 1_001_000)


def test_a_matrix_too_large_to_hold_is_refused_at_once(tmp_path: Path) -> None:
    """A 100 KB file naming 4,096 targets: 16.7 million paths, not a MemoryError later."""
    targets = {f"h{i}": addr(i, 1) for i in range(1, 4096)}
    net = {"name": "storage", "mtu": 9000, "targets": targets, "rc": 3, "check": None}
    source = tmp_path / "h0.json"
    source.write_text(json.dumps({"schema": 1, "host": "h0", "networks": [net]}))
    done = subprocess.run(
        [sys.executable, "-m", "jumbopath", "report", str(source), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == ExitCode.USAGE, done.stderr[-500:]
    assert len(done.stderr.strip().splitlines()) == 1 and done.stdout == ""
    assert "16773120 paths" in done.stderr


def test_the_json_is_written_as_it_is_made_and_reads_the_same() -> None:
    doc = {"schema": 1, "cells": [{"source": f"h{i}", "x": "y" * 100} for i in range(2000)]}
    out = io.StringIO()
    document.dump(doc, out)
    assert out.getvalue() == document.dumps(doc)  # the same text, in 64 KiB writes
