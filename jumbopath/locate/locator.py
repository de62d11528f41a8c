"""Hop localization: a pure object that finds where big packets die on a path.

Same protocol as :class:`jumbopath.search.MtuSearch` (``poll``, ``on_sent``,
``on_outcome``, ``wake_at``, ``done``, ``abandon``): no sockets, no sleeping,
no clock. The engine drives it after the search has found the path MTU.

How it decides (traceroute with a size dimension):

* **One sweep.** For every TTL 1..``sweep_hops`` at once (and the next
  window, up to ``max_hops``, when the target is farther): a probe of the
  failing size (one byte above the path MTU), then a small control probe
  with the same TTL. A router that the TTL expires at answers "time
  exceeded" (RFC 792 / RFC 4443); the target answers the echo. The controls
  map the hops; the big probes show how far big packets get.
* **Pairs, not singles.** Routers rate-limit ICMP errors (Linux: a burst of
  about 6, then about 1 per second per destination). The control leaves
  right after its big probe, so when the control is answered the router
  had a token for the big probe too: a silent big probe then means the big
  packet never arrived (or was lost). When the control is silent as well,
  the pair says nothing.
* **Reach is proof, silence needs confirming.** An answer to a big probe at
  TTL k proves big packets reach hop k (and every hop before it). The break
  is after the farthest hop reached (X) and at or before the next hop that
  answers its controls (Y): big probes at Y's TTL are repeated, paired with a
  control, until, at the loss rate seen on the controls, the silences cannot
  be chance (``error_rate``). A big probe dropped before Y costs Y no ICMP
  token, so confirming is cheap for the router that is rate-limiting.
* **Never blame a silent hop.** A hop that answers no control (it sends no
  "time exceeded") is tried again after ``retry_gap_s`` when it lies between
  X and Y, then skipped: the break is bracketed between the nearest hops that
  answer, and the explanation says so.
* **Classify.** ``local-nic`` when the failing size exceeds the egress
  interface MTU (or the kernel refuses the send, EMSGSIZE); ``ptb`` when a
  router answers a big probe with "fragmentation needed" / "packet too big"
  (RFC 1191 / RFC 4443; believed only because the prober matched it to a
  probe in flight, RFC 5927); ``silent`` otherwise; ``none`` when there is no
  failing size.
* **Pacing.** A :class:`HopPacer`, shared by every localizer of one run,
  models each router's ICMP token bucket from what was sent and answered;
  confirmations wait for a token instead of being swallowed by the limit.
* Everything is bounded: ``max_probes`` and ``max_time_s``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jumbopath.confirm import loss_estimate, silences_needed
from jumbopath.locate import verdict
from jumbopath.locate.config import LocateConfig, LocateResult
from jumbopath.locate.pacer import HopPacer
from jumbopath.model import (
    Break,
    Evidence,
    Hop,
    LocalRefused,
    Lost,
    Outcome,
    ProbeRequest,
    Remark,
    Reply,
    TimeExceeded,
    TooBig,
    Unreach,
    Unreachable,
    outcome_name,
    remark,
)
from jumbopath.sizes import CONTROL_SIZE

#: Big probes sent to prove that this path's big packets reach the hops another
#: target's localization proved (a router out of ICMP tokens stays quiet).
PROOF_ATTEMPTS = 3

# --------------------------------------------------------------------------
# Internal state


@dataclass(slots=True)
class _HopState:
    address: str | None = None
    rtt_ms: float | None = None
    attempts: int = 0  # resolved controls
    answers: int = 0
    last_sent: float | None = None
    unreachable: Unreach | None = None  # when a router said unreachable here


@dataclass(slots=True)
class _Probe:
    ttl: int
    size: int
    control: bool
    batch: int
    sent_at: float | None = None
    outcome: Outcome | None = None
    missed: bool = False  # counted in _misses


@dataclass(slots=True)
class _Verdict:
    break_: Break | None
    conclusive: bool


@dataclass
class Locator:
    """Finds the hop after which big packets die. See the module docstring."""

    config: LocateConfig
    pacer: HopPacer = field(default_factory=HopPacer)
    _probes: dict[int, _Probe] = field(default_factory=dict)
    _batches: dict[int, list[int]] = field(default_factory=dict)
    _hops: dict[int, _HopState] = field(default_factory=dict)
    _reach: dict[int, int] = field(default_factory=dict)  # size -> farthest TTL reached
    _misses: dict[int, int] = field(default_factory=dict)  # TTL -> silent paired big probes
    _ptb: list[tuple[int, int, str]] = field(default_factory=list)  # (ttl, mtu, reporter)
    _refused: int | None = None  # local interface MTU from a refusal (0: unknown)
    _tally: dict[tuple[int, int, str, str | None, int | None], int] = field(default_factory=dict)
    _next_key: int = 0
    _next_batch: int = 0
    _sent: int = 0
    _swept: int = 0  # TTLs swept so far
    _confirming: set[int] = field(default_factory=set)  # TTLs confirmed early
    _proofs: list[int] = field(default_factory=list)  # keys of the reach proofs sent
    _deferred: list[int] = field(default_factory=list)  # sweep TTLs waiting for tokens
    _last_sent: float | None = None
    _started: float | None = None
    _rtt_s: dict[int, float] = field(default_factory=dict)  # TTL -> smallest round trip
    _wake: float | None = None
    _verdict: _Verdict | None = None
    _finished: float | None = None
    _notes: list[Remark] = field(default_factory=list)

    # ------------------------------------------------------------ properties

    @property
    def done(self) -> bool:
        """True once the verdict is in (see :meth:`result`)."""
        return self._verdict is not None

    @property
    def _probing(self) -> bool:
        cfg = self.config
        return cfg.fail_size is not None and cfg.fail_size <= cfg.max_size

    @property
    def _local(self) -> bool:
        cfg = self.config
        return (
            cfg.fail_size is not None and cfg.fail_size > cfg.max_size
        ) or self._refused is not None

    def _hop(self, ttl: int) -> _HopState:
        hop = self._hops.get(ttl)
        if hop is None:
            hop = self._hops[ttl] = _HopState()
        return hop

    def _end_ttl(self) -> int | None:
        """TTL at which the target answers (the path length), if seen."""
        ends = [t for t, h in self._hops.items() if h.address == self.config.target]
        ends += [t for t, h in self._hops.items() if h.unreachable is not None]
        return min(ends) if ends else None

    def _top(self) -> int:
        end = self._end_ttl()
        if end is not None:
            return end
        answered = [t for t, h in self._hops.items() if h.address is not None]
        return max(answered) if answered else 0

    # ---------------------------------------------------------------- timing

    def timeout_s(self) -> float:
        """How long to wait before an unanswered probe counts as lost."""
        # The farthest hop's best round trip, with room for queueing: robust to
        # the odd answer that was read late.
        if not self._rtt_s:
            return max(self.config.timeout_floor_s, self.config.first_timeout_s)
        return max(self.config.timeout_floor_s, 4 * max(self._rtt_s.values()))

    def wake_at(self) -> float | None:
        """When the engine should call :meth:`poll` again even if nothing arrives."""
        if self.done:
            return None
        times = [p.sent_at + self.timeout_s() for p in self._inflight() if p.sent_at is not None]
        if self._wake is not None:
            times.append(self._wake)
        if self._started is not None:
            times.append(self._started + self.config.max_time_s)
        return min(times) if times else None

    def _inflight(self) -> list[_Probe]:
        return [p for p in self._probes.values() if p.outcome is None]

    # -------------------------------------------------------------- the loop

    def poll(self, now: float) -> list[ProbeRequest]:
        """Expire old probes, decide if done, and return the probes to send now."""
        if self._started is None:
            self._started = now
            self._presume()
        if self.done:
            return []
        timeout = self.timeout_s()
        for key, p in list(self._probes.items()):
            if p.outcome is None and p.sent_at is not None and p.sent_at + timeout <= now:
                self._resolve(key, Lost(), now)
        return self._step(now)

    def on_sent(self, request: ProbeRequest, now: float) -> None:
        """The engine sent ``request`` at ``now``."""
        if self._started is None:
            self._started = now
        p = self._probes.get(request.key)
        if p is None:
            return
        p.sent_at = now
        self._last_sent = now
        self._sent += 1
        if p.control:
            self._hop(p.ttl).last_sent = now

    def on_outcome(self, key: int, outcome: Outcome, now: float) -> None:
        """An outcome for probe ``key`` (a refusal may arrive before :meth:`on_sent`)."""
        p = self._probes.get(key)
        if p is None:
            return
        if p.outcome is not None:
            # Already counted as lost. A late "time exceeded" or echo reply to a
            # big probe (the prober matched it to our probe) still proves that
            # big packets reach that hop; any other late error is not believed.
            if isinstance(p.outcome, Lost) and isinstance(outcome, (TimeExceeded, Reply)):
                if not p.control:
                    self._reach[p.size] = max(self._reach.get(p.size, 0), p.ttl)
                if p.missed:
                    p.missed = False
                    self._misses[p.ttl] -= 1
            return
        self._resolve(key, outcome, now)

    def _resolve(self, key: int, outcome: Outcome, now: float) -> None:
        p = self._probes[key]
        p.outcome = outcome
        reporter = getattr(outcome, "reporter", None)
        mtu = getattr(outcome, "mtu", None)
        tkey = (p.ttl, p.size, outcome_name(outcome), reporter, mtu)
        self._tally[tkey] = self._tally.get(tkey, 0) + 1
        rtt_ms = getattr(outcome, "rtt_ms", None)
        if rtt_ms is not None and self._last_sent is not None:
            # Answers are read only once a burst has left: a probe early in a
            # burst looks slower by the time the rest took to send.
            rtt_ms = min(rtt_ms, max(0.0, (now - self._last_sent) * 1000))
        if rtt_ms is not None:
            best = self._rtt_s.get(p.ttl)
            self._rtt_s[p.ttl] = rtt_ms / 1000 if best is None else min(best, rtt_ms / 1000)
        address: str | None = None
        if isinstance(outcome, TimeExceeded):
            address = outcome.reporter
        elif isinstance(outcome, Reply):
            address = self.config.target
        if address is not None:
            self._reach[p.size] = max(self._reach.get(p.size, 0), p.ttl)
            if not p.control and self._hop(p.ttl).address is None:
                self._hop(p.ttl).address = address
        if isinstance(outcome, TooBig) and p.size == self.config.fail_size:
            # Only a "too big" for the failing size says where it dies; one for
            # the larger labelling probe is an earlier, looser limit (see
            # :mod:`jumbopath.locate.limits`), kept in the evidence.
            self._ptb.append((p.ttl, outcome.mtu, outcome.reporter))
        if isinstance(outcome, LocalRefused):
            self._refused = outcome.mtu or 0
        if key in self._proofs and isinstance(outcome, Lost):
            # The router may only be out of tokens: wait for one and ask again.
            self.pacer.drain(self._slot(p.ttl), now)
            if len(self._proofs) < PROOF_ATTEMPTS:
                self._deferred.append(-p.ttl)
        # No token spent at this slot: the target answered, the big probe died
        # before it, an earlier router answered, or it never left.
        spent = isinstance(outcome, TimeExceeded) or (p.control and isinstance(outcome, Lost))
        if not spent and not isinstance(outcome, Unreachable):
            self.pacer.refund(self._slot(p.ttl), now)
        if p.control:
            hop = self._hop(p.ttl)
            hop.attempts += 1
            if address is not None:
                hop.answers += 1
                if hop.address is None:
                    hop.address = address
                elif hop.address != address:
                    self._note_once(
                        remark("hop-changed", ttl=p.ttl, first=hop.address, then=address)
                    )
                if rtt_ms is not None and (hop.rtt_ms is None or rtt_ms < hop.rtt_ms):
                    hop.rtt_ms = round(rtt_ms, 3)
            elif isinstance(outcome, Unreachable):
                hop.answers += 1
                hop.unreachable = outcome.code
                if hop.address is None and outcome.reporter != "local":
                    hop.address = outcome.reporter
            elif hop.address != self.config.target:
                # A router that does not answer now: rate-limited (or loss, or
                # one that never answers). Either way, give it time to refill.
                self.pacer.drain(self._slot(p.ttl), now)
        self._close_batch(p.batch)

    def _close_batch(self, batch: int) -> None:
        keys = self._batches.get(batch)
        if keys is None or any(self._probes[k].outcome is None for k in keys):
            return
        del self._batches[batch]
        probes = [self._probes[k] for k in keys]
        controls = [p for p in probes if p.control]
        answered = any(isinstance(c.outcome, (TimeExceeded, Reply)) for c in controls)
        if not answered:
            return
        for p in probes:
            if p.size == self.config.fail_size and isinstance(p.outcome, Lost):
                self._misses[p.ttl] = self._misses.get(p.ttl, 0) + 1
                p.missed = True

    def _presume(self) -> None:
        """Take what another target's localization proved as known (shared evidence)."""
        given = self.config.presumed
        if given is None:
            return
        for ttl, address in enumerate(given.hops, start=1):
            self._hop(ttl).address = address
        if self.config.fail_size is not None and given.reach:
            self._reach[self.config.fail_size] = given.reach
        if given.ptb is not None and self._probing:
            self._ptb.append(given.ptb)

    def _note_once(self, note: Remark) -> None:
        if note not in self._notes:
            self._notes.append(note)

    # -------------------------------------------------------------- planning

    def _slot(self, ttl: int) -> str:
        return f"v{self.config.family}/ttl{ttl}"

    def _request(self, ttl: int, size: int, batch: int, *, control: bool = False) -> ProbeRequest:
        key = self._next_key
        self._next_key += 1
        self._probes[key] = _Probe(ttl, size, control, batch)
        self._batches.setdefault(batch, []).append(key)
        cfg = self.config
        return ProbeRequest(key, size, ttl=ttl, protocol=cfg.protocol, flow=cfg.flow, port=cfg.port)

    def _batch(self, ttl: int, bigs: int, now: float, *, sweep: bool = False) -> list[ProbeRequest]:
        """``bigs`` failing-size probes at ``ttl``, then the control that vouches for them."""
        batch = self._next_batch
        self._next_batch += 1
        out = []
        fail = self.config.fail_size
        presumed = self.config.presumed
        if self._probing and not self._local and (presumed is None or presumed.ptb is None):
            assert fail is not None
            if sweep:
                out += [self._request(ttl, size, batch) for size in self._upper()]
            out += [self._request(ttl, fail, batch) for _ in range(bigs)]
        out.append(self._request(ttl, CONTROL_SIZE[self.config.family], batch, control=True))
        self.pacer.charge(self._slot(ttl), now, len(out))
        return out

    def _proof(self, ttl: int, now: float) -> list[ProbeRequest]:
        """One failing-size probe at ``ttl``, no control: its answer proves reach."""
        batch = self._next_batch
        self._next_batch += 1
        assert self.config.fail_size is not None
        self.pacer.charge(self._slot(ttl), now, 1)
        self._proofs.append(self._next_key)
        return [self._request(ttl, self.config.fail_size, batch)]

    def _upper(self) -> list[int]:
        """Sizes above the failing one swept at every TTL, largest first."""
        cfg = self.config
        assert cfg.fail_size is not None
        sizes = {cfg.map_size, *cfg.upper_sizes} - {None}
        return sorted(
            (s for s in sizes if s is not None and cfg.fail_size < s <= cfg.max_size), reverse=True
        )

    def _ready(self, ttl: int, now: float, need: float) -> bool:
        """Whether the router at ``ttl`` can afford ``need`` answers now (else wake then)."""
        if self._hops.get(ttl, _HopState()).address == self.config.target:
            return True  # echo replies are not rate-limited
        ready = self.pacer.ready_at(self._slot(ttl), now, need)
        if ready <= now:
            return True
        self._wake = ready if self._wake is None else min(self._wake, ready)
        return False

    def _needed(self) -> int:
        """Silent paired big probes that make loss an unlikely explanation (jumbopath.confirm)."""
        sent = sum(h.attempts for h in self._hops.values() if h.answers)
        lost = sum(h.attempts - h.answers for h in self._hops.values() if h.answers)
        need = silences_needed(loss_estimate(lost, sent), self.config.error_rate)
        return min(need, self.config.max_confirm)

    def _sweep(self, now: float) -> list[ProbeRequest]:
        given = self.config.presumed
        first = max(self._swept, len(given.hops) if given is not None else 0) + 1
        if first == 1 + len(given.hops if given is not None else ()) and self._proves_reach():
            assert given is not None
            # Shared hops past a silent stretch's near end: one big probe of this
            # path's own must be answered there (one token), else it is not shared.
            self._deferred.append(-given.reach)
        self._swept = min(first - 1 + self.config.sweep_hops, self.config.max_hops)
        self._deferred += range(first, self._swept + 1)
        return self._sweep_ready(now)

    def _proves_reach(self) -> bool:
        given = self.config.presumed
        return given is not None and given.ptb is None and given.reach > 0 and self._probing

    def _sweep_ready(self, now: float) -> list[ProbeRequest]:
        """The sweep's batches whose router can afford them; the rest wait for tokens."""
        end = self._end_ttl()
        out: list[ProbeRequest] = []
        waiting = []
        for ttl in self._deferred:
            if ttl < 0:  # the proof that big packets reach the shared hops
                if self._ready(-ttl, now, 1):
                    out += self._proof(-ttl, now)
                else:
                    waiting.append(ttl)
                continue
            if end is not None and ttl > end:
                continue  # beyond the target: not needed any more
            # One token is enough: the big probe goes first, so whichever of the
            # pair gets it, the answer says something.
            if self._ready(ttl, now, 1):
                out += self._batch(ttl, 1, now, sweep=True)
            else:
                waiting.append(ttl)
        self._deferred = waiting
        return out

    def _settled(self) -> bool:
        """The verdict cannot change any more although probes are still out: a
        router reported "too big" (or the local NIC is the limit, or only the
        map was asked for) and every hop up to the target has answered or timed out."""
        if not (self._ptb or self._local or not self._probing):
            return False
        end = self._end_ttl()
        if end is None:
            return False
        # The labelling probes say where larger packets die (an earlier limit,
        # jumbopath.locate.limits): their silence is waited for too, at most
        # one timeout, since they left with the sweep.
        pending = {p.ttl for p in self._inflight() if p.control or p.size != self.config.fail_size}
        return not any(t <= end for t in pending)

    def _early(self, now: float) -> list[ProbeRequest]:
        """Confirm a likely silent hop while the sweep's big probes are still timing out.

        The first hop past the farthest one big packets reached has answered its
        control, and its big probe (sent just before) has not: it is the likely
        break. Its confirmation probes go now rather than after the timeout; they
        are counted only once resolved, so this changes the time taken, not the
        verdict.
        """
        cfg = self.config
        if not self._probing or self._local or self._ptb:
            return []
        fail = cfg.fail_size
        reach = self._reach.get(fail or 0, 0)
        ttl = reach + 1
        hop = self._hops.get(ttl)
        if hop is None or hop.address is None or ttl in self._confirming:
            return []
        if not any(p.ttl == ttl and p.size == fail for p in self._inflight()):
            return []
        bigs = self._needed() - self._misses.get(ttl, 0) - 1
        if bigs <= 0:
            return []
        if not self._ready(ttl, now, 1):
            return []
        self._confirming.add(ttl)
        return self._batch(ttl, bigs, now)

    def _step(self, now: float) -> list[ProbeRequest]:
        cfg = self.config
        assert self._started is not None
        self._wake = None
        if not self._swept:
            return self._sweep(now)
        out_of_budget = self._sent >= cfg.max_probes or now >= self._started + cfg.max_time_s
        if out_of_budget:
            self._finish(now, self._best_guess(), conclusive=False)
            return []
        out = self._sweep_ready(now) if self._deferred else []
        if self._deferred or (self._inflight() and not self._settled()):
            return out + self._early(now)
        if self._end_ttl() is None and self._swept < cfg.max_hops and not self._local:
            return self._sweep(now)  # the target is farther: the next window
        if self._local:
            self._finish(now, self._local_break(), conclusive=True)
            return []
        end = self._end_ttl()
        top = self._top()
        if not self._probing:
            # Map only: ask once more any hop before the end that stayed quiet.
            quiet = [
                t
                for t in range(1, top)
                if self._hop(t).attempts < cfg.silent_after and self._hop(t).address is None
            ]
            due = [t for t in quiet if self._ready(t, now, 1)]
            if due:
                return [r for t in due for r in self._batch(t, 0, now)]
            if quiet:
                return []  # woken when their routers have a token again
            self._finish(now, self._none_break(), conclusive=True)
            return []
        if self._ptb:
            self._finish(now, self._ptb_break(), conclusive=True)
            return []
        fail = cfg.fail_size
        assert fail is not None
        reach = self._reach.get(fail, 0)
        if end is not None and reach >= end:
            self._note_once(remark("path-changed", size=fail, target=cfg.target))
            self._finish(now, self._none_break(), conclusive=False)
            return []
        need = self._needed()
        # Between the farthest hop reached and the next hop that answers (Y),
        # hops not heard yet are asked again, the farthest first: if big
        # packets reach it, the ones before it need no asking (and their
        # routers keep their ICMP budget for the other localizers).
        unsure = []
        y = None
        for ttl in range(reach + 1, (top or cfg.max_hops) + 1):
            hop = self._hop(ttl)
            if hop.address is not None:
                y = ttl
                break
            if hop.attempts < cfg.silent_after:
                unsure.append(ttl)
        asks: list[ProbeRequest] = []
        if unsure:
            ttl = unsure[-1]
            hop = self._hop(ttl)
            again = (hop.last_sent if hop.last_sent is not None else now) + cfg.retry_gap_s
            if again > now:
                self._wake = again if self._wake is None else min(self._wake, again)
            elif self._ready(ttl, now, 1):
                asks += self._batch(ttl, 1, now)
        if y is None:
            if not unsure:  # nothing past the last hop reached answers within max_hops
                self._finish(now, self._silent_break(reach, None), conclusive=True)
            return asks
        missing = need - self._misses.get(y, 0)
        if missing <= 0 and not unsure:
            self._finish(now, self._silent_break(reach, y), conclusive=True)
            return []
        free = self._hop(y).address == cfg.target  # echo replies cost no router a token
        if missing > 0 and (free or not unsure) and self._ready(y, now, 1):
            asks += self._batch(y, missing, now)
        return asks

    # -------------------------------------------------------------- verdicts

    def _hop_map(self) -> verdict.HopMap:
        addresses = {t: h.address for t, h in self._hops.items()}
        return verdict.HopMap(addresses, self._top())

    def _local_break(self) -> Break:
        return verdict.local_break(self.config, self._hop_map(), self._refused)

    def _none_break(self) -> Break | None:
        return verdict.none_break(self.config)

    def _ptb_break(self) -> Break:
        ttl, mtu, reporter = min(self._ptb)
        return verdict.ptb_break(self.config, self._hop_map(), ttl, mtu, reporter)

    def _silent_break(self, reach: int, before_ttl: int | None) -> Break:
        return verdict.silent_break(self.config, self._hop_map(), reach, before_ttl)

    def _best_guess(self) -> Break | None:
        """The verdict from what is known when the bounds run out."""
        if self._local:
            return self._local_break()
        if not self._probing:
            return self._none_break()
        if self._ptb:
            return self._ptb_break()
        assert self.config.fail_size is not None
        reach = self._reach.get(self.config.fail_size, 0)
        nxt = next(
            (t for t in range(reach + 1, self._top() + 1) if self._hop(t).address is not None), None
        )
        return verdict.unconfirmed(self._silent_break(reach, nxt))

    def _finish(self, now: float, break_: Break | None, *, conclusive: bool) -> None:
        self._verdict = _Verdict(break_, conclusive)
        self._finished = now

    # --------------------------------------------------------------- results

    def abandon(self, now: float) -> LocateResult:
        """Stop now (engine deadline) and return what is known."""
        if self._verdict is None:
            self._finish(now, self._best_guess(), conclusive=False)
        return self.result()

    def result(self) -> LocateResult:
        """The verdict; only valid once :attr:`done`."""
        if self._verdict is None:
            raise RuntimeError("localization not finished")
        started = self._started if self._started is not None else 0.0
        finished = self._finished if self._finished is not None else started
        return LocateResult(
            hops=self._hop_list(),
            break_=self._verdict.break_,
            conclusive=self._verdict.conclusive,
            probes_sent=self._sent,
            elapsed_s=round(finished - started, 4),
            evidence=self._evidence(),
            notes=tuple(self._notes),
        )

    def _largest_passing(self, ttl: int, end: int | None) -> int | None:
        sizes = [
            s for s, t in self._reach.items() if t >= ttl and s > CONTROL_SIZE[self.config.family]
        ]
        if self.config.pass_size is not None and end is not None and ttl <= end:
            sizes.append(self.config.pass_size)
        return max(sizes) if sizes else None

    def _hop_list(self) -> tuple[Hop, ...]:
        end = self._end_ttl()
        top = self._top()
        hops = []
        for ttl in range(1, top + 1):
            h = self._hops.get(ttl, _HopState())
            hops.append(Hop(ttl, h.address, h.rtt_ms, self._largest_passing(ttl, end)))
        return tuple(hops)

    def _evidence(self) -> tuple[Evidence, ...]:
        rows = [
            Evidence(size, outcome, count, mtu, reporter, ttl)
            for (ttl, size, outcome, reporter, mtu), count in self._tally.items()
        ]
        rows.sort(key=lambda e: (e.ttl or 0, -e.size, e.outcome))
        return tuple(rows)
