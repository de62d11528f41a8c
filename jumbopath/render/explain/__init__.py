"""Every sentence jumbopath says about a path, a break or a finding: one place.

The decision modules return data with stable cause codes
(:class:`~jumbopath.model.Cause`) and the facts behind them; the text
renderers (and the ``explanation`` fields of the JSON document, kept for
people reading it) get their words from here. Tests of the logic assert on
the data; a few render tests check the wording.

Addresses and names that came from outside are made terminal-safe here
(:func:`jumbopath.safe.safe_text`) before they enter a sentence.

This package holds the sentences about paths; :mod:`.mesh` holds those
about a mesh (failing pairs, verdicts), imported only by the mesh commands.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from jumbopath.model import Break, BreakKind, Cause, Finding, Leg, PathResult, Remark, Status
from jumbopath.safe import safe_text


def _s(value: object) -> str:
    return safe_text(value, 200)


def _join(names: Sequence[str]) -> str:
    names = [_s(n) for n in names]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


# --------------------------------------------------------------------------
# Breaks


def _receiving(b: Break) -> str:
    return f"{_s(b.before)}'s own NIC" if b.before and b.before == b.target else "the receiving NIC"


def _local(b: Break) -> str:
    nic = f"interface {_s(b.interface)}" if b.interface else "egress interface"
    return (
        f"this host's {nic} has MTU {b.mtu}, below the {b.size} bytes asked for: "
        "raise the MTU of this host's NIC (and check the switch port it plugs into)"
    )


def _ptb(b: Break) -> str:
    word = "fragmentation needed" if b.family == 4 else "packet too big"
    toward = _s(b.before or b.target)
    return (
        f"router {_s(b.reported_by)} answers {b.size}-byte packets with "
        f'"{word}", next-hop MTU {b.mtu}: raise the MTU of its interface toward '
        f"{toward} (and of the switch ports on that segment)"
    )


def _silent(b: Break) -> str:
    x = _s(b.after) if b.after is not None else "this host"
    y = _s(b.before) if b.before else "the next hop"
    if b.cause is Cause.SILENT_FIRST_SEGMENT or b.after is None:
        cause = (
            f"a layer-2 element on the first segment (a switch port, an inter-switch "
            f"link or {_receiving(b)}) drops them silently"
        )
    else:
        cause = (
            f"either {x}'s interface toward {y} has a smaller MTU and its ICMP errors "
            f"are suppressed (a PMTUD black hole), or a layer-2 element between them "
            f"(a switch port, an inter-switch link or {_receiving(b)}) drops them silently"
        )
    if b.quiet_hops:
        hops = ", ".join(str(t) for t in b.quiet_hops)
        cause += (
            f"; hop(s) {hops} in between answer no traceroute probe, so the break may "
            "also be at them"
        )
    if b.cause is Cause.SILENT_NO_NEXT_HOP:
        cause += f"; no hop after {x} answers within {b.max_hops} hops"
    if b.size is not None and b.mtu is not None and b.size > b.mtu + 1:
        # A looser limit found by a larger probe: only a bracket is measured.
        cause += f"; {b.mtu}-byte packets get past it, so its MTU is {b.mtu} to {b.size - 1}"
    return f"{b.size}-byte packets leave {x} but never reach {y}, and no error comes back: {cause}"


def _return(b: Break) -> str:
    addr = _s(b.after)
    return (
        f"{b.size}-byte packets reach {addr} (one-way probes arrive), but its "
        f"answers larger than {b.mtu} bytes never come back: the limit is on the "
        f"return path from {addr}, which takes a different route; run "
        f"`jumbopath trace` from {addr} toward this host to locate it"
    )


def _partial(b: Break) -> str:
    return (
        f"some flows carry {b.size} bytes and others do not: one equal-cost leg or "
        f"link-aggregation member is smaller; on the failing flows' path, {_silent(b)}"
    )


def _tunnel(b: Break) -> str:
    side = (
        "its MTU leaves no room for the encapsulation"
        if b.cause is Cause.OVERLAY_ENCAPSULATION
        else "its underlay toward the remote end is short"
    )
    return (
        f"{b.size}-byte packets do not fit through tunnel {_s(b.interface)}, which carries "
        f"{b.mtu}: {side} (the overlay note has the arithmetic)"
    )


def _none(b: Break) -> str:
    return f"{b.mtu}-byte packets reach every hop up to {_s(b.target)}"


_BREAK: dict[Cause, Callable[[Break], str]] = {
    Cause.LOCAL_MTU: _local,
    Cause.ROUTER_TOO_BIG: _ptb,
    Cause.SILENT_DROP: _silent,
    Cause.SILENT_FIRST_SEGMENT: _silent,
    Cause.SILENT_NO_NEXT_HOP: _silent,
    Cause.RETURN_PATH: _return,
    Cause.PARTIAL_FLOWS: _partial,
    Cause.NO_BREAK: _none,
    Cause.OVERLAY_ENCAPSULATION: _tunnel,
    Cause.UNDERLAY_SHORT: _tunnel,
}


def switches_clause(b: Break) -> str:
    """What the switches said about a break ("; the switches say: ..."), or ""."""
    text = ""
    if b.ports:
        text += "; the switches say: " + "; ".join(
            f"{_s(p.switch)} port {_s(p.port)} (toward {_s(p.toward)}) has MTU {p.mtu}"
            for p in b.ports
        )
    elif b.ports_reason is not None:
        text += f"; no switch port named ({_s(b.ports_reason)})"
    if b.unread_switches:
        unread = _join([f"{u.switch} ({u.reason})" for u in b.unread_switches])
        others = "other ports" if b.ports else "ports"
        text += f"; not read: {unread}, which may be on the way: {others} there may be below too"
    return text


def break_sentence(b: Break) -> str:
    """What an admin reads about a break: where, and what to raise or look at."""
    text = _BREAK.get(b.cause, _none)(b) + switches_clause(b)
    if b.local:
        text = "; ".join([text, *(_s(x) for x in b.local)])
    if not b.confirmed:
        text += " (not confirmed: the time or probe limit ran out first)"
    return text


def limit_sentences(r: PathResult) -> list[str]:
    """Each limit on a path with more than one, in path order, the tightest last
    (fixing one leaves the next; see :mod:`jumbopath.locate.limits`)."""
    n = len(r.breaks)
    if n < 2:
        return []
    return [
        f"limit {i} of {n}{' (the tightest: it sets the path MTU)' if i == n else ''}: "
        f"{break_sentence(b)}"
        for i, b in enumerate(r.breaks, 1)
    ]


def break_place(b: Break) -> str:
    """A short name for where a break is (used when several paths share it)."""
    if b.kind is BreakKind.LOCAL_NIC:
        return "this host's own NIC"
    if b.kind is BreakKind.PTB:
        return f"router {_s(b.reported_by)}'s egress (it reports MTU {b.mtu})"
    after = _s(b.after) if b.after else "this host"
    return f"the segment between {after} and {_s(b.before) if b.before else 'the next hop'}"


# --------------------------------------------------------------------------
# Findings across targets


def finding_sentence(f: Finding, results: Sequence[PathResult] = ()) -> str:
    """The cross-target conclusion. ``results`` supplies addresses for the names."""
    addresses = {r.target: r.address for r in results}

    def named(targets: Sequence[str]) -> str:
        return _join(
            [t if addresses.get(t) in (None, t) else f"{t} ({addresses[t]})" for t in targets]
        )

    hop = _s(f.hop) if f.hop else None
    behind = f"behind {hop}" if hop else "on this host's own segment"
    want = str(f.expected_mtu) if f.expected_mtu else "the expected MTU"
    if f.cause is Cause.HOST_SPECIFIC:
        one = len(f.failing) == 1
        shared = f"{hop} and the segment" if hop else "the segment"
        return (
            f"{named(f.failing)} {'falls' if one else 'fall'} short of {want} while "
            f"{named(f.passing)} {behind} carr{'ies' if len(f.passing) == 1 else 'y'} it: "
            f"the fault is specific to {named(f.failing)}: {'its' if one else 'their'} access "
            f"switch port or {'its' if one else 'their'} own NIC, not {shared} they share"
        )
    measured = "/".join(str(m) for m in f.measured) or "less"
    egress = f"{hop}'s egress interface toward them, or " if hop else ""
    text = (
        f"every target {behind} ({named(f.failing)}) carries only {measured} of {want}: "
        f"suspect what they share: {egress}the switch or uplink between "
        f"{hop or 'this host'} and them"
    )
    if f.common_break is not None:
        text += f"; all of them break at the same place: {break_place(f.common_break)}"
    return text


# --------------------------------------------------------------------------
# Remarks and errors on one path


def _no_answer(r: Remark) -> str:
    why = r.fact("reason")
    tail = f" ({why})" if why else ": it drops echo requests, is down, or the path is cut"
    return f"no answer from {_s(r.fact('address'))}{tail}"


def _loss(r: Remark) -> str:
    return (
        f"{float(r.fact('loss') or 0):.0%} of probes that should pass were lost; "
        "sizes were retried until loss could not explain the result"
    )


def _ignored(r: Remark) -> str:
    return (
        f"{r.fact('count')} ICMP error(s) about {_s(r.fact('address'))} ignored: they quoted "
        "no probe of this run or claimed an impossible MTU (RFC 5927)"
    )


def _cache(r: Remark) -> str:
    value = r.fact("cached")
    return (
        f"the kernel has cached a path MTU of {value} toward {_s(r.fact('address'))}, "
        f"but {r.fact('measured')} was measured: applications here use {value} until it "
        "expires (`ip route flush cache` clears it)"
    )


def _changed(r: Remark) -> str:
    return (
        f"{r.fact('size')}-byte probes reached {_s(r.fact('target'))} this time: the path MTU "
        "changed during the run, or the loss was heavy"
    )


def _hop_changed(r: Remark) -> str:
    return (
        f"hop {r.fact('ttl')} answered from {_s(r.fact('first'))} and {_s(r.fact('then'))}: "
        "the path may change between probes (ECMP or a route flap)"
    )


def _local_side(r: Remark) -> str:
    return _s(r.fact("text"))


def _no_echo(r: Remark) -> str:
    port = r.fact("port")
    how = f"TCP port {port}" if port is not None else f"{_s(r.fact('protocol')).upper()} probes"
    return (
        f"no answer to ICMP echo (a firewall drops it): measured with {how} instead; "
        "their answers are small, so this is the way there only"
    )


def _skipped(r: Remark) -> str:
    what = {"flows": "the check over many flows", "soak": "the soak at the path MTU"}
    return (
        f"{what.get(str(r.fact('stage')), _s(r.fact('stage')))} was skipped: it runs for at "
        f"most {r.fact('limit')} targets at once"
    )


def _prober_limit(r: Remark) -> str:
    what = {
        "flows": "the check over many flows",
        "fallback": "the fallback for hosts that drop echo",
        "direction": "the one-way test (which way big packets die)",
    }
    protocol = _s(r.fact("protocol"))
    why = (
        "TCP probes need raw sockets (root or CAP_NET_RAW)"
        if protocol == "tcp"
        else f"the system's ping sends ICMP echo only, no {protocol.upper()} probes"
    )
    stage = str(r.fact("stage"))
    return f"{what.get(stage, _s(stage))} did without {protocol.upper()} probes: {why}"


def _overlay(r: Remark) -> str:
    iface, kind, mtu = _s(r.fact("interface")), _s(r.fact("kind")), r.fact("mtu")
    overhead, remote, under = r.fact("overhead"), _s(r.fact("remote")), r.fact("underlay_mtu")
    head = f"{iface} is a {kind} tunnel (MTU {mtu}, {overhead} bytes of encapsulation)"
    if r.fact("remote") is None:
        return f"{head}; the kernel names no single remote end: the underlay was not measured"
    if under is None:
        return f"{head}; the underlay toward {remote} could not be measured"
    ceiling, needed = r.fact("ceiling"), r.fact("needed")
    uif, uif_mtu = _s(r.fact("underlay_interface")), r.fact("underlay_interface_mtu")
    sums = (
        f"{head}; the underlay toward {remote} carries {under} ({uif} has MTU {uif_mtu}), "
        f"so the overlay carries at most {under} - {overhead} = {ceiling}"
    )
    short = r.fact("short")
    raise_to = int(needed or 0) + int(overhead or 0)
    if short == "overlay":
        return (
            f"{sums}, but {iface} has MTU {mtu}: the overlay is short by its encapsulation; "
            f"lower {iface} to MTU {ceiling}, or raise the underlay (and every port and router "
            f"toward {remote}) to {int(mtu or 0) + int(overhead or 0)}"
        )
    if (
        short == "underlay"
        and isinstance(under, int)
        and isinstance(uif_mtu, int)
        and under < uif_mtu
    ):
        return (
            f"{sums}: the underlay is short: a port or router between this host and "
            f"{remote} carries less than {uif}; raise it to {raise_to} for {needed} "
            "in the overlay"
        )
    if short == "underlay":
        return (
            f"{sums}: the underlay is short for {needed} in the overlay; raise {uif} and the "
            f"underlay toward {remote} to {raise_to}"
        )
    return f"{sums}: the tunnel carries {needed}; the limit is beyond its remote end"


def _shared(r: Remark) -> str:
    hops = r.fact("presumed_hops")
    head = (
        f"located from shared evidence: the first {hops} hop(s) and the limit were proved by "
        f"{_s(r.fact('leader'))}'s localization (same way out, same failing size)"
    )
    if r.fact("kind") == "ptb":
        own = r.fact("own_too_big")
        heard = f'; this path\'s own probes got {own} "too big" from it' if own else ""
        return (
            f'{head}: router {_s(r.fact("reporter"))} said "too big"{heard}, and this '
            f"target answered at the same distance (hop {r.fact('end_ttl')})"
        )
    return f"{head}; {r.fact('own_silent')} of this path's own big probes past it went unanswered"


_REMARK: dict[str, Callable[[Remark], str]] = {
    "no-answer": _no_answer,
    "loss-retried": _loss,
    "icmp-ignored": _ignored,
    "kernel-cache": _cache,
    "path-changed": _changed,
    "hop-changed": _hop_changed,
    "local-side": _local_side,
    "no-echo": _no_echo,
    "stage-skipped": _skipped,
    "prober-limit": _prober_limit,
    "overlay": _overlay,
    "shared-limit": _shared,
}


def remark_sentence(r: Remark) -> str:
    """One remark as a sentence."""
    explain = _REMARK.get(r.code)
    return explain(r) if explain is not None else _s(r.code)


def error_sentence(r: PathResult) -> str | None:
    """Why a path could not be measured (status error), or None."""
    if r.status is not Status.ERROR:
        return None
    if r.cause is Cause.INCONCLUSIVE:
        probes = next((st.probes for st in r.stages if st.name == "search"), r.probes_sent)
        return (
            f"inconclusive: {r.path_mtu} passes, larger sizes unproven after "
            f"{probes} probes (loss {r.loss:.0%})"
        )
    if r.cause is Cause.TIME_LIMIT:
        return "no answer before the time limit"
    return _s(r.error) if r.error else "not measured"


# --------------------------------------------------------------------------
# Flows and soak


def flows_sentence(r: PathResult) -> str | None:
    """What the flows showed, when some failed (or none could be judged)."""
    f = r.flows
    if f is None:
        return None
    how = f"{f.protocol.value.upper()}" + (f" port {f.port}" if f.port is not None else "")
    total = len(f.passing) + len(f.failing) + len(f.unknown)
    if f.failing:
        ports = ", ".join(str(p) for p in f.failing[:8]) + (" …" if len(f.failing) > 8 else "")
        where = f" after {_s(f.parted_after)}" if f.parted_after else ""
        mtu = f" (they carry {f.failing_mtu})" if f.failing_mtu else ""
        return (
            f"{len(f.failing)} of {total} {how} flows do not carry {f.size} bytes{mtu}; "
            f"their paths part from the others{where}{_legs_clause(r)}; failing source "
            f"ports: {ports} (reproduce with a fixed source port)"
        )
    if f.unknown and not f.passing:
        return f"the {total} {how} flows got no answer: the check over many flows says nothing"
    return None


def _legs_clause(r: PathResult) -> str:
    """Which legs out of this host the failing flows took, when none of them carried
    the size (a multipath route on this host: the bad leg starts here)."""
    assert r.flows is not None
    bad = [g.leg for g in r.flows.legs if g.failing and not g.passing]
    good = [g.leg for g in r.flows.legs if g.passing and not g.failing]
    if not bad or not good:
        return ""

    def name(legs: list[Leg]) -> str:
        return _join(
            [f"{g.interface or '?'}" + (f" via {g.next_hop}" if g.next_hop else "") for g in legs]
        )

    return f" (the failing flows leave this host by {name(bad)}, the others by {name(good)})"


def soak_sentence(r: PathResult) -> str | None:
    """What the soak showed, when big frames are lost more than small ones."""
    k = r.soak
    if k is None or not k.degraded:
        return None
    return (
        f"{k.big_lost} of {k.big_sent} {k.size}-byte probes were lost but only {k.small_lost} "
        f"of {k.small_sent} small ones (p = {k.p_value:.1e}): big frames are dropped on this "
        "path (a bad optic or cable, CRC errors at jumbo size): check the interface error "
        "counters along it"
    )
