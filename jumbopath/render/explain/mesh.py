"""Every sentence jumbopath says about a mesh: failing pairs, verdicts, summaries.

The matrix (:mod:`jumbopath.mesh.matrix`) returns data: a cause code
(:class:`~jumbopath.mesh.model.MeshCause` for a verdict, the source's
:class:`~jumbopath.model.Cause` for a failing pair) and the facts behind it.
The text renderer and the ``explanation`` fields of the mesh JSON document
get their words from here. Names and addresses came from inventories and
remote output: each is made terminal-safe before it enters a sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from jumbopath.mesh.model import (
    CellStatus,
    FailingPair,
    Mesh,
    MeshCause,
    NetworkMatrix,
    OneWay,
    SharedBreak,
    Verdict,
)
from jumbopath.model import Break, BreakKind, Cause
from jumbopath.render.explain import _join, _s, switches_clause
from jumbopath.status import ExitCode


def _names(net: NetworkMatrix) -> dict[str, str]:
    return {a: h for h, a in net.addresses}


def _name(addr: str | None, names: Mapping[str, str]) -> str:
    """A host's address on the network as "host (address)", or the address alone."""
    if addr is None:
        return "?"
    return f"{_s(names[addr])} ({_s(addr)})" if addr in names else _s(addr)


# --------------------------------------------------------------------------
# Failing pairs


def _head(f: FailingPair, expected: int) -> str:
    arrow = f"{_s(f.source)} → {_s(f.destination)}"
    if f.status is CellStatus.UNREACHABLE:
        return f"{arrow}: unreachable even with small packets"
    if f.status is CellStatus.DEGRADED:
        return (
            f"{arrow}: carries {f.path_mtu}, but loses big packets more often than small "
            "ones (a bad optic or cable, CRC errors at jumbo size)"
        )
    return f"{arrow}: path MTU {f.path_mtu}, below {expected}"


def _way(f: FailingPair) -> str:
    src, dst = _s(f.source), _s(f.destination)
    if f.one_way is OneWay.FORWARD:
        tail = "; the way back carries them" if f.other_way_carries else ""
        return f"big packets die on the way from {src} to {dst}{tail}"
    if f.one_way is OneWay.RETURN:
        tail = "; the way there carries them" if f.other_way_carries else ""
        return f"big packets die on the way back from {dst} to {src}{tail}"
    if f.one_way is OneWay.BOTH:
        return "big packets die in both directions"
    return ""


def _ptb(f: FailingPair, b: Break, names: Mapping[str, str]) -> str:
    return f"{_name(b.reported_by or b.after, names)} reports next-hop MTU {b.mtu}"


def _silent(f: FailingPair, b: Break, names: Mapping[str, str]) -> str:
    after = _name(b.after, names) if b.after else _s(f.source)
    return (
        f"they vanish silently after {after} and before {_name(b.before, names)}"
        + switches_clause(b)
    )


def _local(f: FailingPair, b: Break, names: Mapping[str, str]) -> str:
    iface = f" {_s(f.interface)}" if f.interface else ""
    return f"{_s(f.source)}'s own interface{iface} is smaller (MTU {b.mtu or f.interface_mtu})"


def _partial(f: FailingPair, b: Break, names: Mapping[str, str]) -> str:
    return (
        "some flows carry them and others do not: one equal-cost leg or link-aggregation "
        "member is smaller"
    )


def _tunnel(f: FailingPair, b: Break, names: Mapping[str, str]) -> str:
    side = "its encapsulation" if b.cause is Cause.OVERLAY_ENCAPSULATION else "its underlay"
    return f"they do not fit through {_s(f.source)}'s tunnel {_s(b.interface)} ({side} is short)"


_PAIR_BREAK: dict[Cause, Callable[[FailingPair, Break, Mapping[str, str]], str]] = {
    Cause.ROUTER_TOO_BIG: _ptb,
    Cause.SILENT_DROP: _silent,
    Cause.SILENT_FIRST_SEGMENT: _silent,
    Cause.SILENT_NO_NEXT_HOP: _silent,
    Cause.LOCAL_MTU: _local,
    Cause.PARTIAL_FLOWS: _partial,
    Cause.OVERLAY_ENCAPSULATION: _tunnel,
    Cause.UNDERLAY_SHORT: _tunnel,
}


def pair_sentence(f: FailingPair, net: NetworkMatrix) -> str:
    """One failing direction: what it measured, which way big packets die, where."""
    parts = [_head(f, net.expected_mtu)]
    way = _way(f)
    if way:
        parts.append(way)
    b = f.break_
    if b is not None and b.kind is not BreakKind.NONE:
        where = _PAIR_BREAK.get(b.cause)
        if where is not None:
            parts.append(where(f, b, _names(net)))
    return "; ".join(parts) + "."


# --------------------------------------------------------------------------
# Verdicts


def _shared(sb: SharedBreak | None, names: Mapping[str, str]) -> str:
    """'; on N failing path(s) R reports next-hop MTU M' (the most common break), or ''."""
    if sb is None:
        return ""
    b, on = sb.break_, f"; on {sb.paths} failing path(s)"
    if b.kind is BreakKind.PTB:
        return f"{on} {_name(b.reported_by or b.after, names)} reports next-hop MTU {b.mtu}"
    if b.after is None:
        return (
            f"{on} big packets vanish between the hosts with no router in between (a layer-2 drop)"
        )
    return f"{on} big packets vanish silently after {_name(b.after, names)}"


