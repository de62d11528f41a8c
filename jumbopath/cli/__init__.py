"""The ``jumbopath`` command. Parses, builds a config, calls the engine, renders.

No logic lives here: each sub-module registers its commands on :data:`app`.
Errors become one line on stderr and the documented exit code; ``--debug``
shows the traceback instead.
"""

from __future__ import annotations

import sys

import typer

from jumbopath.errors import JumbopathError
from jumbopath.status import ExitCode

app = typer.Typer(
    name="jumbopath",
    help="Prove that a network path carries jumbo frames end to end, "
    "and name the NIC, switch segment or router that breaks it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state = {"debug": False}


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
) -> None:
    _state["debug"] = debug


def fail(message: str, code: ExitCode = ExitCode.USAGE) -> typer.Exit:
    """Print one error line and return the Exit to raise."""
    typer.echo(f"jumbopath: error: {message}", err=True)
    return typer.Exit(int(code))


def _register() -> None:
    # Each module adds its commands to ``app`` when imported.
    from jumbopath.cli import check, local  # noqa: F401

    for optional in ("mesh",):
        try:
            __import__(f"jumbopath.cli.{optional}")
        except ModuleNotFoundError as exc:
            if exc.name != f"jumbopath.cli.{optional}":
                raise


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    _register()
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        app(args=argv, standalone_mode=True)
    except JumbopathError as exc:
        if debug:
            raise
        typer.echo(f"jumbopath: error: {exc}", err=True)
        sys.exit(int(exc.exit_code))
    except KeyboardInterrupt:
        typer.echo("jumbopath: interrupted", err=True)
        sys.exit(130)
