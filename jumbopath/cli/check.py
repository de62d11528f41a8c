"""``jumbopath check``."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from jumbopath.cli import app
from jumbopath.errors import JumbopathError, UsageError
from jumbopath.pathstate import CheckConfig, check_flows, check_soak, parse_probe
from jumbopath.safe import safe_text
from jumbopath.sizes import check_mtu

if TYPE_CHECKING:  # the pipeline (and its imports) load only when a check runs
    from rich.progress import Progress

    from jumbopath.model import Report


class Format(str, Enum):
    """Output formats of check and trace."""

    table = "table"
    json = "json"
    mermaid = "mermaid"
    dot = "dot"
    markdown = "markdown"
    html = "html"
    prometheus = "prometheus"
    nagios = "nagios"


@dataclass(frozen=True, slots=True)
class Emit:
    """Options of the monitoring formats."""

    textfile: str | None = None
    """--textfile: write the Prometheus metrics there (node_exporter) instead of stdout."""
    warn: int | None = None
    """-w: nagios WARNING below this path MTU."""
    crit: int | None = None
    """-c: nagios CRITICAL below this path MTU."""


def family_option(ipv4: bool, ipv6: bool) -> int | None:
    """-4 / -6 to a family number."""
    if ipv4 and ipv6:
        raise UsageError("-4 and -6 exclude each other: give one, or neither for both families")
    return 4 if ipv4 else 6 if ipv6 else None


def progress_for(total_label: str, enabled: bool) -> Progress | None:
    """A progress display on stderr, only for a terminal."""
    if not enabled:
        return None
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn(total_label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )


def emit(report: Report, fmt: Format, command: str = "check", extra: Emit = Emit()) -> None:
    """Print a report in the chosen format (nagios: and exit with the plugin state)."""
    if fmt is Format.nagios:
        from jumbopath.render.nagios import nagios

        out = nagios(report, extra.warn, extra.crit)
        typer.echo(out.text)
        raise typer.Exit(int(out.state))
    if fmt is Format.prometheus:
        from jumbopath.render.prometheus import render_openmetrics, report_metrics, write_textfile

        metrics = report_metrics(report, time.time())
        if extra.textfile is not None:
            write_textfile(metrics, extra.textfile)
        else:
            typer.echo(render_openmetrics(metrics), nl=False)
    elif fmt is Format.markdown:
        from jumbopath.render.markdown import render_markdown

        typer.echo(render_markdown(report, command), nl=False)
    elif fmt is Format.html:
        from jumbopath.render.html import render_html

        typer.echo(render_html(report, command), nl=False)
    elif fmt is Format.json:
        from jumbopath.render.json import render_json

        typer.echo(render_json(report))
    elif fmt is Format.mermaid:
        from jumbopath.render.graph import render_mermaid

        typer.echo(render_mermaid(report))
    elif fmt is Format.dot:
        from jumbopath.render.graph import render_dot

        typer.echo(render_dot(report))
    else:
        from jumbopath.render.text import render_check

        console = Console()
        if not console.is_terminal:
            # Piped or captured: no terminal width to respect; don't wrap commands.
            console = Console(width=200)
        console.print(render_check(report, command), soft_wrap=True)


# Options shared by check and trace.
MAX_TIME_RANGE_S = (0.1, 120.0)
"""Shortest and longest --max-time accepted, seconds."""


def _max_time(value: float) -> float:
    """--max-time: a finite number of seconds inside :data:`MAX_TIME_RANGE_S`."""
    low, high = MAX_TIME_RANGE_S
    if not math.isfinite(value) or not low <= value <= high:
        raise typer.BadParameter(
            f"give a number of seconds from {low:g} to {high:g}, not {value:g}"
        )
    return value


def _expect(value: int | None) -> int | None:
    """--expect: an MTU an IP path can have (checked before any name is resolved)."""
    if value is not None:
        check_mtu(value)
    return value


EXPECT = typer.Option(
    None,
    "--expect",
    "-e",
    help="MTU every path must carry, e.g. 9000. Default: the egress interface MTU.",
    callback=_expect,
)
IPV4 = typer.Option(False, "-4", help="IPv4 only.")
IPV6 = typer.Option(False, "-6", help="IPv6 only.")
JSON_OUT = typer.Option(False, "--json", help="Print the JSON document (schema 1).")
FORMAT = typer.Option(Format.table, "--format", "-f", help="Output format.")
MAX_TIME = typer.Option(
    5.0,
    "--max-time",
    help="Bound on the path MTU search, seconds (0.1 to 120).",
    callback=_max_time,
)


def _callback(check: Callable[[int], int]) -> Callable[[int], int]:
    """A typer callback from a check of the domain: its UsageError becomes typer's
    bad parameter (which names the option)."""

    def callback(value: int) -> int:
        try:
            return check(value)
        except UsageError as exc:
            raise typer.BadParameter(str(exc)) from None

    return callback


PROBE = typer.Option(
    "auto",
    "--probe",
    help="Probes: auto (ICMP echo; TCP to well-known ports, then UDP, for a host that "
    "drops echo), icmp, udp[:PORT] or tcp[:PORT].",
)
FLOWS = typer.Option(
    32,
    "--flows",
    help="Confirm the MTU over this many TCP/UDP flows (source ports), to catch one "
    "ECMP leg or LAG member at a smaller MTU; 1 turns it off.",
    callback=_callback(check_flows),
)
SOAK = typer.Option(
    2000,
    "--soak",
    help="At most this many probes of the soak at the path MTU beside small ones, to catch "
    "loss that only hits big frames (it stops early once decided); 0 turns it off.",
    callback=_callback(check_soak),
)


def _via(value: str) -> str:
    from jumbopath.environment import VIAS

    if value not in VIAS:
        raise typer.BadParameter(f"use one of {', '.join(VIAS)}, not {safe_text(value, 40)!r}")
    return value


VIA = typer.Option(
    "auto",
    "--via",
    help="How probes are sent: auto (raw sockets when allowed, else unprivileged ICMP "
    "ping sockets), raw, ping-socket, or ping (the system's own ping command).",
    callback=_via,
)
SWITCHES = typer.Option(
    None,
    "--switches",
    help="A switches file (see `jumbopath switches`): read the switches over SNMP and "
    "name the port behind a silent break.",
)


def field_options(
    config: CheckConfig,
    probe: str,
    flows: int,
    soak: int,
    switches: str | None = None,
    via: str = "auto",
) -> CheckConfig:
    """``config`` with --probe, --flows, --soak, --switches and --via."""
    protocol, port = parse_probe(probe)
    return replace(
        config, probe=protocol, port=port, flows=flows, soak=soak, switches=switches, via=via
    )


def run_report(
    command: str,
    runner: Callable[..., Report],
    config: CheckConfig,
    fmt: Format,
    json_out: bool,
    extra: Emit = Emit(),
) -> None:
    """Probe (with a progress display on a terminal), print, exit with the verdict."""
    fmt = Format.json if json_out else fmt
    if extra.textfile is not None:
        fmt = Format.prometheus
    progress = progress_for("probing", fmt is Format.table and sys.stderr.isatty())
    if fmt is Format.nagios:
        from jumbopath.render.nagios import unknown

        try:
            report = runner(config)
        except JumbopathError as exc:  # a plugin exits 3 (UNKNOWN), never 2 (CRITICAL)
            typer.echo(unknown(str(exc)).text)
            raise typer.Exit(3) from exc
    elif progress is None:
        report = runner(config)
    else:
        with progress:
            task = progress.add_task("probing", total=len(config.targets))

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            report = runner(config, on_progress=advance)
    emit(report, fmt, command, extra)
    raise typer.Exit(report.exit_code)


@app.command("check")
def check_command(
    targets: list[str] = typer.Argument(
        None, help="Hosts or addresses to check (names resolve to A and AAAA).", show_default=False
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
    textfile: str | None = typer.Option(
        None, "--textfile", help="Write Prometheus metrics to this .prom file (atomically)."
    ),
    warn: int | None = typer.Option(None, "--warning", "-w", help="nagios: WARNING below."),
    crit: int | None = typer.Option(None, "--critical", "-c", help="nagios: CRITICAL below."),
) -> None:
    """Find the exact path MTU to every target at once and compare it with --expect.

    Targets below expectation also get their break located, and which way
    the big packets die. Every path's MTU is confirmed over many flows, and
    soaked at full size against loss that only hits big frames.
    """
    from jumbopath.pipeline import check

    config = CheckConfig(
        targets=tuple(targets or ()),
        expect=expect,
        family=family_option(ipv4, ipv6),
        max_time_s=max_time,
    )
    config = field_options(config, probe, flows, soak, switches, via)
    run_report("check", check, config, fmt, json_out, Emit(textfile, warn, crit))
