"""Property tests: hostile and random documents never make the mesh code raise the undocumented.

Readers of outside data (remote ``check`` output, per-host result files,
saved meshes for ``--compare``) either accept a document or refuse it the
documented way: a host-row error for remote output, one UsageError for a
file. What they accept then goes through the matrix builder, the comparison
and every renderer without an exception, and nothing from the documents
reaches the terminal unescaped.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from jumbopath.errors import UsageError
from jumbopath.mesh import document
from jumbopath.mesh.bounded import loads, read_json_file
from jumbopath.mesh.inventory import Network
from jumbopath.mesh.matrix import build_mesh
from jumbopath.mesh.report import networks_from_runs
from jumbopath.mesh.runs import HostRun, classify_check
from jumbopath.mesh.sources import parse_source
from jumbopath.model import Cause, Status
from jumbopath.render.mesh import render_changes, render_mermaid, render_text

FAST = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Anything JSON can hold, including control characters and odd numbers.
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    scalars,
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=6), kids, max_size=4)
    ),
    max_leaves=12,
)
hostile_text = st.lists(
    st.sampled_from(["a", "1", ".", ":", " ", "\x1b", "[2J", "\u202e", "\x00", "é", "[/]", "\n"]),
    max_size=8,
).map("".join)
addresses = (
    st.sampled_from(["198.18.1.1", "198.18.1.2", "198.18.1.3", "2001:db8::1"]) | hostile_text
)


def maybe(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a valid value, sometimes anything at all."""
    return st.one_of(valid, valid, json_values)


breaks = st.fixed_dictionaries(
    {
        "kind": maybe(st.sampled_from(["none", "ptb", "silent", "local-nic", "partial"])),
        "cause": maybe(st.sampled_from([c.value for c in Cause]) | st.none()),
        "after": maybe(addresses | st.none()),
        "before": maybe(addresses | st.none()),
        "mtu": maybe(st.integers(0, 9000) | st.none()),
        "reported_by": maybe(addresses | st.none()),
        "quiet_hops": maybe(st.lists(st.integers(0, 300), max_size=3)),
        "explanation": maybe(hostile_text),
    }
)
results = st.fixed_dictionaries(
    {
        "target": maybe(addresses),
        "address": maybe(addresses),
        "family": maybe(st.sampled_from([4, 6])),
        "status": maybe(st.sampled_from([s.value for s in Status])),
        "cause": maybe(st.sampled_from([c.value for c in Cause]) | st.none()),
        "path_mtu": maybe(st.integers(0, 9000) | st.none()),
        "direction": maybe(st.sampled_from(["forward", "return", "both"]) | st.none()),
        "break": maybe(breaks | st.none()),
        "interface": maybe(hostile_text),
        "interface_mtu": maybe(st.integers(0, 9000)),
        "error": maybe(hostile_text | st.none()),
    }
)
check_docs = st.fixed_dictionaries(
    {
        "schema": maybe(st.just(1)),
        "expected_mtu": maybe(st.just(9000)),
        "results": maybe(st.lists(maybe(results), max_size=4)),
    }
)


def stdout_texts() -> st.SearchStrategy[str]:
    """What a remote check might print: a (mutated) document, or its text cut or spoiled."""
    whole = check_docs.map(json.dumps)
    return st.one_of(
        whole,
        whole.flatmap(lambda t: st.integers(0, len(t)).map(lambda n: t[:n])),
        st.text(max_size=40),
        st.just("[" * 3000),
        st.just('{"schema": 1, "results": [' + "1" * 5000 + "]}"),
        st.binary(max_size=40).map(lambda b: b.decode("utf-8", "replace")),
    )


def shown(render: Any) -> str:
    console = Console(record=True, width=300, file=open("/dev/null", "w"))  # noqa: SIM115
    render(console)
    console.file.close()
    return console.export_text()


CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def assert_terminal_safe(text: str) -> None:
    assert not CONTROLS.search(text), repr(CONTROLS.search(text))


HOSTS = ("h1", "h2", "h3")
NET = Network("storage", 9000, tuple((h, f"198.18.1.{i}") for i, h in enumerate(HOSTS, 1)))


@FAST
@given(
    st.lists(
        st.tuples(st.sampled_from([0, 1, 2, 3, 127, 255, None]), stdout_texts(), hostile_text),
        min_size=3,
        max_size=3,
    )
)
def test_remote_output_becomes_a_row_or_a_row_error(
    outputs: list[tuple[int | None, str, str]],
) -> None:
    runs = []
    for host, (rc, stdout, stderr) in zip(HOSTS, outputs, strict=True):
        targets = tuple((h, a) for h, a in NET.members if h != host)
        run = classify_check("storage", 9000, targets, rc, stdout, stderr)
        assert (run.check is None) != (run.error is None)
        if run.error is not None:
            assert_terminal_safe(run.error.message + run.error.detail)
        runs.append(HostRun(host, (run,)))
    mesh = build_mesh([NET], runs)
    assert len(mesh.networks[0].cells) == 6
    assert_terminal_safe(shown(lambda c: render_text(mesh, c)))
    assert_terminal_safe(render_mermaid(mesh).replace("\n", ""))
    doc = document.to_document(mesh)
    assert document.document_problem(json.loads(document.dumps(doc))) is None
    document.compare(doc, doc)


