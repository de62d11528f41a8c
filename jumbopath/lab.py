"""A real network on one machine: Linux namespaces built from a topology written as data.

Every :class:`Host`, :class:`Router` and :class:`Switch` becomes its own network
namespace (its own kernel network stack). Links are veth pairs; a switch is a
Linux bridge ``br0`` in its namespace; a router is a namespace with forwarding
on, so it sends real ICMP "fragmentation needed" (RFC 1191) and ICMPv6 "packet
too big" (RFC 4443) errors, rate-limited like any Linux router. Faults are
nftables rules (one table named ``jumbopath`` per namespace)::

    from jumbopath.lab import Lab, NoPTB, chain

    with Lab(chain(1, mtus={("r1", "sw-dst"): 1500}, faults=(NoPTB("r1"),))) as lab:
        lab.run("src", ["ping", "-c1", "-M", "do", "-s", "1473", lab.addr("dst", 4)])

Conventions (deterministic, so tests can name addresses before the lab exists):

* Interfaces: hosts and routers ``eth0, eth1, ...`` and switch ports
  ``swp1, swp2, ...``, numbered in link order.
* An L3 *segment* is a set of host/router interfaces joined directly or
  through switches (switches are layer 2 only). Segment ``N`` (1-based, in the
  order of the first link that belongs to it) is ``198.18.N.0/24`` and
  ``2001:db8:N::/64`` (segments 256..511 use ``198.19.N-256.0/24``). Its
  hosts and routers get ``.1, .2, ...`` (``::1, ::2, ...``) in the order their
  link ends appear in the link list.
* IPv6 needs an MTU of at least 1280 (RFC 8200, section 5). Any link end may
  be 68..65535, but a segment with a host/router interface below 1280 is
  IPv4-only (the kernel turns IPv6 off on such an interface).
* Static routes are computed: every host and router gets a route to every
  segment it is not on, via the first router of a shortest path (hosts never
  forward). :class:`Route` overrides that for one destination node.
* A switch port whose MTU is below the bridge's largest port drops larger
  frames in both directions, exactly at its MTU (an nftables bridge rule
  backs the kernel's own check, which lets non-DF packets up to MTU+4 through
  and accepts MTU+4 on ingress).
* ICMP redirects and reverse-path filtering are off everywhere, so routes stay
  exactly as computed (asymmetric routes work). ICMP rate limits keep the
  kernel defaults unless a :class:`RateLimit` fault says otherwise.
* Pictures in docstrings: ``a ─9000─ b`` means both ends 9000;
  ``a ─1500┆9000─ b`` means 1500 on ``a``'s end and 9000 on ``b``'s.

Building: one ``ip -batch`` creates every namespace and veth pair (each end
directly in its namespace), sysctls are written from this process inside each
namespace, one ``ip -n NS -batch`` per namespace configures it, and one
``nft -f`` per namespace that needs rules installs them after the warm-up.
A six-namespace lab builds and warms in about 0.1 s.

Warm-up: before faults go in, small echoes (IPv4 and IPv6, sent from this
process) join every pair of hosts/routers, so neighbour discovery is done
before anything is timed. The kernel's neighbour tables are shared by every
namespace on the machine, the machine's own traffic included (``gc_thresh3``,
1024 entries by default), so a lab whose segments are big warms only the
first member and the routers of each segment with everyone there. Keep that
limit in mind when many hosts of one lab all talk to each other.

Safety: addresses come only from 198.18.0.0/15 and 2001:db8::/32 and live only
inside namespaces this module created, named ``jp-<pid>-<4 hex>-<node>``. The
machine's own interfaces and root-namespace settings are never touched.
Teardown always happens: on leaving the ``with`` block (also by exception or
Ctrl-C), at interpreter exit, and on SIGTERM/SIGHUP (turned into
``SystemExit``). :func:`cleanup_stale` removes namespaces left by processes
that died without any of those running (SIGKILL).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ipaddress
import os
import re
import secrets
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from types import FrameType, TracebackType
from typing import Any, TypeVar

from jumbopath.errors import LabError

__all__ = [
    "DEFAULT_MTU",
    "DropEcho",
    "Fault",
    "Host",
    "Lab",
    "Link",
    "Loss",
    "Node",
    "NoPTB",
    "NoTimeExceeded",
    "RateLimit",
    "Route",
    "Router",
    "Switch",
    "Topology",
    "chain",
    "cleanup_stale",
    "demo",
    "star",
]

DEFAULT_MTU = 9000
"""MTU of both ends of a link unless the link says otherwise."""
MIN_MTU = 68
"""Smallest IPv4 MTU (RFC 791)."""
MIN_MTU_V6 = 1280
"""Smallest IPv6 MTU (RFC 8200, section 5)."""
MAX_MTU = 65535
"""Largest MTU a veth or bridge accepts."""

NFT_TABLE = "jumbopath"
"""Name of the nftables table the lab owns in each namespace."""
NETNS_DIR = "/run/netns"
"""Where ``ip netns`` keeps named namespaces."""

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")
_PREFIX_RE = re.compile(r"jp-(\d+)-[0-9a-f]{4}-")
_MAX_MEMBERS = 254
_MAX_SEGMENTS = 511
_PARALLEL = 32  # processes started at once while building
_STEP_TIMEOUT_S = 30.0  # bound on any single build/teardown step
_CLONE_NEWNET = 0x40000000
_WARM_ALL_PAIRS_MAX = 256  # neighbour entries the all-pairs warm-up may create per family

# ---------------------------------------------------------------------------
# Topology as data


def _check_name(name: object) -> None:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise LabError(
            f"bad node name {name!r}: use 1-64 letters, digits, '-', '_' or '.', "
            "starting with a letter or digit"
        )


@dataclass(frozen=True, slots=True)
class Host:
    """An end system: an L3 namespace with forwarding off (never a transit hop)."""

    name: str
    """Unique node name; also the suffix of the namespace name."""

    def __post_init__(self) -> None:
        _check_name(self.name)


@dataclass(frozen=True, slots=True)
class Router:
    """An L3 namespace with IPv4 and IPv6 forwarding on; it sends real ICMP errors."""

    name: str
    """Unique node name; also the suffix of the namespace name."""

    def __post_init__(self) -> None:
        _check_name(self.name)


@dataclass(frozen=True, slots=True)
class Switch:
    """A layer-2 switch: a namespace holding the Linux bridge ``br0`` (STP off)."""

    name: str
    """Unique node name; also the suffix of the namespace name."""

    def __post_init__(self) -> None:
        _check_name(self.name)


Node = Host | Router | Switch
"""Any node of a topology."""


def _check_mtu(mtu: object, where: str) -> None:
    if not isinstance(mtu, int) or isinstance(mtu, bool) or not MIN_MTU <= mtu <= MAX_MTU:
        raise LabError(
            f"{where}: MTU {mtu!r} is out of range: use {MIN_MTU}..{MAX_MTU} "
            f"(IPv6 needs at least {MIN_MTU_V6})"
        )


@dataclass(frozen=True, slots=True)
class Link:
    """A cable (veth pair) between two nodes; each end has its own MTU."""

    a: str
    """Name of the node at one end."""
    b: str
    """Name of the node at the other end."""
    a_mtu: int = DEFAULT_MTU
    """MTU of the interface on ``a`` (for a switch: its port), in bytes."""
    b_mtu: int = DEFAULT_MTU
    """MTU of the interface on ``b``, in bytes."""

    def __post_init__(self) -> None:
        _check_mtu(self.a_mtu, f"link {self.a}-{self.b}, end {self.a}")
        _check_mtu(self.b_mtu, f"link {self.a}-{self.b}, end {self.b}")
        if self.a == self.b:
            raise LabError(f"link {self.a}-{self.b} connects a node to itself: name two nodes")

    def mtu_of(self, node: str) -> int:
        """MTU of this link's end on ``node``."""
        return self.a_mtu if node == self.a else self.b_mtu

    def with_mtu(self, node: str, mtu: int) -> Link:
        """This link with the MTU of the end on ``node`` changed."""
        return replace(self, a_mtu=mtu) if node == self.a else replace(self, b_mtu=mtu)


