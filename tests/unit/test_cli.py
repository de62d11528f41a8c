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
