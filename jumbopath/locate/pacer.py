"""A model of routers' ICMP error budgets, shared by every localizer of one run."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class HopPacer:
    """A model of each router's ICMP error token bucket, shared by the localizers of one run.

    Linux allows a burst of ``burst`` errors toward one destination, then
    refills one token every ``1 / rate_per_s`` seconds (``icmp_ratelimit``,
    1000 ms by default; IPv6 refills faster on wide prefixes, so this is the
    cautious side). Buckets are keyed by *slot*: the family and TTL a router
    sits at, as seen from this host (paths toward many targets share their
    first routers at the same TTLs, and a slot has a key before its router has
    answered). A slot is charged for every probe sent to it, refunded when the
    answer shows no router spent a token (the target answered, or a big probe
    never got there), and emptied when a control probe to it goes unanswered.
    """

    burst: float = 6.0
    """Tokens a rested router has."""
    rate_per_s: float = 1.0
    """Tokens regained per second."""
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def tokens(self, slot: str, now: float) -> float:
        """Tokens the router at ``slot`` is believed to have at ``now``."""
        tokens, stamp = self._buckets.get(slot, (self.burst, now))
        return min(self.burst, tokens + max(0.0, now - stamp) * self.rate_per_s)

    def charge(self, slot: str, now: float, count: float = 1.0) -> None:
        """The router at ``slot`` spent (or is about to spend) ``count`` tokens."""
        self._buckets[slot] = (self.tokens(slot, now) - count, now)

    def refund(self, slot: str, now: float, count: float = 1.0) -> None:
        """A probe charged to ``slot`` turned out not to cost its router a token."""
        self._buckets[slot] = (min(self.burst, self.tokens(slot, now) + count), now)

    def drain(self, slot: str, now: float) -> None:
        """The router at ``slot`` went quiet: its bucket is empty now."""
        self._buckets[slot] = (0.0, now)

    def ready_at(self, slot: str, now: float, need: float = 1.0) -> float:
        """Earliest time the router at ``slot`` has ``need`` tokens."""
        have = self.tokens(slot, now)
        if have >= need:
            return now
        return now + (need - have) / self.rate_per_s
