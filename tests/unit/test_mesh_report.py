"""``jumbopath report`` (merging per-host files), ``--save``/``--compare``, and the renderers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_mesh_helpers import check_doc, mesh_of, result
from typer.testing import CliRunner

import jumbopath.cli.mesh  # noqa: F401  (registers the commands)
from jumbopath.cli import app
from jumbopath.errors import UsageError
from jumbopath.mesh import document
from jumbopath.mesh.runs import ErrorKind, HostError
from jumbopath.render.mesh import render_mermaid
from jumbopath.status import ExitCode

HOSTS = {"n1": "198.18.1.1", "n2": "198.18.1.2", "n3": "198.18.1.3", "n4": "198.18.1.4"}
runner = CliRunner()


def source_file(
    tmp_path: Path,
    host: str,
    bad: set[str] = frozenset(),  # type: ignore[assignment]
    raw_stdout: bool = True,
    rc: int | None = None,
    stderr: str = "",
) -> Path:
    """A file as the Ansible playbook writes it: host name, network, targets, check's stdout."""
    targets = {h: a for h, a in HOSTS.items() if h != host}
    results = [
        result(
            a,
            "below" if (host in bad or h in bad) else "ok",
            1500 if (host in bad or h in bad) else 9000,
        )
        for h, a in targets.items()
    ]
    doc = check_doc(9000, results)
    failing = any(r["status"] != "ok" for r in results)
    net: dict[str, Any] = {
        "name": "storage",
        "mtu": 9000,
        "targets": targets,
        "rc": rc if rc is not None else int(failing),
        "stderr": stderr,
    }
    if rc is not None and rc > 1:
        net["stdout"] = ""
    elif raw_stdout:
        net["stdout"] = json.dumps(doc)
    else:
        net["check"] = doc
    p = tmp_path / f"{host}.json"
    p.write_text(json.dumps({"schema": 1, "host": host, "networks": [net]}))
    return p


