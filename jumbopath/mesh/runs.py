"""What each source host measured: its ``check --json`` output per network, or why not.

The same records come from two places: the SSH fan-out of ``jumbopath mesh``
and the per-host files that ``jumbopath report`` merges (written by the
Ansible playbook in ``examples/ansible/``, or by hand).

A *source file* names the host it was measured from and wraps one
``check --json`` output per network::

    {"schema": 1, "host": "node1",
     "networks": [{"name": "storage", "mtu": 9000,
                   "targets": {"node2": "198.18.1.12", "node3": "198.18.1.13"},
                   "rc": 0, "stdout": "<check --json output>", "stderr": ""}]}

``"check"`` (the parsed object) may stand instead of ``"stdout"``. A plain
``check --json`` document is accepted too: the host is then the file name
without ``.json``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from jumbopath.errors import UsageError


class ErrorKind(str, Enum):
    """Why a host's row (or one network of it) could not be measured."""

    CONNECTION_REFUSED = "connection-refused"
    CONNECT_TIMEOUT = "connect-timeout"
    NO_ROUTE = "no-route"
    NAME_UNKNOWN = "name-unknown"
    HOST_KEY_CHANGED = "host-key-changed"
    HOST_KEY_UNKNOWN = "host-key-unknown"
    HOST_KEY = "host-key"
    PERMISSION_DENIED = "permission-denied"
    CONNECTION_CLOSED = "connection-closed"
    SSH_ERROR = "ssh-error"
    TIMEOUT = "timeout"
    NOT_INSTALLED = "not-installed"
    CHECK_USAGE = "check-usage"
    CHECK_ERROR = "check-error"
    BAD_OUTPUT = "bad-output"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class HostError:
    """Why a row could not be measured, in words the admin can act on."""

    kind: ErrorKind
    """Stable short name (JSON ``"kind"``)."""
    message: str
    """One sentence: what happened and what to do."""
    detail: str = ""
    """The decisive line from ssh's or jumbopath's stderr, verbatim."""


@dataclass(frozen=True, slots=True)
class NetworkRun:
    """One ``check --json`` run on one source host toward the other members of one network."""

    network: str
    """Network name."""
    mtu: int
    """Expected MTU passed as ``--expect``."""
    targets: tuple[tuple[str, str], ...]
    """(destination host, address) probed."""
    check: Mapping[str, Any] | None
    """The parsed ``check --json`` document; None when the run failed."""
    error: HostError | None = None
    """Why there is no document."""
    rc: int | None = None
    """Exit status of the remote ``check``."""


@dataclass(frozen=True, slots=True)
class HostRun:
    """Everything measured from one source host."""

    host: str
    """Source host (inventory name)."""
    networks: tuple[NetworkRun, ...] = ()
    """One per network the host is on."""
    error: HostError | None = None
    """Why nothing at all was measured from this host (SSH failed, timed out)."""
    elapsed_s: float = 0.0
    """Wall time of the host's SSH session."""


# --------------------------------------------------------------------------
# Remote command: one session, one ``check`` per network, sections marked


def remote_script(
    command: str, runs: list[tuple[str, int, list[str], int | None]], nonce: str
) -> str:
    """The POSIX shell script one SSH session runs.

    ``runs`` holds (network, expected MTU, addresses, family). The checks of
    all networks start at once (each into its own temporary files); their
    outputs are then printed in order, each framed by marker lines carrying
    ``nonce`` on both streams, with its exit status on the closing stdout
    marker. So one session gives every network's result separately, and the
    networks that finished are not lost when a later one hangs.
    """
    import shlex

    lines = [
        'd=$(mktemp -d 2>/dev/null) || { d=/tmp/jumbopath-mesh.$$; mkdir -p "$d"; }',
        "trap 'rm -rf \"$d\"' EXIT",
        "trap 'exit 1' HUP INT TERM",
    ]
    for i, (_network, mtu, addresses, family) in enumerate(runs):
        words = ["check", "--json", "--expect", str(mtu)]
        if family in (4, 6):
            words.append(f"-{family}")
        argv = " ".join([command] + [shlex.quote(w) for w in words + addresses])
        lines.append(f'{argv} </dev/null >"$d/{i}.out" 2>"$d/{i}.err" & p{i}=$!')
    for i, (network, _mtu, _addresses, _family) in enumerate(runs):
        begin = shlex.quote(f"@@jumbopath-{nonce} begin {network}")
        end = shlex.quote(f"@@jumbopath-{nonce} end {network}")
        lines.append(
            f'wait $p{i}; rc=$?; echo {begin}; cat "$d/{i}.out"; echo; echo {end} $rc; '
            f'{{ echo {begin}; cat "$d/{i}.err"; echo; echo {end}; }} >&2'
        )
    lines.append("exit 0")
    return "\n".join(lines)


