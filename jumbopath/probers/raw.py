"""The real prober: don't-fragment ICMP/ICMPv6 echo probes over raw sockets.

This is the one module that imports scapy: it builds the probes and parses
what comes back. The kernel routes the probes and fills in the IP header;
the sockets use ``IP_PMTUDISC_PROBE`` / ``IPV6_PMTUDISC_PROBE`` (what
tracepath uses): DF is set, the kernel's cached path MTU is ignored, and
only the egress interface MTU is enforced (EMSGSIZE above it). So results
never depend on what earlier runs or other programs left in the cache.

ICMP errors are believed only when they quote one of our probes (RFC 5927):
the destination, the ICMP identifier and sequence, and, when the quote is
long enough to hold it, this run's random nonce at the start of the payload.
Echo replies must carry the nonce too. Anything else is counted and ignored.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import socket
import struct
import time
from dataclasses import dataclass

from scapy.layers.inet import ICMP, IP, ICMPerror, IPerror, TCPerror, UDPerror
from scapy.layers.inet6 import (
    ICMPv6DestUnreach,
    ICMPv6EchoReply,
    ICMPv6EchoRequest,
    ICMPv6PacketTooBig,
    ICMPv6TimeExceeded,
    ICMPv6Unknown,
    IPerror6,
    icmp6typescls,
)
from scapy.utils import checksum

from jumbopath.egress import sockaddr_of
from jumbopath.errors import CannotMeasure, NoPrivilege
from jumbopath.model import (
    Answer,
    Leg,
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
from jumbopath.probers.base import Target
from jumbopath.probers.icmp import ICMP4_UNREACH, ICMP6_UNREACH, SEND_ERRORS
from jumbopath.probers.icmp import meminfo_drops as _meminfo_drops
from jumbopath.probers.legs import Route, RouteLookup, interface_name, ip_header, pseudo_header
from jumbopath.sizes import ICMP_OVERHEAD, TCP_OVERHEAD, UDP_OVERHEAD, next_plateau_below

# Socket options from <linux/in.h> and <linux/in6.h> that Python does not export.
IP_MTU_DISCOVER = 10
IP_PMTUDISC_PROBE = 3
IPV6_MTU_DISCOVER = 23
IPV6_PMTUDISC_PROBE = 3
IPV6_DONTFRAG = 62
IPV6_HDRINCL = 36
#: Flows whose route is remembered at most (then the memory starts again).
MAX_ROUTES = 4096

# Receive-side socket options from <asm-generic/socket.h>: kernel receive
# timestamps (struct timespec, CLOCK_REALTIME) and the count of packets the
# kernel dropped because the receive buffer was full.
SO_TIMESTAMPNS = 35
SO_RXQ_OVFL = 40
_TIMESPEC = struct.Struct("@ll")
_OVFL = struct.Struct("@I")
#: Room for both control messages of one packet.
ANCILLARY_BYTES = socket.CMSG_SPACE(_TIMESPEC.size) + socket.CMSG_SPACE(_OVFL.size)

#: Receive and send buffer asked for per raw socket. Many targets answer
#: 9000-byte probes at once; the pacing in the engine keeps what can arrive
#: unread below what the buffer actually got (see :meth:`RawProber.capacity`).
BUFFER_BYTES = 8 << 20

NONCE_LEN = 8
HEADERS = ICMP_OVERHEAD  # IP + ICMP header bytes; UDP's are the same size (UDP_OVERHEAD)

#: Bytes of a received packet worth parsing (the largest ICMPv6 error is 1280).
PARSE_BYTES = 1280

#: Destination ports of one-way UDP probes: traceroute's range, normally closed.
UDP_BASE_PORT = 33434
UDP_PORTS = 1000
#: Default destination port of TCP probes (closed on most hosts: answered by RST).
TCP_DEFAULT_PORT = 33435
#: Source ports of TCP probes without a flow of their own.
TCP_BASE_SPORT = 40000
TCP_SPORTS = 20000
IPV6_CHECKSUM = 7  # <linux/in6.h>: the kernel fills a raw socket's checksum at this offset
TCP_HEADER = struct.Struct("!HHIIBBHHH")  # RFC 9293 section 3.1, no options
TCP_SYN, TCP_RST, TCP_ACK = 0x02, 0x04, 0x10
#: Distance between the sequence numbers of successive TCP probes. An answer
#: acknowledges the SYN (ack = seq + 1) or, an RST, the SYN and its data
#: (ack = seq + 1 + payload, RFC 9293 section 3.10.7.1); a payload is below
#: 2**16 bytes, so with this stride one acknowledgement number fits one probe
#: only. With a stride of 1, an RST to a probe one byte smaller sent next
#: acknowledged the same number as the probe before it.
TCP_SEQ_STRIDE = 1 << 16
#: Bytes of a one-way probe's payload that identify it: the run's nonce, then a probe id.
PROBE_ID = struct.Struct("!I")


def _unreachable(code: Unreach, src: str, sent: _Sent, rtt_ms: float) -> Outcome:
    """The target's own port unreachable for a one-way probe proves it arrived."""
    if code is Unreach.PORT and src == sent.target.address:
        return Reply(rtt_ms, Answer.PORT_UNREACHABLE)
    return Unreachable(code, src)


