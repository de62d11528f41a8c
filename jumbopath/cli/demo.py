"""``jumbopath demo``: build the demo lab, check it, and hold the result against the lab.

The fault the lab is built with comes from the topology's data (which link
end is at which MTU, :mod:`jumbopath.lab.claim`); check's JSON must find
exactly that. A mismatch is a bug in jumbopath: exit 4.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape

from jumbopath.cli import app
from jumbopath.safe import safe_text
from jumbopath.status import ExitCode

if TYPE_CHECKING:
    from jumbopath.lab.claim import PathClaim, Verdict


@app.command("demo")
def demo_command(
    json_out: bool = typer.Option(False, "--json", help="Show the check's JSON instead."),
) -> None:
    """Build a small namespace lab with one access port left at 1500, check it, tear it down.

    Then compare what check found with the fault the lab was built with:
    exit 0 when they match, 4 when they differ (a bug: please report it).
    """
    from jumbopath import lab as labmod
    from jumbopath.lab.claim import claims, demo_run, judge

    topo = labmod.demo()
    prober, targets, expected = demo_run(topo)
    claimed = claims(topo, prober, targets)
    console = Console(highlight=False, soft_wrap=True)
    console.print(
        "[bold]jumbopath demo[/]: a lab of network namespaces on this machine "
        "(torn down afterwards):"
    )
    console.print(escape(inspect.cleandoc(labmod.demo.__doc__ or "")) + "\n")
    _clean_first(console)
    addresses = [c.address for c in claimed]
    argv = [sys.executable, "-m", "jumbopath", "check", "--expect", str(expected), *addresses]
    with labmod.Lab(topo) as lab:
        console.print(
            f"[dim]{prober}$ jumbopath check --expect {expected} {' '.join(addresses)}[/]"
        )
        sys.stdout.flush()
        if not json_out:  # the table the user reads; the JSON run below is judged
            lab.run(prober, argv, capture_output=False, timeout=60)
        done = lab.run(prober, [*argv, "--json"], timeout=60)
    if json_out:
        typer.echo(done.stdout, nl=False)
    document = _document(console, done.returncode, done.stdout, done.stderr)
    verdict = judge(claimed, expected, document)
    raise typer.Exit(int(_show_verdict(console, claimed, expected, verdict)))


def _show_verdict(
    console: Console, claimed: Sequence[PathClaim], expected: int, verdict: Verdict
) -> ExitCode:
    """Print built vs found and the conclusion; the demo's exit status."""
    console.print("\n[bold]built[/]")
    for c in claimed:
        console.print(f"  {escape(c.describe(expected))}")
    console.print("[bold]found[/]")
    for line in verdict.found:
        console.print(f"  {escape(line)}")
    if verdict.ok:
        console.print(
            "\n[bold green]demo: jumbopath found the fault the lab was built with.[/] "
            "(check itself exits 1 here: 'below expectation'.)"
        )
        return ExitCode.OK
    console.print("\n[bold red]demo: check found something else than the lab was built with:[/]")
    for line in verdict.differences:
        console.print(f"  {escape(line)}")
    console.print("This is a bug in jumbopath: please report it with this output.")
    return ExitCode.INTERNAL


def _clean_first(console: Console) -> None:
    """Remove labs left by killed runs (as root; without root the lab says so itself)."""
    from jumbopath.lab import cleanup_stale

    if os.geteuid() != 0:
        return
    removed = cleanup_stale()
    if removed:
        console.print(f"[dim]removed {len(removed)} namespaces left by earlier labs[/]")


def _document(console: Console, code: int, stdout: str, stderr: str) -> Any:
    """check's parsed JSON; stop with its own status if it could not measure at all."""
    if code not in (ExitCode.OK, ExitCode.BELOW):
        console.print(
            f"[bold red]demo: check exited {code}[/]: {escape(safe_text(stderr.strip()[-500:]))}"
        )
        cannot = code == ExitCode.CANNOT_MEASURE
        raise typer.Exit(int(ExitCode.CANNOT_MEASURE if cannot else ExitCode.INTERNAL))
    try:
        return json.loads(stdout)
    except ValueError:
        console.print(
            "[bold red]demo: check's --json output is not JSON[/] (a bug: please report it)"
        )
        raise typer.Exit(int(ExitCode.INTERNAL)) from None