source_files = st.one_of(
    json_values,
    check_docs,
    st.fixed_dictionaries(
        {
            "schema": maybe(st.just(1)),
            "host": maybe(st.sampled_from(HOSTS) | hostile_text),
            "error": maybe(st.none()),
            "networks": maybe(
                st.lists(
                    maybe(
                        st.fixed_dictionaries(
                            {
                                "name": maybe(st.sampled_from(["storage", "mgmt"])),
                                "mtu": maybe(st.sampled_from([9000, "9000", 0])),
                                "targets": maybe(
                                    st.dictionaries(st.sampled_from(HOSTS), addresses, max_size=3)
                                ),
                                "rc": maybe(st.sampled_from([0, 1, 3, "1", None])),
                                "stdout": maybe(stdout_texts()),
                                "check": maybe(st.none() | check_docs),
                                "error": maybe(
                                    st.none()
                                    | st.fixed_dictionaries(
                                        {"kind": maybe(st.just("timeout")), "message": hostile_text}
                                    )
                                ),
                            }
                        )
                    ),
                    max_size=3,
                )
            ),
        }
    ),
)


@FAST
@given(st.lists(source_files, min_size=1, max_size=3))
def test_result_files_are_read_or_refused_with_a_usage_error(docs: list[Any]) -> None:
    runs = []
    for i, doc in enumerate(docs):
        try:
            run = parse_source(doc, f"f{i}.json", default_host=f"x{i}")
        except UsageError as exc:
            assert "\n" not in str(exc)
            continue
        runs.append(HostRun(f"{run.host}#{i}", run.networks, run.error))
    try:
        networks = networks_from_runs(runs)
    except UsageError:
        return
    mesh = build_mesh(networks, runs)
    assert_terminal_safe(shown(lambda c: render_text(mesh, c)))
    render_mermaid(mesh)
    assert document.document_problem(json.loads(document.dumps(document.to_document(mesh)))) is None


@FAST
@given(st.binary(max_size=200) | stdout_texts().map(str.encode))
def test_any_bytes_are_json_or_one_usage_error(tmp_path_factory: Any, content: bytes) -> None:
    path = Path(tmp_path_factory.mktemp("f")) / "x.json"
    path.write_bytes(content)
    try:
        read_json_file(path, "--compare")
    except UsageError as exc:
        assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)
    with contextlib.suppress(ValueError):  # the one documented refusal
        loads(content.decode("utf-8", "replace"))


cells = st.fixed_dictionaries(
    {
        "source": maybe(st.sampled_from(HOSTS) | hostile_text),
        "destination": maybe(st.sampled_from(HOSTS)),
        "status": maybe(st.sampled_from(list(document.STATUSES))),
        "path_mtu": maybe(st.integers(0, 9000) | st.none()),
        "error": maybe(hostile_text | st.none()),
    }
)
mesh_docs = st.fixed_dictionaries(
    {
        "schema": maybe(st.just(1)),
        "kind": maybe(st.just("jumbopath-mesh")),
        "networks": maybe(
            st.lists(
                maybe(
                    st.fixed_dictionaries(
                        {
                            "name": maybe(st.just("storage") | hostile_text),
                            "cells": maybe(st.lists(maybe(cells), max_size=6)),
                        }
                    )
                ),
                max_size=2,
            )
        ),
    }
)


@FAST
@given(mesh_docs, mesh_docs)
def test_compare_loads_or_refuses_and_then_never_fails(
    tmp_path_factory: Any, old: Any, new: Any
) -> None:
    folder = Path(tmp_path_factory.mktemp("c"))
    loaded = []
    for name, doc in (("old.json", old), ("new.json", new)):
        p = folder / name
        p.write_text(json.dumps(doc))
        try:
            loaded.append(document.load(p))
        except UsageError as exc:
            assert str(exc).startswith(f"{p}: ") and "\n" not in str(exc)
    # compare itself copes with anything shaped like a mapping, loaded or not.
    for a, b in ((old, new), *([tuple(loaded)] if len(loaded) == 2 else [])):
        if isinstance(a, dict) and isinstance(b, dict):
            changes = document.compare(a, b)
            document.changes_document(changes)
            out = shown(lambda c, ch=changes: render_changes(ch, "old.json", c))
            assert_terminal_safe(out)
