"""JSON from outside, bounded: size, depth, numbers and text checked before use.

Remote ``check`` output, per-host result files (``report``) and saved meshes
(``--compare``) are read here; nothing from them is used until it passed.
The limits on what those documents may hold live here too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jumbopath.errors import UsageError
from jumbopath.outside import read_bytes
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
    data = read_bytes(p, f"JSON file ({option})", max_bytes)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{shown}: not UTF-8 text at byte {exc.start} (a binary file?): expected "
            f"jumbopath JSON ({option})"
        ) from exc
    try:
        return loads(text)
    except ValueError as exc:
        raise UsageError(f"{shown}: {exc} ({option})") from exc
