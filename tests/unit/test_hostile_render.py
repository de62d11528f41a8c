"""Hostile names on every surface that shows them: no markup, no escapes.

Names reach the renderers from DNS, inventories and result files. Each is
fed through the terminal table (a Rich console that believes it is a
terminal, and the real command on a real pseudo-terminal via :mod:`pty`),
the Prometheus exposition (``--format prometheus``, ``--textfile``) and the
mesh report. Clean means: no crash (never exit 4), no control character of
the name reaches the output (ESC, BEL, C1 CSI U+009B, RLO U+202E), no
hyperlink and no screen clear.
"""

from __future__ import annotations

import io
import json
import os
import pty
import select
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from report_data import check_report
from rich.console import Console
from test_mesh_helpers import check_doc, result

from jumbopath.model import Report
from jumbopath.render.prometheus import render_openmetrics, report_metrics, write_textfile
from jumbopath.render.text import render_check
from jumbopath.status import ExitCode

REPO = Path(__file__).resolve().parents[2]

#: Names an attacker controls: Rich markup, a hyperlink, terminal controls.
NAMES = [
    "[/x]",
    "[/]",
    "[bold red]FAKE OK[/]",
    "[link=http://198.18.0.1/]x",
    "[link=http://198.18.0.1/]x[/link]",
    "a\x1b[2Jb",
    "a\x1b]8;;http://198.18.0.1/\x1b\\x\x1b]8;;\x1b\\",
    "bell\x07",
    "c1\u009b31mred",
    "rlo\u202eevil",
    "nul\x00tab\tnl\nend",
    "\\x1b[2J literal",
]
#: What may never appear in the output: the controls themselves (Rich's own
#: styling uses ESC [ ... m, so ESC is checked as the sequences that do harm).
HARM_TERMINAL = ["\x1b[2J", "\x1b]8;", "\x07", "\u009b", "\u202e", "\x00"]
HARM_TEXT = ["\x1b", *HARM_TERMINAL]


def hostile_report(name: str) -> Report:
    report = check_report()
    results = tuple(replace(r, target=name) for r in report.results)
    return replace(report, results=results)


@pytest.mark.parametrize("name", NAMES)
def test_terminal_table_shows_names_as_text(name: str) -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, color_system="truecolor", width=200)
    console.print(render_check(hostile_report(name)), soft_wrap=True)
    shown = out.getvalue()
    for harm in HARM_TERMINAL:
        assert harm not in shown
    if name.startswith("[") and "\x1b" not in name:
        assert name in shown  # the brackets are shown, not obeyed


@pytest.mark.parametrize("name", NAMES)
def test_prometheus_and_textfile_labels_are_clean(name: str, tmp_path: Path) -> None:
    metrics = report_metrics(hostile_report(name), 1.0)
    text = render_openmetrics(metrics)
    path = tmp_path / "x.prom"
    write_textfile(metrics, str(path))
    for shown in (text, path.read_text()):
        for harm in HARM_TEXT:
            assert harm not in shown
        assert "jumbopath_path_ok" in shown


def source_files(folder: Path, name: str) -> list[str]:
    """A mesh of three hosts; the third calls itself ``name``, the network too."""
    hosts = {"n1": "198.18.1.1", "n2": "198.18.1.2", "n3": "198.18.1.3"}
    folder.mkdir()
    paths = []
    for h in hosts:
        targets = {o: a for o, a in hosts.items() if o != h}
        doc = check_doc(9000, [result(a) for a in targets.values()])
        net = {"name": "storage", "mtu": 9000, "targets": targets, "rc": 0}
        net["stdout"] = json.dumps(doc)
        p = folder / f"{h}.json"
        p.write_text(json.dumps({"schema": 1, "host": name if h == "n3" else h, "networks": [net]}))
        paths.append(str(p))
    return paths


def run_on_terminal(argv: list[str], timeout_s: float = 60.0) -> tuple[int, str]:
    """Run ``argv`` on a real pseudo-terminal; (exit status, everything it wrote)."""
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "200", "PYTHONPATH": str(REPO)}
    env.pop("NO_COLOR", None)
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover (the child)
        os.chdir(REPO)
        os.execvpe(argv[0], argv, env)
    out = b""
    end = time.monotonic() + timeout_s
    try:
        while time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            out += data
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")


REPORT_FORMATS = [[], ["--format", "prometheus"]]


@pytest.mark.parametrize("fmt", REPORT_FORMATS, ids=["text", "prometheus"])
@pytest.mark.parametrize(
    "name", ["[/x]", "[link=http://198.18.0.1/]x", "a\x1b[2Jb\x07\u009b1m\u202e"]
)
def test_report_on_a_real_terminal(name: str, fmt: list[str], tmp_path: Path) -> None:
    files = source_files(tmp_path / "f", name)
    code, shown = run_on_terminal([sys.executable, "-m", "jumbopath", "report", *fmt, *files])
    assert code not in (ExitCode.INTERNAL, ExitCode.USAGE), shown
    for harm in HARM_TERMINAL:
        assert harm not in shown


@pytest.mark.parametrize("name", ["a\x1b[2Jb\x07\u009b1m\u202e"])
def test_mesh_report_textfile_is_clean(name: str, tmp_path: Path) -> None:
    files = source_files(tmp_path / "f", name)
    prom = tmp_path / "mesh.prom"
    r = subprocess.run(
        [sys.executable, "-m", "jumbopath", "report", "--textfile", str(prom), *files],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert r.returncode != ExitCode.INTERNAL, r.stderr
    written = prom.read_text()
    assert "jumbopath_mesh_path_ok" in written
    for harm in HARM_TEXT:
        assert harm not in written
