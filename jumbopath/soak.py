"""Loss that only hits big frames: a pure planner for a sequential soak at the path MTU.

A bad optic, a dirty fibre or CRC errors at jumbo size drop a few percent
of long frames while every small ping passes and the MTU search succeeds
(its confirmations only need *some* big probes through). The soak sends
pairs of echo probes, one at the path MTU and one small, paced evenly (so
that self-inflicted queueing hits both alike), and compares their loss.

The test is Wald's sequential probability ratio test for a double dichotomy
(A. Wald, *Sequential Analysis*, Wiley 1947, chapter 6: comparing two
binomial probabilities by the odds ratio). Only *unlike* pairs carry
evidence: given that exactly one probe of a pair was lost, the chance it was
the big one is ``u / (1 + u)`` where ``u`` is the odds ratio of big to small
loss, whatever the loss rate of the path (which may even drift over time).
If big and small are lost alike, ``u = 1`` and each unlike pair is a fair
coin. The test weighs ``u = 1`` against ``u = odds_ratio`` (10 by default:
1% of big frames lost where 0.1% of small ones are) and, after every judged
pair, looks at the log likelihood ratio:

- at or above ``log(1 / error_rate)``: *degraded* (stop). The likelihood
  ratio is a nonnegative martingale when big and small are lost alike, so
  by Ville's inequality the chance it *ever* gets there, however the soak
  stops, is at most ``error_rate`` (1e-3 by default): the false alarm rate;
- at or below ``log(miss_rate / (1 - error_rate))``: big and small are lost
  alike (stop). At ``u = odds_ratio`` this happens with chance at most about
  ``miss_rate`` (Wald's approximation; 1% by default);
- otherwise, when the big probes judged so far bound big-frame loss below
  ``clean_loss`` (1%) at ``clean_confidence`` (99%; an exact binomial bound,
  so at least 459 pairs with none lost, 662 with one) the path is *clean*
  (stop early);
- else the next pair, until ``pairs`` pairs or ``max_time_s`` (not proven).

Big loss at 2% with no small loss needs 12 unlike pairs: about 600 pairs on
average. Measured in the lab (``bench/soak_bench.py``; the README has the
figures) and in :mod:`tests.unit.test_flows_soak` on simulated paths.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from jumbopath.model import Outcome, ProbeRequest, Reply, SoakLoss, SoakStop
from jumbopath.sizes import CONTROL_SIZE

#: Time between pairs: paced evenly, so self-inflicted queueing hits big and small alike.
#: At 9000 bytes that is about 73 Mbit/s while the soak lasts.
SPACING_S = 0.001


@dataclass(frozen=True, slots=True)
class SoakConfig:
    """One soak."""

    family: int
    """4 or 6."""
    size: int
    """The big size (the path MTU)."""
    pairs: int = 1000
    """At most this many big and small probe pairs."""
    spacing_s: float = SPACING_S
    """Time between pairs."""
    timeout_s: float = 0.3
    """Wait for an answer."""
    error_rate: float = 1e-3
    """Bound on the chance of calling a path degraded when big and small are lost alike."""
    miss_rate: float = 0.01
    """Wald's second error: chance of calling loss alike when it differs by ``odds_ratio``."""
    odds_ratio: float = 10.0
    """The odds ratio of big to small loss the test is tuned to catch."""
    clean_loss: float = 0.01
    """Big-frame loss below which a path with few big losses stops early as clean."""
    clean_confidence: float = 0.99
    """Confidence of that bound."""
    max_time_s: float = 1.2
    """Hard bound on time."""


@dataclass(frozen=True, slots=True)
class SoakResult:
    """What the soak saw."""

    loss: SoakLoss
    """Both losses, their counts and the verdict."""
    elapsed_s: float
    """From the first probe to the verdict."""


def paced(family: int, size: int, pairs: int, timeout_s: float) -> SoakConfig:
    """A soak of at most ``pairs`` pairs, given the time to send them all and hear the
    last (with room for a sender slower than the spacing)."""
    bound = max(1.2, pairs * SPACING_S * 2 + timeout_s + 0.2)
    return SoakConfig(family, size, pairs, timeout_s=timeout_s, max_time_s=bound)


def unlike_steps(odds_ratio: float) -> tuple[float, float]:
    """Log likelihood ratio steps of an unlike pair: (big lost alone, small lost alone)."""
    if odds_ratio <= 1:
        raise ValueError(f"odds_ratio must be above 1, not {odds_ratio}")
    big = odds_ratio / (1 + odds_ratio)
    return math.log(2 * big), math.log(2 * (1 - big))


def wald_bounds(error_rate: float, miss_rate: float) -> tuple[float, float]:
    """The test's (lower, upper) bounds on the log likelihood ratio."""
    if not 0 < error_rate < 1 or not 0 < miss_rate < 1:
        raise ValueError(f"error rates must be between 0 and 1: {error_rate}, {miss_rate}")
    return math.log(miss_rate / (1 - error_rate)), math.log(1 / error_rate)


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(at most ``k`` of ``n`` independent events of chance ``p``)."""
    if k >= n:
        return 1.0
    if p <= 0:
        return 1.0
    if p >= 1:
        return 0.0
    term = (1 - p) ** n
    total = term
    for i in range(k):
        term *= (n - i) / (i + 1) * p / (1 - p)
        total += term
    return min(1.0, total)


def judge(config: SoakConfig, llr: float, big_lost: int, pairs: int) -> SoakStop | None:
    """The sequential test's decision after ``pairs`` judged pairs, or None (go on)."""
    lower, upper = wald_bounds(config.error_rate, config.miss_rate)
    if llr >= upper:
        return SoakStop.BIG_LOSS
    if llr <= lower:
        return SoakStop.ALIKE
    if binomial_cdf(big_lost, pairs, config.clean_loss) < 1 - config.clean_confidence:
        return SoakStop.CLEAN
    return None


