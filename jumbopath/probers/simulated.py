"""A simulated path with the same interface as the raw prober, in virtual time.

It models what the lab and real networks do to probes, so the pure search
and localization logic can be tested exhaustively and fast:

* the local interface refuses anything above its MTU (EMSGSIZE);
* a router whose egress is smaller sends "too big" with its next-hop MTU,
  unless it suppresses those errors (a PMTUD black hole);
* a layer-2 element (switch port, far NIC) smaller than the packet drops it
  silently;
* TTL expiry at a router yields "time exceeded", if the router sends them;
* routers rate-limit their ICMP errors like Linux (a burst of 6, then one
  per second);
* random loss on the way out and on the way back;
* a target that does not answer echo requests (or UDP, or TCP);
* a return path with its own MTU: an echo reply (as big as its request)
  larger than it vanishes, while the small answers to one-way UDP and TCP
  probes come back whatever its MTU;
* probe kinds: ICMP echo is answered by a reply of the same size, UDP to a
  closed port by a small port unreachable (rate-limited like any ICMP
  error), TCP by a small SYN-ACK or RST;
* equal-cost legs or aggregated links: a path may have ``legs``, one of
  which each flow takes by a hash of its source port (ICMP echo always
  takes the first).

Picture of a path with two routers::

    src --seg0-- r1 --seg1-- r2 --seg2-- dst
    seg i: egress MTU of the element that sends into it (local NIC or router i),
           and the smallest layer-2 MTU on it (silent drop)
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field

from jumbopath.model import (
    Answer,
    Leg,
    LocalRefused,
    Outcome,
    ProbeRequest,
    Protocol,
    Reply,
    TimeExceeded,
    TooBig,
    Unreach,
    Unreachable,
)
from jumbopath.probers.base import Target


@dataclass(frozen=True, slots=True)
class SimSegment:
    """One layer-3 hop's worth of cable and switches."""

    egress_mtu: int = 9000
    """MTU of the interface that sends into this segment (refusal or too big above it)."""
    l2_mtu: int = 9000
    """Smallest MTU of anything layer-2 on the segment; larger frames vanish silently."""


@dataclass(frozen=True, slots=True)
class SimRouter:
    """A router between two segments."""

    address: str
    """Address it answers from."""
    ptb: bool = True
    """Whether it sends "too big" errors."""
    time_exceeded: bool = True
    """Whether it sends "time exceeded" errors."""
    rate_limited: bool = True
    """Linux-like ICMP error rate limit: burst of 6, then 1 per second."""
    ptb_limited: bool = True
    """Whether its "too big" errors count against that limit too (Linux exempts
    "fragmentation needed" and "packet too big" from the per-host limit)."""


@dataclass(frozen=True, slots=True)
class SimPath:
    """Everything between the prober and one target."""

    segments: tuple[SimSegment, ...]
    """Segment 0 starts at the local NIC; segment i at router i."""
    routers: tuple[SimRouter, ...] = ()
    """len(segments) - 1 routers."""
    answers_echo: bool = True
    """False: the target drops echo requests."""
    answers_udp: bool = True
    """False: the target (or its firewall) drops UDP to closed ports silently."""
    answers_tcp: bool = True
    """False: the target drops TCP probes silently."""
    loss: float = 0.0
    """Probability a packet is lost, each way."""
    silent_until_s: float = 0.0
    """Nothing reaches the target before this (virtual) time: a router still
    resolving a new neighbour, or a host coming up."""
    big_loss: float = 0.0
    """Extra probability that a packet larger than ``big_from`` is lost (a bad optic)."""
    big_from: int = 1500
    """Size above which ``big_loss`` applies."""
    hop_delay_s: float = 0.0001
    """One-way delay per segment."""
    return_mtu: int | None = None
    """Smallest MTU on the way back (None: as large as any answer)."""
    legs: tuple[SimPath, ...] = ()
    """Equal-cost legs (or LAG members): a flow takes ``legs[hash(flow) % n]``;
    ICMP echo takes ``legs[0]``. When set, the leg decides everything."""

    def __post_init__(self) -> None:
        if len(self.routers) != len(self.segments) - 1:
            raise ValueError("a path needs one router between each pair of segments")

    @property
    def interface_mtu(self) -> int:
        """MTU of the local interface the path starts at."""
        return (self.legs[0] if self.legs else self).segments[0].egress_mtu

    def leg(self, request: ProbeRequest) -> SimPath:
        """The path one probe takes."""
        if not self.legs:
            return self
        if request.protocol is Protocol.ICMP or request.flow is None:
            return self.legs[0]
        return self.legs[_flow_hash(request.flow) % len(self.legs)]


def _flow_hash(flow: int) -> int:
    """A stable hash of a source port (Knuth's multiplicative hash), like a switch's."""
    return ((flow * 2654435761) & 0xFFFFFFFF) >> 16


