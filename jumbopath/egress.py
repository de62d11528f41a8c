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


#: Longest interface name Linux accepts (IFNAMSIZ 16, with the terminating NUL).
MAX_IFNAME = 15

#: What the example in a link-local hint names: any real interface would do.
EXAMPLE_IFNAME = "eth0"


def resolve(names: list[str], family: int | None) -> list[Target]:
    """Turn names and addresses into targets; ``family`` 4, 6 or None for both.

    An IPv6 link-local address (fe80::/10) is only meaningful on one link:
    it must name its interface (``fe80::1%eth0``, or an index ``fe80::1%2``),
    and the scope travels in :attr:`Target.scope_id`.

    Raises :class:`UsageError` for names that do not resolve and for
    link-local addresses without a usable interface.
    """
    targets: list[Target] = []
    seen: set[tuple[str, int, int]] = set()
    for name in names:
        scoped = _scoped_literal(name)
        literal = scoped[0] if scoped is not None else _literal(name)
        if literal is not None:
            if family is not None and literal.version != family:
                raise UsageError(
                    f"{name} is an IPv{literal.version} address but -{family} was given: "
                    f"drop -{family} or give an IPv{family} address"
                )
            scope = _scope_id(name, literal, scoped[1] if scoped is not None else None)
            found: list[tuple[int, str, int]] = [(literal.version, str(literal), scope)]
        else:
            found = _lookup(name, family)
        for fam, addr, scope in found:
            if (addr, fam, scope) not in seen:
                seen.add((addr, fam, scope))
                targets.append(Target(name=name, address=addr, family=fam, scope_id=scope))
    return targets


