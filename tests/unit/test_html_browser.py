"""The HTML reports in a real browser: headless Chromium parses and draws them;
the cells are there and coloured as the data says (DOM and pixels)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser import CHROMIUM, dump_dom, pixels, rgb, screenshot
from report_data import check_report, mesh_document
from test_mesh_helpers import mesh_of

from jumbopath.mesh.document import to_document
from jumbopath.render.html import render_html
from jumbopath.render.mesh_html import render_mesh_html

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is missing: apt-get install -y chromium (install.sh --test)"
)

# Background colours of the cells (light scheme, from the page's CSS).
OK_BG, BELOW_BG = rgb("#dafbe1"), rgb("#ffebe9")
# Dark scheme.
OK_BG_DARK, BELOW_BG_DARK = rgb("#12361f"), rgb("#4a1519")


def write(tmp_path: Path, name: str, text: str) -> Path:
    page = tmp_path / name
    page.write_text(text, encoding="utf-8")
    return page


def test_mesh_dom_in_the_browser_matches_the_document(tmp_path: Path) -> None:
    doc = mesh_document()
    dom = dump_dom(write(tmp_path, "mesh.html", render_mesh_html(doc)))
    cells = re.findall(r'<td class="w-([a-z-]+)" data-pair="(h\d+) (h\d+)"', dom)
    assert len(cells) == 3 * 16 * 15
    storage = {(s, d): w for w, s, d in cells[:240]}
    for c in doc["networks"][0]["cells"]:
        pair = (c["source"], c["destination"])
        back = next(
            x["status"]
            for x in doc["networks"][0]["cells"]
            if (x["source"], x["destination"]) == pair[::-1]
        )
        expected = (
            "below"
            if "below" in (c["status"], back)
            else ("not-measured" if "not-measured" in (c["status"], back) else c["status"])
        )
        assert storage[pair] == expected, pair


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_mesh_cells_are_drawn_in_the_colour_of_their_verdict(tmp_path: Path, dark: bool) -> None:
    ok_bg, below_bg = (OK_BG_DARK, BELOW_BG_DARK) if dark else (OK_BG, BELOW_BG)
    # Four hosts, one failing pair: 2 of the 12 cells (both directions shown) are below.
    failing = to_document(mesh_of(["h1", "h2", "h3", "h4"], cells={("h1", "h3"): ("below", 1500)}))
    clean = to_document(mesh_of(["h1", "h2", "h3", "h4"]))
    seen = {}
    for name, doc in (("failing", failing), ("clean", clean)):
        page = write(tmp_path, f"{name}.html", render_mesh_html(doc))
        seen[name] = pixels(screenshot(page, tmp_path / f"{name}.png", dark=dark))
    ok_px, below_px = seen["failing"][ok_bg], seen["failing"][below_bg]
    assert ok_px > 1000 and below_px > 200
    # Cells are the same size: the painted areas are about 10 : 2.
    assert 0.12 < below_px / ok_px < 0.3, (below_px, ok_px)
    assert seen["clean"][below_bg] == 0 and seen["clean"][ok_bg] > ok_px


def test_check_report_draws_its_verdicts(tmp_path: Path) -> None:
    page = write(tmp_path, "check.html", render_html(check_report()))
    dom = dump_dom(page)
    assert dom.count('<li class="link broken"') == 2
    assert re.findall(r'<tr data-status="([a-z]+)"', dom) == ["ok", "below", "below", "unreachable"]
    counts = pixels(screenshot(page, tmp_path / "check.png"))
    assert counts[OK_BG] > 100 and counts[BELOW_BG] > 2 * counts[OK_BG] * 0.8
