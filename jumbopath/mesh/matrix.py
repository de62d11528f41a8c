"""The mesh as matrices, and what they point at. Pure: no SSH, no sockets, no clock.

Per network, an N x N matrix: source hosts are rows, destinations columns,
each cell the path MTU the source's own ``check`` measured toward the
destination. A→B and B→A are separate results (each host probes from its own
stack), and when a pair fails the one-way verdict says on which way the big
packets die: from the ``direction`` field of ``check`` (one-way probes whose
answers are small), on both sides of the pair.

Inference over each matrix, in this order:

1. every pair fails → the network as a whole (its switch, or an MTU that
   no host has) is the suspect;
2. hosts whose every pair fails in both directions, while the others reach
   each other → each such host's NIC or access port;
3. the remaining hosts split into groups that work inside and fail only
   between groups → the link between those groups (inter-switch link,
   uplink, router), naming the hosts on each side;
4. anything left is pair-specific.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jumbopath.mesh.inventory import Network
from jumbopath.mesh.runs import HostError, HostRun, NetworkRun
from jumbopath.status import ExitCode

FAILING = ("below", "unreachable")
"""Cell statuses that are findings (exit 1)."""
MEASURED = ("ok", "below", "unreachable")
"""Cell statuses that are measurements (the rest could not be measured)."""


@dataclass(frozen=True, slots=True)
class BreakInfo:
    """Where the source's ``check`` located the break (its ``"break"`` object)."""

    kind: str
    """none, local-nic, ptb or silent."""
    after: str | None
    """Last hop big packets reach (silent) or the reporting router (ptb)."""
    before: str | None
    """Next hop big packets no longer reach."""
    mtu: int | None
    """The limiting MTU, when known."""
    reported_by: str | None
    """Router that sent "too big"."""
    explanation: str
    """check's own sentence."""


@dataclass(frozen=True, slots=True)
class Cell:
    """One source → destination result."""

    source: str
    """Row: the host that probed."""
    destination: str
    """Column: the host probed."""
    address: str | None
    """Destination address on this network."""
    status: str
    """ok, below, unreachable, error (check could not measure it) or not-measured (no row)."""
    path_mtu: int | None = None
    """Largest IP packet that went there and back."""
    direction: str | None = None
    """check's one-way verdict: forward (source→destination), return, both; None when unknown."""
    break_: BreakInfo | None = None
    """The located break, for a failing cell."""
    interface: str | None = None
    """Source's interface toward the destination."""
    interface_mtu: int | None = None
    """Its configured MTU."""
    error: str | None = None
    """Why the cell could not be measured."""


@dataclass(frozen=True, slots=True)
class FailingPair:
    """A failing cell, with the one-way verdict from both hosts' views."""

    source: str
    """Row."""
    destination: str
    """Column."""
    status: str
    """below or unreachable."""
    path_mtu: int | None
    """Measured path MTU."""
    one_way: str
    """forward (dies from source to destination), return, both, or unknown."""
    break_: BreakInfo | None
    """Located break, as the source's check saw it."""
    explanation: str
    """One sentence for the admin."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """A conclusion drawn across the matrix."""

    kind: str
    """network, host, link or pair."""
    hosts: tuple[str, ...]
    """Suspect hosts (host), every host (network), the pair (pair), both sides (link)."""
    groups: tuple[tuple[str, ...], ...]
    """For link: the groups that work inside but not between each other."""
    explanation: str
    """One or two sentences naming what to look at."""


@dataclass(frozen=True, slots=True)
class RowState:
    """Whether a source host's row on this network was measured."""

    host: str
    """Source host."""
    error: HostError | None
    """Why it was not; None when it was."""


@dataclass(frozen=True, slots=True)
class NetworkMatrix:
    """One network's matrix and its findings."""

    name: str
    """Network name."""
    expected_mtu: int
    """MTU every pair must carry."""
    hosts: tuple[str, ...]
    """Members, in inventory order (rows and columns)."""
    addresses: tuple[tuple[str, str], ...]
    """(host, address on this network)."""
    cells: tuple[Cell, ...]
    """Every ordered pair of distinct members, row by row."""
    rows: tuple[RowState, ...]
    """One per member."""
    failing: tuple[FailingPair, ...]
    """Cells below the expected MTU or unreachable."""
    verdicts: tuple[Verdict, ...]
    """What the failures point at."""

    def cell(self, source: str, destination: str) -> Cell | None:
        """The cell source → destination, if both are members."""
        for c in self.cells:
            if c.source == source and c.destination == destination:
                return c
        return None

    def row(self, host: str) -> RowState | None:
        """The row state of a member."""
        for r in self.rows:
            if r.host == host:
                return r
        return None


