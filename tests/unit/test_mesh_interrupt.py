"""Ctrl-C, SIGTERM and crashes during ``jumbopath mesh``: it stops at once and leaves no ssh behind.

A stand-in ``ssh`` (first on PATH) runs the remote script here with ``sh``;
hosts named ``slow*`` first sleep for a minute (in a child process, as a
real session's remote command would run). Every process the run starts
inherits a unique marker in its environment, so /proc shows whether any of
them outlived the run.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from jumbopath.mesh.inventory import Inventory, MeshHost, Network
from jumbopath.mesh.runs import ErrorKind, HostRun
from jumbopath.mesh.ssh import SshOptions, fan_out

REPO = Path(__file__).resolve().parents[2]

CHECK = r"""
import json, sys
args = sys.argv[1:]
expect = int(args[3])
targets = [a for a in args[4:] if not a.startswith("-")]
print(json.dumps({"schema": 1, "expected_mtu": expect, "findings": [], "results": [
    {"target": t, "address": t, "family": 4, "status": "ok", "path_mtu": expect}
    for t in targets]}))
"""

SSH = """#!/bin/sh
while [ "$1" != "--" ]; do shift; done
shift; host=$1; shift
touch "$STARTED/$host"
case $host in slow*) sh -c 'sleep 60; echo never'; exit 255;; esac
exec sh -c "$1"
"""

HOSTS = ["fast1", "fast2", *(f"slow{i}" for i in range(1, 7))]


def marked(marker: str) -> list[tuple[int, bytes]]:
    """Live processes (not zombies) whose environment carries ``marker``."""
    found = []
    needle = marker.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if needle in env:
            found.append((int(entry), cmd))
    return found


def survivors(marker: str, grace_s: float = 1.0) -> list[tuple[int, bytes]]:
    """Marked processes still alive after ``grace_s`` (time for init to reap the killed)."""
    end = time.monotonic() + grace_s
    while True:
        left = marked(marker)
        if not left or time.monotonic() > end:
            return left
        time.sleep(0.05)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A fake ssh on PATH, a fake check, an inventory of 2 fast and 6 slow hosts, a marker."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    ssh = bin_dir / "ssh"
    ssh.write_text(SSH)
    ssh.chmod(ssh.stat().st_mode | stat.S_IXUSR)
    check = tmp_path / "check.py"
    check.write_text(CHECK)
    started = tmp_path / "started"
    started.mkdir()
    inv = tmp_path / "inv.yml"
    inv.write_text(
        f"defaults:\n  command: {sys.executable} {check}\nhosts:\n"
        + "".join(f"  {h}: {{ssh: {h}}}\n" for h in HOSTS)
        + "networks:\n  storage:\n    mtu: 9000\n    hosts:\n"
        + "".join(f"      {h}: 198.18.1.{i}\n" for i, h in enumerate(HOSTS, 1))
    )
    marker = f"jumbopath-test-{uuid.uuid4().hex}"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "STARTED": str(started),
        "JUMBOPATH_TEST_MARK": marker,
    }
    yield {"inv": str(inv), "started": str(started), "marker": marker, "ssh": str(ssh), **env}
    for pid, _ in marked(marker):  # never leave anything behind, even when a test fails
        os.kill(pid, signal.SIGKILL)


def interrupted_mesh(
    env: dict[str, str], args: list[str], started: list[Path], sig: signal.Signals
) -> tuple[int, str, str, float]:
    """Run ``jumbopath mesh ARGS``, send ``sig`` once every path in ``started``
    exists; its exit status, stdout, stderr and the seconds it took to stop."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "jumbopath", "mesh", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for path in started:
            wait_for(path)
        time.sleep(0.3)
        sent = time.monotonic()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=10)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, out, err, took


def wait_for(path: Path, timeout_s: float = 30.0) -> None:
    end = time.monotonic() + timeout_s
    while not path.exists():
        assert time.monotonic() < end, f"{path.name} never started"
        time.sleep(0.02)


@pytest.mark.parametrize(
    ("sig", "status", "name"), [(signal.SIGINT, 130, "SIGINT"), (signal.SIGTERM, 143, "SIGTERM")]
)
def test_signal_stops_the_mesh_promptly(
    world: dict[str, str], sig: signal.Signals, status: int, name: str
) -> None:
    env = {k: v for k, v in world.items() if k not in ("inv", "started", "marker", "ssh")}
    started = Path(world["started"])
    # fast1 and fast2 finish; slow1 and slow2 then hang; slow3..6 wait in the queue.
    rc, out, err, took = interrupted_mesh(
        env, ["-j", "2", world["inv"]], [started / "slow1", started / "slow2"], sig
    )
    print(f"mesh stopped {took:.2f} s after the signal")
    assert took < 10.0, f"took {took:.2f} s to stop"  # 0.8-1.5 s here: a hang fails
    assert rc == status, err
    assert err.splitlines() == [
        f"jumbopath: interrupted ({name}): 2 of 8 hosts finished, "
        "the others are marked not measured"
    ]
    # What was measured is shown; the rest is marked.
    assert "storage: path MTU from row to column, expected 9000" in out
    fast_row = next(line for line in out.splitlines() if line.startswith("│ fast1 "))
    assert fast_row.count("9000") == 7
    for h in HOSTS[2:]:
        assert f"{h}: interrupted: not measured: the run was interrupted before {h}" in out
    assert "14 of 56 paths carry 9000; 42 not measured." in out
    # No queued host was contacted, and nothing the run started is left.
    assert sorted(os.listdir(started)) == ["fast1", "fast2", "slow1", "slow2"]
    assert survivors(world["marker"]) == []


