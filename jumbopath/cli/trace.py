"""``jumbopath trace``: the hop map, and the NIC, router or segment that breaks the chain."""

from __future__ import annotations

import typer

from jumbopath.cli import app
from jumbopath.cli.check import Format, emit, family_option
from jumbopath.engine import CheckConfig, trace
from jumbopath.status import exit_code_for


@app.command("trace")
def trace_command(
    targets: list[str] = typer.Argument(
        None,
        metavar="TARGET...",
        help="Host or address to trace (names resolve to A and AAAA).",
        show_default=False,
    ),
    expect: int | None = typer.Option(
        None,
        "--expect",
        "-e",
        help="MTU the path must carry, e.g. 9000. Default: the egress interface MTU.",
    ),
    ipv4: bool = typer.Option(False, "-4", help="IPv4 only."),
    ipv6: bool = typer.Option(False, "-6", help="IPv6 only."),
    json_out: bool = typer.Option(False, "--json", help="Print the JSON document (schema 1)."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
    max_time: float = typer.Option(
        5.0, "--max-time", help="Bound on the path MTU search, seconds.", min=0.1, max=120
    ),
) -> None:
    """Map the hops to TARGET and name where packets of the expected size die.

    The break is one of: local-nic (this host's interface is smaller), ptb (a
    router reports "too big": its egress is the limit), silent (big packets
    vanish between two hops with no error: a black-hole router or a switch
    port), or none.
    """
    config = CheckConfig(
        targets=tuple(targets or ()),
        expect=expect,
        family=family_option(ipv4, ipv6),
        max_time_s=max_time,
    )
    report = trace(config)
    emit(report, Format.json if json_out else fmt, "trace")
    raise typer.Exit(int(exit_code_for([r.status.value for r in report.results])))