@dataclass(frozen=True, slots=True)
class Mesh:
    """Everything one ``mesh`` or ``report`` run found."""

    networks: tuple[NetworkMatrix, ...]
    """One matrix per network."""
    hosts: tuple[tuple[str, HostError | None, float], ...]
    """(host, why its session failed or None, session seconds)."""

    @property
    def exit_code(self) -> ExitCode:
        """1 when a pair fails; else 3 when something could not be measured; else 0."""
        cells = [c for n in self.networks for c in n.cells]
        if any(c.status in FAILING for c in cells):
            return ExitCode.BELOW
        if not cells or any(c.status not in MEASURED for c in cells):
            return ExitCode.CANNOT_MEASURE
        return ExitCode.OK


# --------------------------------------------------------------------------
# Building


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _break(doc: Any) -> BreakInfo | None:
    if not isinstance(doc, Mapping) or not isinstance(doc.get("kind"), str):
        return None
    return BreakInfo(
        kind=doc["kind"],
        after=_str(doc.get("after")),
        before=_str(doc.get("before")),
        mtu=_int(doc.get("mtu")),
        reported_by=_str(doc.get("reported_by")),
        explanation=_str(doc.get("explanation")) or "",
    )


_RANK = {"ok": 4, "below": 3, "unreachable": 2, "error": 1, "not-measured": 0}


def _worse(a: Cell, b: Cell) -> Cell:
    """Of two results for one destination (IPv4 and IPv6 of a name), the worse."""
    ra, rb = _RANK.get(a.status, 0), _RANK.get(b.status, 0)
    if ra != rb:
        return a if ra < rb else b
    return a if (a.path_mtu or 0) <= (b.path_mtu or 0) else b


def _cells_from_run(
    net: Network, source: str, run: NetworkRun | None, row_error: HostError | None
) -> list[Cell]:
    members = dict(net.members)
    by_target: dict[str, str] = {}
    if run is not None:
        for host, addr in run.targets:
            by_target[addr] = host
            by_target[host] = host
    for host, addr in net.members:
        if addr:
            by_target.setdefault(addr, host)
    found: dict[str, Cell] = {}
    if run is not None and run.check is not None:
        for r in run.check.get("results", []):
            if not isinstance(r, Mapping):
                continue
            dest = by_target.get(str(r.get("target"))) or by_target.get(str(r.get("address")))
            if dest is None or dest == source or dest not in members:
                continue
            status = r.get("status")
            cell = Cell(
                source=source,
                destination=dest,
                address=_str(r.get("address")) or members.get(dest) or None,
                status=status if status in _RANK else "error",
                path_mtu=_int(r.get("path_mtu")),
                direction=_str(r.get("direction")),
                break_=_break(r.get("break")),
                interface=_str(r.get("interface")),
                interface_mtu=_int(r.get("interface_mtu")),
                error=_str(r.get("error")),
            )
            found[dest] = _worse(found[dest], cell) if dest in found else cell
    cells = []
    for dest in net.hosts:
        if dest == source:
            continue
        if dest in found:
            cells.append(found[dest])
            continue
        reason: str
        if row_error is not None:
            reason = row_error.message
        elif run is None:
            reason = f"{source} did not measure this network"
        elif run.error is not None:
            reason = run.error.message
        else:
            reason = f"no result for {dest} in {source}'s check output"
        cells.append(Cell(source, dest, members.get(dest) or None, "not-measured", error=reason))
    return cells


def build_mesh(networks: Sequence[Network], runs: Iterable[HostRun]) -> Mesh:
    """Assemble every network's matrix from the hosts' runs, and infer."""
    runs = list(runs)
    by_host = {r.host: r for r in runs}
    matrices = []
    for net in networks:
        cells: list[Cell] = []
        rows: list[RowState] = []
        for source in net.hosts:
            hrun = by_host.get(source)
            nrun = None
            if hrun is not None:
                nrun = next((n for n in hrun.networks if n.network == net.name), None)
            if hrun is None:
                row_error: HostError | None = HostError(
                    _missing_kind(), f"no result from {source} (no file for it was given)"
                )
            elif hrun.error is not None:
                row_error = hrun.error
            elif nrun is not None and nrun.error is not None:
                row_error = nrun.error
            elif nrun is None and len(net.hosts) > 1:
                row_error = HostError(
                    _missing_kind(), f"{source} has no result for network {net.name}"
                )
            else:
                row_error = None
            rows.append(RowState(source, row_error))
            cells.extend(_cells_from_run(net, source, nrun, row_error))
        matrices.append(_analyse(net, tuple(cells), tuple(rows)))
    hosts = tuple((r.host, _host_error(r), r.elapsed_s) for r in runs)
    return Mesh(tuple(matrices), hosts)


