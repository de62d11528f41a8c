"""Bad input: one clear line, exit 2, no traceback; exit codes pinned."""

from __future__ import annotations

import subprocess
import sys

import pytest

from jumbopath.status import ExitCode, exit_code_for

JP = [sys.executable, "-m", "jumbopath"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*JP, *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["check", "--expect", "70000", "198.18.2.1"], "impossible"),
        (["check", "--expect", "-1", "198.18.2.1"], "impossible"),
        (["check", "--expect", "nine", "198.18.2.1"], "valid integer"),
        (["check"], "no targets"),
        (["check", "no-such-host.invalid"], "cannot resolve"),
        (["check", "-4", "-6", "198.18.2.1"], "exclude each other"),
        (["check", "-6", "198.18.2.1"], "IPv4 address but -6"),
        (["check", "-6", "--expect", "1000", "2001:db8::1"], "1280"),
        (["check", "--bogus"], "No such option"),
        (["nonsense"], "No such command"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], words: str) -> None:
    done = run(*args)
    assert done.returncode == ExitCode.USAGE == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("jumbopath: error:") and words in lines[0]
    assert "Traceback" not in done.stderr


def test_debug_shows_the_traceback() -> None:
    done = run("--debug", "check", "no-such-host.invalid")
    assert done.returncode != 0 and "Traceback" in done.stderr


def test_help_and_module_entry_point() -> None:
    done = run("--help")
    assert done.returncode == 0
    for command in ("check", "demo", "trace", "mesh", "nics", "sizes"):
        assert command in done.stdout


def test_exit_codes_are_pinned() -> None:
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 4]
    assert exit_code_for(["ok", "ok"]) is ExitCode.OK
    assert exit_code_for(["ok", "below"]) is ExitCode.BELOW
    assert exit_code_for(["unreachable"]) is ExitCode.BELOW
    assert exit_code_for(["below", "error"]) is ExitCode.CANNOT_MEASURE


# --------------------------------------------------------------------------
# A bug is exit 4 and one line, never a traceback and never exit 1

HOSTILE = "boom\x1b[2J\nline two\u202e" + "x" * 1000


def _raise_hostile(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError(HOSTILE)


def _main_exit(argv: list[str]) -> int:
    from jumbopath.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(argv)
    code = stopped.value.code
    assert isinstance(code, int)
    return code


def test_internal_error_is_one_line_and_exit_4(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import jumbopath.pipeline as check_cli

    monkeypatch.setattr(check_cli, "check", _raise_hostile)
    assert _main_exit(["check", "198.18.2.1"]) == ExitCode.INTERNAL == 4
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("jumbopath: internal error: RuntimeError: boom\\x1b[2J\\x0aline two")
    assert line.endswith("; please report it with the output of the same command run with --debug")
    assert "\x1b" not in line and "\u202e" not in line
    assert len(line) < 400  # the message is bounded


def test_internal_error_with_debug_shows_the_traceback_and_still_exits_4(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import jumbopath.pipeline as check_cli

    monkeypatch.setattr(check_cli, "check", _raise_hostile)
    assert _main_exit(["--debug", "check", "198.18.2.1"]) == ExitCode.INTERNAL
    err = capsys.readouterr().err
    assert "Traceback" in err and "_raise_hostile" in err
    assert err.splitlines()[-1].startswith("jumbopath: internal error: RuntimeError:")


def test_internal_error_through_the_real_entry_point() -> None:
    # The product has no test hook: the child patches the system's resolver
    # (so nothing is probed) and then runs ``python -m jumbopath`` as usual.
    script = (
        "import runpy, sys\n"
        "import jumbopath.environment\n"
        "def broken(*a, **k):\n"
        f"    raise KeyError({HOSTILE!r})\n"
        "jumbopath.environment.SystemEnvironment.resolve = broken\n"
        "sys.argv = ['jumbopath', 'check', '198.18.2.1']\n"
        "runpy.run_module('jumbopath', run_name='__main__', alter_sys=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == ExitCode.INTERNAL
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("jumbopath: internal error: KeyError: ")
    assert "--debug" in lines[0] and "Traceback" not in done.stderr
    assert "\x1b" not in done.stderr


def test_debug_after_the_command_is_a_usage_error_with_a_hint() -> None:
    done = run("check", "--debug", "198.18.2.1")
    assert done.returncode == ExitCode.USAGE
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "--debug goes before the command" in done.stderr


def test_error_lines_are_terminal_safe() -> None:
    done = run("check", "--expect", "9000", "evil\x1b[31m\nname.invalid")
    assert done.returncode == ExitCode.USAGE
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("jumbopath: error:")
    assert "\x1b" not in done.stderr


def test_an_interrupt_is_130_and_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import jumbopath.pipeline as check_cli

    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(check_cli, "check", interrupted)
    assert _main_exit(["check", "198.18.2.1"]) == 130
    assert "Traceback" not in capsys.readouterr().err


def test_a_reader_that_goes_away_is_not_a_network_failure() -> None:
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # ``jumbopath sizes 9000 | head -0``
    try:
        done = subprocess.run(
            [*JP, "sizes", "9000"], stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60
        )
    finally:
        os.close(write_end)
    assert done.returncode == 141  # as if killed by SIGPIPE; never 1
    assert "Traceback" not in done.stderr
