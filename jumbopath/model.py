"""Data that crosses module boundaries: probes, outcomes, hops, breaks, results.

Everything here is a frozen, slotted dataclass. Sizes are IP packet sizes in
bytes (the MTU a probe tests), never ICMP payloads, unless a name says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Status(str, Enum):
    """Verdict on one path, as it appears in JSON (``"status"``)."""

    OK = "ok"
    BELOW = "below"
    UNREACHABLE = "unreachable"
    ERROR = "error"


class BreakKind(str, Enum):
    """Where and how big packets die (``"break": {"kind": ...}``)."""

    NONE = "none"
    LOCAL_NIC = "local-nic"
    PTB = "ptb"
    SILENT = "silent"


# --------------------------------------------------------------------------
# Probes and their outcomes (the closed set the prober reports)


@dataclass(frozen=True, slots=True)
class ProbeRequest:
    """A probe a planner wants sent. The engine sends it and reports one outcome."""

    key: int
    """Planner-local identifier, echoed back with the outcome."""
    size: int
    """IP packet size in bytes (header included): the MTU this probe tests."""
    ttl: int | None = None
    """IPv4 TTL / IPv6 hop limit; None for the system default (64)."""
    kind: str = "echo"
    """"echo" (ICMP echo, answered by a reply of the same size) or "udp" (UDP to a
    closed port, answered by a small ICMP port unreachable: a one-way probe)."""


@dataclass(frozen=True, slots=True)
class Reply:
    """An echo reply came back: the probe's size passed."""

    rtt_ms: float
    """Round-trip time."""


@dataclass(frozen=True, slots=True)
class TooBig:
    """A router said "fragmentation needed" (RFC 1191) or "packet too big" (RFC 4443)."""

    mtu: int
    """Next-hop MTU the router reported."""
    reporter: str
    """Address of the router that sent the error."""
    rtt_ms: float
    """Time until the error arrived."""


@dataclass(frozen=True, slots=True)
class TimeExceeded:
    """The probe's TTL ran out at a router, which said so."""

    reporter: str
    """Address the hop answers from."""
    rtt_ms: float
    """Time until the error arrived."""


@dataclass(frozen=True, slots=True)
class LocalRefused:
    """The local kernel refused to send (EMSGSIZE): the local interface is smaller."""

    mtu: int | None
    """The local interface MTU, when known."""


@dataclass(frozen=True, slots=True)
class Lost:
    """Nothing came back before the timeout."""


@dataclass(frozen=True, slots=True)
class Unreachable:
    """A destination, host, network or administratively prohibited error."""

    reason: str
    """Human words for the ICMP type/code ("host unreachable", ...)."""
    reporter: str
    """Address that sent the error."""


Outcome = Reply | TooBig | TimeExceeded | LocalRefused | Lost | Unreachable
"""Everything a probe can come to. Findings are data, not exceptions."""


def outcome_name(outcome: Outcome) -> str:
    """Stable short name of an outcome, used in evidence and JSON."""
    return _OUTCOME_NAMES[type(outcome)]


_OUTCOME_NAMES: dict[type, str] = {
    Reply: "reply",
    TooBig: "too-big",
    TimeExceeded: "time-exceeded",
    LocalRefused: "local-refused",
    Lost: "lost",
    Unreachable: "unreachable",
}


# --------------------------------------------------------------------------
# Results


@dataclass(frozen=True, slots=True)
class Evidence:
    """What was seen at one probe size (aggregated over every probe of that size)."""

    size: int
    """IP packet size probed."""
    outcome: str
    """Outcome name (see :func:`outcome_name`)."""
    count: int
    """How many probes of this size came to this outcome."""
    mtu: int | None = None
    """Reported next-hop MTU (too-big) or local interface MTU (local-refused)."""
    reporter: str | None = None
    """Who sent the ICMP error, if any."""
    ttl: int | None = None
    """Hop limit of the probes, when they were TTL-limited."""


