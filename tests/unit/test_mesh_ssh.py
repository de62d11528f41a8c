"""The SSH fan-out: the remote script (run by a real /bin/sh), failure classification, timeouts.

The network side (real sshd, real keys) is in tests/lab/test_mesh_lab.py. Here a
local stand-in for the ``ssh`` program runs the remote command with ``sh -c``
on this machine, so the framing, the per-network exit statuses, the
concurrency bound and the overall timeout are exercised end to end without
any network.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path

import pytest
from test_mesh_helpers import check_doc, result

from jumbopath.errors import CannotMeasure, UsageError
from jumbopath.mesh.inventory import Inventory, MeshHost, Network
from jumbopath.mesh.runs import ErrorKind, classify_check, remote_script, split_sections
from jumbopath.mesh.ssh import SshOptions, classify_ssh, fan_out, ssh_argv

HOST = MeshHost("n1", "198.18.0.11", user="root", port=22)

# What OpenSSH 9 prints on stderr (exit status 255) in each case.
SSH_STDERR = [
    (
        "ssh: connect to host 198.18.0.11 port 22: Connection refused\r\n",
        ErrorKind.CONNECTION_REFUSED,
        "is sshd running there",
    ),
    (
        "ssh: connect to host 198.18.0.11 port 22: Connection timed out\r\n",
        ErrorKind.CONNECT_TIMEOUT,
        "within the connect timeout",
    ),
    (
        "ssh: connect to host 198.18.0.11 port 22: No route to host\r\n",
        ErrorKind.NO_ROUTE,
        "no route to 198.18.0.11",
    ),
    (
        "ssh: connect to host 198.18.0.11 port 22: Network is unreachable\r\n",
        ErrorKind.NO_ROUTE,
        "no route",
    ),
    (
        "ssh: Could not resolve hostname n1.example: Name or service not known\r\n",
        ErrorKind.NAME_UNKNOWN,
        "cannot resolve",
    ),
    (
        "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\r\n"
        "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\r\n"
        "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\r\n"
        "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\r\n"
        "Host key for 198.18.0.11 has changed and you have requested strict checking.\r\n"
        "Host key verification failed.\r\n",
        ErrorKind.HOST_KEY_CHANGED,
        "wrong or changed host key",
    ),
    (
        "No ED25519 host key is known for 198.18.0.11 and you have requested strict checking.\r\n"
        "Host key verification failed.\r\n",
        ErrorKind.HOST_KEY_UNKNOWN,
        "could not be verified",
    ),
    ("Host key verification failed.\r\n", ErrorKind.HOST_KEY, "could not be verified"),
    (
        "root@198.18.0.11: Permission denied (publickey).\r\n",
        ErrorKind.PERMISSION_DENIED,
        "refused the login for root",
    ),
    (
        "kex_exchange_identification: read: Connection reset by peer\r\n",
        ErrorKind.CONNECTION_CLOSED,
        "closed the SSH connection",
    ),
    (
        "Bad owner or permissions on /root/.ssh/config\r\n",
        ErrorKind.SSH_ERROR,
        "Bad owner or permissions",
    ),
]


@pytest.mark.parametrize(
    ("stderr", "kind", "words"),
    SSH_STDERR,
    ids=[k.value + str(i) for i, (_, k, _) in enumerate(SSH_STDERR)],
)
def test_classify_ssh(stderr: str, kind: ErrorKind, words: str) -> None:
    err = classify_ssh(stderr, HOST)
    assert err.kind is kind
    assert words in err.message
    assert err.detail


def test_ssh_argv_keeps_host_key_checking_and_batch_mode() -> None:
    argv = ssh_argv(
        MeshHost("n1", "198.18.0.11", "admin", 2222, identity_file="/k"),
        "true",
        SshOptions(ssh_config="/cfg", connect_timeout_s=3),
    )
    assert argv[:3] == ["ssh", "-F", "/cfg"]
    assert "BatchMode=yes" in argv and "ConnectTimeout=3" in argv
    assert not any("StrictHostKeyChecking" in a or "UserKnownHostsFile" in a for a in argv)
    assert argv[argv.index("-p") + 1] == "2222"
    assert argv[argv.index("-l") + 1] == "admin"
    assert argv[argv.index("-i") + 1] == "/k"
    assert argv[-3:] == ["--", "198.18.0.11", "true"]


# ---------------------------------------------------------------- the remote script

FAKE_CHECK = r"""
import json, sys, time
args = sys.argv[1:]
assert args[:4] == ["check", "--json", "--expect", args[3]], args
expect = int(args[3])
targets = [a for a in args[4:] if not a.startswith("-")]
if "198.18.9.9" in targets:           # a check that cannot measure
    print("jumbopath: error: raw sockets need root or CAP_NET_RAW: run with sudo", file=sys.stderr)
    sys.exit(3)
