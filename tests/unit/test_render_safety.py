"""Strings from outside never reach the terminal raw, and never break a diagram's syntax.

Target names, interface names (anyone with CAP_NET_ADMIN names one, and an
ESC is a valid byte in it) and whatever a switch puts in its LLDP TLVs can
carry escape sequences, line breaks and markup.
"""

from __future__ import annotations

import io
import re
import struct

import pytest
from rich.console import Console

from jumbopath import lldp, nics
from jumbopath.lldp import Neighbour
from jumbopath.model import Break, BreakKind, Hop, PathResult, Report, Status
from jumbopath.nics import Interface, NicsReport
from jumbopath.render.graph import render_dot, render_mermaid
from jumbopath.render.local import nics_renderable

CLEAR = "\x1b[2J"
TITLE = "\x1b]0;owned\x07"
HOSTILE = [
    f"evil{CLEAR}host",
    f"name{TITLE}",
    'quote"]; click n0 call alert(1) %%',
    "line\nbreak",
    "tab\tand\rreturn",
    "<b>bold</b> &amp; #quot; `md` |pipe|",
    "bidi\u202eevil",
    "[bold red]markup[/]",
    "x" * 5000,
]
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _report(name: str) -> Report:
    hop1, dst = "198.18.1.2", "198.18.4.3"
    result = PathResult(
        target=name,
        address=dst,
        family=4,
        status=Status.BELOW,
        expected_mtu=9000,
        path_mtu=1500,
        interface=f"eth{name[:10]}",
        interface_mtu=9000,
        hops=(Hop(1, hop1, 0.2, 9000), Hop(2, dst, 0.3, 1500)),
        break_=Break(BreakKind.SILENT, hop1, dst, 1500, None, "x"),
    )
    return Report(9000, (result,))


@pytest.mark.parametrize("name", HOSTILE)
def test_mermaid_labels_are_escaped_and_terminal_safe(name: str) -> None:
    text = render_mermaid(_report(name))
    assert not RAW_CONTROL.search(text)
    lines = text.splitlines()
    # One statement per line: the header, 3 nodes, 2 edges, styles.
    assert lines[0] == "flowchart LR"
    nodes = [line for line in lines if re.match(r"  n\d+[\[(]", line)]
    edges = [line for line in lines if re.match(r"  n\d+ (-->|==>)", line)]
    assert len(nodes) == 3 and len(edges) == 2
    for line in nodes:
        # The only quotes are the label's own delimiters.
        body = re.fullmatch(r'  n\d+(\["|\("|\(\[")(.*)("\]|"\)|"\]\))', line)
        assert body is not None, line
        assert '"' not in body.group(2) and "<" not in body.group(2).replace("<br/>", "")
        assert "`" not in body.group(2) and "|" not in body.group(2)


@pytest.mark.parametrize("name", HOSTILE)
def test_dot_labels_are_escaped_and_terminal_safe(name: str) -> None:
    text = render_dot(_report(name))
    assert not RAW_CONTROL.search(text)
    for line in text.splitlines()[4:-1]:
        # Each statement is one line whose label is one quoted string.
        label = re.fullmatch(r'  n\d+( -> n\d+)? \[label="((?:[^"\\]|\\.)*)".*\];', line)
        assert label is not None, line


def test_a_long_name_is_bounded_in_a_label() -> None:
    text = render_mermaid(_report("x" * 5000))
    assert len(max(text.splitlines(), key=len)) < 400


def _tlv(kind: int, value: bytes) -> bytes:
    return struct.pack("!H", kind << 9 | len(value)) + value


def _lldpdu(system: bytes, port: bytes, description: bytes) -> bytes:
    return (
        _tlv(lldp.TLV_CHASSIS_ID, b"\x07" + b"chassis\x1b[5m")
        + _tlv(lldp.TLV_PORT_ID, b"\x05" + port)
        + _tlv(lldp.TLV_TTL, struct.pack("!H", 120))
        + _tlv(lldp.TLV_PORT_DESCRIPTION, description)
        + _tlv(lldp.TLV_SYSTEM_NAME, system)
        + _tlv(lldp.TLV_END, b"")
    )


def test_lldp_strings_from_the_wire_are_made_safe_where_they_enter() -> None:
    found = lldp.parse_lldpdu(
        _lldpdu(b"sw\x1b[2J\nfake: MTU 9000 OK", b"swp3\r\x1b]0;t\x07", b"\xff\xfe" + b"d" * 300),
        "eth0",
    )
    for text in (found.system_name, found.port_id, found.port_description, found.chassis_id):
        assert text is not None and not RAW_CONTROL.search(text), text
    assert found.system_name == "sw\\x1b[2J\\x0afake: MTU 9000 OK"
    assert found.port_description is not None and len(found.port_description) < 300


def test_lldpcli_strings_are_made_safe_too() -> None:
    document = {
        "lldp": [
            {
                "interface": [
                    {
                        "name": "eth0",
                        "chassis": [{"name": [{"value": "sw\x1b[31m2\n"}], "id": [{"value": "c"}]}],
                        "port": [
                            {
                                "id": [{"type": "ifname", "value": "swp\x1b[1m3"}],
                                "descr": [{"value": "up\nlink"}],
                                "mfs": [{"value": "1e999"}],
                            }
                        ],
                    }
                ]
            }
        ]
    }
    found = lldp.parse_lldpcli(document)["eth0"]
    assert found.system_name == "sw\\x1b[31m2\\x0a"
    assert found.port_id == "swp\\x1b[1m3" and found.port_description == "up\\x0alink"
    assert found.max_frame_size is None


def _hostile_nics() -> NicsReport:
    name = f"eth{CLEAR}0"
    switch = Neighbour(
        interface=name,
        source="lldpd",
        system_name="[blink]sw\\x1b[2J",  # already escaped where it entered
        port_id="[bold]swp3",
        max_frame_size=1518,
    )
    interfaces = [
        Interface(
            name=name,
            kind="physical",
            state="up",
            mtu=9000,
            addresses=(f"198.18.0.1/24{TITLE}",),
            neighbour=switch,
        ),
        Interface(name=f"br\n{CLEAR}", kind="bridge", state="up", mtu=9000, members=(name,)),
        Interface(name="tap[1]", kind="[red]tap", state="down", mtu=1500),
    ]
    problems = nics.find_problems(interfaces, 9000)
    return NicsReport(
        interfaces=tuple(interfaces),
        problems=tuple(problems),
        expected_mtu=9000,
        notes=(f"no LLDP capture on {name}",),
    )


def test_nics_problems_and_sentences_are_terminal_safe() -> None:
    report = _hostile_nics()
    assert report.problems, "the 1518-byte switch port is a problem"
    for problem in report.problems:
        assert not RAW_CONTROL.search(problem.message + problem.fix)
    sentence = nics.cabling_sentence(f"eth{CLEAR}", report.interfaces[0].neighbour)  # type: ignore[arg-type]
    assert not RAW_CONTROL.search(sentence)


def test_nics_tables_show_names_as_plain_safe_text() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, color_system=None, width=250)
    console.print(nics_renderable(_hostile_nics()))
    text = out.getvalue()
    assert not RAW_CONTROL.search(text)  # no styling here: any ESC would be the data's
    assert "eth\\x1b[2J0" in text
    assert "[red]tap" in text and "tap[1]" in text  # shown, not obeyed
    assert "[blink]sw" in text and "[bold]swp3" in text
    assert "br\\x0a\\x1b[2J" in text
