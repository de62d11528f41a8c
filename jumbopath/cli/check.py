"""``jumbopath check`` and ``jumbopath demo``."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from jumbopath.cli import app
from jumbopath.errors import JumbopathError, UsageError
from jumbopath.model import Report
from jumbopath.pipeline import CheckConfig, check
from jumbopath.status import ExitCode, exit_code_for


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
EXPECT = typer.Option(
    None,
    "--expect",
    "-e",
    help="MTU every path must carry, e.g. 9000. Default: the egress interface MTU.",
)
IPV4 = typer.Option(False, "-4", help="IPv4 only.")
IPV6 = typer.Option(False, "-6", help="IPv6 only.")
JSON_OUT = typer.Option(False, "--json", help="Print the JSON document (schema 1).")
FORMAT = typer.Option(Format.table, "--format", "-f", help="Output format.")
MAX_TIME = typer.Option(
    5.0, "--max-time", help="Bound on the path MTU search, seconds.", min=0.1, max=120
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
    raise typer.Exit(int(exit_code_for([r.status.value for r in report.results])))


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
    textfile: str | None = typer.Option(
        None, "--textfile", help="Write Prometheus metrics to this .prom file (atomically)."
    ),
    warn: int | None = typer.Option(None, "--warning", "-w", help="nagios: WARNING below."),
    crit: int | None = typer.Option(None, "--critical", "-c", help="nagios: CRITICAL below."),
) -> None:
    """Find the exact path MTU to every target at once and compare it with --expect.

    Targets below expectation also get their break located, and which way
    the big packets die.
    """
    config = CheckConfig(
        targets=tuple(targets or ()),
        expect=expect,
        family=family_option(ipv4, ipv6),
        max_time_s=max_time,
    )
    run_report("check", check, config, fmt, json_out, Emit(textfile, warn, crit))


@app.command("demo")
def demo_command(
    keep_output: bool = typer.Option(False, "--json", help="Show the check's JSON instead."),
) -> None:
    """Build a small namespace lab with one access port left at 1500, check it, tear it down."""
    from jumbopath import lab as labmod

    topo = labmod.demo()
    console = Console()
    console.print(
        "[bold]jumbopath demo[/]: a lab of network namespaces on this machine "
        "(torn down afterwards):"
    )
    console.print(labmod.demo.__doc__ or "", highlight=False)
    with labmod.Lab(topo) as lab:
        targets = [lab.addr(n, 4) for n in ("stor-a", "stor-b", "stor-c")]
        argv = [sys.executable, "-m", "jumbopath", "check", "--expect", "9000", *targets]
        if keep_output:
            argv.append("--json")
        console.print(f"[dim]client$ jumbopath check --expect 9000 {' '.join(targets)}[/]")
        sys.stdout.flush()
        done = lab.run("client", argv, capture_output=False, timeout=60)
    if done.returncode == ExitCode.BELOW:
        console.print(
            "\n[bold green]demo: jumbopath found the fault the lab was built with[/] "
            "(stor-b's switch port left at 1500). Exit status 1 means 'below expectation'."
        )
        raise typer.Exit(0)
    console.print(f"[bold red]demo: unexpected exit status {done.returncode} from check[/]")
    raise typer.Exit(1)
