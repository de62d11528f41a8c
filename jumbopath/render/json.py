"""The JSON document of ``check`` and ``trace`` (schema 1, documented in the README).

Stable field names; new fields may be added, none removed or renamed
without bumping ``schema``.
"""

from __future__ import annotations

import json
from typing import Any

from jumbopath.model import Break, Evidence, Finding, Hop, PathResult, Remark, Report
from jumbopath.render.explain import (
    break_sentence,
    error_sentence,
    finding_sentence,
    remark_sentence,
)

SCHEMA = 1


def _evidence(e: Evidence) -> dict[str, Any]:
    row: dict[str, Any] = {"size": e.size, "outcome": e.outcome, "count": e.count}
    if e.mtu is not None:
        row["mtu"] = e.mtu
    if e.reporter is not None:
        row["from"] = e.reporter
    if e.ttl is not None:
        row["ttl"] = e.ttl
    return row


def hop_dict(h: Hop) -> dict[str, Any]:
    """One hop as JSON."""
    return {
        "ttl": h.ttl,
        "address": h.address,
        "rtt_ms": h.rtt_ms,
        "largest_passing": h.largest_passing,
    }


def break_dict(b: Break) -> dict[str, Any]:
    """A located break as JSON."""
    return {
        "kind": b.kind.value,
        "cause": b.cause.value,
        "after": b.after,
        "before": b.before,
        "mtu": b.mtu,
        "reported_by": b.reported_by,
        "size": b.size,
        "quiet_hops": list(b.quiet_hops),
        "confirmed": b.confirmed,
        "local": list(b.local),
        "explanation": break_sentence(b),
    }


def remark_dict(r: Remark) -> dict[str, Any]:
    """A remark as JSON: its code and facts."""
    return {"code": r.code, **dict(r.facts)}


def result_dict(r: PathResult) -> dict[str, Any]:
    """One path's verdict as JSON."""
    return {
        "target": r.target,
        "address": r.address,
        "family": r.family,
        "status": r.status.value,
        "cause": None if r.cause is None else r.cause.value,
        "expected_mtu": r.expected_mtu,
        "path_mtu": r.path_mtu,
        "max_icmp_payload": r.max_icmp_payload,
        "interface": r.interface,
        "interface_mtu": r.interface_mtu,
        "loss": r.loss,
        "probes_sent": r.probes_sent,
        "elapsed_s": r.elapsed_s,
        "stages": [
            {"name": st.name, "probes": st.probes, "elapsed_s": st.elapsed_s} for st in r.stages
        ],
        "evidence": [_evidence(e) for e in r.evidence],
        "cached_mtu": r.cached_mtu,
        "ignored_icmp": r.ignored_icmp,
        "notes": [remark_sentence(n) for n in r.notes],
        "remarks": [remark_dict(n) for n in r.notes],
        "error": r.error if r.error is not None else error_sentence(r),
        "unreachable": None if r.unreachable is None else r.unreachable.value,
        "hops": None if r.hops is None else [hop_dict(h) for h in r.hops],
        "break": None if r.break_ is None else break_dict(r.break_),
        "direction": None if r.direction is None else r.direction.value,
    }


def finding_dict(f: Finding, results: tuple[PathResult, ...] = ()) -> dict[str, Any]:
    """A cross-target conclusion as JSON."""
    return {
        "scope": f.scope,
        "cause": f.cause.value,
        "hop": f.hop,
        "failing": list(f.failing),
        "passing": list(f.passing),
        "expected_mtu": f.expected_mtu,
        "measured": list(f.measured),
        "common_break": None if f.common_break is None else break_dict(f.common_break),
        "explanation": finding_sentence(f, results),
    }


def report_dict(report: Report) -> dict[str, Any]:
    """The whole document."""
    return {
        "schema": SCHEMA,
        "expected_mtu": report.expected_mtu,
        "results": [result_dict(r) for r in report.results],
        "findings": [finding_dict(f, report.results) for f in report.findings],
    }


def render_json(report: Report) -> str:
    """Pretty JSON text of a report."""
    return json.dumps(report_dict(report), indent=2)
