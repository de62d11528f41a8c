"""Exit codes: the contract scripts, cron jobs and CI pipelines rely on."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit status of every jumbopath command."""

    OK = 0
    """Every checked path carries the expected MTU (or: nothing to flag)."""
    BELOW = 1
    """At least one path is below the expected MTU or unreachable (or a problem was flagged)."""
    USAGE = 2
    """Bad input or usage."""
    CANNOT_MEASURE = 3
    """Could not measure: no privilege for raw sockets, no route, interface down."""
    INTERNAL = 4
    """A bug: an unexpected exception. One line asks for a report with --debug."""


def exit_code_for(statuses: list[str]) -> ExitCode:
    """The exit status of a run from its per-path statuses.

    A path that could not be measured (``error``) outranks one below
    expectation: the run did not check everything it was asked to.
    """
    if "error" in statuses:
        return ExitCode.CANNOT_MEASURE
    if "below" in statuses or "unreachable" in statuses or "degraded" in statuses:
        return ExitCode.BELOW
    return ExitCode.OK
