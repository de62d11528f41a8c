"""What the operating system's own ping printed, as typed outcomes.

One parser per tool family, each a table of line patterns (in the tool's
default, English, locale: the commands run with ``LC_ALL=C``). The tests
hold outputs of each under ``tests/unit/data/ping/`` (captured for iputils and
BusyBox; written from documentation for ESXi, macOS and Windows). A parser never
raises: anything it does not recognise is :data:`Kind.LOST` when the tool
said the probe went unanswered, else :data:`Kind.UNKNOWN` (the probe is
voided, never taken as evidence).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from enum import Enum

from jumbopath.model import Unreach
from jumbopath.numbers import NumberError, parse_decimal, parse_int_or_none
from jumbopath.safe import safe_text


class Flavour(str, Enum):
    """Which ping, and so which options and which output."""

    IPUTILS = "iputils"
    """Linux iputils ``ping -M do -s N -c 1 -W T -t TTL``."""
    BUSYBOX = "busybox"
    """BusyBox ``ping``: no don't-fragment option, so it cannot measure an MTU."""
    ESXI = "esxi"
    """VMware ESXi ``vmkping -d -s N -c 1`` (``-I vmkN``, ``-S netstack``)."""
    MACOS = "macos"
    """macOS ``ping -D -s N -c 1 -W MS -m TTL``."""
    WINDOWS = "windows"
    """Windows PowerShell, .NET ``Ping.SendPingAsync`` with ``PingOptions(ttl, $true)``."""
    WINDOWS_PING = "windows-ping"
    """Windows ``ping -f -l N -n 1 -w MS -i TTL`` (the fallback)."""


class Kind(str, Enum):
    """What became of one probe, as the tool tells it."""

    REPLY = "reply"
    TOO_BIG = "too-big"
    """A router said too big (``mtu`` when the tool prints it)."""
    REFUSED = "refused"
    """This host refused to send it ("message too long"); ``mtu`` when printed."""
    TIME_EXCEEDED = "time-exceeded"
    UNREACHABLE = "unreachable"
    LOST = "lost"
    """The tool waited and nothing came back."""
    TOOL_LIMIT = "tool-limit"
    """The tool itself cannot send this size (macOS ``net.inet.raw.maxdgram``)."""
    UNKNOWN = "unknown"
    """Output not understood: void, never evidence."""


@dataclass(frozen=True, slots=True)
class Parsed:
    """One probe's fate from the tool's output."""

    kind: Kind
    """What happened."""
    reporter: str | None = None
    """Who answered or sent the error, when printed (a valid address only)."""
    mtu: int | None = None
    """The MTU the error or the local refusal names, when printed."""
    code: Unreach | None = None
    """For unreachable: which kind."""
    rtt_ms: float | None = None
    """The round trip the tool measured, when printed."""
    detail: str | None = None
    """The line that decided it (terminal-safe, bounded), for messages."""


_ADDR = r"(?P<addr>[0-9A-Fa-f:.]+)"
_MTU = r"(?P<mtu>[0-9]{1,6})"
_RTT = r"time[=<](?P<rtt>[0-9]+(?:\.[0-9]+)?) ?ms"

#: Destination-unreachable wording of each tool to its kind (iputils, FreeBSD/macOS, Windows).
UNREACH_WORDS: dict[str, Unreach] = {
    "destination net unreachable": Unreach.NETWORK,
    "destination host unreachable": Unreach.HOST,
    "destination protocol unreachable": Unreach.PROTOCOL,
    "destination port unreachable": Unreach.PORT,
    "source route failed": Unreach.SOURCE_ROUTE,
    "destination net unknown": Unreach.NETWORK_UNKNOWN,
    "destination host unknown": Unreach.HOST_UNKNOWN,
    "destination net prohibited": Unreach.PROHIBITED,
    "destination host prohibited": Unreach.PROHIBITED,
    "packet filtered": Unreach.PROHIBITED,
    "communication administratively prohibited": Unreach.PROHIBITED,
    "destination unreachable: no route": Unreach.NO_ROUTE,
    "destination unreachable: administratively prohibited": Unreach.PROHIBITED,
    "destination unreachable: beyond scope": Unreach.SCOPE,
    "destination unreachable: address unreachable": Unreach.ADDRESS,
    "destination unreachable: port unreachable": Unreach.PORT,
    "destination network unreachable": Unreach.NETWORK,
    "destination unreachable": Unreach.OTHER,
    "network is unreachable": Unreach.LOCAL_NETWORK,
    "no route to host": Unreach.LOCAL_NEIGHBOUR,
    "general failure": Unreach.LOCAL_NETWORK,
}

