"""Running Ansible's own commands: found, bounded in time, output and memory, one-line errors.

``ansible-inventory`` is looked for next to jumbopath's interpreter (the same
virtual environment), then on ``PATH``. Every run is a subprocess in its own
process group (killed whole: an inventory script and its children too) with
a timeout, at most :data:`MAX_OUTPUT` bytes read from each stream and at most
:data:`MAX_MEMORY` bytes of address space; a failure is one line naming the
source and Ansible's own error, made safe for a terminal.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jumbopath.errors import CannotMeasure, UsageError
from jumbopath.mesh.inventory.validate import SHOWN
from jumbopath.safe import safe_text

TIMEOUT_S = 300.0
"""Longest an Ansible command may take to read the inventory (cloud plugins can be slow)."""
MAX_OUTPUT = 64 * 1024 * 1024
"""Most bytes read from Ansible's standard output (and from its standard error)."""
MAX_MEMORY = 4 * 1024 * 1024 * 1024
"""Address space allowed to an Ansible command (``RLIMIT_AS``): a hostile inventory
script cannot make it take the machine's memory."""
MAX_OPTION = 4096
"""Longest inventory source or vault option passed on."""

INSTALL = "install ansible-core (pip install ansible-core) so jumbopath can ask Ansible"
"""The advice given when a source needs Ansible and it is not installed."""


class NeedsAnsible(UsageError):
    """A source the built-in readers cannot read (a script, a plugin, vault): Ansible can."""


_ERROR_RE = re.compile(r"^\s*(?:\[ERROR\]:|ERROR!)\s*(.*)$")
_PLUGIN_RE = re.compile(r"^\[WARNING\]:\s*\*?\s*Failed to parse .*?with '?([\w.]+)'? plugin: (.*)$")


@dataclass(frozen=True, slots=True)
class AnsibleOptions:
    """How to ask Ansible: vault secrets and limits (``mesh``/``report`` options)."""

    vault_password_files: tuple[str, ...] = ()
    """``--vault-password-file`` values, passed on in order."""
    vault_ids: tuple[str, ...] = ()
    """``--vault-id`` values (``label@source``), passed on in order."""
    ask_vault_pass: bool = False
    """``--ask-vault-pass``: Ansible prompts on the terminal."""
    prefer: bool = True
    """Read every Ansible source with Ansible when it is installed (the commands do);
    False: only sources the built-in reader cannot read."""
    timeout_s: float = TIMEOUT_S
    """Limit for each Ansible command, seconds."""
    max_output: int = MAX_OUTPUT
    """Limit on each stream of each Ansible command, bytes."""

    @property
    def vault(self) -> bool:
        """Whether any vault option was given."""
        return bool(self.vault_password_files or self.vault_ids or self.ask_vault_pass)

    def vault_args(self) -> list[str]:
        """The vault options as arguments (``--opt=value``: a value is never an option)."""
        args = [
            f"--vault-password-file={_option(f, '--vault-password-file')}"
            for f in self.vault_password_files
        ]
        args += [f"--vault-id={_option(v, '--vault-id')}" for v in self.vault_ids]
        if self.ask_vault_pass:
            args.append("--ask-vault-pass")
        return args


def _option(value: str, option: str) -> str:
    if not value or len(value) > MAX_OPTION or "\x00" in value:
        raise UsageError(f"{option}: give a file name of at most {MAX_OPTION} characters")
    return value


def find_ansible_inventory() -> str | None:
    """The ``ansible-inventory`` command: beside this interpreter, else on PATH; None if absent."""
    beside = Path(sys.executable).parent / "ansible-inventory"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("ansible-inventory")