def test_signal_with_json_output_marks_the_document(world: dict[str, str]) -> None:
    import json

    env = {k: v for k, v in world.items() if k not in ("inv", "started", "marker", "ssh")}
    rc, out, err, _ = interrupted_mesh(
        env, ["--json", "-j", "2", world["inv"]], [Path(world["started"]) / "slow2"], signal.SIGINT
    )
    assert rc == 130, err
    doc = json.loads(out)
    assert doc["interrupted"] == "SIGINT"
    hosts = {h["name"]: h for h in doc["hosts"]}
    assert hosts["slow6"]["error"]["kind"] == "interrupted"
    assert survivors(world["marker"]) == []


def test_a_crash_during_the_fan_out_kills_every_session(
    world: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUMBOPATH_TEST_MARK", world["marker"])
    monkeypatch.setenv("STARTED", world["started"])
    check = Path(world["started"]).parent / "check.py"
    hosts = tuple(
        MeshHost(h, h, command=f"{sys.executable} {check}") for h in ("slow1", "slow2", "fast1")
    )
    net = Network("storage", 9000, tuple((h.name, f"198.18.1.{i}") for i, h in enumerate(hosts)))
    inv = Inventory(hosts, (net,), "test")

    def on_done(run: HostRun) -> None:
        raise RuntimeError(f"a bug while showing {run.host}")

    started = time.monotonic()
    with pytest.raises(RuntimeError, match="a bug while showing fast1"):
        fan_out(inv, SshOptions(ssh=world["ssh"], concurrency=3, timeout_s=120), on_done)
    assert time.monotonic() - started < 10
    assert sorted(os.listdir(world["started"])) == ["fast1", "slow1", "slow2"]
    assert survivors(world["marker"]) == []


def test_sessions_that_finished_before_the_signal_keep_their_results(
    world: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """In-process: an Interrupted raised in the main thread carries every host's run."""
    from jumbopath.mesh.ssh import Interrupted

    monkeypatch.setenv("JUMBOPATH_TEST_MARK", world["marker"])
    monkeypatch.setenv("STARTED", world["started"])
    check = Path(world["started"]).parent / "check.py"
    names = ("fast1", "slow1", "slow2", "slow3")
    hosts = tuple(MeshHost(h, h, command=f"{sys.executable} {check}") for h in names)
    net = Network("storage", 9000, tuple((h.name, f"198.18.1.{i}") for i, h in enumerate(hosts)))
    inv = Inventory(hosts, (net,), "test")

    def on_done(run: HostRun) -> None:
        wait_for(Path(world["started"]) / "slow2")
        raise Interrupted(signal.SIGINT)

    with pytest.raises(Interrupted) as caught:
        fan_out(inv, SshOptions(ssh=world["ssh"], concurrency=3, timeout_s=120), on_done)
    runs = caught.value.runs
    assert runs is not None and [r.host for r in runs] == list(names)
    assert runs[0].error is None and runs[0].networks[0].check is not None
    for r in runs[1:]:
        assert r.error is not None and r.error.kind is ErrorKind.INTERRUPTED
    assert caught.value.exit_status == 130
    assert "slow3" not in os.listdir(world["started"])
    assert survivors(world["marker"]) == []


# A stand-in ssh for agentless hosts: the master (-M) makes its control socket
# (a plain file will do) and stays; every command over it hangs. Nothing is
# ever probed: no command runs.
AGENTLESS_SSH = """#!/bin/sh
master=; socket=
while [ "$1" != "--" ]; do
  case $1 in -M) master=1;; -S) shift; socket=$1;; esac
  shift
done
shift; host=$1
if [ -n "$master" ]; then touch "$socket" "$STARTED/$host"; exec sleep 60; fi
touch "$STARTED/$host.command"
exec sleep 60
"""


def test_signal_stops_agentless_hosts_and_their_control_connections(
    world: dict[str, str],
) -> None:
    Path(world["ssh"]).write_text(AGENTLESS_SSH)
    inv = Path(world["inv"])
    inv.write_text(inv.read_text().replace("defaults:\n", "defaults:\n  agent: ping\n", 1))
    env = {k: v for k, v in world.items() if k not in ("inv", "started", "marker", "ssh")}
    tmp = inv.parent / "tmp"
    tmp.mkdir()
    env["TMPDIR"] = str(tmp)  # where the control sockets' folders go
    started = Path(world["started"])
    # Their route queries hang.
    waits = [started / "fast1.command", started / "fast2.command"]
    rc, out, err, took = interrupted_mesh(env, ["-j", "2", world["inv"]], waits, signal.SIGINT)
    print(f"mesh stopped {took:.2f} s after the signal")
    assert took < 10.0, f"took {took:.2f} s to stop"  # 0.8-1.5 s here: a hang fails
    assert rc == 130, err
    assert "0 of 8 hosts finished" in err
    assert "fast1: interrupted: not measured" in out
    assert sorted(os.listdir(started)) == ["fast1", "fast1.command", "fast2", "fast2.command"]
    assert survivors(world["marker"]) == []
    assert list(tmp.iterdir()) == []  # each control folder removed
