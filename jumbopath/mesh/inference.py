"""What a mesh matrix's failing cells point at: one-way verdicts and inference. Pure.

For each failing pair, the one-way verdict says on which way the big packets
die, from the ``direction`` of ``check`` (one-way probes whose answers are
small) on both sides of the pair. Then, over the whole matrix, in this order:

1. every pair fails → the network as a whole (its switch, or an MTU that
   no host has) is the suspect;
2. hosts whose every pair fails in both directions, while the others reach
   each other → each such host's NIC or access port;
3. the remaining hosts split into groups that work inside and fail only
   between groups → the link between those groups (inter-switch link,
   uplink, router), naming the hosts on each side;
4. anything left is pair-specific.

Each conclusion is a :class:`~jumbopath.mesh.model.Verdict`: a cause code and
the facts behind it; the sentences are :mod:`jumbopath.render.explain.mesh`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence

from jumbopath.mesh.inventory import Network
from jumbopath.mesh.model import (
    Cell,
    CellStatus,
    FailingPair,
    MeshCause,
    OneWay,
    SharedBreak,
    Verdict,
)
from jumbopath.model import Break, BreakKind, Cause, Direction

# --------------------------------------------------------------------------
# One-way verdicts

_LIMITED = (CellStatus.BELOW, CellStatus.UNREACHABLE)
"""Failing cells whose size limit the one-way reasoning applies to (not degraded ones)."""


def _paths(own: Cell, mirror: Cell | None) -> tuple[set[str], set[str]]:
    """Which one-way paths of the pair are known broken, and which known good.

    'fwd' is source → destination, 'ret' destination → source. check's
    ``direction`` comes from one-way probes: "return" means its big probes
    got there (the way there is good); "forward" says nothing about the way
    back (nothing big can be made to come back when nothing big gets there).
    """
    broken: set[str] = set()
    good: set[str] = set()
    if own.status in _LIMITED and own.direction is Direction.FORWARD:
        broken.add("fwd")
    if own.status in _LIMITED and own.direction is Direction.RETURN:
        broken.add("ret")
        good.add("fwd")
    if own.status is CellStatus.OK:
        good.add("fwd")
    if mirror is not None:
        if mirror.status in _LIMITED:
            if mirror.direction is Direction.FORWARD:
                broken.add("ret")
            if mirror.direction is Direction.RETURN:
                broken.add("fwd")
                good.add("ret")
        elif mirror.status is CellStatus.OK:
            # The other host's big echo requests (DF set) reach us: the way back carries
            # big packets. (Its replies prove nothing: IPv4 echo replies carry no DF,
            # so a router on that way would have fragmented them.)
            good.add("ret")
    if own.status in _LIMITED and not broken and "ret" in good:
        broken.add("fwd")
    return broken, good - broken


_ONE_WAY = {
    frozenset({"fwd", "ret"}): OneWay.BOTH,
    frozenset({"fwd"}): OneWay.FORWARD,
    frozenset({"ret"}): OneWay.RETURN,
}


def one_way(own: Cell, mirror: Cell | None) -> OneWay:
    """forward, return, both or unknown, from the source's point of view."""
    return _ONE_WAY.get(frozenset(_paths(own, mirror)[0]), OneWay.UNKNOWN)


def failing_pair(c: Cell, mirror: Cell | None) -> FailingPair:
    """A failing cell as a failing pair, with its one-way verdict."""
    way = one_way(c, mirror)
    good = _paths(c, mirror)[1]
    other = {OneWay.FORWARD: "ret", OneWay.RETURN: "fwd"}.get(way)
    return FailingPair(
        source=c.source,
        destination=c.destination,
        status=c.status,
        path_mtu=c.path_mtu,
        one_way=way,
        break_=c.break_,
        cause=c.cause or Cause.BELOW_UNLOCATED,
        other_way_carries=other is not None and other in good,
        interface=c.interface,
        interface_mtu=c.interface_mtu,
    )


# --------------------------------------------------------------------------
# Inference


