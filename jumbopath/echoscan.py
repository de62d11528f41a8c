"""An echo search that looks for a TCP port while echo stays silent: a pure planner.

A host that drops echo requests looks, to the echo search, like a host still
resolving its neighbour: the search waits
:attr:`~jumbopath.search.SearchConfig.unreachable_min_s` (3 s) before calling
it unreachable, and only then does the fallback stage look for a TCP port.
:class:`EchoOrPort` starts that port scan beside the search once echo has
been silent for :data:`SCAN_AFTER_S`. The first SYN-ACK or RST proves the
path and the host alive, so the silence is the host's filter, not the path:
the search ends then as unreachable by echo (once as many control probes
were lost as the one rule wants) and the fallback stage measures over that
port. A scan that finds nothing changes nothing.

Keys: the search keeps its own; the scan's are offset by :data:`SCAN_KEYS`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from jumbopath.model import Outcome, ProbeRequest
from jumbopath.portscan import PortScan, PortScanConfig
from jumbopath.search import MtuSearch

#: Echo silence after which the port scan starts, seconds.
SCAN_AFTER_S = 0.5
#: Offset of the scan's probe keys (the search's stay below it).
SCAN_KEYS = 1 << 24


@dataclass
class EchoOrPort:
    """An ICMP :class:`MtuSearch`, and a :class:`PortScan` started while it hears nothing."""

    search: MtuSearch
    """The echo search (its verdict is the job's verdict)."""
    scan_after_s: float = SCAN_AFTER_S
    """Echo silence before the scan starts."""
    scan: PortScan | None = None
    """The scan, once started."""
    _started: float | None = None

    @property
    def done(self) -> bool:
        """The search's verdict is in (the scan may cut its wait short)."""
        return self.search.done

    @property
    def port(self) -> int | None:
        """The TCP port the host answered on while echo stayed silent, if any."""
        if self.scan is None or self.search.answered:
            return None
        return self.scan.result()

    def poll(self, now: float) -> list[ProbeRequest]:
        """The search's probes; the scan's once echo has been silent long enough."""
        if self._started is None:
            self._started = now
        out = list(self.search.poll(now))
        if not self.search.done and self.port is not None:
            self.search.conclude_silent(now)  # its controls may have been lost since
        if self.search.done:
            return []
        if self.scan is None and self._silent_since(now):
            self.scan = PortScan(PortScanConfig(self.search.config.family))
        if self.scan is not None and not self.scan.done:
            out += [_shift(r, SCAN_KEYS) for r in self.scan.poll(now)]
        return out

    def _silent_since(self, now: float) -> bool:
        assert self._started is not None
        return not self.search.answered and now >= self._started + self.scan_after_s

    def on_sent(self, request: ProbeRequest, now: float) -> None:
        """``request`` left."""
        if request.key >= SCAN_KEYS:
            assert self.scan is not None
            self.scan.on_sent(_shift(request, -SCAN_KEYS), now)
        else:
            self.search.on_sent(request, now)

    def on_outcome(self, key: int, outcome: Outcome, now: float) -> None:
        """What became of probe ``key``."""
        if key >= SCAN_KEYS:
            if self.scan is not None:
                self.scan.on_outcome(key - SCAN_KEYS, outcome, now)
                if self.port is not None:  # any answer proves the host alive
                    self.search.conclude_silent(now)
        else:
            self.search.on_outcome(key, outcome, now)

    def void(self, key: int, now: float) -> None:
        """A probe this host dropped: the search plans it again; the scan's is lost."""
        if key < SCAN_KEYS:
            self.search.void(key, now)

    def wake_at(self) -> float | None:
        """The search's wake-up, the scan's, and when the scan is due."""
        times = [self.search.wake_at()]
        if self.scan is not None:
            times.append(self.scan.wake_at())
        elif self._started is not None and not self.search.answered:
            times.append(self._started + self.scan_after_s)
        found = [t for t in times if t is not None]
        return min(found) if found else None


def _shift(request: ProbeRequest, by: int) -> ProbeRequest:
    return replace(request, key=request.key + by)
