"""Make strings from outside safe to show: bounded, no terminal control sequences.

Anything that did not originate in jumbopath itself (names from inventories
and DNS, remote hosts' output, ssh's messages, result files) passes through
:func:`safe_text` before a renderer or an error line shows it. Control
characters (C0, DEL, C1, and the Unicode bidirectional overrides that can
reorder what a terminal shows) are written as visible escapes, so an ESC
sequence in a result file can neither clear the screen nor fake a verdict.
"""

from __future__ import annotations

import re

#: Default bound on one string shown to the user, characters.
MAX_SHOWN = 500

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_UNSAFE_LINES = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(value: object, limit: int = MAX_SHOWN, *, newlines: bool = False) -> str:
    """``value`` as text fit for a terminal: escaped controls, at most ``limit`` characters.

    Newlines and tabs are escaped too unless ``newlines`` is true (multi-line
    output such as a remote host's last lines).
    """
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[:limit] + f"…(+{len(text) - limit} chars)"
    pattern = _UNSAFE if newlines else _UNSAFE_LINES
    return pattern.sub(_escape, text)
