"""What one localization knows before it starts, and what it found."""

from __future__ import annotations

from dataclasses import dataclass

from jumbopath.model import Break, Evidence, Hop, Protocol, Remark


@dataclass(frozen=True, slots=True)
class Presumed:
    """What another target's localization proved about the hops this path shares
    with it (same egress, same path MTU): taken as known until this path's own
    probes say otherwise, so those routers' ICMP budget is not spent again
    (:mod:`jumbopath.locate.shared`)."""

    leader: str
    """Address of the target whose localization proved it."""
    hops: tuple[str | None, ...]
    """Addresses at TTL 1, 2, ...: not probed again (the first TTL probed is one more)."""
    reach: int
    """Farthest TTL the failing size reaches."""
    ptb: tuple[int, int, str] | None = None
    """(TTL, next-hop MTU, reporter) of the router that said "too big" (no big
    probe is sent then: only the target's echo replies, which cost no router a token)."""


@dataclass(frozen=True, slots=True)
class LocateConfig:
    """What one localization knows before it starts."""

    family: int
    """4 or 6."""
    target: str
    """Address of the target (for explanations; the target answers echoes)."""
    max_size: int
    """Egress interface MTU: a failing size above it is the local NIC's fault."""
    fail_size: int | None
    """Smallest size known not to reach the target; None to map the hops only."""
    pass_size: int | None
    """Largest size known to reach the target (the path MTU), if any."""
    interface: str | None = None
    """Name of the egress interface (for explanations)."""
    ptb_hint: tuple[int, str] | None = None
    """(next-hop MTU, reporter) of a "too big" the search saw at the failing size."""
    map_size: int | None = None
    """Also probed at every TTL in the sweep, to label the links before the break
    (usually the interface MTU); None to spare the routers' ICMP budget."""
    upper_sizes: tuple[int, ...] = ()
    """Also probed at every TTL in the sweep, with ``map_size``: the next-hop MTUs
    routers reported above the path MTU, each of which passes its router and
    shows where the next limit is (:mod:`jumbopath.locate.limits`)."""
    max_hops: int = 16
    """Largest TTL probed."""
    sweep_hops: int = 8
    """TTLs probed at once; the next window follows when the target is farther."""
    error_rate: float = 1e-3
    """Accepted chance that a silent segment is really loss."""
    timeout_floor_s: float = 0.1
    """Shortest wait before an unanswered probe counts as lost."""
    first_timeout_s: float = 1.0
    """Wait before anything has answered (no round-trip time known yet)."""
    retry_gap_s: float = 1.0
    """Wait before asking a hop that never answered once more."""
    silent_after: int = 2
    """Control attempts after which a hop counts as one that never answers."""
    max_confirm: int = 8
    """Most silent big probes ever needed at one hop."""
    max_probes: int = 300
    """Hard bound on probes."""
    max_time_s: float = 3.0
    """Hard bound on time."""
    protocol: Protocol = Protocol.ICMP
    """What the probes are (TTL-limited UDP and TCP probes work like echo)."""
    flow: int | None = None
    """UDP/TCP source port: the flow whose path is traced."""
    port: int | None = None
    """UDP/TCP destination port."""
    presumed: Presumed | None = None
    """Hops and limit proved by another target's localization (shared evidence)."""


@dataclass(frozen=True, slots=True)
class LocateResult:
    """What a finished (or abandoned) localization knows."""

    hops: tuple[Hop, ...]
    """TTL 1 up to the target (or the last hop that answered)."""
    break_: Break | None
    """Where big packets die; None when nothing could be said (target silent)."""
    conclusive: bool
    """False when the bounds on probes or time ended it first."""
    probes_sent: int
    """Probes sent (local refusals excluded)."""
    elapsed_s: float
    """From the first probe to the verdict."""
    evidence: tuple[Evidence, ...]
    """Per TTL and size, what was seen."""
    notes: tuple[Remark, ...]
    """Remarks (the path changed during the run, a hop answered from two addresses)."""