@dataclass(frozen=True, slots=True)
class Stage:
    """Probes and time one stage of the work on a path took."""

    name: str
    """"search" (the path MTU), "locate" (the hop map and break) or "direction"."""
    probes: int
    """Probe packets sent in this stage."""
    elapsed_s: float
    """Probing time of this stage."""


@dataclass(frozen=True, slots=True)
class Hop:
    """One router (or the target) on the path, as seen by TTL-limited probes."""

    ttl: int
    """Hop number (1 = first router)."""
    address: str | None
    """Address the hop answers from; None when it never answered."""
    rtt_ms: float | None
    """Round-trip time of a small probe to this hop."""
    largest_passing: int | None
    """Largest probe size known to reach this hop; None when not measured."""


@dataclass(frozen=True, slots=True)
class Break:
    """Where big packets die on a path."""

    kind: BreakKind
    """none, local-nic, ptb or silent."""
    after: str | None
    """Last hop big packets reach (silent) or the reporting router (ptb)."""
    before: str | None
    """Next hop that big packets no longer reach (silent)."""
    mtu: int | None
    """The limiting MTU, when known."""
    reported_by: str | None
    """Router that sent "too big", for ptb."""
    explanation: str
    """One sentence for the admin."""


@dataclass(frozen=True, slots=True)
class PathResult:
    """The verdict on one target."""

    target: str
    """As the user typed it (name or address)."""
    address: str | None
    """Address probed."""
    family: int
    """4 or 6."""
    status: Status
    """ok, below, unreachable or error."""
    expected_mtu: int | None
    """The MTU this path should carry."""
    path_mtu: int | None = None
    """Largest IP packet that reaches the target and comes back."""
    interface: str | None = None
    """Local interface toward the target."""
    interface_mtu: int | None = None
    """Configured MTU of that interface."""
    loss: float = 0.0
    """Fraction of probes of passing sizes that got no answer."""
    probes_sent: int = 0
    """Probe packets sent to this target."""
    elapsed_s: float = 0.0
    """Probing time for this target."""
    evidence: tuple[Evidence, ...] = ()
    """What was seen, size by size."""
    cached_mtu: int | None = None
    """The kernel's cached path MTU toward the target after the run."""
    ignored_icmp: int = 0
    """ICMP errors ignored: not quoting a probe in flight, or claiming an impossible MTU."""
    notes: tuple[str, ...] = ()
    """Human remarks (cache disagreement, inconclusive search, ...)."""
    error: str | None = None
    """Why the target could not be measured (status error)."""
    hops: tuple[Hop, ...] | None = None
    """The hop map, when the path was traced."""
    break_: Break | None = None
    """Where big packets die, when located."""
    stages: tuple[Stage, ...] = ()
    """Probes and time per stage; ``probes_sent`` and ``elapsed_s`` are their sums."""
    direction: str | None = None
    """For a path below expectation: "forward" when big packets die on the way to
    the target, "return" when they arrive and the answers die on the way back;
    None when one-way probes could not tell."""

    @property
    def max_icmp_payload(self) -> int | None:
        """The largest ``ping -s`` size that gets through (MTU minus IP and ICMP headers)."""
        if self.path_mtu is None:
            return None
        return self.path_mtu - (28 if self.family == 4 else 48)


@dataclass(frozen=True, slots=True)
class Finding:
    """A conclusion drawn across several paths (hosts behind one hop, ...)."""

    scope: str
    """"host" when specific to some hosts, "shared" when a shared element is at fault."""
    hop: str | None
    """The last hop shared by the targets compared."""
    failing: tuple[str, ...]
    """Targets below expectation."""
    passing: tuple[str, ...]
    """Targets that carry the expected MTU behind the same hop."""
    explanation: str
    """One sentence for the admin."""


@dataclass(frozen=True, slots=True)
class Report:
    """Everything one ``check`` or ``trace`` run found."""

    expected_mtu: int | None
    """--expect, or None when each path is compared with its interface MTU."""
    results: tuple[PathResult, ...]
    """One per target and family."""
    findings: tuple[Finding, ...] = field(default=())
    """Cross-target conclusions."""