def _network(v: Verdict, net: NetworkMatrix) -> str:
    return (
        f"Every pair on {_s(net.name)} fails: the network as a whole does not carry "
        f"{net.expected_mtu}. Suspect what all of them share: the switch (its MTU / jumbo "
        "setting) or the MTU configured on every host" + _shared(v.shared_break, _names(net)) + "."
    )


def _host(v: Verdict, net: NetworkMatrix) -> str:
    h, name, mtu = _s(v.hosts[0]), _s(net.name), net.expected_mtu
    subject = (
        f"Every pair with {h} on {name} fails in both directions"
        if v.both_directions
        else f"Every measured path to or from {h} on {name} fails"
    )
    carried = f" (its paths carry at most {v.carried_mtu})" if v.carried_mtu else ""
    if v.cause is MeshCause.HOST_NIC:
        what = (
            f"Suspect {h}'s own NIC: its interface {_s(v.interface or '?')} is set to MTU "
            f"{v.interface_mtu or '?'}: raise it to {mtu}"
        )
    else:
        nic_ok = (
            f" ({h}'s own interface {_s(v.interface)} is set to {v.interface_mtu})"
            if v.interface and v.interface_mtu
            else ""
        )
        what = (
            f"Suspect {h}'s switch access port on {name}, or the link between {h}'s "
            f"switch and the others{nic_ok}"
        )
    return f"{subject}{carried}, while the other hosts reach each other at {mtu}. {what}."


def _link(v: Verdict, net: NetworkMatrix) -> str:
    name, mtu, groups = _s(net.name), net.expected_mtu, v.groups
    listed = "; ".join("{" + ", ".join(_s(h) for h in g) + "}" for g in groups)
    if len(groups) == 2:
        head = (
            f"On {name}, {_join(groups[0])} reach each other and {_join(groups[1])} "
            f"reach each other at {mtu}, but the pairs between the two groups fail"
            if all(len(g) > 1 for g in groups)
            else f"On {name}, the groups {listed} each work inside, but every pair between "
            "them fails"
        )
        what = (
            "Suspect the link between the two groups: the inter-switch link or uplink "
            "(its ports' MTU), or the router between them"
        )
    else:
        head = (
            f"On {name}, the groups {listed} each work inside at {mtu}, "
            "but pairs between groups fail"
        )
        what = "Suspect the links between the groups' switches (or the core switch joining them)"
    direction = ""
    if v.only_from and v.only_to:
        direction = (
            f" Big packets die only on the way from {_join(v.only_from)} to {_join(v.only_to)}"
            " (the other way carries them): look at the path in that direction "
            "(asymmetric routing?)."
        )
    return f"{head}. {what}{_shared(v.shared_break, _names(net))}.{direction}"


def _pair(v: Verdict, net: NetworkMatrix) -> str:
    a, b = (_s(h) for h in v.hosts[:2])
    parts = [pair_sentence(f, net) for f in v.pairs]
    if v.carrying is not None:
        src, dst = (_s(h) for h in v.carrying)
        parts.append(
            f"{src} → {dst} carries {v.carrying_mtu}: the two hosts disagree (a one-way "
            "limit, or a flapping path)."
        )
    return f"The pair {a} – {b} fails on {_s(net.name)} on its own. " + " ".join(parts)


_VERDICT: dict[MeshCause, Callable[[Verdict, NetworkMatrix], str]] = {
    MeshCause.NETWORK_WIDE: _network,
    MeshCause.HOST_NIC: _host,
    MeshCause.HOST_PORT_OR_NIC: _host,
    MeshCause.INTER_GROUP_LINK: _link,
    MeshCause.PAIR_SPECIFIC: _pair,
}


def verdict_sentence(v: Verdict, net: NetworkMatrix) -> str:
    """What a verdict names, and what to look at (one to three sentences)."""
    return _VERDICT[v.cause](v, net)


# --------------------------------------------------------------------------
# Summaries


def legend(net: NetworkMatrix) -> str | None:
    """What the marks in the matrix's cells mean, when any is shown."""
    parts = []
    if any(f.one_way is not OneWay.UNKNOWN for f in net.failing):
        parts.append(
            "→ big packets die on the way to the column's host, ← on the way back, ↔ both ways"
        )
    if any(f.status is CellStatus.DEGRADED for f in net.failing):
        parts.append("~ carries the MTU but loses big packets")
    return "; ".join(parts) or None


def matrix_summary(net: NetworkMatrix) -> str:
    """'12 of 20 paths carry 9000; 3 not measured.'"""
    measured = [c for c in net.cells if c.status.measured]
    ok = sum(c.status is CellStatus.OK for c in measured)
    missing = len(net.cells) - len(measured)
    tail = f"; {missing} not measured" if missing else ""
    return f"{ok} of {len(net.cells)} paths carry {net.expected_mtu}{tail}."


_MESH_SUMMARY = {
    ExitCode.OK: "Every pair carries its network's MTU.",
    ExitCode.BELOW: "Some pairs do not carry their network's MTU.",
    ExitCode.CANNOT_MEASURE: "Part of the mesh could not be measured.",
}


def mesh_summary(mesh: Mesh) -> str:
    """The last line: what the exit status means."""
    return _MESH_SUMMARY[mesh.exit_code]
