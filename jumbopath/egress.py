"""Local facts about the way out to a target: resolve, route, interface, cached MTU.

Nothing here sends a packet: a connected UDP socket asks the kernel's
routing table which source address and interface it would use, and what
path MTU it has cached (``IP_MTU`` / ``IPV6_MTU``). psutil supplies the
interface's configured MTU and state (netifaces, named in early designs,
is unmaintained and cannot report an MTU).
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from dataclasses import dataclass
from pathlib import Path

import psutil

from jumbopath.errors import InterfaceDown, NoRoute, UsageError
from jumbopath.probers.base import Target

IP_MTU = 14  # <linux/in.h>
IPV6_MTU = 24  # <linux/in6.h>


@dataclass(frozen=True, slots=True)
class Egress:
    """How the kernel would send to one target."""

    source: str
    """Source address it would use."""
    interface: str | None
    """Interface that holds the source address."""
    interface_mtu: int | None
    """Configured MTU of that interface."""
    route_mtu: int | None
    """The MTU the kernel currently uses toward the target (includes its PMTU cache)."""


def resolve(names: list[str], family: int | None) -> list[Target]:
    """Turn names and addresses into targets; ``family`` 4, 6 or None for both.

    Raises :class:`UsageError` for names that do not resolve.
    """
    targets: list[Target] = []
    seen: set[tuple[str, int]] = set()
    for name in names:
        literal = _literal(name)
        if literal is not None:
            if family is not None and literal.version != family:
                raise UsageError(
                    f"{name} is an IPv{literal.version} address but -{family} was given: "
                    f"drop -{family} or give an IPv{family} address"
                )
            found: list[tuple[int, str]] = [(literal.version, str(literal))]
        else:
            found = _lookup(name, family)
        for fam, addr in found:
            if (addr, fam) not in seen:
                seen.add((addr, fam))
                targets.append(Target(name=name, address=addr, family=fam))
    return targets


def _literal(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return None


def _lookup(name: str, family: int | None) -> list[tuple[int, str]]:
    af = {4: socket.AF_INET, 6: socket.AF_INET6, None: socket.AF_UNSPEC}[family]
    try:
        infos = socket.getaddrinfo(name, None, af, socket.SOCK_DGRAM)
    except (socket.gaierror, UnicodeError) as exc:
        want = f" (IPv{family})" if family else ""
        raise UsageError(
            f"cannot resolve {name!r}{want}: check the name, /etc/hosts or DNS, or give an address"
        ) from exc
    # First address of each family, in the resolver's order.
    chosen: dict[int, str] = {}
    for fam, _, _, _, sockaddr in infos:
        version = 4 if fam == socket.AF_INET else 6
        chosen.setdefault(version, str(sockaddr[0]).split("%")[0])
    return sorted(chosen.items())


def _interface_of(source: str) -> str | None:
    for name, addrs in psutil.net_if_addrs().items():
        for addr in addrs:
            if addr.address.split("%")[0] == source:
                return name
    return None


def _operstate(interface: str) -> str:
    try:
        return Path(f"/sys/class/net/{interface}/operstate").read_text().strip()
    except OSError:
        return "unknown"


def egress(target: Target) -> Egress:
    """Route lookup toward ``target``. Raises NoRoute or InterfaceDown."""
    af = socket.AF_INET if target.family == 4 else socket.AF_INET6
    with socket.socket(af, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect((target.address, 9))
        except OSError as exc:
            if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL):
                down = [n for n, s in psutil.net_if_stats().items() if not s.isup and n != "lo"]
                hint = f" (interfaces down: {', '.join(sorted(down))})" if down else ""
                raise NoRoute(
                    f"no route to {target.address}{hint}: check the address, "
                    f"`ip route get {target.address}` and the interface"
                ) from exc
            raise
        source = sock.getsockname()[0].split("%")[0]
        try:
            if target.family == 4:
                route_mtu = sock.getsockopt(socket.IPPROTO_IP, IP_MTU)
            else:
                route_mtu = sock.getsockopt(socket.IPPROTO_IPV6, IPV6_MTU)
        except OSError:
            route_mtu = None
    interface = _interface_of(source)
    interface_mtu = None
    if interface is not None:
        stats = psutil.net_if_stats().get(interface)
        interface_mtu = stats.mtu if stats else None
        state = _operstate(interface)
        if (stats is not None and not stats.isup) or state in ("down", "lowerlayerdown"):
            raise InterfaceDown(
                f"interface {interface} toward {target.address} is down (state {state}): "
                f"check the cable and switch port, or `ip link set {interface} up`"
            )
    return Egress(source, interface, interface_mtu, route_mtu)
