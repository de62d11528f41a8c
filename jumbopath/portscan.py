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

from jumbopath.model import Outcome, ProbeRequest, Protocol, Reply
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
class PortScan:
    """Finds an answering TCP port. Same planner protocol as the search."""

    config: PortScanConfig
    _port_of: dict[int, int] = field(default_factory=dict)
    _sent_at: dict[int, float] = field(default_factory=dict)
    _answered: set[int] = field(default_factory=set)
    _closed: set[int] = field(default_factory=set)
    _started: bool = False
    _done: bool = False
    probes_sent: int = 0

    @property
    def done(self) -> bool:
        """True once every SYN is answered or timed out."""
        return self._done

    def poll(self, now: float) -> list[ProbeRequest]:
        """First call: every SYN at once; later: expire."""
        cfg = self.config
        if not self._started:
            self._started = True
            out = []
            for port in cfg.ports:
                for _ in range(cfg.attempts):
                    key = len(self._port_of)
                    self._port_of[key] = port
                    size = TCP_OVERHEAD[cfg.family] + 12
                    out.append(ProbeRequest(key, size, protocol=Protocol.TCP, port=port))
            return out
        waiting = [at for k, at in self._sent_at.items() if k not in self._closed]
        if not waiting or all(at + cfg.timeout_s <= now for at in waiting):
            self._done = True
        return []

    def on_sent(self, request: ProbeRequest, now: float) -> None:
        """``request`` left."""
        self._sent_at[request.key] = now
        self.probes_sent += 1

    def on_outcome(self, key: int, outcome: Outcome, now: float) -> None:
        """A SYN-ACK or RST proves the host answers on that port."""
        self._closed.add(key)
        if isinstance(outcome, Reply):
            self._answered.add(self._port_of[key])
        if len(self._closed) == len(self._port_of):
            self._done = True

    def wake_at(self) -> float | None:
        """When the SYNs time out."""
        waiting = [at for k, at in self._sent_at.items() if k not in self._closed]
        return max(waiting) + self.config.timeout_s if waiting else None

    def result(self) -> int | None:
        """The first candidate that answered, or None."""
        return next((p for p in self.config.ports if p in self._answered), None)
