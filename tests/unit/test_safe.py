"""Strings from outside never reach the terminal raw."""

from __future__ import annotations

import pytest

from jumbopath.safe import safe_text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("stor-a", "stor-a"),
        ("\x1b[2J\x1b[Hfake", "\\x1b[2J\\x1b[Hfake"),
        ("a\nb", "a\\x0ab"),
        ("bell\x07", "bell\\x07"),
        ("c1\x9bq", "c1\\x9bq"),
        ("rtl\u202eevil", "rtl\\u202eevil"),
        ("del\x7f", "del\\x7f"),
    ],
)
def test_controls_are_escaped(raw: str, shown: str) -> None:
    assert safe_text(raw) == shown


def test_newlines_kept_when_asked() -> None:
    assert safe_text("a\nb\x1b", newlines=True) == "a\nb\\x1b"


def test_length_is_bounded() -> None:
    out = safe_text("x" * 10_000, limit=100)
    assert out.startswith("x" * 100) and out.endswith("…(+9900 chars)")
