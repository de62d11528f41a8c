"""Every process jumbopath starts is killed, with what it started, on every way out."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from jumbopath import procs
from jumbopath.status import ExitCode

REPO = Path(__file__).resolve().parents[2]


def alive(pid: int) -> bool:
    """Whether ``pid`` still runs, a moment after a kill (SIGKILL lands asynchronously)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split(") ", 1)[1][0] in "ZX":
                    return False
        except OSError:
            return False
        time.sleep(0.02)
    return True


def test_kill_all_kills_each_group_and_whatever_is_tracked_after() -> None:
    # a shell that started a grandchild: both are in the group jumbopath kills
    proc = procs.track(
        subprocess.Popen(
            ["sh", "-c", "sleep 60 & echo $!; wait"], stdout=subprocess.PIPE, start_new_session=True
        )
    )
    assert proc.stdout is not None
    grandchild = int(proc.stdout.readline().decode())
    try:
        assert procs.live() >= 1
        assert procs.kill_all(close=True) >= 1
        assert proc.poll() is not None
        late = procs.track(subprocess.Popen(["sleep", "60"], start_new_session=True))
        late.wait(timeout=5)  # killed as it was tracked: jumbopath is on its way out
        assert not alive(grandchild)
    finally:
        procs.reopen()
        proc.stdout.close()
    again = procs.track(subprocess.Popen(["sleep", "60"], start_new_session=True))
    assert again.poll() is None
    procs.kill_all()  # not closing: children may start again (a library caller)
    assert again.wait(timeout=5) != 0
    third = procs.track(subprocess.Popen(["sleep", "60"], start_new_session=True))
    assert third.poll() is None
    procs.kill_all()


CRASH = """
import subprocess, sys
from jumbopath import procs
from jumbopath.cli import _run, app

@app.command("boom")
def boom() -> None:
    p = procs.track(subprocess.Popen(["sleep", "60"], start_new_session=True))
    print(p.pid, flush=True)
    raise RuntimeError("a bug")

sys.exit(_run(["boom"], False))
"""


def test_a_crash_still_kills_the_children() -> None:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CRASH)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == ExitCode.INTERNAL, done.stderr
    assert not alive(int(done.stdout.split()[0]))
