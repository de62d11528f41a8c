"""Every process jumbopath starts, so that no exit path leaves one behind.

A child that runs for a while (an ssh session or ControlMaster, a round of
``--via ping`` probes, ``ansible-inventory``) is started in its own process
group and handed to :func:`track`. :func:`kill_all` kills every tracked
group that still runs; the command line calls it on every way out (a normal
end, an error, SIGINT, SIGTERM), so what those groups started (a ping per
probe, a ProxyCommand) ends with them. Once :func:`kill_all` ran, a child
tracked later (by a thread that had not yet heard) is killed at once.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any, TypeVar

P = TypeVar("P", bound="subprocess.Popen[bytes]")


class Interrupted(BaseException):  # noqa: N818 - like KeyboardInterrupt, which it stands for
    """A signal (SIGINT, SIGTERM) stopped the run.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception``
    swallows it. The mesh's fan-out fills :attr:`runs` with what it had when
    the signal came (the hosts not finished are marked interrupted) before it
    lets the exception go on.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        """The signal that stopped the run."""
        self.runs: list[Any] | None = None
        """Every host's run (a HostRun), as far as it got; None when no fan-out was running."""

    @property
    def exit_status(self) -> int:
        """128 + the signal number, as a shell reports a process ended by it (130, 143)."""
        return 128 + self.signum

    @property
    def name(self) -> str:
        """SIGINT, SIGTERM, ..."""
        try:
            return signal.Signals(self.signum).name
        except ValueError:
            return f"signal {self.signum}"


_lock = threading.Lock()
_live: set[subprocess.Popen[bytes]] = set()
_closed = False


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process's group (it leads one: ``start_new_session``), else the process."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            proc.kill()


def track(proc: P) -> P:
    """Remember a child that leads its own process group; returns it."""
    with _lock:
        # forget the ones that ended, so the set stays as small as what runs
        _live.difference_update([p for p in _live if p.poll() is not None])
        _live.add(proc)
        closed = _closed
    if closed:
        _kill(proc)
    return proc


def forget(proc: subprocess.Popen[bytes]) -> None:
    """Stop remembering a child (it ended, or its owner ended it)."""
    with _lock:
        _live.discard(proc)


def live() -> int:
    """How many tracked children may still run."""
    with _lock:
        return sum(1 for p in _live if p.poll() is None)


def kill_all(close: bool = False) -> int:
    """Kill every tracked process group that still runs; with ``close``, any tracked later too.

    Returns how many were killed. Reaps them (briefly) so none stays a zombie.
    """
    global _closed
    with _lock:
        _closed = _closed or close
        procs = [p for p in _live if p.poll() is None]
        _live.clear()
    for proc in procs:
        _kill(proc)
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired, OSError):
            proc.wait(timeout=1.0)
    return len(procs)


def reopen() -> None:
    """Allow children again after :func:`kill_all` (for a process that runs the CLI twice)."""
    global _closed
    with _lock:
        _closed = False


atexit.register(kill_all, True)


@contextlib.contextmanager
def signals_interrupt(*signals: int) -> Iterator[None]:
    """While inside, each of ``signals`` raises :class:`Interrupted` (once), so every
    ``finally`` runs and every child is killed on the way out.

    A signal ignored when jumbopath started (``nohup``, a background job of a
    non-interactive shell) stays ignored; a second one while jumbopath stops is
    ignored. Outside the main thread nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        if fired:
            return
        fired.append(signum)
        raise Interrupted(signum)

    previous: dict[int, Any] = {}
    for sig in signals:
        before = signal.getsignal(sig)
        if before is signal.SIG_IGN:
            continue
        previous[sig] = before
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, before in previous.items():
            signal.signal(sig, before if before is not None else signal.SIG_DFL)
