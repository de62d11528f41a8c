"""Random labs from a seed, and their truth read from the topology alone.

:func:`draw` turns a seed into a :class:`~jumbopath.lab.topology.Topology`
(``random.Random(seed)``, no IO): a source host ``src`` and a far host
``far`` joined by 1-4 routers ``r1..rN``, switches with bystander hosts,
its own MTU on every link end, routers that send "too big" or not
(:class:`NoPTB`), loss on every size or on big frames only (:class:`Loss`),
sometimes a separate return router ``rx`` (:class:`Route` overrides) and a
far host that drops echo (:class:`DropEcho`)::

    src ─ sw0 ─ r1 ─[sw1]─ r2 ─ ... ─ rN ─ swf ─ far
          │ └ bystanders              │ └ bystanders
          └──────────── rx ───────────┘   (return path, when drawn)

ECMP and overlays are left out on purpose: the tool's handling of them is
still being built, and their truth needs the flow hash. A far host that
drops echo gets loss on every size only, never big-frame loss: the soak
that finds the latter needs echo.

:func:`truth` derives what a correct tool must measure from the
:class:`~jumbopath.lab.plan.Plan` (the routes exactly as the lab installs
them, host routes first) and these lab facts, never from jumbopath:

* A node sends nothing above its egress interface MTU. On the source that is
  a local refusal (``local``); on a router it is "too big" (``ptb``), or
  silence under :class:`NoPTB` (``silent``). Routers check TTL before size,
  so a router that drops big packets still answers time exceeded for them.
* A veth receives frames up to its MTU + 4 bytes (room for a VLAN tag,
  LAB-NOTES.md): a host or router NIC, and a switch port at its bridge's
  largest MTU (no nftables rule there), pass MTU + 4.
* A switch port below its bridge's largest port drops frames above its MTU
  exactly, in both directions (the nftables rules of
  :func:`jumbopath.lab.scripts.port_rules`).
* A switch sends nothing above the MTU of the port it leaves by, exactly,
  even at the bridge's largest MTU: br_netfilter is loaded on these machines
  (``net.bridge.bridge-nf-call-iptables = 1`` in every namespace), and its
  output path drops a DF packet longer than the port's MTU, where the
  bridge alone would pass MTU + 4 (seen: a bridge of two 8000 ports passes
  8000, not 8004, with ping -M do, IPv4 and IPv6).
* Replies come back on the return path. IPv4 echo replies leave without DF
  (Linux's ICMP socket uses ``IP_PMTUDISC_DONT``): the far host and every
  router fragment them, and only silent limits can drop the pieces. IPv6
  routers never fragment: the far host fragments its replies to its own
  MTU and, after a router's "packet too big", to that (the first reply is
  lost); behind a :class:`NoPTB` router big replies die.
* :class:`Loss` drops forwarded ICMP at random both ways; ``above`` limits
  it to longer packets. Loss on big frames only makes a path that carries
  the expected MTU ``degraded``; loss on every size does not.
* A far host that drops echo is measured one way (TCP/UDP probes with small
  answers): the return path does not count.

Only limits a probe can observe count: each is smaller than every earlier
one on the path. Silent limits between the same two hosts/routers are one
(no probe tells them apart): the tighter stands for both.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jumbopath.errors import LabError
from jumbopath.lab.faults import DropEcho, Fault, Loss, NoPTB
from jumbopath.lab.plan import Plan
from jumbopath.lab.topology import Host, Link, Node, Route, Router, Switch, Topology

SOURCE = "src"
"""Name of the host that runs the tool."""
FAR = "far"
"""Name of the host it measures."""
REALISTIC_MTUS = (1500, 4000, 8000, 9000, 9216)
"""MTUs seen on real gear."""
ODD_MTUS = (1280, 1400, 1492, 4470, 8950, 9100)
"""Odd ones (tunnels, PPPoE, vendor quirks); all carry IPv6 (>= 1280)."""
LIMIT_MTUS = (1280, 1400, 1492, 1500, 4000, 4470, 8000, 8950)
"""Values a drawn limit takes (below 9000)."""
VETH_SLACK = 4
"""A veth receives frames up to its MTU plus this (a VLAN tag's room)."""
CLASSES = (
    "clean",
    "local-nic",
    "single-ptb",
    "single-silent",
    "multi-limit",
    "no-ptb",
    "big-loss",
    "all-loss",
    "asymmetric",
    "return-limit",
    "echo-filtered",
)
"""Every fault class a lab can be labelled with."""


@dataclass(frozen=True, slots=True)
class Limit:
    """One element on a path that stops packets above ``mtu``."""

    kind: str
    """``local`` (the source's own interface), ``ptb`` (a router egress that
    answers "too big") or ``silent`` (switch port, router without PTB, NIC)."""
    mtu: int
    """Largest IP packet (bytes) that passes it."""
    node: str
    """The node holding the interface (router, switch or receiving host)."""
    peer: str
    """The node at the other end of that interface's cable."""
    after: str | None
    """Last host/router big packets reach (for ``ptb``: the reporting router);
    None for ``local``."""
    before: str
    """First host/router after the limit that big packets no longer reach."""


@dataclass(frozen=True, slots=True)
class Truth:
    """What a correct tool measures from ``src`` toward ``far`` in one family."""

    family: int
    """4 or 6."""
    forward: tuple[str, ...]
    """Nodes from src to far (switches included) as the routes send probes."""
    back: tuple[str, ...]
    """Nodes from far to src as the routes send the replies."""
    forward_mtu: int
    """Largest probe that reaches far."""
    return_mtu: int
    """Largest reply that gets back to src (fragmentation included)."""
    limits: tuple[Limit, ...]
    """Every observable limit on the forward path, in path order (strictly shrinking)."""
    return_limit: Limit | None
    """Where the smallest reply that dies on the way back dies (None: none dies)."""
    echo_filtered: bool
    """far drops echo: the tool measures one way, the return path does not count."""
    big_loss: bool
    """A router on either path drops big frames only, at random."""

    @property
    def path_mtu(self) -> int:
        """The path MTU a round-trip (or, echo filtered, one-way) measurement finds."""
        if self.echo_filtered:
            return self.forward_mtu
        return min(self.forward_mtu, self.return_mtu)

    def limits_below(self, expected: int) -> tuple[Limit, ...]:
        """The forward limits a search up to ``expected`` bytes sees."""
        return tuple(lim for lim in self.limits if lim.mtu < expected)

    def status(self, expected: int) -> str:
        """``below``, ``degraded`` or ``ok`` against ``expected``."""
        if self.path_mtu < expected:
            return "below"
        return "degraded" if self.big_loss else "ok"

    def direction(self, expected: int) -> str | None:
        """``forward`` or ``return`` for a path below ``expected``; None otherwise."""
        if self.path_mtu >= expected:
            return None
        return "forward" if self.forward_mtu <= self.path_mtu else "return"

    def tightest(self, expected: int) -> Limit | None:
        """The forward limit that sets the path MTU (None: forward carries ``expected``)."""
        below = self.limits_below(expected)
        return below[-1] if below else None


@dataclass(frozen=True, slots=True)
class RandomLab:
    """A drawn lab: its topology and the classes it exercises."""

    seed: int
    """The seed it was drawn from."""
    topology: Topology
    """The network."""
    classes: tuple[str, ...]
    """Fault classes (see :data:`CLASSES`), from the topology's truth at 9000."""


# ---------------------------------------------------------------------------
# Drawing


def _mtu(rng: random.Random, spread: float) -> int:
    """9000 mostly; with chance ``spread`` another realistic or odd value."""
    if rng.random() >= spread:
        return 9000
    return rng.choice(REALISTIC_MTUS + ODD_MTUS if rng.random() < 0.3 else REALISTIC_MTUS)


def draw(seed: int) -> RandomLab:
    """The lab of ``seed`` (pure: the same seed always gives the same lab)."""
    rng = random.Random(seed)
    n = rng.randint(1, 4)
    routers = [f"r{i}" for i in range(1, n + 1)]
    nodes: list[Node] = [Host(SOURCE), Switch("sw0"), *(Router(r) for r in routers)]
    links: list[Link] = []
    spread = rng.choice((0.0, 0.1, 0.25))

    def link(a: str, b: str) -> None:
        links.append(Link(a, b, _mtu(rng, spread), _mtu(rng, spread)))

    def bystanders(sw: str, tag: str) -> None:
        for j in range(rng.randint(0, 2)):
            nodes.append(Host(f"h{tag}{j}"))
            link(sw, f"h{tag}{j}")

    link(SOURCE, "sw0")
    link("sw0", "r1")
    bystanders("sw0", "0")
    for i in range(1, n):
        a, b = routers[i - 1], routers[i]
        if rng.random() < 0.5:
            sw = f"sw{i}"
            nodes.append(Switch(sw))
            link(a, sw)
            link(sw, b)
            bystanders(sw, str(i))
        else:
            link(a, b)
    nodes += [Switch("swf"), Host(FAR)]
    link(routers[-1], "swf")
    link("swf", FAR)
    bystanders("swf", "f")
    routes: list[Route] = []
    if rng.random() < 0.2:  # a separate way back through rx
        nodes.append(Router("rx"))
        link("swf", "rx")
        link("rx", "sw0")
        routes.append(Route(FAR, SOURCE, "rx"))
        routes.append(Route(SOURCE, FAR, "r1"))
        routes += [Route(a, FAR, b) for a, b in zip(routers, routers[1:], strict=False)]
    links = _limits(rng, links, SOURCE)
    faults: list[Fault] = []
    all_routers = [*routers, *(["rx"] if routes else [])]
    for r in all_routers:
        if rng.random() < 0.2:
            faults.append(NoPTB(r))
    echo = rng.random() < 0.12
    if echo:
        faults.append(DropEcho(FAR))
    if rng.random() < 0.25:
        above = 0 if echo or rng.random() < 0.5 else 1500
        faults.append(Loss(rng.choice(all_routers), rng.randint(1, 20), above=above))
    topo = Topology(
        nodes=tuple(nodes), links=tuple(links), faults=tuple(faults), routes=tuple(routes)
    )
    return RandomLab(seed, topo, classify(topo))


def _limits(rng: random.Random, links: list[Link], src: str) -> list[Link]:
    """Put 0-3 limits (MTUs below 9000) on random link ends; the source's end
    rarely (a local NIC)."""
    out = list(links)
    for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
        i = rng.randrange(len(out))
        end = rng.choice((out[i].a, out[i].b))
        if end == src and rng.random() < 0.7:
            end = out[i].b
        out[i] = out[i].with_mtu(end, rng.choice(LIMIT_MTUS))
    return out


def classify(topo: Topology, expected: int = 9000) -> tuple[str, ...]:
    """The fault classes of ``topo`` (in :data:`CLASSES` order), from its IPv4 truth."""
    t = truth(topo, 4)
    on_path = set(t.forward) | set(t.back)
    below = t.limits_below(expected)
    found: set[str] = set()
    if below and below[0].kind == "local":
        found.add("local-nic")
    rest = [lim for lim in below if lim.kind != "local"]
    if len(below) >= 2:
        found.add("multi-limit")
    elif len(rest) == 1:
        found.add(f"single-{rest[0].kind}")
    noptb = {f.router for f in topo.faults if isinstance(f, NoPTB)}
    if any(lim.kind == "silent" and lim.node in noptb and lim.after == lim.node for lim in below):
        found.add("no-ptb")
    for f in topo.faults:
        if isinstance(f, Loss) and f.node in on_path and f.percent > 0:
            found.add("big-loss" if f.above else "all-loss")
        if isinstance(f, DropEcho) and f.node == FAR:
            found.add("echo-filtered")
    if t.back != tuple(reversed(t.forward)):
        found.add("asymmetric")
    if t.return_mtu < min(t.forward_mtu, expected) and not t.echo_filtered:
        found.add("return-limit")
    if not found:
        found.add("clean")
    return tuple(c for c in CLASSES if c in found)


# ---------------------------------------------------------------------------
# The truth


def truth(topo: Topology, family: int = 4, src: str = SOURCE, dst: str = FAR) -> Truth:
    """What ``topo`` makes a correct tool measure from ``src`` to ``dst`` (pure)."""
    plan = Plan(topo)
    forward = walk(plan, topo, src, dst, family)
    back = walk(plan, topo, dst, src, family)
    noptb = {f.router for f in topo.faults if isinstance(f, NoPTB)}
    elements = _elements(plan, topo, forward, noptb, src)
    limits: list[Limit] = []
    for cap, lim in elements:
        if limits and cap >= limits[-1].mtu:
            continue
        last = limits[-1] if limits else None
        if last and last.kind == lim.kind == "silent" and _at(last) == _at(lim):
            limits[-1] = lim  # the same stretch: the tighter stands for both
        else:
            limits.append(lim)
    forward_mtu = min((cap for cap, _ in elements), default=65535)
    return_mtu, return_limit = _return(plan, topo, back, noptb, family)
    on_path = set(forward) | set(back)
    return Truth(
        family=family,
        forward=tuple(forward),
        back=tuple(back),
        forward_mtu=forward_mtu,
        return_mtu=return_mtu,
        limits=tuple(limits),
        return_limit=return_limit,
        echo_filtered=any(isinstance(f, DropEcho) and f.node == dst for f in topo.faults),
        big_loss=any(
            isinstance(f, Loss) and f.above and f.percent > 0 and f.node in on_path
            for f in topo.faults
        ),
    )


def walk(plan: Plan, topo: Topology, src: str, dst: str, family: int) -> list[str]:
    """Nodes a packet from ``src`` to ``dst``'s first address crosses, switches
    included: each host/router's routes as the plan installs them (host routes
    of :class:`Route` overrides first, then segment routes), then the switches
    between it and the next hop."""
    target = _first_addr(plan, dst, family)
    target_seg = _segment_of(plan, target)
    path = [src]
    node = src
    for _ in range(len(plan.order)):
        if node == dst:
            return path
        key = _egress(plan, node, dst, target, target_seg, family)
        if key is None:
            raise LabError(f"{node} has no route to {dst} (IPv{family})")
        iface_key, next_node = key
        path += _l2(plan, topo, iface_key, next_node)[1:]
        node = next_node
    raise LabError(f"routes from {src} to {dst} loop (IPv{family})")


def _first_addr(plan: Plan, node: str, family: int) -> str:
    for key in plan.by_node[node]:
        a = plan.addr(key, family)
        if a is not None:
            return a
    raise LabError(f"{node} has no IPv{family} address")


def _segment_of(plan: Plan, address: str) -> int:
    return next(i.segment for i in plan.ifaces.values() if address in (i.v4, i.v6) and i.segment)


def _owner(plan: Plan, address: str, seg: int) -> str:
    return next(
        i.node for i in plan.ifaces.values() if i.segment == seg and address in (i.v4, i.v6)
    )


def _egress(
    plan: Plan, node: str, dst: str, target: str, target_seg: int, family: int
) -> tuple[tuple[str, str], str] | None:
    """(interface key, next host/router) ``node`` sends ``target`` through."""
    own = dict(plan.segs_of(node, family))
    entries = plan.host_routes.get((node, family), [])
    host = [e for e in entries if e.prefix.split("/")[0] == target]
    if not host and target_seg in own:
        return own[target_seg], dst
    chosen = host or [
        e for e in plan.routes[(node, family)] if e.prefix == plan.prefix(target_seg, family)
    ]
    if not chosen:
        return None
    entry = chosen[0]
    key = next(k for k in plan.by_node[node] if plan.ifaces[k].name == entry.dev)
    seg = plan.ifaces[key].segment
    assert seg is not None
    return key, _owner(plan, entry.via, seg)


def _l2(plan: Plan, topo: Topology, key: tuple[str, str], to: str) -> list[str]:
    """Nodes from ``key``'s node out of that interface to ``to`` (same segment),
    through switches only."""
    start, first = key
    if first == to:
        return [start, to]
    before: dict[str, str] = {first: start}
    queue = deque([first])
    while queue:
        sw = queue.popleft()
        for _, peer in plan.by_node[sw]:
            if peer in before or peer == start:
                continue
            before[peer] = sw
            if peer == to:
                path = [to]
                while path[-1] != start:
                    path.append(before[path[-1]])
                return path[::-1]
            if plan.kind[peer] is Switch:
                queue.append(peer)
    raise LabError(f"{to} is not behind {start}'s port toward {first}")


def _mtu_of(topo: Topology, node: str, peer: str) -> int:
    link = next(lk for lk in topo.links if {lk.a, lk.b} == {node, peer})
    return link.mtu_of(node)


def _port_cap(plan: Plan, topo: Topology, sw: str, peer: str) -> int:
    """What a switch port receives: its MTU under a nftables rule, MTU + 4 at the top."""
    mtu = _mtu_of(topo, sw, peer)
    top = max(_mtu_of(topo, sw, p) for _, p in plan.by_node[sw])
    return mtu if mtu < top else mtu + VETH_SLACK


def _around(plan: Plan, path: list[str], i: int) -> tuple[str | None, str]:
    """The last host/router at or before index ``i`` and the first after it."""
    after = next((path[j] for j in range(i, -1, -1) if plan.kind[path[j]] is not Switch), None)
    before = next(path[j] for j in range(i + 1, len(path)) if plan.kind[path[j]] is not Switch)
    return after, before


def _elements(
    plan: Plan, topo: Topology, path: list[str], noptb: set[str], src: str
) -> list[tuple[int, Limit]]:
    """Every interface a probe crosses, in order, as (what it passes, the limit it is)."""
    out: list[tuple[int, Limit]] = []
    for i, (u, v) in enumerate(zip(path, path[1:], strict=False)):
        after, before = _around(plan, path, i)
        if plan.kind[u] is Switch:  # br_netfilter: exact, also at the bridge's top
            out.append((_mtu_of(topo, u, v), Limit("silent", 0, u, v, after, before)))
        else:
            mtu = _mtu_of(topo, u, v)
            kind = "local" if u == src else "silent" if u in noptb else "ptb"
            out.append((mtu, Limit(kind, 0, u, v, None if u == src else u, before)))
        # the receiving end: ``before`` is the node after u (v itself when L3)
        back_after = u if plan.kind[u] is not Switch else after
        if plan.kind[v] is Switch:
            cap = _port_cap(plan, topo, v, u)
        else:
            cap = _mtu_of(topo, v, u) + VETH_SLACK
        out.append((cap, Limit("silent", 0, v, u, back_after, before)))
    return [(cap, _with_mtu(lim, cap)) for cap, lim in out]


def _at(lim: Limit) -> tuple[str | None, str]:
    return (lim.after, lim.before)


def _with_mtu(lim: Limit, mtu: int) -> Limit:
    return Limit(lim.kind, mtu, lim.node, lim.peer, lim.after, lim.before)


def _first_fragment(mtu: int, family: int) -> int:
    """Length of the largest fragment of a packet cut to ``mtu`` (8-byte units)."""
    if family == 4:
        return 20 + (mtu - 20) // 8 * 8
    return 48 + (mtu - 48) // 8 * 8


def _return(
    plan: Plan, topo: Topology, back: list[str], noptb: set[str], family: int
) -> tuple[int, Limit | None]:
    """(largest reply that gets back, where the next size up dies)."""
    elements = _elements(plan, topo, back, noptb, back[0])

    def dies(size: int) -> Limit | None:
        piece = size
        for cap, lim in elements:
            if piece <= cap:
                continue
            fragments = (
                lim.kind == "local"
                or (lim.kind == "ptb")
                or (family == 4 and lim.kind == "silent" and lim.after == lim.node)
            )
            if fragments:  # the far host or a router cuts the reply
                piece = _first_fragment(cap, family)
                continue
            return lim
        return None

    caps = sorted({cap for cap, lim in elements})
    for cap in caps:
        lim = dies(cap + 1)
        if lim is not None:
            return cap, lim
    return 65535, None


# ---------------------------------------------------------------------------
# Holding a result to the truth

BREAK_KINDS = {"local": "local-nic", "ptb": "ptb", "silent": "silent"}
"""The JSON break kind of each limit kind."""


def names(topo: Topology) -> dict[str, str]:
    """Every host/router address (both families) -> its node name."""
    plan = Plan(topo)
    return {a: i.node for i in plan.ifaces.values() for a in (i.v4, i.v6) if a is not None}


def compare(
    t: Truth, result: Mapping[str, Any], addresses: Mapping[str, str], expected: int = 9000
) -> tuple[str, ...]:
    """How one result of ``check``/``trace --json`` departs from the truth (empty: it
    agrees). Each difference is ``field: truth X, tool Y``. Compared: status,
    path MTU (capped at ``expected``), direction, and for a forward break the
    tightest limit's kind and place (``after``/``before`` mapped to node
    names), or the whole ``breaks`` list when the result has one; a path
    whose replies die on the way back must not show a break on the way there
    (its break, if any, has cause ``return-path``)."""
    out: list[str] = []
    status = t.status(expected)
    if result.get("status") != status:
        out.append(f"status: truth {status}, tool {result.get('status')}")
    got = result.get("path_mtu")
    want = min(t.path_mtu, expected)
    if not isinstance(got, int) or min(got, expected) != want:
        out.append(f"path_mtu: truth {want}, tool {got}")
    if status != "below":
        return tuple(out)
    direction = t.direction(expected)
    said = result.get("direction")  # None: the tool made no claim
    if said is not None and said != direction and not t.echo_filtered:
        out.append(f"direction: truth {direction}, tool {said}")
    if direction != "forward":
        brk = result.get("break")
        located = isinstance(brk, Mapping) and brk.get("kind") not in (None, "none")
        if located and isinstance(brk, Mapping) and brk.get("cause") != "return-path":
            seen = _seen(brk, addresses)
            out.append(f"break: truth on the way back (return-path), tool {seen}")
        return tuple(out)
    if isinstance(result.get("breaks"), list):
        want_list = [_place(lim) for lim in t.limits_below(expected)]
        got_list = [_seen(b, addresses) for b in result["breaks"] if isinstance(b, Mapping)]
        if got_list != want_list:
            out.append(f"breaks: truth {want_list}, tool {got_list}")
        return tuple(out)
    tight = t.tightest(expected)
    brk = result.get("break")
    if tight is not None and isinstance(brk, Mapping):
        want_one, got_one = _place(tight), _seen(brk, addresses)
        if got_one != want_one:
            out.append(f"break: truth {want_one}, tool {got_one}")
    return tuple(out)


def _place(lim: Limit) -> tuple[str, str | None, str | None]:
    """(kind, after, before) of a limit as a result shows it."""
    if lim.kind == "local":
        return ("local-nic", None, None)
    after = None if lim.after == SOURCE else lim.after  # the source is no hop
    return (BREAK_KINDS[lim.kind], after, lim.before)


def _seen(
    brk: Mapping[str, Any], addresses: Mapping[str, str]
) -> tuple[str, str | None, str | None]:
    kind = str(brk.get("kind"))
    if kind == "local-nic":
        return (kind, None, None)

    def name(a: object) -> str | None:
        if a is None:
            return None
        n = addresses.get(str(a), str(a))
        return None if n == SOURCE else n

    return (kind, name(brk.get("after")), name(brk.get("before")))
