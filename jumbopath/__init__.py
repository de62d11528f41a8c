"""jumbopath: prove that a network path carries jumbo frames end to end.

Public API (the command line is built on it)::

    from jumbopath import CheckConfig, check
    report = check(CheckConfig(targets=("198.18.2.1",), expect=9000))
"""

from jumbopath.errors import CannotMeasure, JumbopathError, UsageError
from jumbopath.model import Break, BreakKind, Hop, PathResult, Report, Status
from jumbopath.pipeline import CheckConfig, check
from jumbopath.status import ExitCode

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
