"""The switches map, flagged ports and suspect ports as text and as JSON (data only)."""

from __future__ import annotations

from typing import Any

from jumbopath.safe import safe_text
from jumbopath.switches.graph import L2Graph, PortFlag, need_line
from jumbopath.switches.suspects import SuspectPort, Suspects
from jumbopath.switches.vendors import VENDORS


def suspect_dict(s: SuspectPort) -> dict[str, Any]:
    """One suspect port as JSON (the ``"ports"`` a break gains)."""
    return {
        "node": s.node,
        "port": s.port,
        "toward": s.toward,
        "ip_mtu": s.ip_mtu,
        "needed": s.needed,
        "basis": s.basis,
        "explanation": s.sentence(),
    }


def suspects_dict(s: Suspects) -> dict[str, Any]:
    """The answer for one break as JSON."""
    return {
        "ports": [suspect_dict(p) for p in s.ports],
        "reason": s.reason,
        "walk": list(s.walk),
        "start": s.start,
        "goal": s.goal,
        "missing": s.missing,
        "unread": list(s.unread),
        "unread_switches": [{"switch": n, "reason": r} for n, r in s.unread_switches],
        "needed": s.needed,
        "explanation": s.sentence(),
    }


def map_dict(graph: L2Graph, flagged: list[PortFlag], needed: int) -> dict[str, Any]:
    """The whole map as JSON."""
    switches = []
    for sw in graph.switches:
        v = VENDORS.get(sw.vendor, VENDORS["unknown"])
        switches.append(
            {
                "name": sw.name,
                "address": sw.address,
                "source": sw.source.value,
                "failure": sw.failure.value if sw.failure else None,
                "error": sw.error,
                "elapsed_s": sw.elapsed_s,
                "vendor": {
                    "key": v.key,
                    "label": v.label,
                    "recognised": sw.vendor_guessed,
                    "if_mtu_means": v.if_mtu_kind,
                    "note": v.note,
                    "source": v.source,
                },
                "ports": [
                    {
                        "name": p.name,
                        "index": p.index,
                        "alias": p.alias,
                        "if_mtu": p.if_mtu,
                        "ip_mtu": p.ip_mtu,
                        "max_frame": p.max_frame,
                        "speed_mbps": p.speed_mbps,
                        "up": p.up,
                        "if_type": p.if_type,
                    }
                    for p in sw.ports
                ],
                "neighbours": [
                    {
                        "port": n.port,
                        "system": n.system,
                        "port_id": n.port_id,
                        "addresses": list(n.addresses),
                        "max_frame": n.max_frame,
                    }
                    for n in sw.neighbours
                ],
                "fdb": [{"mac": f.mac, "port": f.port, "vlan": f.vlan} for f in sw.fdb],
            }
        )
    links = [
        {
            "a": {"node": lk.a.node, "port": lk.a.port, "ip_mtu": lk.a.ip_mtu},
            "b": {"node": lk.b.node, "port": lk.b.port, "ip_mtu": lk.b.ip_mtu},
            "via": lk.via,
        }
        for lk in graph.links
    ]
    return {
        "needed_mtu": needed,
        "switches": switches,
        "links": links,
        "flagged": [
            {
                "node": f.node,
                "port": f.port,
                "toward": f.toward,
                "ip_mtu": f.ip_mtu,
                "needed": f.needed,
                "basis": f.basis,
            }
            for f in flagged
        ],
    }


def _mtu(value: int | None) -> str:
    return "?" if value is None else str(value)


def render_map(graph: L2Graph, flagged: list[PortFlag], needed: int) -> str:
    """Plain text: switches and their ports, links, then every port below the need."""
    lines = [f"Needed: {need_line(needed)}", ""]
    for sw in graph.switches:
        name = safe_text(sw.name)
        if sw.failure is not None:
            lines.append(f"{name} ({sw.address}): NOT READ: {sw.failure.value}: {sw.error}")
            continue
        v = VENDORS.get(sw.vendor, VENDORS["unknown"])
        how = "recognised" if sw.vendor_guessed else "given"
        where = sw.address or "from file"
        lines.append(f"{name} ({where}, {v.label}, {how}: {v.note}) read in {sw.elapsed_s:.2f} s")
        for p in sw.ports:
            if p.if_type in (24,):
                continue
            state = "up" if p.up else "down" if p.up is False else "?"
            alias = f"  '{p.alias}'" if p.alias else ""
            lines.append(
                f"  {p.name:<16} ifMtu {_mtu(p.if_mtu):>6}  IP MTU {_mtu(p.ip_mtu):>6}"
                f"  {state}{alias}"
            )
    lines.append("")
    lines.append("Links:")
    for lk in graph.links:
        lines.append(
            f"  {lk.a.node} {lk.a.port} ({_mtu(lk.a.ip_mtu)}) -- "
            f"{lk.b.node} {lk.b.port or 'NIC'} ({_mtu(lk.b.ip_mtu)})  [{lk.via}]"
        )
    lines.append("")
    if flagged:
        lines.append(f"Below IP MTU {needed}:")
        for f in flagged:
            toward = f" (toward {f.toward})" if f.toward else ""
            lines.append(f"  {f.node} port {f.port}{toward} has MTU {f.ip_mtu}: {f.basis}")
    else:
        lines.append(f"Every port read carries IP MTU {needed}.")
    return "\n".join(lines)