def split_sections(text: str, nonce: str) -> dict[str, tuple[str, int | None]]:
    """Cut a stream into network → (text, exit status from the end marker, or None)."""
    begin = re.compile(rf"^@@jumbopath-{re.escape(nonce)} begin (\S+)$")
    end = re.compile(rf"^@@jumbopath-{re.escape(nonce)} end (\S+)(?: (\d+))?$")
    out: dict[str, tuple[str, int | None]] = {}
    current: str | None = None
    lines: list[str] = []
    for line in text.splitlines():
        m = begin.match(line)
        if m:
            current, lines = m.group(1), []
            out[current] = ("", None)
            continue
        m = end.match(line)
        if m and current is not None and current == m.group(1):
            out[current] = ("\n".join(lines), int(m.group(2)) if m.group(2) else None)
            current = None
            continue
        if current is not None:
            lines.append(line)
            out[current] = ("\n".join(lines), None)
    return out


def last_line(text: str) -> str:
    """The last non-empty line of some output."""
    for line in reversed(text.strip().splitlines()):
        if line.strip():
            return line.strip()
    return ""


def classify_check(
    network: str,
    mtu: int,
    targets: tuple[tuple[str, str], ...],
    rc: int | None,
    stdout: str,
    stderr: str,
    command: str = "jumbopath",
) -> NetworkRun:
    """Turn one remote ``check`` run (exit status and output) into a NetworkRun."""

    def failed(kind: ErrorKind, message: str) -> NetworkRun:
        return NetworkRun(
            network, mtu, targets, None, HostError(kind, message, last_line(stderr)), rc
        )

    word = command.split()[0] if command.split() else command
    missing_module = rc == 1 and not stdout.strip() and "No module named" in stderr
    if rc in (126, 127) or missing_module:
        return failed(
            ErrorKind.NOT_INSTALLED,
            f"{word!r} is not installed there (or not on the SSH session's PATH): install "
            "jumbopath on the host or set its command (jumbopath_command / command:) "
            "to the full path",
        )
    if rc == 3:
        detail = last_line(stderr).removeprefix("jumbopath: error: ")
        return failed(
            ErrorKind.CHECK_ERROR, f"jumbopath check could not measure there: {detail or 'exit 3'}"
        )
    if rc == 2:
        detail = last_line(stderr).removeprefix("jumbopath: error: ")
        return failed(
            ErrorKind.CHECK_USAGE,
            f"jumbopath check refused its arguments there ({detail or 'exit 2'}): is the remote "
            "jumbopath too old for --json/--expect?",
        )
    if rc is None:
        return failed(
            ErrorKind.BAD_OUTPUT, "jumbopath check did not finish (the session ended first)"
        )
    if rc not in (0, 1):
        return failed(
            ErrorKind.CHECK_ERROR,
            f"jumbopath check ended with exit status {rc}: {last_line(stderr)}",
        )
    try:
        doc = json.loads(stdout)
    except ValueError:
        return failed(
            ErrorKind.BAD_OUTPUT,
            f"jumbopath check printed no JSON document (first line: {stdout.strip()[:80]!r})",
        )
    problem = check_document_problem(doc)
    if problem:
        return failed(ErrorKind.BAD_OUTPUT, f"jumbopath check output: {problem}")
    return NetworkRun(network, mtu, targets, doc, None, rc)


def check_document_problem(doc: Any) -> str | None:
    """Why ``doc`` is not a ``check --json`` document of schema 1, or None when it is."""
    if not isinstance(doc, Mapping):
        return "expected a JSON object"
    if doc.get("schema") != 1:
        return f"schema {doc.get('schema')!r} is not 1 (jumbopath versions differ?)"
    results = doc.get("results")
    if not isinstance(results, list) or not all(isinstance(r, Mapping) for r in results):
        return "'results' is not a list of objects"
    for r in results:
        if not isinstance(r.get("target"), str) or r.get("status") not in (
            "ok",
            "below",
            "unreachable",
            "error",
        ):
            return "a result lacks 'target' or a known 'status'"
    return None


# --------------------------------------------------------------------------
# Source files (``jumbopath report``)


