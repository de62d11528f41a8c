"""Agentless hosts against sshd at its distribution defaults, idle and under load.

Every host is ``agent: ping``: its own iputils ping, driven over one SSH
ControlMaster connection, against an sshd with ``MaxSessions 10``,
``MaxStartups 10:30:100`` and ``StrictModes yes``::

            swm (management, every port 1500)
     ctl ──┬─────┬─────┬─────┐
           a1    a2    a3    a4
           └──┬──┴─────┴─────┘
             sw   (storage, every port 9000 but a4's at 1500)

The truth follows from the topology alone: a pair with a4 carries 1500
(1504: a veth takes 4 bytes more, LAB-NOTES), every other pair 9000. Under
a CPU hog (two busy loops, started and killed here) a cell may be left
unmeasured with its reason, never wrong, and the run never crashes (exit 4).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jumbopath.lab import Host, Lab, Link, Switch, Topology

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sshlab import REPO, SshLab, tools_missing  # noqa: E402

pytestmark = pytest.mark.lab

HOSTS = ["a1", "a2", "a3", "a4"]
NARROW = "a4"


def topology() -> Topology:
    nodes: list[Host | Switch] = [Host("ctl"), *(Host(h) for h in HOSTS)]
    nodes += [Switch("swm"), Switch("sw")]
    links = [Link("ctl", "swm", 1500, 1500)]
    links += [Link(h, "swm", 1500, 1500) for h in HOSTS]
    links += [Link(h, "sw", 9000, 1500 if h == NARROW else 9000) for h in HOSTS]
    return Topology(tuple(nodes), tuple(links))


def truth(src: str, dst: str) -> set[tuple[str, int]]:
    """What a right cell says, from the topology alone."""
    if NARROW in (src, dst):
        return {("below", 1500), ("below", 1504)}
    return {("ok", 9000)}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, SshLab, Path]]:
    if os.geteuid() != 0:
        pytest.fail("the agentless lab needs root (network namespaces)")
    missing = tools_missing()
    if missing:
        pytest.fail(f"install openssh-server and openssh-client (missing: {', '.join(missing)})")
    with Lab(topology()) as lab, SshLab(lab, HOSTS, peer="swm") as ssh:
        inv = tmp_path_factory.mktemp("agentless") / "inv.yml"
        inv.write_text(
            "defaults: {user: root, agent: ping}\nhosts:\n"
            + "".join(f"  {h}: {{ssh: {ssh.addr(h)}}}\n" for h in HOSTS)
            + "networks:\n  storage:\n    mtu: 9000\n    hosts:\n"
            + "".join(f"      {h}: {lab.addr(h, 4, peer='sw')}\n" for h in HOSTS)
        )
        yield lab, ssh, inv


def mesh(lab: Lab, ssh: SshLab, inv: Path) -> tuple[int, dict[str, Any], str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    argv = [sys.executable, "-m", "jumbopath", "mesh", str(inv), "--ssh-config", str(ssh.config)]
    r = lab.run("ctl", [*argv, "--json"], timeout=240, env=env)
    return r.returncode, json.loads(r.stdout) if r.stdout.strip() else {}, r.stderr


def sshd_logs(ssh: SshLab) -> str:
    return "".join((ssh.dir / f"sshd_{h}.log").read_text(errors="replace") for h in HOSTS)


def judged(doc: dict[str, Any]) -> tuple[list[Any], list[Any], list[Any]]:
    """(right, wrong, unmeasured) cells against the topology's truth."""
    right, wrong, unmeasured = [], [], []
    rows = {r["host"]: r for net in doc["networks"] for r in net["rows"]}
    for c in (c for net in doc["networks"] for c in net["cells"]):
        if c["status"] in ("error", "not-measured"):
            unmeasured.append((c, c["error"] or (rows[c["source"]]["error"] or {}).get("kind")))
        elif (c["status"], c["path_mtu"]) in truth(c["source"], c["destination"]):
            right.append(c)
        else:
            wrong.append(c)
    return right, wrong, unmeasured


def test_stock_sshd_every_cell_right_and_no_session_refused(
    env: tuple[Lab, SshLab, Path],
) -> None:
    lab, ssh, inv = env
    before = sshd_logs(ssh)
    rc, doc, err = mesh(lab, ssh, inv)
    assert rc == 1, err[-2000:]  # the pairs with a4 carry 1500
    right, wrong, unmeasured = judged(doc)
    assert (len(right), wrong, unmeasured) == (12, [], [])
    assert {h["via"] for h in doc["hosts"]} == {"ping over ssh"}
    # No session channel was refused (sshd: "no more sessions" past MaxSessions).
    assert "no more sessions" not in sshd_logs(ssh)[len(before) :]


def test_under_a_cpu_hog_no_crash_and_no_wrong_cell(env: tuple[Lab, SshLab, Path]) -> None:
    lab, ssh, inv = env
    hogs = [
        subprocess.Popen(["sh", "-c", "while :; do :; done"], stdin=subprocess.DEVNULL)
        for _ in range(2)
    ]
    try:
        rc, doc, err = mesh(lab, ssh, inv)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait(timeout=10)
    assert rc != 4, err[-2000:]
    assert doc, err[-2000:]
    right, wrong, unmeasured = judged(doc)
    assert wrong == []
    assert all(reason for _, reason in unmeasured), unmeasured  # each says why
    assert len(right) + len(unmeasured) == 12
    assert rc == (1 if any(NARROW in (c["source"], c["destination"]) for c in right) else 3)
