"""Per-host result files (``jumbopath report``): written and read back, every field checked.

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

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jumbopath.errors import UsageError
from jumbopath.mesh.bounded import (
    MAX_DETAIL,
    MAX_MTU,
    MAX_NAME,
    MAX_NETWORKS,
    MAX_TARGETS,
    json_problem,
    read_json_file,
)
from jumbopath.mesh.runs import (
    ErrorKind,
    HostError,
    HostRun,
    NetworkRun,
    check_document_problem,
    classify_check,
)
from jumbopath.numbers import NumberError, parse_int
from jumbopath.safe import safe_text


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
    try:
        return parse_int(value, low, high)
    except NumberError:
        raise UsageError(f"{where}: '{field}' must be a number from {low} to {high}") from None


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
