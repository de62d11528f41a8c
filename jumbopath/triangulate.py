"""Inference across targets: is a fault specific to some hosts, or shared?

Pure: it reads traced :class:`~jumbopath.model.PathResult` objects and
returns :class:`~jumbopath.model.Finding` objects. Targets are grouped by
family and by their last hop (the router in front of them, or this host's
own segment when there is none; when a path's last router stayed quiet,
rate-limited, it is taken from a path of the same length that agrees on
every hop both know). Within a group of two or more:

* some carry the expected MTU and others do not: the shared router and
  segment demonstrably carry it, so the fault is specific to the failing
  hosts: their access switch port or their own NIC (``scope="host"``);
* all fall short: the element they share is the suspect: the last hop's
  egress interface, or the switch or uplink between it and them
  (``scope="shared"``), or the break every one of them reports, when they
  all report the same one further up the path.
"""

from __future__ import annotations

from collections.abc import Sequence

from jumbopath.model import Break, BreakKind, Cause, Finding, PathResult, Status

LOCAL = ""
"""Group key of targets on this host's own segment (no router in between)."""


def last_hop(result: PathResult) -> str | None:
    """Address of the hop in front of the target, :data:`LOCAL` when there is none.

    None when unknown: no hop map, the map does not reach the target, or
    that hop never answered.
    """
    hops = result.hops
    if not hops or hops[-1].address is None or hops[-1].address != result.address:
        return None
    if len(hops) == 1:
        return LOCAL
    return hops[-2].address


def _place(b: Break) -> tuple[object, ...]:
    # Silent breaks differ by their far end; a router's report does not.
    if b.kind is BreakKind.SILENT:
        return (b.kind, b.after, b.before)
    return (b.kind, b.after, b.reported_by)


def _borrowed_last_hop(r: PathResult, others: Sequence[PathResult]) -> str | None:
    """The last hop of a path whose last router stayed quiet (rate-limited), taken
    from another path of the same family and length that agrees on every hop both
    know, when exactly one such last hop exists."""
    hops = r.hops
    if not hops or len(hops) < 2 or hops[-1].address != r.address:
        return None
    found = set()
    for o in others:
        if o is r or o.family != r.family or not o.hops or len(o.hops) != len(hops):
            continue
        known = last_hop(o)
        if not known:
            continue
        pairs = zip(hops[:-1], o.hops[:-1], strict=True)
        if all(a.address is None or b.address is None or a.address == b.address for a, b in pairs):
            found.add(known)
    return found.pop() if len(found) == 1 else None


def triangulate(results: Sequence[PathResult]) -> tuple[Finding, ...]:
    """Findings for every group of two or more targets behind the same last hop."""
    groups: dict[tuple[int, str], list[PathResult]] = {}
    measured = [r for r in results if r.status in (Status.OK, Status.BELOW)]
    for r in measured:
        hop = last_hop(r)
        if hop is None:
            hop = _borrowed_last_hop(r, measured)
        if hop is None:
            continue
        groups.setdefault((r.family, hop), []).append(r)
    findings: list[Finding] = []
    for (_, hop), members in groups.items():
        failing = [r for r in members if r.status is Status.BELOW]
        passing = [r for r in members if r.status is Status.OK]
        if len(members) < 2 or not failing:
            continue
        findings.append(_finding(hop, failing, passing))
    return tuple(findings)


def _finding(hop: str, failing: list[PathResult], passing: list[PathResult]) -> Finding:
    expected = {r.expected_mtu for r in failing + passing if r.expected_mtu is not None}
    common = None
    if not passing:
        located = [r.break_ for r in failing if r.break_ is not None]
        if len(located) == len(failing) and len({_place(b) for b in located}) == 1:
            common = located[0]
    return Finding(
        scope="host" if passing else "shared",
        hop=hop if hop != LOCAL else None,
        failing=tuple(r.target for r in failing),
        passing=tuple(r.target for r in passing),
        cause=Cause.HOST_SPECIFIC if passing else Cause.SHARED_ELEMENT,
        expected_mtu=max(expected) if expected else None,
        measured=tuple(sorted({r.path_mtu for r in failing if r.path_mtu is not None})),
        common_break=common,
    )
