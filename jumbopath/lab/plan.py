"""The address plan: interface names, segments, addresses and static routes.

Computed purely from a :class:`~jumbopath.lab.topology.Topology` (no kernel,
no root), so names and addresses are known before a lab exists. The rules
are the conventions documented in :mod:`jumbopath.lab`.
"""

from __future__ import annotations

import ipaddress
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace

from jumbopath.errors import LabError
from jumbopath.lab.faults import (
    FAULT_TYPES,
    DropEcho,
    Fault,
    Loss,
    NoPTB,
    NoTimeExceeded,
    RateLimit,
)
from jumbopath.lab.topology import MIN_MTU_V6, Host, Link, Route, Router, Switch, Topology

MAX_MEMBERS = 254
"""Most hosts/routers on one L3 segment (a /24)."""
MAX_SEGMENTS = 511
"""Most L3 segments a lab can address (198.18.1.0/24 .. 198.19.255.0/24)."""

# Which node kinds each fault may sit on.
FAULT_KINDS: dict[type, tuple[type, ...]] = {
    NoPTB: (Router,),
    Loss: (Router,),
    NoTimeExceeded: (Router,),
    DropEcho: (Host, Router),
    RateLimit: (Host, Router),
}


@dataclass(frozen=True, slots=True)
class Iface:
    """One interface of a node, as planned."""

    node: str
    """Node the interface belongs to."""
    peer: str
    """Node at the other end of its cable."""
    name: str
    """Interface name (``eth0``..., ``swp1``... on switches)."""
    mtu: int
    """MTU it is built with."""
    segment: int | None
    """L3 segment number (hosts and routers only)."""
    v4: str | None
    """IPv4 address (hosts and routers only)."""
    v6: str | None
    """IPv6 address, or None when its segment is IPv4-only."""


@dataclass(frozen=True, slots=True)
class RouteEntry:
    """One static route line: ``route add PREFIX via VIA dev DEV``."""

    prefix: str
    """Destination prefix."""
    via: str
    """Gateway address."""
    dev: str
    """Outgoing interface name."""


_Vertex = tuple[str, ...]


