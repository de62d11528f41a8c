"""The ssh processes of a fan-out: tracked, killed as a group, their output read bounded.

Each session is its own process group, so killing it also ends whatever the
ssh client started (a ProxyCommand, a stand-in script and its children).
:class:`Sessions` remembers the live ones so that a signal (or any
exception) can kill them all and start no more; :func:`collect` reads a
session's two streams as they come, never more than a limit each, and kills
the group at the limit, at the timeout, or when the fan-out stops.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Any

from jumbopath.errors import CannotMeasure
from jumbopath.procs import Interrupted, forget, track

__all__ = ["MAX_OUTPUT", "Interrupted", "Output", "Sessions", "collect"]

MAX_OUTPUT = 4 * 1024 * 1024
"""Most bytes read from one session's stdout, and from its stderr."""
_POLL_S = 0.2
"""How often a waiting session looks whether the fan-out was stopped, seconds."""


class Sessions:
    """The ssh processes of one fan-out: :meth:`stop` kills them all and starts no more.

    Each session is its own process group (``start_new_session``), so
    killing the group also ends whatever the ssh client started (a
    ProxyCommand, a stand-in script and its children).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: set[subprocess.Popen[bytes]] = set()
        self._stopped = False

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` ran."""
        return self._stopped

    def spawn(
        self,
        argv: list[str],
        ssh: str,
        stdout: Any = subprocess.PIPE,
        stderr: Any = subprocess.PIPE,
    ) -> subprocess.Popen[bytes] | None:
        """Start one session (its streams piped unless told otherwise); None when the
        fan-out is already stopping."""
        with self._lock:
            if self._stopped:
                return None
            try:
                proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=stdout,
                    stderr=stderr,
                    start_new_session=True,
                )
            except FileNotFoundError as exc:
                raise CannotMeasure(
                    f"the OpenSSH client {ssh!r} is not installed: apt-get install openssh-client"
                ) from exc
            except OSError as exc:  # no process or descriptor left on a loaded machine
                raise CannotMeasure(f"could not start {ssh!r}: {exc.strerror or exc}") from exc
            # Forget the ones that ended (an agentless host starts one per round).
            self._live = {p for p in self._live if p.returncode is None and p.poll() is None}
            self._live.add(proc)
            return track(proc)

    def release(self, proc: subprocess.Popen[bytes]) -> None:
        """Forget a session; kill its process group if it is still running."""
        with self._lock:
            self._live.discard(proc)
        forget(proc)
        if proc.poll() is None:
            _kill_group(proc)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=2)

    def stop(self) -> None:
        """Kill every running session's process group; start no new one."""
        with self._lock:
            self._stopped = True
            live = list(self._live)
        for proc in live:
            if proc.poll() is None:
                _kill_group(proc)


@dataclass(frozen=True, slots=True)
class Output:
    """What one session printed, bounded, and how it ended."""

    stdout: str
    """Standard output (at most ``limit`` bytes, decoded, bad UTF-8 replaced)."""
    stderr: str
    """Standard error, likewise."""
    timed_out: bool = False
    """The overall timeout killed the session."""
    too_large: str | None = None
    """"stdout" or "stderr" when that stream passed the limit and the session was killed."""
    interrupted: bool = False
    """The fan-out was stopped (a signal) and the session killed."""


def collect(
    proc: subprocess.Popen[bytes],
    timeout_s: float,
    sessions: Sessions,
    limit: int = MAX_OUTPUT,
) -> Output:
    """Read a session's stdout and stderr as they come, never more than ``limit`` bytes each.

    The session's process group is killed when a stream passes ``limit``,
    when ``timeout_s`` has passed, or when ``sessions`` is stopped; reading
    then ends at the streams' end, or one second later if something outside
    the group still holds them open.
    """
    assert proc.stdout is not None and proc.stderr is not None
    streams = {proc.stdout.fileno(): "stdout", proc.stderr.fileno(): "stderr"}
    kept: dict[str, bytearray] = {"stdout": bytearray(), "stderr": bytearray()}
    deadline = time.monotonic() + timeout_s
    timed_out = interrupted = False
    too_large: str | None = None
    give_up: float | None = None
    with selectors.DefaultSelector() as sel:
        for fd in streams:
            sel.register(fd, selectors.EVENT_READ)
        while sel.get_map():
            now = time.monotonic()
            if give_up is None:
                if sessions.stopped:
                    interrupted = True
                elif now >= deadline:
                    timed_out = True
                if interrupted or timed_out:
                    _kill_group(proc)
                    give_up = now + 1.0
            elif now >= give_up:
                break
            wait = (give_up if give_up is not None else deadline) - now
            for key, _ in sel.select(max(0.0, min(_POLL_S, wait))):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fd)
                    continue
                name = streams[key.fd]
                buf = kept[name]
                room = limit - len(buf)
                buf += chunk[: max(0, room)]
                if len(chunk) > room and too_large is None and give_up is None:
                    too_large = name
                    _kill_group(proc)
                    give_up = time.monotonic() + 1.0
    if give_up is None and sessions.stopped:
        interrupted = True  # the streams ended because stop() killed the session
    try:
        proc.wait(timeout=max(0.1, deadline - time.monotonic()) if give_up is None else 1.0)
    except subprocess.TimeoutExpired:
        timed_out = timed_out or give_up is None
        _kill_group(proc)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=1.0)
    return Output(
        kept["stdout"].decode("utf-8", "replace"),
        kept["stderr"].decode("utf-8", "replace"),
        timed_out,
        too_large,
        interrupted,
    )


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
