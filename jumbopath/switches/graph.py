"""The layer-2 map: switches joined by LLDP, hosts placed by LLDP or by MAC address.

Pure: built from :class:`SwitchInfo` values (polled or given) and the
hosts a switches file names. Every link has two ends; an end knows the IP
MTU its port carries when the device said so (ifMtu by the vendor's rule,
or an IEEE 802.3 maximum frame size heard over LLDP), and says how it knows.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from jumbopath.sizes import TAGGED_FRAME_OVERHEAD, UNTAGGED_FRAME_OVERHEAD
from jumbopath.switches.model import HostHint, Port, SwitchInfo
from jumbopath.switches.vendors import VENDORS, ip_mtu_from_max_frame

_IGNORED_TYPES = (24, 1, 53, 131, 135, 209)  # loopback, other, propVirtual, tunnel, l2vlan, bridge


@dataclass(frozen=True, slots=True)
class End:
    """One end of a link: a port on a switch, or a host's NIC."""

    node: str
    """Switch or host name."""
    port: str
    """Port name ("" when unknown, e.g. a host placed by MAC)."""
    ip_mtu: int | None = None
    """IP MTU this end carries, when known."""
    basis: str = ""
    """How ``ip_mtu`` is known (the device's number and the rule applied)."""
    switch: bool = False
    """Whether ``node`` is a switch jumbopath read (or was given)."""


@dataclass(frozen=True, slots=True)
class L2Link:
    """A cable between two ends."""

    a: End
    """One end (a read switch's port)."""
    b: End
    """The other end."""
    via: str
    """How it was found: ``lldp`` (a neighbour table) or ``fdb`` (a learned MAC)."""

    def other(self, node: str) -> End:
        """The end that is not on ``node``."""
        return self.b if self.a.node == node else self.a

    def end(self, node: str) -> End:
        """The end on ``node``."""
        return self.a if self.a.node == node else self.b


@dataclass(frozen=True, slots=True)
class PortFlag:
    """A switch port (or a neighbour's announced frame size) below what the network needs."""

    node: str
    """Switch (or host) name."""
    port: str
    """Port name."""
    toward: str | None
    """The node on the other end of its link, when known."""
    ip_mtu: int
    """IP MTU it carries."""
    needed: int
    """IP MTU the network needs."""
    basis: str
    """The arithmetic: what the device said and the rule applied."""


@dataclass(frozen=True, slots=True)
class L2Graph:
    """Switches, links and the addresses that name nodes."""

    switches: tuple[SwitchInfo, ...]
    """Every switch, read or not (a failed one carries its failure)."""
    links: tuple[L2Link, ...]
    """Cables found."""
    addresses: tuple[tuple[str, str], ...]
    """(address, node) pairs: management addresses, LLDP-announced ones, the file's hosts."""

    def switch(self, name: str) -> SwitchInfo | None:
        """The switch called ``name``."""
        return next((s for s in self.switches if s.name == name), None)

    def nodes(self) -> list[str]:
        """Every node name, switches first."""
        seen = {s.name: None for s in self.switches}
        for link in self.links:
            seen.setdefault(link.a.node)
            seen.setdefault(link.b.node)
        return list(seen)

    def node_of(self, address_or_name: str) -> str | None:
        """The node an address (or a node name) stands for."""
        key = address_or_name.strip().lower()
        for address, node in self.addresses:
            if address.lower() == key:
                return node
        return next((n for n in self.nodes() if n.lower() == key), None)

    def links_of(self, node: str) -> list[L2Link]:
        """Links with an end on ``node``."""
        return [lk for lk in self.links if node in (lk.a.node, lk.b.node)]

    def path(self, start: str, goal: str) -> list[L2Link] | None:
        """The links from ``start`` to ``goal`` (fewest hops; hosts are never transit)."""
        if start == goal:
            return []
        transit = {s.name for s in self.switches}
        came: dict[str, tuple[str, L2Link] | None] = {start: None}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if node != start and node not in transit:
                continue
            for link in self.links_of(node):
                nxt = link.other(node).node
                if nxt in came:
                    continue
                came[nxt] = (node, link)
                if nxt == goal:
                    out = []
                    at = goal
                    while (step := came[at]) is not None:
                        out.append(step[1])
                        at = step[0]
                    return out[::-1]
                queue.append(nxt)
        return None


def port_basis(sw: SwitchInfo, port: Port) -> str:
    """How a switch port's IP MTU is known, with the vendor's rule."""
    v = VENDORS.get(sw.vendor, VENDORS["unknown"])
    if port.if_mtu is not None and port.ip_mtu is not None:
        rule = (
            "ifMtu is the IP MTU" if v.if_mtu_kind == "mtu" else "ifMtu counts the 14-byte header"
        )
        how = "recognised" if sw.vendor_guessed else "given"
        return f"ifMtu {port.if_mtu} -> IP MTU {port.ip_mtu} ({v.label}, {how}: {rule})"
    if port.max_frame is not None and port.ip_mtu is not None:
        return f"LLDP max frame {port.max_frame} -> IP MTU {port.ip_mtu} (frame - 18)"
    return "MTU not reported"


