"""The ``jumbopath`` command. Parses, builds a config, calls the engine, renders.

No logic lives here: each sub-module registers its commands on :data:`app`.
Errors become one line on stderr and the documented exit code; ``--debug``
shows the traceback instead.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
import traceback

import typer

from jumbopath import procs
from jumbopath.errors import JumbopathError
from jumbopath.safe import safe_text
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
    typer.echo(error_line(message), err=True)
    return typer.Exit(int(code))


def _register() -> None:
    # Each module adds its commands to ``app`` when imported.
    from jumbopath.cli import check  # noqa: F401

    for optional in ("trace", "local", "mesh", "demo", "lab", "watch", "exporter", "switches"):
        try:
            __import__(f"jumbopath.cli.{optional}")
        except ModuleNotFoundError as exc:
            if exc.name != f"jumbopath.cli.{optional}":
                raise


#: Bound on the exception message quoted in the internal-error line, characters.
INTERNAL_MESSAGE_CHARS = 200

_REPORT_HINT = "please report it with the output of the same command run with --debug"


def _debug_requested(args: list[str]) -> bool:
    """True when ``--debug`` is a root option (before the command name).

    ``jumbopath check --debug`` is a usage error, not a request for tracebacks.
    """
    for arg in args:
        if arg == "--debug":
            return True
        if arg == "--" or not arg.startswith("-"):
            return False
    return False


def error_line(message: object) -> str:
    """The one line shown for an error; the message may carry names from outside."""
    return f"jumbopath: error: {safe_text(message)}"


def internal_error_line(exc: BaseException) -> str:
    """The one line shown for a bug: the exception's type and bounded, safe message."""
    try:
        detail = safe_text(exc, INTERNAL_MESSAGE_CHARS)
    except Exception:  # noqa: BLE001 - an exception whose str() fails is still reported
        detail = "(message unavailable)"
    kind = type(exc).__name__
    what = f"{kind}: {detail}" if detail else kind
    return f"jumbopath: internal error: {what}; {_REPORT_HINT}"


def _reader_gone() -> int:
    """The reader of stdout went away (``jumbopath nics | head -1``): nothing left to say.

    Exit as a process killed by SIGPIPE would (not 1: the network is fine).
    stdout points at /dev/null so the interpreter's final flush stays quiet.
    """
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 128 + int(signal.SIGPIPE)


def _sigterm_unwinds() -> contextlib.AbstractContextManager[None]:
    """SIGTERM raises :class:`~jumbopath.procs.Interrupted` (once), as SIGINT raises
    KeyboardInterrupt, so every ``finally`` runs and every child is killed on the way out."""
    return procs.signals_interrupt(signal.SIGTERM)


def _run(args: list[str], debug: bool) -> int:
    """Run the app; translate every way it can end into an exit status.

    Whatever way it ends, every process group jumbopath started is killed.
    """
    try:
        with _sigterm_unwinds():
            try:
                return _run_app(args, debug)
            finally:
                procs.kill_all()
    except procs.Interrupted as exc:  # a SIGTERM while the children were being killed
        return exc.exit_status


def _run_app(args: list[str], debug: bool) -> int:
    """Run the app; translate every way it can end into an exit status."""
    try:
        _register()
        code = app(args=args, prog_name="jumbopath", standalone_mode=False)
    except _NO_ARGS as exc:
        typer.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        return int(ExitCode.USAGE)
    except _USAGE_ERRORS as exc:
        if debug:
            traceback.print_exc()
        hint = ""
        ctx = getattr(exc, "ctx", None)
        if getattr(exc, "option_name", None) == "--debug":
            hint = " (--debug goes before the command: `jumbopath --debug COMMAND ...`)"
        elif ctx is not None:
            hint = f" (see `{ctx.command_path} --help`)"
        typer.echo(error_line(f"{exc.format_message()}{hint}"), err=True)
        return int(ExitCode.USAGE)
    except JumbopathError as exc:
        if debug:
            traceback.print_exc()
        typer.echo(error_line(exc), err=True)
        return int(exc.exit_code)
    except _ABORTS:
        typer.echo("jumbopath: interrupted", err=True)
        return 130
    except procs.Interrupted as exc:
        typer.echo(f"jumbopath: interrupted ({exc.name})", err=True)
        return exc.exit_status
    except BrokenPipeError:
        return _reader_gone()
    except SystemExit as exc:
        # typer ends a command whose output hit a closed pipe with sys.exit(1).
        if isinstance(exc.__context__, OSError) and exc.__context__.errno == errno.EPIPE:
            return _reader_gone()
        raise
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a bug, exit 4
        if debug:
            traceback.print_exc()
        typer.echo(internal_error_line(exc), err=True)
        return int(ExitCode.INTERNAL)
    return code if isinstance(code, int) else 0


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one line per error, the documented exit code.

    Bad input exits 2 and a failed measurement 3, each with one line on
    stderr; an unexpected exception is a bug: one line asking for a report,
    exit 4 (never 1, which monitoring reads as "the network is broken").
    ``--debug`` (before the command) adds the traceback.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    sys.exit(_run(args, _debug_requested(args)))