def _pair_state(cells: Mapping[tuple[str, str], Cell], a: str, b: str) -> str | None:
    """ok, fail, mixed, or None when neither direction was measured."""
    states = [cells[k].status for k in ((a, b), (b, a)) if k in cells and cells[k].status.measured]
    if not states:
        return None
    fails = [s.failing for s in states]
    if all(fails):
        return "fail"
    if not any(fails):
        return "ok"
    return "mixed"


def infer(
    net: Network,
    cells: Mapping[tuple[str, str], Cell],
    failing: Sequence[FailingPair] = (),
) -> tuple[Verdict, ...]:
    """Name what the failing cells point at (see the module docstring)."""
    hosts = list(net.hosts)
    state = {
        frozenset((a, b)): s
        for i, a in enumerate(hosts)
        for b in hosts[i + 1 :]
        if (s := _pair_state(cells, a, b)) is not None
    }
    peers = {h: [o for o in hosts if o != h and frozenset((h, o)) in state] for h in hosts}
    verdicts: list[Verdict] = []

    measured_pairs = list(state.values())
    if measured_pairs and all(s == "fail" for s in measured_pairs) and len(hosts) > 2:
        return (
            Verdict(
                MeshCause.NETWORK_WIDE,
                tuple(hosts),
                shared_break=_shared_break(cells.values()),
            ),
        )

    # 2. Hosts whose every pair fails (both directions, where measured).
    suspects = [
        h
        for h in hosts
        if len(peers[h]) >= 2 and all(state[frozenset((h, o))] == "fail" for o in peers[h])
    ]
    others = [h for h in hosts if h not in suspects]
    others_ok = any(
        state.get(frozenset((a, b))) == "ok" for i, a in enumerate(others) for b in others[i + 1 :]
    )
    if suspects and others_ok:
        for h in suspects:
            verdicts.append(_host_verdict(net, h, peers[h], cells))
    else:
        others = hosts

    # 3. Groups that work inside and fail only between each other.
    rest = [
        (a, b)
        for i, a in enumerate(others)
        for b in others[i + 1 :]
        if state.get(frozenset((a, b))) in ("fail", "mixed")
    ]
    if not rest:
        return tuple(verdicts)
    groups = _components(others, lambda a, b: state.get(frozenset((a, b))) == "ok")
    if _clean_split(others, groups, state):
        verdicts.append(_link_verdict(groups, cells))
        return tuple(verdicts)

    # 4. Pair-specific.
    by_pair = {(f.source, f.destination): f for f in failing}
    for a, b in rest:
        verdicts.append(_pair_verdict(a, b, cells, by_pair))
    return tuple(verdicts)


def _clean_split(
    hosts: Sequence[str], groups: Sequence[tuple[str, ...]], state: Mapping[frozenset[str], str]
) -> bool:
    """Every pair inside a group carries, every measured pair between groups fails."""
    if len(groups) < 2 or not any(len(g) >= 2 for g in groups):
        return False
    group_of = {h: i for i, g in enumerate(groups) for h in g}
    for i, a in enumerate(hosts):
        for b in hosts[i + 1 :]:
            s = state.get(frozenset((a, b)))
            if s is None:
                continue
            same = group_of[a] == group_of[b]
            if (same and s != "ok") or (not same and s == "ok"):
                return False
    return True


def _components(hosts: Sequence[str], linked: Callable[[str, str], bool]) -> list[tuple[str, ...]]:
    seen: set[str] = set()
    groups = []
    for h in hosts:
        if h in seen:
            continue
        group, todo = [], [h]
        seen.add(h)
        while todo:
            x = todo.pop()
            group.append(x)
            for y in hosts:
                if y not in seen and linked(x, y):
                    seen.add(y)
                    todo.append(y)
        groups.append(tuple(sorted(group, key=hosts.index)))
    return groups


_BreakKey = tuple[BreakKind, str | None, int | None]
"""A break's kind, where (the reporting router, or the last hop reached) and reported MTU."""