def _end(sw: SwitchInfo, name: str) -> End:
    port = sw.port(name)
    if port is None:
        return End(sw.name, name, None, "port not in IF-MIB", switch=True)
    return End(sw.name, name, port.ip_mtu, port_basis(sw, port), switch=True)


def build(switches: Sequence[SwitchInfo], hosts: Iterable[HostHint] = ()) -> L2Graph:
    """The map from every switch's LLDP and forwarding tables."""
    hosts = list(hosts)
    alias: dict[str, str] = {}
    shared: set[str] = set()  # names two switches claim (namespaces share a hostname)
    for sw in switches:
        for key in {k.lower() for k in (sw.name, sw.sys_name, sw.chassis_id, sw.address) if k}:
            if key in alias and alias[key] != sw.name:
                shared.add(key)
            alias.setdefault(key, sw.name)
    for key in shared - {sw.name.lower() for sw in switches}:
        del alias[key]
    host_alias: dict[str, str] = {}
    for h in hosts:
        for key in (h.name, *h.macs, *h.addresses):
            host_alias.setdefault(key.lower(), h.name)
    by_name = {sw.name: sw for sw in switches}
    links: dict[frozenset[tuple[str, str]], L2Link] = {}
    addresses: dict[str, str] = {}
    for sw in switches:
        if sw.address:
            addresses.setdefault(sw.address, sw.name)
    placed: set[str] = set()
    for sw in switches:
        for n in sw.neighbours:
            keys = [n.system, n.chassis_id, *n.addresses]
            remote = next((alias[k.lower()] for k in keys if k and k.lower() in alias), None)
            if remote is not None and remote in by_name:
                other = by_name[remote]
                rport = n.port_id if other.port(n.port_id) else (n.port_desc or n.port_id)
                far = _end(other, rport)
            else:
                remote = next(
                    (host_alias[k.lower()] for k in keys if k and k.lower() in host_alias), n.system
                )
                mtu = ip_mtu_from_max_frame(n.max_frame) if n.max_frame else None
                basis = f"LLDP max frame {n.max_frame} -> IP MTU {mtu} (frame - 18)" if mtu else ""
                far = End(remote, n.port_id, mtu, basis)
                placed.add(remote)
            for a in n.addresses:
                addresses.setdefault(a, remote)
            near = _end(sw, n.port)
            pair = frozenset({(near.node, near.port), (far.node, far.port)})
            links.setdefault(pair, L2Link(near, far, "lldp"))
    _place_by_mac(switches, hosts, placed, links)
    for h in hosts:
        for a in h.addresses:
            addresses.setdefault(a, h.name)
    return L2Graph(tuple(switches), tuple(links.values()), tuple(addresses.items()))


def _place_by_mac(
    switches: Sequence[SwitchInfo],
    hosts: Sequence[HostHint],
    placed: set[str],
    links: dict[frozenset[tuple[str, str]], L2Link],
) -> None:
    """Hosts without LLDP: the edge port (one with no switch behind it) that learned their MAC."""
    inter_switch = {(e.node, e.port) for lk in links.values() if lk.b.switch for e in (lk.a, lk.b)}
    for h in hosts:
        if h.name in placed or not h.macs:
            continue
        macs = {m.lower() for m in h.macs}
        for sw in switches:
            entry = next(
                (f for f in sw.fdb if f.mac in macs and (sw.name, f.port) not in inter_switch), None
            )
            if entry is None:
                continue
            near = _end(sw, entry.port)
            far = End(h.name, "")
            links.setdefault(
                frozenset({(near.node, near.port), (h.name, "")}), L2Link(near, far, "fdb")
            )
            placed.add(h.name)
            break


def flags(graph: L2Graph, needed: int) -> list[PortFlag]:
    """Every port below ``needed`` (an IP MTU): switch ports, and far ends that announce less."""
    out: list[PortFlag] = []
    toward: dict[tuple[str, str], str] = {}
    for lk in graph.links:
        toward[(lk.a.node, lk.a.port)] = lk.b.node
        toward[(lk.b.node, lk.b.port)] = lk.a.node
    for sw in graph.switches:
        for p in sw.ports:
            if p.ip_mtu is None or p.ip_mtu >= needed or p.if_type in _IGNORED_TYPES:
                continue
            linked = (sw.name, p.name) in toward
            if not linked and p.up is False:
                continue
            out.append(
                PortFlag(
                    sw.name,
                    p.name,
                    toward.get((sw.name, p.name)),
                    p.ip_mtu,
                    needed,
                    port_basis(sw, p),
                )
            )
    for lk in graph.links:
        for end in (lk.a, lk.b):
            if not end.switch and end.ip_mtu is not None and end.ip_mtu < needed:
                out.append(
                    PortFlag(
                        end.node, end.port, lk.other(end.node).node, end.ip_mtu, needed, end.basis
                    )
                )
    return out


def need_line(needed: int) -> str:
    """What an IP MTU needs on the wire: ``9000 = frame 9018 (9022 with an 802.1Q tag)``."""
    return (
        f"IP MTU {needed} = Ethernet frame {needed + UNTAGGED_FRAME_OVERHEAD} with FCS "
        f"({needed + TAGGED_FRAME_OVERHEAD} with an 802.1Q tag)"
    )
