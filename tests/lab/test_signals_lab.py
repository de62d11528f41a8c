"""SIGTERM ends jumbopath quickly and leaves no process behind, whatever it started.

Every process jumbopath starts inherits a marker in its environment, so the
processes it left (reparented to init once it is gone) can still be found::

    ctl ──┐
    n1  ──┼── sw (every port 9000)      sshd on n1 and n2
    n2  ──┘

Runs are stopped mid-way with SIGTERM: ``check --via ping`` (a round of
ping shells), ``watch --inventory`` (ssh sessions running remote checks)
and agentless hosts under ``mesh`` and ``watch`` (ControlMasters and their
socket folders), with jumbopath's stdout a pipe a caller reads to its end. Each must exit with
128 + 15 within a few seconds, close its stdout, and leave no marked
process and no ``jumbopath-ssh-*`` folder.
"""

from __future__ import annotations

import glob
import ipaddress
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from jumbopath.lab import Host, Lab, Link, Switch, Topology

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sshlab import REMOTE_COMMAND, REPO, SshLab, tools_missing  # noqa: E402

pytestmark = pytest.mark.lab

NODES = ["n1", "n2"]
EXIT_S = 10.0
"""Generous bound on SIGTERM to a clean exit (a loaded machine); measured well under it."""


@pytest.fixture(scope="module")
def env() -> Iterator[tuple[Lab, SshLab]]:
    if os.geteuid() != 0:
        pytest.fail("the signal lab needs root (network namespaces)")
    missing = tools_missing()
    if missing:
        pytest.fail(f"install openssh-server and openssh-client (missing: {', '.join(missing)})")
    topo = Topology(
        (Host("ctl"), *(Host(n) for n in NODES), Switch("sw")),
        tuple(Link(n, "sw", 9000, 9000) for n in ["ctl", *NODES]),
    )
    with Lab(topo) as lab, SshLab(lab, NODES) as ssh:
        yield lab, ssh


def marked(token: str) -> list[tuple[int, str]]:
    """(pid, command) of every process whose environment carries the marker."""
    needle = f"JP_SIGNAL_TEST={token}".encode()
    found = []
    for entry in glob.glob("/proc/[0-9]*"):
        try:
            with open(f"{entry}/environ", "rb") as f:
                if needle not in f.read().split(b"\0"):
                    continue
            with open(f"{entry}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        found.append((int(entry.rsplit("/", 1)[1]), command))
    return found


def inventory(lab: Lab, ssh: SshLab, path: Path, agent: str | None = None) -> Path:
    extra = ', agent: ping, command: "/nonexistent/bin/jumbopath"' if agent else ""
    hosts = "".join(f"  {n}: {{ssh: {ssh.addr(n)}{extra}}}\n" for n in NODES)
    members = "".join(f"      {n}: {lab.addr(n, 4)}\n" for n in NODES)
    path.write_text(
        f"defaults:\n  user: root\n  command: {json.dumps(REMOTE_COMMAND)}\n"
        f"hosts:\n{hosts}networks:\n  storage:\n    mtu: 9000\n    hosts:\n{members}"
    )
    return path


def stop_mid_run(
    lab: Lab, node: str, args: list[str], started: str, least: int, sig: int = signal.SIGTERM
) -> float:
    """Run jumbopath until ``least`` marked processes with ``started`` in their command
    line run, signal it; return seconds from the signal to exit with stdout closed."""
    token = uuid.uuid4().hex
    tmp = tempfile.mkdtemp(prefix="jp-signal-")  # where this run's socket folders go
    env = {**os.environ, "PYTHONPATH": str(REPO), "JP_SIGNAL_TEST": token, "TMPDIR": tmp}
    proc = lab.popen(
        node,
        [sys.executable, "-m", "jumbopath", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    eof = threading.Event()

    def drain() -> None:  # a caller reading jumbopath's output to its end
        assert proc.stdout is not None
        while proc.stdout.read(65536):
            pass
        eof.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while sum(started in cmd for _, cmd in marked(token)) < least:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, f"no {started} started: {marked(token)}"
            time.sleep(0.05)
        sent = time.monotonic()
        proc.send_signal(sig)
        rc = proc.wait(timeout=30)
        assert eof.wait(timeout=30), "stdout stayed open after jumbopath ended"
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = proc.stderr.read().decode()
    time.sleep(0.2)  # the kernel finishes reaping
    assert marked(token) == [], "left running"
    assert os.listdir(tmp) == [], "socket folders left"
    os.rmdir(tmp)
    assert rc == 128 + sig, err
    assert took < EXIT_S, took
    return took


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_check_via_ping_leaves_no_ping(env: tuple[Lab, SshLab], sig: signal.Signals) -> None:
    lab, _ = env
    # A silent address beside n2 keeps the check probing until it is signalled (a clean
    # path alone can end first: the soak stops as soon as it has proved the path clean).
    silent = str(ipaddress.ip_address(lab.addr("n2", 4)) + 200)
    args = ["check", lab.addr("n2", 4), silent, "--via", "ping", "--expect", "9000"]
    took = stop_mid_run(lab, "n1", args, "ping", 5, sig)
    print(f"check --via ping: {sig.name} to a clean exit in {took:.2f} s")


def test_watch_inventory_leaves_no_ssh(env: tuple[Lab, SshLab], tmp_path: Path) -> None:
    lab, ssh = env
    inv = inventory(lab, ssh, tmp_path / "inv.yml")
    args = ["watch", "--inventory", str(inv), "--ssh-config", str(ssh.config)]
    took = stop_mid_run(lab, "ctl", args, "ssh", 2)
    print(f"watch --inventory: SIGTERM to a clean exit in {took:.2f} s")


@pytest.mark.parametrize("command", [["mesh", "--json"], ["watch", "--inventory"]])
def test_agentless_hosts_leave_no_control_master(
    env: tuple[Lab, SshLab], tmp_path: Path, command: list[str]
) -> None:
    lab, ssh = env
    inv = inventory(lab, ssh, tmp_path / "inv.yml", agent="ping")
    args = [*command, str(inv), "--ssh-config", str(ssh.config)]
    took = stop_mid_run(lab, "ctl", args, "-M -S", 2)
    print(f"agentless {command[0]}: SIGTERM to a clean exit in {took:.2f} s")
