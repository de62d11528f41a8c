"""What comes from outside the mesh: remote output, saved results, result files, the playbook.

Remote hosts are stand-ins run here (an ``ssh`` script that runs the remote
script with ``sh``, and ``check`` scripts that print garbage); files are
written to a temporary folder and read by the real commands.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console
from test_mesh_helpers import check_doc, result
from typer.testing import CliRunner

import jumbopath.cli.mesh  # noqa: F401  (registers the commands)
from jumbopath.cli import app
from jumbopath.errors import UsageError
from jumbopath.mesh import document
from jumbopath.mesh.inventory import Inventory, MeshHost, Network
from jumbopath.mesh.matrix import CellStatus, build_mesh
from jumbopath.mesh.runs import ErrorKind, read_json_file, remote_script, split_sections
from jumbopath.mesh.ssh import SshOptions, fan_out
from jumbopath.render.mesh import render_text
from jumbopath.status import ExitCode

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()
ESC = "\x1b[2J\x1b[31m"
"""Clears the screen and turns the text red, on a terminal that obeys it."""

# What each stand-in ``check`` prints (stdout bytes, stderr bytes, exit status).
GARBAGE: dict[str, tuple[bytes, bytes, int]] = {
    "binary": (b"\x00\xff\xfe\x1b[2J\x89PNG\r\n\x1a\n" * 50, b"", 0),
    "deep": (b"[" * 200_000, b"", 0),
    "deepish": (b"[" * 500 + b"]" * 500, b"", 0),
    "hugeint": (
        b'{"schema": 1, "results": [{"target": "x", "status": "ok", "path_mtu": 1'
        + b"0" * 6000
        + b"}]}",
        b"",
        0,
    ),
    "nan": (b'{"schema": 1, "results": [], "expected_mtu": NaN}', b"", 0),
    "types": (b'{"schema": 1, "results": [{"target": 5, "status": "ok"}]}', b"", 0),
    "notlist": (b'{"schema": 1, "results": {"a": 1}}', b"", 0),
    "schema": (b'{"schema": true, "results": []}', b"", 0),
    "surrogate": (b'{"schema": 1, "results": [{"target": "\\ud800", "status": "ok"}]}', b"", 0),
    "escape": (b"", ("jumbopath: error: " + ESC + "all fine\u202e").encode(), 3),
    "oddfields": (
        json.dumps(
            {
                "schema": 1,
                "expected_mtu": [9000],
                "results": [
                    {
                        "target": "198.18.1.1",
                        "status": "below",
                        "path_mtu": "big",
                        "direction": 7,
                        "break": {"kind": ["ptb"], "mtu": 1e308},
                        "interface": {"x": 1},
                        "interface_mtu": True,
                        "address": None,
                    }
                ],
            }
        ).encode(),
        b"",
        1,
    ),
}


@pytest.fixture
def stand_ins(tmp_path: Path) -> dict[str, str]:
    """An ``ssh`` that runs the script here, a good check, a garbage check, a flooding ssh."""
    ssh = tmp_path / "ssh"
    ssh.write_text(
        "#!/bin/sh\n"
        'while [ "$1" != "--" ]; do shift; done\n'
        "shift; host=$1; shift\n"
        "case $host in\n"
        "  flood-out*) head -c 104857600 /dev/zero; exit 0;;\n"
        "  flood-err*) head -c 104857600 /dev/zero >&2; exit 0;;\n"
        "esac\n"
        'exec sh -c "$1"\n'
    )
    ssh.chmod(ssh.stat().st_mode | stat.S_IXUSR)
    good = tmp_path / "good.py"
    good.write_text(
        "import json, sys\n"
        "t = [a for a in sys.argv[5:] if not a.startswith('-')]\n"
        "print(json.dumps({'schema': 1, 'expected_mtu': 9000, 'results': [\n"
        "  {'target': a, 'address': a, 'family': 4, 'status': 'ok', 'path_mtu': 9000}\n"
        "  for a in t]}))\n"
    )
    bad = tmp_path / "garbage.py"
    bad.write_text(
        "import json, sys\n"
        f"GARBAGE = {GARBAGE!r}\n"
        "out, err, rc = GARBAGE[sys.argv[1]]\n"
        "sys.stdout.buffer.write(out); sys.stderr.buffer.write(err); sys.exit(rc)\n"
    )
    return {"ssh": str(ssh), "good": f"{sys.executable} {good}", "bad": f"{sys.executable} {bad}"}


def test_a_flood_of_output_is_cut_and_costs_no_other_host(stand_ins: dict[str, str]) -> None:
    hosts = (
        MeshHost("a", "good", command=stand_ins["good"]),
        MeshHost("b", "flood-out", command=stand_ins["good"]),
        MeshHost("c", "flood-err", command=stand_ins["good"]),
    )
    net = Network("storage", 9000, tuple((h.name, f"198.18.1.{i}") for i, h in enumerate(hosts)))
    runs = fan_out(Inventory(hosts, (net,), "t"), SshOptions(ssh=stand_ins["ssh"], timeout_s=60))
    a, b, c = runs
    assert a.error is None and a.networks[0].check is not None
    assert len(a.networks[0].check["results"]) == 2
    for run, stream in ((b, "stdout"), (c, "stderr")):
        assert run.error is not None and run.error.kind is ErrorKind.OUTPUT_TOO_LARGE
        assert f"printed more than 4 MiB on {stream}: the session was stopped" in run.error.message
        assert len(run.error.detail) <= 4 * 300 + 20  # bounded, then escaped
    mesh = build_mesh([net], runs)
    row = {r.host: r for r in mesh.networks[0].rows}
    assert row["a"].error is None and row["b"].error is not None


def test_garbage_from_each_host_is_that_hosts_row_error(stand_ins: dict[str, str]) -> None:
    good = MeshHost("ok", "h-ok", command=stand_ins["good"])
    bad = [MeshHost(k, f"h-{k}", command=f"{stand_ins['bad']} {k}") for k in GARBAGE]
    hosts = (good, *bad)
    net = Network("storage", 9000, tuple((h.name, f"198.18.1.{i}") for i, h in enumerate(hosts)))
    runs = fan_out(Inventory(hosts, (net,), "t"), SshOptions(ssh=stand_ins["ssh"], concurrency=4))
    by = {r.host: r for r in runs}
    assert by["ok"].networks[0].error is None
    assert len(by["ok"].networks[0].check["results"]) == len(GARBAGE)  # type: ignore[index]
    expected = {
        "binary": "printed no JSON document (not valid JSON (line 1: Expecting value)",
        "deep": "nested deeper than 32 levels",
        "deepish": "nested deeper than 32 levels",
        "hugeint": "printed no JSON document (not valid JSON (Exceeds the limit",
        "nan": "NaN is not a JSON number",
        "types": "a result lacks 'target'",
        "notlist": "'results' is not a list of objects",
        "schema": "schema True is not 1",
        "surrogate": "lone surrogate",
        "escape": "could not measure there: \\x1b[2J\\x1b[31mall fine\\u202e",
    }
    for name, words in expected.items():
        error = by[name].networks[0].error
        assert error is not None, name
        assert words in error.message, (name, error.message)
        assert "\x1b" not in error.message + error.detail
        assert "\x00" not in error.message
    odd = by["oddfields"].networks[0]
    assert odd.error is None and odd.check is not None  # the document's frame is fine ...
    mesh = build_mesh([net], runs)
    cell = next(
        c for c in mesh.networks[0].cells if c.source == "oddfields" and c.address == "198.18.1.1"
    )
    # ... but its one result is not: that cell (only) is an error, saying why.
    assert (cell.status, cell.path_mtu, cell.interface, cell.direction) == (
        CellStatus.ERROR,
        None,
        None,
        None,
    )
    assert "cannot be read" in (cell.error or "")
    others = [c for c in mesh.networks[0].cells if c.source == "oddfields" and c is not cell]
    assert {c.status for c in others} == {CellStatus.NOT_MEASURED}
    console = Console(record=True, width=400)
    render_text(mesh, console)
    shown = console.export_text()
    assert "\x1b" not in shown and "\\x1b[2J" in shown


def test_remote_script_has_no_predictable_folder(tmp_path: Path) -> None:
    script = remote_script("jumbopath", [("s", 9000, ["198.18.1.2"], None)], "n")
    assert "mktemp -d" in script and "$$" not in script
    env = {**os.environ, "TMPDIR": str(tmp_path / "absent")}
    proc = subprocess.run(["sh", "-c", script], capture_output=True, text=True, env=env)
    assert proc.returncode == 125
    assert "mktemp -d failed" in proc.stderr
    assert split_sections(proc.stdout, "n") == {}
    assert not list(tmp_path.iterdir())


def test_remote_script_ends_options_before_the_addresses(tmp_path: Path) -> None:
    argv_file = tmp_path / "argv"
    show = tmp_path / "show.py"
    show.write_text(f"import sys, json; open({str(argv_file)!r}, 'w').write(json.dumps(sys.argv))")
    script = remote_script(f"{sys.executable} {show}", [("s", 9000, ["-rf", "x"], 4)], "n")
    subprocess.run(["sh", "-c", script], capture_output=True, check=True)
    assert json.loads(argv_file.read_text())[1:] == [
        "check", "--json", "--expect", "9000", "-4", "--", "-rf", "x"
    ]  # fmt: skip


# ---------------------------------------------------------------- files

HOSTS = {"n1": "198.18.1.1", "n2": "198.18.1.2", "n3": "198.18.1.3"}


def source_files(folder: Path, host_names: dict[str, str] | None = None) -> list[str]:
    """One good result file per host; ``host_names`` renames hosts inside the files."""
    folder.mkdir(exist_ok=True)
    paths = []
    for h in HOSTS:
        targets = {o: a for o, a in HOSTS.items() if o != h}
        doc = check_doc(9000, [result(a) for a in targets.values()])
        net = {"name": "storage", "mtu": 9000, "targets": targets, "rc": 0}
        net["stdout"] = json.dumps(doc)
        name = (host_names or {}).get(h, h)
        p = folder / f"{h}.json"
        p.write_text(json.dumps({"schema": 1, "host": name, "networks": [net]}))
        paths.append(str(p))
    return paths


def invoke(args: list[str]) -> Any:
    return runner.invoke(app, args, catch_exceptions=True)


def test_save_is_atomic_and_keeps_the_mode(tmp_path: Path) -> None:
    saved = tmp_path / "out" / "mesh.json"
    saved.parent.mkdir()
    saved.write_text("old")
    saved.chmod(0o640)
    inode = saved.stat().st_ino
    res = invoke(["report", "--save", str(saved), *source_files(tmp_path / "f")])
    assert res.exit_code == ExitCode.OK, res.output
    assert document.load(saved)["kind"] == "jumbopath-mesh"
    assert saved.stat().st_ino != inode  # a new file renamed over the old one
    assert stat.S_IMODE(saved.stat().st_mode) == 0o640
    assert os.listdir(saved.parent) == ["mesh.json"]  # no temporary file left


def test_save_refuses_a_symlink_and_leaves_its_target_alone(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    link = tmp_path / "mesh.json"
    link.symlink_to(victim)
    files = source_files(tmp_path / "f")
    r = subprocess.run(
        [sys.executable, "-m", "jumbopath", "report", "--save", str(link), *files],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert r.returncode == ExitCode.USAGE
    assert r.stderr.count("\n") == 1
    assert "is a symbolic link: --save does not write through links" in r.stderr
    assert victim.read_text() == "precious\n" and link.is_symlink()


def write(path: Path, content: bytes | str) -> Path:
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    return path


def mesh_doc(**cell: Any) -> str:
    base = {"source": "n1", "destination": "n2", "status": "ok", "path_mtu": 9000}
    return json.dumps(
        {
            "schema": 1,
            "kind": "jumbopath-mesh",
            "networks": [{"name": "storage", "cells": [{**base, **cell}]}],
        }
    )


COMPARE_BAD = [
    ('{"schema": 1, "kind": "jumbopath-mesh", "networks": [{"name": "s", "cells": [1]}]}',
     "networks[0].cells[0] is not an object"),
    ('{"schema": 1, "kind": "jumbopath-mesh", "networks": {"a": 1}}', "'networks' is not a list"),
    ('{"schema": 1, "kind": "jumbopath-mesh", "networks": [{"cells": []}]}',
     "networks[0].name is not a string"),
    (mesh_doc(path_mtu="9000"), "networks[0].cells[0].path_mtu is not a number"),
    (mesh_doc(path_mtu=True), "networks[0].cells[0].path_mtu is not a number"),
    (mesh_doc(status="great"), "networks[0].cells[0].status is not one of"),
    (mesh_doc(source=["n1"]), "networks[0].cells[0].source is not a string"),
    (mesh_doc(error={"x": 1}), "networks[0].cells[0].error is not a string"),
    ('{"schema": 2, "kind": "jumbopath-mesh", "networks": []}', "not a mesh result of schema 1"),
    ('{"schema": 1, "kind": "other", "networks": []}', "not a mesh result of schema 1"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8 text at byte 0 (a binary file?)"),
    (b'{"a": "\xc3\x28"}', "not UTF-8 text at byte 7"),
    ("[" * 100_000, "nested deeper than 32 levels"),
    ('{"a":' * 40 + "1" + "}" * 40, "nested deeper than 32 levels"),
    ('{"schema": 1, "kind": "jumbopath-mesh", "networks": [], "x": Infinity}',
     "Infinity is not a JSON number"),
    ('{"x": ' + "9" * 5000 + "}", "not valid JSON"),
    ("{", "not valid JSON (line 1: Expecting property name"),
]  # fmt: skip


@pytest.mark.parametrize(("content", "words"), COMPARE_BAD, ids=range(len(COMPARE_BAD)))
def test_compare_refuses_bad_files_with_one_line(
    tmp_path: Path, content: str | bytes, words: str
) -> None:
    bad = write(tmp_path / "saved.json", content)
    res = invoke(["report", "--compare", str(bad), *source_files(tmp_path / "f")])
    assert isinstance(res.exception, UsageError), res.output
    message = str(res.exception)
    assert message.startswith(f"{bad}: ") and words in message, message
    assert "\n" not in message and len(message) < 400


def test_compare_refuses_huge_files_and_non_files(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as f:
        f.write(b'{"x": "' + b"a" * (16 * 1024 * 1024) + b'"}')
    with pytest.raises(UsageError, match=r"big.json: larger than 16 MiB"):
        document.load(big)
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    with pytest.raises(UsageError, match=r"fifo.json: not a regular file"):
        document.load(fifo)  # and does not hang waiting for a writer
    with pytest.raises(UsageError, match="larger than 1 MiB"):
        read_json_file(big, "x", max_bytes=1024 * 1024)


REPORT_BAD = [
    ({"targets": {"n2": 1}}, "'targets' must map host names to addresses"),
    ({"targets": [1]}, "'targets' must map host names to addresses"),
    ({"rc": "x"}, "'rc' must be a number from -255 to 255"),
    ({"rc": 10**30}, "'rc' must be a number"),
    ({"mtu": -1}, "'mtu' must be a number from 0"),
    ({"mtu": "9" * 5000}, "'mtu' must be a number"),
    ({"mtu": "--9000"}, "'mtu' must be a number"),
    ({"mtu": "\u00b2"}, "'mtu' must be a number"),
    ({"mtu": "\u0669\u0660\u0660\u0660"}, "'mtu' must be a number"),
    ({"rc": "-\u00b3"}, "'rc' must be a number"),
    ({"error": "boom"}, "'error' must be null or an object"),
    ({"error": {"kind": 1}}, "error.kind must be a string"),
    ({"check": [1]}, "'check' must be a check --json object"),
    ({"check": {"schema": 1, "results": [1]}}, "check: 'results' is not a list of objects"),
    ({"stdout": ["x"]}, "'stdout' must be a string"),
    ({"name": ""}, "each network needs a 'name'"),
    ({"name": "x" * 300}, "'name' is longer than 255 characters"),
]


@pytest.mark.parametrize(("change", "words"), REPORT_BAD, ids=range(len(REPORT_BAD)))
def test_report_refuses_bad_fields(tmp_path: Path, change: dict[str, Any], words: str) -> None:
    net = {"name": "storage", "mtu": 9000, "targets": {"n2": "198.18.1.2"}, "rc": 0}
    net["check"] = check_doc(9000, [result("198.18.1.2")])
    net.update(change)
    p = write(tmp_path / "n1.json", json.dumps({"schema": 1, "host": "n1", "networks": [net]}))
    res = invoke(["report", str(p)])
    assert isinstance(res.exception, UsageError), res.output
    assert str(res.exception).startswith(f"{p}: networks[0]: ")
    assert words in str(res.exception)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"\x00\x01\x02\xff", "not UTF-8 text"),
        ("[" * 5000, "nested deeper than 32 levels"),
        ('{"schema": 1, "host": 7, "networks": []}', "expected a jumbopath source file"),
        ('{"schema": 1, "host": "n1", "networks": [], "error": 5}', "'error' must be null"),
        (json.dumps({"schema": 1, "host": "n1", "networks": [{}] * 300}), "more than 256"),
    ],
)
def test_report_refuses_bad_files(tmp_path: Path, content: str | bytes, words: str) -> None:
    p = write(tmp_path / "n1.json", content)
    res = invoke(["report", str(p)])
    assert isinstance(res.exception, UsageError), res.output
    assert words in str(res.exception)


def test_report_shows_escape_sequences_from_files_escaped(tmp_path: Path) -> None:
    evil = f"n3{ESC}FAKE OK"
    files = source_files(tmp_path / "f", {"n3": evil})
    res = invoke(["report", *files])
    assert "\x1b" not in res.output
    assert "n3\\x1b[2J\\x1b[31mFAKE OK" in res.output
    # The same through the real command, to a pipe.
    r = subprocess.run(
        [sys.executable, "-m", "jumbopath", "report", *files],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert "\x1b" not in r.stdout + r.stderr and "\\x1b[2J" in r.stdout


def test_compare_shows_escape_sequences_from_the_saved_file_escaped(tmp_path: Path) -> None:
    saved = tmp_path / "saved.json"
    files = source_files(tmp_path / "f")
    assert invoke(["report", "--save", str(saved), *files]).exit_code == ExitCode.OK
    doc = json.loads(saved.read_text())
    cells = doc["networks"][0]["cells"]
    cells[0]["status"] = "not-measured"
    cells[0]["error"] = f"{ESC}everything is fine"
    cells.append({"source": f"ghost{ESC}", "destination": "n1", "status": "ok", "path_mtu": 9000})
    doc["networks"][0]["name"] = "storage"
    saved.write_text(json.dumps(doc))
    res = invoke(["report", "--compare", str(saved), *files])
    assert res.exit_code == ExitCode.OK, res.output
    assert "\x1b" not in res.output
    assert "not-measured: \\x1b[2J\\x1b[31meverything is fine → ok 9000 (better)" in res.output
    assert "ghost\\x1b[2J\\x1b[31m → n1: ok 9000 → absent" in res.output


def test_rich_markup_in_names_is_shown_as_written(tmp_path: Path) -> None:
    files = source_files(tmp_path / "f", {"n2": "[/bold][red]n2"})
    res = invoke(["report", *files])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert res.exit_code == ExitCode.CANNOT_MEASURE, res.output  # n2's own row is missing
    assert "[/bold][red]n2" in res.output


# ---------------------------------------------------------------- the Ansible example


def test_playbook_runs_no_shell_and_writes_no_fixed_tmp_file() -> None:
    text = (REPO / "examples" / "ansible" / "jumbopath-mesh.yml").read_text()
    plays = yaml.safe_load(text)
    tasks = [t for play in plays for t in play["tasks"]]
    modules = {k for t in tasks for k in t if k.startswith("ansible.builtin.")}
    assert "ansible.builtin.shell" not in modules and "ansible.builtin.command" in modules
    for t in tasks:
        if "ansible.builtin.command" in t:
            assert set(t["ansible.builtin.command"]) == {"argv"}, t["name"]
    assert "/tmp/jumbopath" not in text and "jp_remote_file.path" in text