#: (pattern, kind) per flavour; the first line that matches decides.
_IPUTILS: list[tuple[re.Pattern[str], Kind]] = [
    (re.compile(rf"^[0-9]+ bytes from {_ADDR}: icmp_seq=[0-9]+ .*{_RTT}"), Kind.REPLY),
    (re.compile(rf"^From {_ADDR}.* Frag needed and DF set \(mtu = {_MTU}\)"), Kind.TOO_BIG),
    (re.compile(rf"^From {_ADDR}.* Packet too big: mtu={_MTU}"), Kind.TOO_BIG),
    (re.compile(rf"^From {_ADDR}.* (Time to live exceeded|Time exceeded)"), Kind.TIME_EXCEEDED),
    (re.compile(rf"local error: [Mm]essage too long, mtu[=:] ?{_MTU}"), Kind.REFUSED),
    (re.compile(r"[Mm]essage too long"), Kind.REFUSED),
    (
        re.compile(rf"^From {_ADDR}.* (?P<why>Destination .*|Packet filtered|Source Route Failed)"),
        Kind.UNREACHABLE,
    ),
    (re.compile(r"ping: (connect|sendmsg|sendto): (?P<why>.*)"), Kind.UNREACHABLE),
]
_BSD: list[tuple[re.Pattern[str], Kind]] = [
    (re.compile(rf"^[0-9]+ bytes from {_ADDR}: icmp_seq=[0-9]+ .*{_RTT}"), Kind.REPLY),
    (
        re.compile(rf"^[0-9]+ bytes from {_ADDR}: frag needed and DF set \(MTU {_MTU}\)"),
        Kind.TOO_BIG,
    ),
    (re.compile(rf"^[0-9]+ bytes from {_ADDR}: Time to live exceeded"), Kind.TIME_EXCEEDED),
    (re.compile(r"packet size too large: [0-9]+ > (?P<mtu>[0-9]+)"), Kind.TOOL_LIMIT),
    (re.compile(r"sendto(\(\) failed \(|: )Message too long"), Kind.REFUSED),
    (
        re.compile(rf"^[0-9]+ bytes from {_ADDR}: (?P<why>Destination .*|Communication .*)"),
        Kind.UNREACHABLE,
    ),
    (re.compile(r"sendto(\(\) failed \(|: )(?P<why>.*?)\)?$"), Kind.UNREACHABLE),
]
_WINDOWS: list[tuple[re.Pattern[str], Kind]] = [
    (re.compile(rf"^Reply from {_ADDR}: bytes=[0-9]+ {_RTT}"), Kind.REPLY),
    (re.compile(r"^Packet needs to be fragmented but DF set"), Kind.TOO_BIG),
    (re.compile(rf"^Reply from {_ADDR}: TTL expired in transit"), Kind.TIME_EXCEEDED),
    (re.compile(r"^Request timed out"), Kind.LOST),
    (re.compile(rf"^Reply from {_ADDR}: (?P<why>Destination .*?)\.?$"), Kind.UNREACHABLE),
    (re.compile(r"^(?P<why>General failure)"), Kind.UNREACHABLE),
]
_TABLES = {
    Flavour.IPUTILS: _IPUTILS,
    Flavour.BUSYBOX: _IPUTILS,
    Flavour.ESXI: _BSD,
    Flavour.MACOS: _BSD,
    Flavour.WINDOWS_PING: _WINDOWS,
}
#: BusyBox prints ``seq=`` where iputils prints ``icmp_seq=``.
_BUSYBOX_REPLY = re.compile(rf"^[0-9]+ bytes from {_ADDR}: seq=[0-9]+ .*{_RTT}")

