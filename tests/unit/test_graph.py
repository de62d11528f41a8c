"""Mermaid and DOT pictures of the hop map, and the terminal chain."""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from jumbopath.model import Break, BreakKind, Hop, PathResult, Report, Status
from jumbopath.render.graph import broken_links, render_dot, render_mermaid
from jumbopath.render.text import hop_chain

R1, R2, R3 = "198.18.1.2", "198.18.2.2", "198.18.3.2"
A, B = "198.18.4.2", "198.18.4.3"


def traced(
    address: str, hops: list[tuple[str | None, int | None]], status: Status, b: Break | None
) -> PathResult:
    return PathResult(
        target=address,
        address=address,
        family=4,
        status=status,
        expected_mtu=9000,
        path_mtu=9000 if status is Status.OK else 1500,
        interface="eth0",
        interface_mtu=9000,
        hops=tuple(Hop(i + 1, a, 0.2, lp) for i, (a, lp) in enumerate(hops)),
        break_=b,
    )


SILENT_B = Break(BreakKind.SILENT, R2, B, 1500, None)
OK_A = traced(A, [(R1, 9000), (R2, 9000), (A, 9000)], Status.OK, None)
BAD_B = traced(B, [(R1, 9000), (R2, 9000), (B, 1500)], Status.BELOW, SILENT_B)
REPORT = Report(9000, (OK_A, BAD_B))


def test_broken_links_per_kind() -> None:
    assert broken_links(BAD_B) == {2}
    assert broken_links(OK_A) == set()
    local = traced(
        B,
        [(R1, 1500), (B, 1500)],
        Status.BELOW,
        Break(BreakKind.LOCAL_NIC, None, R1, 1500, None),
    )
    assert broken_links(local) == {0}
    ptb = traced(
        B,
        [(R1, 9000), (R2, 9000), (B, 1500)],
        Status.BELOW,
        Break(BreakKind.PTB, R2, B, 1500, R2),
    )
    assert broken_links(ptb) == {2}
    first = traced(B, [(B, 1500)], Status.BELOW, Break(BreakKind.SILENT, None, B, 1500, None))
    assert broken_links(first) == {0}
    bracket = traced(
        B,
        [(R1, 9000), (None, 1500), (R3, 1500), (B, 1500)],
        Status.BELOW,
        Break(BreakKind.SILENT, R1, R3, 1500, None),
    )
    assert broken_links(bracket) == {1, 2}


def test_mermaid_merges_paths_into_one_tree() -> None:
    text = render_mermaid(REPORT)
    assert text.startswith("flowchart LR")
    # R1 and R2 are shared: drawn once each, and the link between them once.
    assert text.count(f'"{R1}"') == 1 and text.count(f'"{R2}"') == 1
    edges = [line for line in text.splitlines() if "-->" in line or "==>" in line]
    assert len(edges) == 4  # host->R1, R1->R2, R2->A, R2->B
    assert sum("==>" in e for e in edges) == 1
    assert '"1500 ✗"' in text and "linkStyle 3 stroke:#d62728" in text
    assert '"9000"' in text


def test_dot_highlights_the_broken_link() -> None:
    text = render_dot(REPORT)
    assert text.startswith("digraph jumbopath {") and text.rstrip().endswith("}")
    red = [line for line in text.splitlines() if "->" in line and "penwidth=3" in line]
    assert len(red) == 1 and 'label="1500 ✗"' in red[0]
    assert sum("->" in line for line in text.splitlines()) == 4


def test_unanswered_hops_and_untraced_targets() -> None:
    silent_hop = traced(A, [(R1, 9000), (None, 9000), (A, 9000)], Status.OK, None)
    untraced = PathResult(B, B, 4, Status.BELOW, 9000, 1500)
    text = render_dot(Report(9000, (silent_hop, untraced)))
    assert "no answer" in text
    assert 'label="1500"' in text  # the untraced target hangs off this host directly


def test_labels_are_escaped() -> None:
    odd = PathResult('we"ird', A, 4, Status.OK, 9000, 9000, hops=(Hop(1, A, 0.1, 9000),))
    assert 'we\\"ird' in render_dot(Report(9000, (odd,)))
    assert "we#quot;ird" in render_mermaid(Report(9000, (odd,)))


def test_terminal_chain_marks_the_break() -> None:
    chain = hop_chain(BAD_B)
    assert chain is not None
    console = Console(width=200, record=True)
    console.print(chain)
    out = console.export_text()
    assert f"{R2} ═╳ 1500 ╳═ {B}" in out
    assert "eth0 ─9000─ " + R1 in out


# --------------------------------------------------------------------------
# The trace command renders the same report in every format (engine stubbed).


@pytest.fixture
def stub_trace(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    import jumbopath.pipeline as cli_trace

    seen: list[object] = []

    def fake(config: object) -> Report:
        seen.append(config)
        return REPORT

    monkeypatch.setattr(cli_trace, "trace", fake)
    return seen


@pytest.mark.parametrize(
    ("args", "start"),
    [
        (["--json"], "{"),
        (["--format", "json"], "{"),
        (["--format", "mermaid"], "flowchart LR"),
        (["--format", "dot"], "digraph jumbopath {"),
        ([], ""),
    ],
)
def test_trace_command_formats_and_exit_code(
    stub_trace: list[object], args: list[str], start: str
) -> None:
    from typer.testing import CliRunner

    from jumbopath.cli import _register, app

    _register()
    done = CliRunner().invoke(app, ["trace", "-4", "--expect", "9000", *args, A])
    assert done.exit_code == 1, done.output  # one path below expectation
    assert done.output.startswith(start)
    if not args:
        assert f"{R2} ═╳ 1500 ╳═ {B}" in done.output
    (config,) = stub_trace
    assert config.targets == (A,) and config.expect == 9000 and config.family == 4  # type: ignore[attr-defined]
    if start == "{":
        doc = json.loads(done.output)
        assert doc["results"][1]["break"]["kind"] == "silent"
        assert doc["results"][1]["hops"][2]["largest_passing"] == 1500