@dataclass(slots=True)
class _Sent:
    token: int
    target: Target
    ident: int  # ICMP id, or the UDP/TCP source port
    seq: int  # ICMP sequence, or the UDP/TCP destination port
    size: int
    sent_at: float
    probe: int = 0  # UDP: the probe id in the payload; TCP: the sequence number
    payload: int = 0  # UDP/TCP payload bytes


def _dont_fragment(sock: socket.socket, family: int) -> None:
    """Don't fragment, and ignore the kernel's path MTU cache (``PMTUDISC_PROBE``, as
    tracepath does): only the interface MTU limits what leaves."""
    if family == 4:
        sock.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE)
    else:
        sock.setsockopt(socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE)
        sock.setsockopt(socket.IPPROTO_IPV6, IPV6_DONTFRAG, 1)


def _flow_kind(family: int, protocol: Protocol) -> int:
    """Key prefix of a one-way probe's flow: the family, apart per protocol."""
    return -family if protocol is Protocol.UDP else 10 + family


class RawProber:
    """Implements :class:`jumbopath.probers.base.Prober` with raw ICMP sockets."""

    def __init__(self) -> None:
        self.nonce = os.urandom(NONCE_LEN)
        self._base_id = int.from_bytes(os.urandom(2), "big")
        self._socks: dict[int, socket.socket] = {}
        self._ids: dict[Target, int] = {}
        self._seq: dict[Target, int] = {}
        self._by_key: dict[tuple[int, str, int, int], _Sent] = {}
        self._by_token: dict[int, _Sent] = {}
        self._next_token = 0
        self._ttl: dict[int, int | None] = {}
        self._ignored: dict[str, int] = {}
        self.packets_sent = 0
        self._pending: list[tuple[int, Outcome]] = []
        self._udp: dict[tuple[int, int | None], socket.socket] = {}
        self._udp_count = 0
        self._tcp: dict[int, socket.socket] = {}
        self._tcp_ttl: dict[int, int | None] = {}
        self._sources: dict[Target, str] = {}
        self._flows: dict[tuple[int, str, int, int], dict[int, _Sent]] = {}
        self._probe_ids = int.from_bytes(os.urandom(4), "big")
        self._tcp_seq = int.from_bytes(os.urandom(4), "big")
        self._tcp_sport = TCP_BASE_SPORT + int.from_bytes(os.urandom(2), "big") % TCP_SPORTS
        self._rcvbuf: dict[int, int] = {}
        self._drops: dict[int, int] = {}
        self._stamped = True
        self.dropped = 0
        """Answers the kernel dropped because a receive buffer was full (SO_RXQ_OVFL):
        loss this run inflicted on itself, never evidence about a path."""
        self._voided: list[int] = []
        self._open: dict[int, int] = {}  # token -> family, probes with no answer yet
        self._lookup = RouteLookup()
        self._routes: dict[tuple[int, str, int, int, int], Route | None] = {}
        self._hdrincl: dict[int, socket.socket] = {}

    # ------------------------------------------------------------- sockets

    def _socket(self, family: int) -> socket.socket:
        sock = self._socks.get(family)
        if sock is not None:
            return sock
        try:
            if family == 4:
                sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
            else:
                sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
            _dont_fragment(sock, family)
        except PermissionError as exc:
            raise NoPrivilege("raw sockets need root or CAP_NET_RAW: run with sudo") from exc
        # Many targets answer 9000-byte probes at once: make room (beyond
        # net.core.rmem_max when allowed: SO_*BUFFORCE needs CAP_NET_ADMIN).
        for opt, force in ((socket.SO_RCVBUF, 33), (socket.SO_SNDBUF, 32)):
            try:
                sock.setsockopt(socket.SOL_SOCKET, force, BUFFER_BYTES)  # SO_*BUFFORCE
            except OSError:
                sock.setsockopt(socket.SOL_SOCKET, opt, BUFFER_BYTES)
        self._rcvbuf[family] = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        # Kernel receive timestamps: a round trip must not include the time an
        # answer waited in the buffer while this process handled others.
        # The overflow count tells self-inflicted loss from loss on the path.
        for opt in (SO_TIMESTAMPNS, SO_RXQ_OVFL):
            try:
                sock.setsockopt(socket.SOL_SOCKET, opt, 1)
            except OSError:
                if opt == SO_TIMESTAMPNS:
                    self._stamped = False
        self._drops[family] = 0
        sock.setblocking(False)
        self._socks[family] = sock
        self._ttl[family] = None
        return sock

    def _udp_socket(self, family: int, sport: int | None = None) -> tuple[socket.socket, int]:
        """A UDP socket bound to ``sport`` (a flow), or to a port of the kernel's choice."""
        sock = self._udp.get((family, sport))
        if sock is None:
            self._socket(family)  # the raw socket hears the ICMP answers
            sock = socket.socket(
                socket.AF_INET if family == 4 else socket.AF_INET6, socket.SOCK_DGRAM
            )
            _dont_fragment(sock, family)
            try:
                sock.bind(("0.0.0.0" if family == 4 else "::", sport or 0))
            except OSError as exc:
                sock.close()
                raise CannotMeasure(
                    f"cannot use UDP source port {sport} for a flow probe ({exc.strerror}): "
                    "pick another with --flows or free the port"
                ) from exc
            sock.setblocking(False)
            self._udp[(family, sport)] = sock
        return sock, sock.getsockname()[1]

    def _tcp_socket(self, family: int) -> socket.socket:
        """The raw TCP socket: sends SYN probes, hears every TCP answer."""
        sock = self._tcp.get(family)
        if sock is None:
            self._socket(family)  # the raw ICMP socket hears the errors
            af = socket.AF_INET if family == 4 else socket.AF_INET6
            sock = socket.socket(af, socket.SOCK_RAW, socket.IPPROTO_TCP)
            _dont_fragment(sock, family)
            if family == 6:
                sock.setsockopt(socket.IPPROTO_IPV6, IPV6_CHECKSUM, 16)
            # Kernel receive timestamps, as on the ICMP socket (its drop count
            # stays the ICMP socket's: this one hears every TCP segment).
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            sock.setblocking(False)
            self._tcp[family] = sock
            self._tcp_ttl[family] = None
        return sock

    def _hdrincl_socket(self, family: int) -> socket.socket:
        """A raw TCP socket that sends whole IP packets (our header), for flows sent to
        their own leg: the kernel routes each to the address it is sent to (the leg's
        next hop) and keeps the header's destination (``FLOWI_FLAG_KNOWN_NH``)."""
        sock = self._hdrincl.get(family)
        if sock is None:
            af = socket.AF_INET if family == 4 else socket.AF_INET6
            sock = socket.socket(af, socket.SOCK_RAW, socket.IPPROTO_TCP)
            if family == 4:
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
            else:
                sock.setsockopt(socket.IPPROTO_IPV6, IPV6_HDRINCL, 1)
            sock.setblocking(False)
            self._hdrincl[family] = sock
        return sock

    def _route(self, target: Target, proto: int, sport: int, dport: int) -> Route | None:
        """The kernel's route for one flow (ports 0: what a raw socket gets), remembered."""
        key = (target.family, target.address, proto, sport, dport)
        if key not in self._routes:
            if len(self._routes) >= MAX_ROUTES:
                self._routes.clear()
            self._routes[key] = self._lookup.route(
                target.family, target.address, proto, sport, dport, target.scope_id
            )
        return self._routes[key]

    def _own_leg(self, target: Target, sport: int, dport: int) -> Route | None:
        """The route of a TCP flow when the kernel sends it another way than the raw
        socket's port-less lookup would (a multipath route hashing on ports); else None."""
        flow = self._route(target, socket.IPPROTO_TCP, sport, dport)
        if flow is None or flow.source is None or flow.foreign_gateway:
            return None
        raw = self._route(target, socket.IPPROTO_TCP, 0, 0)
        return flow if flow != raw else None

    def leg(self, target: Target, request: ProbeRequest) -> Leg | None:
        """The leg out of this host the flow of ``request`` takes (None: unknown)."""
        if request.protocol is Protocol.TCP:
            proto = socket.IPPROTO_TCP
            dport = request.port if request.port is not None else TCP_DEFAULT_PORT
        elif request.protocol is Protocol.UDP:
            proto = socket.IPPROTO_UDP
            dport = request.port if request.port is not None else UDP_BASE_PORT
        else:
            return None
        if request.flow is None:
            return None
        route = self._route(target, proto, request.flow, dport)
        if route is None:
            return None
        return Leg(interface_name(route.ifindex), route.gateway)

    def _source(self, target: Target) -> str:
        """The source address the kernel uses toward ``target`` (for TCP checksums)."""
        source = self._sources.get(target)
        if source is None:
            # What the raw TCP socket's own lookup (no ports) picks; a UDP socket's
            # lookup has ports, and a multipath route may give it another leg.
            route = self._route(target, socket.IPPROTO_TCP, 0, 0)
            if route is not None and route.source is not None:
                source = self._sources[target] = route.source
                return source
            af = socket.AF_INET if target.family == 4 else socket.AF_INET6
            with socket.socket(af, socket.SOCK_DGRAM) as probe:
                probe.connect((target.address, 9))
                source = self._sources[target] = str(probe.getsockname()[0]).split("%")[0]
        return source

    def now(self) -> float:
        return time.monotonic()

    def close(self) -> None:
        socks = [*self._socks.values(), *self._udp.values(), *self._tcp.values()]
        for sock in [*socks, *self._hdrincl.values()]:
            sock.close()
        self._socks.clear()
        self._udp.clear()
        self._tcp.clear()
        self._hdrincl.clear()
        self._lookup.close()

    def ignored(self, target: Target) -> int:
        return self._ignored.get(target.address, 0)

    def _ignore(self, address: str | None) -> None:
        if address is not None:
            self._ignored[address] = self._ignored.get(address, 0) + 1

    # --------------------------------------------------------------- sending

    def _ident(self, target: Target) -> int:
        ident = self._ids.get(target)
        if ident is None:
            ident = self._ids[target] = (self._base_id + len(self._ids)) & 0xFFFF
            self._seq[target] = 0
        return ident

    def _send_udp(self, target: Target, request: ProbeRequest) -> int | LocalRefused:
        """A one-way probe: UDP to a closed port, answered by a small port unreachable.

        Without a flow or port, each probe gets its own destination port (as
        traceroute does); with either, every probe of the flow has the same five
        tuple (so ECMP and LAG hash it onto one leg), and the probe id after the
        nonce tells them apart.
        """
        sock, sport = self._udp_socket(target.family, request.flow)
        if request.port is not None:
            dport = request.port
        elif request.flow is not None:
            dport = UDP_BASE_PORT
        else:
            dport = UDP_BASE_PORT + self._udp_count % UDP_PORTS
            self._udp_count += 1
        payload_len = max(request.size - UDP_OVERHEAD[target.family], NONCE_LEN + 4)
        probe = self._probe_ids = (self._probe_ids + 1) & 0xFFFFFFFF
        self._next_token += 1
        sent = _Sent(
            self._next_token, target, sport, dport, request.size, self.now(), probe, payload_len
        )
        self._set_socket_ttl(target.family, sock, request.ttl, None)
        data = self.nonce + PROBE_ID.pack(probe) + bytes(payload_len - NONCE_LEN - 4)
        try:
            sock.sendto(data, sockaddr_of(target, dport))
        except OSError as exc:
            if exc.errno == errno.EMSGSIZE:
                return LocalRefused(None)
            return self._register_flow(sent, Protocol.UDP, lost=True)
        self.packets_sent += 1
        return self._register_flow(sent, Protocol.UDP)

    def _send_tcp(self, target: Target, request: ProbeRequest) -> int | LocalRefused:
        """A one-way probe: a SYN carrying payload, DF set, padded to the probe size.

        A SYN-ACK (open port) or RST (closed port) proves the whole packet
        arrived; the kernel answers a SYN-ACK with RST by itself (no socket
        owns the port), so no half-open connection is left.
        """
        sock = self._tcp_socket(target.family)
        sport = request.flow if request.flow is not None else self._tcp_sport
        dport = request.port if request.port is not None else TCP_DEFAULT_PORT
        payload_len = max(request.size - TCP_OVERHEAD[target.family], NONCE_LEN)
        seq = self._next_tcp_seq()
        header = TCP_HEADER.pack(sport, dport, seq, 0, 5 << 4, TCP_SYN, 65535, 0, 0)
        # A flow the kernel would route another way than this raw socket goes
        # out of its own leg, to that leg's next hop, in a packet we head.
        leg = self._own_leg(target, sport, dport) if request.flow is not None else None
        if target.family == 4 or leg is not None:
            # Zero padding adds nothing to the checksum (RFC 1071), but counts in
            # the pseudo-header's length (RFC 9293 section 3.1).
            source = leg.source if leg is not None and leg.source else self._source(target)
            pseudo = pseudo_header(
                target.family, source, target.address, socket.IPPROTO_TCP, 20 + payload_len
            )
            csum = checksum(pseudo + header + self.nonce)
            header = header[:16] + struct.pack("!H", csum) + header[18:]
        packet = header + self.nonce + bytes(payload_len - NONCE_LEN)
        address = sockaddr_of(target, 0)
        if leg is not None and leg.source:
            ttl = 64 if request.ttl is None else request.ttl
            head = ip_header(
                target.family, leg.source, target.address, socket.IPPROTO_TCP, len(packet), ttl
            )
            packet = head + packet
            sock = self._hdrincl_socket(target.family)
            hop = leg.gateway or target.address
            address = (hop, 0) if target.family == 4 else (hop, 0, 0, leg.ifindex)
        else:
            self._set_socket_ttl(target.family, sock, request.ttl, self._tcp_ttl)
        self._next_token += 1
        sent = _Sent(
            self._next_token, target, sport, dport, request.size, self.now(), seq, payload_len
        )
        try:
            sock.sendto(packet, address)
        except OSError as exc:
            if exc.errno == errno.EMSGSIZE:
                return LocalRefused(None)
            return self._register_flow(sent, Protocol.TCP, lost=True)
        self.packets_sent += 1
        return self._register_flow(sent, Protocol.TCP)

    def _next_tcp_seq(self) -> int:
        """The sequence number of the next TCP probe (:data:`TCP_SEQ_STRIDE` apart)."""
        self._tcp_seq = (self._tcp_seq + TCP_SEQ_STRIDE) & 0xFFFFFFFF
        return self._tcp_seq

    def _set_socket_ttl(
        self, family: int, sock: socket.socket, ttl: int | None, cache: dict[int, int | None] | None
    ) -> None:
        if cache is not None and cache.get(family, -1) == ttl:
            return
        value = 64 if ttl is None else ttl
        if family == 4:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, value)
        else:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, value)
        if cache is not None:
            cache[family] = ttl

    def _register_flow(self, sent: _Sent, protocol: Protocol, *, lost: bool = False) -> int:
        key = (_flow_kind(sent.target.family, protocol), sent.target.address, sent.ident, sent.seq)
        self._flows.setdefault(key, {})[sent.probe] = sent
        self._by_token[sent.token] = sent
        if lost:
            self._pending.append((sent.token, Lost()))
        return sent.token

    def _match_flow(
        self, kind: int, address: str, sport: int, dport: int, probe: int | None
    ) -> _Sent | None:
        """A one-way probe by its flow and id (the oldest of the flow when the id is unknown)."""
        group = self._flows.get((kind, address, sport, dport))
        if not group:
            return None
        if probe is not None:
            return group.pop(probe, None)
        first = next(iter(group))
        return group.pop(first)

    def send(self, target: Target, request: ProbeRequest) -> int | LocalRefused:
        if request.protocol is Protocol.UDP:
            return self._send_udp(target, request)
        if request.protocol is Protocol.TCP:
            return self._send_tcp(target, request)
        sock = self._socket(target.family)
        ident = self._ident(target)
        seq = self._seq[target] = (self._seq[target] + 1) & 0xFFFF
        padding = bytes(max(request.size - HEADERS[target.family], NONCE_LEN) - NONCE_LEN)
        if target.family == 4:
            # The payload is the nonce and then zeros; zero bytes add nothing to
            # the Internet checksum (RFC 1071), so scapy checksums the short
            # packet and the zeros are appended after: same bytes, no Python
            # loop over 9000 bytes per probe.
            packet = _echo4(ident, seq, self.nonce) + padding
        else:
            # The kernel computes the ICMPv6 checksum on raw ICMPv6 sockets.
            echo = ICMPv6EchoRequest(cksum=0, id=ident, seq=seq, data=self.nonce + padding)
            packet = bytes(echo)
        self._set_socket_ttl(target.family, sock, request.ttl, self._ttl)
        self._next_token += 1
        sent = _Sent(self._next_token, target, ident, seq, request.size, self.now())
        try:
            _send_or_wait(sock, packet, sockaddr_of(target, 0))
        except OSError as exc:
            if exc.errno == errno.EMSGSIZE:
                return LocalRefused(None)
            if exc.errno == errno.ENOBUFS:
                # The probe left the socket and the device layer dropped it:
                # a veth whose peer (the switch port) is smaller refuses the
                # frame, a wire would lose it. IPv4 raw sockets never say so
                # (the kernel hides ENOBUFS without IP_RECVERR); IPv6 ones do.
                # Either way the probe was sent and its silence is evidence.
                self.packets_sent += 1
                return self._register(sent)
            if exc.errno == errno.EAGAIN:
                # Our own send buffer stayed full: the probe never left. Its
                # fate is void (sent again by whoever asked), never "lost".
                self._register(sent)
                self._open.pop(sent.token, None)
                self._voided.append(sent.token)
                return sent.token
            code = SEND_ERRORS.get(exc.errno or 0)
            if code is None:
                raise
            self._register(sent)
            self._pending.append((sent.token, Unreachable(code, "local")))
            return sent.token
        self.packets_sent += 1
        return self._register(sent)

    def _register(self, sent: _Sent, *, lost: bool = False) -> int:
        # Echo probes are keyed by ICMP id and sequence (one-way probes: _register_flow).
        key = (sent.target.family, sent.target.address, sent.ident, sent.seq)
        self._by_key[key] = sent
        self._by_token[sent.token] = sent
        if lost:
            self._pending.append((sent.token, Lost()))
        else:
            self._open[sent.token] = sent.target.family
        return sent.token

    # ------------------------------------------------------------- receiving

    def receive(self, timeout_s: float) -> list[tuple[int, Outcome]]:
        out: list[tuple[int, Outcome]] = list(self._pending)
        self._pending.clear()
        if out:
            timeout_s = 0.0
        socks = [*self._socks.values(), *self._tcp.values()]
        if not socks:
            time.sleep(max(0.0, min(timeout_s, 0.05)))
            return out
        tcp = set(self._tcp.values())
        ready, _, _ = select.select(socks, [], [], max(0.0, timeout_s))
        for sock in ready:
            family = 4 if sock.family == socket.AF_INET else 6
            # Kernel timestamps are wall-clock time; probes are timed on the
            # monotonic clock. The offset is taken once per drain.
            now = self.now()
            offset = time.time() - now
            for _ in range(4096):  # bounded drain
                try:
                    data, ancillary, _flags, peer = sock.recvmsg(65535, ANCILLARY_BYTES)
                except (BlockingIOError, InterruptedError):
                    break
                at = self._arrival(ancillary, family, offset, now)
                if sock in tcp:
                    hit = self._parse_tcp(family, data, peer[0], at)
                else:
                    hit = self._echo_reply(family, data, peer[0], at)
                if hit is None and sock not in tcp:
                    hit = self._parse4(data, at) if family == 4 else self._parse6(data, peer[0], at)
                if hit is not None:
                    self._open.pop(hit[0], None)
                    out.append(hit)
        for family, sock in self._socks.items():
            self._note_drops(family, _meminfo_drops(sock))
        return out

    def _parse_tcp(
        self, family: int, data: bytes, src: str, at: float
    ) -> tuple[int, Outcome] | None:
        """A SYN-ACK or RST answering one of our SYN probes (the raw TCP socket hears all TCP)."""
        if family == 4:
            if len(data) < 20:
                return None
            data = data[(data[0] & 0x0F) * 4 :]
        if len(data) < TCP_HEADER.size:
            return None
        sport, dport, _, ack, _, flags, _, _, _ = TCP_HEADER.unpack_from(data)
        if not flags & (TCP_RST | TCP_ACK) or (flags & TCP_SYN and not flags & TCP_ACK):
            return None
        group = self._flows.get((10 + family, src.split("%")[0], dport, sport))
        if not group:
            return None
        for probe, sent in list(group.items()):
            # A SYN-ACK acknowledges the SYN; an RST to a SYN with data may
            # acknowledge the data too (RFC 9293 section 3.10.7.1).
            if ack in ((probe + 1) & 0xFFFFFFFF, (probe + 1 + sent.payload) & 0xFFFFFFFF):
                del group[probe]
                answer = Answer.SYN_ACK if flags & TCP_SYN else Answer.RESET
                return sent.token, Reply(round((at - sent.sent_at) * 1000, 3), answer)
        return None

    def _echo_reply(
        self, family: int, data: bytes, src: str, at: float
    ) -> tuple[int, Outcome] | None:
        """The common case without scapy: an echo reply to one of our probes.

        Hundreds of targets answer thousands of probes; parsing each answer
        with scapy would cost more than everything else in the loop. Anything
        that is not a plain echo reply returns None and is parsed in full.
        """
        if family == 4:
            if len(data) < 20 or data[0] >> 4 != 4 or data[9] != socket.IPPROTO_ICMP:
                return None
            icmp = data[(data[0] & 0x0F) * 4 :]
            if len(icmp) < 8 + NONCE_LEN or icmp[0] != 0 or icmp[1] != 0:
                return None
            src = socket.inet_ntop(socket.AF_INET, data[12:16])
        else:
            icmp = data
            if len(icmp) < 8 + NONCE_LEN or icmp[0] != 129 or icmp[1] != 0:
                return None
            src = src.split("%")[0]
        ident, seq = _ID_SEQ.unpack_from(icmp, 4)
        sent = self._match(family, src, ident, seq, icmp[8 : 8 + NONCE_LEN])
        if sent is None:
            return None
        return sent.token, Reply(round((at - sent.sent_at) * 1000, 3))

    def _arrival(
        self, ancillary: list[tuple[int, int, bytes]], family: int, offset: float, now: float
    ) -> float:
        """When the kernel received the packet (monotonic clock), from its control messages."""
        at = None
        for level, kind, value in ancillary:
            if level != socket.SOL_SOCKET:
                continue
            if kind == SO_TIMESTAMPNS and len(value) >= _TIMESPEC.size:
                sec, nsec = _TIMESPEC.unpack_from(value)
                at = sec + nsec / 1e9 - offset
            elif kind == SO_RXQ_OVFL and len(value) >= _OVFL.size:
                self._note_drops(family, _OVFL.unpack_from(value)[0])
        if at is None or not self._stamped:
            return self.now()
        # Never after the packet was read, never absurdly early (a clock step).
        return min(max(at, now - 60.0), self.now())

    def _note_drops(self, family: int, count: int | None) -> None:
        """The kernel's drop count for a socket; any increase voids the unanswered probes."""
        if count is None or count <= self._drops.get(family, 0):
            return
        self.dropped += count - self._drops.get(family, 0)
        self._drops[family] = count
        # Whose answer was dropped is unknowable: every probe of this family
        # still waiting for one may have been the victim. Their fate is void,
        # never "lost" (a silence caused here is no evidence about a path).
        victims = [t for t, fam in self._open.items() if fam == family]
        for token in victims:
            del self._open[token]
        self._voided.extend(victims)

    def take_voided(self) -> list[int]:
        """Tokens whose outcome is unknowable because this host dropped answers
        (full receive buffer) or could not send (full send buffer), since the last call."""
        voided, self._voided = self._voided, []
        return voided

    def capacity(self) -> int:
        """Bytes of answers the receive buffers can hold (the smallest of them):
        the bound on what the engine lets be in flight."""
        if not self._rcvbuf:
            return BUFFER_BYTES
        return min(self._rcvbuf.values())

    def _match(
        self, family: int, address: str, ident: int, seq: int, quoted: bytes | None
    ) -> _Sent | None:
        sent = self._by_key.get((family, address, ident, seq))
        if sent is None:
            return None
        if quoted is not None and len(quoted) >= NONCE_LEN and quoted[:NONCE_LEN] != self.nonce:
            return None
        return sent

    def _match_quoted(self, family: int, dst: str, udp: object, tcp: object) -> _Sent | None:
        """The one-way probe an ICMP error quotes (RFC 5927: ports, and the nonce and
        probe id for UDP or the sequence number for TCP)."""
        if udp is not None:
            body = bytes(udp.payload)  # type: ignore[attr-defined]
            if len(body) >= NONCE_LEN and body[:NONCE_LEN] != self.nonce:
                return None
            ident = body[NONCE_LEN : NONCE_LEN + 4]
            probe = PROBE_ID.unpack(ident)[0] if len(ident) == 4 else None
            sport, dport = udp.sport, udp.dport  # type: ignore[attr-defined]
            return self._match_flow(-family, dst, sport, dport, probe)
        sport, dport, seq = tcp.sport, tcp.dport, tcp.seq  # type: ignore[attr-defined]
        return self._match_flow(10 + family, dst, sport, dport, seq)

    def _parse4(self, data: bytes, at: float) -> tuple[int, Outcome] | None:
        try:
            # Parse only what can matter: headers, nonce and any quoted packet
            # (an ICMP error quotes at most 576 bytes, RFC 1812 4.3.2.3).
            pkt = IP(data[:PARSE_BYTES])
        except Exception:  # noqa: BLE001 - malformed packets are not ours
            return None
        icmp = pkt.getlayer(ICMP)
        if icmp is None:
            return None
        src = pkt.src
        if icmp.type == 0:
            body = bytes(icmp.payload)
            if len(body) < NONCE_LEN:
                return None
            sent = self._match(4, src, icmp.id, icmp.seq, body)
            if sent is None:
                return None
            return sent.token, Reply(round((at - sent.sent_at) * 1000, 3))
        if icmp.type not in (3, 11):
            return None
        inner = pkt.getlayer(IPerror)
        quoted_icmp = pkt.getlayer(ICMPerror)
        quoted_udp = pkt.getlayer(UDPerror)
        quoted_tcp = pkt.getlayer(TCPerror)
        if inner is not None and (quoted_udp is not None or quoted_tcp is not None):
            sent = self._match_quoted(4, inner.dst, quoted_udp, quoted_tcp)
        elif inner is None or quoted_icmp is None or quoted_icmp.type != 8:
            self._ignore(inner.dst if inner is not None else None)
            return None
        else:
            body = bytes(quoted_icmp.payload)
            sent = self._match(4, inner.dst, quoted_icmp.id, quoted_icmp.seq, body or None)
        if sent is None:
            self._ignore(inner.dst)
            return None
        rtt_ms = round((at - sent.sent_at) * 1000, 3)
        if icmp.type == 11:
            return sent.token, TimeExceeded(src, rtt_ms)
        if icmp.code == 4:
            # RFC 1191 section 5: an old router reports 0; assume the next plateau down.
            mtu = int(icmp.nexthopmtu or 0) or next_plateau_below(sent.size) or 68
            if mtu >= sent.size:
                self._ignore(inner.dst)
                return None
            return sent.token, TooBig(mtu, src, rtt_ms)
        code = ICMP4_UNREACH.get(icmp.code, Unreach.OTHER)
        return sent.token, _unreachable(code, src, sent, rtt_ms)

    def _parse6(self, data: bytes, src: str, at: float) -> tuple[int, Outcome] | None:
        if not data:
            return None
        try:
            cls = icmp6typescls.get(data[0], ICMPv6Unknown)
            # ICMPv6 errors quote at most 1280 bytes in all (RFC 4443 2.4 (c)).
            msg = (cls if isinstance(cls, type) else ICMPv6Unknown)(data[:PARSE_BYTES])
        except Exception:  # noqa: BLE001 - malformed packets are not ours
            return None
        src = src.split("%")[0]
        if isinstance(msg, ICMPv6EchoReply):
            sent = self._match(6, src, msg.id, msg.seq, bytes(msg.data))
            if sent is None:
                return None
            return sent.token, Reply(round((at - sent.sent_at) * 1000, 3))
        if not isinstance(msg, (ICMPv6PacketTooBig, ICMPv6TimeExceeded, ICMPv6DestUnreach)):
            return None
        inner = msg.getlayer(IPerror6)
        echo = msg.getlayer(ICMPv6EchoRequest)
        quoted_udp = msg.getlayer(UDPerror)
        quoted_tcp = msg.getlayer(TCPerror)
        if inner is not None and (quoted_udp is not None or quoted_tcp is not None):
            sent = self._match_quoted(6, inner.dst, quoted_udp, quoted_tcp)
        elif inner is None or echo is None:
            self._ignore(inner.dst if inner is not None else None)
            return None
        else:
            sent = self._match(6, inner.dst, echo.id, echo.seq, bytes(echo.data) or None)
        if sent is None:
            self._ignore(inner.dst)
            return None
        rtt_ms = round((at - sent.sent_at) * 1000, 3)
        if isinstance(msg, ICMPv6TimeExceeded):
            return sent.token, TimeExceeded(src, rtt_ms)
        if isinstance(msg, ICMPv6PacketTooBig):
            if msg.mtu >= sent.size or msg.mtu < 1280:
                self._ignore(inner.dst)
                return None
            return sent.token, TooBig(int(msg.mtu), src, rtt_ms)
        code = ICMP6_UNREACH.get(msg.code, Unreach.OTHER)
        return sent.token, _unreachable(code, src, sent, rtt_ms)


_ID_SEQ = struct.Struct("!HH")
_ECHO4 = struct.Struct("!BBHHH")


def _echo4(ident: int, seq: int, nonce: bytes) -> bytes:
    """An ICMP echo request header and nonce, checksummed (RFC 792, RFC 1071).

    Zero bytes add nothing to the Internet checksum, so the zero padding that
    follows the nonce is left out of it.
    """
    head = _ECHO4.pack(8, 0, 0, ident, seq) + nonce
    if len(head) % 2:
        head += b"\0"
    total = sum(struct.unpack(f"!{len(head) // 2}H", head))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return _ECHO4.pack(8, 0, ~total & 0xFFFF, ident, seq) + nonce


#: How long a send waits for room in a full send buffer before giving up.
SEND_WAIT_S = 0.05


def _send_or_wait(
    sock: socket.socket, packet: bytes, address: tuple[str, int] | tuple[str, int, int, int]
) -> None:
    """``sendto``, waiting (briefly, once) for room when the send buffer is full."""
    try:
        sock.sendto(packet, address)
    except OSError as exc:
        if exc.errno not in (errno.ENOBUFS, errno.EAGAIN):
            raise
        select.select([], [sock], [], SEND_WAIT_S)
        sock.sendto(packet, address)