def files(tmp_path: Path, bad: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    return [str(source_file(tmp_path, h, bad)) for h in HOSTS]


def invoke(args: list[str]) -> Any:
    return runner.invoke(app, args, catch_exceptions=True)


def test_report_merges_files_into_the_matrix(tmp_path: Path) -> None:
    res = invoke(["report", *files(tmp_path, {"n3"})])
    assert res.exit_code == ExitCode.BELOW, res.output
    assert "storage: path MTU from row to column, expected 9000" in res.output
    assert "Verdict (host): Every pair with n3 on storage fails in both directions" in res.output
    assert "n1 → n3: path MTU 1500, below 9000." in res.output


def test_report_clean_is_exit_0(tmp_path: Path) -> None:
    res = invoke(["report", *files(tmp_path)])
    assert res.exit_code == ExitCode.OK, res.output
    assert "12 of 12 paths carry 9000." in res.output


def test_report_json_schema(tmp_path: Path) -> None:
    res = invoke(["report", "--json", *files(tmp_path, {"n2"})])
    assert res.exit_code == ExitCode.BELOW
    doc = json.loads(res.output)
    assert doc["schema"] == 1 and doc["kind"] == "jumbopath-mesh" and doc["exit_code"] == 1
    (net,) = doc["networks"]
    assert net["name"] == "storage" and net["expected_mtu"] == 9000
    assert net["hosts"] == ["n1", "n2", "n3", "n4"]
    assert len(net["cells"]) == 12
    cell = next(c for c in net["cells"] if c["source"] == "n1" and c["destination"] == "n2")
    assert set(cell) == {
        "source",
        "destination",
        "address",
        "status",
        "cause",
        "path_mtu",
        "direction",
        "interface",
        "interface_mtu",
        "break",
        "breaks",
        "error",
    }
    assert (cell["status"], cell["path_mtu"], cell["cause"]) == ("below", 1500, "below-unlocated")
    assert {(f["source"], f["destination"]) for f in net["failing"]} == {
        ("n2", o) for o in ("n1", "n3", "n4")
    } | {(o, "n2") for o in ("n1", "n3", "n4")}
    assert {f["cause"] for f in net["failing"]} == {"below-unlocated"}
    assert all(set(f) >= FAILING_FIELDS for f in net["failing"])
    (verdict,) = net["verdicts"]
    assert set(verdict) >= VERDICT_FIELDS
    assert (verdict["kind"], verdict["cause"], verdict["hosts"]) == (
        "host",
        "host-port-or-nic",
        ["n2"],
    )
    assert (verdict["interface"], verdict["interface_mtu"]) == ("eth1", 9000)
    assert verdict["both_directions"] is True and verdict["carried_mtu"] == 1500


FAILING_FIELDS = {"source", "destination", "status", "path_mtu", "one_way", "explanation", "cause"}
VERDICT_FIELDS = {"kind", "hosts", "groups", "explanation", "cause"}


def test_json_breaks_are_the_check_schemas_and_sentences_come_from_explain() -> None:
    from jumbopath.render.explain.mesh import pair_sentence, verdict_sentence
    from jumbopath.schema import break_dict

    ptb = {
        "kind": "ptb",
        "after": "198.18.9.1",
        "before": None,
        "mtu": 1500,
        "reported_by": "198.18.9.1",
        "size": 9000,
    }
    cells = {(a, b): ("below", 1500, {"brk": ptb}) for a in ("n1", "n2") for b in ("n3", "n4")}
    cells |= {(b, a): ("below", 1500, {"brk": ptb}) for a in ("n1", "n2") for b in ("n3", "n4")}
    mesh = mesh_of(["n1", "n2", "n3", "n4"], cells=cells)
    net = mesh.networks[0]
    doc = document.to_document(mesh)["networks"][0]
    cell = next(c for c in doc["cells"] if (c["source"], c["destination"]) == ("n1", "n3"))
    model = net.cell("n1", "n3")
    assert model is not None and model.break_ is not None
    assert cell["break"] == break_dict(model.break_)
    assert cell["break"]["cause"] == "router-too-big"
    assert [f["explanation"] for f in doc["failing"]] == [
        pair_sentence(f, net) for f in net.failing
    ]
    (v,) = doc["verdicts"]
    assert v["explanation"] == verdict_sentence(net.verdicts[0], net)
    assert v["cause"] == "inter-group-link" and v["groups"] == [["n1", "n2"], ["n3", "n4"]]
    assert v["shared_break"]["paths"] == 8 and v["shared_break"]["reported_by"] == "198.18.9.1"
    assert (v["only_from"], v["only_to"], v["carrying"]) == ([], [], None)


def test_report_mermaid(tmp_path: Path) -> None:
    res = invoke(["report", "--format", "mermaid", *files(tmp_path, {"n2"})])
    assert res.output.startswith("flowchart LR\n")
    assert 'subgraph net_storage["storage (MTU 9000)"]' in res.output
    assert 'n_storage__n1 <-. "1500" .-> n_storage__n2' in res.output
    assert "class n_storage__n2 suspect" in res.output


def test_report_with_parsed_check_and_a_failed_host(tmp_path: Path) -> None:
    paths = [str(source_file(tmp_path, h, raw_stdout=False)) for h in ("n1", "n2", "n3")]
    paths.append(
        str(source_file(tmp_path, "n4", rc=127, stderr="/bin/sh: 1: jumbopath: not found"))
    )
    res = invoke(["report", "--json", *paths])
    doc = json.loads(res.output)
    row = next(r for r in doc["networks"][0]["rows"] if r["host"] == "n4")
    assert row["error"]["kind"] == "not-installed"
    host = next(h for h in doc["hosts"] if h["name"] == "n4")
    assert host["error"]["kind"] == "not-installed" and host["measured"] is False
    assert res.exit_code == ExitCode.CANNOT_MEASURE


def test_report_plain_check_output_named_after_the_host(tmp_path: Path) -> None:
    inv = tmp_path / "inv.yml"
    inv.write_text(
        "networks:\n  storage:\n    mtu: 9000\n    hosts:\n"
        + "".join(f"      {h}: {a}\n" for h, a in HOSTS.items())
    )
    paths = []
    for h in HOSTS:
        p = tmp_path / f"{h}.json"
        p.write_text(json.dumps(check_doc(9000, [result(a) for o, a in HOSTS.items() if o != h])))
        paths.append(str(p))
    res = invoke(["report", "--inventory", str(inv), *paths])
    assert res.exit_code == ExitCode.OK, res.output
    assert "12 of 12 paths carry 9000" in res.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid JSON"),
        ("[]", "expected a JSON object"),
        ('{"schema": 1, "host": "x"}', "'networks' must be a list"),
        ('{"schema": 1, "host": "x", "networks": [{"name": "s"}]}', "'mtu' must be a number"),
        ('{"schema": 3, "results": []}', "schema 3 is not 1"),
        ('{"hello": 1}', "expected a jumbopath source file"),
    ],
)
def test_report_bad_files(tmp_path: Path, content: str, message: str) -> None:
    p = tmp_path / "x.json"
    p.write_text(content)
    res = invoke(["report", str(p)])
    assert isinstance(res.exception, UsageError)
    assert message in str(res.exception)
    assert res.exception.exit_code == ExitCode.USAGE


def test_report_duplicate_host_and_mismatched_expect(tmp_path: Path) -> None:
    a = source_file(tmp_path, "n1")
    b = tmp_path / "copy.json"
    b.write_text(a.read_text())
    res = invoke(["report", str(a), str(b)])
    assert "a second result for host 'n1'" in str(res.exception)
    doc = json.loads(b.read_text())
    doc["host"] = "n2"
    doc["networks"][0]["mtu"] = 1500
    b.write_text(json.dumps(doc))
    res = invoke(["report", str(a), str(b)])
    assert "run every host with the same --expect" in str(res.exception)