def _host_error(run: HostRun) -> HostError | None:
    """The session's error, or the one error every network of the host had (not installed, ...)."""
    if run.error is not None:
        return run.error
    errors = [n.error for n in run.networks]
    first = errors[0] if errors else None
    if first is not None and all(
        e is not None and (e.kind, e.message) == (first.kind, first.message) for e in errors
    ):
        return first
    return None


def _missing_kind() -> Any:
    from jumbopath.mesh.runs import ErrorKind

    return ErrorKind.MISSING


# --------------------------------------------------------------------------
# One-way verdicts


def _paths(own: Cell, mirror: Cell | None) -> tuple[set[str], set[str]]:
    """Which one-way paths of the pair are known broken, and which known good.

    'fwd' is source → destination, 'ret' destination → source. check's
    ``direction`` comes from one-way probes: "return" means its big probes
    got there (the way there is good); "forward" says nothing about the way
    back (nothing big can be made to come back when nothing big gets there).
    """
    broken: set[str] = set()
    good: set[str] = set()
    if own.direction in ("forward", "both"):
        broken.add("fwd")
    if own.direction in ("return", "both"):
        broken.add("ret")
    if own.direction == "return":
        good.add("fwd")
    if own.status == "ok":
        good.add("fwd")
    if mirror is not None:
        if mirror.status in FAILING:
            if mirror.direction in ("forward", "both"):
                broken.add("ret")
            if mirror.direction in ("return", "both"):
                broken.add("fwd")
            if mirror.direction == "return":
                good.add("ret")
        elif mirror.status == "ok":
            # The other host's big echo requests (DF set) reach us: the way back carries
            # big packets. (Its replies prove nothing: IPv4 echo replies carry no DF,
            # so a router on that way would have fragmented them.)
            good.add("ret")
    if own.status in FAILING and not broken and "ret" in good:
        broken.add("fwd")
    return broken, good - broken


def _paths_broken(own: Cell, mirror: Cell | None) -> set[str]:
    """Which one-way paths of the pair are broken: 'fwd' (source→dest) and/or 'ret'."""
    return _paths(own, mirror)[0]


def one_way(own: Cell, mirror: Cell | None) -> str:
    """forward, return, both or unknown, from the source's point of view."""
    broken = _paths_broken(own, mirror)
    if broken == {"fwd", "ret"}:
        return "both"
    if broken == {"fwd"}:
        return "forward"
    if broken == {"ret"}:
        return "return"
    return "unknown"


def _name(addr: str | None, names: Mapping[str, str]) -> str:
    if addr is None:
        return "?"
    return f"{names[addr]} ({addr})" if addr in names else addr


def _pair_sentence(c: Cell, mirror: Cell | None, expected: int, names: Mapping[str, str]) -> str:
    way = one_way(c, mirror)
    good = _paths(c, mirror)[1]
    if c.status == "unreachable":
        head = f"{c.source} → {c.destination}: unreachable even with small packets"
    else:
        head = f"{c.source} → {c.destination}: path MTU {c.path_mtu}, below {expected}"
    ways = {
        "forward": f"big packets die on the way from {c.source} to {c.destination}"
        + ("; the way back carries them" if "ret" in good else ""),
        "return": f"big packets die on the way back from {c.destination} to {c.source}"
        + ("; the way there carries them" if "fwd" in good else ""),
        "both": "big packets die in both directions",
        "unknown": "",
    }
    parts = [head]
    if ways[way]:
        parts.append(ways[way])
    b = c.break_
    if b is not None and b.kind != "none":
        if b.kind == "ptb":
            parts.append(f"{_name(b.reported_by or b.after, names)} reports next-hop MTU {b.mtu}")
        elif b.kind == "silent":
            parts.append(
                f"they vanish silently after {_name(b.after, names) if b.after else c.source} "
                f"and before {_name(b.before, names)}"
            )
        elif b.kind == "local-nic":
            parts.append(
                f"{c.source}'s own interface {c.interface or ''} is smaller "
                f"(MTU {b.mtu or c.interface_mtu})".replace("  ", " ")
            )
    return "; ".join(parts) + "."


# --------------------------------------------------------------------------
# Inference


