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

# typer >= 0.20 vendors click as typer._click (and no longer installs click);
# older releases use click itself.
try:
    from typer._click import exceptions as _cx
except ImportError:  # pragma: no cover - depends on the typer release
    from click import exceptions as _cx  # type: ignore[no-redef]

_USAGE_ERRORS = (_cx.ClickException,)
_NO_ARGS = (_cx.NoArgsIsHelpError,)
_ABORTS = (KeyboardInterrupt, typer.Abort, *((_cx.Abort,) if hasattr(_cx, "Abort") else ()))


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
    from jumbopath.cli import check  # noqa: F401

    for optional in ("trace", "local", "mesh", "switches"):
        try:
            __import__(f"jumbopath.cli.{optional}")
        except ModuleNotFoundError as exc:
            if exc.name != f"jumbopath.cli.{optional}":
                raise


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one line per error, the documented exit code."""
    _register()
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        code = app(args=args, prog_name="jumbopath", standalone_mode=False)
    except _NO_ARGS as exc:
        typer.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        code = int(ExitCode.USAGE)
    except _USAGE_ERRORS as exc:
        if debug:
            raise
        hint = ""
        ctx = getattr(exc, "ctx", None)
        if ctx is not None:
            hint = f" (see `{ctx.command_path} --help`)"
        typer.echo(f"jumbopath: error: {exc.format_message()}{hint}", err=True)
        code = int(ExitCode.USAGE)
    except JumbopathError as exc:
        if debug:
            raise
        typer.echo(f"jumbopath: error: {exc}", err=True)
        code = int(exc.exit_code)
    except _ABORTS:
        typer.echo("jumbopath: interrupted", err=True)
        code = 130
    sys.exit(code if isinstance(code, int) else 0)