def source_document(run: HostRun) -> dict[str, Any]:
    """A HostRun as a source file (the format ``report`` reads)."""
    return {
        "schema": 1,
        "host": run.host,
        "error": None if run.error is None else _error_doc(run.error),
        "networks": [
            {
                "name": n.network,
                "mtu": n.mtu,
                "targets": dict(n.targets),
                "rc": n.rc,
                "check": n.check,
                "error": None if n.error is None else _error_doc(n.error),
            }
            for n in run.networks
        ],
    }


def _error_doc(e: HostError) -> dict[str, str]:
    return {"kind": e.kind.value, "message": e.message, "detail": e.detail}


def _error_from(doc: Any) -> HostError | None:
    if not isinstance(doc, Mapping):
        return None
    try:
        kind = ErrorKind(doc.get("kind"))
    except ValueError:
        kind = ErrorKind.CHECK_ERROR
    return HostError(kind, str(doc.get("message", "")), str(doc.get("detail", "")))


def read_source_file(path: str | Path) -> HostRun:
    """Read one source file: a wrapper naming its host, or a bare ``check --json``.

    A bare check document takes its host from the file name (``node1.json``).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{p}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"{p}: not a text file (expected jumbopath JSON)") from exc
    try:
        doc = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        where = f"{p}:{line}" if line else str(p)
        raise UsageError(f"{where}: not valid JSON ({exc.args[0] if exc.args else exc})") from exc
    return parse_source(doc, str(p), default_host=p.name.removesuffix(".json"))


def parse_source(doc: Any, source: str, default_host: str) -> HostRun:
    """A HostRun from a loaded source document (see the module docstring)."""
    if not isinstance(doc, Mapping):
        raise UsageError(f"{source}: expected a JSON object")
    if "results" in doc and "host" not in doc:
        problem = check_document_problem(doc)
        if problem:
            raise UsageError(f"{source}: {problem}")
        expected = doc.get("expected_mtu")
        targets = tuple(
            (str(r["target"]), str(r.get("address") or r["target"])) for r in doc["results"]
        )
        mtu = expected if isinstance(expected, int) else 0
        return HostRun(default_host, (NetworkRun("default", mtu, targets, doc, None, None),))
    if doc.get("schema") != 1 or not isinstance(doc.get("host"), str) or not doc["host"]:
        raise UsageError(
            f'{source}: expected a jumbopath source file ({{"schema": 1, "host": NAME, '
            "\"networks\": [...]}}) or a 'jumbopath check --json' document",
        )
    host = doc["host"]
    nets = doc.get("networks")
    if not isinstance(nets, list):
        raise UsageError(f"{source}: 'networks' must be a list")
    runs: list[NetworkRun] = []
    for i, n in enumerate(nets):
        where = f"{source}: networks[{i}]"
        if not isinstance(n, Mapping) or not isinstance(n.get("name"), str):
            raise UsageError(f"{where}: each network needs a 'name'")
        net_mtu = n.get("mtu")
        if isinstance(net_mtu, str) and net_mtu.isdigit():
            net_mtu = int(net_mtu)
        if not isinstance(net_mtu, int) or isinstance(net_mtu, bool):
            raise UsageError(f"{where}: 'mtu' must be a number")
        raw_targets = n.get("targets") or {}
        if not isinstance(raw_targets, Mapping):
            raise UsageError(f"{where}: 'targets' must map host names to addresses")
        targets = tuple((str(k), str(v)) for k, v in raw_targets.items())
        rc = n.get("rc")
        if isinstance(rc, str) and rc.lstrip("-").isdigit():
            rc = int(rc)
        if rc is not None and not isinstance(rc, int):
            raise UsageError(f"{where}: 'rc' must be the exit status of check")
        error = _error_from(n.get("error"))
        if error is not None:
            runs.append(NetworkRun(n["name"], net_mtu, targets, None, error, rc))
        elif isinstance(n.get("check"), Mapping):
            problem = check_document_problem(n["check"])
            if problem:
                raise UsageError(f"{where}: check: {problem}")
            runs.append(NetworkRun(n["name"], net_mtu, targets, n["check"], None, rc))
        else:
            stdout = n.get("stdout") or ""
            stderr = n.get("stderr") or ""
            command = str(n.get("command") or "jumbopath")
            runs.append(
                classify_check(n["name"], net_mtu, targets, rc, str(stdout), str(stderr), command)
            )
    return HostRun(host, tuple(runs), _error_from(doc.get("error")))
