"""``jumbopath lab clean`` and ``lab list`` remove and show labs left by a SIGKILLed run."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

from jumbopath.lab import Lab, chain

JP = [sys.executable, "-m", "jumbopath"]

CHILD = textwrap.dedent(
    """
    import time
    from jumbopath.lab import Lab, chain
    with Lab(chain(1)) as lab:
        sleeper = lab.popen("dst", ["sleep", "60"])
        print(lab.prefix, sleeper.pid, flush=True)
        time.sleep(60)
    """
)


def netns_list(prefix: str) -> list[str]:
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return sorted(ln.split()[0] for ln in names.splitlines() if ln.startswith(prefix))


def jumbopath(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*JP, *args], capture_output=True, text=True, timeout=60)


def state(pid: int) -> str | None:
    """The process's state letter (S, R, Z...), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return None


def dead(pid: int) -> bool:
    """Whether ``pid`` is gone or a zombie (killed; its new parent may not have reaped it)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if state(pid) in (None, "Z", "X"):
            return True
        time.sleep(0.05)
    return False


def killed_lab() -> tuple[str, int]:
    """A lab whose process was SIGKILLed: its prefix and the process left inside it."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    line = child.stdout.readline().split()
    assert line and line[0].startswith("jp-"), child.stderr.read() if child.stderr else ""
    child.kill()  # SIGKILL: no teardown can run
    child.wait(timeout=10)
    return line[0], int(line[1])


def test_clean_removes_the_labs_of_a_killed_run_and_nothing_else() -> None:
    with Lab(chain(0)) as mine:
        prefix, sleeper = killed_lab()
        nodes = sorted(prefix + n for n in Lab(chain(1)).nodes)
        assert netns_list(prefix) == nodes
        assert state(sleeper) in ("S", "R", "D")  # still alive inside the dead lab

        listed = jumbopath("lab", "list")
        assert listed.returncode == 0, listed.stderr
        ours = [ln for ln in listed.stdout.splitlines() if ln.startswith(prefix)]
        assert len(ours) == 1 and "stale" in ours[0] and "1 process inside" in ours[0], ours
        mine_line = [ln for ln in listed.stdout.splitlines() if ln.startswith(mine.prefix)]
        assert len(mine_line) == 1 and "running" in mine_line[0]

        done = jumbopath("lab", "clean")
        assert done.returncode == 0, done.stderr
        removed = [ln for ln in done.stdout.splitlines() if prefix in ln]
        assert sorted(ln.split()[1] for ln in removed) == nodes  # one line per namespace
        assert f"removed {prefix}dst (pid " in done.stdout
        assert [ln for ln in removed if "killed 1 process" in ln] == [
            ln for ln in removed if ln.startswith(f"removed {prefix}dst ")
        ]
        assert netns_list(prefix) == []
        assert dead(sleeper)
        # the live lab is untouched and still works
        assert netns_list(mine.prefix) == sorted(mine.netns(n) for n in mine.nodes)
        ping = ["ping", "-c1", "-W1", mine.addr("dst", 4)]
        assert mine.run("src", ping, timeout=10).returncode == 0

        again = jumbopath("lab", "clean")
        assert again.returncode == 0 and prefix not in again.stdout


def test_clean_without_root_is_one_line_and_exit_3() -> None:
    # A new user namespace (unshare: util-linux): the command is not root there, for real.
    done = subprocess.run(
        ["unshare", "--user", *JP, "lab", "clean"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "jumbopath: error: cleaning up labs needs root: run sudo jumbopath lab clean"
    ]
