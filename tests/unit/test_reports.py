"""Reports people read: Markdown and HTML for check, HTML for the mesh document."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser

from report_data import BAD, DEAD, GOOD, PTB, check_report, mesh_document
from test_mesh_helpers import mesh_of

from jumbopath.mesh.document import to_document
from jumbopath.model import Report
from jumbopath.render.html import render_html
from jumbopath.render.markdown import render_markdown
from jumbopath.render.mesh_html import render_mesh_html, worst


class Cells(HTMLParser):
    """Collects every element's tag and attributes (and checks nesting is sane)."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(text: str) -> Cells:
    p = Cells()
    p.feed(text)
    return p


# --------------------------------------------------------------------------
# Markdown


def test_markdown_table_has_a_row_per_path_and_the_causes() -> None:
    text = render_markdown(check_report())
    rows = [line for line in text.splitlines() if line.startswith("| 198.18.")]
    assert len(rows) == 4
    cells = {r.split(" | ")[0].strip("| "): r for r in rows}
    assert "✅ OK" in cells[GOOD] and "`carries-expected`" in cells[GOOD]
    assert "**❌ BELOW 9000**" in cells[BAD] and "`silent-drop`" in cells[BAD]
    assert "`router-too-big`" in cells[PTB]
    assert "⚠️ UNREACHABLE" in cells[DEAD] and "`no-answer`" in cells[DEAD]
    assert all(r.count(" | ") == 8 for r in rows)  # nine columns everywhere
    assert "- path: `lab0 ─1501─ 198.18.1.1 ═╳ 1500 ╳═ 198.18.9.10`" in text
    assert "- where (`silent-drop`): 1501-byte packets leave 198.18.1.1" in text


def test_markdown_hostile_name_cannot_break_the_table() -> None:
    report = check_report()
    evil = replace(report.results[0], target="a|b [x](http://e) `c` <img>\x1b[2J")
    text = render_markdown(Report(report.expected_mtu, (evil,)))
    row = next(line for line in text.splitlines() if line.startswith("| a"))
    assert row.count(" | ") == 8
    assert "\\|" in row and "\\[x\\]" in row and "\\<img\\>" in row and "\x1b" not in row


# --------------------------------------------------------------------------
# HTML of a check


def test_check_html_is_self_contained_and_shows_every_verdict() -> None:
    text = render_html(check_report(), generated_at=0)
    assert text.startswith("<!DOCTYPE html>")
    assert not re.search(r"(src|href)=|<script|@import|url\(", text)  # opens offline
    p = parse(text)
    rows = {a.get("data-status") for t, a in p.elements if t == "tr" and "data-status" in a}
    assert rows == {"ok", "below", "unreachable"}
    chain = [a.get("class") for t, a in p.elements if t == "li"]
    assert chain.count("link broken") >= 2  # BAD and PTB each show their broken link
    body = "".join(p.text)
    for words in ("✖ BELOW 9000", "✔ OK", "▲ UNREACHABLE", "router-too-big", "1970-01-01"):
        assert words in body


def test_check_html_escapes_outside_text() -> None:
    report = check_report()
    evil = replace(report.results[1], target="<script>alert(1)</script>")
    text = render_html(Report(report.expected_mtu, (evil,)))
    assert "<script>" not in text and "&lt;script&gt;" in text


# --------------------------------------------------------------------------
# HTML of a mesh document


def test_worst_direction_colours_the_cell() -> None:
    assert worst("ok", "below") == "below"
    assert worst("ok", "not-measured") == "not-measured"
    assert worst("unreachable", "error") == "unreachable"
    assert worst("ok", "bogus") == "error"


def test_mesh_cells_follow_the_document() -> None:
    m = mesh_of(["h1", "h2", "h3"], cells={("h1", "h3"): ("below", 1500)})
    doc = to_document(m)
    p = parse(render_mesh_html(doc))
    cells = {a["data-pair"]: a["data-worst"] for t, a in p.elements if a.get("data-pair")}
    assert len(cells) == 6
    assert cells == {
        "h1 h2": "ok",
        "h2 h1": "ok",
        "h1 h3": "below",
        "h3 h1": "below",  # the cell shows both directions: the way back is below
        "h2 h3": "ok",
        "h3 h2": "ok",
    }
    td = {a["data-pair"]: a["class"] for t, a in p.elements if a.get("data-pair")}
    assert td["h1 h3"] == "w-below" and td["h1 h2"] == "w-ok"


def test_mesh_report_of_16_hosts_and_3_networks_is_small_and_complete() -> None:
    doc = mesh_document()
    text = render_mesh_html(doc, how="jumbopath mesh inventory.yml", generated_at=0)
    size = len(text.encode())
    print(f"16 hosts, 3 networks: {size} bytes")
    assert size < 300_000
    p = parse(text)
    sections = [a["data-network"] for t, a in p.elements if t == "section"]
    assert sections == ["storage", "backup", "mgmt"]
    cells = [a for t, a in p.elements if a.get("data-pair")]
    assert len(cells) == 3 * 16 * 15
    worst_of = {(a["data-pair"], i // 240): a["data-worst"] for i, a in enumerate(cells)}
    assert worst_of[("h1 h5", 0)] == "below" and worst_of[("h1 h2", 0)] == "ok"
    assert worst_of[("h7 h9", 1)] == "below" and worst_of[("h9 h7", 1)] == "below"
    assert worst_of[("h1 h16", 2)] == "not-measured"
    body = "".join(p.text)
    assert "h16: connect-timeout: ssh could not connect" in body
    assert "jumbopath mesh inventory.yml" in body and "1970-01-01" in body
    assert "drops them silently" in body  # the located break of a failing pair
