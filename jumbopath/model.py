"""Data that crosses module boundaries: probes, outcomes, hops, breaks, results.

Everything here is a frozen, slotted dataclass. Sizes are IP packet sizes in
bytes (the MTU a probe tests), never ICMP payloads, unless a name says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from jumbopath.sizes import ICMP_OVERHEAD


class Status(str, Enum):
    """Verdict on one path, as it appears in JSON (``"status"``)."""

    OK = "ok"
    BELOW = "below"
    DEGRADED = "degraded"
    """The path carries the expected MTU, but loses big packets more than small ones."""
    UNREACHABLE = "unreachable"
    ERROR = "error"


class BreakKind(str, Enum):
    """Where and how big packets die (``"break": {"kind": ...}``)."""

    NONE = "none"
    LOCAL_NIC = "local-nic"
    PTB = "ptb"
    SILENT = "silent"
    PARTIAL = "partial"
    """Some flows (ECMP legs, LAG members) carry the size and others do not."""


class Cause(str, Enum):
    """Stable cause codes (``"cause"`` in JSON), documented in the README.

    A monitoring system keys on these; the sentences that explain them are
    written in one place (:mod:`jumbopath.render.explain`) and may change.
    """

    # A path's verdict
    CARRIES = "carries-expected"
    """ok: the path carries the expected MTU."""
    NO_ANSWER = "no-answer"
    """unreachable: nothing answered any probe, small ones included."""
    ICMP_UNREACHABLE = "icmp-unreachable"
    """unreachable: a router or the target said unreachable (see ``unreachable``)."""
    INCONCLUSIVE = "inconclusive"
    """error: the probe or time bound ended the search before it could prove a size."""
    TIME_LIMIT = "time-limit"
    """error: nothing answered before the time limit (and loss was not ruled out)."""
    NOT_MEASURED = "not-measured"
    """error: the path could not be measured at all (no route, interface down, ...)."""
    # Where big packets die (a break's cause; also a below path's cause)
    LOCAL_MTU = "local-interface-mtu"
    """The failing size does not fit this host's own egress interface."""
    ROUTER_TOO_BIG = "router-too-big"
    """A router answers big packets with "fragmentation needed" / "packet too big"."""
    SILENT_DROP = "silent-drop"
    """Big packets leave one hop and never reach the next; no error comes back."""
    SILENT_FIRST_SEGMENT = "silent-drop-first-segment"
    """As silent-drop, on the segment between this host and the first hop."""
    SILENT_NO_NEXT_HOP = "silent-drop-no-next-hop"
    """Big packets die after the last hop that answers; nothing further answers."""
    RETURN_PATH = "return-path"
    """Big packets arrive (one-way probes prove it) but the big answers die on the way back."""
    NO_BREAK = "no-break"
    """Every hop up to the target passes the size tested (map only, or the path changed)."""
    PARTIAL_FLOWS = "partial-flows"
    """Some flows carry the size and others do not: one ECMP leg or LAG member is smaller."""
    BIG_FRAME_LOSS = "big-frame-loss"
    """degraded: big packets are lost significantly more often than small ones."""
    BELOW_UNLOCATED = "below-unlocated"
    """below, and the break could not be located (no localization, or it ran out of time)."""
    OVERLAY_ENCAPSULATION = "overlay-encapsulation"
    """The path leaves through a tunnel whose MTU leaves no room for its encapsulation:
    the underlay carries its own MTU, the overlay asks more than that minus the overhead."""
    UNDERLAY_SHORT = "underlay-short"
    """The path leaves through a tunnel whose underlay, toward the tunnel's remote end,
    carries less than the overlay needs (see the ``overlay`` remark's arithmetic)."""
    # Across targets (findings)
    HOST_SPECIFIC = "host-specific"
    """Some targets behind one hop fail and others pass: their port or NIC."""
    SHARED_ELEMENT = "shared-element"
    """Every target behind one hop fails: what they share."""


