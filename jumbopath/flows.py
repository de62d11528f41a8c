"""Every flow's view of one size: a pure planner that finds ECMP legs and LAG members
that do not carry it.

Link aggregation (IEEE 802.1AX) and equal-cost multipath routing spread
flows over their members by a hash of addresses and ports. ICMP echo
between two hosts is one flow: it always takes the same member, so a
member left at a smaller MTU is invisible to ping (and to tracepath and
scamper). UDP and TCP flows that hash onto it black-hole.

This planner sends, on each of ``flows`` source ports, a small control
probe and a probe of the size to confirm, both one-way (TCP SYN answered by
RST or SYN-ACK, or UDP answered by a port unreachable). A flow *passes*
when its big probe is answered; it *fails* when its control is answered and
enough of its big probes are not that loss cannot explain it (the one rule
of :mod:`jumbopath.confirm`, at the loss rate measured on the controls);
else it stays *unknown* (the target does not answer that protocol, or the
bounds ran out).

How many flows: with ``n`` flows hashed uniformly onto ``k`` members, the
chance a given member gets none is ``(1 - 1/k) ** n``, so the chance some
member is never tried is at most ``k (1 - 1/k) ** n``. With the default of
32 flows: 2 members 5e-10, 4 members 4e-4, 8 members 0.11 (64 flows: 0.002).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from jumbopath.confirm import loss_estimate, silences_needed
from jumbopath.model import (
    FlowLeg,
    Flows,
    Leg,
    Outcome,
    ProbeRequest,
    Protocol,
    Reply,
    TooBig,
)
from jumbopath.sizes import CONTROL_SIZE

#: Source ports of flow probes: flow i uses FLOW_BASE_PORT + i.
FLOW_BASE_PORT = 50000


class FlowState(str, Enum):
    """What one flow showed."""

    PASSES = "passes"
    FAILS = "fails"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class FlowConfig:
    """One flow check."""

    family: int
    """4 or 6."""
    size: int
    """The size every flow should carry (IP packet bytes)."""
    flows: int = 32
    """Source ports tried (see the module docstring for the default)."""
    protocol: Protocol = Protocol.TCP
    """TCP (answers are not rate-limited) or UDP (the target's ICMP limit applies)."""
    port: int | None = None
    """Destination port; None: the prober's default (closed, answered by RST)."""
    base_port: int = FLOW_BASE_PORT
    """Flow i uses source port ``base_port + i``."""
    error_rate: float = 1e-4
    """Accepted chance, per flow, that a failing verdict is really loss."""
    timeout_s: float = 0.3
    """Wait for an answer."""
    max_rounds: int = 4
    """Rounds of probes per flow at most."""
    max_time_s: float = 2.0
    """Hard bound on time."""


@dataclass(slots=True)
class _Flow:
    port: int
    big_sent: int = 0
    big_answered: int = 0
    big_lost: int = 0
    too_big: int | None = None
    control_sent: int = 0
    control_answered: int = 0
    control_lost: int = 0
    rounds: int = 0


@dataclass(frozen=True, slots=True)
class FlowResult:
    """What the flows showed."""

    flows: Flows
    """Per source port: passing, failing (proven), unknown."""
    too_big: int | None
    """A next-hop MTU a router reported for a failing flow, if any."""
    probes_sent: int
    """Probes sent."""
    elapsed_s: float
    """From the first probe to the verdict."""


@dataclass
class FlowCheck:
    """Confirms one size over many flows. Same planner protocol as the search."""

    config: FlowConfig
    _flows: list[_Flow] = field(default_factory=list)
    _pending: dict[int, tuple[int, bool, float | None]] = field(default_factory=dict)
    _next_key: int = 0
    _started: float | None = None
    _last: float = 0.0
    _done: bool = False
    probes_sent: int = 0

    def __post_init__(self) -> None:
        cfg = self.config
        self._flows = [_Flow(cfg.base_port + i) for i in range(cfg.flows)]

    @property
    def done(self) -> bool:
        """True once every flow is judged or the bounds ran out."""
        return self._done

    def _loss(self) -> float:
        sent = sum(f.control_answered + f.control_lost for f in self._flows)
        lost = sum(f.control_lost for f in self._flows)
        return loss_estimate(lost, sent)

    def _needed(self) -> int:
        return silences_needed(self._loss(), self.config.error_rate)

    def state(self, f: _Flow) -> FlowState:
        """One flow's verdict so far."""
        if f.big_answered:
            return FlowState.PASSES
        if f.too_big is not None or (f.control_answered and f.big_lost >= self._needed()):
            return FlowState.FAILS
        return FlowState.UNKNOWN

    def _request(self, f: _Flow, size: int, control: bool) -> ProbeRequest:
        key = self._next_key
        self._next_key += 1
        self._pending[key] = (self._flows.index(f), control, None)
        cfg = self.config
        return ProbeRequest(key, size, protocol=cfg.protocol, flow=f.port, port=cfg.port)

    def poll(self, now: float) -> list[ProbeRequest]:
        """Expire, judge, and send the next round to the flows still unknown."""
        cfg = self.config
        if self._started is None:
            self._started = now
        if self._done:
            return []
        for key, (i, control, at) in list(self._pending.items()):
            if at is not None and at + cfg.timeout_s <= now:
                self._record(i, control, None)
                del self._pending[key]
                self._last = max(self._last, now)
        if self._pending:
            if now >= self._started + cfg.max_time_s:
                self._done = True
            return []
        open_flows = [f for f in self._flows if self.state(f) is FlowState.UNKNOWN]
        due = [f for f in open_flows if f.rounds < cfg.max_rounds]
        if not due or now >= self._started + cfg.max_time_s:
            self._done = True
            return []
        out = []
        small = CONTROL_SIZE[cfg.family]
        for f in due:
            f.rounds += 1
            if not f.control_answered:
                out.append(self._request(f, small, True))
            missing = self._needed() - f.big_lost if f.control_answered else 1
            out += [self._request(f, cfg.size, False) for _ in range(max(1, min(missing, 4)))]
        return out

    def on_sent(self, request: ProbeRequest, now: float) -> None:
        """``request`` left."""
        i, control, _ = self._pending[request.key]
        self._pending[request.key] = (i, control, now)
        f = self._flows[i]
        if control:
            f.control_sent += 1
        else:
            f.big_sent += 1
        self.probes_sent += 1

    def on_outcome(self, key: int, outcome: Outcome, now: float) -> None:
        """An answer (or the local refusal, or a router's too-big)."""
        hit = self._pending.pop(key, None)
        if hit is None:
            return
        i, control, _ = hit
        self._last = max(self._last, now)
        self._record(i, control, outcome)

    def _record(self, i: int, control: bool, outcome: Outcome | None) -> None:
        f = self._flows[i]
        arrived = isinstance(outcome, Reply)
        if control:
            if arrived:
                f.control_answered += 1
            else:
                f.control_lost += 1
        elif arrived:
            f.big_answered += 1
        elif isinstance(outcome, TooBig):
            f.too_big = outcome.mtu
        else:
            f.big_lost += 1

    def wake_at(self) -> float | None:
        """When the oldest unanswered probe times out."""
        sent = [at for _, _, at in self._pending.values() if at is not None]
        return min(sent) + self.config.timeout_s if sent else None

    def abandon(self, now: float) -> FlowResult:
        """The verdict per flow."""
        self._done = True
        by_state: dict[FlowState, list[int]] = {s: [] for s in FlowState}
        for f in self._flows:
            by_state[self.state(f)].append(f.port)
        reported = [f.too_big for f in self._flows if f.too_big is not None]
        started = self._started if self._started is not None else now
        cfg = self.config
        return FlowResult(
            flows=Flows(
                protocol=cfg.protocol,
                port=cfg.port,
                size=cfg.size,
                passing=tuple(by_state[FlowState.PASSES]),
                failing=tuple(by_state[FlowState.FAILS]),
                unknown=tuple(by_state[FlowState.UNKNOWN]),
            ),
            too_big=min(reported) if reported else None,
            probes_sent=self.probes_sent,
            elapsed_s=round(max(self._last, started) - started, 4),
        )


def group_legs(flows: Flows, legs: Mapping[int, Leg | None]) -> tuple[FlowLeg, ...]:
    """The flows counted by the leg out of this host each took (``legs``: by source
    port), in the order the legs first appear; flows of no known leg are left out."""
    counts: dict[Leg, list[int]] = {}
    for verdict, ports in enumerate((flows.passing, flows.failing, flows.unknown)):
        for port in ports:
            leg = legs.get(port)
            if leg is not None:
                counts.setdefault(leg, [0, 0, 0])[verdict] += 1
    return tuple(FlowLeg(leg, *n) for leg, n in counts.items())
