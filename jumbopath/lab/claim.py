"""What ``check`` must find on a lab, read from the topology, and whether it did.

The demo builds a lab with a known fault and claims jumbopath finds it. The
claim is made from the topology's data, not from strings: walk the path from
the prober to each target, take the smallest MTU of any link end on it (the
packet and its answer cross every one), and note where that end is. Then
:func:`judge` compares check's JSON document (schema 1, see the README)
with that: which targets fall short, at which MTU, and where the break is.
Unknown fields in the document are ignored. Everything here is pure.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jumbopath.errors import LabError
from jumbopath.lab.plan import Plan
from jumbopath.lab.topology import Host, Link, Switch, Topology
from jumbopath.safe import safe_text


@dataclass(frozen=True, slots=True)
class PathClaim:
    """What the topology says check must measure toward one target."""

    target: str
    """Node name of the target."""
    address: str
    """The target's address that is probed."""
    path_mtu: int
    """Smallest MTU of any link end on the path from the prober: the path MTU."""
    port: tuple[str, str]
    """(node, peer): the first link end on the path at that MTU."""
    upstream: str
    """The last host or router on the path before that link end."""
    upstream_addrs: tuple[str, ...]
    """Addresses of ``upstream`` (where a located break starts)."""
    downstream: str
    """The first host or router on the path after that link end."""
    downstream_addrs: tuple[str, ...]
    """Addresses of ``downstream`` (where a located break ends)."""

    def describe(self, expected_mtu: int) -> str:
        """One line: the target and what was built toward it."""
        who = f"{self.target} ({self.address})"
        if self.path_mtu >= expected_mtu:
            return f"{who}: {self.path_mtu} end to end"
        node, peer = self.port
        return f"{who}: path MTU {self.path_mtu}, at {node}'s port toward {peer}"


@dataclass(frozen=True, slots=True)
class Verdict:
    """check's document held against the claims."""

    found: tuple[str, ...]
    """What check found, one line per target and per finding."""
    differences: tuple[str, ...]
    """Each way the document departs from the claims; empty when they match."""

    @property
    def ok(self) -> bool:
        """Whether check found exactly the fault the lab was built with."""
        return not self.differences


def demo_run(topology: Topology) -> tuple[str, tuple[str, ...], int]:
    """(prober, targets, expected MTU) of a demo on ``topology``: the first host
    checks every other host against the largest MTU in the topology."""
    hosts = [n.name for n in topology.nodes if isinstance(n, Host)]
    if len(hosts) < 2:
        raise LabError("a demo needs at least two hosts: one checks the others")
    expected = max(max(link.a_mtu, link.b_mtu) for link in topology.links)
    return hosts[0], tuple(hosts[1:]), expected


def claims(
    topology: Topology, prober: str, targets: Sequence[str], family: int = 4
) -> tuple[PathClaim, ...]:
    """What check run on ``prober`` must measure toward each of ``targets`` (node names)."""
    plan = Plan(topology)
    return tuple(_claim(topology, plan, prober, t, family) for t in targets)


def _claim(topology: Topology, plan: Plan, prober: str, target: str, family: int) -> PathClaim:
    address = _addrs(plan, target, family)[0]  # raises for a switch
    hops = _path(plan, prober, target)
    links = [_link(topology, a, b) for a, b in zip(hops, hops[1:], strict=False)]
    ends: list[tuple[Link, str]] = []
    for link, a, b in zip(links, hops, hops[1:], strict=False):
        ends += [(link, a), (link, b)]
    # min() keeps the first of equals: the smallest end nearest the prober.
    small_link, small_node = min(ends, key=lambda end: end[0].mtu_of(end[1]))
    at = links.index(small_link)
    l3 = [i for i, n in enumerate(hops) if plan.kind[n] is not Switch]
    up = hops[max(i for i in l3 if i <= at)]
    down = hops[min(i for i in l3 if i > at)]
    peer = small_link.b if small_node == small_link.a else small_link.a
    return PathClaim(
        target=target,
        address=address,
        path_mtu=small_link.mtu_of(small_node),
        port=(small_node, peer),
        upstream=up,
        upstream_addrs=_addrs(plan, up, family),
        downstream=down,
        downstream_addrs=_addrs(plan, down, family),
    )


# ---------------------------------------------------------------------------
# Holding check's document against the claims


def judge(claimed: Sequence[PathClaim], expected_mtu: int, document: Any) -> Verdict:
    """Compare check's JSON document (already parsed) with what the lab was built with.

    Every target must be in the document; the ones built below
    ``expected_mtu`` must be ``below`` at exactly the built MTU, with the
    break (or a finding of scope ``host``) pointing at them and nothing
    placing it elsewhere; the others must be ``ok``.
    """
    doc = document if isinstance(document, Mapping) else {}
    results = _results(doc)
    findings = [f for f in _list(doc.get("findings")) if isinstance(f, Mapping)]
    names = _names(claimed)
    found = [_result_line(r, names) for r in results.values()]
    found += [_finding_line(f, names) for f in findings]
    diffs = [] if doc.get("schema") == 1 else ["check's output is not a schema 1 JSON document"]
    for c in claimed:
        r = results.get(c.address)
        if r is None:
            diffs.append(f"{c.target} ({c.address}): check reported nothing for it")
        elif c.path_mtu >= expected_mtu:
            diffs += _passing(c, expected_mtu, r, findings)
        else:
            diffs += _failing(c, expected_mtu, r, findings)
    for address in results:
        if address not in {c.address for c in claimed}:
            diffs.append(f"check reported {safe_text(address)}, which is not a target of the lab")
    return Verdict(tuple(found), tuple(diffs))


