"""Put a silent break on the layer-2 map: name the switch port(s) below the MTU.

Pure: :func:`suspect_ports` takes a :class:`~jumbopath.model.Break` from a
check or trace and an :class:`~jumbopath.switches.graph.L2Graph`, walks
the map between the last hop big packets reach and the next one, and
returns every port end on that walk whose IP MTU is below the failing
size, or a stable reason code saying why it cannot.

Reason codes (``"reason"`` in JSON; None when ports were named):

===================  ==========================================================
not-silent           the break is not a silent one (a router said "too big",
                     the local NIC, a return path): no switch port to name
no-size              neither the break nor the caller gives the failing size
unplaced             an end of the silent stretch is not on the map (no LLDP
                     neighbour, forwarding entry or file entry names it; the
                     switches that could not be read are listed in ``unread``)
no-path              both ends are on the map but no chain of links joins them
unread               no port on the walk is below, some could not be read
all-fit              every port on the walk carries the size: the drop is
                     elsewhere (a router, a firewall, a port not on the map)
===================  ==========================================================

Switches that could not be read (``unread_switches``) are listed with every
silent break they may sit on: all of them when the stretch could not be
walked, or was walked over a link learned from a forwarding entry (a host
placed by its MAC may sit behind any switch); else those on the walk and
those linked to a switch on it (another way around it). A switch the walk
proves to be elsewhere is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from jumbopath.model import Break, BreakKind, Cause, SwitchPort, UnreadSwitch
from jumbopath.switches.graph import End, L2Graph, L2Link


@dataclass(frozen=True, slots=True)
class SuspectPort:
    """A port on the silent stretch that cannot carry the failing size."""

    node: str
    """Switch (or host) the port is on."""
    port: str
    """Port name (ifName)."""
    toward: str
    """Node on the other end of its link."""
    ip_mtu: int
    """IP MTU the port carries."""
    needed: int
    """The failing size (IP packet bytes) it must carry."""
    basis: str
    """How ``ip_mtu`` is known: the device's number and the vendor rule applied."""

    def sentence(self) -> str:
        """``sw-b port Ethernet1/7 (toward stor-b) has MTU 1500``."""
        return f"{self.node} port {self.port} (toward {self.toward}) has MTU {self.ip_mtu}"


@dataclass(frozen=True, slots=True)
class Suspects:
    """The answer for one break: the ports named, or why none can be."""

    ports: tuple[SuspectPort, ...]
    """Ports below the failing size, in path order."""
    reason: str | None = None
    """Stable code when no port is named (see the module table); None otherwise."""
    walk: tuple[str, ...] = ()
    """Nodes from the last hop reached to the next one, as walked."""
    start: str | None = None
    """Node where the walk starts (the last hop reached, or this host)."""
    goal: str | None = None
    """Node where it ends (the next hop, or the target)."""
    unread: tuple[str, ...] = ()
    """Port ends on the walk whose MTU is unknown (``sw-x swp3``)."""
    needed: int | None = None
    """The failing size."""
    missing: str | None = None
    """For ``unplaced``: the address or name the map does not know."""
    unread_switches: tuple[tuple[str, str], ...] = ()
    """(switch, failure) of every switch not read that may be on the stretch."""

    def sentence(self) -> str:
        """The finding in one line (for text output)."""
        if self.ports:
            named = "; ".join(p.sentence() for p in self.ports)
            if self.unread_switches:
                unread = ", ".join(f"{n} ({r})" for n, r in self.unread_switches)
                named += f"; not read: {unread}, which may be on the way"
            return named
        start, goal = self.start or "?", self.goal or "?"
        return {
            "not-silent": "the break is not a silent drop: no switch port to name",
            "no-size": "the failing size is not known: give --expect",
            "unplaced": f"cannot place {self.missing} on the switch map: no LLDP neighbour, "
            "forwarding entry or hosts: entry names it"
            + (f"; not read: {', '.join(self.unread)}" if self.unread else ""),
            "no-path": f"no chain of switch links joins {start} and {goal} on the map"
            + (f"; not read: {', '.join(self.unread)}" if self.unread else ""),
            "unread": f"no port read between {start} and {goal} is below {self.needed}; "
            f"not read: {', '.join(self.unread)}",
            "all-fit": f"every port between {start} and {goal} carries {self.needed}: "
            "the drop is elsewhere (a router, a firewall, or a port not on the map)",
        }.get(self.reason or "", self.reason or "")


