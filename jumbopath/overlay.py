"""Paths that leave through a tunnel: which side is short, the overlay or its underlay.

A VXLAN, Geneve, GRE, IP-in-IP or WireGuard interface wraps every packet in
its own headers (:data:`jumbopath.sizes.TUNNEL_OVERHEAD`) and sends it over
the underlay to the tunnel's remote end. With the outer don't-fragment bit
set (``df set``/``df inherit``, as a hardware VTEP does), the overlay carries
at most the underlay's path MTU minus the overhead: its *ceiling*.

The check measures the underlay path to the remote end too (the address the
kernel has for the tunnel, ``ip -d -j link show``) and :func:`judge` says
which side falls short, from data only:

``underlay``
    The underlay toward the remote end carries less than its own egress
    interface (a switch port or router in the underlay is smaller), or its
    MTU is too small for what the overlay should carry: raise the underlay.
``overlay``
    The underlay carries its MTU, but the tunnel's MTU is set above the
    ceiling (the encapsulation was forgotten): lower the tunnel's MTU to the
    ceiling, or raise the underlay by the overhead.
None
    The tunnel carries what is asked: the limit is beyond its far end.

Reading the tunnel is the only I/O here (:func:`read_tunnel`); the rest is pure.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jumbopath.model import Cause, Remark, remark
from jumbopath.sizes import TUNNEL_OVERHEAD

#: Kinds whose remote end is in ``info_data`` as ``remote`` or ``remote6``.
_REMOTE_KEYS = ("remote", "remote6")
#: IPv6-underlay kinds, whatever the address looks like.
_V6_KINDS = frozenset({"ip6gre", "ip6gretap", "ip6tnl"})


@dataclass(frozen=True, slots=True)
class Tunnel:
    """A tunnel interface as the kernel has it."""

    interface: str
    """Interface name (``vx0``)."""
    kind: str
    """vxlan, geneve, gre, gretap, ip6gre, ip6gretap, ipip, sit, ip6tnl or wireguard."""
    mtu: int
    """The tunnel interface's MTU (what the overlay is set to carry)."""
    remote: str | None
    """The remote end's underlay address; None when the kernel names none (multicast
    group, several WireGuard peers)."""
    overhead: int
    """Bytes the encapsulation adds on the underlay."""
    family: int
    """The underlay's family (4 or 6)."""


@dataclass(frozen=True, slots=True)
class Overlay:
    """The overlay's arithmetic for one path: the facts of the ``overlay`` remark."""

    tunnel: Tunnel
    """The tunnel the path leaves through."""
    underlay_mtu: int | None
    """Path MTU measured over the underlay to the remote end; None: not measured."""
    underlay_interface: str | None
    """This host's egress interface toward the remote end."""
    underlay_interface_mtu: int | None
    """Its MTU."""
    needed: int
    """What the overlay should carry (``--expect``, else the tunnel's MTU)."""
    short: str | None
    """"underlay", "overlay", or None when the tunnel carries what is asked."""

    @property
    def ceiling(self) -> int | None:
        """The largest packet the overlay can carry: underlay path MTU - overhead."""
        if self.underlay_mtu is None:
            return None
        return self.underlay_mtu - self.tunnel.overhead

    @property
    def limit(self) -> int | None:
        """What the tunnel lets through: its MTU or the ceiling, the smaller."""
        return None if self.ceiling is None else min(self.ceiling, self.tunnel.mtu)

    @property
    def cause(self) -> Cause | None:
        """The cause code when the tunnel is the short element."""
        return {"overlay": Cause.OVERLAY_ENCAPSULATION, "underlay": Cause.UNDERLAY_SHORT}.get(
            self.short or ""
        )


# --------------------------------------------------------------------------
# Pure: the tunnel from ip's JSON, and the verdict


