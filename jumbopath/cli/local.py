"""``jumbopath sizes`` and ``jumbopath nics``: the local side and the arithmetic."""

from __future__ import annotations

import json
import sys
from contextlib import AbstractContextManager, nullcontext
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeRemainingColumn

from jumbopath import lldp, nics, sizes
from jumbopath.cli import app
from jumbopath.errors import UsageError
from jumbopath.numbers import NumberError, parse_int
from jumbopath.render.local import nics_dict, nics_renderable, sizes_dict, sizes_renderable
from jumbopath.status import ExitCode

MAX_LLDP_WAIT_S = 300.0
"""Longest --lldp-wait accepted (switches send every 30 s; 120 s covers a slow one 4 times)."""


def _integer(text: str, what: str) -> int:
    try:
        # Bounds wide enough that an impossible size is refused by its own check.
        return parse_int(text, -(10**40), 10**40, what)
    except NumberError:
        raise UsageError(f"{what} must be a whole number of bytes, not {text!r}") from None


def _console() -> Console:
    return Console(soft_wrap=False, width=None if sys.stdout.isatty() else 160)


def _print_json(document: dict[str, Any]) -> None:
    typer.echo(json.dumps(document, indent=2))


@app.command("sizes")
def sizes_command(
    value: Annotated[
        str | None,
        typer.Argument(
            metavar="VALUE",
            help="An IP MTU (9000), or with --from any other number for it (--from windows 9014).",
        ),
    ] = None,
    from_: Annotated[
        str,
        typer.Option(
            "--from",
            metavar="KIND",
            help="What VALUE is: " + ", ".join(sizes.FROM_KINDS) + ".",
        ),
    ] = "mtu",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every number for one MTU: frame sizes, VLAN tags, Windows "Jumbo Packet",
    ping sizes, TCP MSS, VXLAN/Geneve underlay and overlay. And back with --from."""
    if value is None:
        raise UsageError(
            "give an MTU (jumbopath sizes 9000) or another size with --from "
            "(jumbopath sizes --from windows 9014)"
        )
    number = _integer(value, "VALUE")
    kind = sizes.canonical_kind(from_)
    mtu = sizes.parse_from(kind, number)
    table = sizes.size_table(mtu)
    given = (kind, number)
    if as_json:
        _print_json(sizes_dict(table, given))
    else:
        _console().print(sizes_renderable(table, given))


def _lldp_progress(enabled: bool) -> tuple[AbstractContextManager[Any], lldp.Progress | None]:
    """A spinner on stderr while listening for LLDP, and the callback that drives it."""
    err = Console(stderr=True)
    if not enabled or not err.is_terminal:
        return nullcontext(), None
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )
    task = bar.add_task("listening for LLDP", total=None)

    def update(elapsed_s: float, wait_s: float, heard: int, total: int) -> None:
        bar.update(
            task,
            total=wait_s,
            completed=elapsed_s,
            description=f"listening for LLDP: {heard}/{total} ports heard",
        )

    return bar, update


@app.command("nics")
def nics_command(
    expect: Annotated[
        str | None,
        typer.Option("--expect", metavar="MTU", help="Flag interfaces below this MTU."),
    ] = None,
    interface: Annotated[
        list[str] | None,
        typer.Option(
            "-i",
            "--interface",
            metavar="NAME",
            help="Only this interface and the devices below it (repeatable).",
        ),
    ] = None,
    lldp_wait: Annotated[
        str,
        typer.Option(
            "--lldp-wait",
            metavar="SECONDS",
            help="Without lldpd, listen this long for LLDP (switches send every 30 s: "
            "35 is sure to hear one). 0: do not listen.",
        ),
    ] = "0",
    lldpd_socket: Annotated[
        str | None,
        typer.Option(
            "--lldpd-socket",
            metavar="PATH",
            envvar="JUMBOPATH_LLDPD_SOCKET",
            help="lldpd's control socket, when not lldpcli's default.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (schema 1).")] = False,
) -> None:
    """Every interface's MTU, kind and stacking, the switch port behind each NIC (LLDP),
    and configuration problems with their fixes. Exit 1 when a problem is found."""
    expected = None
    if expect is not None:
        expected = _integer(expect, "--expect")
        sizes.check_mtu(expected)
    try:
        wait_s = float(lldp_wait)
    except ValueError:
        raise UsageError(f"--lldp-wait must be a number of seconds, not {lldp_wait!r}") from None
    if not 0 <= wait_s <= MAX_LLDP_WAIT_S:  # also refuses nan and inf
        raise UsageError(
            f"--lldp-wait must be between 0 and {MAX_LLDP_WAIT_S:g} seconds, not {lldp_wait!r} "
            "(switches send LLDP every 30 s: 35 is enough)"
        )
    display, progress = _lldp_progress(enabled=not as_json and wait_s > 0)
    with display:
        report = nics.gather(
            expect=expected,
            names=interface or (),
            lldp_wait_s=wait_s,
            lldpd_socket=lldpd_socket,
            progress=progress,
        )
    if as_json:
        _print_json(nics_dict(report))
    else:
        _console().print(nics_renderable(report))
    raise typer.Exit(int(ExitCode.BELOW if report.problems else ExitCode.OK))