class Plan:
    """Everything about a lab that does not need the kernel.

    Attributes: ``kind`` (node -> Host/Router/Switch), ``order`` (node names
    in topology order), ``l3`` (hosts and routers), ``ifaces`` ((node, peer)
    -> :class:`Iface`), ``by_node`` (node -> its (node, peer) keys in link
    order), ``members`` (segment -> its (node, peer) keys), ``v6_ok``
    (segment -> carries IPv6), ``routes`` / ``host_routes`` ((node, family)
    -> :class:`RouteEntry` list) and ``reach`` ((node, family) -> segments
    it can reach).
    """

    def __init__(self, topo: Topology) -> None:
        self.kind: dict[str, type] = {}
        for n in topo.nodes:
            if not isinstance(n, (Host, Router, Switch)):
                raise LabError(f"{n!r} is not a Host, Router or Switch")
            if n.name in self.kind:
                raise LabError(f"node name {n.name!r} is used twice: names must be unique")
            self.kind[n.name] = type(n)
        self.order = [n.name for n in topo.nodes]
        self.l3 = [n for n in self.order if self.kind[n] is not Switch]

        # Interfaces, named per node in link order.
        self.ifaces: dict[tuple[str, str], Iface] = {}
        self.by_node: dict[str, list[tuple[str, str]]] = {n: [] for n in self.order}
        pairs: set[frozenset[str]] = set()
        for link in topo.links:
            if not isinstance(link, Link):
                raise LabError(f"{link!r} is not a Link")
            for end in (link.a, link.b):
                if end not in self.kind:
                    raise LabError(
                        f"link {link.a}-{link.b} names unknown node {end!r}: add it to nodes"
                    )
            pair = frozenset((link.a, link.b))
            if pair in pairs:
                raise LabError(
                    f"two links between {link.a} and {link.b}: use one link per pair of nodes"
                )
            pairs.add(pair)
            for node, peer in ((link.a, link.b), (link.b, link.a)):
                k = len(self.by_node[node])
                name = f"swp{k + 1}" if self.kind[node] is Switch else f"eth{k}"
                self.ifaces[(node, peer)] = Iface(
                    node, peer, name, link.mtu_of(node), None, None, None
                )
                self.by_node[node].append((node, peer))
        for name in self.order:
            if not self.by_node[name]:
                raise LabError(f"node {name!r} has no links: link it or remove it")

        self._segments(topo.links)
        self.routes: dict[tuple[str, int], list[RouteEntry]] = {}
        self.reach: dict[tuple[str, int], set[int]] = {}
        for fam in (4, 6):
            self._compute_routes(fam)
        self._overrides(topo.routes)
        self.check_faults(topo.faults)

    # -- segments and addresses ------------------------------------------

    def _segments(self, links: Sequence[Link]) -> None:
        """Number the L3 segments, list their members, give every member its addresses."""
        number = self._number_segments(links)
        self.members: dict[int, list[tuple[str, str]]] = {
            s: [] for s in sorted(set(number.values()))
        }
        for link in links:
            for node, peer in ((link.a, link.b), (link.b, link.a)):
                if self.kind[node] is Switch:
                    continue
                seg = number[(node, peer)]
                if any(other == node for other, _ in self.members[seg]):
                    raise LabError(
                        f"{node} has two links into one L3 segment (toward "
                        f"{self._peer_in(node, seg)} and {peer}): connect them to "
                        "different switches that are not bridged together"
                    )
                self.members[seg].append((node, peer))
        self._addresses()

    def _number_segments(self, links: Sequence[Link]) -> dict[tuple[str, str], int]:
        """Segment number of every host/router interface (union-find over the links)."""
        parent: dict[_Vertex, _Vertex] = {}

        def find(v: _Vertex) -> _Vertex:
            parent.setdefault(v, v)
            while parent[v] != v:
                parent[v] = parent[parent[v]]
                v = parent[v]
            return v

        def vertex(node: str, peer: str) -> _Vertex:
            return ("sw", node) if self.kind[node] is Switch else ("if", node, peer)

        for link in links:
            ra, rb = find(vertex(link.a, link.b)), find(vertex(link.b, link.a))
            if ra == rb:
                raise LabError(
                    f"link {link.a}-{link.b} closes a loop of switches: STP is off in the lab, "
                    "so remove one inter-switch link"
                )
            parent[ra] = rb

        has_l3 = {find(vertex(n, p)) for n, p in self.ifaces if self.kind[n] is not Switch}
        number: dict[_Vertex, int] = {}
        for link in links:
            root = find(vertex(link.a, link.b))
            if root in has_l3 and root not in number:
                number[root] = len(number) + 1
        if len(number) > MAX_SEGMENTS:
            raise LabError(f"{len(number)} L3 segments: the lab addresses at most {MAX_SEGMENTS}")
        return {
            (n, p): number[find(vertex(n, p))] for n, p in self.ifaces if self.kind[n] is not Switch
        }

    def _addresses(self) -> None:
        """Member i of segment N gets 198.18.N.i and 2001:db8:N::i (IPv6 only if it fits)."""
        self.v6_ok: dict[int, bool] = {}
        for seg, members in self.members.items():
            if len(members) > MAX_MEMBERS:
                raise LabError(
                    f"segment {self.prefix(seg, 4)} has {len(members)} hosts/routers: "
                    f"at most {MAX_MEMBERS}"
                )
            self.v6_ok[seg] = all(self.ifaces[m].mtu >= MIN_MTU_V6 for m in members)
            net4 = ipaddress.IPv4Network(self.prefix(seg, 4))
            for i, key in enumerate(members, start=1):
                v4 = str(net4.network_address + i)
                v6 = f"2001:db8:{seg:x}::{i:x}" if self.v6_ok[seg] else None
                self.ifaces[key] = replace(self.ifaces[key], segment=seg, v4=v4, v6=v6)

    def _peer_in(self, node: str, seg: int) -> str:
        return next(p for n, p in self.members[seg] if n == node)

    @staticmethod
    def prefix(seg: int, family: int) -> str:
        """The prefix of segment ``seg`` in ``family``."""
        if family == 6:
            return f"2001:db8:{seg:x}::/64"
        return f"198.18.{seg}.0/24" if seg < 256 else f"198.19.{seg - 256}.0/24"

    def addr(self, key: tuple[str, str], family: int) -> str | None:
        """Address of the interface ``key`` in ``family`` (None: it has none)."""
        iface = self.ifaces[key]
        return iface.v4 if family == 4 else iface.v6

    def segs_of(self, node: str, family: int) -> list[tuple[int, tuple[str, str]]]:
        """(segment, interface key) of every segment ``node`` is on in ``family``."""
        out = []
        for key in self.by_node[node]:
            seg = self.ifaces[key].segment
            if seg is not None and (family == 4 or self.v6_ok[seg]):
                out.append((seg, key))
        return out

    # -- routes ------------------------------------------------------------

    def _compute_routes(self, family: int) -> None:
        """Breadth-first over segments; only routers expand (hosts never transit)."""
        for x in self.l3:
            own = self.segs_of(x, family)
            seen = {seg for seg, _ in own}
            first: dict[str, tuple[str, str, str]] = {}  # router -> (gateway, dev) of first hop
            queue: deque[str] = deque()
            for seg, key in own:
                for member in self.members[seg]:
                    m = member[0]
                    if m != x and self.kind[m] is Router and m not in first:
                        gw = self.addr(member, family)
                        assert gw is not None
                        first[m] = (m, gw, self.ifaces[key].name)
                        queue.append(m)
            entries: list[RouteEntry] = []
            while queue:
                r = queue.popleft()
                for seg, _ in self.segs_of(r, family):
                    if seg in seen:
                        continue
                    seen.add(seg)
                    _, gw, dev = first[r]
                    entries.append(RouteEntry(self.prefix(seg, family), gw, dev))
                    for m, _peer in self.members[seg]:
                        if self.kind[m] is Router and m not in first and m != x:
                            first[m] = first[r]
                            queue.append(m)
            self.routes[(x, family)] = entries
            self.reach[(x, family)] = seen

    def _overrides(self, routes: Sequence[Route]) -> None:
        self.host_routes: dict[tuple[str, int], list[RouteEntry]] = {}
        done: set[tuple[str, str]] = set()
        for r in routes:
            if not isinstance(r, Route):
                raise LabError(f"{r!r} is not a Route")
            for role, name in (("node", r.node), ("dest", r.dest), ("via", r.via)):
                if name not in self.kind:
                    raise LabError(f"{r}: unknown {role} {name!r}")
                if self.kind[name] is Switch:
                    raise LabError(f"{r}: {role} {name!r} is a switch; routes are between L3 nodes")
            if self.kind[r.via] is not Router:
                raise LabError(f"{r}: via {r.via!r} is a host; the next hop must be a Router")
            if len({r.node, r.dest, r.via}) < 3:
                raise LabError(f"{r}: node, dest and via must be three different nodes")
            if (r.node, r.dest) in done:
                raise LabError(f"two Routes from {r.node} to {r.dest}: keep one")
            done.add((r.node, r.dest))
            shared_any = False
            for family in (4, 6):
                hop: tuple[str, str] | None = None
                for seg, key in self.segs_of(r.node, family):
                    for member in self.members[seg]:
                        if member[0] == r.via:
                            gw = self.addr(member, family)
                            assert gw is not None
                            hop = (gw, self.ifaces[key].name)
                            break
                    if hop:
                        break
                if hop is None:
                    continue
                shared_any = True
                bits = 32 if family == 4 else 128
                for key in self.by_node[r.dest]:
                    a = self.addr(key, family)
                    if a is not None:
                        entry = RouteEntry(f"{a}/{bits}", hop[0], hop[1])
                        self.host_routes.setdefault((r.node, family), []).append(entry)
            if not shared_any:
                raise LabError(f"{r}: {r.via} shares no segment with {r.node}; pick a neighbour")

    def check_faults(self, faults: Sequence[Fault]) -> None:
        """Raise :class:`LabError` for a bad list: wrong node, duplicates, two of a kind."""
        seen: set[Fault] = set()
        once: set[tuple[type, str]] = set()
        for f in faults:
            if not isinstance(f, FAULT_TYPES):
                raise LabError(f"{f!r} is not a fault (NoPTB, Loss, DropEcho, ...)")
            self.check_fault(f)
            if f in seen:
                raise LabError(f"{f} is listed twice")
            seen.add(f)
            if isinstance(f, (Loss, RateLimit)):
                if (type(f), f.node) in once:
                    raise LabError(f"two {type(f).__name__} faults on {f.node}: keep one")
                once.add((type(f), f.node))

    def check_fault(self, f: Fault) -> None:
        """Raise :class:`LabError` unless ``f`` sits on a node of a kind it fits."""
        kind = self.kind.get(f.node)
        if kind is None:
            raise LabError(f"{f}: unknown node {f.node!r}")
        allowed = FAULT_KINDS[type(f)]
        if kind not in allowed:
            names = " or ".join(k.__name__ for k in allowed)
            raise LabError(f"{f}: {f.node} is a {kind.__name__}; this fault needs a {names}")

    # -- lookups -----------------------------------------------------------

    def key(self, node: str, peer: str | None) -> tuple[str, str]:
        """The interface key of ``node`` toward ``peer`` (None: its first interface)."""
        if node not in self.kind:
            raise LabError(f"no node named {node!r} in the topology")
        if peer is None:
            return self.by_node[node][0]
        if (node, peer) not in self.ifaces:
            raise LabError(f"{node} has no link to {peer!r}: name a directly linked node")
        return (node, peer)