def tunnel_from_link(link: Mapping[str, Any], endpoints: str | None = None) -> Tunnel | None:
    """The tunnel one ``ip -d -j link show`` entry describes; None for other kinds.

    ``endpoints`` is ``wg show IF endpoints`` for a WireGuard interface (its
    peers are not in ip's JSON): the remote end when there is exactly one peer.
    """
    info = link.get("linkinfo")
    if not isinstance(info, Mapping):
        return None
    kind = str(info.get("info_kind") or "")
    data = info.get("info_data")
    data = data if isinstance(data, Mapping) else {}
    remote = None
    if kind == "wireguard":
        remote = _wireguard_remote(endpoints or "")
    else:
        for key in _REMOTE_KEYS:
            if isinstance(data.get(key), str):
                remote = _address(data[key])
                break
    family = 6 if kind in _V6_KINDS or (remote is not None and ":" in remote) else 4
    if kind in ("vxlan", "geneve") and "remote6" in data:
        family = 6
    overhead = TUNNEL_OVERHEAD.get((kind, family))
    mtu = link.get("mtu")
    name = link.get("ifname")
    if overhead is None or not isinstance(mtu, int) or not isinstance(name, str):
        return None
    return Tunnel(name, kind, mtu, remote, overhead, family)


def _address(text: str) -> str | None:
    try:
        found = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    return None if found.is_multicast or found.is_unspecified else str(found)


def _wireguard_remote(endpoints: str) -> str | None:
    """The one peer's address from ``wg show IF endpoints`` (``KEY\\tADDR:PORT`` lines)."""
    found = []
    for line in endpoints.splitlines()[:64]:
        _, _, endpoint = line.partition("\t")
        host = endpoint.strip().rpartition(":")[0].strip("[]")
        if host and (address := _address(host)) is not None:
            found.append(address)
    return found[0] if len(found) == 1 else None


def judge(
    tunnel: Tunnel,
    underlay_mtu: int | None,
    underlay_interface: str | None,
    underlay_interface_mtu: int | None,
    expected: int | None,
) -> Overlay:
    """Which side is short (see the module docstring)."""
    needed = expected if expected is not None else tunnel.mtu
    short: str | None = None
    if underlay_mtu is not None:
        ceiling = underlay_mtu - tunnel.overhead
        if underlay_interface_mtu is not None and underlay_mtu < underlay_interface_mtu:
            short = "underlay"
        elif tunnel.mtu > ceiling:
            short = "overlay"
        elif ceiling < needed:
            short = "underlay"
    return Overlay(tunnel, underlay_mtu, underlay_interface, underlay_interface_mtu, needed, short)


def explains(overlay: Overlay, path_mtu: int | None) -> bool:
    """Whether the tunnel is what limits a path that measured ``path_mtu``.

    The overlay path carries exactly what the tunnel lets through; more would
    mean the underlay fragments (outer DF off), less a limit beyond the tunnel.
    """
    return overlay.short is not None and path_mtu is not None and path_mtu == overlay.limit


def as_remark(o: Overlay) -> Remark:
    """The ``overlay`` remark: every number of the arithmetic."""
    t = o.tunnel
    return remark(
        "overlay",
        interface=t.interface,
        kind=t.kind,
        mtu=t.mtu,
        remote=t.remote,
        overhead=t.overhead,
        underlay_mtu=o.underlay_mtu,
        underlay_interface=o.underlay_interface,
        underlay_interface_mtu=o.underlay_interface_mtu,
        ceiling=o.ceiling,
        needed=o.needed,
        short=o.short,
    )


# --------------------------------------------------------------------------
# I/O


def read_tunnel(
    interface: str, run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run
) -> Tunnel | None:
    """The tunnel ``interface`` is, from the kernel; None when it is none (or unreadable)."""
    try:
        done = run(
            ["ip", "-d", "-j", "link", "show", "dev", interface],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        links = json.loads(done.stdout) if done.returncode == 0 else []
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None
    if not isinstance(links, list) or not links or not isinstance(links[0], Mapping):
        return None
    link = links[0]
    endpoints = None
    if (link.get("linkinfo") or {}).get("info_kind") == "wireguard":
        try:
            wg = run(
                ["wg", "show", interface, "endpoints"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
            endpoints = wg.stdout if wg.returncode == 0 else None
        except (OSError, subprocess.TimeoutExpired):
            endpoints = None
    return tunnel_from_link(link, endpoints)
