"""The system ping parsers against each tool's output (tests/unit/data/ping/): 16 captured
(13 Linux iputils, 3 BusyBox), 14 written from documentation and memory (ESXi, macOS,
Windows, PowerShell), never captured on such a host.

Each fixture names its source in its first lines: Linux iputils and BusyBox
outputs were captured in the lab; ESXi, macOS and Windows ones are written
from their documentation, as their headers say (no such host runs here).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jumbopath.model import Unreach
from jumbopath.probers.pingparse import Flavour, Kind, Parsed, parse, parse_status

DATA = Path(__file__).parent / "data" / "ping"


def fixture(name: str) -> tuple[str, int]:
    """The output (without its header) and the exit status the header records."""
    lines = (DATA / name).read_text().splitlines(keepends=True)
    rc = next(int(x.split(":")[1]) for x in lines if x.startswith("# exit:"))
    return "".join(x for x in lines if not x.startswith("# ")), rc


LX, B, E, M, W = (
    Flavour.IPUTILS,
    Flavour.BUSYBOX,
    Flavour.ESXI,
    Flavour.MACOS,
    Flavour.WINDOWS_PING,
)
CASES = [
    (LX, "linux-iputils/reply-v4.txt", Kind.REPLY, "198.18.2.2", None),
    (LX, "linux-iputils/reply-v6.txt", Kind.REPLY, "2001:db8:2::2", None),
    (LX, "linux-iputils/frag-needed-v4.txt", Kind.TOO_BIG, "198.18.1.2", 1500),
    (LX, "linux-iputils/packet-too-big-v6.txt", Kind.TOO_BIG, "2001:db8:1::2", 1500),
    (LX, "linux-iputils/cached-pmtu-v4.txt", Kind.REFUSED, None, 1500),
    (LX, "linux-iputils/cached-pmtu-v6.txt", Kind.REFUSED, None, 1500),
    (LX, "linux-iputils/local-too-big-v4.txt", Kind.REFUSED, None, 1500),
    (LX, "linux-iputils/local-too-big-v6.txt", Kind.REFUSED, None, 1500),
    (LX, "linux-iputils/ttl-exceeded-v4.txt", Kind.TIME_EXCEEDED, "198.18.1.2", None),
    (LX, "linux-iputils/ttl-exceeded-v6.txt", Kind.TIME_EXCEEDED, "2001:db8:1::2", None),
    (LX, "linux-iputils/timeout-v4.txt", Kind.LOST, None, None),
    (LX, "linux-iputils/timeout-v6.txt", Kind.LOST, None, None),
    (LX, "linux-iputils/no-route-v4.txt", Kind.UNREACHABLE, None, None),
    (B, "busybox/reply.txt", Kind.REPLY, "198.18.1.2", None),
    (B, "busybox/timeout.txt", Kind.LOST, None, None),
    (E, "esxi/reply.txt", Kind.REPLY, "198.18.2.2", None),
    (E, "esxi/message-too-long.txt", Kind.REFUSED, None, None),
    (E, "esxi/timeout.txt", Kind.LOST, None, None),
    (M, "macos/reply.txt", Kind.REPLY, "198.18.2.2", None),
    (M, "macos/frag-needed.txt", Kind.TOO_BIG, "198.18.1.2", 1500),
    (M, "macos/ttl-exceeded.txt", Kind.TIME_EXCEEDED, "198.18.1.2", None),
    (M, "macos/message-too-long.txt", Kind.REFUSED, None, None),
    (M, "macos/timeout.txt", Kind.LOST, None, None),
    (W, "windows/reply.txt", Kind.REPLY, "198.18.2.2", None),
    (W, "windows/packet-needs-fragmenting.txt", Kind.TOO_BIG, None, None),
    (W, "windows/timed-out.txt", Kind.LOST, None, None),
    (W, "windows/ttl-expired.txt", Kind.TIME_EXCEEDED, "198.18.1.2", None),
    (W, "windows/host-unreachable.txt", Kind.UNREACHABLE, "198.18.1.2", None),
]


@pytest.mark.parametrize(("flavour", "name", "kind", "reporter", "mtu"), CASES)
def test_real_outputs(
    flavour: Flavour, name: str, kind: Kind, reporter: str | None, mtu: int | None
) -> None:
    text, rc = fixture(name)
    got = parse(flavour, text, rc)
    assert (got.kind, got.reporter, got.mtu) == (kind, reporter, mtu), got
    if kind is Kind.REPLY:
        assert got.rtt_ms is not None and got.rtt_ms >= 0


def test_every_fixture_is_tested_and_names_its_source() -> None:
    tested = {name for _, name, *_ in CASES}
    for path in DATA.rglob("*.txt"):
        name = str(path.relative_to(DATA))
        assert path.read_text().startswith("# source: "), name
        assert name in tested or name in {"busybox/help.txt", "windows/powershell-statuses.txt"}


def test_unreachable_kinds() -> None:
    text, rc = fixture("linux-iputils/no-route-v4.txt")
    assert parse(LX, text, rc).code is Unreach.LOCAL_NETWORK
    text, rc = fixture("windows/host-unreachable.txt")
    assert parse(W, text, rc).code is Unreach.HOST


def test_busybox_cannot_set_dont_fragment() -> None:
    """BusyBox's ping (1.35) has no -M: it cannot measure a path MTU."""
    text, _ = fixture("busybox/help.txt")
    assert "BusyBox" in text and "-M" not in text


@pytest.mark.parametrize(
    ("line", "kind", "reporter"),
    [
        ("@@jp 0 Success 0 198.18.2.2", Kind.REPLY, "198.18.2.2"),
        ("@@jp 1 PacketTooBig 0 198.18.1.2", Kind.TOO_BIG, "198.18.1.2"),
        ("@@jp 2 TimedOut 0 0.0.0.0", Kind.LOST, None),
        ("@@jp 3 TtlExpired 1 198.18.1.2", Kind.TIME_EXCEEDED, "198.18.1.2"),
        ("@@jp 4 DestinationHostUnreachable 0 198.18.1.2", Kind.UNREACHABLE, "198.18.1.2"),
        ("@@jp 5 SomethingNew 0 198.18.1.2", Kind.UNKNOWN, "198.18.1.2"),
        ("garbage", Kind.UNKNOWN, None),
    ],
)
def test_powershell_statuses(line: str, kind: Kind, reporter: str | None) -> None:
    got = parse_status(line)
    assert (got.kind, got.reporter) == (kind, reporter)


def test_powershell_fixture_lines() -> None:
    text = (DATA / "windows/powershell-statuses.txt").read_text()
    kinds = [parse_status(x).kind for x in text.splitlines() if x.startswith("@@jp")]
    assert Kind.UNKNOWN not in kinds and len(kinds) == 7


@given(st.sampled_from(list(Flavour)), st.text(max_size=2000), st.one_of(st.none(), st.integers()))
def test_hostile_output_never_raises(flavour: Flavour, text: str, rc: int | None) -> None:
    got = parse(flavour, text, rc)
    assert isinstance(got, Parsed)
    assert got.detail is None or ("\x1b" not in got.detail and len(got.detail) <= 400)
