"""Which leg of a multipath route one flow takes: the kernel's own answer, over netlink.

A host that routes (a multipath default route toward two top-of-rack
switches, ``net.ipv4.fib_multipath_hash_policy=1``) hashes each flow's
addresses and ports onto one next hop. Packets sent on raw sockets are
routed without their ports, so every raw probe takes the same leg whatever
its flow. ``RTM_GETROUTE`` with the flow's protocol and ports
(``RTA_IP_PROTO``, ``RTA_SPORT``, ``RTA_DPORT``; Linux 4.17 and later) asks
the kernel which leg a socket of that flow would use: the same question as
``ip route get DST ipproto tcp sport S dport D``. The raw prober then sends
the flow's probe to that leg's next hop (:mod:`jumbopath.probers.raw`).

Only the standard library: a netlink socket, ``struct`` for the messages
(``rtnetlink(7)``, ``<linux/rtnetlink.h>``). Building and parsing are pure
functions; :class:`RouteLookup` is the thin socket adapter. Any failure
(no netlink, an old kernel, no route) is ``None``: the probe then goes the
way it always went.
"""

from __future__ import annotations

import contextlib
import socket
import struct
from dataclasses import dataclass

# <linux/netlink.h> and <linux/rtnetlink.h>
NETLINK_ROUTE = 0
NLMSG_ERROR = 2
NLMSG_DONE = 3
RTM_NEWROUTE = 24
RTM_GETROUTE = 26
NLM_F_REQUEST = 1
RTA_DST = 1
RTA_OIF = 4
RTA_GATEWAY = 5
RTA_PREFSRC = 7
RTA_VIA = 18
RTA_IP_PROTO = 27
RTA_SPORT = 28
RTA_DPORT = 29

_NLMSGHDR = struct.Struct("=IHHII")
_RTMSG = struct.Struct("=BBBBBBBBI")
_RTATTR = struct.Struct("=HH")
_ADDR_LEN = {4: 4, 6: 16}
_AF = {4: socket.AF_INET, 6: socket.AF_INET6}

#: Longest netlink answer read (one route: well under a kilobyte).
MAX_ANSWER = 8192
#: How long one lookup may wait for the kernel's answer.
LOOKUP_TIMEOUT_S = 0.2


@dataclass(frozen=True, slots=True)
class Route:
    """The kernel's route for one flow."""

    ifindex: int
    """Egress interface index."""
    gateway: str | None
    """Next hop (None: the destination is on the link)."""
    source: str | None
    """Source address the kernel would use."""
    foreign_gateway: bool = False
    """The next hop is of the other family (an IPv4 route via an IPv6 link-local
    address, RFC 5549): it cannot be the address an IPv4 probe is sent to."""


def _align(n: int) -> int:
    return (n + 3) & ~3


def _attr(kind: int, value: bytes) -> bytes:
    size = _RTATTR.size + len(value)
    return (_RTATTR.pack(size, kind) + value).ljust(_align(size), b"\0")


def request(
    family: int, address: str, proto: int, sport: int, dport: int, seq: int, oif: int = 0
) -> bytes:
    """An ``RTM_GETROUTE`` message for one flow (ports 0: a lookup without ports)."""
    body = _RTMSG.pack(_AF[family], _ADDR_LEN[family] * 8, 0, 0, 0, 0, 0, 0, 0)
    body += _attr(RTA_DST, socket.inet_pton(_AF[family], address))
    body += _attr(RTA_IP_PROTO, bytes([proto]))
    if sport or dport:
        body += _attr(RTA_SPORT, struct.pack("!H", sport))
        body += _attr(RTA_DPORT, struct.pack("!H", dport))
    if oif:
        body += _attr(RTA_OIF, struct.pack("=I", oif))
    return _NLMSGHDR.pack(_NLMSGHDR.size + len(body), RTM_GETROUTE, NLM_F_REQUEST, seq, 0) + body


def parse(family: int, data: bytes, seq: int) -> Route | None:
    """The route in the kernel's answer to message ``seq`` (None: an error, or not ours)."""
    at = 0
    while at + _NLMSGHDR.size <= len(data):
        length, kind, _, got, _ = _NLMSGHDR.unpack_from(data, at)
        if length < _NLMSGHDR.size or at + length > len(data):
            return None
        if got == seq and kind == RTM_NEWROUTE:
            return _route(family, data[at + _NLMSGHDR.size : at + length])
        if got == seq and kind in (NLMSG_ERROR, NLMSG_DONE):
            return None
        at += _align(length)
    return None