def ansible_python(inventory_cmd: str, timeout_s: float) -> list[str]:
    """The interpreter ansible-core runs under (its command's ``#!`` line, else ``--version``)."""
    try:
        with open(inventory_cmd, "rb") as fh:
            first = fh.readline(512).decode("utf-8", "replace").strip()
    except OSError:
        first = ""
    if first.startswith("#!"):
        words = first[2:].split()
        if words and Path(words[0]).name == "env":
            words = [w for w in words[1:] if not w.startswith("-")]
        if words and Path(words[0]).name.startswith("python"):
            return words[:1]
    out = run([inventory_cmd, "--version"], "ansible-inventory --version", timeout_s, 1 << 16)
    m = re.search(r"python version = .*\((/[^)]+)\)\s*$", out, re.MULTILINE)
    if m is None:
        raise CannotMeasure(
            "cannot tell which Python runs Ansible (ansible-inventory --version names none)"
        )
    return [m.group(1)]


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    import resource

    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (MAX_MEMORY, MAX_MEMORY))


def ansible_env() -> dict[str, str]:
    """The environment for Ansible: the caller's (config, cloud credentials), no colours,
    and a source Ansible cannot parse is an error rather than a warning (unless set)."""
    env = dict(os.environ)
    env["ANSIBLE_NOCOLOR"] = "1"
    env.pop("ANSIBLE_FORCE_COLOR", None)
    env.setdefault("ANSIBLE_INVENTORY_UNPARSED_FAILED", "1")
    env.setdefault("ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED", "1")
    env.setdefault("ANSIBLE_DEPRECATION_WARNINGS", "0")
    env.setdefault("ANSIBLE_LOCALHOST_WARNING", "0")
    return env


def run(
    argv: Sequence[str],
    what: str,
    timeout_s: float,
    max_output: int,
    *,
    interactive: bool = False,
    source: str = "",
) -> str:
    """Run an Ansible command; its standard output, or one line saying why not.

    ``interactive`` keeps the terminal (a vault password prompt); otherwise
    standard input is empty and the command gets its own session.
    """
    from jumbopath.mesh.sessions import Sessions, collect
    from jumbopath.procs import track

    where = f"{safe_text(source, 200)}: " if source else ""
    try:
        proc = subprocess.Popen(  # noqa: S603 - a fixed command, arguments never reach a shell
            list(argv),
            stdin=None if interactive else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=ansible_env(),
            start_new_session=not interactive,
            preexec_fn=_limit_memory,  # noqa: PLW1509 - before any thread of the fan-out starts
        )
    except OSError as exc:
        raise CannotMeasure(
            f"{where}cannot run {what}: {safe_text(exc.strerror or exc, SHOWN)}"
        ) from exc
    if not interactive:
        track(proc)  # its own group: killed with the others on any way out
    try:
        out = collect(proc, timeout_s, Sessions(), limit=max_output)
    finally:
        if proc.poll() is None:
            with contextlib.suppress(OSError):
                if interactive:
                    proc.kill()
                else:
                    os.killpg(proc.pid, 9)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=2)
    if out.timed_out:
        raise CannotMeasure(f"{where}{what} did not finish within {timeout_s:g} s")
    if out.too_large is not None:
        raise UsageError(
            f"{where}{what} printed more than {max_output // (1024 * 1024)} MiB on "
            f"{out.too_large}: jumbopath reads at most that much"
        )
    if proc.returncode != 0:
        raise UsageError(f"{where}{what} failed: {error_line(out.stderr, out.stdout)}")
    return out.stdout


def error_line(stderr: str, stdout: str = "") -> str:
    """Ansible's own error, as one short safe line (with the inventory plugin's reason)."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    reasons: dict[str, str] = {}
    for line in lines:
        m = _PLUGIN_RE.match(line)
        if m:
            reasons.setdefault(m.group(1), m.group(2))
    first = next((m.group(1) or ln for ln in lines if (m := _ERROR_RE.match(ln))), None)
    if first is None:
        first = lines[-1] if lines else ""
    if reasons:
        auto = reasons.get("auto", "")
        order = (["auto"] if auto and "no root 'plugin' key" not in auto else []) + [
            "script",
            "yaml",
            "ini",
            *reasons,
        ]
        plugin = next(p for p in order if p in reasons)
        first = f"{first} ({plugin} plugin: {safe_text(reasons[plugin], 200)})"
    if first:
        return safe_text(first, 400)
    tail = [ln.strip() for ln in stdout.splitlines() if ln.strip()]
    return safe_text(tail[-1], 300) if tail else "no message (exit status not 0)"
