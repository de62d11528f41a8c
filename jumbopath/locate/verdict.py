"""From what a localization saw to a :class:`~jumbopath.model.Break`: pure, data only.

The localizer keeps, per TTL, the address a hop answers from; these
functions turn that map and the facts of the run into a break with its
cause code. The sentences are written by :mod:`jumbopath.render.explain`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from jumbopath.locate.config import LocateConfig
from jumbopath.model import Break, BreakKind, Cause


@dataclass(frozen=True, slots=True)
class HopMap:
    """The hops a localization heard: TTL to the address that answered."""

    addresses: Mapping[int, str | None]
    """TTL to address (None: the hop never answered)."""
    top: int
    """The target's TTL when it answered, else the farthest hop that answered (0: none)."""

    def address(self, ttl: int) -> str | None:
        """Address at ``ttl``; None for TTL 0 (this host) or a quiet hop."""
        return self.addresses.get(ttl) if ttl > 0 else None

    def position(self, address: str) -> int | None:
        """Smallest TTL that answered from ``address``."""
        return next((t for t, a in sorted(self.addresses.items()) if a == address), None)


def _base(
    cfg: LocateConfig,
    *,
    kind: BreakKind,
    cause: Cause,
    after: str | None,
    before: str | None,
    mtu: int | None,
    reported_by: str | None,
    interface: str | None = None,
    quiet_hops: tuple[int, ...] = (),
    max_hops: int | None = None,
) -> Break:
    """A break of this localization's path and failing size."""
    return Break(
        kind=kind,
        after=after,
        before=before,
        mtu=mtu,
        reported_by=reported_by,
        cause=cause,
        size=cfg.fail_size,
        target=cfg.target,
        family=cfg.family,
        interface=interface,
        quiet_hops=quiet_hops,
        max_hops=max_hops,
    )


def local_break(cfg: LocateConfig, hops: HopMap, refused_mtu: int | None) -> Break:
    """The failing size does not fit the local egress interface."""
    mtu = refused_mtu or cfg.max_size
    return _base(
        cfg,
        kind=BreakKind.LOCAL_NIC,
        cause=Cause.LOCAL_MTU,
        after=None,
        before=hops.address(1),
        mtu=mtu,
        reported_by=None,
        interface=cfg.interface,
    )


def none_break(cfg: LocateConfig) -> Break | None:
    """Every hop up to the target passes the size tested."""
    if cfg.pass_size is None:
        return None
    return _base(
        cfg,
        kind=BreakKind.NONE,
        cause=Cause.NO_BREAK,
        after=None,
        before=None,
        mtu=cfg.pass_size,
        reported_by=None,
    )


def ptb_break(cfg: LocateConfig, hops: HopMap, ttl: int, mtu: int, reporter: str) -> Break:
    """A router answered big probes with "too big" (RFC 1191 / RFC 4443)."""
    position = hops.position(reporter)
    before = hops.address((position if position is not None else ttl - 1) + 1)
    return _base(
        cfg,
        kind=BreakKind.PTB,
        cause=Cause.ROUTER_TOO_BIG,
        after=reporter,
        before=before,
        mtu=mtu,
        reported_by=reporter,
    )


def silent_break(cfg: LocateConfig, hops: HopMap, reach: int, before_ttl: int | None) -> Break:
    """Big packets reach hop ``reach`` and never hop ``before_ttl``; nothing says why."""
    after = hops.address(reach)
    if cfg.ptb_hint is not None and after is not None and cfg.ptb_hint[1] == after:
        # The router spent its budget on the search's probes and is quiet now,
        # but it did say "too big" then: its report is the better verdict.
        return ptb_break(cfg, hops, reach + 1, cfg.ptb_hint[0], after)
    before = hops.address(before_ttl) if before_ttl is not None else None
    last = before_ttl if before_ttl is not None else hops.top + 1
    quiet = tuple(t for t in range(reach + 1, last) if hops.address(t) is None)
    if before is None and before_ttl is None:
        cause = Cause.SILENT_NO_NEXT_HOP
    elif after is None:
        cause = Cause.SILENT_FIRST_SEGMENT
    else:
        cause = Cause.SILENT_DROP
    return _base(
        cfg,
        kind=BreakKind.SILENT,
        cause=cause,
        after=after,
        before=before,
        mtu=cfg.pass_size,
        reported_by=None,
        quiet_hops=quiet,
        max_hops=cfg.max_hops if cause is Cause.SILENT_NO_NEXT_HOP else None,
    )


def unconfirmed(b: Break) -> Break:
    """The same break, marked as not confirmed (the time or probe bound ran out)."""
    return replace(b, confirmed=False)
