"""The mesh JSON document (``--json``, ``--save``) and the comparison of two (``--compare``).

Schema 1 (stable; fields may be added, never renamed)::

    {"schema": 1, "kind": "jumbopath-mesh", "exit_code": 0|1|3,
     "hosts": [{"name", "measured": bool, "elapsed_s", "via": "jumbopath"|"ping over ssh",
                "error": null | {"kind", "message", "detail"}}],
     "networks": [{
        "name", "expected_mtu",
        "hosts": [names...], "addresses": {name: address},
        "rows": [{"host", "error": null | {"kind", "message", "detail"}}],
        "cells": [{"source", "destination", "address",
                   "status": "ok"|"below"|"degraded"|"unreachable"|"error"|"not-measured",
                   "cause", "path_mtu", "direction", "interface", "interface_mtu",
                   "break": null | <a check break: jumbopath.schema.break_dict>,
                   "breaks": [<every limit, in path order, "break" last>],
                   "error"}],
        "failing": [{"source", "destination", "status", "path_mtu",
                     "one_way": "forward"|"return"|"both"|"unknown", "cause",
                     "other_way_carries", "explanation"}],
        "verdicts": [{"kind": "network"|"host"|"link"|"pair", "cause", "hosts": [...],
                      "groups": [[...], ...], "both_directions", "carried_mtu",
                      "interface", "interface_mtu", "shared_break", "only_from",
                      "only_to", "carrying", "explanation"}]}],
     "changes": [...]   # only with --compare, see compare()
    }

Breaks are written by :func:`jumbopath.schema.break_dict` (one serializer for
the check and the mesh documents); every ``explanation`` comes from
:mod:`jumbopath.render.explain`.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from jumbopath.errors import UsageError
from jumbopath.mesh.bounded import MAX_MTU, MAX_NETWORKS, read_json_file
from jumbopath.mesh.model import (
    Cell,
    CellStatus,
    FailingPair,
    Mesh,
    NetworkMatrix,
    SharedBreak,
    Verdict,
)
from jumbopath.mesh.runs import HostError
from jumbopath.render.explain.mesh import pair_sentence, verdict_sentence
from jumbopath.safe import safe_text
from jumbopath.schema import break_dict

SCHEMA = 1
KIND = "jumbopath-mesh"


def _error(e: HostError | None) -> dict[str, str] | None:
    if e is None:
        return None
    return {"kind": e.kind.value, "message": e.message, "detail": e.detail}


def _cell(c: Cell) -> dict[str, Any]:
    return {
        "source": c.source,
        "destination": c.destination,
        "address": c.address,
        "status": c.status.value,
        "cause": None if c.cause is None else c.cause.value,
        "path_mtu": c.path_mtu,
        "direction": None if c.direction is None else c.direction.value,
        "interface": c.interface,
        "interface_mtu": c.interface_mtu,
        "break": None if c.break_ is None else break_dict(c.break_),
        "breaks": [break_dict(b) for b in c.breaks],
        "error": c.error,
    }


def _failing(f: FailingPair, net: NetworkMatrix) -> dict[str, Any]:
    return {
        "source": f.source,
        "destination": f.destination,
        "status": f.status.value,
        "path_mtu": f.path_mtu,
        "one_way": f.one_way.value,
        "cause": f.cause.value,
        "other_way_carries": f.other_way_carries,
        "explanation": pair_sentence(f, net),
    }


def _shared(sb: SharedBreak | None) -> dict[str, Any] | None:
    return None if sb is None else {**break_dict(sb.break_), "paths": sb.paths}


def _verdict(v: Verdict, net: NetworkMatrix) -> dict[str, Any]:
    carrying = None
    if v.carrying is not None:
        carrying = {
            "source": v.carrying[0],
            "destination": v.carrying[1],
            "path_mtu": v.carrying_mtu,
        }
    return {
        "kind": v.kind.value,
        "cause": v.cause.value,
        "hosts": list(v.hosts),
        "groups": [list(g) for g in v.groups],
        "both_directions": v.both_directions,
        "carried_mtu": v.carried_mtu,
        "interface": v.interface,
        "interface_mtu": v.interface_mtu,
        "shared_break": _shared(v.shared_break),
        "only_from": list(v.only_from),
        "only_to": list(v.only_to),
        "carrying": carrying,
        "explanation": verdict_sentence(v, net),
    }


def _network(n: NetworkMatrix) -> dict[str, Any]:
    return {
        "name": n.name,
        "expected_mtu": n.expected_mtu,
        "hosts": list(n.hosts),
        "addresses": dict(n.addresses),
        "rows": [{"host": r.host, "error": _error(r.error)} for r in n.rows],
        "cells": [_cell(c) for c in n.cells],
        "failing": [_failing(f, n) for f in n.failing],
        "verdicts": [_verdict(v, n) for v in n.verdicts],
    }


def to_document(mesh: Mesh) -> dict[str, Any]:
    """The mesh as a JSON-ready dict (schema 1)."""
    via = dict(mesh.via)
    return {
        "schema": SCHEMA,
        "kind": KIND,
        "exit_code": int(mesh.exit_code),
        "hosts": [
            {
                "name": h,
                "measured": e is None,
                "elapsed_s": round(t, 3),
                "via": via.get(h, "jumbopath"),
                "error": _error(e),
            }
            for h, e, t in mesh.hosts
        ],
        "networks": [_network(n) for n in mesh.networks],
    }


def dumps(doc: Mapping[str, Any]) -> str:
    """The document as text (indented, stable key order)."""
    return json.dumps(doc, indent=2) + "\n"


def dump(doc: Mapping[str, Any], stream: IO[str]) -> None:
    """The same text written as it is made: a large mesh's text is never held whole."""
    batch: list[str] = []
    size = 0
    for chunk in json.JSONEncoder(indent=2).iterencode(doc):
        batch.append(chunk)
        size += len(chunk)
        if size >= 1 << 16:  # a write per 64 KiB, not per token
            stream.write("".join(batch))
            batch.clear()
            size = 0
    batch.append("\n")
    stream.write("".join(batch))


