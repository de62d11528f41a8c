"""SSH fan-out: one session per host, with the admin's own OpenSSH client.

Each host gets one ``ssh`` session that runs ``jumbopath check --json`` once
per network it is on (see :func:`jumbopath.mesh.runs.remote_script`). The
admin's keys, agent, jump hosts and ``~/.ssh/config`` apply; ``--ssh-config``
becomes ``ssh -F``. ``BatchMode=yes`` means a session never waits for a
password or a host-key prompt, and host-key checking is never relaxed.

Sessions run in a bounded thread pool; each has a connect timeout and an
overall timeout after which its process group is killed. What a session
prints is read as it comes and bounded (:data:`MAX_OUTPUT` per stream). A
host's failure, or its garbage, is a :class:`~jumbopath.mesh.runs.HostError`
in its row; the others go on. A signal, or any exception, kills every
session's process group and starts no queued one. The processes themselves
(tracking, killing, bounded reading) are :mod:`jumbopath.mesh.sessions`.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import shutil
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from jumbopath.errors import CannotMeasure, UsageError
from jumbopath.mesh.inventory import Inventory, MeshHost
from jumbopath.mesh.inventory.model import Agent
from jumbopath.mesh.runs import (
    MAX_DETAIL,
    ErrorKind,
    HostError,
    HostRun,
    NetworkRun,
    classify_check,
    last_line,
    remote_script,
    shown_line,
    split_sections,
)
from jumbopath.mesh.sessions import MAX_OUTPUT, Interrupted, Output, Sessions, collect
from jumbopath.safe import safe_text

__all__ = [
    "MAX_OUTPUT",
    "SSH_FAILURES",
    "Interrupted",
    "Output",
    "Sessions",
    "SshOptions",
    "classify_ssh",
    "collect",
    "fan_out",
    "interrupted_run",
    "plan",
    "run_host",
    "ssh_argv",
]


@dataclass(frozen=True, slots=True)
class SshOptions:
    """How to reach the hosts."""

    ssh_config: str | None = None
    """``ssh -F FILE``; None uses ~/.ssh/config and the system configuration."""
    connect_timeout_s: float = 5.0
    """``ConnectTimeout``: how long to wait for the TCP connection and SSH banner."""
    timeout_s: float = 60.0
    """Overall limit for one host's session (all its checks)."""
    concurrency: int = 16
    """Sessions at once."""
    ssh: str = "ssh"
    """The OpenSSH client to run."""
    max_output: int = MAX_OUTPUT
    """Most bytes read from a session's stdout, and from its stderr; past it the session ends."""
    probe: str | None = None
    """Every check's ``--probe`` (validated); None: the check's default."""
    flows: int | None = None
    """Every check's ``--flows`` (validated); None: the check's default."""
    soak: int | None = None
    """Every check's ``--soak`` (validated); None: the check's default."""

    @property
    def check_args(self) -> tuple[str, ...]:
        """Further options for every remote ``check`` (``--probe``, ``--flows``, ``--soak``)."""
        args: list[str] = []
        if self.probe is not None:
            args += ["--probe", self.probe.strip().lower()]
        if self.flows is not None:
            args += ["--flows", str(self.flows)]
        if self.soak is not None:
            args += ["--soak", str(self.soak)]
        return tuple(args)


# Classification of ssh's own failures (exit status 255), first match wins.
# Each entry: (pattern on stderr, kind, message template).
SSH_FAILURES: tuple[tuple[re.Pattern[str], ErrorKind, str], ...] = (
    (
        re.compile(r"REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed", re.I),
        ErrorKind.HOST_KEY_CHANGED,
        "the host key of {target} differs from the one in known_hosts (wrong or changed host key): "
        "if the host was reinstalled, verify the new key and replace the old one "
        "(ssh-keygen -R {target}); otherwise find out why",
    ),
    (
        re.compile(
            r"No \S+ host key is known for|host key is not known|Host key verification failed", re.I
        ),
        ErrorKind.HOST_KEY_UNKNOWN,
        "the host key of {target} could not be verified against known_hosts: connect once "
        "with ssh, check the fingerprint and record it",
    ),
    (
        re.compile(r"Permission denied", re.I),
        ErrorKind.PERMISSION_DENIED,
        "{target} refused the login for {user} (permission denied): put your public key in "
        "that account's authorized_keys, or load the right key into ssh-agent",
    ),
    (
        re.compile(r"Connection refused", re.I),
        ErrorKind.CONNECTION_REFUSED,
        "nothing accepts SSH connections at {target} port {port} (connection refused): "
        "is sshd running there?",
    ),
    (
        re.compile(r"No route to host|Network is unreachable", re.I),
        ErrorKind.NO_ROUTE,
        "no route to {target} (no route to host / network unreachable): check the "
        "management network and ansible_host / ssh:",
    ),
    (
        re.compile(r"Connection timed out|Operation timed out|timed out during banner", re.I),
        ErrorKind.CONNECT_TIMEOUT,
        "no answer from {target} port {port} within the connect timeout: the host is down "
        "or a firewall drops SSH",
    ),
    (
        re.compile(
            r"Could not resolve hostname|Name or service not known|"
            r"Temporary failure in name resolution|nodename nor servname",
            re.I,
        ),
        ErrorKind.NAME_UNKNOWN,
        "cannot resolve {target}: fix the name in the inventory (ansible_host / ssh:) or DNS",
    ),
    (
        re.compile(
            r"Connection closed by|Connection reset by|kex_exchange_identification|"
            r"closed by remote host",
            re.I,
        ),
        ErrorKind.CONNECTION_CLOSED,
        "{target} closed the SSH connection before login: sshd refuses this client "
        "(MaxStartups, AllowUsers, TCP wrappers) or something else answers on that port",
    ),
)