@dataclass(frozen=True, slots=True)
class Route:
    """Override the computed route on ``node``: reach ``dest`` through router ``via``.

    Installs /32 and /128 routes to every address of ``dest``; with the
    automatic routes everywhere else this makes an asymmetric path.
    """

    node: str
    """Host or router whose routing table gets the host routes."""
    dest: str
    """Host or router whose addresses the routes point at."""
    via: str
    """Router on a segment shared with ``node``: the next hop."""


@dataclass(frozen=True, slots=True)
class NoPTB:
    """A PMTUD black hole: the router never sends "fragmentation needed" (ICMP 3/4)
    nor ICMPv6 "packet too big" (type 2). Dropped in its output chain."""

    router: str
    """Name of a Router."""

    @property
    def node(self) -> str:
        """The node the fault lives on."""
        return self.router


@dataclass(frozen=True, slots=True)
class Loss:
    """Random loss of the ICMP/ICMPv6 the router forwards, ``percent`` each way."""

    router: str
    """Name of a Router."""
    percent: int
    """Chance in percent (0..100) that a forwarded ICMP packet is dropped."""

    def __post_init__(self) -> None:
        if not isinstance(self.percent, int) or not 0 <= self.percent <= 100:
            raise LabError(f"Loss({self.router!r}): percent {self.percent!r} must be 0..100")

    @property
    def node(self) -> str:
        """The node the fault lives on."""
        return self.router


@dataclass(frozen=True, slots=True)
class DropEcho:
    """The node silently drops incoming echo requests (IPv4 and IPv6).

    Neighbour discovery and every other ICMP message still pass.
    """

    host: str
    """Name of a Host (a Router works too)."""

    @property
    def node(self) -> str:
        """The node the fault lives on."""
        return self.host


@dataclass(frozen=True, slots=True)
class NoTimeExceeded:
    """The router sends no "time exceeded" (ICMP type 11, ICMPv6 type 3): invisible
    to traceroute."""

    router: str
    """Name of a Router."""

    @property
    def node(self) -> str:
        """The node the fault lives on."""
        return self.router


@dataclass(frozen=True, slots=True)
class RateLimit:
    """Set the node's ICMP error rate limit (``net.ipv4.icmp_ratelimit`` and
    ``net.ipv6.icmp.ratelimit``). Without it the kernel defaults stay."""

    router: str
    """Name of a Router (a Host works too)."""
    ms: int
    """Minimum gap between ICMP errors to one destination, in ms; 0 = unlimited.
    The kernel rounds it to whole jiffies."""

    def __post_init__(self) -> None:
        if not isinstance(self.ms, int) or not 0 <= self.ms <= 3_600_000:
            raise LabError(f"RateLimit({self.router!r}): ms {self.ms!r} must be 0..3600000")

    @property
    def node(self) -> str:
        """The node the fault lives on."""
        return self.router


Fault = NoPTB | Loss | DropEcho | NoTimeExceeded | RateLimit
"""Any fault a lab can inject."""

_FAULT_TYPES = (NoPTB, Loss, DropEcho, NoTimeExceeded, RateLimit)
# Which node kinds each fault may sit on.
_FAULT_KINDS: dict[type, tuple[type, ...]] = {
    NoPTB: (Router,),
    Loss: (Router,),
    NoTimeExceeded: (Router,),
    DropEcho: (Host, Router),
    RateLimit: (Host, Router),
}


@dataclass(frozen=True, slots=True)
class Topology:
    """A whole lab network: nodes, links, faults and route overrides.

    Constructing one validates it; a bad topology raises :class:`LabError`
    with a one-line message saying what to change.
    """

    nodes: tuple[Node, ...]
    """Hosts, routers and switches, each with a unique name."""
    links: tuple[Link, ...]
    """Cables; their order fixes interface names and addresses."""
    faults: tuple[Fault, ...] = ()
    """Faults installed when the lab is built."""
    routes: tuple[Route, ...] = ()
    """Overrides of the computed static routes."""

    def __post_init__(self) -> None:
        for attr in ("nodes", "links", "faults", "routes"):
            value = getattr(self, attr)
            if not isinstance(value, tuple):
                object.__setattr__(self, attr, tuple(value))
        _Plan(self)  # validates; raises LabError

    def node(self, name: str) -> Node:
        """The node called ``name``."""
        for n in self.nodes:
            if n.name == name:
                return n
        raise LabError(f"no node named {name!r} in the topology")

    def with_faults(self, *faults: Fault) -> Topology:
        """This topology with ``faults`` added."""
        return replace(self, faults=self.faults + faults)

    def with_routes(self, *routes: Route) -> Topology:
        """This topology with ``routes`` added."""
        return replace(self, routes=self.routes + routes)

    def with_mtu(self, node: str, peer: str, mtu: int) -> Topology:
        """This topology with the MTU of ``node``'s interface toward ``peer`` changed."""
        return replace(self, links=_set_mtus(self.links, {(node, peer): mtu}))


def _set_mtus(links: Sequence[Link], mtus: Mapping[tuple[str, str], int]) -> tuple[Link, ...]:
    out = list(links)
    for (node, peer), mtu in mtus.items():
        for i, link in enumerate(out):
            if {link.a, link.b} == {node, peer}:
                out[i] = link.with_mtu(node, mtu)
                break
        else:
            raise LabError(
                f"MTU for ({node!r}, {peer!r}): there is no link between them; "
                "key the mapping by (node, directly linked peer)"
            )
    return tuple(out)


# ---------------------------------------------------------------------------
# Presets (each picture shows the MTU at every link end)