class Protocol(str, Enum):
    """What a probe is made of."""

    ICMP = "icmp"
    """ICMP / ICMPv6 echo request; answered by an echo reply of the same size."""
    UDP = "udp"
    """UDP to a closed port; answered by a small ICMP port unreachable (one-way)."""
    TCP = "tcp"
    """TCP SYN with payload; answered by a small SYN-ACK or RST (one-way)."""


class Answer(str, Enum):
    """What proved that a probe arrived."""

    ECHO_REPLY = "echo-reply"
    """An ICMP echo reply as big as the request: the size passes both ways."""
    PORT_UNREACHABLE = "port-unreachable"
    """The target's own small ICMP port unreachable for a UDP probe (rate-limited)."""
    SYN_ACK = "syn-ack"
    """A small TCP SYN-ACK: the port is open (the kernel resets the half-open connection)."""
    RESET = "rst"
    """A small TCP RST: the port is closed, but the packet arrived."""


class Direction(str, Enum):
    """Which way big packets die, for a path below expectation (``"direction"``)."""

    FORWARD = "forward"
    """On the way to the target."""
    RETURN = "return"
    """They arrive; the big answers die on the way back."""


class Unreach(str, Enum):
    """Kinds of "destination unreachable" (RFC 792, RFC 1812, RFC 4443 section 3.1)
    and the local send errors that mean the same. The value is the label shown."""

    NETWORK = "network unreachable"
    HOST = "host unreachable"
    PROTOCOL = "protocol unreachable"
    PORT = "port unreachable"
    SOURCE_ROUTE = "source route failed"
    NETWORK_UNKNOWN = "destination network unknown"
    HOST_UNKNOWN = "destination host unknown"
    PROHIBITED = "administratively prohibited"
    TOS = "unreachable for TOS"
    PRECEDENCE = "precedence violation or cutoff"
    NO_ROUTE = "no route to destination"
    SCOPE = "beyond scope of source address"
    ADDRESS = "address unreachable"
    POLICY = "source address failed ingress/egress policy"
    REJECT_ROUTE = "reject route to destination"
    OTHER = "unreachable (unknown code)"
    LOCAL_NETWORK = "network unreachable (local)"
    LOCAL_NEIGHBOUR = "host unreachable (no neighbour answer)"
    LOCAL_FIREWALL = "sending refused by the local firewall"


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
    protocol: Protocol = Protocol.ICMP
    """ICMP echo (answered at full size: tests both ways), or UDP/TCP (answered
    small: a one-way probe)."""
    flow: int | None = None
    """UDP/TCP source port (the flow an ECMP or LAG hash sees); None: the prober's own."""
    port: int | None = None
    """UDP/TCP destination port; None: the prober's default."""


@dataclass(frozen=True, slots=True)
class Reply:
    """The target answered: the probe's size reached it (an echo reply also
    proves the way back; the small answers to UDP and TCP probes do not)."""

    rtt_ms: float
    """Round-trip time."""
    answer: Answer = Answer.ECHO_REPLY
    """What came back."""


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

    code: Unreach
    """Which kind (from the ICMP type/code table, or the local send error)."""
    reporter: str
    """Address that sent the error ("local" for a local send error)."""

    @property
    def reason(self) -> str:
        """The kind as words ("port unreachable", ...)."""
        return self.code.value


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
class Remark:
    """A fact worth telling about a path (a cache disagreement, loss, ...).

    ``code`` is stable; ``facts`` holds the values the sentence is made of
    (see :mod:`jumbopath.render.explain`).
    """

    code: str
    """no-answer, loss-retried, icmp-ignored, kernel-cache, path-changed,
    hop-changed, local-side, overlay, shared-limit."""
    facts: tuple[tuple[str, str | int | float | None], ...] = ()
    """Named values: (name, value) pairs."""

    def fact(self, name: str) -> str | int | float | None:
        """The value named ``name``, None when absent."""
        return next((v for k, v in self.facts if k == name), None)


def remark(code: str, **facts: str | int | float | None) -> Remark:
    """Shorthand: ``remark("kernel-cache", cached=576, measured=9000)``."""
    return Remark(code, tuple(facts.items()))


