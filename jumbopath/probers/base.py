"""The interface every prober implements; the engine depends only on this."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from jumbopath.model import Leg, LocalRefused, Outcome, ProbeRequest
from jumbopath.model import Protocol as Kind


@dataclass(frozen=True, slots=True)
class Target:
    """One address to probe, with the name the user gave."""

    name: str
    """As typed (host name or address)."""
    address: str
    """Numeric address."""
    family: int
    """4 or 6."""
    scope_id: int = 0
    """Interface index an IPv6 link-local address belongs to (``fe80::1%eth0``); 0: none."""


class Prober(Protocol):
    """Sends probes and matches what comes back to the probe that caused it."""

    def now(self) -> float:
        """The prober's clock (monotonic seconds); simulated probers use virtual time."""
        ...

    def send(self, target: Target, request: ProbeRequest) -> int | LocalRefused:
        """Send one probe. Returns a token for matching, or the local refusal."""
        ...

    def receive(self, timeout_s: float) -> list[tuple[int, Outcome]]:
        """Wait up to ``timeout_s`` for outcomes; returns (token, outcome) pairs."""
        ...

    def ignored(self, target: Target) -> int:
        """ICMP messages about ``target`` that were ignored as not ours or implausible."""
        ...

    def close(self) -> None:
        """Release sockets."""
        ...


def silence_floor_s(prober: Prober) -> float:
    """How long a probe must stay unanswered before its silence may count (default 0).

    Sockets see an answer the moment it arrives. The system's ping reports
    each probe's fate itself, but only after starting (over SSH, after a
    channel opens and a shell starts) and waiting out its own ``-W``; a
    planner that gave up sooner would read a slow round as loss, and a
    slow round loses all its probes together.
    """
    floor = getattr(prober, "silence_floor_s", 0.0)
    return float(floor) if isinstance(floor, (int, float)) else 0.0


def leg_of(prober: Prober, target: Target, request: ProbeRequest) -> Leg | None:
    """The leg out of this host the flow of ``request`` takes (the prober's ``leg``;
    None when it cannot tell: the system's ping, an old kernel)."""
    find = getattr(prober, "leg", None)
    if not callable(find):
        return None
    found = find(target, request)
    return found if isinstance(found, Leg) else None


def supports(prober: Prober, protocol: Kind) -> bool:
    """Whether ``prober`` can send ``protocol`` probes (its ``protocols``; default: all).

    Raw sockets send everything; ping sockets have no TCP; the system's ping
    sends ICMP echo alone. Stages that need a protocol skip and say so.
    """
    offered = getattr(prober, "protocols", None)
    return offered is None or protocol in offered
