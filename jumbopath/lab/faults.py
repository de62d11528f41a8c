"""Faults a lab can inject: nftables rules and ICMP rate limits, as data.

Which node kinds each fault may sit on is checked by the plan
(:mod:`jumbopath.lab.plan`); the rules themselves are written by
:mod:`jumbopath.lab.scripts`.
"""

from __future__ import annotations

from dataclasses import dataclass

from jumbopath.errors import LabError


@dataclass(frozen=True, slots=True)
class NoPTB:
    """A PMTUD black hole: the router never sends "fragmentation needed" (ICMP 3/4)
    nor ICMPv6 "packet too big" (type 2). Dropped in its output chain."""

    router: str
    """Name of a Router."""

    @property
    def node(self) -> str:
        """The node the fault lives on."""
        return self.router


@dataclass(frozen=True, slots=True)
class Loss:
    """Random loss of the ICMP/ICMPv6 the router forwards, ``percent`` each way."""

    router: str
    """Name of a Router."""
    percent: int
    """Chance in percent (0..100) that a forwarded ICMP packet is dropped."""
    above: int = 0
    """Only packets longer than this many bytes (IP header included) are dropped:
    loss of big frames only, as a failing optic or a marginal cable shows it.
    0 = every size."""

    def __post_init__(self) -> None:
        if not isinstance(self.percent, int) or not 0 <= self.percent <= 100:
            raise LabError(f"Loss({self.router!r}): percent {self.percent!r} must be 0..100")
        if not isinstance(self.above, int) or not 0 <= self.above <= 65535:
            raise LabError(f"Loss({self.router!r}): above {self.above!r} must be 0..65535")

    @property
    def node(self) -> str:
        """The node the fault lives on."""
        return self.router


@dataclass(frozen=True, slots=True)
class DropEcho:
    """The node silently drops incoming echo requests (IPv4 and IPv6).

    Neighbour discovery and every other ICMP message still pass.
    """

    host: str
    """Name of a Host (a Router works too)."""

    @property
    def node(self) -> str:
        """The node the fault lives on."""
        return self.host


@dataclass(frozen=True, slots=True)
class NoTimeExceeded:
    """The router sends no "time exceeded" (ICMP type 11, ICMPv6 type 3): invisible
    to traceroute."""

    router: str
    """Name of a Router."""

    @property
    def node(self) -> str:
        """The node the fault lives on."""
        return self.router


@dataclass(frozen=True, slots=True)
class RateLimit:
    """Set the node's ICMP error rate limit (``net.ipv4.icmp_ratelimit`` and
    ``net.ipv6.icmp.ratelimit``). Without it the kernel defaults stay."""

    router: str
    """Name of a Router (a Host works too)."""
    ms: int
    """Minimum gap between ICMP errors to one destination, in ms; 0 = unlimited.
    The kernel rounds it to whole jiffies."""

    def __post_init__(self) -> None:
        if not isinstance(self.ms, int) or not 0 <= self.ms <= 3_600_000:
            raise LabError(f"RateLimit({self.router!r}): ms {self.ms!r} must be 0..3600000")

    @property
    def node(self) -> str:
        """The node the fault lives on."""
        return self.router


Fault = NoPTB | Loss | DropEcho | NoTimeExceeded | RateLimit
"""Any fault a lab can inject."""

FAULT_TYPES = (NoPTB, Loss, DropEcho, NoTimeExceeded, RateLimit)
"""Every fault class (for isinstance checks)."""
