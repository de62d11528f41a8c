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
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from jumbopath.errors import UsageError
from jumbopath.safe import safe_text

MAX_FILE_BYTES = 16 * 1024 * 1024
"""Largest result file (``report``) or saved mesh (``--compare``) read, bytes."""
MAX_DEPTH = 32
"""Deepest nesting of arrays and objects accepted in any JSON from outside."""
MAX_NETWORKS = 256
"""Networks in one source file."""
MAX_TARGETS = 4096
"""Targets of one network in a source file, results in one ``check --json`` document."""
MAX_NAME = 255
"""Longest host or network name in a source file, characters."""
MAX_DETAIL = 300
"""Longest line from a remote host or ssh kept for display, characters."""
MAX_MTU = 2**32 - 1
"""Largest MTU a document may name (IPv6 jumbograms)."""


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


# --------------------------------------------------------------------------
# JSON from outside: bounded in size, depth and text


def json_problem(doc: Any, max_depth: int = MAX_DEPTH) -> str | None:
    """Why a parsed JSON value is unfit to use (too deep, broken text), or None.

    Walks the value without recursion, so no document can exhaust the stack.
    """
    stack: list[tuple[Any, int]] = [(doc, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return "text with an invalid \\u escape (a lone surrogate)"
            continue
        if isinstance(value, dict):
            children: list[Any] = [*value.keys(), *value.values()]
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth >= max_depth:
            return f"nested deeper than {max_depth} levels"
        stack.extend((c, depth + 1) for c in children)
    return None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads(text: str) -> Any:
    """Parse JSON from outside; ValueError (with a short reason) for anything unfit.

    Rejects NaN and Infinity, numbers with thousands of digits, nesting deeper
    than :data:`MAX_DEPTH` and lone surrogates.
    """
    try:
        doc = json.loads(text, parse_constant=_no_constant)
    except RecursionError as exc:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    except ValueError as exc:
        raise ValueError(f"not valid JSON ({safe_text(exc, 120)})") from exc
    problem = json_problem(doc)
    if problem:
        raise ValueError(problem)
    return doc


def read_json_file(path: str | Path, option: str, max_bytes: int = MAX_FILE_BYTES) -> Any:
    """Read a JSON document from a regular file of at most ``max_bytes``.

    Every problem is one :class:`UsageError` naming the file (shown safely)
    and what is wrong; ``option`` says where the file came from ("--compare").
    """
    p = Path(path)
    shown = safe_text(str(p), 200)
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise UsageError(f"{shown}: cannot read ({option}): {exc.strerror or exc}") from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UsageError(f"{shown}: not a regular file ({option} takes a JSON file)")
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise UsageError(f"{shown}: cannot read ({option}): {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    if size > max_bytes:
        raise UsageError(
            f"{shown}: larger than {max_bytes // (1024 * 1024)} MiB: not a jumbopath result "
            f"({option})"
        )
    try:
        text = b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{shown}: not UTF-8 text at byte {exc.start} (a binary file?): expected "
            f"jumbopath JSON ({option})"
        ) from exc
    try:
        return loads(text)
    except ValueError as exc:
        raise UsageError(f"{shown}: {exc} ({option})") from exc


# --------------------------------------------------------------------------
# Remote command: one session, one ``check`` per network, sections marked


def remote_script(
    command: str, runs: list[tuple[str, int, list[str], int | None]], nonce: str
) -> str:
    """The POSIX shell script one SSH session runs.

    ``runs`` holds (network, expected MTU, addresses, family). The checks of
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
        words = ["check", "--json", "--expect", str(mtu)]
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
    end = re.compile(rf"^@@jumbopath-{re.escape(nonce)} end (\S+)(?: (\d{{1,3}}))?$")
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


_STATUSES = ("ok", "below", "unreachable", "error")


def check_document_problem(doc: Any) -> str | None:
    """Why ``doc`` is not a ``check --json`` document of schema 1, or None when it is.

    Checks what the matrix relies on: ``results`` is a bounded list of
    objects, each with a string ``target`` and a known ``status``. The other
    fields are read with a type check where they are used.
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
        target, status = r.get("target"), r.get("status")
        if not isinstance(target, str) or not isinstance(status, str) or status not in _STATUSES:
            return "a result lacks 'target' or a known 'status'"
        brk = r.get("break")
        for where, field, limit in _BOUNDED:
            obj = brk if where == "break" else r
            value = obj.get(field) if isinstance(obj, Mapping) else None
            name = f"{where}.{field}" if where == "break" else field
            if isinstance(value, str) and limit and len(value) > limit:
                return f"a result's {name!r} is longer than {limit} characters"
            if isinstance(value, int) and field.endswith("mtu") and not 0 <= value <= MAX_MTU:
                return f"a result's {name!r} is not an MTU"
    return None


# Fields of a check result the matrix keeps: (where, field, longest string; 0 for MTUs,
# whose integers must be MTUs: other types are ignored where they are read).
_BOUNDED = (
    ("result", "target", MAX_NAME),
    ("result", "address", MAX_NAME),
    ("result", "interface", MAX_NAME),
    ("result", "direction", 20),
    ("result", "error", 2000),
    ("result", "path_mtu", 0),
    ("result", "interface_mtu", 0),
    ("break", "kind", 20),
    ("break", "after", MAX_NAME),
    ("break", "before", MAX_NAME),
    ("break", "reported_by", MAX_NAME),
    ("break", "explanation", 2000),
    ("break", "mtu", 0),
)


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


def _error_from(doc: Any, where: str) -> HostError | None:
    """A stored error object: null, or {"kind", "message", "detail"} with string values."""
    if doc is None:
        return None
    if not isinstance(doc, Mapping):
        raise UsageError(f"{where}: 'error' must be null or an object")
    for key in ("kind", "message", "detail"):
        if doc.get(key) is not None and not isinstance(doc.get(key), str):
            raise UsageError(f"{where}: error.{key} must be a string")
    try:
        kind = ErrorKind(doc.get("kind"))
    except ValueError:
        kind = ErrorKind.CHECK_ERROR
    return HostError(
        kind,
        safe_text(doc.get("message") or "", 1000),
        safe_text(doc.get("detail") or "", MAX_DETAIL),
    )


def _number(value: Any, where: str, field: str, low: int, high: int) -> int | None:
    """An integer field (or its decimal string) within [low, high]; None stays None."""
    if value is None:
        return None
    if isinstance(value, str) and 0 < len(value) <= 11 and value.lstrip("-").isdecimal():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise UsageError(f"{where}: '{field}' must be a number from {low} to {high}")
    return value


def _text(value: Any, where: str, field: str, limit: int | None = None) -> str | None:
    """A string field (or null), at most ``limit`` characters."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise UsageError(f"{where}: '{field}' must be a string")
    if limit is not None and len(value) > limit:
        raise UsageError(f"{where}: '{field}' is longer than {limit} characters")
    return value


def read_source_file(path: str | Path) -> HostRun:
    """Read one source file: a wrapper naming its host, or a bare ``check --json``.

    A bare check document takes its host from the file name (``node1.json``).
    The file is bounded (:data:`MAX_FILE_BYTES`, :data:`MAX_DEPTH`) and every
    field is checked before use: anything wrong is one :class:`UsageError`.
    """
    p = Path(path)
    doc = read_json_file(p, "report")
    return parse_source(doc, safe_text(str(p), 200), default_host=p.name.removesuffix(".json"))


def parse_source(doc: Any, source: str, default_host: str) -> HostRun:
    """A HostRun from a loaded source document (see the module docstring).

    Raises :class:`UsageError` (naming ``source`` and the field) for anything
    that is not a source file; a network whose ``check`` output is garbage
    becomes that network's error instead, like a remote host's garbage.
    """
    if not isinstance(doc, Mapping):
        raise UsageError(f"{source}: expected a JSON object")
    if json_problem(doc):
        raise UsageError(f"{source}: {json_problem(doc)}")
    if "results" in doc and "host" not in doc:
        problem = check_document_problem(doc)
        if problem:
            raise UsageError(f"{source}: {problem}")
        expected = doc.get("expected_mtu")
        targets = tuple(
            (r["target"], r["address"] if isinstance(r.get("address"), str) else r["target"])
            for r in doc["results"]
        )
        mtu = 0
        if isinstance(expected, int) and not isinstance(expected, bool):
            mtu = expected if 0 <= expected <= MAX_MTU else 0
        return HostRun(default_host, (NetworkRun("default", mtu, targets, doc, None, None),))
    host = doc.get("host")
    if doc.get("schema") != 1 or not isinstance(host, str) or not host:
        raise UsageError(
            f'{source}: expected a jumbopath source file ({{"schema": 1, "host": NAME, '
            "\"networks\": [...]}) or a 'jumbopath check --json' document",
        )
    _text(host, source, "host", MAX_NAME)
    nets = doc.get("networks")
    if not isinstance(nets, list):
        raise UsageError(f"{source}: 'networks' must be a list")
    if len(nets) > MAX_NETWORKS:
        raise UsageError(f"{source}: more than {MAX_NETWORKS} networks")
    runs = [_network_from(n, f"{source}: networks[{i}]") for i, n in enumerate(nets)]
    return HostRun(host, tuple(runs), _error_from(doc.get("error"), source))


def _network_from(n: Any, where: str) -> NetworkRun:
    """One entry of a source file's ``networks``, every field checked."""
    if not isinstance(n, Mapping) or not isinstance(n.get("name"), str) or not n["name"]:
        raise UsageError(f"{where}: each network needs a 'name'")
    name = _text(n["name"], where, "name", MAX_NAME) or ""
    net_mtu = _number(n.get("mtu"), where, "mtu", 0, MAX_MTU)
    if net_mtu is None:
        raise UsageError(f"{where}: 'mtu' must be a number")
    raw_targets = n.get("targets") or {}
    if not isinstance(raw_targets, Mapping):
        raise UsageError(f"{where}: 'targets' must map host names to addresses")
    if len(raw_targets) > MAX_TARGETS:
        raise UsageError(f"{where}: more than {MAX_TARGETS} targets")
    for k, v in raw_targets.items():
        if not isinstance(v, str) or len(k) > MAX_NAME or len(v) > MAX_NAME:
            raise UsageError(
                f"{where}: 'targets' must map host names to addresses (strings of at most "
                f"{MAX_NAME} characters)"
            )
    targets = tuple(raw_targets.items())
    rc = _number(n.get("rc"), where, "rc", -255, 255)
    error = _error_from(n.get("error"), where)
    check = n.get("check")
    if check is not None and not isinstance(check, Mapping):
        raise UsageError(f"{where}: 'check' must be a check --json object (or null)")
    stdout = _text(n.get("stdout"), where, "stdout") or ""
    stderr = _text(n.get("stderr"), where, "stderr") or ""
    command = _text(n.get("command"), where, "command", 1000) or "jumbopath"
    if error is not None:
        return NetworkRun(name, net_mtu, targets, None, error, rc)
    if check is not None:
        problem = check_document_problem(check)
        if problem:
            raise UsageError(f"{where}: check: {problem}")
        return NetworkRun(name, net_mtu, targets, check, None, rc)
    return classify_check(name, net_mtu, targets, rc, stdout, stderr, command)