def _pair_state(cells: Mapping[tuple[str, str], Cell], a: str, b: str) -> str | None:
    """ok, fail, mixed, or None when neither direction was measured."""
    states = [
        cells[k].status for k in ((a, b), (b, a)) if k in cells and cells[k].status in MEASURED
    ]
    if not states:
        return None
    fails = [s in FAILING for s in states]
    if all(fails):
        return "fail"
    if not any(fails):
        return "ok"
    return "mixed"


def _join(names: Sequence[str]) -> str:
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _analyse(net: Network, cells: tuple[Cell, ...], rows: tuple[RowState, ...]) -> NetworkMatrix:
    by_pair = {(c.source, c.destination): c for c in cells}
    names = {a: h for h, a in net.members if a}
    failing = []
    for c in cells:
        if c.status in FAILING:
            way = one_way(c, by_pair.get((c.destination, c.source)))
            failing.append(
                FailingPair(
                    c.source,
                    c.destination,
                    c.status,
                    c.path_mtu,
                    way,
                    c.break_,
                    _pair_sentence(c, by_pair.get((c.destination, c.source)), net.mtu, names),
                )
            )
    verdicts = infer(net, by_pair, names) if failing else ()
    return NetworkMatrix(
        name=net.name,
        expected_mtu=net.mtu,
        hosts=net.hosts,
        addresses=tuple((h, a) for h, a in net.members if a),
        cells=cells,
        rows=rows,
        failing=tuple(failing),
        verdicts=tuple(verdicts),
    )


