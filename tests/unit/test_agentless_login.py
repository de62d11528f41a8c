"""The control connection of an agentless host: a login the server drops
(``MaxStartups``) is tried again, a bounded number of times; a refusal that
retrying cannot cure is named at once.

A stand-in ``ssh`` (a shell script) plays the OpenSSH client: it fails the
first logins with the message OpenSSH prints, then opens the control socket
as ``ssh -M -S SOCKET -N`` does, and stays up until it is killed.
"""

from __future__ import annotations

import stat
import time
from pathlib import Path

import pytest

from jumbopath.mesh import agentless
from jumbopath.mesh.agentless import LOGIN_ATTEMPTS, Control
from jumbopath.mesh.inventory.model import Agent, MeshHost
from jumbopath.mesh.runs import ErrorKind
from jumbopath.mesh.sessions import Sessions
from jumbopath.mesh.ssh import SshOptions

DROPPED = "kex_exchange_identification: Connection closed by remote host"
DENIED = "root@198.18.0.11: Permission denied (publickey)."
UNANSWERED = "ssh: connect to host 198.18.0.11 port 22: Connection timed out"
SLOW = "Connection timed out during banner exchange"


def fake_ssh(tmp: Path, failures: int, message: str) -> tuple[str, Path]:
    """An ``ssh`` whose first ``failures`` logins fail with ``message``; the count file."""
    count = tmp / "logins"
    count.write_text("")
    script = tmp / "ssh"
    script.write_text(
        "#!/bin/sh\n"
        f"echo x >> {count}\n"
        f'if [ "$(wc -l < {count})" -le {failures} ]; then echo "{message}" >&2; exit 255; fi\n'
        'while [ $# -gt 0 ]; do [ "$1" = -S ] && sock=$2; shift; done\n'
        'touch "$sock"; exec sleep 30\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script), count


HOST = MeshHost("s1", "198.18.0.11", user="root", agent=Agent.PING)


def logins(count: Path) -> int:
    return len(count.read_text().splitlines())


@pytest.mark.parametrize("message", [DROPPED, SLOW])
def test_a_dropped_or_slow_login_is_tried_again(tmp_path: Path, message: str) -> None:
    ssh, count = fake_ssh(tmp_path, LOGIN_ATTEMPTS - 1, message)
    control = Control(HOST, SshOptions(ssh=ssh, connect_timeout_s=2), Sessions())
    try:
        start = time.monotonic()
        assert control.open() is None
        assert logins(count) == LOGIN_ATTEMPTS
        assert time.monotonic() - start < 10
    finally:
        control.close()


def test_retries_are_bounded_and_the_last_reason_is_kept(tmp_path: Path) -> None:
    ssh, count = fake_ssh(tmp_path, 99, DROPPED)
    control = Control(HOST, SshOptions(ssh=ssh, connect_timeout_s=2), Sessions())
    try:
        failed = control.open()
        assert failed is not None and failed.kind is ErrorKind.CONNECTION_CLOSED
        assert logins(count) == LOGIN_ATTEMPTS
    finally:
        control.close()


@pytest.mark.parametrize(
    ("message", "kind"),
    [(DENIED, ErrorKind.PERMISSION_DENIED), (UNANSWERED, ErrorKind.CONNECT_TIMEOUT)],
)
def test_a_refused_key_or_a_host_that_never_answers_is_not_tried_again(
    tmp_path: Path, message: str, kind: ErrorKind
) -> None:
    ssh, count = fake_ssh(tmp_path, 99, message)
    control = Control(HOST, SshOptions(ssh=ssh, connect_timeout_s=2), Sessions())
    try:
        failed = control.open()
        assert failed is not None and failed.kind is kind
        assert logins(count) == 1
    finally:
        control.close()


def test_a_login_that_does_not_finish_in_time_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection is made but the login hangs (a loaded server): tried again."""
    monkeypatch.setattr(agentless, "LOGIN_S", 0.5)
    count = tmp_path / "logins"
    count.write_text("")
    script = tmp_path / "ssh"
    script.write_text(f"#!/bin/sh\necho x >> {count}\nexec sleep 30\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    control = Control(HOST, SshOptions(ssh=str(script), connect_timeout_s=1), Sessions())
    try:
        failed = control.open()
        assert failed is not None and failed.kind is ErrorKind.CONNECT_TIMEOUT
        assert logins(count) == LOGIN_ATTEMPTS
    finally:
        control.close()
