"""Kernel plumbing: ip/nft jobs, entering namespaces, sysctls, deleting namespaces.

Every step is bounded in time (:data:`STEP_TIMEOUT_S`) and every failure is a
:class:`~jumbopath.errors.LabError` that says what to do. Nothing here
touches the root namespace's settings or interfaces.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from jumbopath.errors import LabError

NETNS_DIR = "/run/netns"
"""Where ``ip netns`` keeps named namespaces."""
STEP_TIMEOUT_S = 30.0
"""Bound on any single build/teardown step, in seconds."""
_PARALLEL = 32  # processes started at once while building
_CLONE_NEWNET = 0x40000000

Job = tuple[str, list[str], str]
"""(label for errors, argv, text fed on stdin)."""


def check_tools(need_nft: bool) -> None:
    """Raise :class:`LabError` unless we are root and ip (and nft, if needed) exist."""
    if os.geteuid() != 0:
        raise LabError("building the lab needs root: run with sudo")
    if shutil.which("ip") is None:
        raise LabError("ip not found: apt-get install iproute2")
    if need_nft:
        check_nft()


def check_nft() -> None:
    """Raise :class:`LabError` unless nft exists."""
    if shutil.which("nft") is None:
        raise LabError("nft not found: apt-get install nftables")


def _brief(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
    return " / ".join(lines[-3:]) if lines else "no error output"


def _kernel_error(what: str, stderr: str) -> LabError:
    text = _brief(stderr)
    if "Operation not permitted" in text or "Permission denied" in text:
        return LabError(f"{what}: the kernel refused ({text}): run as root with CAP_SYS_ADMIN")
    return LabError(f"{what} failed: {text}")


def run_jobs(jobs: Sequence[Job]) -> None:
    """Run (label, argv, stdin) jobs, up to _PARALLEL at a time; raise on the first failure."""
    for start in range(0, len(jobs), _PARALLEL):
        procs: list[tuple[str, subprocess.Popen[str]]] = []
        try:
            for label, argv, script in jobs[start : start + _PARALLEL]:
                procs.append((label, _start(label, argv, script)))
            failure = _reap(procs)
        finally:
            for _, p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
                if p.stderr is not None:
                    p.stderr.close()
        if failure is not None:
            raise failure


def _start(label: str, argv: list[str], script: str) -> subprocess.Popen[str]:
    try:
        p = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
    except OSError as e:
        raise LabError(f"{label}: cannot run {argv[0]}: {e}") from e
    assert p.stdin is not None
    # Scripts are small; a pipe holds 64 KiB and ip/nft read as we write.
    # If the tool stops early, its exit status and stderr tell why.
    with contextlib.suppress(BrokenPipeError):
        p.stdin.write(script)
    with contextlib.suppress(BrokenPipeError):
        p.stdin.close()
    return p


def _reap(procs: Sequence[tuple[str, subprocess.Popen[str]]]) -> LabError | None:
    """Wait for every process (bounded); the first failure, if any."""
    failure: LabError | None = None
    deadline = time.monotonic() + STEP_TIMEOUT_S
    for label, p in procs:
        assert p.stderr is not None
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            failure = failure or LabError(f"{label}: timed out after {STEP_TIMEOUT_S} s")
            continue
        err = p.stderr.read()
        if p.returncode != 0 and failure is None:
            failure = _kernel_error(label, err)
    return failure


_T = TypeVar("_T")
_LIBC: list[ctypes.CDLL] = []


def _libc() -> ctypes.CDLL:
    if not _LIBC:
        _LIBC.append(ctypes.CDLL(None, use_errno=True))
    return _LIBC[0]


def in_netns(names: Sequence[str], fn: Callable[[str], _T]) -> dict[str, _T]:
    """Call ``fn(name)`` inside each named namespace, in order, in one short-lived thread.

    ``setns(2)`` moves only the calling thread, and that thread ends here, so
    the rest of the process never leaves its own namespace. Sockets opened and
    ``/proc/sys/net`` files written by ``fn`` belong to the namespace entered.
    """
    libc = _libc()
    result: dict[str, _T] = {}
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for name in names:
                fd = os.open(os.path.join(NETNS_DIR, name), os.O_RDONLY)
                try:
                    if libc.setns(fd, _CLONE_NEWNET) != 0:
                        err = ctypes.get_errno()
                        raise LabError(f"cannot enter namespace {name}: {os.strerror(err)}")
                finally:
                    os.close(fd)
                result[name] = fn(name)
        except BaseException as e:  # noqa: BLE001 - handed to the caller
            errors.append(e)

    t = threading.Thread(target=work, name="jumbopath-netns", daemon=True)
    t.start()
    t.join(STEP_TIMEOUT_S)
    if t.is_alive():
        raise LabError(f"configuring namespaces timed out after {STEP_TIMEOUT_S} s")
    if errors:
        e = errors[0]
        if isinstance(e, LabError):
            raise e
        raise LabError(f"configuring namespaces failed: {e}") from e
    return result


def write_sysctls(settings: Sequence[tuple[str, str]]) -> None:
    """Write (path under /proc/sys/net, value); ``*`` in a path means every conf dir."""
    for path, value in settings:
        if "*" in path:
            head, tail = path.split("*", 1)
            dirs = sorted(os.listdir("/proc/sys/net/" + head))
            paths = [f"{head}{d}{tail}" for d in dirs]
        else:
            paths = [path]
        for p in paths:
            with open("/proc/sys/net/" + p, "w") as fh:
                fh.write(value)


def read_sysctl(path: str) -> str:
    """The value of ``/proc/sys/net/PATH`` in the current thread's namespace."""
    with open("/proc/sys/net/" + path) as fh:
        return fh.read().strip()


def netns_exists(name: str) -> bool:
    """Whether the named namespace exists."""
    return os.path.exists(os.path.join(NETNS_DIR, name))


def netns_names() -> list[str]:
    """Every named namespace on the machine (what ``ip netns list`` shows), sorted."""
    try:
        return sorted(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return []


def pids_in(names: Sequence[str]) -> list[int]:
    """Processes whose network namespace is one of ``names`` (what ``ip netns pids`` does)."""
    return [pid for pids in pids_by_netns(names).values() for pid in pids]


def pids_by_netns(names: Sequence[str]) -> dict[str, list[int]]:
    """For each of ``names`` that exists, the processes inside it (never this one)."""
    inodes: dict[tuple[int, int], str] = {}
    for n in names:
        with contextlib.suppress(OSError):
            st = os.stat(os.path.join(NETNS_DIR, n))
            inodes[(st.st_dev, st.st_ino)] = n
    found: dict[str, list[int]] = {n: [] for n in inodes.values()}
    if not inodes:
        return found
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            st = os.stat(f"/proc/{entry}/ns/net")
        except OSError:
            continue
        name = inodes.get((st.st_dev, st.st_ino))
        if name is not None:
            found[name].append(int(entry))
    return found


def delete_netns(names: Sequence[str]) -> list[str]:
    """Kill what runs inside, delete the namespaces; return the ones still there."""
    existing = [n for n in names if netns_exists(n)]
    if not existing:
        return []
    for pid in pids_in(existing):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    script = "".join(f"netns del {n}\n" for n in existing)
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(
            ["ip", "-force", "-batch", "-"],
            input=script,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT_S,
            check=False,
        )
    left = [n for n in existing if netns_exists(n)]
    for n in left:  # one more try each, e.g. after a busy mount
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(["ip", "netns", "del", n], capture_output=True, timeout=10, check=False)
    return [n for n in left if netns_exists(n)]
