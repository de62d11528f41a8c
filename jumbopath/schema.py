"""The check JSON document (schema 1), both ways: written here, read back here.

``check --json`` writes it; ``mesh`` and ``report`` read other hosts'
documents back into the same model (:class:`~jumbopath.model.PathResult`,
:class:`~jumbopath.model.Break`), so there is one serializer and one
parser, and no second copy of the model. Field names are stable: new
fields may be added, none removed or renamed without bumping ``schema``.

Reading trusts nothing: every field is type-checked and bounded, every
string is made terminal-safe (:func:`jumbopath.safe.safe_text`), unknown
enum values become "unknown" rather than errors where the document can
still be used, and a document that cannot be read raises
:class:`SchemaError` with one line saying why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, TypeVar

from jumbopath.model import (
    Break,
    BreakKind,
    Cause,
    Direction,
    Evidence,
    Finding,
    FlowLeg,
    Flows,
    Hop,
    Leg,
    PathResult,
    Protocol,
    Remark,
    Report,
    SoakLoss,
    SoakStop,
    Stage,
    Status,
    SwitchPort,
    Unreach,
    UnreadSwitch,
)
from jumbopath.render.explain import (
    break_sentence,
    error_sentence,
    finding_sentence,
    remark_sentence,
)
from jumbopath.safe import safe_text

SCHEMA = 1

#: Bounds on what is read back.
MAX_NAME = 255
MAX_TEXT = 2000
MAX_HOPS = 255
MAX_ITEMS = 64
MAX_BREAKS = 16


class SchemaError(ValueError):
    """A document (or part of one) that does not follow the schema."""


# --------------------------------------------------------------------------
# Writing


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
        "max_hops": b.max_hops,
        "interface": b.interface,
        "confirmed": b.confirmed,
        "local": list(b.local),
        "ports": [
            {"switch": p.switch, "port": p.port, "toward": p.toward, "mtu": p.mtu, "basis": p.basis}
            for p in b.ports
        ],
        "ports_reason": b.ports_reason,
        "unread_switches": [{"switch": u.switch, "reason": u.reason} for u in b.unread_switches],
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
        "breaks": [break_dict(b) for b in r.breaks],
        "direction": None if r.direction is None else r.direction.value,
        "protocol": r.protocol.value,
        "port": r.port,
        "flows": None if r.flows is None else flows_dict(r.flows),
        "soak": None if r.soak is None else soak_dict(r.soak),
    }


def flows_dict(f: Flows) -> dict[str, Any]:
    """The check over many flows as JSON."""
    return {
        "protocol": f.protocol.value,
        "port": f.port,
        "size": f.size,
        "tested": len(f.passing) + len(f.failing) + len(f.unknown),
        "passing": len(f.passing),
        "failing": len(f.failing),
        "unknown": len(f.unknown),
        "failing_ports": list(f.failing),
        "passing_ports": list(f.passing),
        "unknown_ports": list(f.unknown),
        "failing_mtu": f.failing_mtu,
        "parted_after": f.parted_after,
        "legs": [
            {
                "interface": g.leg.interface,
                "next_hop": g.leg.next_hop,
                "passing": g.passing,
                "failing": g.failing,
                "unknown": g.unknown,
            }
            for g in f.legs
        ],
    }


def soak_dict(k: SoakLoss) -> dict[str, Any]:
    """The soak as JSON: loss at full size and at the control size, with counts."""
    return {
        "size": k.size,
        "big": {"sent": k.big_sent, "lost": k.big_lost},
        "small": {"sent": k.small_sent, "lost": k.small_lost},
        "big_loss": round(k.big_lost / k.big_sent, 4) if k.big_sent else None,
        "small_loss": round(k.small_lost / k.small_sent, 4) if k.small_sent else None,
        "big_only": k.big_only,
        "small_only": k.small_only,
        "p_value": k.p_value,
        "degraded": k.degraded,
        "stop": None if k.stop is None else k.stop.value,
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


# --------------------------------------------------------------------------
# Reading


E = TypeVar("E", bound=Enum)


def _int(doc: Mapping[str, Any], key: str, low: int = 0, high: int = 1 << 31) -> int | None:
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SchemaError(f"{key!r} must be a whole number from {low} to {high}")
    return value


def _mtu(doc: Mapping[str, Any], key: str) -> int | None:
    return _int(doc, key, 0, 65535)


def _float(doc: Mapping[str, Any], key: str, high: float = 1e9) -> float:
    value = doc.get(key, 0.0)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SchemaError(f"{key!r} must be a number")
    if not 0.0 <= float(value) <= high:  # also refuses NaN
        raise SchemaError(f"{key!r} must be from 0 to {high:g}")
    return float(value)


def _str(doc: Mapping[str, Any], key: str, limit: int = MAX_NAME) -> str | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise SchemaError(f"{key!r} must be a string")
    return safe_text(value, limit)


def _enum(kind: type[E], value: Any, default: E | None = None) -> E | None:
    if value is None:
        return default
    try:
        return kind(value)
    except ValueError:
        return default


def _list(doc: Mapping[str, Any], key: str, limit: int = MAX_ITEMS) -> list[Any]:
    value = doc.get(key) or []
    if not isinstance(value, list):
        raise SchemaError(f"{key!r} must be a list")
    return value[:limit]


_KIND_CAUSE = {
    BreakKind.NONE: Cause.NO_BREAK,
    BreakKind.LOCAL_NIC: Cause.LOCAL_MTU,
    BreakKind.PTB: Cause.ROUTER_TOO_BIG,
    BreakKind.SILENT: Cause.SILENT_DROP,
    BreakKind.PARTIAL: Cause.PARTIAL_FLOWS,
}


def break_from_dict(doc: Any, target: str | None = None, family: int = 4) -> Break:
    """A ``"break"`` object read back (``target`` and ``family`` from its result)."""
    if not isinstance(doc, Mapping):
        raise SchemaError("a break must be an object")
    kind = _enum(BreakKind, doc.get("kind"))
    if kind is None:
        raise SchemaError(f"unknown break kind {safe_text(doc.get('kind'), 40)!r}")
    quiet = tuple(t for t in _list(doc, "quiet_hops") if isinstance(t, int) and 0 < t < 256)
    local = tuple(safe_text(x, MAX_TEXT) for x in _list(doc, "local", 8) if isinstance(x, str))
    return Break(
        kind=kind,
        cause=_enum(Cause, doc.get("cause"), _KIND_CAUSE[kind]) or _KIND_CAUSE[kind],
        after=_str(doc, "after"),
        before=_str(doc, "before"),
        mtu=_mtu(doc, "mtu"),
        reported_by=_str(doc, "reported_by"),
        size=_mtu(doc, "size"),
        quiet_hops=quiet,
        max_hops=_int(doc, "max_hops", 1, 255),
        interface=_str(doc, "interface"),
        target=target,
        family=family,
        confirmed=doc.get("confirmed", True) is not False,
        local=local,
        ports=tuple(_port(p) for p in _list(doc, "ports", 16) if isinstance(p, Mapping)),
        ports_reason=_str(doc, "ports_reason", 40),
        unread_switches=tuple(
            _unread(u) for u in _list(doc, "unread_switches", 16) if isinstance(u, Mapping)
        ),
    )


def _unread(doc: Mapping[str, Any]) -> UnreadSwitch:
    return UnreadSwitch(switch=_str(doc, "switch") or "?", reason=_str(doc, "reason", 40) or "?")


def _port(doc: Mapping[str, Any]) -> SwitchPort:
    return SwitchPort(
        switch=_str(doc, "switch") or "?",
        port=_str(doc, "port") or "?",
        toward=_str(doc, "toward") or "?",
        mtu=_mtu(doc, "mtu") or 0,
        basis=_str(doc, "basis", MAX_TEXT) or "",
    )


def _hop(doc: Any) -> Hop:
    if not isinstance(doc, Mapping):
        raise SchemaError("a hop must be an object")
    ttl = _int(doc, "ttl", 1, 255)
    rtt = doc.get("rtt_ms")
    return Hop(
        ttl=ttl or 0,
        address=_str(doc, "address"),
        rtt_ms=_float(doc, "rtt_ms") if rtt is not None else None,
        largest_passing=_mtu(doc, "largest_passing"),
    )


def _remark(doc: Any) -> Remark | None:
    if not isinstance(doc, Mapping) or not isinstance(doc.get("code"), str):
        return None
    facts = []
    for key, value in list(doc.items())[:16]:
        if key == "code" or not isinstance(key, str):
            continue
        if isinstance(value, str):
            value = safe_text(value, MAX_TEXT)
        elif not isinstance(value, (int, float)) or isinstance(value, bool):
            value = None
        facts.append((safe_text(key, 40), value))
    return Remark(safe_text(doc["code"], 40), tuple(facts))


def _each(items: list[Any], read: Callable[[Any], Any]) -> tuple[Any, ...]:
    return tuple(x for x in map(read, items) if x is not None)


def result_from_dict(doc: Any) -> PathResult:
    """One ``"results"`` entry read back into the model (SchemaError if it cannot be)."""
    if not isinstance(doc, Mapping):
        raise SchemaError("a result must be an object")
    status = _enum(Status, doc.get("status"))
    if status is None:
        raise SchemaError(f"unknown status {safe_text(doc.get('status'), 40)!r}")
    family = doc.get("family")
    if family not in (4, 6) or isinstance(family, bool):
        raise SchemaError("'family' must be 4 or 6")
    target = _str(doc, "target")
    if target is None:
        raise SchemaError("a result needs a 'target'")
    hops = doc.get("hops")
    brk = doc.get("break")
    stages = tuple(
        Stage(safe_text(s.get("name"), 20), _int(s, "probes") or 0, _float(s, "elapsed_s"))
        for s in _list(doc, "stages", 8)
        if isinstance(s, Mapping) and isinstance(s.get("name"), str)
    )
    address = _str(doc, "address")
    return PathResult(
        target=target,
        address=address,
        family=family,
        status=status,
        expected_mtu=_mtu(doc, "expected_mtu"),
        path_mtu=_mtu(doc, "path_mtu"),
        interface=_str(doc, "interface"),
        interface_mtu=_mtu(doc, "interface_mtu"),
        loss=_float(doc, "loss", 1.0),
        probes_sent=_int(doc, "probes_sent") or 0,
        elapsed_s=_float(doc, "elapsed_s"),
        stages=stages,
        cached_mtu=_mtu(doc, "cached_mtu"),
        ignored_icmp=_int(doc, "ignored_icmp") or 0,
        notes=_each(_list(doc, "remarks", 16), _remark),
        error=_str(doc, "error", MAX_TEXT),
        cause=_enum(Cause, doc.get("cause")),
        unreachable=_enum(Unreach, doc.get("unreachable")),
        hops=None if hops is None else _each(_list(doc, "hops", MAX_HOPS), _hop),
        break_=None if brk is None else break_from_dict(brk, address, family),
        breaks=tuple(break_from_dict(b, address, family) for b in _list(doc, "breaks", MAX_BREAKS)),
        direction=_enum(Direction, doc.get("direction")),
        protocol=_enum(Protocol, doc.get("protocol"), Protocol.ICMP) or Protocol.ICMP,
        port=_int(doc, "port", 0, 65535),
        flows=_flows(doc.get("flows")),
        soak=_soak(doc.get("soak")),
    )


def _flows(doc: Any) -> Flows | None:
    if not isinstance(doc, Mapping):
        return None
    protocol = _enum(Protocol, doc.get("protocol"), Protocol.TCP) or Protocol.TCP

    def ports(key: str) -> tuple[int, ...]:
        return tuple(
            p
            for p in _list(doc, key, 1024)
            if isinstance(p, int) and not isinstance(p, bool) and 0 < p < 65536
        )

    return Flows(
        protocol=protocol,
        port=_int(doc, "port", 0, 65535),
        size=_mtu(doc, "size") or 0,
        passing=ports("passing_ports"),
        failing=ports("failing_ports"),
        unknown=ports("unknown_ports"),
        failing_mtu=_mtu(doc, "failing_mtu"),
        parted_after=_str(doc, "parted_after"),
        legs=tuple(_flow_leg(g) for g in _list(doc, "legs", 64) if isinstance(g, Mapping)),
    )


def _flow_leg(doc: Mapping[str, Any]) -> FlowLeg:
    return FlowLeg(
        Leg(_str(doc, "interface"), _str(doc, "next_hop")),
        passing=_int(doc, "passing", 0, 65535) or 0,
        failing=_int(doc, "failing", 0, 65535) or 0,
        unknown=_int(doc, "unknown", 0, 65535) or 0,
    )


def _soak(doc: Any) -> SoakLoss | None:
    if not isinstance(doc, Mapping):
        return None
    big, small = doc.get("big"), doc.get("small")
    if not isinstance(big, Mapping) or not isinstance(small, Mapping):
        return None
    return SoakLoss(
        size=_mtu(doc, "size") or 0,
        big_sent=_int(big, "sent") or 0,
        big_lost=_int(big, "lost") or 0,
        small_sent=_int(small, "sent") or 0,
        small_lost=_int(small, "lost") or 0,
        p_value=_float(doc, "p_value", 1.0),
        degraded=doc.get("degraded") is True,
        big_only=_int(doc, "big_only") or 0,
        small_only=_int(doc, "small_only") or 0,
        stop=_enum(SoakStop, doc.get("stop")),
    )