#: .NET ``IPStatus`` names (what the PowerShell batch prints) to kinds.
IPSTATUS: dict[str, tuple[Kind, Unreach | None]] = {
    "Success": (Kind.REPLY, None),
    "PacketTooBig": (Kind.TOO_BIG, None),
    "TimedOut": (Kind.LOST, None),
    "TtlExpired": (Kind.TIME_EXCEEDED, None),
    "TimeExceeded": (Kind.TIME_EXCEEDED, None),
    "TtlReassemblyTimeExceeded": (Kind.LOST, None),
    "DestinationHostUnreachable": (Kind.UNREACHABLE, Unreach.HOST),
    "DestinationNetworkUnreachable": (Kind.UNREACHABLE, Unreach.NETWORK),
    "DestinationProtocolUnreachable": (Kind.UNREACHABLE, Unreach.PROTOCOL),
    "DestinationPortUnreachable": (Kind.UNREACHABLE, Unreach.PORT),
    "DestinationProhibited": (Kind.UNREACHABLE, Unreach.PROHIBITED),
    "DestinationScopeMismatch": (Kind.UNREACHABLE, Unreach.SCOPE),
    "DestinationUnreachable": (Kind.UNREACHABLE, Unreach.OTHER),
    "BadRoute": (Kind.UNREACHABLE, Unreach.LOCAL_NETWORK),
    "NoResources": (Kind.UNKNOWN, None),
    "HardwareError": (Kind.UNKNOWN, None),
}


def _address(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return str(ipaddress.ip_address(text.rstrip(":")))
    except ValueError:
        return None


def _unreach(why: str | None) -> Unreach:
    text = (why or "").strip().rstrip(".").lower()
    for words, code in UNREACH_WORDS.items():
        if text.startswith(words) or words in text:
            return code
    return Unreach.OTHER


def parse(flavour: Flavour, text: str, rc: int | None) -> Parsed:
    """One probe's fate from what ``flavour``'s ping printed and its exit status."""
    if flavour is Flavour.WINDOWS:
        return parse_status(text)
    table = _TABLES[flavour]
    for raw in text.splitlines()[:200]:
        line = raw.strip()
        if flavour is Flavour.BUSYBOX and (m := _BUSYBOX_REPLY.search(line)):
            return _found(Kind.REPLY, m, line)
        for pattern, kind in table:
            m = pattern.search(line)
            if m is not None:
                return _found(kind, m, line)
    # Nothing decisive: the tool waited (exit 1, or 2 on BSD) and nothing came.
    if rc in (1, 2) and "packet loss" in text:
        return Parsed(Kind.LOST)
    last = text.strip().splitlines()[-1] if text.strip() else f"exit status {rc}"
    return Parsed(Kind.UNKNOWN, detail=safe_text(last, 200))


def _rtt(text: str | None) -> float | None:
    """A round-trip time in ms from outside output, at most an hour; None otherwise."""
    if not text:
        return None
    try:
        return parse_decimal(text, MAX_RTT_MS)
    except NumberError:
        return None


#: Longest round trip believed from a ping's output, ms.
MAX_RTT_MS = 3_600_000.0


def _found(kind: Kind, m: re.Match[str], line: str) -> Parsed:
    groups = m.groupdict()
    # A far host's output is outside data: a size outside what IP allows is not believed.
    mtu = parse_int_or_none(groups["mtu"], 68, 65535) if groups.get("mtu") else None
    rtt = _rtt(groups.get("rtt"))
    code = _unreach(groups.get("why")) if kind is Kind.UNREACHABLE else None
    return Parsed(
        kind,
        reporter=_address(groups.get("addr")),
        mtu=mtu,
        code=code,
        rtt_ms=rtt,
        detail=safe_text(line, 200),
    )


_STATUS = re.compile(r"^@@jp [0-9]+ (?P<status>\w+) (?P<rtt>[0-9]+) (?P<addr>\S+)$")


def parse_status(line: str) -> Parsed:
    """A line of the PowerShell batch: ``@@jp INDEX STATUS RTT_MS ADDRESS``."""
    m = _STATUS.match(line.strip())
    if m is None:
        return Parsed(Kind.UNKNOWN, detail=safe_text(line, 200))
    kind, code = IPSTATUS.get(m["status"], (Kind.UNKNOWN, None))
    reporter = _address(m["addr"])
    if reporter in ("0.0.0.0", "::"):
        reporter = None
    return Parsed(
        kind,
        reporter=reporter,
        code=code,
        rtt_ms=_rtt(m["rtt"]),
        detail=safe_text(m["status"], 60),
    )
