"""jumbopath: prove that a network path carries jumbo frames end to end.

Public API (the command line is built on it)::

    from jumbopath import CheckConfig, check
    report = check(CheckConfig(targets=("198.18.2.1",), expect=9000))

The names below load on first use, so ``import jumbopath.sizes`` (or any
command that does not check a path) does not pay for the check pipeline.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jumbopath.errors import CannotMeasure, JumbopathError, UsageError
    from jumbopath.model import Break, BreakKind, Hop, PathResult, Report, Status
    from jumbopath.pipeline import CheckConfig, check
    from jumbopath.status import ExitCode

_LAZY = {
    "Break": "jumbopath.model",
    "BreakKind": "jumbopath.model",
    "CannotMeasure": "jumbopath.errors",
    "CheckConfig": "jumbopath.pipeline",
    "ExitCode": "jumbopath.status",
    "Hop": "jumbopath.model",
    "JumbopathError": "jumbopath.errors",
    "PathResult": "jumbopath.model",
    "Report": "jumbopath.model",
    "Status": "jumbopath.model",
    "UsageError": "jumbopath.errors",
    "check": "jumbopath.pipeline",
}
"""Public name to the module that defines it."""

__all__ = [
    "Break",
    "BreakKind",
    "CannotMeasure",
    "CheckConfig",
    "ExitCode",
    "Hop",
    "JumbopathError",
    "PathResult",
    "Report",
    "Status",
    "UsageError",
    "check",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'jumbopath' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
