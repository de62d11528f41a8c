"""What each source host measured: its ``check --json`` output per network, or why not.

The same records come from two places: the SSH fan-out of ``jumbopath mesh``
(:mod:`jumbopath.mesh.ssh`) and the per-host files that ``jumbopath report``
merges (:mod:`jumbopath.mesh.sources`, written by the Ansible playbook in
``examples/ansible/``, or by hand). Here: the run model, the script one
session runs, and the classification of each remote ``check``'s exit status
and output. The bounded JSON readers are :mod:`jumbopath.mesh.bounded`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from jumbopath.mesh.bounded import (
    MAX_DEPTH,
    MAX_DETAIL,
    MAX_FILE_BYTES,
    MAX_MTU,
    MAX_NAME,
    MAX_NETWORKS,
    MAX_TARGETS,
    json_problem,
    loads,
    read_json_file,
)
from jumbopath.model import Status
from jumbopath.safe import safe_text

__all__ = [
    "MAX_DEPTH",
    "MAX_DETAIL",
    "MAX_FILE_BYTES",
    "MAX_MTU",
    "MAX_NAME",
    "MAX_NETWORKS",
    "MAX_TARGETS",
    "ErrorKind",
    "HostError",
    "HostRun",
    "NetworkRun",
    "check_document_problem",
    "classify_check",
    "json_problem",
    "last_line",
    "loads",
    "read_json_file",
    "remote_script",
    "shown_line",
    "split_sections",
]


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
    OUTPUT_TOO_LARGE = "output-too-large"
    INTERRUPTED = "interrupted"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class HostError:
    """Why a row could not be measured, in words the admin can act on."""

    kind: ErrorKind
    """Stable short name (JSON ``"kind"``)."""
    message: str
    """One sentence: what happened and what to do."""
    detail: str = ""
    """The decisive line from ssh's or jumbopath's stderr (bounded, made safe to show)."""


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
    via: str = "jumbopath"
    """How it was measured: jumbopath there, or its own ping over SSH (agentless)."""


# --------------------------------------------------------------------------
# Remote command: one session, one ``check`` per network, sections marked


def remote_script(
    command: str,
    runs: list[tuple[str, int, list[str], int | None]],
    nonce: str,
    extra: Sequence[str] = (),
) -> str:
    """The POSIX shell script one SSH session runs.

    ``runs`` holds (network, expected MTU, addresses, family); ``extra`` are
    further ``check`` options for every network (``--probe``, ``--flows``,
    ``--soak``), already validated. The checks of
    all networks start at once (each into its own files in a private folder
    made by ``mktemp -d``: no predictable name, mode 700); their outputs are
    then printed in order, each framed by marker lines carrying ``nonce`` on
    both streams, with its exit status on the closing stdout marker. So one
    session gives every network's result separately, and the networks that
    finished are not lost when a later one hangs.
    """
    import shlex

    lines = [
        'd=$(mktemp -d "${TMPDIR:-/tmp}/jumbopath-mesh.XXXXXXXXXX") || '
        "{ echo 'jumbopath mesh: mktemp -d failed: cannot make a private temporary folder "
        "on this host (is TMPDIR or /tmp writable?)' >&2; exit 125; }",
        "trap 'rm -rf \"$d\"' EXIT",
        "trap 'exit 1' HUP INT TERM",
    ]
    for i, (_network, mtu, addresses, family) in enumerate(runs):
        words = ["check", "--json", "--expect", str(mtu), *extra]
        if family in (4, 6):
            words.append(f"-{family}")
        argv = " ".join([command] + [shlex.quote(w) for w in [*words, "--", *addresses]])
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
    end = re.compile(rf"^@@jumbopath-{re.escape(nonce)} end (\S+)(?: ([0-9]{{1,3}}))?$")
    out: dict[str, tuple[str, int | None]] = {}
    current: str | None = None
    lines: list[str] = []
    for line in text.splitlines():
        m = begin.match(line)
        if m:
            if current is not None:
                out[current] = ("\n".join(lines), None)
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
    if current is not None:
        out[current] = ("\n".join(lines), None)
    return out


def last_line(text: str) -> str:
    """The last non-empty line of some output (looked for in its last 64 KiB), verbatim."""
    for line in reversed(text[-65536:].strip().splitlines()):
        if line.strip():
            return line.strip()
    return ""


def shown_line(text: str, limit: int = MAX_DETAIL) -> str:
    """The last non-empty line of remote output, bounded and safe to show."""
    return safe_text(last_line(text), limit)


def classify_check(
    network: str,
    mtu: int,
    targets: tuple[tuple[str, str], ...],
    rc: int | None,
    stdout: str,
    stderr: str,
    command: str = "jumbopath",
) -> NetworkRun:
    """Turn one remote ``check`` run (exit status and output) into a NetworkRun.

    Whatever the remote host printed, the result is a NetworkRun: garbage
    becomes its error (bad-output), never an exception.
    """
    detail = shown_line(stderr)

    def failed(kind: ErrorKind, message: str) -> NetworkRun:
        return NetworkRun(network, mtu, targets, None, HostError(kind, message, detail), rc)

    words = command.split()
    word = safe_text(words[0] if words else command, 200)
    missing_module = rc == 1 and not stdout.strip() and "No module named" in stderr[-65536:]
    said = detail.removeprefix("jumbopath: error: ")
    if rc in (126, 127) or missing_module:
        return failed(
            ErrorKind.NOT_INSTALLED,
            f"{word!r} is not installed there (or not on the SSH session's PATH): install "
            "jumbopath on the host or set its command (jumbopath_command / command:) "
            "to the full path",
        )
    if rc == 3:
        return failed(
            ErrorKind.CHECK_ERROR, f"jumbopath check could not measure there: {said or 'exit 3'}"
        )
    if rc == 2:
        return failed(
            ErrorKind.CHECK_USAGE,
            f"jumbopath check refused its arguments there ({said or 'exit 2'}): is the remote "
            "jumbopath too old for --json/--expect?",
        )
    if rc is None:
        return failed(
            ErrorKind.BAD_OUTPUT, "jumbopath check did not finish (the session ended first)"
        )
    if rc not in (0, 1):
        return failed(
            ErrorKind.CHECK_ERROR, f"jumbopath check ended with exit status {rc}: {detail}"
        )
    try:
        doc = loads(stdout)
    except ValueError as exc:
        first = safe_text(stdout.strip()[:80], 80)
        if str(exc).startswith("not valid JSON"):
            return failed(
                ErrorKind.BAD_OUTPUT,
                f"jumbopath check printed no JSON document ({exc}; it begins {first!r})",
            )
        return failed(ErrorKind.BAD_OUTPUT, f"jumbopath check output: {exc}")
    problem = check_document_problem(doc)
    if problem:
        return failed(ErrorKind.BAD_OUTPUT, f"jumbopath check output: {problem}")
    return NetworkRun(network, mtu, targets, doc, None, rc)


_STATUSES = frozenset(s.value for s in Status)


def check_document_problem(doc: Any) -> str | None:
    """Why ``doc`` is not a ``check --json`` document of schema 1, or None when it is.

    Checks the frame the matrix relies on: ``results`` is a bounded list of
    objects, each with a string ``target`` (where its cell is). Each result
    is then read on its own by :func:`jumbopath.schema.result_from_dict`:
    one it refuses becomes that cell's error, not the whole row's.
    """
    if not isinstance(doc, Mapping):
        return "expected a JSON object"
    schema = doc.get("schema")
    if schema != 1 or isinstance(schema, bool):
        return f"schema {safe_text(repr(schema), 40)} is not 1 (jumbopath versions differ?)"
    results = doc.get("results")
    if not isinstance(results, list) or not all(isinstance(r, Mapping) for r in results):
        return "'results' is not a list of objects"
    if len(results) > MAX_TARGETS:
        return f"more than {MAX_TARGETS} results"
    for r in results:
        target = r.get("target")
        if not isinstance(target, str):
            return "a result lacks 'target'"
        if len(target) > MAX_NAME:
            return f"a result's 'target' is longer than {MAX_NAME} characters"
    return None