def _literal(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return None


def _scoped_literal(name: str) -> tuple[ipaddress.IPv6Address, str] | None:
    """``fe80::1%eth0`` as (fe80::1, "eth0"); None unless an IPv6 address carries a scope."""
    address, sep, scope = name.strip("[]").partition("%")
    if not sep:
        return None
    try:
        literal = ipaddress.IPv6Address(address)
    except ValueError:
        return None
    return literal, scope


def _valid_ifname(scope: str) -> bool:
    """True when Linux could have an interface called ``scope`` (dev_valid_name)."""
    if not scope or len(scope.encode("utf-8", "surrogatepass")) > MAX_IFNAME:
        return False
    if scope in (".", ".."):
        return False
    return scope.isprintable() and not any(c in "/:%" or c.isspace() for c in scope)


def _link_local_hint(address: str) -> str:
    return f"name the interface, e.g. {address}%{EXAMPLE_IFNAME}"


def _scope_id(
    name: str, literal: ipaddress.IPv4Address | ipaddress.IPv6Address, scope: str | None
) -> int:
    """The interface index of a link-local literal (0 for every other address)."""
    link_local = isinstance(literal, ipaddress.IPv6Address) and literal.is_link_local
    if scope is None:
        if link_local:
            raise UsageError(f"{literal} is link-local: {_link_local_hint(str(literal))}")
        return 0
    if not link_local:
        raise UsageError(
            f"{name}: only a link-local address (fe80::/10) takes an interface after '%': "
            f"drop %{scope}"
        )
    if scope.isdigit() and scope.isascii():
        index = int(scope)
        try:
            socket.if_indextoname(index)
        except (OSError, OverflowError, ValueError):
            raise UsageError(
                f"{literal} is link-local but this host has no interface number {scope}: "
                f"{_link_local_hint(str(literal))}"
            ) from None
        return index
    if not _valid_ifname(scope):
        raise UsageError(
            f"{literal} is link-local but {scope!r} cannot name an interface: "
            f"{_link_local_hint(str(literal))}"
        )
    try:
        return socket.if_nametoindex(scope)
    except OSError:
        raise UsageError(
            f"{literal} is link-local but this host has no interface {scope!r}: "
            f"{_link_local_hint(str(literal))}"
        ) from None


def _lookup(name: str, family: int | None) -> list[tuple[int, str, int]]:
    af = {4: socket.AF_INET, 6: socket.AF_INET6, None: socket.AF_UNSPEC}[family]
    try:
        infos = socket.getaddrinfo(name, None, af, socket.SOCK_DGRAM)
    except (socket.gaierror, UnicodeError, ValueError) as exc:
        # ValueError: a NUL in the name; UnicodeError: a label IDNA cannot encode.
        want = f" (IPv{family})" if family else ""
        raise UsageError(
            f"cannot resolve {name!r}{want}: check the name, /etc/hosts or DNS, or give an address"
        ) from exc
    # First address of each family, in the resolver's order.
    chosen: dict[int, tuple[str, int]] = {}
    for fam, _, _, _, sockaddr in infos:
        version = 4 if fam == socket.AF_INET else 6
        address = str(sockaddr[0]).split("%")[0]
        scope = int(sockaddr[3]) if version == 6 and len(sockaddr) > 3 else 0
        chosen.setdefault(version, (address, scope))
    for version, (address, scope) in chosen.items():
        if version == 6 and scope == 0 and ipaddress.IPv6Address(address).is_link_local:
            raise UsageError(
                f"{name!r} resolves to {address}, which is link-local: "
                f"give the address with its interface, e.g. {address}%{EXAMPLE_IFNAME}"
            )
    return sorted((version, address, scope) for version, (address, scope) in chosen.items())


def _interface_of(source: str) -> str | None:
    for name, addrs in psutil.net_if_addrs().items():
        for addr in addrs:
            if addr.address.split("%")[0] == source:
                return name
    return None


def _interface_name(index: int) -> str | None:
    if not index:
        return None
    try:
        return socket.if_indextoname(index)
    except OSError:
        return None


def _shown(target: Target) -> str:
    """The address as a user types it: with ``%interface`` when it has a scope."""
    if not target.scope_id:
        return target.address
    return f"{target.address}%{_interface_name(target.scope_id) or target.scope_id}"


def sockaddr_of(target: Target, port: int) -> tuple[str, int] | tuple[str, int, int, int]:
    """The socket address of ``target``: IPv6 carries its scope (flowinfo 0)."""
    if target.family == 4:
        return (target.address, port)
    return (target.address, port, 0, target.scope_id)


def _operstate(interface: str) -> str:
    try:
        return Path(f"/sys/class/net/{interface}/operstate").read_text().strip()
    except OSError:
        return "unknown"


def _route(target: Target) -> tuple[str, int | None]:
    """The source address the kernel would use toward ``target``, and the MTU of
    its route (its path MTU cache included). Raises NoRoute."""
    af = socket.AF_INET if target.family == 4 else socket.AF_INET6
    shown = _shown(target)
    with socket.socket(af, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(sockaddr_of(target, 9))
        except OSError as exc:
            if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL):
                down = [n for n, s in psutil.net_if_stats().items() if not s.isup and n != "lo"]
                hint = f" (interfaces down: {', '.join(sorted(down))})" if down else ""
                raise NoRoute(
                    f"no route to {shown}{hint}: check the address, "
                    f"`ip route get {shown}` and the interface"
                ) from exc
            raise NoRoute(
                f"the kernel refused a route lookup toward {shown} ({exc.strerror}): "
                f"check the address and `ip route get {shown}`"
            ) from exc
        source = sock.getsockname()[0].split("%")[0]
        try:
            if target.family == 4:
                route_mtu = sock.getsockopt(socket.IPPROTO_IP, IP_MTU)
            else:
                route_mtu = sock.getsockopt(socket.IPPROTO_IPV6, IPV6_MTU)
        except OSError:
            route_mtu = None
    return source, route_mtu


def route_mtu(target: Target) -> int | None:
    """The MTU the kernel uses toward ``target`` now (its path MTU cache included);
    None when there is no route. No interface lookup: cheap enough for every target."""
    try:
        return _route(target)[1]
    except NoRoute:
        return None


def egress(target: Target) -> Egress:
    """Route lookup toward ``target``. Raises NoRoute or InterfaceDown."""
    source, cached = _route(target)
    # A link-local source address may exist on several interfaces: the scope names it.
    interface = _interface_name(target.scope_id) or _interface_of(source)
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
    return Egress(source, interface, interface_mtu, cached)
