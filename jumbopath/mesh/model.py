"""The mesh's data: cells, failing pairs, verdicts and matrices, with stable codes.

Everything here is a frozen, slotted dataclass or an enum whose value is what
the mesh JSON document says. A cell holds what its source's ``check`` said
about one destination, read back into the core model
(:class:`~jumbopath.model.Break`, :class:`~jumbopath.model.Cause`) by
:mod:`jumbopath.schema`; a failing pair and a verdict carry a stable
``cause`` and the facts behind it. No sentence is made here: they are all
written by :mod:`jumbopath.render.explain.mesh`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from jumbopath.mesh.runs import HostError
from jumbopath.model import Break, Cause, Direction
from jumbopath.status import ExitCode


class CellStatus(str, Enum):
    """One source → destination result (``"status"`` of a cell)."""

    OK = "ok"
    """The path carries the network's MTU."""
    BELOW = "below"
    """The path MTU is below the network's."""
    DEGRADED = "degraded"
    """The path carries the MTU but loses big packets more often than small ones."""
    UNREACHABLE = "unreachable"
    """Nothing answered, small packets included."""
    ERROR = "error"
    """The source's check could not measure it (or its result could not be read)."""
    NOT_MEASURED = "not-measured"
    """The source has no result for it (its session failed, no file, ...)."""

    @property
    def failing(self) -> bool:
        """A finding: the pair does not carry the network's MTU (exit 1)."""
        return self in _FAILING

    @property
    def measured(self) -> bool:
        """A measurement (ok or failing), as opposed to error and not-measured."""
        return self in _FAILING or self is CellStatus.OK

    @property
    def rank(self) -> int:
        """Better is higher: ok, degraded, below, unreachable, error, not-measured."""
        return _RANK[self]


_FAILING = frozenset({CellStatus.BELOW, CellStatus.DEGRADED, CellStatus.UNREACHABLE})
_RANK = {
    CellStatus.OK: 5,
    CellStatus.DEGRADED: 4,
    CellStatus.BELOW: 3,
    CellStatus.UNREACHABLE: 2,
    CellStatus.ERROR: 1,
    CellStatus.NOT_MEASURED: 0,
}


class OneWay(str, Enum):
    """On which way a failing pair's big packets die, from the source's point of view."""

    FORWARD = "forward"
    """From the source to the destination."""
    RETURN = "return"
    """From the destination back to the source."""
    BOTH = "both"
    """Both ways."""
    UNKNOWN = "unknown"
    """Neither host's probes could tell."""


class VerdictKind(str, Enum):
    """What a verdict is about (``"kind"``)."""

    NETWORK = "network"
    HOST = "host"
    LINK = "link"
    PAIR = "pair"


class MeshCause(str, Enum):
    """Stable cause codes of the mesh verdicts (``"cause"``), documented in the README."""

    NETWORK_WIDE = "network-wide"
    """Every pair fails: what all hosts share (the switch, or every host's MTU)."""
    HOST_NIC = "host-nic"
    """Every pair with one host fails, and its own interface is set below the network's MTU."""
    HOST_PORT_OR_NIC = "host-port-or-nic"
    """Every pair with one host fails, its interface is set right: its switch access port
    (or the NIC's real frame limit), or the link from its switch to the others."""
    INTER_GROUP_LINK = "inter-group-link"
    """Groups of hosts work inside and fail between each other: the link(s) between them."""
    PAIR_SPECIFIC = "pair-specific"
    """One pair fails on its own: that pair's path."""


VERDICT_KIND = {
    MeshCause.NETWORK_WIDE: VerdictKind.NETWORK,
    MeshCause.HOST_NIC: VerdictKind.HOST,
    MeshCause.HOST_PORT_OR_NIC: VerdictKind.HOST,
    MeshCause.INTER_GROUP_LINK: VerdictKind.LINK,
    MeshCause.PAIR_SPECIFIC: VerdictKind.PAIR,
}
"""The kind of verdict each cause belongs to."""


