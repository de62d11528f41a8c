"""The path MTU search: a pure object that proposes probes and consumes outcomes.

No sockets, no sleeping, no clock: time arrives as ``now=`` (seconds, any
monotonic origin). The engine drives it; unit tests drive it against a
simulated path.

How it decides (packetization-layer style probing, RFC 4821 / RFC 8899,
with ICMP used only as a hint that is validated, RFC 1191 / RFC 8201):

* Evidence is kept per probe size. An echo reply proves that its size
  passes (and so does every smaller size). A "too big" from a router whose
  next-hop MTU is below the probe size, or the local kernel refusing the
  send (EMSGSIZE), proves that a size does not pass. Silence proves
  nothing by itself: it may be loss.
* ``L`` is the largest size that got a reply; ``U`` the smallest size above
  ``L`` that was refused or stayed silent. Each round probes a few sizes
  between them, the common MTU plateaus and reported next-hop MTUs first,
  then evenly spaced splits, until ``U = L + 1``.
* Planning does not wait for the full timeout: a probe unanswered after a
  few round-trip times is *presumed* lost for choosing the next sizes. A
  late reply simply raises ``L`` again, so a wrong presumption costs probes,
  never a wrong verdict.
* The verdict does wait. A silent boundary is accepted only after enough
  probes at ``U`` timed out that, at the loss rate measured on sizes known
  to pass (small control probes run alongside), the chance they were all
  lost by accident is below ``error_rate``. Loss is never read as a small
  MTU.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jumbopath.confirm import loss_estimate, silences_needed
from jumbopath.model import (
    Evidence,
    LocalRefused,
    Lost,
    Outcome,
    ProbeRequest,
    Protocol,
    Reply,
    TimeExceeded,
    TooBig,
    Unreach,
    Unreachable,
)
from jumbopath.sizes import CONTROL_SIZE, FIRST_GUESSES, LOW_PLATEAUS, MIN_MTU


@dataclass(frozen=True, slots=True)
class SearchConfig:
    """Knobs of one search. Defaults suit a LAN or a data-centre fabric."""

    family: int
    """4 or 6."""
    max_size: int
    """Egress interface MTU: no probe is larger, except one at ``expected``."""
    expected: int | None = None
    """The MTU the path should carry; probed in the first round."""
    splits: int = 4
    """Sizes per narrowing round."""
    error_rate: float = 1e-6
    """Accepted chance that a silent boundary is really loss."""
    timeout_floor_s: float = 0.1
    """Shortest time to wait for an answer before a probe counts as lost."""
    presume_floor_s: float = 0.004
    """Shortest time before an unanswered probe is presumed lost for planning."""
    max_probes: int = 400
    """Hard bound on probes for this target."""
    max_time_s: float = 5.0
    """Hard bound on probing time for this target."""
    unreachable_after: int = 10
    """Lost control probes (and no answer at all) that make a target unreachable."""
    unreachable_min_s: float = 3.0
    """Silence that makes a target unreachable lasts at least this long: a router
    resolving a new neighbour tries 3 times, 1 s apart (ARP/ND), and drops what
    queues meanwhile; a host that answers late is not "unreachable"."""
    control_gap_s: float = 0.5
    """While waiting out ``unreachable_min_s``: one control probe this often."""
    confirm_burst: int = 4
    """Probes per confirmation round once loss has been seen."""
    protocol: Protocol = Protocol.ICMP
    """What the probes are: ICMP echo (tests both ways), or UDP/TCP (the forward
    path alone: their answers are small)."""
    flow: int | None = None
    """UDP/TCP source port: every probe of the search on one flow."""
    port: int | None = None
    """UDP/TCP destination port."""


@dataclass(slots=True)
class _Tally:
    replies: int = 0
    lost: int = 0
    refused: int = 0
    too_big: int = 0
    too_big_mtu: int | None = None
    reporter: str | None = None
    unreachable: int = 0
    unreachable_code: Unreach | None = None


@dataclass(slots=True)
class _InFlight:
    size: int
    sent_at: float
    control: bool


@dataclass(slots=True)
class SearchResult:
    """What a finished (or abandoned) search knows."""

    path_mtu: int | None
    """Exact path MTU, or None when the target never answered."""
    reachable: bool
    """Whether anything came back from the target at all."""
    conclusive: bool
    """False when the bounds on probes or time ended the search first."""
    unreachable: Unreach | None
    """Which kind, when a router or the target said unreachable."""
    loss: float
    """Fraction of probes of passing sizes that got no answer."""
    probes_sent: int
    """Probes sent (local refusals excluded)."""
    elapsed_s: float
    """From the first probe to the verdict."""
    evidence: tuple[Evidence, ...]
    """Per size, what was seen."""
    ignored_icmp: int
    """ICMP errors that did not fit a probe in flight."""
    limited_by: str | None
    """"local" when the local interface refused, "ptb" when a router reported, else None."""


@dataclass
class MtuSearch:
    """Finds the exact path MTU toward one target. See the module docstring."""

    config: SearchConfig
    _tally: dict[int, _Tally] = field(default_factory=dict)
    _inflight: dict[int, _InFlight] = field(default_factory=dict)
    _done_keys: set[int] = field(default_factory=set)
    _next_key: int = 0
    _sent: int = 0
    _started: float | None = None
    _finished: float | None = None
    _srtt: float | None = None
    _rttvar: float = 0.0
    _hints: set[int] = field(default_factory=set)
    _ignored: int = 0
    _control_lost: int = 0
    _control_sent: int = 0
    _last_control: float | None = None
    _result: SearchResult | None = None
    _last_poll: float = float("-inf")

    # ------------------------------------------------------------------ timing

    def timeout_s(self) -> float:
        """How long to wait before an unanswered probe counts as lost (RFC 6298 style)."""
        if self._srtt is None:
            return max(self.config.timeout_floor_s, 0.5)
        return max(self.config.timeout_floor_s, self._srtt + 4 * self._rttvar)

    def _presume_s(self) -> float:
        if self._srtt is None:
            return max(self.config.presume_floor_s, 0.05)
        return max(self.config.presume_floor_s, 3 * self._srtt + 4 * self._rttvar)

    def _observe_rtt(self, rtt_s: float) -> None:
        if self._srtt is None:
            self._srtt, self._rttvar = rtt_s, rtt_s / 2
        else:
            self._rttvar = 0.75 * self._rttvar + 0.25 * abs(self._srtt - rtt_s)
            self._srtt = 0.875 * self._srtt + 0.125 * rtt_s

    def wake_at(self) -> float | None:
        """When the engine should call :meth:`poll` again even if nothing arrives."""
        if self.done:
            return None
        if not self._inflight:
            return self._next_control_at()
        presume, final = self._presume_s(), self.timeout_s()
        times = []
        for f in self._inflight.values():
            times.append(f.sent_at + final)
            if f.sent_at + presume > self._last_poll:
                times.append(f.sent_at + presume)
        assert self._started is not None
        times.append(self._started + self.config.max_time_s)
        return min(times)

    # --------------------------------------------------------------- evidence

    @property
    def done(self) -> bool:
        """True once the verdict is in (see :meth:`result`)."""
        return self._result is not None

    def _t(self, size: int) -> _Tally:
        tally = self._tally.get(size)
        if tally is None:
            tally = self._tally[size] = _Tally()
        return tally

    def _lower(self) -> int | None:
        passing = [s for s, t in self._tally.items() if t.replies]
        return max(passing) if passing else None

    def _hard_upper(self) -> int | None:
        refused = [s for s, t in self._tally.items() if t.refused or t.too_big]
        return min(refused) if refused else None

    def _upper(self, now: float, low: int) -> tuple[int, bool]:
        """Smallest size above ``low`` known or presumed too big, and whether it is proven."""
        hard = self._hard_upper()
        presume = self._presume_s()
        candidates = {s for s, t in self._tally.items() if s > low and (t.lost or t.unreachable)}
        candidates |= {
            f.size for f in self._inflight.values() if f.size > low and f.sent_at + presume <= now
        }
        soft = min(candidates) if candidates else None
        limit = self.config.max_size + 1
        best = min(x for x in (hard, soft, limit) if x is not None)
        return best, (hard is not None and best == hard) or best == limit

    def loss_estimate(self) -> float:
        """Laplace estimate of the round-trip loss rate on sizes known to pass."""
        low = self._lower()
        sent = lost = 0
        for size, t in self._tally.items():
            if low is not None and size <= low:
                sent += t.replies + t.lost
                lost += t.lost
        lost += self._control_lost if low is None else 0
        sent += self._control_sent if low is None else 0
        return loss_estimate(lost, max(sent, lost))

    def _loss_seen(self) -> float:
        low = self._lower()
        if low is None:
            return 1.0
        sent = sum(t.replies + t.lost for s, t in self._tally.items() if s <= low)
        lost = sum(t.lost for s, t in self._tally.items() if s <= low)
        return lost / sent if sent else 0.0

    def _silence_needed(self) -> int:
        # The one rule (jumbopath.confirm); never fewer than two silences.
        return silences_needed(self.loss_estimate(), self.config.error_rate, floor=2)

    # --------------------------------------------------------------- the loop

    def poll(self, now: float) -> list[ProbeRequest]:
        """Expire old probes, decide if done, and return the probes to send now."""
        if self._started is None:
            self._started = now
        self._last_poll = now
        if self.done:
            return []
        final = self.timeout_s()
        for key, f in list(self._inflight.items()):
            if f.sent_at + final <= now:
                self._record(key, Lost(), now)
        self._decide(now)
        if self.done:
            return []
        return self._plan(now)

    def on_sent(self, request: ProbeRequest, now: float) -> None:
        """The engine sent ``request`` at ``now``."""
        if self._started is None:
            self._started = now
        self._sent += 1
        self._pending_sizes.pop(request.key, None)
        self._inflight[request.key] = _InFlight(request.size, now, request.key in self._controls)

    def on_outcome(self, key: int, outcome: Outcome, now: float) -> None:
        """An outcome for probe ``key`` (a refusal may arrive before :meth:`on_sent`)."""
        if isinstance(outcome, LocalRefused):
            size = self._pending_sizes.pop(key)
            t = self._t(size)
            t.refused += 1
            t.too_big_mtu = outcome.mtu
            self._done_keys.add(key)
            return
        if key in self._done_keys:
            # Already counted as lost. A late echo reply is still proof that
            # its size passes; a late ICMP error is not in flight any more and
            # is not believed (RFC 5927).
            if isinstance(outcome, Reply) and key in self._lost_sizes:
                t = self._t(self._lost_sizes.pop(key))
                t.lost -= 1
                t.replies += 1
                if not self.done:
                    self._decide(now)
            elif not isinstance(outcome, Reply):
                self._ignored += 1
            return
        if key not in self._inflight:
            self._ignored += 1
            return
        self._record(key, outcome, now)
        if not self.done:
            self._decide(now)

    def void(self, key: int, now: float) -> None:
        """Forget probe ``key``: this host dropped its answer or it never left.

        Its fate says nothing about the path, so it counts neither as an
        answer nor as a silence (self-inflicted loss is never evidence); the
        size is simply planned again.
        """
        self._inflight.pop(key, None)
        self._done_keys.add(key)
        size = self._lost_sizes.pop(key, None)
        if size is not None:
            self._t(size).lost -= 1
            if key in self._controls and self._control_lost:
                self._control_lost -= 1

    def _record(self, key: int, outcome: Outcome, now: float) -> None:
        f = self._inflight.pop(key)
        self._done_keys.add(key)
        t = self._t(f.size)
        if isinstance(outcome, Reply):
            t.replies += 1
            self._observe_rtt(outcome.rtt_ms / 1000)
        elif isinstance(outcome, TooBig):
            if outcome.mtu >= f.size or outcome.mtu < MIN_MTU[self.config.family]:
                # Impossible claim: a router cannot need less than the
                # minimum MTU nor refuse a packet that fits (RFC 5927 4.1).
                self._ignored += 1
                t.lost += 1
                self._lost_sizes[key] = f.size
            else:
                t.too_big += 1
                t.too_big_mtu = outcome.mtu
                t.reporter = outcome.reporter
                self._hints.add(outcome.mtu)
                self._observe_rtt(outcome.rtt_ms / 1000)
        elif isinstance(outcome, Unreachable):
            t.unreachable += 1
            t.unreachable_code = outcome.code
            t.reporter = outcome.reporter
        elif isinstance(outcome, TimeExceeded):
            # A search probe carries the default TTL; a loop or a very long
            # path. Count it as an answer that says nothing about size.
            t.lost += 1
            self._lost_sizes[key] = f.size
        else:
            t.lost += 1
            self._lost_sizes[key] = f.size
            if f.control:
                self._control_lost += 1

    # ---------------------------------------------------------------- deciding

    def _decide(self, now: float) -> None:
        assert self._started is not None
        cfg = self.config
        low = self._lower()
        out_of_budget = self._sent >= cfg.max_probes or now >= self._started + cfg.max_time_s
        if low is None:
            unreachable = [t for t in self._tally.values() if t.unreachable]
            hard = self._hard_upper()
            lost_controls = self._control_lost
            if unreachable and not self._inflight:
                self._finish(now, None, conclusive=True, reason=unreachable[0].unreachable_code)
            elif (
                lost_controls >= cfg.unreachable_after
                and not self._inflight
                and now >= self._started + cfg.unreachable_min_s
                or hard is not None
                and hard <= CONTROL_SIZE[cfg.family]
                and not self._inflight
            ):
                self._finish(now, None, conclusive=True)
            elif out_of_budget:
                self._finish(now, None, conclusive=False)
            return
        if low >= cfg.max_size:
            self._finish(now, low, conclusive=True)
            return
        hard = self._hard_upper()
        if hard is not None and hard == low + 1:
            self._finish(now, low, conclusive=True)
            return
        t = self._tally.get(low + 1)
        if t is not None and not t.replies and t.lost >= self._silence_needed():
            self._finish(now, low, conclusive=True)
            return
        if out_of_budget:
            self._finish(now, low, conclusive=False)

    def _finish(
        self, now: float, mtu: int | None, *, conclusive: bool, reason: Unreach | None = None
    ) -> None:
        assert self._started is not None
        limited_by = None
        if mtu is not None:
            t = self._tally.get(mtu + 1)
            if t is not None and t.refused:
                limited_by = "local"
            elif t is not None and t.too_big:
                limited_by = "ptb"
        if reason is None:
            reasons = [t.unreachable_code for t in self._tally.values() if t.unreachable_code]
            reason = reasons[0] if reasons and mtu is None else None
        self._finished = now
        self._result = SearchResult(
            path_mtu=mtu,
            reachable=mtu is not None,
            conclusive=conclusive,
            unreachable=reason,
            loss=round(self._loss_seen(), 4) if mtu is not None else 1.0,
            probes_sent=self._sent,
            elapsed_s=round(now - self._started, 4),
            evidence=self._evidence(),
            ignored_icmp=self._ignored,
            limited_by=limited_by,
        )

    def result(self) -> SearchResult:
        """The verdict; only valid once :attr:`done`."""
        if self._result is None:
            raise RuntimeError("search not finished")
        return self._result

    @property
    def answered(self) -> bool:
        """Whether any probe got its answer (some size is known to pass)."""
        return self._lower() is not None

    def conclude_silent(self, now: float) -> None:
        """End a search nothing answered, as unreachable by these probes, now.

        For when other probes proved the host alive meanwhile (a TCP port
        answered while echo stayed silent): the wait for neighbour
        resolution (:attr:`SearchConfig.unreachable_min_s`) has nothing left
        to wait for. Only once :attr:`SearchConfig.unreachable_after` control
        probes were lost; otherwise nothing changes.
        """
        lost = self._control_lost >= self.config.unreachable_after
        if self._result is None and not self.answered and lost:
            self._inflight.clear()
            self._finish(now, None, conclusive=True)

    def abandon(self, now: float) -> SearchResult:
        """Stop now (engine deadline) and return what is known."""
        if self._result is None:
            self._finish(now, self._lower(), conclusive=False)
        return self.result()

    def _evidence(self) -> tuple[Evidence, ...]:
        rows: list[Evidence] = []
        for size in sorted(self._tally, reverse=True):
            t = self._tally[size]
            if t.replies:
                rows.append(Evidence(size, "reply", t.replies))
            if t.too_big:
                rows.append(Evidence(size, "too-big", t.too_big, t.too_big_mtu, t.reporter))
            if t.refused:
                rows.append(Evidence(size, "local-refused", t.refused, t.too_big_mtu))
            if t.unreachable:
                rows.append(Evidence(size, "unreachable", t.unreachable, None, t.reporter))
            if t.lost:
                rows.append(Evidence(size, "lost", t.lost))
        return tuple(rows)

    # ---------------------------------------------------------------- planning

    _controls: set[int] = field(default_factory=set)
    _pending_sizes: dict[int, int] = field(default_factory=dict)
    _lost_sizes: dict[int, int] = field(default_factory=dict)

    def _next_control_at(self) -> float | None:
        """When to send the next lone control while silence is waited out, if at all."""
        cfg = self.config
        if self._lower() is not None or self._started is None or self._last_control is None:
            return None
        if self._control_lost < cfg.unreachable_after:
            return None
        end = self._started + cfg.unreachable_min_s
        return min(self._last_control + cfg.control_gap_s, end)

    def _request(self, size: int, *, control: bool = False) -> ProbeRequest:
        key = self._next_key
        self._next_key += 1
        if control:
            self._controls.add(key)
            self._control_sent += 1
            self._last_control = self._last_poll
        self._pending_sizes[key] = size
        cfg = self.config
        return ProbeRequest(key, size, protocol=cfg.protocol, flow=cfg.flow, port=cfg.port)

    def _inflight_at(self, size: int) -> int:
        return sum(1 for f in self._inflight.values() if f.size == size)

    def _plan(self, now: float) -> list[ProbeRequest]:
        cfg = self.config
        family_min = MIN_MTU[cfg.family]
        control = CONTROL_SIZE[cfg.family]
        low = self._lower()
        if self._sent == 0 and not self._pending_sizes:
            return self._first_round()
        if low is None:
            # Nothing answered yet: send the rest of the control probes that
            # decide whether the target is reachable at all.
            if self._inflight:
                return []
            if self._control_lost < cfg.unreachable_after:
                missing = cfg.unreachable_after - self._control_lost
                return [self._request(control, control=True) for _ in range(missing)]
            # All lost, but not for long enough yet: one control now and then.
            due = self._next_control_at()
            if due is not None and due <= now:
                return [self._request(control, control=True)]
            return []
        upper, proven = self._upper(now, low)
        if upper <= low + 1:
            if proven:
                return []
            # Confirm the silent boundary: enough probes at U to rule out loss.
            t = self._tally.get(upper)
            lost = t.lost if t else 0
            missing = self._silence_needed() - lost - self._inflight_at(upper)
            if missing <= 0:
                return []
            # On a lossy path most boundaries are a lost probe: confirm in
            # small bursts so a reply ends the confirmation cheaply.
            if self._loss_seen():
                missing = min(missing, cfg.confirm_burst)
            requests = [self._request(upper) for _ in range(missing)]
            if not any(f.control for f in self._inflight.values()):
                requests.append(self._request(control, control=True))
            return requests
        # Narrow (low, upper): skip if a round is still young.
        young = [f for f in self._inflight.values() if low < f.size < upper]
        if young:
            return []
        # On a lossy path, a boundary resting on one silence is probably a
        # lost probe: ask again before narrowing toward it.
        t = self._tally.get(upper)
        silences = (t.lost if t else 0) + self._inflight_at(upper)
        if not proven and self._loss_seen() and silences < 3:
            return [self._request(upper) for _ in range(3 - silences)]
        # A reported next-hop MTU is checked first: it and one byte more.
        hinted = self._hints | {h + 1 for h in self._hints}
        wanted = sorted(
            {
                s
                for s in hinted | set(FIRST_GUESSES + LOW_PLATEAUS)
                if low < s < upper and s not in self._tally
            }
        )
        gap = upper - low - 1
        if gap <= cfg.splits + 1:
            wanted = list(range(low + 1, upper))
        else:
            step = (upper - low) / (cfg.splits + 1)
            for i in range(1, cfg.splits + 1):
                size = round(low + i * step)
                if len(wanted) >= cfg.splits:
                    break
                if size not in wanted:
                    wanted.append(size)
        sizes = sorted({s for s in wanted if s >= family_min})[: max(cfg.splits, 2) + 1]
        requests = [self._request(s) for s in sizes if not self._inflight_at(s)]
        if self._sample_size() < 8 and not any(f.control for f in self._inflight.values()):
            requests.append(self._request(control, control=True))
        return requests

    def _sample_size(self) -> int:
        low = self._lower() or 0
        return sum(t.replies + t.lost for s, t in self._tally.items() if s <= low)

    def _first_sizes(self) -> list[int]:
        cfg = self.config
        sizes = {cfg.max_size}
        if cfg.expected is not None:
            sizes.add(cfg.expected)
        sizes |= {s for s in FIRST_GUESSES if MIN_MTU[cfg.family] <= s < cfg.max_size}
        return sorted(sizes, reverse=True)

    def _first_round(self) -> list[ProbeRequest]:
        control = CONTROL_SIZE[self.config.family]
        return [self._request(s) for s in self._first_sizes()] + [
            self._request(control, control=True) for _ in range(2)
        ]