def classify_ssh(stderr: str, host: MeshHost) -> HostError:
    """Name the reason an ``ssh`` session failed (exit status 255) from its stderr.

    Only the last 64 KiB of stderr are looked at (ssh's own message is at the
    end); the quoted line is bounded and made safe to show.
    """
    stderr = stderr[-65536:]
    fields = {
        "target": safe_text(host.ssh_host, 200),
        "port": host.port or 22,
        "user": safe_text(host.user, 100) if host.user else "the login user",
    }
    for pattern, kind, template in SSH_FAILURES:
        matches = list(pattern.finditer(stderr))
        if matches:
            line = _line_with(stderr, matches[-1].start()) or last_line(stderr)
            detail = safe_text(line, MAX_DETAIL)
            if (
                kind is ErrorKind.HOST_KEY_UNKNOWN
                and "host key is known" not in stderr
                and "not known" not in stderr
            ):
                kind = ErrorKind.HOST_KEY
            return HostError(kind, template.format(**fields), detail)
    detail = shown_line(stderr)
    return HostError(
        ErrorKind.SSH_ERROR, f"ssh to {fields['target']} failed: {detail or 'exit 255'}", detail
    )


def _line_with(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return text[start : end if end >= 0 else len(text)].strip().strip("@ ").strip()


def ssh_argv(
    host: MeshHost, remote: str | None, options: SshOptions, extra: Sequence[str] = ()
) -> list[str]:
    """The ``ssh`` command line for one host, with ``extra`` options (a control socket);
    ``remote`` None runs no command. Host-key checking is left as configured (on)."""
    argv = [options.ssh]
    if options.ssh_config:
        argv += ["-F", options.ssh_config]
    argv += [
        "-o",
        "BatchMode=yes",
        "-o",
        f"ConnectTimeout={max(1, round(options.connect_timeout_s))}",
        "-T",
    ]
    if host.port is not None:
        argv += ["-p", str(host.port)]
    if host.user:
        argv += ["-l", host.user]
    if host.identity_file:
        argv += ["-i", host.identity_file]
    argv += [*extra, "--", host.ssh_host]
    return argv if remote is None else [*argv, remote]


def plan(
    inventory: Inventory, host: str
) -> list[tuple[str, int, list[tuple[str, str]], int | None]]:
    """Networks the host is on, with the other members to probe: (network, mtu, targets, family)."""
    out = []
    for net in inventory.networks:
        if net.address(host) is None:
            continue
        targets = [(h, a) for h, a in net.members if h != host]
        if targets:
            out.append((net.name, net.mtu, targets, net.family))
    return out


def interrupted_error(name: str) -> HostError:
    """Why a host whose session a signal stopped (or that never started) has no row."""
    return HostError(
        ErrorKind.INTERRUPTED,
        f"not measured: the run was interrupted before {safe_text(name, 200)} finished",
    )


def interrupted_run(name: str, elapsed_s: float = 0.0) -> HostRun:
    """The row of a host whose session a signal stopped (or that never started)."""
    return HostRun(name, error=interrupted_error(name), elapsed_s=elapsed_s)


def run_host(
    inventory: Inventory, name: str, options: SshOptions, sessions: Sessions | None = None
) -> HostRun:
    """Run one host's session: every network's check, or the reason it could not run."""
    sessions = sessions if sessions is not None else Sessions()
    host = inventory.host(name)
    work = plan(inventory, name)
    if not work:
        return HostRun(name)
    if host.agent is Agent.PING:
        from jumbopath.mesh.agentless import run_agentless

        return run_agentless(inventory, name, options, sessions, work)
    nonce = secrets.token_hex(6)
    script = remote_script(
        host.command,
        [(n, m, [a for _, a in t], f) for n, m, t, f in work],
        nonce,
        options.check_args,
    )
    argv = ssh_argv(host, "sh -c " + shlex.quote(script), options)
    start = time.monotonic()
    proc = sessions.spawn(argv, options.ssh)
    if proc is None:
        return interrupted_run(name)
    try:
        output = collect(proc, options.timeout_s, sessions, options.max_output)
    finally:
        sessions.release(proc)
    elapsed = time.monotonic() - start
    return _host_run(host, work, options, output, proc.returncode, nonce, elapsed)


def _host_run(
    host: MeshHost,
    work: list[tuple[str, int, list[tuple[str, str]], int | None]],
    options: SshOptions,
    output: Output,
    returncode: int | None,
    nonce: str,
    elapsed: float,
) -> HostRun:
    """One host's HostRun from its session's output (see :func:`run_host`)."""
    name = host.name
    target = safe_text(host.ssh_host, 200)
    out, err = output.stdout, output.stderr
    if output.interrupted:
        return interrupted_run(name, elapsed)
    if output.too_large is not None:
        return HostRun(
            name,
            error=HostError(
                ErrorKind.OUTPUT_TOO_LARGE,
                f"{target} printed more than {options.max_output // (1024 * 1024)} MiB on "
                f"{output.too_large}: the session was stopped; is its jumbopath command "
                "really jumbopath?",
                shown_line(err),
            ),
            elapsed_s=elapsed,
        )
    timed_out = output.timed_out
    out_sections = split_sections(out, nonce)
    err_sections = split_sections(err, nonce)

    if not out_sections:
        if timed_out:
            return HostRun(
                name,
                error=HostError(
                    ErrorKind.TIMEOUT,
                    f"the SSH session to {target} did not finish within "
                    f"{options.timeout_s:g} s: "
                    "raise --timeout, or check that the host answers SSH",
                    shown_line(err),
                ),
                elapsed_s=elapsed,
            )
        if returncode == 255:
            return HostRun(name, error=classify_ssh(err, host), elapsed_s=elapsed)
        return HostRun(
            name,
            error=HostError(
                ErrorKind.SSH_ERROR,
                f"the remote shell on {target} did not run the checks (exit "
                f"{returncode}): is /bin/sh usable for this account?",
                shown_line(err),
            ),
            elapsed_s=elapsed,
        )

    runs: list[NetworkRun] = []
    for net, mtu, targets, _family in work:
        tt = tuple(targets)
        if net not in out_sections:
            runs.append(
                NetworkRun(
                    net,
                    mtu,
                    tt,
                    None,
                    HostError(
                        ErrorKind.TIMEOUT if timed_out else ErrorKind.BAD_OUTPUT,
                        f"the session ended before the check of {net} ran"
                        + (
                            f" (timeout {options.timeout_s:g} s: raise --timeout)"
                            if timed_out
                            else ""
                        ),
                    ),
                )
            )
            continue
        text, rc = out_sections[net]
        err_text = err_sections.get(net, ("", None))[0]
        if rc is None and timed_out:
            runs.append(
                NetworkRun(
                    net,
                    mtu,
                    tt,
                    None,
                    HostError(
                        ErrorKind.TIMEOUT,
                        f"the check of {net} did not finish within {options.timeout_s:g} s: "
                        "raise --timeout",
                        shown_line(err_text),
                    ),
                )
            )
            continue
        runs.append(classify_check(net, mtu, tt, rc, text, err_text, host.command))
    return HostRun(name, tuple(runs), elapsed_s=elapsed)


def fan_out(
    inventory: Inventory,
    options: SshOptions,
    on_done: Callable[[HostRun], None] | None = None,
    hosts: Sequence[str] | None = None,
) -> list[HostRun]:
    """Run every host's session, ``options.concurrency`` at most at once, in inventory order.

    Whatever ends the wait early (an :class:`Interrupted` raised by a signal
    handler, KeyboardInterrupt, a bug) kills every running session's process
    group, starts no queued one and waits for the workers before it goes on;
    an :class:`Interrupted` leaves with :attr:`Interrupted.runs` filled in.
    """
    if options.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    if options.timeout_s <= 0 or options.connect_timeout_s <= 0:
        raise UsageError("--timeout and --connect-timeout must be positive")
    if options.ssh_config is not None and not os.path.isfile(options.ssh_config):
        raise UsageError(f"{options.ssh_config}: no such SSH configuration file (--ssh-config)")
    if shutil.which(options.ssh) is None:
        raise CannotMeasure(
            f"the OpenSSH client {options.ssh!r} is not installed: apt-get install openssh-client"
        )
    names = list(hosts) if hosts is not None else [h.name for h in inventory.hosts]
    results: dict[str, HostRun] = {}
    sessions = Sessions()
    futures: dict[Future[HostRun], str] = {}
    pool = ThreadPoolExecutor(max_workers=min(options.concurrency, max(1, len(names))))
    try:
        for n in names:
            futures[pool.submit(run_host, inventory, n, options, sessions)] = n
        for fut in as_completed(futures):
            run = fut.result()
            results[futures[fut]] = run
            if on_done is not None:
                on_done(run)
    except BaseException as exc:
        sessions.stop()
        pool.shutdown(wait=True, cancel_futures=True)
        if isinstance(exc, Interrupted):
            for fut, n in futures.items():
                finished = n not in results and fut.done() and not fut.cancelled()
                if finished and fut.exception() is None:
                    results[n] = fut.result()
            exc.runs = [results.get(n) or interrupted_run(n) for n in names]
        raise
    pool.shutdown(wait=True)
    return [results[n] for n in names]
