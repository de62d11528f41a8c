"""``jumbopath trace``: the hop map, and the NIC, router or segment that breaks the chain."""

from __future__ import annotations

import typer

from jumbopath.cli import app
from jumbopath.cli.check import (
    EXPECT,
    FLOWS,
    FORMAT,
    IPV4,
    IPV6,
    JSON_OUT,
    MAX_TIME,
    PROBE,
    SOAK,
    SWITCHES,
    VIA,
    Format,
    family_option,
    field_options,
    run_report,
)
from jumbopath.pathstate import CheckConfig


@app.command("trace")
def trace_command(
    targets: list[str] = typer.Argument(
        None,
        metavar="TARGET...",
        help="Host or address to trace (names resolve to A and AAAA).",
        show_default=False,
    ),
    expect: int | None = EXPECT,
    ipv4: bool = IPV4,
    ipv6: bool = IPV6,
    json_out: bool = JSON_OUT,
    fmt: Format = FORMAT,
    max_time: float = MAX_TIME,
    probe: str = PROBE,
    flows: int = FLOWS,
    soak: int = SOAK,
    switches: str | None = SWITCHES,
    via: str = VIA,
) -> None:
    """Map the hops to TARGET and name where packets of the expected size die.

    The break is one of: local-nic (this host's interface is smaller), ptb (a
    router reports "too big": its egress is the limit), silent (big packets
    vanish between two hops with no error: a black-hole router or a switch
    port), or none.
    """
    from jumbopath.pipeline import trace

    config = CheckConfig(
        targets=tuple(targets or ()),
        expect=expect,
        family=family_option(ipv4, ipv6),
        max_time_s=max_time,
    )
    config = field_options(config, probe, flows, soak, switches, via)
    run_report("trace", trace, config, fmt, json_out)
