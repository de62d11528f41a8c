"""The unprivileged prober: ICMP datagram ("ping") sockets and ordinary UDP sockets.

Linux lets a user whose group is in ``net.ipv4.ping_group_range`` open
``socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)`` (and the ICMPv6 one): the
kernel sends the echo requests we write and hands back the echo replies to
them. With ``IP_RECVERR`` / ``IPV6_RECVERR`` the ICMP errors our probes
cause ("fragmentation needed" / "packet too big" with the MTU, "time
exceeded", unreachable) arrive on the socket's error queue
(``recvmsg(MSG_ERRQUEUE)``, a ``struct sock_extended_err`` naming the
offender): this is how iputils ping and tracepath work without privileges.
UDP probes go through ordinary UDP sockets and learn their fate the same way;
the target's own "port unreachable" proves a probe arrived.

Sockets use ``IP_PMTUDISC_PROBE`` / ``IPV6_PMTUDISC_PROBE`` as the raw
prober does: DF set, the kernel's cached path MTU ignored, only the
interface MTU enforced (EMSGSIZE above it).

The kernel rewrites the ICMP identifier of a ping socket (it is the
socket's "port"), so replies and quoted probes are matched by destination,
sequence number and this run's random nonce at the start of the payload
(RFC 5927). TCP probes need raw sockets and are not offered here.
"""

from __future__ import annotations

import errno
import os
import select
import socket
import struct
import time
from dataclasses import dataclass

from jumbopath.egress import sockaddr_of
from jumbopath.errors import CannotMeasure, NoPrivilege
from jumbopath.model import (
    Answer,
    LocalRefused,
    Outcome,
    ProbeRequest,
    Protocol,
    Reply,
    TimeExceeded,
    TooBig,
    Unreach,
    Unreachable,
)
from jumbopath.probers.base import Target
from jumbopath.probers.icmp import (
    ICMP4_UNREACH,
    ICMP6_UNREACH,
    IP_MTU_DISCOVER,
    IP_PMTUDISC_PROBE,
    IP_RECVERR,
    IPV6_DONTFRAG,
    IPV6_MTU_DISCOVER,
    IPV6_PMTUDISC_PROBE,
    IPV6_RECVERR,
    SEND_ERRORS,
    SO_TIMESTAMPNS,
    meminfo_drops,
)
from jumbopath.sizes import ICMP_OVERHEAD, UDP_OVERHEAD, next_plateau_below

NONCE_LEN = 8
#: Destination ports of one-way UDP probes: traceroute's range, normally closed.
UDP_BASE_PORT = 33434
UDP_PORTS = 1000
PROBE_ID = struct.Struct("!I")
_ECHO = struct.Struct("!BBHHH")
#: ``struct sock_extended_err`` (<linux/errqueue.h>); the offender's sockaddr follows it.
_EXT_ERR = struct.Struct("=IBBBBII")
SO_EE_ORIGIN_LOCAL = 1
SO_EE_ORIGIN_ICMP = 2
SO_EE_ORIGIN_ICMP6 = 3
_TIMESPEC = struct.Struct("@ll")
#: Room for the error and the timestamp control messages of one message.
ANCILLARY_BYTES = socket.CMSG_SPACE(_EXT_ERR.size + 28) + socket.CMSG_SPACE(_TIMESPEC.size)
#: Bytes of a queued error worth reading (the quoted probe; at most 1280 for ICMPv6).
PARSE_BYTES = 1280
#: Receive buffer asked for (an unprivileged socket gets at most net.core.rmem_max).
BUFFER_BYTES = 8 << 20
ECHO_REPLY = {4: 0, 6: 129}
ECHO_REQUEST = {4: 8, 6: 128}

#: The one-line fix when neither raw nor ping sockets are allowed.
FIXES = (
    'allow ping sockets for your group (sudo sysctl -w net.ipv4.ping_group_range="{gid} {gid}"), '
    "or give the interpreter raw sockets (sudo setcap cap_net_raw+ep {python}), "
    "or run with sudo; --via ping uses the system's ping instead"
)


def fixes() -> str:
    """The exact commands that let this user probe, for this user and interpreter."""
    import sys

    return FIXES.format(gid=os.getgid(), python=os.path.realpath(sys.executable))


