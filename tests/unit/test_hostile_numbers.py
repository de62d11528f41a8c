"""Numbers from outside: one strict reader, at every door (hostile cases per surface).

``str.isdigit()`` is true for ``²``, ``int()`` takes Arabic-Indic digits and
``\\d`` matches them: each surface below is fed such numbers and must either
read the plain ASCII number or refuse it cleanly (its own error, exit 2),
never raise a bare ValueError (exit 4) or believe a number IP cannot carry.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from jumbopath.errors import UsageError
from jumbopath.exporter import parse_listen
from jumbopath.mesh.agentless import parse_routes
from jumbopath.numbers import NumberError, parse_decimal, parse_int
from jumbopath.pathstate import parse_probe
from jumbopath.probers.pingparse import Flavour, parse
from jumbopath.status import ExitCode
from jumbopath.switches.pasted import PasteError, interfaces

REPO = Path(__file__).resolve().parents[2]
#: Digits that are not ASCII: superscripts (isdigit, not int), Arabic-Indic and
#: fullwidth (int() reads them), and an int() underscore.
HOSTILE = ["\u00b2", "\u00b3", "\u0669\u0660\u0660\u0660", "\uff19\uff10\uff10\uff10", "9_000"]
SIGNS = ["--9000", "+-1", "-", "", " ", "9000-", "0x2328", "1e3", "9" * 25, "9" * 45, "\x1b[2J9000"]

# (value, low, high, expected or None for refused)
PARSE = [
    ("9000", 68, 65535, 9000),
    (9000, 68, 65535, 9000),
    (" 1500 ", 68, 65535, 1500),
    ("-5", -255, 255, -5),
    ("-5", 0, 255, None),
    ("67", 68, 65535, None),
    (True, 0, 1, None),
    (9000.0, 68, 65535, None),
    (None, 0, 1, None),
    *[(h, -(10**9), 10**9, None) for h in HOSTILE + SIGNS],
]


@pytest.mark.parametrize(("value", "low", "high", "want"), PARSE)
def test_parse_int_is_strict(value: object, low: int, high: int, want: int | None) -> None:
    if want is None:
        with pytest.raises(NumberError) as info:
            parse_int(value, low, high, "mtu")
        assert "\x1b" not in str(info.value) and "\n" not in str(info.value)
    else:
        assert parse_int(value, low, high) == want


@pytest.mark.parametrize("text", [*HOSTILE, "1.", ".5", "-1", "1e3", "nan", "inf", "9" * 30])
def test_parse_decimal_is_strict(text: str) -> None:
    with pytest.raises(NumberError):
        parse_decimal(text, 1e9)


# Surface: --probe (the command line)
@pytest.mark.parametrize("port", [*HOSTILE, *SIGNS[:3], "0", "65536"])
def test_probe_port_refuses_hostile_numbers(port: str) -> None:
    with pytest.raises(UsageError):
        parse_probe(f"tcp:{port}")


def test_probe_port_through_the_command_is_exit_2() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "jumbopath", "check", "--probe", "tcp:\u00b2", "198.18.2.1"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert r.returncode == ExitCode.USAGE, r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


# Surface: pasted switch tables (NX-OS JSON quotes its numbers)
@pytest.mark.parametrize("value", HOSTILE + SIGNS)
def test_pasted_switch_table_numbers(value: str) -> None:
    row = {"interface": "Ethernet1/1", "eth_mtu": value, "eth_bw": value, "state": "up"}
    doc = {"TABLE_interface": {"ROW_interface": [row]}}
    try:
        _, ports = interfaces(doc, "nxos")
    except PasteError:
        return  # refused with its own error: fine
    assert ports[0].speed_mbps is None


# Surface: a far host's ping output
PING = [
    "From 198.18.1.1 icmp_seq=1 Frag needed and DF set (mtu = {n})",
    "From 2001:db8::1 icmp_seq=1 Packet too big: mtu={n}",
    "ping: local error: message too long, mtu={n}",
]


@pytest.mark.parametrize("line", PING)
@pytest.mark.parametrize("number", [*HOSTILE, "0", "67", "999999"])
def test_ping_output_mtu_outside_ip_is_not_believed(line: str, number: str) -> None:
    parsed = parse(Flavour.IPUTILS, line.format(n=number), 1)
    assert parsed.mtu is None


@pytest.mark.parametrize("rtt", ["\u0661.5", "9" * 400, "\uff11"])
def test_ping_output_rtt_is_ascii_and_bounded(rtt: str) -> None:
    line = f"64 bytes from 198.18.1.2: icmp_seq=1 ttl=64 time={rtt} ms"
    parsed = parse(Flavour.IPUTILS, line, 0)
    assert parsed.rtt_ms is None or parsed.rtt_ms <= 3_600_000


def test_ping_output_plain_numbers_still_read() -> None:
    parsed = parse(Flavour.IPUTILS, PING[0].format(n="1500"), 1)
    assert parsed.mtu == 1500
    line = "64 bytes from 198.18.1.2: icmp_seq=1 ttl=64 time=0.25 ms"
    assert parse(Flavour.IPUTILS, line, 0).rtt_ms == 0.25


# Surface: a far host's route lookup (agentless mesh)
@pytest.mark.parametrize("number", [*HOSTILE, "999999", "0"])
def test_agentless_routes_with_hostile_mtus(number: str) -> None:
    text = (
        f"@@jp 198.18.1.2 {number} up 198.18.1.2 dev eth0 src 198.18.1.1\n"
        f"@@jp 198.18.1.3 1500 up 198.18.1.3 dev eth0 src 198.18.1.1 mtu {number}\n"
        "@@jp 198.18.1.4 9000 up 198.18.1.4 dev eth0 src 198.18.1.1\n"
    )
    routes = parse_routes(text)
    good = routes["198.18.1.4"]
    assert not isinstance(good, str) and good.interface_mtu == 9000
    for address in ("198.18.1.2", "198.18.1.3"):
        egress = routes.get(address)
        if egress is not None and not isinstance(egress, str):
            for mtu in (egress.interface_mtu, egress.route_mtu):
                assert mtu is None or 68 <= mtu <= 65535


# Surface: exporter --listen
LISTEN_BAD = [
    "[::1:9799",
    "::1:9799",
    "[127.0.0.1]:9799",
    "127.0.0.1:\uff19\uff17\uff19\uff19",
    "127.0.0.1:\u00b2",
    "127.0.0.1:-1",
    "127.0.0.1:65536",
    "127.0.0.1",
    "[::1]",
    "[]:9799",
    "[[::1]]:9799",
]


@pytest.mark.parametrize("listen", LISTEN_BAD)
def test_exporter_refuses_malformed_listen(listen: str) -> None:
    with pytest.raises(UsageError):
        parse_listen(listen)


@pytest.mark.parametrize(
    ("listen", "want"),
    [("127.0.0.1:9799", ("127.0.0.1", 9799)), ("[::1]:9799", ("::1", 9799))],
)
def test_exporter_listen_reads_good_addresses(listen: str, want: tuple[str, int]) -> None:
    assert parse_listen(listen) == want


def test_exporter_malformed_listen_is_one_line_exit_2(tmp_path: Path) -> None:
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "jumbopath",
            "exporter",
            "--listen",
            "[::1:9799",
            "--config",
            str(tmp_path / "none.yaml"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert r.returncode == ExitCode.USAGE
    assert len(r.stderr.strip().splitlines()) == 1 and "listen" in r.stderr


# Surface: lldpcli's JSON (numbers quoted, from the switch's LLDP frames)
@pytest.mark.parametrize("value", [*HOSTILE, "9000.5", "-9000", "\x1b[2J"])
def test_lldpcli_numbers_are_read_strictly(value: str) -> None:
    from jumbopath import lldp

    text = (Path(__file__).parent / "data" / "lldpcli-one-port.json").read_text()
    assert '"mfs": "9000"' in text
    doc = json.loads(text.replace('"mfs": "9000"', json.dumps({"mfs": value})[1:-1]))
    (neighbour,) = lldp.parse_lldpcli(doc).values()
    assert neighbour.max_frame_size is None
    (plain,) = lldp.parse_lldpcli(json.loads(text)).values()
    assert plain.max_frame_size == 9000