def save(doc: Mapping[str, Any], path: str | Path) -> None:
    """Write the document for a later ``--compare``, atomically.

    The text goes to a temporary file in the same folder, is flushed to disk
    and then renamed over ``path``: a crash leaves the old file or the new
    one, never half of one. A symbolic link at ``path`` is refused rather
    than followed onto whatever it points at.
    """
    p = Path(path)
    shown = safe_text(str(p), 200)
    if p.is_symlink():
        raise UsageError(
            f"{shown}: is a symbolic link: --save does not write through links; give the "
            "real file's path"
        )
    if p.exists() and not p.is_file():
        raise UsageError(f"{shown}: not a regular file (--save writes a JSON file)")
    folder = p.parent
    try:
        mode = stat.S_IMODE(p.stat().st_mode) if p.exists() else 0o666 & ~_umask()
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise UsageError(f"{shown}: cannot write (--save): {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(dumps(doc))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, p)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise UsageError(f"{shown}: cannot write (--save): {exc.strerror or exc}") from exc
        raise
    with contextlib.suppress(OSError):
        dirfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dirfd)
        finally:
            os.close(dirfd)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


MAX_CELLS = 1 << 20
"""Cells in one network of a saved mesh."""
STATUSES = tuple(s.value for s in CellStatus)
"""Cell statuses of schema 1."""


def load(path: str | Path) -> dict[str, Any]:
    """Read a document written by ``--save`` (or ``--json``), for ``--compare``.

    Bounded (size, depth, counts) and validated field by field before use:
    anything wrong is one :class:`UsageError` naming the file and the field.
    """
    shown = safe_text(str(path), 200)
    doc = read_json_file(path, "--compare")
    problem = document_problem(doc)
    if problem:
        raise UsageError(f"{shown}: {problem}: save a new one with --save FILE")
    assert isinstance(doc, dict)
    return doc


def document_problem(doc: Any) -> str | None:
    """Why ``doc`` is not a mesh document that :func:`compare` can read, or None.

    Checks what the comparison uses: ``networks[].name`` and each cell's
    ``source``, ``destination``, ``status``, ``path_mtu`` and ``error``.
    """
    if not isinstance(doc, dict) or doc.get("kind") != KIND or doc.get("schema") != SCHEMA:
        return f"not a mesh result of schema {SCHEMA}"
    nets = doc.get("networks")
    if not isinstance(nets, list):
        return "'networks' is not a list"
    if len(nets) > MAX_NETWORKS:
        return f"more than {MAX_NETWORKS} networks"
    for i, n in enumerate(nets):
        where = f"networks[{i}]"
        if not isinstance(n, dict):
            return f"{where} is not an object"
        if not isinstance(n.get("name"), str):
            return f"{where}.name is not a string"
        cells = n.get("cells")
        if not isinstance(cells, list):
            return f"{where}.cells is not a list"
        if len(cells) > MAX_CELLS:
            return f"{where}: more than {MAX_CELLS} cells"
        for j, c in enumerate(cells):
            problem = _cell_problem(c)
            if problem:
                return f"{where}.cells[{j}]{problem}"
    return None


