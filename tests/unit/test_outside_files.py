"""Every file read from outside goes through one bounded door (jumbopath.outside).

Each surface that reads a file someone else wrote is fed what used to hang
it or exhaust memory: ``/dev/zero`` (never ends), a FIFO with no writer
(blocked forever), a folder, YAML or JSON nested 100,000 deep
(RecursionError) and a YAML alias bomb (170 KB standing for gigabytes).
Each must be refused with one UsageError line naming the file, quickly.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import jumbopath.cli.switches  # noqa: F401  (registers the command)
from jumbopath.cli import app
from jumbopath.errors import UsageError
from jumbopath.exporter import load_config
from jumbopath.mesh.inventory import load_inventory
from jumbopath.mesh.inventory.yamlload import LimitError
from jumbopath.mesh.runs import read_json_file
from jumbopath.outside import FileRefused, read_bytes
from jumbopath.status import ExitCode
from jumbopath.switches import files
from jumbopath.switches.credentials import load_credentials

DEEP_YAML = "a: " + "[" * 900 + "]" * 900 + "\n"  # under libyaml's own limit of 1000
DEEP_JSON = '{"results": ' + "[" * 100_000 + "]" * 100_000 + "}"
# nine levels of ten aliases: a few hundred bytes that compose 10**9 nodes
BOMB = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 10)
)


def _breaks(path: Path) -> Any:
    """`switches --check PATH`, through the command line."""
    given = path.parent / "given.yml"
    given.write_text("switches: [{name: sw, ports: [{name: p1, mtu: 9000}]}]\n")
    args = ["switches", "--switches", str(given), "--check", str(path)]
    res = CliRunner().invoke(app, args, catch_exceptions=True)
    if res.exception is not None:
        raise res.exception
    return res


def _pasted_in_switches(path: Path) -> Any:
    doc = path.parent / "sw.yml"
    doc.write_text(f"switches: [{{name: sw, show_interface: {path}}}]\n")
    return files.load(doc)


def _pasted_in_inventory(path: Path) -> Any:
    inv = path.parent / "inv.yml"
    inv.write_text(
        "networks: {s: {mtu: 9000, hosts: {h1: 198.18.0.1, h2: 198.18.0.2}}}\n"
        f"switches: [{{name: sw, show_interface: {path}}}]\n"
    )
    return load_inventory(inv)


def _credentials(path: Path) -> Any:
    if not path.is_symlink():
        path.chmod(0o600)  # so only the kind of file can be what is refused
    return load_credentials(path)


READERS: dict[str, Callable[[Path], Any]] = {
    "switches file": files.load,
    "--check file": _breaks,
    "pasted show_interface": _pasted_in_switches,
    "inventory switches: entry": _pasted_in_inventory,
    "exporter config": load_config,
    "credentials": _credentials,
    "inventory": load_inventory,
    "result file": lambda p: read_json_file(p, "report"),
}
YAML_READERS = ("switches file", "exporter config", "credentials")
JSON_READERS = ("--check file", "pasted show_interface", "inventory switches: entry")


def _refused(read: Callable[[Path], Any], path: Path, shown: Path) -> str:
    started = time.monotonic()
    with pytest.raises(UsageError) as err:
        read(path)
    assert time.monotonic() - started < 20  # refused, not read to the end
    message = str(err.value)
    assert "\n" not in message and len(message) < 600, message
    assert str(shown) in message, message
    return message


@pytest.mark.parametrize("surface", READERS)
def test_a_device_is_refused_not_read_forever(tmp_path: Path, surface: str) -> None:
    link = tmp_path / "zero"
    link.symlink_to("/dev/zero")  # a name the pasted-file readers accept
    _refused(READERS[surface], link, link)


@pytest.mark.parametrize("surface", READERS)
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path, surface: str) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    _refused(READERS[surface], fifo, fifo)


@pytest.mark.parametrize("surface", READERS)
def test_a_folder_is_refused(tmp_path: Path, surface: str) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    _refused(READERS[surface], folder, folder)


@pytest.mark.parametrize("surface", YAML_READERS)
@pytest.mark.parametrize("content", [DEEP_YAML, BOMB], ids=["deep", "alias bomb"])
def test_yaml_depth_and_aliases_are_bounded(tmp_path: Path, surface: str, content: str) -> None:
    path = tmp_path / "doc.yml"
    path.write_text(content)
    with pytest.raises(UsageError) as err:
        READERS[surface](path)
    assert isinstance(err.value.__cause__, LimitError)  # refused while composing


@pytest.mark.parametrize("surface", JSON_READERS)
def test_json_depth_is_bounded(tmp_path: Path, surface: str) -> None:
    path = tmp_path / "doc.json"
    path.write_text(DEEP_JSON)
    _refused(READERS[surface], path, path)


def test_the_cap_is_a_cap_and_the_refusal_is_data(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 101)
    assert read_bytes(path, "file", 101) == b"x" * 101
    with pytest.raises(FileRefused) as err:
        read_bytes(path, "file", 100)
    assert err.value.problem.startswith("larger than 100 bytes")
    link = tmp_path / "link"
    link.symlink_to(path)
    assert read_bytes(link, "file", 200) == b"x" * 101
    with pytest.raises(FileRefused, match="symlink"):
        read_bytes(link, "file", 200, follow=False)
    path.chmod(0o644)
    with pytest.raises(FileRefused, match="chmod 600"):
        read_bytes(path, "file", 200, private=True)


def test_the_command_exits_2_with_one_line_for_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "sw.yml"
    os.mkfifo(fifo)
    done = subprocess.run(
        [sys.executable, "-m", "jumbopath", "switches", "--switches", str(fifo)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )
    assert done.returncode == ExitCode.USAGE, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr
