"""A lab network as data: nodes, links with per-end MTUs, route overrides.

Everything here is pure and validated on construction; a bad topology raises
:class:`~jumbopath.errors.LabError` with one line saying what to change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from jumbopath.errors import LabError
from jumbopath.lab.faults import Fault

DEFAULT_MTU = 9000
"""MTU of both ends of a link unless the link says otherwise."""
MIN_MTU = 68
"""Smallest IPv4 MTU (RFC 791)."""
MIN_MTU_V6 = 1280
"""Smallest IPv6 MTU (RFC 8200, section 5)."""
MAX_MTU = 65535
"""Largest MTU a veth or bridge accepts."""

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")


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


def check_mtu(mtu: object, where: str) -> None:
    """Raise :class:`LabError` unless ``mtu`` is an int in MIN_MTU..MAX_MTU."""
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
        check_mtu(self.a_mtu, f"link {self.a}-{self.b}, end {self.a}")
        check_mtu(self.b_mtu, f"link {self.a}-{self.b}, end {self.b}")
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
        from jumbopath.lab.plan import Plan  # the plan needs these classes: import late

        Plan(self)  # validates; raises LabError

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
        return replace(self, links=set_mtus(self.links, {(node, peer): mtu}))


def set_mtus(links: Sequence[Link], mtus: Mapping[tuple[str, str], int]) -> tuple[Link, ...]:
    """``links`` with the MTU of each (node, peer) end in ``mtus`` changed."""
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