def demo() -> Topology:
    """A storage network with one access port left at 1500::

        client ─9000─ sw1 ─9000─ r1 ─9000─ sw2 ─┬─9000────── stor-a
                                                ├─1500┆9000─ stor-b
                                                └─9000────── stor-c

    Every end is 9000 except sw2's port toward stor-b (1500): big frames
    from client to stor-b vanish silently at that port; stor-a and stor-c
    carry 9000 end to end.
    """
    return Topology(
        nodes=(
            Host("client"),
            Switch("sw1"),
            Router("r1"),
            Switch("sw2"),
            Host("stor-a"),
            Host("stor-b"),
            Host("stor-c"),
        ),
        links=(
            Link("client", "sw1"),
            Link("sw1", "r1"),
            Link("r1", "sw2"),
            Link("sw2", "stor-a"),
            Link("sw2", "stor-b", a_mtu=1500),
            Link("sw2", "stor-c"),
        ),
    )


def chain(
    routers: int = 1,
    *,
    mtus: Mapping[tuple[str, str], int] | None = None,
    faults: Sequence[Fault] = (),
    src: str = "src",
    dst: str = "dst",
) -> Topology:
    """Two hosts joined by a line of routers, every end 9000 unless ``mtus`` says::

        src ─9000─ sw-src ─9000─ r1 ─9000─ r2 ─ ... ─ rn ─9000─ sw-dst ─9000─ dst

    With ``routers=0``::

        src ─9000─ sw ─9000─ dst

    ``mtus`` maps (node, peer) to the MTU of ``node``'s interface toward
    ``peer``: ``{("r1", "sw-dst"): 1500}`` is a router egress at 1500
    (``r1 ─1500┆9000─ sw-dst``), ``{("sw-dst", "dst"): 1500}`` a switch
    port left at 1500.
    """
    if not isinstance(routers, int) or not 0 <= routers <= 64:
        raise LabError(f"chain(routers={routers!r}): use 0..64 routers")
    nodes: list[Node] = [Host(src)]
    links: list[Link] = []
    if routers == 0:
        nodes += [Switch("sw"), Host(dst)]
        links += [Link(src, "sw"), Link("sw", dst)]
    else:
        names = [f"r{i}" for i in range(1, routers + 1)]
        nodes += [Switch("sw-src"), *(Router(n) for n in names), Switch("sw-dst"), Host(dst)]
        hops = [src, "sw-src", *names, "sw-dst", dst]
        links += [Link(x, y) for x, y in zip(hops, hops[1:], strict=False)]
    return Topology(nodes=tuple(nodes), links=_set_mtus(links, mtus or {}), faults=tuple(faults))


def star(
    hosts: int,
    *,
    mtus: Mapping[tuple[str, str], int] | None = None,
    faults: Sequence[Fault] = (),
) -> Topology:
    """Hosts ``h1..hN`` on one switch ``sw``, every end 9000 unless ``mtus`` says::

        h1 ─9000─┐
        h2 ─9000─┤
        ...      sw
        hN ─9000─┘

    One segment; ``h<i>`` is 198.18.1.<i> and 2001:db8:1::<i:x>. For
    many-target benchmarks with ``h1`` as the prober (the warm-up covers h1
    with everyone; see :class:`Lab` on the shared neighbour table).
    """
    if not isinstance(hosts, int) or not 1 <= hosts <= _MAX_MEMBERS:
        raise LabError(f"star(hosts={hosts!r}): use 1..{_MAX_MEMBERS} hosts")
    names = [f"h{i}" for i in range(1, hosts + 1)]
    links = [Link(n, "sw") for n in names]
    return Topology(
        nodes=(Switch("sw"), *(Host(n) for n in names)),
        links=_set_mtus(links, mtus or {}),
        faults=tuple(faults),
    )


# ---------------------------------------------------------------------------
# The plan: names, addresses and routes, computed purely from a topology


@dataclass(frozen=True, slots=True)
class _Iface:
    node: str
    peer: str
    name: str
    mtu: int
    segment: int | None  # L3 interfaces only
    v4: str | None
    v6: str | None


@dataclass(frozen=True, slots=True)
class _RouteEntry:
    prefix: str
    via: str
    dev: str


_Vertex = tuple[str, ...]


