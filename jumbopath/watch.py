"""What changed between rounds of ``jumbopath watch``: a pure object.

Rounds go in (the :class:`~jumbopath.model.Report` of one ``check``, with the
time it finished passed as ``now=``), changes come out. Nothing here probes,
sleeps or reads the clock; the command's loop (:mod:`jumbopath.cli.watch`)
does that and shows what this object says. :class:`Schedule` is the other
pure half: when the next round starts, and by how much a slow round ran
late (rounds never overlap, so a slow round delays the next one instead of
stacking another on top of it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jumbopath.model import Cause, PathResult, Report, Status


@dataclass(frozen=True, slots=True)
class Observation:
    """What one round saw on one path: the part of a result a watcher compares."""

    key: str
    """Stable identity of the path across rounds (target and address)."""
    target: str
    """The target as typed."""
    address: str | None
    """The address probed."""
    status: Status
    """ok, below, unreachable or error."""
    path_mtu: int | None
    """The measured path MTU (None when not measured)."""
    expected_mtu: int | None
    """The MTU the path should carry."""
    cause: Cause | None
    """Stable cause code of the verdict."""
    error: str | None = None
    """Why the path could not be measured this round (not compared between rounds)."""

    @property
    def ok(self) -> bool:
        """Whether the path carries the expected MTU."""
        return self.status is Status.OK

    def same(self, other: Observation) -> bool:
        """Whether nothing a watcher cares about differs (status, MTU, cause)."""
        return (self.status, self.path_mtu, self.cause, self.expected_mtu) == (
            other.status,
            other.path_mtu,
            other.cause,
            other.expected_mtu,
        )


def observe(result: PathResult) -> Observation:
    """The observation of one path result."""
    return Observation(
        key=f"{result.target}|{result.address or '-'}",
        target=result.target,
        address=result.address,
        status=result.status,
        path_mtu=result.path_mtu,
        expected_mtu=result.expected_mtu,
        cause=result.cause,
        error=result.error,
    )


def observe_report(report: Report) -> list[Observation]:
    """One observation per path of a check report."""
    return [observe(r) for r in report.results]


#: Mesh cell statuses as path statuses ("not-measured": the source host could not be reached).
_CELL_STATUS = {s.value: s for s in Status}


def observe_mesh(doc: Mapping[str, Any]) -> list[Observation]:
    """One observation per directed pair of a mesh JSON document
    (:func:`jumbopath.mesh.document.to_document`): key ``network|source|destination``."""
    out = []
    for net in doc.get("networks", []):
        name = str(net.get("name"))
        expected = net.get("expected_mtu")
        for c in net.get("cells", []):
            status = _CELL_STATUS.get(str(c.get("status")), Status.ERROR)
            error = c.get("error")
            cause = Cause.NOT_MEASURED if c.get("status") == "not-measured" else None
            mtu = c.get("path_mtu")
            out.append(
                Observation(
                    key=f"{name}|{c.get('source')}|{c.get('destination')}",
                    target=f"{name}: {c.get('source')} -> {c.get('destination')}",
                    address=c.get("address"),
                    status=status,
                    path_mtu=mtu if isinstance(mtu, int) else None,
                    expected_mtu=expected if isinstance(expected, int) else None,
                    cause=cause,
                    error=str(error) if error else None,
                )
            )
    return out


def not_measured(
    previous: Iterable[Observation], targets: Iterable[str], message: str
) -> list[Observation]:
    """A round that could not measure at all (interface down while re-cabling, no
    route): every path seen before (or, before any was seen, every target) is
    now an error saying ``message``."""
    known = list(previous)
    if not known:
        known = [Observation(f"{t}|-", t, None, Status.ERROR, None, None, None) for t in targets]
    return [
        Observation(
            o.key,
            o.target,
            o.address,
            Status.ERROR,
            None,
            o.expected_mtu,
            Cause.NOT_MEASURED,
            message,
        )
        for o in known
    ]


@dataclass(frozen=True, slots=True)
class Change:
    """A path's verdict, MTU or cause differs from the round before (or it appeared)."""

    at: float
    """When the round that saw it finished (the ``now`` it was given), seconds."""
    round: int
    """Number of that round (1 = the first)."""
    before: Observation | None
    """What the previous round saw; None for the first sighting."""
    after: Observation | None
    """What this round saw; None when the path is no longer in the round."""

    @property
    def key(self) -> str:
        """The path this change is about."""
        seen = self.after or self.before
        assert seen is not None
        return seen.key

    @property
    def first(self) -> bool:
        """Whether this is the first sighting (not a change of something known)."""
        return self.before is None

    @property
    def fixed(self) -> bool:
        """A path that was not ok is ok now."""
        return self.before is not None and not self.before.ok and bool(self.after and self.after.ok)

    @property
    def broke(self) -> bool:
        """A path that was ok is not ok now."""
        return self.before is not None and self.before.ok and not (self.after and self.after.ok)


