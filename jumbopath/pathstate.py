"""What a check was asked to do, and the state of each path as it goes through the stages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from jumbopath.errors import UsageError
from jumbopath.model import PathResult, Protocol
from jumbopath.numbers import NumberError, parse_int
from jumbopath.probers.base import Target
from jumbopath.safe import safe_text

if TYPE_CHECKING:  # for annotations only: psutil loads with the first route lookup
    from jumbopath.egress import Egress

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` whenever a target's search finishes."""


@dataclass(frozen=True, slots=True)
class CheckConfig:
    """What ``jumbopath check`` was asked to do."""

    targets: tuple[str, ...]
    """Names or addresses as typed."""
    expect: int | None = None
    """MTU every path must carry; None: each path's egress interface MTU."""
    family: int | None = None
    """4, 6, or None for every family a name resolves to."""
    max_time_s: float = 5.0
    """Bound on probing time for the whole run."""
    probe: Protocol | None = None
    """ICMP, UDP or TCP probes; None (auto): ICMP echo, then TCP to well-known
    ports and then UDP for a target that answers no echo."""
    port: int | None = None
    """UDP/TCP destination port (``--probe tcp:445``)."""
    flows: int = 32
    """Flows over which the found MTU is confirmed (ECMP legs, LAG members); 1: off."""
    soak: int = 2000
    """At most this many probes of the soak at the path MTU (half big, half small); 0: off."""
    switches: str | None = None
    """A switches file (``--switches``): name the switch port behind a silent break."""
    via: str = "auto"
    """How probes are sent: auto (raw sockets, else ping sockets), raw, ping-socket,
    or ping (the system's own ping command)."""


@dataclass(slots=True)
class PathState:
    """One target on its way through the stages."""

    target: Target
    """Where the probes go."""
    route: Egress | None = None
    """How this host reaches it (None: it cannot)."""
    result: PathResult | None = None
    """The verdict so far (set by the route stage on failure, else by the search)."""
    timeout_s: float = 0.5
    """How long the search waited for an answer (follows the RTT); reused later."""
    tcp_port: int | None = None
    """A TCP port the target answered on while its echo stayed silent (found
    beside the search, see :mod:`jumbopath.echoscan`); the fallback uses it."""
    scanned: int = 0
    """SYNs that scan sent."""

    @property
    def measured(self) -> bool:
        """Whether the path was probed (it has a route and a search result)."""
        return self.route is not None and self.result is not None

    def done(self) -> PathResult:
        """The final result."""
        assert self.result is not None
        return self.result


def parse_probe(text: str) -> tuple[Protocol | None, int | None]:
    """``--probe``: ``auto``, ``icmp``, ``udp[:PORT]`` or ``tcp[:PORT]`` to (protocol, port)."""
    name, _, port_text = text.strip().lower().partition(":")
    protocols = {"auto": None, "icmp": Protocol.ICMP, "udp": Protocol.UDP, "tcp": Protocol.TCP}
    if name not in protocols:
        raise UsageError(
            f"--probe {safe_text(text, 40)!r}: use auto, icmp, udp[:PORT] or tcp[:PORT]"
        )
    protocol = protocols[name]
    if not port_text:
        return protocol, None
    try:
        port = parse_int(port_text, 1, 65535)
    except NumberError:
        port = None
    if protocol in (None, Protocol.ICMP) or port is None:
        raise UsageError(
            f"--probe {safe_text(text, 40)!r}: a port goes with udp or tcp and is 1 to 65535, "
            "e.g. --probe tcp:445"
        )
    return protocol, port


#: ``--flows``: 1 (off) to this many source ports.
MAX_FLOWS = 256
#: ``--soak``: 0 (off) to this many probes.
MAX_SOAK = 10_000


def check_flows(value: int) -> int:
    """``--flows``, in range (UsageError otherwise)."""
    if not 1 <= value <= MAX_FLOWS:
        raise UsageError(f"give 1 (off) to {MAX_FLOWS} flows, not {value}")
    return value


def check_soak(value: int) -> int:
    """``--soak``, in range (UsageError otherwise)."""
    if not 0 <= value <= MAX_SOAK:
        raise UsageError(f"give 0 (off) to {MAX_SOAK} probes, not {value}")
    return value
