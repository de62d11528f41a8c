"""``jumbopath lab clean`` and ``jumbopath lab list``: labs left behind by killed runs.

A lab's namespaces are named ``jp-<pid>-<4 hex>-<node>`` after the process
that built it. A lab tears itself down on every exit but SIGKILL; these
commands find the namespaces whose creator is gone and remove them.
"""

from __future__ import annotations

import os

import typer

from jumbopath.cli import app
from jumbopath.errors import NoPrivilege
from jumbopath.safe import safe_text

lab_app = typer.Typer(
    name="lab",
    help="Namespace labs on this machine: list them, clean up the ones left by killed runs.",
    no_args_is_help=True,
)
app.add_typer(lab_app, name="lab")


def _need_root(what: str, command: str) -> None:
    if os.geteuid() != 0:
        raise NoPrivilege(f"{what} needs root: run sudo jumbopath lab {command}")


def _processes(count: int) -> str:
    return f"{count} process" if count == 1 else f"{count} processes"


@lab_app.command("clean")
def clean_command() -> None:
    """Delete lab namespaces whose creating process is gone; kill what still runs in them.

    Labs of running processes are never touched.
    """
    from jumbopath.lab import remove_stale

    _need_root("cleaning up labs", "clean")
    removed = remove_stale()
    if not removed:
        typer.echo("no leftover labs")
        return
    for ns in removed:
        killed = f", killed {_processes(len(ns.processes))}" if ns.processes else ""
        typer.echo(f"removed {safe_text(ns.name)} (pid {ns.pid} is gone{killed})")


@lab_app.command("list")
def list_command() -> None:
    """One line per lab on this machine: its prefix, whether its creator still runs, its nodes."""
    from jumbopath.lab import LabNamespace, lab_namespaces

    _need_root("listing labs", "list")
    labs: dict[str, list[LabNamespace]] = {}
    for ns in lab_namespaces():
        labs.setdefault(ns.prefix, []).append(ns)
    if not labs:
        typer.echo("no labs")
        return
    for prefix, members in labs.items():
        first = members[0]
        state = "running" if first.alive else "stale (jumbopath lab clean removes it)"
        procs = sum(len(ns.processes) for ns in members)
        nodes = ", ".join(safe_text(ns.node, 64) for ns in members)
        typer.echo(
            f"{prefix}  pid {first.pid} {state}, {len(members)} namespaces, "
            f"{_processes(procs)} inside: {nodes}"
        )
