"""Headless Chromium (Debian's ``chromium`` package) for the report tests, and a
small PNG reader so a test can count the colours of a screenshot."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--mute-audio"]


def _run(args: list[str], timeout: float = 90) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None, "chromium is missing: apt-get install -y chromium"
    return subprocess.run(
        [CHROMIUM, *FLAGS, *args], capture_output=True, text=True, timeout=timeout, check=True
    )


def dump_dom(page: Path) -> str:
    """The DOM as the browser parsed it."""
    return _run(["--dump-dom", page.as_uri()]).stdout


def screenshot(
    page: Path, out: Path, size: tuple[int, int] = (1200, 900), *, dark: bool = False
) -> Path:
    """A PNG of the page as the browser draws it (light or dark colour scheme)."""
    scheme = ["--blink-settings=preferredColorScheme=0", "--force-dark-mode"] if dark else []
    _run([*scheme, f"--window-size={size[0]},{size[1]}", f"--screenshot={out}", page.as_uri()])
    return out


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def pixels(png: Path) -> Counter[tuple[int, int, int]]:
    """How many pixels of each RGB colour (8-bit RGB or RGBA, not interlaced)."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, kind = 8, b"", 0, 0, 0
    while pos < len(data):
        length, tag = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if tag == b"IHDR":
            width, height, depth, kind, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and kind in (2, 6) and interlace == 0
        elif tag == b"IDAT":
            idat += body
        pos += 12 + length
    bpp = 3 if kind == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    counts: Counter[tuple[int, int, int]] = Counter()
    for y in range(height):
        start = y * (stride + 1)
        ftype, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                line[i] = (line[i] + _paeth(a, b, c)) & 0xFF
        counts.update((line[x], line[x + 1], line[x + 2]) for x in range(0, stride, bpp))
        prev = line
    return counts


def rgb(hex_colour: str) -> tuple[int, int, int]:
    """``#ffebe9`` to (255, 235, 233)."""
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
