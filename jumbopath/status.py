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