if "198.18.8.8" in targets:           # a hanging check
    time.sleep(30)
def verdict(t):
    return ("below", 1500) if t == "198.18.1.3" and expect == 9000 else ("ok", expect)
doc = {"schema": 1, "expected_mtu": expect, "findings": [], "results": [
    {"target": t, "address": t, "family": 4, "status": verdict(t)[0], "path_mtu": verdict(t)[1],
     "direction": None, "break": None, "interface": "eth1", "interface_mtu": expect}
    for t in targets]}
status = "below" if any(verdict(t)[0] == "below" for t in targets) else "ok"
print("some progress noise on stderr", file=sys.stderr)
print(json.dumps(doc))
sys.exit(1 if status == "below" else 0)
"""


@pytest.fixture
def fake_check(tmp_path: Path) -> str:
    p = tmp_path / "fake_check.py"
    p.write_text(FAKE_CHECK)
    return f"{sys.executable} {p}"


@pytest.fixture
def local_ssh(tmp_path: Path) -> str:
    """An ``ssh`` stand-in: drops the options and the host, runs the command with sh here."""
    p = tmp_path / "ssh"
    p.write_text(
        "#!/bin/sh\n"
        'while [ "$1" != "--" ]; do shift; done\n'
        "shift; host=$1; shift\n"
        'case $host in refused*) echo "ssh: connect to host $host port 22: '
        'Connection refused" >&2; exit 255;; esac\n'
        'exec sh -c "$1"\n'
    )
    p.chmod(p.stat().st_mode | stat.S_IXUSR)
    return str(p)


def run_script(script: str) -> tuple[str, str, int]:
    import subprocess

    proc = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=60)
    return proc.stdout, proc.stderr, proc.returncode


def test_one_session_runs_every_network_and_keeps_them_apart(fake_check: str) -> None:
    script = remote_script(
        fake_check,
        [
            ("storage", 9000, ["198.18.1.2", "198.18.1.3"], None),
            ("mgmt", 1500, ["198.18.0.2"], 4),
            ("broken", 9000, ["198.18.9.9"], None),
        ],
        "abc123",
    )
    out, err, rc = run_script(script)
    assert rc == 0
    so, se = split_sections(out, "abc123"), split_sections(err, "abc123")
    assert set(so) == {"storage", "mgmt", "broken"}
    assert so["storage"][1] == 1 and so["mgmt"][1] == 0 and so["broken"][1] == 3
    storage = classify_check(
        "storage", 9000, (), so["storage"][1], so["storage"][0], se["storage"][0]
    )
    assert storage.check is not None
    assert [r["status"] for r in storage.check["results"]] == ["ok", "below"]
    broken = classify_check("broken", 9000, (), so["broken"][1], so["broken"][0], se["broken"][0])
    assert broken.error is not None and broken.error.kind is ErrorKind.CHECK_ERROR
    assert "raw sockets need root" in broken.error.message
    assert "some progress noise" in se["storage"][0]


def test_missing_command_is_not_installed() -> None:
    script = remote_script("/nonexistent/jumbopath", [("s", 9000, ["198.18.1.2"], None)], "n")
    out, err, _ = run_script(script)
    text, rc = split_sections(out, "n")["s"]
    run = classify_check(
        "s", 9000, (), rc, text, split_sections(err, "n")["s"][0], "/nonexistent/jumbopath"
    )
    assert rc == 127
    assert run.error is not None and run.error.kind is ErrorKind.NOT_INSTALLED
    assert "'/nonexistent/jumbopath' is not installed" in run.error.message
    assert "not found" in run.error.detail or "No such file" in run.error.detail


def test_missing_python_module_is_not_installed() -> None:
    run = classify_check(
        "s",
        9000,
        (),
        1,
        "",
        "/usr/bin/python3: No module named jumbopath",
        "/usr/bin/python3 -m jumbopath",
    )
    assert run.error is not None and run.error.kind is ErrorKind.NOT_INSTALLED


@pytest.mark.parametrize(
    ("rc", "stdout", "stderr", "kind"),
    [
        (2, "", "jumbopath: error: no such option: --json", ErrorKind.CHECK_USAGE),
        (0, "not json", "", ErrorKind.BAD_OUTPUT),
        (0, json.dumps({"schema": 2, "results": []}), "", ErrorKind.BAD_OUTPUT),
        (None, "{", "", ErrorKind.BAD_OUTPUT),
        (137, "", "Killed", ErrorKind.CHECK_ERROR),
    ],
)
def test_classify_check_failures(rc: int | None, stdout: str, stderr: str, kind: ErrorKind) -> None:
    run = classify_check("s", 9000, (), rc, stdout, stderr)
    assert run.error is not None and run.error.kind is kind
    assert run.check is None


def test_classify_check_success() -> None:
    doc = check_doc(9000, [result("198.18.1.2")])
    run = classify_check("s", 9000, (), 0, json.dumps(doc) + "\n", "")
    assert run.error is None and run.check == doc


def test_split_sections_ignores_lines_without_the_nonce() -> None:
    text = "@@jumbopath-other begin s\nx\n@@jumbopath-n begin s\n{}\n@@jumbopath-n end s 0\n"
    assert split_sections(text, "n") == {"s": ("{}", 0)}
    assert split_sections("@@jumbopath-n begin s\n{\n", "n") == {"s": ("{", None)}


# ---------------------------------------------------------------- fan-out


def inventory(n: int, command: str, extra: list[MeshHost] | None = None) -> Inventory:
    hosts = [MeshHost(f"h{i}", f"198.18.0.{i}", command=command) for i in range(1, n + 1)]
    hosts += extra or []
    storage = Network(
        "storage", 9000, tuple((h.name, f"198.18.1.{i}") for i, h in enumerate(hosts, 1))
    )
    return Inventory(tuple(hosts), (storage,), "test")


def test_fan_out_collects_every_host_and_keeps_going_after_failures(
    fake_check: str, local_ssh: str
) -> None:
    inv = inventory(4, fake_check, [MeshHost("dead", "refused.example", command=fake_check)])
    done: list[str] = []
    runs = fan_out(
        inv, SshOptions(ssh=local_ssh, concurrency=2, timeout_s=30), lambda r: done.append(r.host)
    )
    assert [r.host for r in runs] == ["h1", "h2", "h3", "h4", "dead"]
    assert sorted(done) == sorted(r.host for r in runs)
    dead = runs[-1]
    assert dead.error is not None and dead.error.kind is ErrorKind.CONNECTION_REFUSED
    assert all(r.error is None and r.networks[0].check is not None for r in runs[:4])


def test_per_host_timeout_kills_the_session_and_keeps_finished_networks(
    fake_check: str, local_ssh: str
) -> None:
    hosts = (
        MeshHost("h1", "198.18.0.1", command=fake_check),
        MeshHost("h2", "198.18.0.2", command=fake_check),
    )
    nets = (
        Network("mgmt", 1500, (("h1", "198.18.0.1"), ("h2", "198.18.0.2"))),
        Network("slow", 9000, (("h1", "198.18.8.7"), ("h2", "198.18.8.8"))),
    )
    inv = Inventory(hosts, nets, "t")
    start = time.monotonic()
    runs = fan_out(inv, SshOptions(ssh=local_ssh, timeout_s=2), hosts=["h1"])
    assert time.monotonic() - start < 10
    (h1,) = runs
    mgmt, slow = h1.networks
    assert mgmt.check is not None
    assert slow.error is not None and slow.error.kind is ErrorKind.TIMEOUT
    assert "raise --timeout" in slow.error.message


def test_bad_options(tmp_path: Path) -> None:
    inv = inventory(2, "jumbopath")
    with pytest.raises(UsageError, match="--concurrency"):
        fan_out(inv, SshOptions(concurrency=0))
    with pytest.raises(UsageError, match="no such SSH configuration file"):
        fan_out(inv, SshOptions(ssh_config=str(tmp_path / "nope")))
    with pytest.raises(CannotMeasure, match="openssh-client"):
        fan_out(inv, SshOptions(ssh=str(tmp_path / "no-ssh-here")))
    assert os.path.exists(tmp_path)