@dataclass(frozen=True, slots=True)
class SwitchPort:
    """A switch port on a silent break's stretch that cannot carry the failing size
    (from the switches' own tables: SNMP IF-MIB and LLDP-MIB, or given as data)."""

    switch: str
    """Switch the port is on."""
    port: str
    """Port name (ifName)."""
    toward: str
    """Node on the other end of its link."""
    mtu: int
    """IP MTU the port carries."""
    basis: str
    """How the MTU is known: the device's number and the vendor rule applied."""


@dataclass(frozen=True, slots=True)
class UnreadSwitch:
    """A switch that was asked but could not be read, and may be on a silent stretch."""

    switch: str
    """Switch name, as given."""
    reason: str
    """Why it could not be read: timeout, auth, error or no-data
    (:class:`jumbopath.switches.model.PollFailure`)."""


@dataclass(frozen=True, slots=True)
class Break:
    """Where big packets die on a path. Data only: see :mod:`jumbopath.render.explain`."""

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
    cause: Cause = Cause.NO_BREAK
    """Stable cause code (local-interface-mtu, router-too-big, silent-drop, ...)."""
    size: int | None = None
    """The failing size the localization tested (IP packet bytes)."""
    target: str | None = None
    """Address of the target the path leads to."""
    family: int = 4
    """4 or 6."""
    interface: str | None = None
    """This host's egress interface (local-interface-mtu)."""
    quiet_hops: tuple[int, ...] = ()
    """TTLs between ``after`` and ``before`` that answer no traceroute probe."""
    max_hops: int | None = None
    """For silent-drop-no-next-hop: how far the sweep looked."""
    confirmed: bool = True
    """False when the time or probe bound ended the localization first."""
    local: tuple[str, ...] = ()
    """What this host's own side says (interface, VLAN, LLDP switch port facts)."""
    ports: tuple[SwitchPort, ...] = ()
    """Switch ports on the silent stretch below the failing size (``--switches``)."""
    ports_reason: str | None = None
    """Why no port is named when the switches were asked (not-silent, unplaced,
    no-path, unread, all-fit, no-size); None when ports are named or not asked."""
    unread_switches: tuple[UnreadSwitch, ...] = ()
    """Switches that could not be read and may be on the silent stretch: the ports
    named (if any) may not be the only ones below the failing size."""


@dataclass(frozen=True, slots=True)
class Leg:
    """The way out of this host one flow takes: the kernel's choice among the
    next hops of a multipath route (its hash over addresses and ports)."""

    interface: str | None
    """Egress interface."""
    next_hop: str | None
    """Gateway address (None: the target is on the link)."""


@dataclass(frozen=True, slots=True)
class FlowLeg:
    """The flows that left this host by one leg, by verdict."""

    leg: Leg
    """Egress interface and next hop."""
    passing: int
    """Flows on this leg that carried the size."""
    failing: int
    """Flows on this leg that provably did not."""
    unknown: int
    """Flows on this leg that could not be judged."""


@dataclass(frozen=True, slots=True)
class Flows:
    """How many flows (source ports) carried the size: ECMP legs and LAG members."""

    protocol: Protocol
    """The one-way probes used (TCP: not rate-limited; UDP: the target's ICMP limit applies)."""
    port: int | None
    """Their destination port (None: the prober's default, a closed port)."""
    size: int
    """The size every flow was asked to carry."""
    passing: tuple[int, ...]
    """Source ports that carried it."""
    failing: tuple[int, ...]
    """Source ports that provably did not (reproduce with a fixed source port)."""
    unknown: tuple[int, ...]
    """Source ports that could not be judged."""
    failing_mtu: int | None = None
    """The largest size the failing flows carry, when measured."""
    parted_after: str | None = None
    """The last hop passing and failing flows share (where their paths part)."""
    legs: tuple[FlowLeg, ...] = ()
    """The legs out of this host the flows took (several: a multipath route on
    this host); empty when the prober cannot tell."""