@dataclass
class _Bucket:
    tokens: float = 6.0
    stamp: float = 0.0

    def take(self, now: float) -> bool:
        self.tokens = min(6.0, self.tokens + (now - self.stamp))
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@dataclass
class SimulatedProber:
    """Implements :class:`jumbopath.probers.base.Prober` over :class:`SimPath` objects."""

    paths: dict[str, SimPath]
    """Target address to its path."""
    seed: int = 1
    _clock: float = 0.0
    _events: list[tuple[float, int, Outcome]] = field(default_factory=list)
    _token: int = 0
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    packets_sent: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def now(self) -> float:
        return self._clock

    def ignored(self, target: Target) -> int:
        return 0

    def close(self) -> None:
        pass

    def leg(self, target: Target, request: ProbeRequest) -> Leg | None:
        """The leg a flow takes, named as a host's multipath route would name it:
        ``leg<i>`` and the leg's first router."""
        if request.flow is None or request.protocol is Protocol.ICMP:
            return None
        whole = self.paths[target.address]
        path = whole.leg(request)
        index = whole.legs.index(path) if whole.legs else 0
        return Leg(f"leg{index}", path.routers[0].address if path.routers else None)

    def _lost(self, path: SimPath) -> bool:
        return path.loss > 0 and self._rng.random() < path.loss

    def _icmp_allowed(self, router: SimRouter, at: float) -> bool:
        if not router.rate_limited:
            return True
        bucket = self._buckets.setdefault(router.address, _Bucket(stamp=at))
        return bucket.take(at)

    def send(self, target: Target, request: ProbeRequest) -> int | LocalRefused:
        path = self.paths[target.address].leg(request)
        size = request.size
        if size > path.segments[0].egress_mtu:
            return LocalRefused(path.segments[0].egress_mtu)
        self._token += 1
        token = self._token
        self.packets_sent += 1
        ttl = request.ttl if request.ttl is not None else 64
        delay = path.hop_delay_s
        if self._lost(path) or (size > path.big_from and self._rng.random() < path.big_loss):
            return token
        if self._clock < path.silent_until_s:
            return token
        for i, segment in enumerate(path.segments):
            # Router i (1-based) sits before segment i; it checks TTL first,
            # then its egress MTU, as Linux's ip_forward does.
            if i > 0:
                router = path.routers[i - 1]
                at = self._clock + delay * i
                if ttl <= i:
                    if router.time_exceeded and self._icmp_allowed(router, at):
                        self._answer(path, token, at + delay * i, TimeExceeded(router.address, 0.0))
                    return token
                if size > segment.egress_mtu:
                    limited = router.ptb_limited and not self._icmp_allowed(router, at)
                    if router.ptb and not limited:
                        reply = TooBig(segment.egress_mtu, router.address, 0.0)
                        self._answer(path, token, at + delay * i, reply)
                    return token
            if size > segment.l2_mtu:
                return token
        self._arrive(path, target, request, token)
        return token

    def _arrive(self, path: SimPath, target: Target, request: ProbeRequest, token: int) -> None:
        """The probe reached the target: answer as the target would."""
        at = self._clock + 2 * path.hop_delay_s * len(path.segments)
        if request.protocol is Protocol.UDP:
            # A small port unreachable, rate-limited like every ICMP error.
            allowed = self._icmp_allowed(SimRouter(target.address), at)
            if path.answers_udp and allowed:
                self._answer(path, token, at, Reply(0.0, Answer.PORT_UNREACHABLE))
        elif request.protocol is Protocol.TCP:
            if path.answers_tcp:
                self._answer(path, token, at, Reply(0.0, Answer.RESET))  # small
        elif path.answers_echo and (path.return_mtu is None or request.size <= path.return_mtu):
            self._answer(path, token, at, Reply(0.0))

    def _answer(self, path: SimPath, token: int, at: float, outcome: Outcome) -> None:
        if self._lost(path):
            return
        rtt_ms = (at - self._clock) * 1000
        if isinstance(outcome, Reply):
            outcome = Reply(rtt_ms, outcome.answer)
        elif isinstance(outcome, TooBig):
            outcome = TooBig(outcome.mtu, outcome.reporter, rtt_ms)
        elif isinstance(outcome, TimeExceeded):
            outcome = TimeExceeded(outcome.reporter, rtt_ms)
        heapq.heappush(self._events, (at, token, outcome))

    def inject(self, at: float, token: int, outcome: Outcome) -> None:
        """Deliver an arbitrary outcome (a bogus error) at a given time."""
        heapq.heappush(self._events, (at, token, outcome))

    def receive(self, timeout_s: float) -> list[tuple[int, Outcome]]:
        horizon = self._clock + max(timeout_s, 0.0)
        if not self._events or self._events[0][0] > horizon:
            self._clock = horizon
            return []
        first = self._events[0][0]
        self._clock = max(self._clock, first)
        out: list[tuple[int, Outcome]] = []
        while self._events and self._events[0][0] <= self._clock:
            _, token, outcome = heapq.heappop(self._events)
            out.append((token, outcome))
        return out


def unreachable(code: Unreach = Unreach.HOST, reporter: str = "198.18.0.1") -> Unreachable:
    """Shorthand for tests."""
    return Unreachable(code, reporter)
