"""ICMP facts every socket prober shares: code tables, socket options, drop counts.

No scapy here: the ping-socket prober imports this module alone, so an
unprivileged check starts as fast as a raw one.
"""

from __future__ import annotations

import errno
import socket
import struct

from jumbopath.model import Unreach

# Socket options from <linux/in.h> and <linux/in6.h> that Python does not export.
IP_MTU_DISCOVER = 10
IP_PMTUDISC_PROBE = 3
IP_RECVERR = 11
IPV6_MTU_DISCOVER = 23
IPV6_PMTUDISC_PROBE = 3
IPV6_RECVERR = 25
IPV6_DONTFRAG = 62

#: Receive-side options from <asm-generic/socket.h>: kernel receive timestamps.
SO_TIMESTAMPNS = 35

#: ICMP destination-unreachable codes (RFC 792, RFC 1122, RFC 1812) other than 4.
ICMP4_UNREACH: dict[int, Unreach] = {
    0: Unreach.NETWORK,
    1: Unreach.HOST,
    2: Unreach.PROTOCOL,
    3: Unreach.PORT,
    5: Unreach.SOURCE_ROUTE,
    6: Unreach.NETWORK_UNKNOWN,
    7: Unreach.HOST_UNKNOWN,
    9: Unreach.PROHIBITED,
    10: Unreach.PROHIBITED,
    11: Unreach.TOS,
    12: Unreach.TOS,
    13: Unreach.PROHIBITED,
    14: Unreach.PRECEDENCE,
    15: Unreach.PRECEDENCE,
}

#: ICMPv6 destination-unreachable codes (RFC 4443 section 3.1).
ICMP6_UNREACH: dict[int, Unreach] = {
    0: Unreach.NO_ROUTE,
    1: Unreach.PROHIBITED,
    2: Unreach.SCOPE,
    3: Unreach.ADDRESS,
    4: Unreach.PORT,
    5: Unreach.POLICY,
    6: Unreach.REJECT_ROUTE,
}

#: Errors from sendto() that mean "could not send this one", not "too big".
SEND_ERRORS: dict[int, Unreach] = {
    errno.ENETUNREACH: Unreach.LOCAL_NETWORK,
    errno.EHOSTUNREACH: Unreach.LOCAL_NEIGHBOUR,
    errno.EPERM: Unreach.LOCAL_FIREWALL,
    errno.EACCES: Unreach.LOCAL_FIREWALL,
}

#: SO_MEMINFO (<linux/sock_diag.h>): the socket's memory counters; index 8 is drops.
SO_MEMINFO = 55
_MEMINFO = struct.Struct("@9I")


def meminfo_drops(sock: socket.socket) -> int | None:
    """Packets the kernel dropped on ``sock`` so far (None when it will not say)."""
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, SO_MEMINFO, _MEMINFO.size)
    except OSError:
        return None
    if len(raw) < _MEMINFO.size:
        return None
    return int(_MEMINFO.unpack_from(raw)[8])