def infer(
    net: Network, cells: Mapping[tuple[str, str], Cell], names: Mapping[str, str]
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
        verdicts.append(
            Verdict(
                "network",
                tuple(hosts),
                (),
                f"Every pair on {net.name} fails: the network as a whole does not carry "
                f"{net.mtu}. Suspect what all of them share: the switch (its MTU / jumbo "
                "setting) or the MTU configured on every host"
                + _evidence_tail(cells.values(), names)
                + ".",
            )
        )
        return tuple(verdicts)

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
            verdicts.append(_host_verdict(net, h, peers[h], cells, names))
    else:
        others = hosts
        suspects = []

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
    clean = len(groups) >= 2 and any(len(g) >= 2 for g in groups)
    if clean:
        group_of = {h: i for i, g in enumerate(groups) for h in g}
        for i, a in enumerate(others):
            for b in others[i + 1 :]:
                s = state.get(frozenset((a, b)))
                if s is None:
                    continue
                same = group_of[a] == group_of[b]
                if (same and s != "ok") or (not same and s == "ok"):
                    clean = False
    if clean:
        verdicts.append(_link_verdict(net, groups, cells, names))
        return tuple(verdicts)

    # 4. Pair-specific.
    for a, b in rest:
        verdicts.append(_pair_verdict(net, a, b, cells, names))
    return tuple(verdicts)


def _components(hosts: Sequence[str], linked: Any) -> list[tuple[str, ...]]:
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


def _evidence_tail(cells: Iterable[Cell], names: Mapping[str, str]) -> str:
    """'; N paths: router R reports MTU M' — the most common located break, if any."""
    seen: Counter[tuple[str, str | None, str | None, int | None]] = Counter()
    for c in cells:
        b = c.break_
        if c.status in FAILING and b is not None and b.kind in ("ptb", "silent"):
            if b.kind == "ptb":
                seen[("ptb", b.reported_by or b.after, None, b.mtu)] += 1
            else:
                seen[("silent", b.after, None, None)] += 1
    if not seen:
        return ""
    (kind, where, _, mtu), count = seen.most_common(1)[0]
    if kind == "ptb":
        return f"; on {count} failing path(s) {_name(where, names)} reports next-hop MTU {mtu}"
    if where is None:
        return (
            f"; on {count} failing path(s) big packets vanish between the hosts with no "
            "router in between (a layer-2 drop)"
        )
    return f"; on {count} failing path(s) big packets vanish silently after {_name(where, names)}"


def _host_verdict(
    net: Network,
    h: str,
    peers: Sequence[str],
    cells: Mapping[tuple[str, str], Cell],
    names: Mapping[str, str],
) -> Verdict:
    own = [cells[(h, o)] for o in peers if (h, o) in cells and cells[(h, o)].status in MEASURED]
    nic = next((c for c in own if c.interface_mtu is not None and c.interface_mtu < net.mtu), None)
    local = next((c for c in own if c.break_ is not None and c.break_.kind == "local-nic"), None)
    mtus = [
        c.path_mtu
        for o in peers
        for c in (cells.get((h, o)), cells.get((o, h)))
        if c is not None and c.status == "below" and c.path_mtu
    ]
    carried = f" (its paths carry at most {max(mtus)})" if mtus else ""
    if nic is not None or local is not None:
        c = nic or local
        assert c is not None
        what = (
            f"Suspect {h}'s own NIC: its interface {c.interface or '?'} is set to MTU "
            f"{c.interface_mtu or (c.break_.mtu if c.break_ else '?')}: raise it to {net.mtu}"
        )
    else:
        iface = next((c for c in own if c.interface), None)
        nic_ok = (
            f" ({h}'s own interface {iface.interface} is set to {iface.interface_mtu})"
            if iface is not None and iface.interface_mtu
            else ""
        )
        what = (
            f"Suspect {h}'s switch access port on {net.name}, or the link between {h}'s "
            f"switch and the others{nic_ok}"
        )
    both = all(
        (h, o) in cells
        and (o, h) in cells
        and cells[(h, o)].status in MEASURED
        and cells[(o, h)].status in MEASURED
        for o in peers
    )
    subject = (
        f"Every pair with {h} on {net.name} fails in both directions"
        if both
        else f"Every measured path to or from {h} on {net.name} fails"
    )
    return Verdict(
        "host",
        (h,),
        (),
        f"{subject}{carried}, while the other hosts reach each other at {net.mtu}. {what}.",
    )


def _link_verdict(
    net: Network,
    groups: Sequence[tuple[str, ...]],
    cells: Mapping[tuple[str, str], Cell],
    names: Mapping[str, str],
) -> Verdict:
    group_of = {h: i for i, g in enumerate(groups) for h in g}
    cross = [
        c
        for c in cells.values()
        if c.status in FAILING and group_of.get(c.source) != group_of.get(c.destination)
    ]
    ways: Counter[tuple[int, int]] = Counter()
    undecided = 0
    for c in cross:
        broken = _paths_broken(c, cells.get((c.destination, c.source)))
        if not broken:
            undecided += 1
        if "fwd" in broken:
            ways[(group_of[c.source], group_of[c.destination])] += 1
        if "ret" in broken:
            ways[(group_of[c.destination], group_of[c.source])] += 1
    listed = "; ".join("{" + ", ".join(g) + "}" for g in groups)
    if len(groups) == 2:
        head = (
            f"On {net.name}, {_join(groups[0])} reach each other and {_join(groups[1])} "
            f"reach each other at {net.mtu}, but the pairs between the two groups fail"
            if all(len(g) > 1 for g in groups)
            else f"On {net.name}, the groups {listed} each work inside, but every pair between "
            "them fails"
        )
        what = (
            "Suspect the link between the two groups: the inter-switch link or uplink "
            "(its ports' MTU), or the router between them"
        )
    else:
        head = (
            f"On {net.name}, the groups {listed} each work inside at {net.mtu}, "
            "but pairs between groups fail"
        )
        what = "Suspect the links between the groups' switches (or the core switch joining them)"
    direction = ""
    if ways and not undecided:
        directions = sorted(ways)
        if len(directions) == 1:
            a, b = directions[0]
            direction = (
                f" Big packets die only on the way from {_join(groups[a])} to {_join(groups[b])}"
                f" (the other way carries them): look at the path in that direction "
                "(asymmetric routing?)."
            )
    return Verdict(
        "link",
        tuple(h for g in groups for h in g),
        tuple(groups),
        f"{head}. {what}{_evidence_tail(cross, names)}.{direction}",
    )


def _pair_verdict(
    net: Network,
    a: str,
    b: str,
    cells: Mapping[tuple[str, str], Cell],
    names: Mapping[str, str],
) -> Verdict:
    ab, ba = cells.get((a, b)), cells.get((b, a))
    parts = []
    for c, m in ((ab, ba), (ba, ab)):
        if c is not None and c.status in FAILING:
            parts.append(_pair_sentence(c, m, net.mtu, names))
    mixed = [c for c in (ab, ba) if c is not None and c.status == "ok"]
    if mixed:
        parts.append(
            f"{mixed[0].source} → {mixed[0].destination} carries {mixed[0].path_mtu}: the two "
            "hosts disagree (a one-way limit, or a flapping path)"
        )
    return Verdict(
        "pair",
        (a, b),
        (),
        f"The pair {a} – {b} fails on {net.name} on its own. "
        + " ".join(p if p.endswith(".") else p + "." for p in parts),
    )
