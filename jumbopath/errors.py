"""One exception tree. Every message tells the user what to do next.

Network *findings* (a small MTU, loss, silence) are data, never exceptions;
these are for "could not measure at all" and for bad input.
"""

from __future__ import annotations

from jumbopath.status import ExitCode


class JumbopathError(Exception):
    """Base of every error jumbopath raises on purpose."""

    exit_code: ExitCode = ExitCode.CANNOT_MEASURE


class UsageError(JumbopathError):
    """Bad input: a wrong option value, an unknown host, a malformed file."""

    exit_code = ExitCode.USAGE


class CannotMeasure(JumbopathError):
    """The measurement cannot start: no privilege, no route, interface down."""

    exit_code = ExitCode.CANNOT_MEASURE


class NoPrivilege(CannotMeasure):
    """Raw sockets (or namespaces) need root or CAP_NET_RAW."""


class NoRoute(CannotMeasure):
    """The kernel has no route to the target."""


class InterfaceDown(CannotMeasure):
    """The interface toward the target is down."""


class LabError(JumbopathError):
    """The namespace lab could not be built (missing tool, not root, kernel refused)."""

    exit_code = ExitCode.CANNOT_MEASURE