@dataclass
class Soak:
    """Sends the pairs paced and judges each as it completes. Same planner protocol
    as the search."""

    config: SoakConfig
    _pending: dict[int, tuple[int, bool, float | None]] = field(default_factory=dict)
    """Probe key: (pair, big, sent at)."""
    _pairs: dict[int, list[bool | None]] = field(default_factory=dict)
    """Pair: [big lost, small lost], None until known."""
    _next_key: int = 0
    _pairs_sent: int = 0
    _next_at: float | None = None
    _started: float | None = None
    _last: float = 0.0
    _done: bool = False
    probes_sent: int = 0
    """Probes that left."""
    stop: SoakStop | None = None
    llr: float = 0.0
    """Log likelihood ratio of big-frame loss against loss alike."""
    max_llr: float = 0.0
    judged: int = 0
    big_lost: int = 0
    small_lost: int = 0
    big_only: int = 0
    small_only: int = 0

    @property
    def done(self) -> bool:
        """True once the test decided, or every pair is judged, or time is up."""
        return self._done

    def poll(self, now: float) -> list[ProbeRequest]:
        """Expire, then the next pair when its time has come."""
        cfg = self.config
        if self._started is None:
            self._started = self._next_at = now
        for key in self._expired(now):
            self._settle(key, True, now)
        late = now >= self._started + cfg.max_time_s
        if self.stop is not None or late or self._pairs_sent >= cfg.pairs:
            self._done = self.stop is not None or late or not self._pending
            return []
        assert self._next_at is not None
        if now < self._next_at:
            return []
        self._next_at = now + cfg.spacing_s
        pair = self._pairs_sent
        self._pairs_sent += 1
        self._pairs[pair] = [None, None]
        small = CONTROL_SIZE[cfg.family]
        return [self._request(pair, cfg.size, True), self._request(pair, small, False)]

    def _expired(self, now: float) -> list[int]:
        """Probes past their timeout, oldest first (probes leave in key order)."""
        out = []
        for key, (_, _, at) in self._pending.items():
            if at is None or at + self.config.timeout_s > now:
                break
            out.append(key)
        return out

    def _request(self, pair: int, size: int, big: bool) -> ProbeRequest:
        key = self._next_key
        self._next_key += 1
        self._pending[key] = (pair, big, None)
        return ProbeRequest(key, size)

    def on_sent(self, request: ProbeRequest, now: float) -> None:
        """``request`` left."""
        pair, big, _ = self._pending[request.key]
        self._pending[request.key] = (pair, big, now)
        self.probes_sent += 1

    def on_outcome(self, key: int, outcome: Outcome, now: float) -> None:
        """An echo reply answers; anything else counts as lost."""
        if key in self._pending:
            self._settle(key, not isinstance(outcome, Reply), now)

    def void(self, key: int, now: float) -> None:
        """This host dropped the answer (or the probe never left): its pair says nothing."""
        hit = self._pending.pop(key, None)
        if hit is not None:
            self._pairs.pop(hit[0], None)
            for other, (pair, _, _) in list(self._pending.items()):
                if pair == hit[0]:
                    del self._pending[other]

    def _settle(self, key: int, lost: bool, now: float) -> None:
        """Probe ``key`` answered or lost; a complete pair goes to the test."""
        pair, big, _ = self._pending.pop(key)
        state = self._pairs.get(pair)
        if state is None:
            return
        state[0 if big else 1] = lost
        big_lost, small_lost = state
        if big_lost is None or small_lost is None or self.stop is not None:
            return
        del self._pairs[pair]
        self._last = max(self._last, now)
        self.judged += 1
        self.big_lost += big_lost
        self.small_lost += small_lost
        if big_lost != small_lost:
            on_big, on_small = unlike_steps(self.config.odds_ratio)
            self.big_only += big_lost
            self.small_only += small_lost
            self.llr += on_big if big_lost else on_small
            self.max_llr = max(self.max_llr, self.llr)
        self.stop = judge(self.config, self.llr, self.big_lost, self.judged)
        if self.stop is not None:
            self._done = True

    def wake_at(self) -> float | None:
        """The next pair's time, or the oldest probe's timeout."""
        oldest = next(iter(self._pending.values()), None)
        times = [oldest[2] + self.config.timeout_s] if oldest and oldest[2] is not None else []
        if self._next_at is not None and self._pairs_sent < self.config.pairs:
            times.append(self._next_at)
        if self._started is not None:
            times.append(self._started + self.config.max_time_s)
        return min(times) if times else None

    def abandon(self, now: float) -> SoakResult:
        """The verdict. Pairs still in flight are not judged (neither lost nor answered)."""
        self._done = True
        self._pending.clear()
        self._pairs.clear()
        stop = self.stop if self.stop is not None else SoakStop.LIMIT
        loss = SoakLoss(
            size=self.config.size,
            big_sent=self.judged,
            big_lost=self.big_lost,
            small_sent=self.judged,
            small_lost=self.small_lost,
            p_value=float(f"{min(1.0, math.exp(-self.max_llr)):.3g}"),
            degraded=stop is SoakStop.BIG_LOSS,
            big_only=self.big_only,
            small_only=self.small_only,
            stop=stop,
        )
        started = self._started if self._started is not None else now
        return SoakResult(loss, round(max(self._last, started) - started, 4))