@dataclass(frozen=True, slots=True)
class Cell:
    """One source → destination result."""

    source: str
    """Row: the host that probed."""
    destination: str
    """Column: the host probed."""
    address: str | None
    """Destination address on this network."""
    status: CellStatus
    """ok, below, degraded, unreachable, error or not-measured."""
    path_mtu: int | None = None
    """Largest IP packet that went there and back."""
    direction: Direction | None = None
    """check's own one-way verdict (forward, return); None when it could not tell."""
    break_: Break | None = None
    """The break the source's check located, for a failing cell."""
    interface: str | None = None
    """Source's interface toward the destination."""
    interface_mtu: int | None = None
    """Its configured MTU."""
    error: str | None = None
    """Why the cell could not be measured."""
    cause: Cause | None = None
    """The source's check's cause code for this path; None when there is no result."""
    breaks: tuple[Break, ...] = ()
    """Every limit the source's check located, in path order, ``break_`` last."""


@dataclass(frozen=True, slots=True)
class FailingPair:
    """A failing cell, with the one-way verdict from both hosts' views."""

    source: str
    """Row."""
    destination: str
    """Column."""
    status: CellStatus
    """below, degraded or unreachable."""
    path_mtu: int | None
    """Measured path MTU."""
    one_way: OneWay
    """forward (dies from source to destination), return, both, or unknown."""
    break_: Break | None
    """Located break, as the source's check saw it."""
    cause: Cause
    """Why, as the source's check says (router-too-big, silent-drop, no-answer, ...)."""
    other_way_carries: bool = False
    """For a one-way failure: the other way is proven to carry big packets."""
    interface: str | None = None
    """Source's interface toward the destination."""
    interface_mtu: int | None = None
    """Its configured MTU."""


@dataclass(frozen=True, slots=True)
class SharedBreak:
    """The located break most failing paths report (the same router, or the same segment)."""

    break_: Break
    """One of them (the first seen)."""
    paths: int
    """How many failing paths report it."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """A conclusion drawn across the matrix: a cause code and the facts behind it."""

    cause: MeshCause
    """network-wide, host-nic, host-port-or-nic, inter-group-link or pair-specific."""
    hosts: tuple[str, ...]
    """Suspect hosts (host), every host (network), the pair (pair), both sides (link)."""
    groups: tuple[tuple[str, ...], ...] = ()
    """For link: the groups that work inside but not between each other."""
    both_directions: bool = False
    """host: every pair with the host was measured both ways and fails both ways."""
    carried_mtu: int | None = None
    """host: the largest path MTU the host's paths below expectation carry."""
    interface: str | None = None
    """host: the host's interface (host-nic: the one set too small)."""
    interface_mtu: int | None = None
    """host: that interface's MTU."""
    shared_break: SharedBreak | None = None
    """network, link: the break most failing paths report, when any was located."""
    only_from: tuple[str, ...] = ()
    """link: when big packets die only one way, the group they die leaving ..."""
    only_to: tuple[str, ...] = ()
    """... and the group they die on the way to."""
    pairs: tuple[FailingPair, ...] = ()
    """pair: its failing directions."""
    carrying: tuple[str, str] | None = None
    """pair: the direction (source, destination) that carries big packets, when one does."""
    carrying_mtu: int | None = None
    """pair: the path MTU that direction measured."""

    @property
    def kind(self) -> VerdictKind:
        """network, host, link or pair (from the cause)."""
        return VERDICT_KIND[self.cause]


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
    """Cells below the expected MTU, degraded or unreachable."""
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
    via: tuple[tuple[str, str], ...] = ()
    """(host, how it was measured) for hosts not measured by jumbopath itself
    (``ping over ssh``: agentless, through the host's own ping)."""

    @property
    def exit_code(self) -> ExitCode:
        """1 when a pair fails; else 3 when something could not be measured; else 0."""
        cells = [c for n in self.networks for c in n.cells]
        if any(c.status.failing for c in cells):
            return ExitCode.BELOW
        if not cells or any(not c.status.measured for c in cells):
            return ExitCode.CANNOT_MEASURE
        return ExitCode.OK