def _shared_break(cells: Iterable[Cell]) -> SharedBreak | None:
    """The most common located break among failing cells: the same router (and MTU) saying
    "too big", or big packets vanishing after the same hop."""
    seen: Counter[_BreakKey] = Counter()
    first: dict[_BreakKey, Break] = {}
    for c in cells:
        b = c.break_
        if not c.status.failing or b is None:
            continue
        key: _BreakKey
        if b.kind is BreakKind.PTB:
            key = (b.kind, b.reported_by or b.after, b.mtu)
        elif b.kind is BreakKind.SILENT:
            key = (b.kind, b.after, None)
        else:
            continue
        seen[key] += 1
        first.setdefault(key, b)
    if not seen:
        return None
    top, count = seen.most_common(1)[0]
    return SharedBreak(first[top], count)


def _host_verdict(
    net: Network, h: str, peers: Sequence[str], cells: Mapping[tuple[str, str], Cell]
) -> Verdict:
    own = [cells[(h, o)] for o in peers if (h, o) in cells and cells[(h, o)].status.measured]
    nic = next((c for c in own if c.interface_mtu is not None and c.interface_mtu < net.mtu), None)
    local = next(
        (c for c in own if c.break_ is not None and c.break_.kind is BreakKind.LOCAL_NIC), None
    )
    mtus = [
        c.path_mtu
        for o in peers
        for c in (cells.get((h, o)), cells.get((o, h)))
        if c is not None and c.status is CellStatus.BELOW and c.path_mtu
    ]
    both = all(
        (h, o) in cells
        and (o, h) in cells
        and cells[(h, o)].status.measured
        and cells[(o, h)].status.measured
        for o in peers
    )
    small = nic or local
    if small is not None:
        cause = MeshCause.HOST_NIC
        iface = small.interface
        iface_mtu = small.interface_mtu or (small.break_.mtu if small.break_ else None)
    else:
        cause = MeshCause.HOST_PORT_OR_NIC
        named = next((c for c in own if c.interface), None)
        iface = named.interface if named else None
        iface_mtu = named.interface_mtu if named else None
    return Verdict(
        cause,
        (h,),
        both_directions=both,
        carried_mtu=max(mtus) if mtus else None,
        interface=iface,
        interface_mtu=iface_mtu,
    )


def _link_verdict(
    groups: Sequence[tuple[str, ...]], cells: Mapping[tuple[str, str], Cell]
) -> Verdict:
    group_of = {h: i for i, g in enumerate(groups) for h in g}
    cross = [
        c
        for c in cells.values()
        if c.status.failing and group_of.get(c.source) != group_of.get(c.destination)
    ]
    ways: Counter[tuple[int, int]] = Counter()
    undecided = 0
    for c in cross:
        broken = _paths(c, cells.get((c.destination, c.source)))[0]
        if not broken:
            undecided += 1
        if "fwd" in broken:
            ways[(group_of[c.source], group_of[c.destination])] += 1
        if "ret" in broken:
            ways[(group_of[c.destination], group_of[c.source])] += 1
    only_from: tuple[str, ...] = ()
    only_to: tuple[str, ...] = ()
    if len(ways) == 1 and not undecided:
        ((a, b),) = ways
        only_from, only_to = groups[a], groups[b]
    return Verdict(
        MeshCause.INTER_GROUP_LINK,
        tuple(h for g in groups for h in g),
        tuple(groups),
        shared_break=_shared_break(cross),
        only_from=only_from,
        only_to=only_to,
    )


def _pair_verdict(
    a: str,
    b: str,
    cells: Mapping[tuple[str, str], Cell],
    failing: Mapping[tuple[str, str], FailingPair],
) -> Verdict:
    pairs = tuple(failing[k] for k in ((a, b), (b, a)) if k in failing)
    carrying = next(
        (c for c in (cells.get((a, b)), cells.get((b, a))) if c and c.status is CellStatus.OK),
        None,
    )
    return Verdict(
        MeshCause.PAIR_SPECIFIC,
        (a, b),
        pairs=pairs,
        carrying=None if carrying is None else (carrying.source, carrying.destination),
        carrying_mtu=None if carrying is None else carrying.path_mtu,
    )
