"""Which TCP port a host that drops ICMP echo answers: a pure planner.

Hardened Linux hosts and many Windows firewalls drop echo requests, but a
storage or cluster host listens on some well-known port, and a SYN to it is
answered (SYN-ACK; the kernel then resets the half-open connection). This
planner sends one small SYN to each candidate port (twice, against loss)
and picks the first port of the list that answered: the MTU search then
runs TCP probes to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jumbopath.batch import OneShot, OneShotPlanner
from jumbopath.model import ProbeRequest, Protocol, Reply
from jumbopath.sizes import TCP_OVERHEAD

#: Ports storage and cluster hosts listen on, in the order tried: SSH, SMB,
#: iSCSI, NFS, rpcbind, WinRM (HTTP), HTTPS.
AUTO_TCP_PORTS: tuple[int, ...] = (22, 445, 3260, 2049, 111, 5985, 443)


@dataclass(frozen=True, slots=True)
class PortScanConfig:
    """One scan."""

    family: int
    """4 or 6."""
    ports: tuple[int, ...] = AUTO_TCP_PORTS
    """Candidates, in order of preference."""
    attempts: int = 2
    """SYNs per port."""
    timeout_s: float = 0.5
    """Wait for answers."""


@dataclass
class PortScan(OneShotPlanner):
    """Finds an answering TCP port. Same planner protocol as the search."""

    config: PortScanConfig
    _round: OneShot = field(init=False)

    def __post_init__(self) -> None:
        cfg = self.config
        size = TCP_OVERHEAD[cfg.family] + 12
        ports = [port for port in cfg.ports for _ in range(cfg.attempts)]
        requests = [
            ProbeRequest(key, size, protocol=Protocol.TCP, port=port)
            for key, port in enumerate(ports)
        ]
        self._round = OneShot(requests, cfg.timeout_s)

    def result(self) -> int | None:
        """The first candidate that answered, or None."""
        ports = {r.key: r.port for r in self._round.requests}
        answered = {ports[k] for k, o in self._round.outcomes.items() if isinstance(o, Reply)}
        return next((p for p in self.config.ports if p in answered), None)
