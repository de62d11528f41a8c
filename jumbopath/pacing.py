"""How much the engine lets be in flight: a pure policy that `drive()` consults.

No sockets, no sleeping, no clock: time arrives as ``now=``. The engine asks
:meth:`Pacer.admit` before it lets a planner send, tells it what left
(:meth:`Pacer.sent`) and what came back (:meth:`Pacer.answered`).

Why it exists: every probe is answered by a packet of the same size, and a
check of hundreds of targets would otherwise send thousands of 9000-byte
probes at once. Their answers then overflow this host's receive buffer (and
NIC rings, and queues on the way), and the probes that caused them look
lost: loss the run inflicted on itself, which the search would have to rule
out before it may believe a silent size. Three bounds keep that from
happening:

* **Bytes in flight** (sent, not answered, not yet given up on), counted the
  way the kernel charges a receive buffer: a packet costs more than its
  length (``overhead`` per packet, ``size_factor`` per byte). The bound is a
  share of the receive buffer the prober actually got, so answers can never
  fill it, whatever ``net.core.rmem_max`` allowed.
* **Packets in flight**, for the per-packet queues (a NIC's ring, the
  kernel's input backlog of 1000 packets).
* **First contact.** A target never probed before may need its neighbour
  (ARP/ND) entry resolved, by this host or by the last router; while that
  happens the kernel queues only a few packets per destination and a burst
  of resolutions to hundreds of hosts overflows its queues. At most
  ``first_contacts`` targets may be waiting for their first answer at once.

Fairness: a target with nothing in flight is admitted whenever there is room;
a target that already has probes out is admitted only while it holds less
than an equal share of the bound, so one target's big probes never starve
the others. (The engine also rotates the order in which it asks.)

A probe that is never answered stops counting after ``hold_s``: silence is
the search's business, the pacer only needs to know the packet will not
arrive any more.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

#: A share of the receive buffer left for answers in flight; the rest is
#: slack for other traffic the raw socket sees and for reading late.
BUFFER_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class PacingConfig:
    """The bounds of one :class:`Pacer`."""

    max_bytes: int
    """Bytes in flight (as charged, see ``size_factor``), all targets together."""
    max_packets: int = 512
    """Probes in flight, all targets together."""
    first_contacts: int = 64
    """Targets sent to but not answered yet (first contact), at once."""
    contact_burst: int = 1024
    """Targets that may be contacted for the first time in one go (a rested bucket)."""
    contact_rate_per_s: float = 400.0
    """New targets contacted per second after the burst: a router resolves each
    new host's link-layer address (ARP/ND) while it queues only a few packets
    for it, and a Linux router cannot recycle a neighbour entry younger than
    5 s once it holds ``gc_thresh3`` (1024 by default) of them."""
    hold_s: float = 1.0
    """An unanswered probe stops counting as in flight after this long."""
    size_factor: float = 2.0
    """Buffer bytes charged per byte of a packet (the kernel charges its buffers, not bytes)."""
    overhead: int = 512
    """Buffer bytes charged per packet besides its size."""

    @classmethod
    def for_buffer(cls, buffer_bytes: int) -> PacingConfig:
        """Bounds for a receive buffer of ``buffer_bytes`` (what the socket got)."""
        return cls(max_bytes=max(int(buffer_bytes * BUFFER_SHARE), 1))


@dataclass(slots=True)
class _Flight:
    who: Hashable
    charge: int
    sent_at: float


@dataclass
class Pacer:
    """Bytes and packets in flight, and first contacts; see the module docstring."""

    config: PacingConfig
    _flights: dict[int, _Flight] = field(default_factory=dict)
    _by_who: dict[Hashable, int] = field(default_factory=dict)  # charged bytes per sender
    _bytes: int = 0
    _contact: dict[Hashable, float] = field(default_factory=dict)  # first send, no answer yet
    _known: set[Hashable] = field(default_factory=set)  # answered once, or given up on
    _tokens: float | None = None  # first contacts allowed now (a token bucket)
    _stamp: float = 0.0

    def charge(self, size: int) -> int:
        """Buffer bytes one probe of ``size`` bytes is charged."""
        return int(size * self.config.size_factor) + self.config.overhead

    @property
    def bytes_in_flight(self) -> int:
        """Charged bytes of the probes in flight."""
        return self._bytes

    @property
    def packets_in_flight(self) -> int:
        """Probes in flight."""
        return len(self._flights)

    def held_by(self, who: Hashable) -> int:
        """Charged bytes ``who`` has in flight."""
        return self._by_who.get(who, 0)

    # ---------------------------------------------------------------- events

    def sent(self, token: int, who: Hashable, size: int, now: float) -> None:
        """Probe ``token`` of ``size`` bytes left for ``who`` at ``now``."""
        charge = self.charge(size)
        self._flights[token] = _Flight(who, charge, now)
        self._by_who[who] = self._by_who.get(who, 0) + charge
        self._bytes += charge
        if who not in self._known and who not in self._contact:
            self._contact[who] = now
            self._tokens = self._contacts_allowed(now) - 1
            self._stamp = now

    def answered(self, token: int, now: float) -> None:
        """Something came back for ``token`` (or it was voided): it is no longer in flight."""
        flight = self._flights.get(token)
        if flight is None:
            return
        self._release(token, flight)
        self._contact.pop(flight.who, None)
        self._known.add(flight.who)

    def expire(self, now: float) -> None:
        """Stop counting probes unanswered for ``hold_s``, and first contacts as old."""
        hold = self.config.hold_s
        for token, flight in list(self._flights.items()):
            if flight.sent_at + hold <= now:
                self._release(token, flight)
        for who, since in list(self._contact.items()):
            if since + hold <= now:
                del self._contact[who]
                self._known.add(who)

    def _release(self, token: int, flight: _Flight) -> None:
        del self._flights[token]
        self._bytes -= flight.charge
        left = self._by_who[flight.who] - flight.charge
        if left:
            self._by_who[flight.who] = left
        else:
            del self._by_who[flight.who]

    # -------------------------------------------------------------- decisions

    def admit(self, who: Hashable, now: float, senders: int = 1) -> bool:
        """May ``who`` send now? ``senders`` is how many targets share the bounds."""
        cfg = self.config
        if self._bytes >= cfg.max_bytes or len(self._flights) >= cfg.max_packets:
            return False
        if who not in self._known and who not in self._contact:
            # The contact due at next_change() may be a rounding error short of whole.
            allowed = self._contacts_allowed(now) + 1e-9
            return len(self._contact) < cfg.first_contacts and allowed >= 1
        held = self._by_who.get(who, 0)
        return held == 0 or held < cfg.max_bytes / max(senders, 1)

    def _contacts_allowed(self, now: float) -> float:
        cfg = self.config
        if self._tokens is None:
            return float(cfg.contact_burst)
        grown = self._tokens + max(0.0, now - self._stamp) * cfg.contact_rate_per_s
        return min(float(cfg.contact_burst), grown)

    def next_change(self, now: float) -> float | None:
        """When admission may change by itself: the oldest probe or first contact stops
        counting, or the next first contact is allowed (None if nothing is pending)."""
        times = [f.sent_at + self.config.hold_s for f in self._flights.values()]
        times += [t + self.config.hold_s for t in self._contact.values()]
        have = self._contacts_allowed(now)
        if have < 1:
            times.append(now + (1 - have) / self.config.contact_rate_per_s)
        return min(times) if times else None