@dataclass(frozen=True, slots=True)
class Row:
    """The current state of one path as the live table shows it."""

    now: Observation
    """What the latest round saw."""
    since: float
    """When the path came to this state (the round that first saw it), seconds."""
    last_change: Change | None
    """The latest change of this path after its first sighting, if any."""


@dataclass
class Tracker:
    """Rounds in, changes out. Keeps every change seen, for the summary at the end."""

    rows: dict[str, Row] = field(default_factory=dict)
    """Path key to its current row, in first-seen order."""
    history: list[Change] = field(default_factory=list)
    """Every change after the first round, oldest first (first sightings excluded)."""
    rounds: int = 0
    """Rounds fed so far."""
    started: float | None = None
    """``now`` of the first round."""

    def feed(self, observations: Iterable[Observation], *, now: float) -> list[Change]:
        """Take one round's observations; return what changed since the last round.

        In the first round every path is a first sighting (``before`` is None);
        those are returned but not kept in :attr:`history`. A path missing from
        a later round (a name that now resolves elsewhere) is a change to None.
        """
        self.rounds += 1
        if self.started is None:
            self.started = now
        seen: dict[str, Observation] = {}
        for obs in observations:
            seen.setdefault(obs.key, obs)
        changes: list[Change] = []
        for key, obs in seen.items():
            row = self.rows.get(key)
            if row is None:
                change = Change(now, self.rounds, None, obs)
                self.rows[key] = Row(obs, now, None)
                changes.append(change)
            elif not row.now.same(obs):
                change = Change(now, self.rounds, row.now, obs)
                self.rows[key] = Row(obs, now, change)
                changes.append(change)
            else:
                self.rows[key] = Row(obs, row.since, row.last_change)
        for key in [k for k in self.rows if k not in seen]:
            changes.append(Change(now, self.rounds, self.rows.pop(key).now, None))
        self.history.extend(c for c in changes if not (c.first and self.rounds == 1))
        return changes

    @property
    def all_ok(self) -> bool:
        """Whether every path of the latest round carries the expected MTU."""
        return bool(self.rows) and all(r.now.ok for r in self.rows.values())

    @property
    def latest_change(self) -> Change | None:
        """The most recent change (highlighted in the live table)."""
        return self.history[-1] if self.history else None


@dataclass(frozen=True, slots=True)
class Tick:
    """When the next round starts, and whether the one that just ended ran late."""

    next_start: float
    """Clock time the next round should start."""
    late_s: float
    """How far the round overran its interval (0 when it fit)."""
    skipped: int
    """Whole intervals the round overran: rounds that were not started because
    rounds never overlap."""


@dataclass(frozen=True, slots=True)
class Schedule:
    """Rounds every ``interval_s``, never overlapping."""

    interval_s: float
    """Seconds from one round's start to the next."""

    def after(self, started: float, ended: float) -> Tick:
        """The round that started at ``started`` ended at ``ended``: when does the next start?

        A round that fits in its interval is followed one interval after it
        started. A slow round is followed at once (never stacked, never
        skipped silently): ``late_s`` says by how much it overran.
        """
        due = started + self.interval_s
        if ended <= due:
            return Tick(due, 0.0, 0)
        late = ended - due
        return Tick(ended, late, int(late // self.interval_s) + 1)