def _passing(
    c: PathClaim, expected: int, r: Mapping[str, Any], findings: Sequence[Mapping[str, Any]]
) -> list[str]:
    who = f"{c.target} ({c.address})"
    out = []
    if r.get("status") != "ok":
        out.append(
            f"{who}: built to carry {c.path_mtu} end to end, but check says "
            f"{_show(r.get('status'))} (path MTU {_show(r.get('path_mtu'))})"
        )
    for f in findings:
        if c.address in _strs(f.get("failing")):
            out.append(
                f"{who}: carries {expected}, yet a {_show(f.get('scope'))} finding blames it"
            )
    return out


def _failing(
    c: PathClaim, expected: int, r: Mapping[str, Any], findings: Sequence[Mapping[str, Any]]
) -> list[str]:
    who = f"{c.target} ({c.address})"
    out = []
    if r.get("status") != "below":
        out.append(
            f"{who}: built below {expected} (path MTU {c.path_mtu}), but check says "
            f"{_show(r.get('status'))}"
        )
    if r.get("path_mtu") != c.path_mtu:
        out.append(f"{who}: path MTU built {c.path_mtu}, check measured {_show(r.get('path_mtu'))}")
    return out + _located(c, r, findings)


def _located(
    c: PathClaim, r: Mapping[str, Any], findings: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Differences in where check puts the fault: the break, and the findings naming it."""
    who = f"{c.target} ({c.address})"
    built = f"between {c.upstream} and {c.downstream}"
    brk = r.get("break")
    if not isinstance(brk, Mapping):
        brk = {}
    kind, after, before = brk.get("kind"), brk.get("after"), brk.get("before")
    out = []
    located = kind not in (None, "none")
    at_port = located and before in c.downstream_addrs and after in (None, *c.upstream_addrs)
    if located and not at_port:
        out.append(
            f"{who}: check puts the break between {_show(after)} and {_show(before)}, "
            f"the lab has it {built}"
        )
    own_port = c.downstream == c.target  # the small end is on the target's own link
    naming = [f for f in findings if c.address in _strs(f.get("failing"))]
    for f in naming:
        if (f.get("scope") == "host") != own_port:
            out.append(
                f"{who}: a {_show(f.get('scope'))} finding names it, the lab has the fault {built}"
            )
    if not at_port and not any(f.get("scope") == "host" for f in naming):
        out.append(f"{who}: neither a break nor a finding points at it; the lab has it {built}")
    return out


def _results(doc: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = {}
    for r in _list(doc.get("results")):
        if isinstance(r, Mapping) and isinstance(r.get("address"), str):
            out.setdefault(r["address"], r)
    return out


def _names(claimed: Sequence[PathClaim]) -> dict[str, str]:
    names: dict[str, str] = {}
    for c in claimed:
        names.update(dict.fromkeys(c.upstream_addrs, c.upstream))
        names.update(dict.fromkeys(c.downstream_addrs, c.downstream))
        names[c.address] = c.target
    return names


def _result_line(r: Mapping[str, Any], names: Mapping[str, str]) -> str:
    line = (
        f"{_who(r.get('address'), names)}: {_show(r.get('status'))}, "
        f"path MTU {_show(r.get('path_mtu'))}"
    )
    brk = r.get("break")
    if isinstance(brk, Mapping) and brk.get("kind") not in (None, "none"):
        line += (
            f", {_show(brk.get('kind'))} break between {_who(brk.get('after'), names)} "
            f"and {_who(brk.get('before'), names)}"
        )
    return line


def _finding_line(f: Mapping[str, Any], names: Mapping[str, str]) -> str:
    failing = ", ".join(_who(a, names) for a in _strs(f.get("failing"))) or "none"
    passing = ", ".join(_who(a, names) for a in _strs(f.get("passing"))) or "none"
    return (
        f"finding ({_show(f.get('scope'))}, behind {_who(f.get('hop'), names)}): "
        f"failing {failing}; passing {passing}"
    )


def _who(address: object, names: Mapping[str, str]) -> str:
    if isinstance(address, str) and address in names:
        return f"{names[address]} ({address})"
    return _show(address)


def _show(value: object) -> str:
    return "none" if value is None else safe_text(value, 80)


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _strs(value: object) -> list[str]:
    return [v for v in _list(value) if isinstance(v, str)]


def _path(plan: Plan, src: str, dst: str) -> list[str]:
    """Nodes from ``src`` to ``dst``, breadth first in link order; hosts never transit.

    The presets are trees, so this is the one path their routes take.
    """
    plan.key(src, None)  # raises for an unknown node
    before: dict[str, str | None] = {src: None}
    queue = deque([src])
    while queue and dst not in before:
        node = queue.popleft()
        if node != src and plan.kind[node] is Host:
            continue
        for _, peer in plan.by_node[node]:
            if peer not in before:
                before[peer] = node
                queue.append(peer)
    if dst not in before:
        raise LabError(f"no path from {src} to {dst} in the topology: link them")
    path = [dst]
    while (prev := before[path[-1]]) is not None:
        path.append(prev)
    return path[::-1]


def _link(topology: Topology, a: str, b: str) -> Link:
    return next(link for link in topology.links if {link.a, link.b} == {a, b})


def _addrs(plan: Plan, node: str, family: int) -> tuple[str, ...]:
    plan.key(node, None)  # raises for an unknown node
    found = tuple(a for k in plan.by_node[node] if (a := plan.addr(k, family)) is not None)
    if not found:
        raise LabError(f"{node} has no IPv{family} address: name a host or router")
    return found