class _Plan:
    """Everything about a lab that does not need the kernel."""

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
        self.ifaces: dict[tuple[str, str], _Iface] = {}
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
                self.ifaces[(node, peer)] = _Iface(
                    node, peer, name, link.mtu_of(node), None, None, None
                )
                self.by_node[node].append((node, peer))
        for name in self.order:
            if not self.by_node[name]:
                raise LabError(f"node {name!r} has no links: link it or remove it")

        self._segments(topo.links)
        self.routes: dict[tuple[str, int], list[_RouteEntry]] = {}
        self.reach: dict[tuple[str, int], set[int]] = {}
        for fam in (4, 6):
            self._compute_routes(fam)
        self._overrides(topo.routes)
        self.check_faults(topo.faults)

    # -- segments and addresses ------------------------------------------

    def _segments(self, links: Sequence[Link]) -> None:
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
            va, vb = vertex(link.a, link.b), vertex(link.b, link.a)
            ra, rb = find(va), find(vb)
            if ra == rb:
                raise LabError(
                    f"link {link.a}-{link.b} closes a loop of switches: STP is off in the lab, "
                    "so remove one inter-switch link"
                )
            parent[ra] = rb

        has_l3: set[_Vertex] = set()
        for node, peer in self.ifaces:
            if self.kind[node] is not Switch:
                has_l3.add(find(vertex(node, peer)))
        number: dict[_Vertex, int] = {}
        for link in links:
            root = find(vertex(link.a, link.b))
            if root in has_l3 and root not in number:
                number[root] = len(number) + 1
        if len(number) > _MAX_SEGMENTS:
            raise LabError(f"{len(number)} L3 segments: the lab addresses at most {_MAX_SEGMENTS}")

        self.members: dict[int, list[tuple[str, str]]] = {s: [] for s in number.values()}
        for link in links:
            for node, peer in ((link.a, link.b), (link.b, link.a)):
                if self.kind[node] is Switch:
                    continue
                seg = number[find(vertex(node, peer))]
                for other, _ in self.members[seg]:
                    if other == node:
                        raise LabError(
                            f"{node} has two links into one L3 segment (toward "
                            f"{self._peer_in(node, seg)} and {peer}): connect them to "
                            "different switches that are not bridged together"
                        )
                self.members[seg].append((node, peer))
        self.v6_ok: dict[int, bool] = {}
        for seg, members in self.members.items():
            if len(members) > _MAX_MEMBERS:
                raise LabError(
                    f"segment {self.prefix(seg, 4)} has {len(members)} hosts/routers: "
                    f"at most {_MAX_MEMBERS}"
                )
            self.v6_ok[seg] = all(self.ifaces[m].mtu >= MIN_MTU_V6 for m in members)
            for i, key in enumerate(members, start=1):
                net4 = ipaddress.IPv4Network(self.prefix(seg, 4))
                v4 = str(net4.network_address + i)
                v6 = f"2001:db8:{seg:x}::{i:x}" if self.v6_ok[seg] else None
                self.ifaces[key] = replace(self.ifaces[key], segment=seg, v4=v4, v6=v6)

    def _peer_in(self, node: str, seg: int) -> str:
        return next(p for n, p in self.members[seg] if n == node)

    @staticmethod
    def prefix(seg: int, family: int) -> str:
        if family == 6:
            return f"2001:db8:{seg:x}::/64"
        return f"198.18.{seg}.0/24" if seg < 256 else f"198.19.{seg - 256}.0/24"

    def addr(self, key: tuple[str, str], family: int) -> str | None:
        iface = self.ifaces[key]
        return iface.v4 if family == 4 else iface.v6

    def segs_of(self, node: str, family: int) -> list[tuple[int, tuple[str, str]]]:
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
            entries: list[_RouteEntry] = []
            while queue:
                r = queue.popleft()
                for seg, _ in self.segs_of(r, family):
                    if seg in seen:
                        continue
                    seen.add(seg)
                    _, gw, dev = first[r]
                    entries.append(_RouteEntry(self.prefix(seg, family), gw, dev))
                    for m, _peer in self.members[seg]:
                        if self.kind[m] is Router and m not in first and m != x:
                            first[m] = first[r]
                            queue.append(m)
            self.routes[(x, family)] = entries
            self.reach[(x, family)] = seen

    def _overrides(self, routes: Sequence[Route]) -> None:
        self.host_routes: dict[tuple[str, int], list[_RouteEntry]] = {}
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
                        entry = _RouteEntry(f"{a}/{bits}", hop[0], hop[1])
                        self.host_routes.setdefault((r.node, family), []).append(entry)
            if not shared_any:
                raise LabError(f"{r}: {r.via} shares no segment with {r.node}; pick a neighbour")

    def check_faults(self, faults: Sequence[Fault]) -> None:
        seen: set[Fault] = set()
        once: set[tuple[type, str]] = set()
        for f in faults:
            if not isinstance(f, _FAULT_TYPES):
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
        kind = self.kind.get(f.node)
        if kind is None:
            raise LabError(f"{f}: unknown node {f.node!r}")
        allowed = _FAULT_KINDS[type(f)]
        if kind not in allowed:
            names = " or ".join(k.__name__ for k in allowed)
            raise LabError(f"{f}: {f.node} is a {kind.__name__}; this fault needs a {names}")

    # -- lookups -----------------------------------------------------------

    def key(self, node: str, peer: str | None) -> tuple[str, str]:
        if node not in self.kind:
            raise LabError(f"no node named {node!r} in the topology")
        if peer is None:
            return self.by_node[node][0]
        if (node, peer) not in self.ifaces:
            raise LabError(f"{node} has no link to {peer!r}: name a directly linked node")
        return (node, peer)


# ---------------------------------------------------------------------------
# Kernel plumbing


def _check_family(family: object) -> None:
    if family not in (4, 6):
        raise LabError(f"address family {family!r}: use 4 or 6")


def _check_tools(need_nft: bool) -> None:
    if os.geteuid() != 0:
        raise LabError("building the lab needs root: run with sudo")
    if shutil.which("ip") is None:
        raise LabError("ip not found: apt-get install iproute2")
    if need_nft and shutil.which("nft") is None:
        raise LabError("nft not found: apt-get install nftables")