def test_save_then_compare_shows_only_changes(tmp_path: Path) -> None:
    saved = tmp_path / "before.json"
    (tmp_path / "a").mkdir()
    res = invoke(["report", "--save", str(saved), *files(tmp_path / "a")])
    assert res.exit_code == ExitCode.OK
    res = invoke(["report", "--compare", str(saved), *files(tmp_path / "a")])
    assert res.exit_code == ExitCode.OK
    assert "No change since" in res.output
    (tmp_path / "b").mkdir()
    res = invoke(["report", "--compare", str(saved), *files(tmp_path / "b", {"n4"})])
    assert res.exit_code == ExitCode.BELOW, res.output
    lines = [ln for ln in res.output.splitlines() if "→" in ln]
    assert len(lines) == 6  # only the six changed cells
    assert all("n4" in ln and "ok 9000 → below 1500 (worse)" in ln for ln in lines)
    assert "6 regression(s)." in res.output
    # And back: improvements alone are exit 0.
    worse = tmp_path / "worse.json"
    invoke(["report", "--save", str(worse), *files(tmp_path / "b", {"n4"})])
    res = invoke(["report", "--json", "--compare", str(worse), *files(tmp_path / "a")])
    assert res.exit_code == ExitCode.OK
    changes = json.loads(res.output)["changes"]
    assert len(changes) == 6 and not any(c["regression"] for c in changes)
    assert all(c["improvement"] for c in changes)
    res = invoke(["report", "--compare", str(worse), *files(tmp_path / "a")])
    assert "n1 → n4: below 1500 → ok 9000 (better)" in res.output


def test_compare_rejects_other_files(tmp_path: Path) -> None:
    p = tmp_path / "x.json"
    p.write_text(json.dumps(check_doc(9000, [])))
    with pytest.raises(UsageError, match="not a mesh result"):
        document.load(p)
    res = invoke(["report", "--compare", str(tmp_path / "missing.json"), *files(tmp_path)])
    assert "no such file" in str(res.exception)


@pytest.mark.parametrize(
    ("old", "new", "regression"),
    [
        (("ok", 9000), ("below", 1500), True),
        (("below", 4000), ("below", 1500), True),
        (("ok", 9000), ("not-measured", None), True),
        (("below", 1500), ("ok", 9000), False),
        (("unreachable", None), ("below", 1500), False),
    ],
)
def test_compare_rules(
    old: tuple[str, int | None], new: tuple[str, int | None], regression: bool
) -> None:
    def doc(status: str, mtu: int | None) -> dict[str, Any]:
        return {
            "networks": [
                {
                    "name": "s",
                    "cells": [
                        {"source": "a", "destination": "b", "status": status, "path_mtu": mtu}
                    ],
                }
            ]
        }

    (change,) = document.compare(doc(*old), doc(*new))
    assert change.regression is regression


def test_mermaid_marks_unmeasured_hosts() -> None:
    mesh = mesh_of(["h1", "h2", "h3"], down={"h3": HostError(ErrorKind.TIMEOUT, "slow")})
    assert "class n_storage__h3 unmeasured" in render_mermaid(mesh)


def test_mesh_command_bad_inventory_is_usage_error(tmp_path: Path) -> None:
    p = tmp_path / "inv.yml"
    p.write_text("networks:\n  s: {mtu: 9000}\n")
    res = invoke(["mesh", str(p)])
    assert isinstance(res.exception, UsageError)
    assert "inv.yml:2" in str(res.exception)
    res = invoke(["mesh", "--format", "dot", str(p)])
    assert "--format 'dot'" in str(res.exception)


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["mesh", "{bad}"], ExitCode.USAGE, "inv.yml:2: network 's': add 'mtu: 9000'"),
        (["mesh", "{missing}"], ExitCode.USAGE, "no such inventory file"),
        (["report", "{garbage}"], ExitCode.USAGE, "not valid JSON"),
        (["report", "{good}"], ExitCode.CANNOT_MEASURE, ""),
    ],
)
def test_exit_codes_through_the_real_command(
    tmp_path: Path, args: list[str], code: int, words: str
) -> None:
    import subprocess
    import sys

    bad = tmp_path / "inv.yml"
    bad.write_text("networks:\n  s:\n    hosts: {a: 198.18.1.1}\n")
    garbage = tmp_path / "g.json"
    garbage.write_text("{")
    good = source_file(tmp_path, "n1")  # one host only: the others' rows are missing
    paths = {"bad": bad, "missing": tmp_path / "nope.yml", "garbage": garbage, "good": good}
    argv = [a.format(**paths) for a in args]
    r = subprocess.run(
        [sys.executable, "-m", "jumbopath", *argv], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == code, r.stderr
    if words:
        assert r.stderr.count("\n") == 1 and r.stderr.startswith("jumbopath: error: ")
        assert words in r.stderr