class SoakStop(str, Enum):
    """Why the soak stopped sending (its sequential test, :mod:`jumbopath.soak`)."""

    BIG_LOSS = "big-frame-loss"
    """Big probes were lost alone so much more often than small ones that the
    chance of it, were both lost alike, is below the error budget: degraded."""
    ALIKE = "alike"
    """Small probes were lost alone often enough to show big and small are lost alike."""
    CLEAN = "clean"
    """So few big probes were lost that big-frame loss is bounded below the floor."""
    LIMIT = "limit"
    """The probe or time bound came first: not proven degraded."""


@dataclass(frozen=True, slots=True)
class SoakLoss:
    """A soak at the path MTU beside small probes: loss that only hits big frames.

    Counts are over the pairs judged (both probes answered or timed out); pairs
    still in flight when the test decided are not counted.
    """

    size: int
    """The big size (the path MTU)."""
    big_sent: int
    """Big probes sent."""
    big_lost: int
    """Big probes unanswered."""
    small_sent: int
    """Small probes sent."""
    small_lost: int
    """Small probes unanswered."""
    p_value: float
    """Chance of evidence this strong if big and small were lost alike: the inverse
    of the sequential test's largest likelihood ratio (at most 1)."""
    degraded: bool
    """Big packets are lost significantly more often than small ones."""
    big_only: int = 0
    """Pairs whose big probe alone was lost."""
    small_only: int = 0
    """Pairs whose small probe alone was lost."""
    stop: SoakStop | None = None
    """Why the soak stopped (None: a document from before the sequential test)."""


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
    notes: tuple[Remark, ...] = ()
    """Remarks (cache disagreement, loss, ignored ICMP, the local side, ...)."""
    error: str | None = None
    """Why the target could not be measured (status error)."""
    cause: Cause | None = None
    """Stable code for the verdict: the break's cause for a path below
    expectation, else why the path is ok, unreachable or not measured."""
    unreachable: Unreach | None = None
    """For an ICMP-unreachable verdict: which kind."""
    hops: tuple[Hop, ...] | None = None
    """The hop map, when the path was traced."""
    break_: Break | None = None
    """Where big packets die, when located: the tightest limit."""
    breaks: tuple[Break, ...] = ()
    """Every element that limits the path, in path order, ``break_`` last
    (:mod:`jumbopath.locate.limits`); empty when nothing was located."""
    stages: tuple[Stage, ...] = ()
    """Probes and time per stage; ``probes_sent`` and ``elapsed_s`` are their sums."""
    direction: Direction | None = None
    """For a path below expectation: forward when big packets die on the way to
    the target, return when they arrive and the answers die on the way back;
    None when one-way probes could not tell."""
    protocol: Protocol = Protocol.ICMP
    """What measured the path MTU (ICMP echo, or TCP/UDP for a host that drops echo)."""
    port: int | None = None
    """The TCP/UDP destination port that measured it, if any."""
    flows: Flows | None = None
    """The size confirmed over many flows (ECMP legs, LAG members), when checked."""
    soak: SoakLoss | None = None
    """Loss at the path MTU beside small probes, when soaked."""

    @property
    def max_icmp_payload(self) -> int | None:
        """The largest ``ping -s`` size that gets through (MTU minus IP and ICMP headers)."""
        if self.path_mtu is None:
            return None
        return self.path_mtu - ICMP_OVERHEAD[self.family]


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
    cause: Cause = Cause.HOST_SPECIFIC
    """host-specific or shared-element."""
    expected_mtu: int | None = None
    """The MTU the targets should carry."""
    measured: tuple[int, ...] = ()
    """Path MTUs the failing targets measured (shared-element)."""
    common_break: Break | None = None
    """The break every failing target reports, when they all report the same one."""


@dataclass(frozen=True, slots=True)
class Report:
    """Everything one ``check`` or ``trace`` run found."""

    expected_mtu: int | None
    """--expect, or None when each path is compared with its interface MTU."""
    results: tuple[PathResult, ...]
    """One per target and family."""
    findings: tuple[Finding, ...] = field(default=())
    """Cross-target conclusions."""

    @property
    def exit_code(self) -> int:
        """The run's exit status (:func:`jumbopath.status.exit_code_for` its statuses)."""
        from jumbopath.status import exit_code_for

        return int(exit_code_for([r.status.value for r in self.results]))