def _route(family: int, body: bytes) -> Route | None:
    if len(body) < _RTMSG.size or body[0] != _AF[family]:
        return None
    at = _RTMSG.size
    attrs: dict[int, bytes] = {}
    while at + _RTATTR.size <= len(body):
        size, kind = _RTATTR.unpack_from(body, at)
        if size < _RTATTR.size or at + size > len(body):
            break
        attrs.setdefault(kind, body[at + _RTATTR.size : at + size])
        at += _align(size)
    oif = attrs.get(RTA_OIF)
    if oif is None or len(oif) != 4:
        return None

    def address(kind: int) -> str | None:
        raw = attrs.get(kind)
        if raw is None or len(raw) != _ADDR_LEN[family]:
            return None
        return socket.inet_ntop(_AF[family], raw)

    ifindex = struct.unpack("=I", oif)[0]
    via = attrs.get(RTA_VIA, b"")
    if len(via) == 2 + 16 and struct.unpack_from("=H", via)[0] == socket.AF_INET6:
        gateway = socket.inet_ntop(socket.AF_INET6, via[2:])
        return Route(ifindex, gateway, address(RTA_PREFSRC), foreign_gateway=family == 4)
    return Route(ifindex, address(RTA_GATEWAY), address(RTA_PREFSRC))


class RouteLookup:
    """Asks the kernel's routing table over one netlink socket, opened on first use."""

    def __init__(self) -> None:
        self._sock: socket.socket | None = None
        self._seq = 0
        self._broken = False

    def route(
        self, family: int, address: str, proto: int, sport: int = 0, dport: int = 0, oif: int = 0
    ) -> Route | None:
        """The route a socket of this flow would take (None: netlink could not say)."""
        sock = self._open()
        if sock is None:
            return None
        self._seq = (self._seq + 1) & 0x7FFFFFFF
        try:
            sock.send(request(family, address, proto, sport, dport, self._seq, oif))
            for _ in range(4):  # bounded: stale answers of a timed-out lookup are skipped
                data = sock.recv(MAX_ANSWER)
                found = parse(family, data, self._seq)
                if found is not None or _answers(data, self._seq):
                    return found
        except TimeoutError:
            self._broken = True  # a kernel that does not answer once is not asked again
            self.close()
            return None
        except (OSError, ValueError):
            return None
        return None

    def _open(self) -> socket.socket | None:
        if self._sock is None and not self._broken:
            try:
                sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
                sock.settimeout(LOOKUP_TIMEOUT_S)
                sock.bind((0, 0))
            except (OSError, AttributeError):
                self._broken = True
                return None
            self._sock = sock
        return self._sock

    def close(self) -> None:
        """Release the socket."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None


def _answers(data: bytes, seq: int) -> bool:
    """Whether ``data`` holds any message answering ``seq`` (an error counts)."""
    at = 0
    while at + _NLMSGHDR.size <= len(data):
        length, _, _, got, _ = _NLMSGHDR.unpack_from(data, at)
        if got == seq:
            return True
        if length < _NLMSGHDR.size:
            return False
        at += _align(length)
    return False


def interface_name(ifindex: int) -> str | None:
    """The name of interface ``ifindex`` (None: gone)."""
    try:
        return socket.if_indextoname(ifindex)
    except OSError:
        return None


_IPV4 = struct.Struct("!BBHHHBBH4s4s")
_IPV6 = struct.Struct("!IHBB16s16s")
#: Don't fragment (RFC 791), in the IPv4 header's flags and fragment offset.
IP_DF = 0x4000


def ip_header(family: int, source: str, target: str, proto: int, payload: int, ttl: int) -> bytes:
    """The IP header of a probe sent on a header-including raw socket: DF set (IPv4;
    IPv6 routers never fragment), the kernel fills the IPv4 identification and checksum."""
    af = _AF[family]
    src, dst = socket.inet_pton(af, source), socket.inet_pton(af, target)
    if family == 4:
        return _IPV4.pack(0x45, 0, _IPV4.size + payload, 0, IP_DF, ttl, proto, 0, src, dst)
    return _IPV6.pack(6 << 28, payload, proto, ttl, src, dst)


def pseudo_header(family: int, source: str, target: str, proto: int, length: int) -> bytes:
    """The pseudo-header a TCP or UDP checksum covers (RFC 9293 3.1, RFC 8200 8.1)."""
    af = _AF[family]
    src, dst = socket.inet_pton(af, source), socket.inet_pton(af, target)
    if family == 4:
        return src + dst + struct.pack("!BBH", 0, proto, length)
    return src + dst + struct.pack("!I3xB", length, proto)
