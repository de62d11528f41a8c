"""A real OpenSSH server in lab namespaces, with keys and known_hosts made per run.

Each node given gets its own ``/usr/sbin/sshd`` (Debian's openssh-server),
running in the node's namespace in the foreground (``-D``) and listening on
one lab address only, with the distribution's defaults where it matters:
``StrictModes yes``, ``MaxSessions 10``, ``MaxStartups 10:30:100``. Host keys,
the client key, ``known_hosts`` and an ``ssh_config`` for ``ssh -F`` live in
a private folder (mode 700) under ``/run``, whose parents no one else may
write: StrictModes refuses an ``authorized_keys`` below ``/tmp``::

    with Lab(topology) as lab, SshLab(lab, ["n1", "n2"], peer="swm") as ssh:
        lab.run("ctl", ["ssh", "-F", str(ssh.config), ssh.addr("n1"), "true"])

Every sshd is killed on close (and the lab kills whatever is left in its
namespaces at teardown). Only lab addresses (198.18.0.0/15) are used.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from jumbopath.lab import Lab

SSHD = "/usr/sbin/sshd"
REPO = Path(__file__).resolve().parents[2]
#: Where the keys live: root's own, writable by nobody else (unlike /tmp).
SECURE_BASE = "/run"

# The remote jumbopath: this interpreter and this source tree, whatever sshd's PATH is.
REMOTE_COMMAND = f"env PYTHONPATH={REPO} {sys.executable} -m jumbopath"


def tools_missing() -> list[str]:
    """OpenSSH programs this helper needs that are not installed."""
    need = [SSHD, "ssh", "ssh-keygen"]
    return [t for t in need if not (os.path.exists(t) if t.startswith("/") else shutil.which(t))]


def _keygen(path: Path, comment: str) -> str:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return Path(str(path) + ".pub").read_text().strip()


class SshLab:
    """sshd on lab nodes, and a client configuration that trusts exactly their host keys."""

    def __init__(self, lab: Lab, nodes: Sequence[str], peer: str | None = None) -> None:
        self.lab = lab
        self.nodes = list(nodes)
        self.peer = peer
        """The switch or node whose link carries SSH (management); None: the first address."""
        # StrictModes checks every folder above authorized_keys: none may be
        # group or world writable, so not /tmp (mode 1777).
        self.dir = Path(tempfile.mkdtemp(prefix="jumbopath-sshlab-", dir=SECURE_BASE))
        os.chmod(self.dir, 0o700)
        self.config = self.dir / "ssh_config"
        """``ssh -F`` file: the client key, known_hosts, BatchMode-friendly settings."""
        self.known_hosts = self.dir / "known_hosts"
        self.key = self.dir / "id_ed25519"
        self.host_pub: dict[str, str] = {}
        self._procs: dict[str, subprocess.Popen[Any]] = {}

    # -- addresses ---------------------------------------------------------

    def addr(self, node: str) -> str:
        """The address sshd on ``node`` listens on."""
        if self.peer is not None:
            return self.lab.addr(node, 4, peer=self.peer)
        return self.lab.addr(node, 4)

    # -- life cycle --------------------------------------------------------

    def __enter__(self) -> SshLab:
        try:
            self.open()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def open(self) -> None:
        """Make the keys and configuration, start every sshd, wait until each accepts."""
        os.makedirs("/run/sshd", exist_ok=True)
        _keygen(self.key, "jumbopath-lab-client")
        authorized = self.dir / "authorized_keys"
        authorized.write_text(Path(str(self.key) + ".pub").read_text())
        authorized.chmod(0o600)
        for node in self.nodes:
            pub = _keygen(self.dir / f"host_{node}", f"host-{node}")
            self.host_pub[node] = " ".join(pub.split()[:2])
        self.known_hosts.write_text(
            "".join(f"{self.addr(n)} {self.host_pub[n]}\n" for n in self.nodes)
        )
        self.config.write_text(self.client_config(self.known_hosts))
        for node in self.nodes:
            (self.dir / f"sshd_{node}.conf").write_text(self._server_config(node))
            self.start(node)

    def client_config(self, known_hosts: Path, key: Path | None = None) -> str:
        """An ``ssh -F`` file using ``known_hosts`` (host-key checking stays strict)."""
        return (
            "Host *\n"
            "  User root\n"
            f"  IdentityFile {key or self.key}\n"
            "  IdentitiesOnly yes\n"
            f"  UserKnownHostsFile {known_hosts}\n"
            "  GlobalKnownHostsFile /dev/null\n"
            "  StrictHostKeyChecking yes\n"
            "  ControlMaster no\n"
            "  ServerAliveInterval 5\n"
        )

    def _server_config(self, node: str, authorized: Path | None = None) -> str:
        return (
            f"ListenAddress {self.addr(node)}\n"
            "Port 22\n"
            f"HostKey {self.dir / f'host_{node}'}\n"
            f"PidFile {self.dir / f'sshd_{node}.pid'}\n"
            f"AuthorizedKeysFile {authorized or self.dir / 'authorized_keys'}\n"
            "StrictModes yes\n"
            "PermitRootLogin prohibit-password\n"
            "PubkeyAuthentication yes\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "UsePAM no\n"
            "UseDNS no\n"
            "MaxStartups 10:30:100\n"
            "MaxSessions 10\n"
            "LogLevel ERROR\n"
            "Subsystem sftp internal-sftp\n"
        )

    def start(self, node: str) -> None:
        """Start (or restart) sshd on ``node`` and wait until it accepts connections."""
        self.stop(node)
        log = open(self.dir / f"sshd_{node}.log", "ab")  # noqa: SIM115 - closed with the process
        try:
            proc = self.lab.popen(
                node,
                self._without_shell_setup(
                    [SSHD, "-D", "-e", "-f", str(self.dir / f"sshd_{node}.conf")]
                ),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        finally:
            log.close()
        self._procs[node] = proc
        self._wait_listening(node, proc)

    def _without_shell_setup(self, argv: list[str]) -> list[str]:
        """``argv`` in a private mount namespace where the login user's ~/.bashrc is empty.

        bash reads ~/.bashrc for every SSH command; on a machine whose root
        account sets up pyenv there, each session may rehash pyenv's shims
        under a lock, and a session killed meanwhile leaves the lock behind,
        so every later session waits for it. The lab's sessions are about
        the network, not that: they get an empty file instead, and the
        machine's own file is untouched.
        """
        bashrc = Path(os.path.expanduser("~root/.bashrc"))
        if not bashrc.is_file():
            return argv
        empty = self.dir / "empty_bashrc"
        empty.touch()
        script = 'mount --bind "$1" "$2" && shift 2 && exec "$@"'
        return [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
            "sh",
            str(empty),
            str(bashrc),
            *argv,
        ]

    def _wait_listening(self, node: str, proc: subprocess.Popen[Any]) -> None:
        addr = self.addr(node)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                log = (self.dir / f"sshd_{node}.log").read_text(errors="replace")
                raise RuntimeError(f"sshd on {node} exited ({proc.returncode}): {log[-500:]}")
            r = self.lab.run(node, ["ss", "-Hltn", f"src {addr}:22"], timeout=5)
            if r.stdout.strip():
                return
            time.sleep(0.05)
        raise RuntimeError(f"sshd on {node} did not listen on {addr}:22 within 10 s")

    def stop(self, node: str) -> None:
        """Stop sshd on ``node`` (its connections end too)."""
        proc = self._procs.pop(node, None)
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)

    def close(self) -> None:
        """Stop every sshd and remove the keys."""
        for node in list(self._procs):
            self.stop(node)
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- variations for tests ----------------------------------------------

    def refuse_keys(self, node: str, refuse: bool = True) -> None:
        """Restart sshd on ``node`` accepting no client key (or the usual one again)."""
        empty = self.dir / "no_keys"
        empty.write_text("")
        empty.chmod(0o600)
        conf = self._server_config(node, empty if refuse else None)
        (self.dir / f"sshd_{node}.conf").write_text(conf)
        self.start(node)

    def config_with_wrong_host_key(self, node: str) -> Path:
        """An ``ssh -F`` file whose known_hosts holds a different key for ``node``."""
        other = _keygen(self.dir / f"impostor_{node}", "impostor")
        lines = [
            f"{self.addr(n)} {' '.join(other.split()[:2]) if n == node else self.host_pub[n]}\n"
            for n in self.nodes
        ]
        kh = self.dir / f"known_hosts_wrong_{node}"
        kh.write_text("".join(lines))
        cfg = self.dir / f"ssh_config_wrong_{node}"
        cfg.write_text(self.client_config(kh))
        return cfg
