"""The teardown safety net, and finding labs left behind by processes that died.

Every lab's namespaces are named ``jp-<pid>-<4 hex>-<node>``: the pid of the
process that built it comes first, so a namespace whose creator is gone is
known to be stale. A live lab is closed on leaving its ``with`` block, at
interpreter exit (atexit) and on SIGTERM/SIGHUP (turned into ``SystemExit``);
only SIGKILL leaves namespaces behind, and :func:`cleanup_stale` (or
``jumbopath lab clean``) removes those.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import secrets
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any, Protocol

from jumbopath.errors import LabError
from jumbopath.lab import kernel

_PREFIX_RE = re.compile(r"jp-(\d+)-[0-9a-f]{4}-")


def new_prefix() -> str:
    """A namespace prefix unique to this process and this lab: ``jp-<pid>-<4 hex>-``."""
    return f"jp-{os.getpid()}-{secrets.token_hex(2)}-"


@dataclass(frozen=True, slots=True)
class LabNamespace:
    """One namespace a lab made, as found on the machine."""

    name: str
    """Namespace name, ``jp-<pid>-<4 hex>-<node>``."""
    prefix: str
    """The lab it belongs to: ``jp-<pid>-<4 hex>-``."""
    pid: int
    """The process that built the lab."""
    alive: bool
    """Whether that process still runs; False means the namespace is stale."""
    processes: tuple[int, ...]
    """Processes running inside the namespace."""

    @property
    def node(self) -> str:
        """The node name (the part after the prefix)."""
        return self.name[len(self.prefix) :]


def lab_namespaces() -> tuple[LabNamespace, ...]:
    """Every lab namespace on the machine (live and stale), sorted by name."""
    found = []
    for name in kernel.netns_names():
        m = _PREFIX_RE.match(name)
        if m:
            pid = int(m.group(1))
            found.append((name, m.group(0), pid, pid_alive(pid)))
    pids = kernel.pids_by_netns([name for name, *_ in found])
    return tuple(
        LabNamespace(name, prefix, pid, alive, tuple(pids.get(name, ())))
        for name, prefix, pid, alive in found
    )


def remove_stale() -> tuple[LabNamespace, ...]:
    """Kill the processes in, and delete, every lab namespace whose creator is gone.

    A namespace whose creating pid is alive is never touched (that includes
    this process's own labs). Returns what was removed, as it was found.
    """
    stale = tuple(ns for ns in lab_namespaces() if not ns.alive)
    if stale:
        left = kernel.delete_netns([ns.name for ns in stale])
        if left:
            raise LabError(f"could not delete stale namespaces {', '.join(left)}: try ip netns del")
    return stale


def cleanup_stale() -> list[str]:
    """Delete lab namespaces (``jp-<pid>-<hex>-...``) whose creating process is gone.

    A namespace whose pid is still alive is never touched (that includes this
    process's own labs). Returns the names deleted.
    """
    return [ns.name for ns in remove_stale()]


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (a reused pid counts as alive: the safe side)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ---------------------------------------------------------------------------
# atexit and SIGTERM/SIGHUP


class Closable(Protocol):
    """Anything the safety net can close (a Lab)."""

    def close(self) -> None:
        """Tear down; idempotent."""


_live: set[Closable] = set()
_live_lock = threading.Lock()
_saved_handlers: dict[int, Any] = {}
_atexit_done = False


def _signal_to_exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def register(lab: Closable) -> None:
    """Close ``lab`` at interpreter exit and on SIGTERM/SIGHUP, until :func:`unregister`."""
    global _atexit_done
    with _live_lock:
        _live.add(lab)
        if not _atexit_done:
            atexit.register(_close_all)
            _atexit_done = True
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGHUP):
                if sig in _saved_handlers:
                    continue
                current = signal.getsignal(sig)
                if current is signal.SIG_DFL:  # never replace someone else's handler
                    _saved_handlers[sig] = current
                    signal.signal(sig, _signal_to_exit)


def unregister(lab: Closable) -> None:
    """Forget ``lab``; the last one gone puts the signal handlers back."""
    with _live_lock:
        _live.discard(lab)
        if _live or threading.current_thread() is not threading.main_thread():
            return
        for sig, old in list(_saved_handlers.items()):
            if signal.getsignal(sig) is _signal_to_exit:
                signal.signal(sig, old)
            del _saved_handlers[sig]


def _close_all() -> None:
    for lab in list(_live):
        with contextlib.suppress(Exception):
            lab.close()


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM/SIGHUP while tearing down; they arrive right after."""
    sigs = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