_SILENT = (Cause.SILENT_DROP, Cause.SILENT_FIRST_SEGMENT, Cause.SILENT_NO_NEXT_HOP)


def suspect_ports(
    break_: Break,
    graph: L2Graph,
    *,
    expected: int | None = None,
    source: Sequence[str] = (),
) -> Suspects:
    """The switch port(s) on ``break_``'s silent stretch below the failing size.

    ``source`` names this host (its addresses or LLDP name) for a break on
    the first segment, which has no hop before it. The failing size is the
    break's ``size``, else ``expected``.
    """
    needed = break_.size or expected
    if break_.kind is not BreakKind.SILENT or break_.cause not in _SILENT:
        return Suspects((), "not-silent", needed=needed)
    if needed is None:
        return Suspects((), "no-size")
    start_keys = [break_.after] if break_.after else list(source)
    goal_keys = [break_.before] if break_.before else []
    if break_.cause is Cause.SILENT_NO_NEXT_HOP or not goal_keys:
        goal_keys = [k for k in (break_.before, break_.target) if k]
    start = next((n for k in start_keys if (n := graph.node_of(k))), None)
    goal = next((n for k in goal_keys if (n := graph.node_of(k))), None)
    if start is None or goal is None:
        if start is None:
            missing = start_keys[0] if start_keys else "this host (give its address)"
        else:
            missing = goal_keys[0] if goal_keys else "the next hop"
        return Suspects(
            (),
            "unplaced",
            start=start,
            goal=goal,
            needed=needed,
            missing=missing,
            unread=_failed(graph),
            unread_switches=_unread_switches(graph, None),
        )
    links = graph.path(start, goal)
    if links is None:
        return Suspects(
            (),
            "no-path",
            start=start,
            goal=goal,
            needed=needed,
            unread=_failed(graph),
            unread_switches=_unread_switches(graph, None),
        )
    walk = _nodes(start, links)
    ports, unread = [], []
    at = start
    for link in links:
        near, far = link.end(at), link.other(at)
        for end, other in ((near, far), (far, near)):
            if end.ip_mtu is None:
                if end.switch:
                    unread.append(_label(graph, end))
                continue
            if end.ip_mtu < needed:
                ports.append(
                    SuspectPort(
                        end.node, end.port or "(NIC)", other.node, end.ip_mtu, needed, end.basis
                    )
                )
        at = far.node
    off = _unread_switches(graph, links)
    if ports:
        return Suspects(
            tuple(ports), None, tuple(walk), start, goal, tuple(unread), needed, unread_switches=off
        )
    reason = "unread" if unread else "all-fit"
    return Suspects(
        (), reason, tuple(walk), start, goal, tuple(unread), needed, unread_switches=off
    )


def placed(break_: Break, found: Suspects) -> Break:
    """``break_`` with what the switches said about it: ports, reason, switches not read."""
    return replace(
        break_,
        ports=tuple(SwitchPort(p.node, p.port, p.toward, p.ip_mtu, p.basis) for p in found.ports),
        ports_reason=found.reason,
        unread_switches=tuple(UnreadSwitch(n, r) for n, r in found.unread_switches),
    )


def _unread_switches(graph: L2Graph, links: Sequence[L2Link] | None) -> tuple[tuple[str, str], ...]:
    """Switches not read that may be on the stretch (see the module docstring)."""
    failed = [(sw.name, sw.failure.value) for sw in graph.switches if sw.failure]
    if links is None or any(lk.via != "lldp" for lk in links):
        return tuple(failed)
    on = {e.node for lk in links for e in (lk.a, lk.b)}
    transit = {e.node for lk in links for e in (lk.a, lk.b) if e.switch}
    beside = {lk.other(n).node for n in transit for lk in graph.links_of(n)}
    return tuple((n, r) for n, r in failed if n in on or n in beside)


def _failed(graph: L2Graph) -> tuple[str, ...]:
    """Switches that could not be read: the map may lack their links."""
    return tuple(f"{sw.name} ({sw.failure.value})" for sw in graph.switches if sw.failure)


def _nodes(start: str, links: Sequence[L2Link]) -> list[str]:
    out, at = [start], start
    for link in links:
        at = link.other(at).node
        out.append(at)
    return out


def _label(graph: L2Graph, end: End) -> str:
    sw = graph.switch(end.node)
    why = f" ({sw.failure.value})" if sw is not None and sw.failure is not None else ""
    return f"{end.node} {end.port}{why}".strip()
