"""One strict reader for every number that comes from outside.

Python's ``str.isdigit()`` is true for ``²`` and ``³`` (which ``int()``
refuses) and ``int()`` itself accepts Arabic-Indic digits, underscores,
surrounding whitespace and any number of digits. A number from an
inventory, a switch table, a result file, a far host's ping output or the
command line is read here instead: ASCII digits only, at most one leading
``-`` and only where negatives are allowed, bounded length and bounds, and
one clear error (:class:`NumberError`, a ``ValueError``) that each entry
point turns into its own message.
"""

from __future__ import annotations

import re

from jumbopath.safe import safe_text

#: Longest run of digits read (a 64-bit number has 20; longer is refused before int()).
MAX_DIGITS = 40

_WHOLE = re.compile(rf"-?[0-9]{{1,{MAX_DIGITS}}}", re.ASCII)
_DECIMAL = re.compile(rf"[0-9]{{1,{MAX_DIGITS}}}(\.[0-9]{{1,{MAX_DIGITS}}})?", re.ASCII)


class NumberError(ValueError):
    """Not a whole number within bounds; ``str()`` is one line fit to show."""


def parse_int(value: object, low: int, high: int, what: str = "number") -> int:
    """``value`` (an int, not a bool, or a string of ASCII digits) within [low, high].

    A string may carry a leading ``-`` only when ``low`` is negative, and
    ASCII spaces around it. Anything else raises :class:`NumberError`.
    """
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        text = value.strip(" \t")
        if _WHOLE.fullmatch(text) and (low < 0 or not text.startswith("-")):
            number = int(text, 10)
    if number is None or not low <= number <= high:
        raise NumberError(
            f"{what}: {safe_text(value, 30)!r} is not a whole number from {low} to {high}"
        )
    return number


def parse_int_or_none(value: object, low: int, high: int) -> int | None:
    """:func:`parse_int`, or None where it would refuse (optional fields of remote output)."""
    try:
        return parse_int(value, low, high)
    except NumberError:
        return None


def parse_decimal(text: str, high: float, what: str = "number") -> float:
    """A non-negative decimal of ASCII digits (``12`` or ``0.25``) up to ``high``."""
    stripped = text.strip(" \t") if isinstance(text, str) else ""
    if not _DECIMAL.fullmatch(stripped) or float(stripped) > high:
        raise NumberError(f"{what}: {safe_text(text, 30)!r} is not a number from 0 to {high:g}")
    return float(stripped)
