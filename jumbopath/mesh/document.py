"""The mesh JSON document (``--json``, ``--save``) and the comparison of two (``--compare``).

Schema 1 (stable; fields may be added, never renamed)::

    {"schema": 1, "kind": "jumbopath-mesh", "exit_code": 0|1|3,
     "hosts": [{"name", "measured": bool, "elapsed_s",
                "error": null | {"kind", "message", "detail"}}],
     "networks": [{
        "name", "expected_mtu",
        "hosts": [names...], "addresses": {name: address},
        "rows": [{"host", "error": null | {"kind", "message", "detail"}}],
        "cells": [{"source", "destination", "address",
                   "status": "ok"|"below"|"unreachable"|"error"|"not-measured",
                   "path_mtu", "direction", "interface", "interface_mtu",
                   "break": null | {"kind", "after", "before", "mtu", "reported_by",
                                    "explanation"},
                   "error"}],
        "failing": [{"source", "destination", "status", "path_mtu",
                     "one_way": "forward"|"return"|"both"|"unknown", "explanation"}],
        "verdicts": [{"kind": "network"|"host"|"link"|"pair", "hosts": [...],
                      "groups": [[...], ...], "explanation"}]}],
     "changes": [...]   # only with --compare, see compare()
    }
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jumbopath.errors import UsageError
from jumbopath.mesh.matrix import BreakInfo, Mesh
from jumbopath.mesh.runs import HostError

SCHEMA = 1
KIND = "jumbopath-mesh"


def _error(e: HostError | None) -> dict[str, str] | None:
    if e is None:
        return None
    return {"kind": e.kind.value, "message": e.message, "detail": e.detail}


def _break(b: BreakInfo | None) -> dict[str, Any] | None:
    if b is None:
        return None
    return {
        "kind": b.kind,
        "after": b.after,
        "before": b.before,
        "mtu": b.mtu,
        "reported_by": b.reported_by,
        "explanation": b.explanation,
    }


def to_document(mesh: Mesh) -> dict[str, Any]:
    """The mesh as a JSON-ready dict (schema 1)."""
    return {
        "schema": SCHEMA,
        "kind": KIND,
        "exit_code": int(mesh.exit_code),
        "hosts": [
            {"name": h, "measured": e is None, "elapsed_s": round(t, 3), "error": _error(e)}
            for h, e, t in mesh.hosts
        ],
        "networks": [
            {
                "name": n.name,
                "expected_mtu": n.expected_mtu,
                "hosts": list(n.hosts),
                "addresses": dict(n.addresses),
                "rows": [{"host": r.host, "error": _error(r.error)} for r in n.rows],
                "cells": [
                    {
                        "source": c.source,
                        "destination": c.destination,
                        "address": c.address,
                        "status": c.status,
                        "path_mtu": c.path_mtu,
                        "direction": c.direction,
                        "interface": c.interface,
                        "interface_mtu": c.interface_mtu,
                        "break": _break(c.break_),
                        "error": c.error,
                    }
                    for c in n.cells
                ],
                "failing": [
                    {
                        "source": f.source,
                        "destination": f.destination,
                        "status": f.status,
                        "path_mtu": f.path_mtu,
                        "one_way": f.one_way,
                        "explanation": f.explanation,
                    }
                    for f in n.failing
                ],
                "verdicts": [
                    {
                        "kind": v.kind,
                        "hosts": list(v.hosts),
                        "groups": [list(g) for g in v.groups],
                        "explanation": v.explanation,
                    }
                    for v in n.verdicts
                ],
            }
            for n in mesh.networks
        ],
    }


def dumps(doc: Mapping[str, Any]) -> str:
    """The document as text (indented, stable key order)."""
    return json.dumps(doc, indent=2) + "\n"


def save(doc: Mapping[str, Any], path: str | Path) -> None:
    """Write the document for a later ``--compare``."""
    try:
        Path(path).write_text(dumps(doc), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot write (--save): {exc.strerror or exc}") from exc


def load(path: str | Path) -> dict[str, Any]:
    """Read a document written by ``--save`` (or ``--json``)."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{p}: cannot read (--compare): {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise UsageError(
            f"{p}: not valid JSON: save it with jumbopath mesh --save ({exc})"
        ) from exc
    if not isinstance(doc, dict) or doc.get("kind") != KIND or doc.get("schema") != SCHEMA:
        raise UsageError(f"{p}: not a mesh result of schema {SCHEMA}: save one with --save FILE")
    nets = doc.get("networks")
    if not isinstance(nets, list) or not all(
        isinstance(n, dict) and isinstance(n.get("cells"), list) for n in nets
    ):
        raise UsageError(f"{p}: 'networks' is damaged: save a new one with --save FILE")
    return doc


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


_RANK = {"ok": 4, "below": 3, "unreachable": 2, "error": 1, "not-measured": 0}


def _describe(cell: Mapping[str, Any] | None) -> str:
    if cell is None:
        return "absent"
    status = str(cell.get("status"))
    if status in ("ok", "below") and cell.get("path_mtu") is not None:
        return f"{status} {cell['path_mtu']}"
    if status in ("error", "not-measured"):
        return f"{status}: {cell.get('error') or ''}".rstrip(": ")
    return status


def _worse(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    ro, rn = _RANK.get(str(old.get("status")), 0), _RANK.get(str(new.get("status")), 0)
    if rn != ro:
        return rn < ro
    om, nm = old.get("path_mtu"), new.get("path_mtu")
    return isinstance(om, int) and isinstance(nm, int) and nm < om


def _same(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    if old.get("status") != new.get("status"):
        return False
    if old.get("status") in ("ok", "below"):
        return old.get("path_mtu") == new.get("path_mtu")
    return True


def compare(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Cells whose result changed, in the new run's order (then cells that are gone)."""

    def cells(doc: Mapping[str, Any]) -> dict[tuple[str, str, str], Mapping[str, Any]]:
        out = {}
        for n in doc.get("networks", []):
            for c in n.get("cells", []):
                out[(str(n.get("name")), str(c.get("source")), str(c.get("destination")))] = c
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
    shown = {str(n.get("name")) for n in new.get("networks", [])}
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