def _brief(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
    return " / ".join(lines[-3:]) if lines else "no error output"


def _kernel_error(what: str, stderr: str) -> LabError:
    text = _brief(stderr)
    if "Operation not permitted" in text or "Permission denied" in text:
        return LabError(f"{what}: the kernel refused ({text}): run as root with CAP_SYS_ADMIN")
    return LabError(f"{what} failed: {text}")


def _run_jobs(jobs: Sequence[tuple[str, list[str], str]]) -> None:
    """Run (label, argv, stdin) jobs, up to _PARALLEL at a time; raise on the first failure."""
    failure: LabError | None = None
    for start in range(0, len(jobs), _PARALLEL):
        procs: list[tuple[str, subprocess.Popen[str]]] = []
        try:
            for label, argv, script in jobs[start : start + _PARALLEL]:
                try:
                    p = subprocess.Popen(
                        argv,
                        stdin=subprocess.PIPE,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE,
                        text=True,
                    )
                except OSError as e:
                    raise LabError(f"{label}: cannot run {argv[0]}: {e}") from e
                procs.append((label, p))
                assert p.stdin is not None
                # Scripts are small; a pipe holds 64 KiB and ip/nft read as we write.
                # If the tool stops early, its exit status and stderr tell why.
                with contextlib.suppress(BrokenPipeError):
                    p.stdin.write(script)
                with contextlib.suppress(BrokenPipeError):
                    p.stdin.close()
            deadline = time.monotonic() + _STEP_TIMEOUT_S
            for label, p in procs:
                assert p.stderr is not None
                try:
                    p.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
                    failure = failure or LabError(f"{label}: timed out after {_STEP_TIMEOUT_S} s")
                    continue
                err = p.stderr.read()
                if p.returncode != 0 and failure is None:
                    failure = _kernel_error(label, err)
        finally:
            for _, p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
                if p.stderr is not None:
                    p.stderr.close()
        if failure is not None:
            raise failure


_T = TypeVar("_T")
_LIBC: list[ctypes.CDLL] = []


def _libc() -> ctypes.CDLL:
    if not _LIBC:
        _LIBC.append(ctypes.CDLL(None, use_errno=True))
    return _LIBC[0]


def _in_netns(names: Sequence[str], fn: Callable[[str], _T]) -> dict[str, _T]:
    """Call ``fn(name)`` inside each named namespace, in order, in one short-lived thread.

    ``setns(2)`` moves only the calling thread, and that thread ends here, so
    the rest of the process never leaves its own namespace. Sockets opened and
    ``/proc/sys/net`` files written by ``fn`` belong to the namespace entered.
    """
    libc = _libc()
    result: dict[str, _T] = {}
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for name in names:
                fd = os.open(os.path.join(NETNS_DIR, name), os.O_RDONLY)
                try:
                    if libc.setns(fd, _CLONE_NEWNET) != 0:
                        err = ctypes.get_errno()
                        raise LabError(f"cannot enter namespace {name}: {os.strerror(err)}")
                finally:
                    os.close(fd)
                result[name] = fn(name)
        except BaseException as e:  # noqa: BLE001 - handed to the caller
            errors.append(e)

    t = threading.Thread(target=work, name="jumbopath-netns", daemon=True)
    t.start()
    t.join(_STEP_TIMEOUT_S)
    if t.is_alive():
        raise LabError(f"configuring namespaces timed out after {_STEP_TIMEOUT_S} s")
    if errors:
        e = errors[0]
        if isinstance(e, LabError):
            raise e
        raise LabError(f"configuring namespaces failed: {e}") from e
    return result


def _write_sysctls(settings: Sequence[tuple[str, str]]) -> None:
    """Write (path under /proc/sys/net, value); ``*`` in a path means every conf dir."""
    for path, value in settings:
        if "*" in path:
            head, tail = path.split("*", 1)
            dirs = sorted(os.listdir("/proc/sys/net/" + head))
            paths = [f"{head}{d}{tail}" for d in dirs]
        else:
            paths = [path]
        for p in paths:
            with open("/proc/sys/net/" + p, "w") as fh:
                fh.write(value)


def _read_sysctl(path: str) -> str:
    with open("/proc/sys/net/" + path) as fh:
        return fh.read().strip()


def _netns_exists(name: str) -> bool:
    return os.path.exists(os.path.join(NETNS_DIR, name))


def _pids_in(names: Sequence[str]) -> list[int]:
    """Processes whose network namespace is one of ``names`` (what ``ip netns pids`` does)."""
    inodes = set()
    for n in names:
        with contextlib.suppress(OSError):
            st = os.stat(os.path.join(NETNS_DIR, n))
            inodes.add((st.st_dev, st.st_ino))
    if not inodes:
        return []
    me = os.getpid()
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            st = os.stat(f"/proc/{entry}/ns/net")
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in inodes:
            pids.append(int(entry))
    return pids


def _delete_netns(names: Sequence[str]) -> list[str]:
    """Kill what runs inside, delete the namespaces; return the ones still there."""
    existing = [n for n in names if _netns_exists(n)]
    if not existing:
        return []
    for pid in _pids_in(existing):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    script = "".join(f"netns del {n}\n" for n in existing)
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(
            ["ip", "-force", "-batch", "-"],
            input=script,
            capture_output=True,
            text=True,
            timeout=_STEP_TIMEOUT_S,
            check=False,
        )
    left = [n for n in existing if _netns_exists(n)]
    for n in left:  # one more try each, e.g. after a busy mount
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(["ip", "netns", "del", n], capture_output=True, timeout=10, check=False)
    return [n for n in left if _netns_exists(n)]


def cleanup_stale() -> list[str]:
    """Delete lab namespaces (``jp-<pid>-<hex>-...``) whose creating process is gone.

    A namespace whose pid is still alive is never touched (that includes this
    process's own labs). Returns the names deleted.
    """
    try:
        names = sorted(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return []
    stale = []
    for name in names:
        m = _PREFIX_RE.match(name)
        if m and not _pid_alive(int(m.group(1))):
            stale.append(name)
    if stale:
        left = _delete_netns(stale)
        if left:
            raise LabError(f"could not delete stale namespaces {', '.join(left)}: try ip netns del")
    return stale


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ---------------------------------------------------------------------------
# Teardown safety net: atexit and SIGTERM/SIGHUP


_live: set[Lab] = set()
_live_lock = threading.Lock()
_saved_handlers: dict[int, Any] = {}
_atexit_done = False


def _signal_to_exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _register(lab: Lab) -> None:
    global _atexit_done
    with _live_lock:
        _live.add(lab)
        if not _atexit_done:
            atexit.register(_close_all)
            _atexit_done = True
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGHUP):
                if sig in _saved_handlers:
                    continue
                current = signal.getsignal(sig)
                if current is signal.SIG_DFL:  # never replace someone else's handler
                    _saved_handlers[sig] = current
                    signal.signal(sig, _signal_to_exit)


def _unregister(lab: Lab) -> None:
    with _live_lock:
        _live.discard(lab)
        if _live or threading.current_thread() is not threading.main_thread():
            return
        for sig, old in list(_saved_handlers.items()):
            if signal.getsignal(sig) is _signal_to_exit:
                signal.signal(sig, old)
            del _saved_handlers[sig]


def _close_all() -> None:
    for lab in list(_live):
        with contextlib.suppress(Exception):
            lab.close()


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM/SIGHUP while tearing down; they arrive right after."""
    sigs = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


# ---------------------------------------------------------------------------
# Warm-up: one echo between every pair of L3 nodes, from inside the process


_ICMP_ECHO4, _ICMP_REPLY4 = 8, 0
_ICMP_ECHO6, _ICMP_REPLY6 = 128, 129
_SOL_RAW, _ICMP_FILTER = 255, 1  # linux/icmp.h: drop the ICMP types whose bit is set
_ICMP6_FILTER = 1  # linux/icmpv6.h: same, 256-bit map


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def _echo(family: int, ident: int, seq: int) -> bytes:
    kind = _ICMP_ECHO4 if family == 4 else _ICMP_ECHO6
    body = struct.pack("!BBHHH", kind, 0, 0, ident, seq) + b"jumbopath-warm"
    if family == 6:
        return body  # the kernel fills in the ICMPv6 checksum
    return body[:2] + struct.pack("!H", _checksum(body)) + body[4:]


def _open_icmp(family: int) -> socket.socket:
    if family == 4:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        s.setsockopt(_SOL_RAW, _ICMP_FILTER, struct.pack("I", ~(1 << _ICMP_REPLY4) & 0xFFFFFFFF))
    else:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        words = [0xFFFFFFFF] * 8
        words[_ICMP_REPLY6 >> 5] &= ~(1 << (_ICMP_REPLY6 & 31))
        s.setsockopt(socket.IPPROTO_ICMPV6, _ICMP6_FILTER, struct.pack("8I", *words))
    s.setblocking(False)
    return s


def _parse_reply(family: int, data: bytes, ident: int) -> int | None:
    if family == 4:
        if not data:
            return None
        data = data[(data[0] & 0x0F) * 4 :]
    if len(data) < 8:
        return None
    kind, _code, _ck, rid, seq = struct.unpack("!BBHHH", data[:8])
    want = _ICMP_REPLY4 if family == 4 else _ICMP_REPLY6
    return seq if kind == want and rid == ident else None


# ---------------------------------------------------------------------------
# The lab


class Lab:
    """A built topology. Use as a context manager; teardown always happens.

    Construction is pure (no root needed): names and addresses can be asked
    before building. ``with Lab(topo) as lab`` builds the namespaces, warms
    neighbour caches (``warm=True``), installs the faults, and deletes
    everything on exit.
    """

    def __init__(self, topology: Topology, *, warm: bool = True, warm_timeout_s: float = 1.0):
        self.topology = topology
        """The topology this lab builds."""
        self.prefix = f"jp-{os.getpid()}-{secrets.token_hex(2)}-"
        """Prefix of every namespace name of this lab (unique per run)."""
        self.warm = warm
        """Whether building ends with the warm-up pings."""
        self.warm_timeout_s = warm_timeout_s
        """Bound on the warm-up."""
        self.unwarmed: tuple[tuple[str, str], ...] = ()
        """(node, address) pairs the warm-up echo did not get through (normally empty)."""
        self.build_s: float | None = None
        """Seconds the last build took (namespaces, config, warm-up, faults)."""
        self._plan = _Plan(topology)
        self._mtu = {key: iface.mtu for key, iface in self._plan.ifaces.items()}
        self._faults: list[Fault] = list(topology.faults)
        self._defaults: dict[str, tuple[str, str]] = {}  # node -> kernel ICMP rate limits
        self._procs: list[subprocess.Popen[Any]] = []
        self._state = "new"  # new -> building -> open -> closed
        self._owner = os.getpid()

    def __repr__(self) -> str:
        return f"<Lab {self.prefix}* {len(self._plan.order)} nodes {self._state}>"

    # -- lifecycle ---------------------------------------------------------

    def __enter__(self) -> Lab:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.close()
            return
        try:
            self.close()
        except LabError as e:  # do not hide the error that is already propagating
            print(f"jumbopath: {e}", file=sys.stderr)

    def open(self) -> Lab:
        """Build the lab (once). On any failure, everything built so far is removed."""
        if self._state != "new":
            raise LabError(f"this lab is {self._state}: make a new Lab to build again")
        need_nft = bool(self._faults) or any(self._port_rules(sw) for sw in self._switches())
        _check_tools(need_nft)
        self._state = "building"
        _register(self)
        started = time.monotonic()
        try:
            self._build()
            if self.warm:
                self._warm_up()
            self._apply_faults(self._plan.order)
        except BaseException:
            with contextlib.suppress(LabError):
                self.close()
            raise
        self.build_s = time.monotonic() - started
        self._state = "open"
        return self

    def close(self) -> None:
        """Kill processes left in the namespaces and delete them. Idempotent."""
        if self._state in ("new", "closed") or os.getpid() != self._owner:
            return
        with _signals_deferred():
            for p in self._procs:
                if p.poll() is None:
                    with contextlib.suppress(OSError):
                        p.kill()
            left = _delete_netns([self.netns(n) for n in self._plan.order])
            for p in self._procs:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    p.wait(timeout=5)
            self._procs.clear()
            if left:
                raise LabError(f"could not delete namespaces {', '.join(left)}: try ip netns del")
            self._state = "closed"
            _unregister(self)

    # -- names and addresses (pure) ----------------------------------------

    @property
    def nodes(self) -> tuple[str, ...]:
        """Node names in topology order."""
        return tuple(self._plan.order)

    @property
    def faults(self) -> tuple[Fault, ...]:
        """Faults currently installed (or to be installed)."""
        return tuple(self._faults)

    def netns(self, node: str) -> str:
        """Namespace name of ``node``."""
        if node not in self._plan.kind:
            raise LabError(f"no node named {node!r} in the topology")
        return self.prefix + node

    def iface(self, node: str, peer: str) -> str:
        """Name of ``node``'s interface toward the directly linked ``peer``."""
        return self._plan.ifaces[self._plan.key(node, peer)].name

    def addr(self, node: str, family: int = 4, peer: str | None = None) -> str:
        """Address of ``node`` (``family`` 4 or 6): its first one, or the one on the
        interface toward the directly linked ``peer``."""
        _check_family(family)
        if peer is not None:
            a = self._plan.addr(self._plan.key(node, peer), family)
            if a is None:
                raise LabError(self._no_addr(node, family, peer))
            return a
        found = self.addrs(node, family)
        if not found:
            raise LabError(self._no_addr(node, family, None))
        return found[0]

    def addrs(self, node: str, family: int = 4) -> tuple[str, ...]:
        """Every address of ``node`` in ``family`` (4 or 6), in interface order."""
        _check_family(family)
        self._plan.key(node, None)
        got = (self._plan.addr(k, family) for k in self._plan.by_node[node])
        return tuple(a for a in got if a is not None)

    def _no_addr(self, node: str, family: int, peer: str | None) -> str:
        where = f"{node} toward {peer}" if peer else node
        if self._plan.kind[node] is Switch:
            return f"{node} is a switch (layer 2): it has no addresses"
        if family == 6:
            return f"{where} has no IPv6 address: its segment has an MTU below {MIN_MTU_V6}"
        return f"{where} has no IPv{family} address"

    def mtu(self, node: str, peer: str) -> int:
        """Current MTU of ``node``'s interface toward ``peer``."""
        return self._mtu[self._plan.key(node, peer)]

    # -- running things inside ---------------------------------------------

    def run(
        self, node: str, argv: Sequence[str], *, timeout: float | None = 30.0, **kw: Any
    ) -> subprocess.CompletedProcess[Any]:
        """``subprocess.run`` inside ``node``'s namespace (``ip netns exec``).

        Defaults: ``capture_output=True, text=True, check=False``; any keyword
        passes through. A timeout raises ``subprocess.TimeoutExpired`` as usual.
        """
        self._need_open()
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        kw.setdefault("check", False)
        return subprocess.run(
            ["ip", "netns", "exec", self.netns(node), *argv], timeout=timeout, **kw
        )

    def popen(self, node: str, argv: Sequence[str], **kw: Any) -> subprocess.Popen[Any]:
        """``subprocess.Popen`` inside ``node``'s namespace; killed at teardown if still running."""
        self._need_open()
        p: subprocess.Popen[Any] = subprocess.Popen(
            ["ip", "netns", "exec", self.netns(node), *argv], **kw
        )
        self._procs = [q for q in self._procs if q.poll() is None]
        self._procs.append(p)
        return p

    def _need_open(self) -> None:
        if self._state != "open":
            raise LabError(f"the lab is {self._state}: use it inside 'with Lab(topology) as lab:'")

    def _ip(self, node: str, script: str) -> None:
        _run_jobs([(f"configuring {node}", ["ip", "-n", self.netns(node), "-batch", "-"], script)])

    # -- runtime changes ---------------------------------------------------

    def set_mtu(self, node: str, peer: str, mtu: int) -> None:
        """Change the MTU of ``node``'s interface toward ``peer`` now."""
        self._need_open()
        key = self._plan.key(node, peer)
        _check_mtu(mtu, f"{node} toward {peer}")
        iface = self._plan.ifaces[key]
        if iface.v6 is not None and mtu < MIN_MTU_V6:
            raise LabError(
                f"{node} toward {peer} carries IPv6, which needs an MTU of at least {MIN_MTU_V6}"
            )
        old = self._mtu[key]
        self._mtu[key] = mtu
        try:
            script = f"link set dev {iface.name} mtu {mtu}\n"
            if self._plan.kind[node] is Switch:
                script += f"link set dev br0 mtu {self._bridge_mtu(node)}\n"
            self._ip(node, script)
            if self._plan.kind[node] is Switch:
                self._apply_faults([node])
        except BaseException:
            self._mtu[key] = old
            raise

    def add_fault(self, fault: Fault) -> None:
        """Install one more fault now."""
        self._need_open()
        if not isinstance(fault, _FAULT_TYPES):
            raise LabError(f"{fault!r} is not a fault")
        self._plan.check_fault(fault)
        trial = [*self._faults, fault]
        self._plan.check_faults(trial)  # duplicates, one Loss/RateLimit per node
        self._faults = trial
        try:
            self._apply_faults([fault.node])
        except BaseException:
            self._faults.remove(fault)
            raise

    def remove_fault(self, fault: Fault) -> None:
        """Remove an installed fault now."""
        self._need_open()
        if fault not in self._faults:
            raise LabError(f"{fault} is not installed")
        self._faults.remove(fault)
        self._apply_faults([fault.node])

    def flush_pmtu(self, node: str) -> None:
        """Forget the path MTUs ``node`` has learned (IPv4 and IPv6 route exceptions)."""
        self._need_open()
        ns = self.netns(node)
        _run_jobs(
            [
                (
                    f"flushing IPv{fam} path MTUs on {node}",
                    ["ip", f"-{fam}", "-n", ns, "route", "flush", "cache"],
                    "",
                )
                for fam in (4, 6)
            ]
        )

    # -- building ------------------------------------------------------------

    def _switches(self) -> list[str]:
        return [n for n in self._plan.order if self._plan.kind[n] is Switch]

    def _bridge_mtu(self, sw: str) -> int:
        return max(self._mtu[k] for k in self._plan.by_node[sw])

    def _port_rules(self, sw: str) -> list[str]:
        top = self._bridge_mtu(sw)
        rules = []
        for key in self._plan.by_node[sw]:
            mtu = self._mtu[key]
            if mtu < top:
                name = self._plan.ifaces[key].name
                rules.append(f'iifname "{name}" meta length > {mtu} drop')
                rules.append(f'oifname "{name}" meta length > {mtu} drop')
        return rules

    def _build(self) -> None:
        plan = self._plan
        # 1. Namespaces and cables, in one ip process. Each veth end is created
        #    directly inside its namespace, so names never meet in the root one.
        #    Every interface gets its own ifindex: when a veth's peer has the same
        #    index as itself, the kernel treats its carrier change as not urgent
        #    and applies it up to a second later (linkwatch), and until then the
        #    interface drops everything and a bridge port stays disabled.
        lines = [f"netns add {self.netns(n)}" for n in plan.order]
        index = {key: 10 + i for i, key in enumerate(plan.ifaces)}
        for (node, peer), iface in plan.ifaces.items():
            if plan.order.index(node) > plan.order.index(peer):
                continue
            other = plan.ifaces[(peer, node)]
            lines.append(
                f"link add {iface.name} netns {self.netns(node)} index {index[(node, peer)]} "
                f"mtu {iface.mtu} type veth peer name {other.name} netns {self.netns(peer)} "
                f"index {index[(peer, node)]} mtu {other.mtu}"
            )
        _run_jobs(
            [("creating namespaces and links", ["ip", "-batch", "-"], "\n".join(lines) + "\n")]
        )

        # 2. sysctls, written from this process inside each namespace (before links go up).
        settings = {n: self._sysctls(n) for n in plan.order}
        _in_netns(
            [self.netns(n) for n in plan.order],
            lambda ns: _write_sysctls(settings[ns[len(self.prefix) :]]),
        )

        # 3. Links up, bridges, addresses, routes: one ip process per namespace.
        jobs = []
        for n in plan.order:
            script = self._switch_script(n) if plan.kind[n] is Switch else self._l3_script(n)
            jobs.append((f"configuring {n}", ["ip", "-n", self.netns(n), "-batch", "-"], script))
        _run_jobs(jobs)

    def _sysctls(self, node: str) -> list[tuple[str, str]]:
        kind = self._plan.kind[node]
        if kind is Switch:  # layer 2 only: no IPv6 addresses, no ND/MLD chatter of its own
            return [("ipv6/conf/*/disable_ipv6", "1")]
        fwd = "1" if kind is Router else "0"
        return [
            ("ipv4/conf/*/rp_filter", "0"),  # asymmetric routes must work
            ("ipv4/conf/*/accept_redirects", "0"),  # routes stay as computed
            ("ipv4/conf/*/send_redirects", "0"),
            ("ipv6/conf/*/accept_redirects", "0"),
            ("ipv6/conf/*/accept_dad", "0"),  # no 1 s tentative link-local addresses
            ("ipv6/conf/*/accept_ra", "0"),
            ("ipv6/conf/*/router_solicitations", "0"),
            ("ipv4/conf/all/forwarding", fwd),  # also set: a new namespace may inherit 1
            ("ipv4/conf/default/forwarding", fwd),
            ("ipv6/conf/all/forwarding", fwd),
            ("ipv6/conf/default/forwarding", fwd),
        ]

    def _switch_script(self, sw: str) -> str:
        lines = [
            "link set dev lo up",
            "link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0",
        ]
        for key in self._plan.by_node[sw]:
            lines.append(f"link set dev {self._plan.ifaces[key].name} master br0 up")
        lines.append(f"link set dev br0 mtu {self._bridge_mtu(sw)} up")
        return "\n".join(lines) + "\n"

    def _l3_script(self, node: str) -> str:
        plan = self._plan
        lines = ["link set dev lo up"]
        for key in plan.by_node[node]:
            lines.append(f"link set dev {plan.ifaces[key].name} up")
        for key in plan.by_node[node]:
            iface = plan.ifaces[key]
            if iface.segment is None:
                continue
            lines.append(f"address add {iface.v4}/24 dev {iface.name}")
            if iface.v6:
                lines.append(f"address add {iface.v6}/64 dev {iface.name} nodad")
        for fam in (4, 6):
            for r in plan.routes[(node, fam)] + plan.host_routes.get((node, fam), []):
                lines.append(f"route add {r.prefix} via {r.via} dev {r.dev}")
        return "\n".join(lines) + "\n"

    # -- faults --------------------------------------------------------------

    def _nft_script(self, node: str) -> str | None:
        """The node's whole nftables table (replaced atomically), or None if it needs none."""
        if self._plan.kind[node] is Switch:
            family, chains = "bridge", {"forward": self._port_rules(node)}
        else:
            family = "inet"
            chains = {"input": [], "output": [], "forward": []}
            for f in self._faults:
                if f.node != node:
                    continue
                if isinstance(f, NoPTB):  # router-made ICMP errors leave through OUTPUT
                    chains["output"] += [
                        "icmp type destination-unreachable icmp code frag-needed drop",
                        "icmpv6 type packet-too-big drop",
                    ]
                elif isinstance(f, NoTimeExceeded):
                    chains["output"] += [
                        "icmp type time-exceeded drop",
                        "icmpv6 type time-exceeded drop",
                    ]
                elif isinstance(f, DropEcho):  # echo only: neighbour discovery still passes
                    chains["input"] += [
                        "icmp type echo-request drop",
                        "icmpv6 type echo-request drop",
                    ]
                elif isinstance(f, Loss) and f.percent > 0:
                    chains["forward"].append(
                        "meta l4proto { icmp, ipv6-icmp } "
                        f"numgen random mod 100 < {f.percent} drop"
                    )
        body = []
        for chain_name, rules in chains.items():
            if rules:
                body.append(f"  chain {chain_name} {{")
                body.append(f"    type filter hook {chain_name} priority 0; policy accept;")
                body += [f"    {r}" for r in rules]
                body.append("  }")
        return "\n".join([f"table {family} {NFT_TABLE} {{", *body, "}"]) + "\n" if body else None

    def _apply_faults(self, nodes: Sequence[str]) -> None:
        jobs = []
        for node in dict.fromkeys(nodes):
            table = self._nft_script(node)
            family = "bridge" if self._plan.kind[node] is Switch else "inet"
            if table is None and self._state == "building":
                continue  # nothing installed yet, nothing to install
            # Create-if-missing, delete, recreate: one atomic transaction.
            script = f"table {family} {NFT_TABLE}\ndelete table {family} {NFT_TABLE}\n"
            script += table or ""
            argv = ["ip", "netns", "exec", self.netns(node), "nft", "-f", "-"]
            jobs.append((f"installing faults on {node}", argv, script))
        if jobs and shutil.which("nft") is None:
            raise LabError("nft not found: apt-get install nftables")
        _run_jobs(jobs)
        self._apply_ratelimits(nodes)

    def _apply_ratelimits(self, nodes: Sequence[str]) -> None:
        want: dict[str, int | None] = {}
        for node in dict.fromkeys(nodes):
            if self._plan.kind[node] is Switch:
                continue
            ms = [f.ms for f in self._faults if isinstance(f, RateLimit) and f.node == node]
            if ms or node in self._defaults:
                want[node] = ms[0] if ms else None
        if not want:
            return
        names = [self.netns(n) for n in want]

        def apply(ns: str) -> None:
            node = ns[len(self.prefix) :]
            if node not in self._defaults:
                self._defaults[node] = (
                    _read_sysctl("ipv4/icmp_ratelimit"),
                    _read_sysctl("ipv6/icmp/ratelimit"),
                )
            ms = want[node]
            v4, v6 = self._defaults[node] if ms is None else (str(ms), str(ms))
            _write_sysctls([("ipv4/icmp_ratelimit", v4), ("ipv6/icmp/ratelimit", v6)])

        _in_netns(names, apply)

    # -- warm-up -------------------------------------------------------------

    def _warm_pairs(self) -> list[tuple[str, str]]:
        """Which (a, b) pairs the warm-up joins; ``a`` sends to every address of ``b``.

        Every pair of hosts/routers when that is cheap. The kernel's neighbour
        tables are shared by all namespaces of the machine (``gc_thresh3``,
        1024 entries by default, for the machine's own traffic too), so in big
        segments only the first member and every router meet everyone on the
        segment: first hops and the usual prober are warm, the table is spared.
        """
        plan = self._plan
        cost = sum(len(m) * (len(m) - 1) for m in plan.members.values())
        if cost <= _WARM_ALL_PAIRS_MAX:
            return [(a, b) for i, a in enumerate(plan.l3) for b in plan.l3[i + 1 :]]
        pairs: dict[tuple[str, str], None] = {}
        for members in plan.members.values():
            nodes = [n for n, _ in members]
            hubs = [nodes[0], *(n for n in nodes[1:] if plan.kind[n] is Router)]
            for hub in hubs:
                for other in nodes:
                    if other != hub and (other, hub) not in pairs:
                        pairs[(hub, other)] = None
        return list(pairs)

    def _warm_up(self) -> None:
        """One small echo per warm pair (see :meth:`_warm_pairs`), IPv4 and IPv6, so
        neighbour discovery is done before anything is timed. Runs before faults
        are installed; never raises for silence, records it in :attr:`unwarmed`."""
        plan = self._plan
        targets: dict[tuple[str, int], list[str]] = {}
        for a, b in self._warm_pairs():
            for fam in (4, 6):
                reach = plan.reach[(a, fam)]
                overrides = {r.prefix.split("/")[0] for r in plan.host_routes.get((a, fam), [])}
                for key in plan.by_node[b]:
                    addr = plan.addr(key, fam)
                    seg = plan.ifaces[key].segment
                    if addr and (seg in reach or addr in overrides):
                        targets.setdefault((a, fam), []).append(addr)
        if not targets:
            return
        ident = secrets.randbelow(0xFFFF) + 1
        srcs = sorted({a for a, _ in targets}, key=plan.order.index)

        def open_sockets(ns: str) -> dict[int, socket.socket]:
            node = ns[len(self.prefix) :]
            return {fam: _open_icmp(fam) for fam in (4, 6) if (node, fam) in targets}

        opened = _in_netns([self.netns(a) for a in srcs], open_sockets)
        socks = {
            (ns[len(self.prefix) :], fam): s for ns, d in opened.items() for fam, s in d.items()
        }
        pending = {
            (src, fam, seq) for (src, fam), addrs in targets.items() for seq in range(len(addrs))
        }
        sel = selectors.DefaultSelector()
        try:
            for sock_key, s in socks.items():
                sel.register(s, selectors.EVENT_READ, sock_key)

            def send_pending() -> None:
                for src, fam, seq in sorted(pending):
                    dest = targets[(src, fam)][seq]
                    with contextlib.suppress(OSError):  # e.g. ENOBUFS: sent again later
                        socks[(src, fam)].sendto(_echo(fam, ident, seq), (dest, 0))

            deadline = time.monotonic() + self.warm_timeout_s
            resend_every = 0.05  # doubling up to 0.4 s: a late carrier costs little
            next_send = time.monotonic()
            while pending:
                now = time.monotonic()
                if now >= deadline:
                    break
                if now >= next_send:
                    send_pending()
                    next_send = now + resend_every
                    resend_every = min(resend_every * 2, 0.4)
                for skey, _ in sel.select(timeout=max(0.0, min(deadline, next_send) - now)):
                    src, fam = skey.data
                    for _ in range(4096):  # bounded drain
                        try:
                            data = skey.fileobj.recv(2048)  # type: ignore[union-attr]
                        except BlockingIOError:
                            break
                        seq = _parse_reply(fam, data, ident)
                        if seq is not None:
                            pending.discard((src, fam, seq))
        finally:
            sel.close()
            for s in socks.values():
                s.close()
        self.unwarmed = tuple((src, targets[(src, fam)][seq]) for src, fam, seq in sorted(pending))