def _cell_problem(c: Any) -> str | None:
    if not isinstance(c, dict):
        return " is not an object"
    for key in ("source", "destination"):
        if not isinstance(c.get(key), str):
            return f".{key} is not a string"
    if c.get("status") not in STATUSES:
        return f".status is not one of {', '.join(STATUSES)}"
    mtu = c.get("path_mtu")
    if mtu is not None and (
        not isinstance(mtu, int) or isinstance(mtu, bool) or not 0 <= mtu <= MAX_MTU
    ):
        return f".path_mtu is not a number from 0 to {MAX_MTU}"
    if c.get("error") is not None and not isinstance(c.get("error"), str):
        return ".error is not a string"
    return None


# --------------------------------------------------------------------------
# Comparison


@dataclass(frozen=True, slots=True)
class Change:
    """One cell whose result differs between two runs."""

    network: str
    """Network name."""
    source: str
    """Row."""
    destination: str
    """Column."""
    before: str
    """Short description of the old result ("ok 9000", "below 1500", "absent")."""
    after: str
    """Short description of the new result."""
    regression: bool
    """True when the new result is worse (exit 1)."""
    improvement: bool = False
    """True when the new result is better."""


def _rank(cell: Mapping[str, Any]) -> int:
    try:
        return CellStatus(cell.get("status")).rank
    except ValueError:
        return 0


_WITH_MTU = (CellStatus.OK.value, CellStatus.DEGRADED.value, CellStatus.BELOW.value)
"""Statuses whose path MTU is part of the result (a lower one is a change)."""


def _describe(cell: Mapping[str, Any] | None) -> str:
    if cell is None:
        return "absent"
    status = str(cell.get("status"))
    if status in _WITH_MTU and cell.get("path_mtu") is not None:
        return f"{status} {cell['path_mtu']}"
    if status in ("error", "not-measured"):
        return f"{status}: {cell.get('error') or ''}".rstrip(": ")
    return status


def _worse(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    ro, rn = _rank(old), _rank(new)
    if rn != ro:
        return rn < ro
    om, nm = old.get("path_mtu"), new.get("path_mtu")
    return isinstance(om, int) and isinstance(nm, int) and nm < om


def _same(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    if old.get("status") != new.get("status"):
        return False
    if old.get("status") in _WITH_MTU:
        return old.get("path_mtu") == new.get("path_mtu")
    return True


def _networks(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    nets = doc.get("networks")
    return [n for n in nets if isinstance(n, Mapping)] if isinstance(nets, list) else []


def compare(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Cells whose result changed, in the new run's order (then cells that are gone)."""

    def cells(doc: Mapping[str, Any]) -> dict[tuple[str, str, str], Mapping[str, Any]]:
        out = {}
        for n in _networks(doc):
            found = n.get("cells")
            for c in found if isinstance(found, list) else []:
                if isinstance(c, Mapping):
                    key = (str(n.get("name")), str(c.get("source")), str(c.get("destination")))
                    out[key] = c
        return out

    before, after = cells(old), cells(new)
    changes = []
    for key, cell in after.items():
        prev = before.get(key)
        if prev is not None and _same(prev, cell):
            continue
        changes.append(
            Change(
                *key,
                before=_describe(prev),
                after=_describe(cell),
                regression=prev is not None and _worse(prev, cell),
                improvement=prev is not None and _worse(cell, prev),
            )
        )
    shown = {str(n.get("name")) for n in _networks(new)}
    for key, prev in before.items():
        if key not in after and key[0] in shown:
            changes.append(Change(*key, before=_describe(prev), after="absent", regression=False))
    return changes


def changes_document(changes: list[Change]) -> list[dict[str, Any]]:
    """Changes as JSON (the ``"changes"`` list)."""
    return [
        {
            "network": c.network,
            "source": c.source,
            "destination": c.destination,
            "before": c.before,
            "after": c.after,
            "regression": c.regression,
            "improvement": c.improvement,
        }
        for c in changes
    ]