def ping_sockets_allowed() -> bool:
    """Whether this process may open an ICMP datagram socket (IPv4, else IPv6)."""
    for af, proto in ((socket.AF_INET, socket.IPPROTO_ICMP), (socket.AF_INET6, 58)):
        try:
            socket.socket(af, socket.SOCK_DGRAM, proto).close()
            return True
        except PermissionError:
            return False
        except OSError:
            continue  # this family is not built in; try the other
    return False


@dataclass(slots=True)
class _Sent:
    token: int
    target: Target
    size: int
    sent_at: float
    protocol: Protocol


class PingSocketProber:
    """Implements :class:`jumbopath.probers.base.Prober` without privileges."""

    protocols = frozenset({Protocol.ICMP, Protocol.UDP})
    """What this prober can send (TCP SYN probes need raw sockets)."""

    def __init__(self) -> None:
        self.nonce = os.urandom(NONCE_LEN)
        self._icmp: dict[int, socket.socket] = {}
        self._udp: dict[tuple[int, int | None], socket.socket] = {}
        self._ttl: dict[socket.socket, int | None] = {}
        self._seq = int.from_bytes(os.urandom(2), "big")
        self._probe_ids = int.from_bytes(os.urandom(4), "big")
        self._udp_count = 0
        self._next_token = 0
        self._echo: dict[tuple[int, str, int], _Sent] = {}
        self._flows: dict[tuple[int, str, int, int], dict[int, _Sent]] = {}
        self._pending: list[tuple[int, Outcome]] = []
        self._ignored: dict[str, int] = {}
        self._rcvbuf: dict[socket.socket, int] = {}
        self._drops: dict[socket.socket, int] = {}
        self._open: dict[int, socket.socket] = {}
        self._voided: list[int] = []
        self._local_refusal = False
        self.packets_sent = 0
        self.dropped = 0
        """Answers the kernel dropped because a receive buffer was full."""

    # ------------------------------------------------------------- sockets

    def _setup(self, sock: socket.socket, family: int) -> socket.socket:
        if family == 4:
            sock.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE)
            sock.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
        else:
            sock.setsockopt(socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE)
            sock.setsockopt(socket.IPPROTO_IPV6, IPV6_DONTFRAG, 1)
            sock.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVERR, 1)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, BUFFER_BYTES)
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        except OSError:
            pass
        self._rcvbuf[sock] = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        self._drops[sock] = 0
        self._ttl[sock] = None
        sock.setblocking(False)
        return sock

    def _icmp_socket(self, family: int) -> socket.socket:
        sock = self._icmp.get(family)
        if sock is None:
            af, proto = (socket.AF_INET, 1) if family == 4 else (socket.AF_INET6, 58)
            try:
                sock = socket.socket(af, socket.SOCK_DGRAM, proto)
            except PermissionError as exc:
                raise NoPrivilege(f"ICMP ping sockets are not allowed: {fixes()}") from exc
            sock = self._icmp[family] = self._setup(sock, family)
        return sock

    def _udp_socket(self, family: int, sport: int | None) -> tuple[socket.socket, int]:
        sock = self._udp.get((family, sport))
        if sock is None:
            af = socket.AF_INET if family == 4 else socket.AF_INET6
            sock = socket.socket(af, socket.SOCK_DGRAM)
            try:
                sock.bind(("0.0.0.0" if family == 4 else "::", sport or 0))
            except OSError as exc:
                sock.close()
                raise CannotMeasure(
                    f"cannot use UDP source port {sport} for a flow probe ({exc.strerror}): "
                    "pick another with --flows or free the port"
                ) from exc
            sock = self._udp[(family, sport)] = self._setup(sock, family)
        return sock, sock.getsockname()[1]

    def _set_ttl(self, sock: socket.socket, family: int, ttl: int | None) -> None:
        if self._ttl.get(sock, -1) == ttl:
            return
        value = 64 if ttl is None else ttl
        if family == 4:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, value)
        else:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, value)
        self._ttl[sock] = ttl

    def _sockets(self) -> list[socket.socket]:
        return [*self._icmp.values(), *self._udp.values()]

    # -------------------------------------------------------- the interface

    def now(self) -> float:
        return time.monotonic()

    def close(self) -> None:
        for sock in self._sockets():
            sock.close()
        self._icmp.clear()
        self._udp.clear()

    def ignored(self, target: Target) -> int:
        return self._ignored.get(target.address, 0)

    def capacity(self) -> int:
        """Bytes of answers the receive buffers can hold (the engine's pacing bound)."""
        return min(self._rcvbuf.values(), default=BUFFER_BYTES // 16)

    def take_voided(self) -> list[int]:
        """Tokens whose answers this host dropped (full buffer) or that never left."""
        voided, self._voided = self._voided, []
        return voided

    def send(self, target: Target, request: ProbeRequest) -> int | LocalRefused:
        if request.protocol is Protocol.TCP:
            raise CannotMeasure(
                f"TCP probes need raw sockets: use --probe icmp or udp, or {fixes()}"
            )
        family = target.family
        self._next_token += 1
        sent = _Sent(self._next_token, target, request.size, 0.0, request.protocol)
        if request.protocol is Protocol.UDP:
            sock, sport = self._udp_socket(family, request.flow)
            if request.port is not None:
                dport = request.port
            else:
                dport = UDP_BASE_PORT + self._udp_count % UDP_PORTS
                self._udp_count += 1
            probe = self._probe_ids = (self._probe_ids + 1) & 0xFFFFFFFF
            length = max(request.size - UDP_OVERHEAD[family], NONCE_LEN + 4)
            data = self.nonce + PROBE_ID.pack(probe) + bytes(length - NONCE_LEN - 4)
            address = sockaddr_of(target, dport)
            key: tuple[int, ...] = (family, sport, dport, probe)
        else:
            sock = self._icmp_socket(family)
            seq = self._seq = (self._seq + 1) & 0xFFFF
            length = max(request.size - ICMP_OVERHEAD[family], NONCE_LEN)
            # The kernel fills in the identifier and the checksum.
            head = _ECHO.pack(ECHO_REQUEST[family], 0, 0, 0, seq)
            data = head + self.nonce + bytes(length - NONCE_LEN)
            address = sockaddr_of(target, 0)
            key = (family, seq)
        self._set_ttl(sock, family, request.ttl)
        refused = self._sendto(sock, data, address, sent)
        if refused is not None:
            return refused
        if request.protocol is Protocol.UDP:
            _, sport, dport, probe = key
            self._flows.setdefault((family, target.address, sport, dport), {})[probe] = sent
        else:
            self._echo[(family, target.address, key[1])] = sent
        return sent.token

    def _sendto(
        self,
        sock: socket.socket,
        data: bytes,
        address: tuple[str, int] | tuple[str, int, int, int],
        sent: _Sent,
    ) -> LocalRefused | None:
        """Send; a pending error from an earlier probe makes the first try fail: drain, retry."""
        for attempt in range(2):
            sent.sent_at = self.now()
            try:
                sock.sendto(data, address)
            except OSError as exc:
                if exc.errno == errno.EMSGSIZE:
                    # A real refusal queues a local error; EMSGSIZE without one
                    # was a "too big" for an earlier probe, pending (sk_err).
                    self._local_refusal = False
                    self._drain(sock)
                    if self._local_refusal or attempt == 1:
                        return LocalRefused(None)
                    continue
                if exc.errno == errno.ENOBUFS:
                    # Left the socket, dropped by the device layer (a veth whose
                    # peer port is smaller; IP_RECVERR makes the kernel say so):
                    # sent, and its silence is evidence, as on a wire.
                    self.packets_sent += 1
                    self._open[sent.token] = sock
                    return None
                if exc.errno == errno.EAGAIN:
                    # Our own send buffer is full: the probe never left. Void, never lost.
                    self._voided.append(sent.token)
                    return None
                if attempt == 0:
                    # An ICMP error for an earlier probe was pending (sk_err): read it.
                    self._drain(sock)
                    continue
                code = SEND_ERRORS.get(exc.errno or 0, Unreach.LOCAL_NETWORK)
                self._pending.append((sent.token, Unreachable(code, "local")))
                return None
            self.packets_sent += 1
            self._open[sent.token] = sock
            return None
        return None

    # ------------------------------------------------------------- receiving

    def receive(self, timeout_s: float) -> list[tuple[int, Outcome]]:
        out: list[tuple[int, Outcome]] = list(self._pending)
        self._pending.clear()
        socks = self._sockets()
        if not socks:
            if not out:
                time.sleep(max(0.0, min(timeout_s, 0.05)))
            return out
        wait = 0.0 if out else max(0.0, timeout_s)
        ready, _, _ = select.select(socks, [], [], wait)
        for sock in ready:
            self._drain(sock)
        for sock in socks:
            self._note_drops(sock, meminfo_drops(sock))
        out.extend(self._pending)
        self._pending.clear()
        return out

    def _drain(self, sock: socket.socket) -> None:
        """Read the error queue and the data of ``sock`` until both are empty (bounded)."""
        family = 4 if sock.family == socket.AF_INET else 6
        icmp = sock in self._icmp.values()
        sport = None if icmp else sock.getsockname()[1]
        now = self.now()
        offset = time.time() - now
        for _ in range(4096):
            try:
                data, anc, _flags, addr = sock.recvmsg(
                    PARSE_BYTES, ANCILLARY_BYTES, socket.MSG_ERRQUEUE
                )
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                continue
            hit = self._error(family, data, anc, addr, sport, _arrival(anc, offset, now))
            if hit is not None:
                self._settle(*hit)
        for _ in range(4096):
            try:
                data, anc, _flags, addr = sock.recvmsg(PARSE_BYTES, ANCILLARY_BYTES)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                continue  # a pending error (sk_err) was reported and cleared; go on
            if icmp:
                hit = self._reply(family, data, addr[0], _arrival(anc, offset, now))
                if hit is not None:
                    self._settle(*hit)

    def _settle(self, token: int, outcome: Outcome) -> None:
        self._open.pop(token, None)
        self._pending.append((token, outcome))

    def _reply(self, family: int, data: bytes, src: str, at: float) -> tuple[int, Outcome] | None:
        if len(data) < 8 + NONCE_LEN or data[0] != ECHO_REPLY[family] or data[1] != 0:
            return None
        src = src.split("%")[0]
        seq = struct.unpack_from("!H", data, 6)[0]
        sent = self._echo.get((family, src, seq))
        if sent is None or data[8 : 8 + NONCE_LEN] != self.nonce:
            return None
        del self._echo[(family, src, seq)]
        return sent.token, Reply(_ms(at - sent.sent_at))

    def _error(
        self,
        family: int,
        data: bytes,
        anc: list[tuple[int, int, bytes]],
        addr: tuple[str, int] | tuple[str, int, int, int] | None,
        sport: int | None,
        at: float,
    ) -> tuple[int, Outcome] | None:
        """One message from the error queue: the probe it quotes, and what became of it."""
        err = _extended_error(anc, family)
        if err is None or addr is None:
            return None
        origin, kind, code, info, offender = err
        if origin == SO_EE_ORIGIN_LOCAL:
            self._local_refusal = True  # the send that caused it says so
            return None
        if origin not in (SO_EE_ORIGIN_ICMP, SO_EE_ORIGIN_ICMP6):
            return None
        dst = str(addr[0]).split("%")[0]
        if sport is None:
            sent = self._quoted_echo(family, dst, data)
        else:
            sent = self._quoted_udp(family, dst, sport, int(addr[1]), data)
        if sent is None:
            self._ignored[dst] = self._ignored.get(dst, 0) + 1
            return None
        rtt = _ms(at - sent.sent_at)
        outcome = _classify(family, kind, code, info, offender, sent, rtt)
        if outcome is None:
            self._ignored[dst] = self._ignored.get(dst, 0) + 1
        return (sent.token, outcome) if outcome is not None else None

    def _quoted_echo(self, family: int, dst: str, data: bytes) -> _Sent | None:
        # The queued data is our echo request as quoted: header, then the nonce.
        if len(data) < 8 or data[0] != ECHO_REQUEST[family]:
            return None
        seq = struct.unpack_from("!H", data, 6)[0]
        sent = self._echo.get((family, dst, seq))
        body = data[8 : 8 + NONCE_LEN]
        if sent is None or (len(body) == NONCE_LEN and body != self.nonce):
            return None
        del self._echo[(family, dst, seq)]
        return sent

    def _quoted_udp(
        self, family: int, dst: str, sport: int, dport: int, data: bytes
    ) -> _Sent | None:
        # The queued data is the UDP payload as quoted: the nonce, then the probe id.
        group = self._flows.get((family, dst, sport, dport))
        if not group:
            return None
        if len(data) >= NONCE_LEN and data[:NONCE_LEN] != self.nonce:
            return None
        ident = data[NONCE_LEN : NONCE_LEN + 4]
        if len(ident) == 4:
            return group.pop(PROBE_ID.unpack(ident)[0], None)
        return group.pop(next(iter(group)))

    def _note_drops(self, sock: socket.socket, count: int | None) -> None:
        """Any increase of the kernel's drop count voids the probes still waiting there."""
        if count is None or count <= self._drops.get(sock, 0):
            return
        self.dropped += count - self._drops.get(sock, 0)
        self._drops[sock] = count
        victims = [t for t, s in self._open.items() if s is sock]
        for token in victims:
            del self._open[token]
        self._voided.extend(victims)


def _ms(seconds: float) -> float:
    return round(max(0.0, seconds) * 1000, 3)


def _arrival(anc: list[tuple[int, int, bytes]], offset: float, now: float) -> float:
    """When the kernel received the message (monotonic), from its timestamp if any."""
    for level, kind, value in anc:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(value) >= _TIMESPEC.size:
            sec, nsec = _TIMESPEC.unpack_from(value)
            at = sec + nsec / 1e9 - offset
            return min(max(at, now - 60.0), time.monotonic())
    return time.monotonic()


def _extended_error(
    anc: list[tuple[int, int, bytes]], family: int
) -> tuple[int, int, int, int, str | None] | None:
    """(origin, ICMP type, code, info, offender) from the IP_RECVERR control message."""
    want = (socket.IPPROTO_IP, IP_RECVERR) if family == 4 else (socket.IPPROTO_IPV6, IPV6_RECVERR)
    for level, kind, value in anc:
        if (level, kind) != want or len(value) < _EXT_ERR.size:
            continue
        _errno, origin, icmp_type, code, _pad, info, _data = _EXT_ERR.unpack_from(value)
        offender = _offender(value[_EXT_ERR.size :])
        return origin, icmp_type, code, info, offender
    return None


def _offender(raw: bytes) -> str | None:
    """The address in the sockaddr that follows ``sock_extended_err`` (SO_EE_OFFENDER)."""
    if len(raw) < 8:
        return None
    af = struct.unpack_from("=H", raw)[0]
    if af == socket.AF_INET:
        return socket.inet_ntop(socket.AF_INET, raw[4:8])
    if af == socket.AF_INET6 and len(raw) >= 24:
        return socket.inet_ntop(socket.AF_INET6, raw[8:24])
    return None


def _classify(
    family: int, kind: int, code: int, info: int, offender: str | None, sent: _Sent, rtt: float
) -> Outcome | None:
    """The typed outcome of an ICMP error (RFC 792, RFC 1191, RFC 4443); None: not believed."""
    src = offender or "unknown"
    if (family, kind) in ((4, 11), (6, 3)):
        return TimeExceeded(src, rtt)
    if (family, kind, code) == (4, 3, 4) or (family, kind) == (6, 2):
        # RFC 1191 section 5: an old router reports 0; assume the next plateau down.
        mtu = info or (next_plateau_below(sent.size) or 68 if family == 4 else 0)
        if mtu >= sent.size or (family == 6 and mtu < 1280):
            return None  # an impossible claim (RFC 5927)
        return TooBig(int(mtu), src, rtt)
    if (family, kind) in ((4, 3), (6, 1)):
        table = ICMP4_UNREACH if family == 4 else ICMP6_UNREACH
        reason = table.get(code, Unreach.OTHER)
        if reason is Unreach.PORT and sent.protocol is Protocol.UDP and src == sent.target.address:
            return Reply(rtt, Answer.PORT_UNREACHABLE)
        return Unreachable(reason, src)
    return None
