"""Pictures of a mesh: a coloured matrix per network, JSON, Mermaid. Pure functions of the data.

Host and network names, addresses, remote hosts' messages and the sentences
built from them all came from outside (inventories, result files, remote
output): every one passes through :func:`jumbopath.safe.safe_text` here, and
goes into rich as :class:`~rich.text.Text`, never as markup.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from jumbopath.mesh.document import Change
from jumbopath.mesh.matrix import (
    Cell,
    CellStatus,
    Mesh,
    NetworkMatrix,
    OneWay,
    VerdictKind,
    one_way,
)
from jumbopath.render.explain.mesh import (
    legend,
    matrix_summary,
    mesh_summary,
    pair_sentence,
    verdict_sentence,
)
from jumbopath.safe import safe_text

NAME_LIMIT = 80
"""Longest host or network name shown, characters."""
SENTENCE_LIMIT = 2000
"""Longest explanation or message shown, characters."""


def _name(value: object) -> str:
    return safe_text(value, NAME_LIMIT)


def _said(value: object) -> str:
    return safe_text(value, SENTENCE_LIMIT)


_ARROWS = {OneWay.FORWARD: "→", OneWay.RETURN: "←", OneWay.BOTH: "↔"}


def _cell_text(cell: Cell | None, expected: int, mirror: Cell | None = None) -> Text:
    if cell is None:
        return Text("—", style="dim")
    if cell.status is CellStatus.OK:
        return Text(str(cell.path_mtu or expected), style="green")
    if cell.status is CellStatus.BELOW:
        mark = _ARROWS.get(one_way(cell, mirror), "")
        return Text(f"{cell.path_mtu}{mark}", style="bold red")
    if cell.status is CellStatus.DEGRADED:
        return Text(f"{cell.path_mtu or expected}~", style="bold yellow")
    if cell.status is CellStatus.UNREACHABLE:
        return Text("unreach", style="bold red")
    if cell.status is CellStatus.ERROR:
        return Text("error", style="yellow")
    return Text("·", style="dim")


def matrix_table(net: NetworkMatrix) -> Table:
    """The N x N table of one network: sources as rows, destinations as columns."""
    table = Table(show_lines=False)
    table.add_column("from \\ to", style="bold", no_wrap=True)
    for h in net.hosts:
        table.add_column(Text(_name(h)), justify="right", no_wrap=True)
    by_pair = {(c.source, c.destination): c for c in net.cells}
    failed = {r.host for r in net.rows if r.error is not None}
    for src in net.hosts:
        label = Text(_name(src))
        if src in failed:
            label = Text(f"{_name(src)} ✗", style="yellow")
        cells = [
            _cell_text(
                by_pair.get((src, dst)) if dst != src else None,
                net.expected_mtu,
                by_pair.get((dst, src)),
            )
            for dst in net.hosts
        ]
        table.add_row(label, *cells)
    return table


def render_text(mesh: Mesh, console: Console) -> None:
    """The matrices, the rows that could not be measured, the failing pairs and the verdicts."""
    for h, err, _ in mesh.hosts:
        if err is not None:
            console.print(
                Text.assemble(
                    (f"{_name(h)}: ", "bold yellow"),
                    (f"{err.kind.value}: ", "yellow"),
                    _said(err.message),
                )
            )
            if err.detail:
                console.print(Text(f"    ssh said: {_said(err.detail)}", style="dim"))
    if mesh.via:
        agentless = ", ".join(_name(h) for h, _ in mesh.via)
        console.print(
            Text(f"Measured through their own ping over SSH (nothing installed): {agentless}")
        )
    for net in mesh.networks:
        console.print()
        console.print(
            Text.assemble(
                (_name(net.name), "bold"),
                f": path MTU from row to column, expected {net.expected_mtu}",
            )
        )
        console.print(matrix_table(net))
        marks = legend(net)
        if marks:
            console.print(Text(marks, style="dim"))
        host_errors = {h for h, e, _ in mesh.hosts if e is not None}
        for row in net.rows:
            if row.error is not None and row.host not in host_errors:
                console.print(
                    Text.assemble(
                        (f"{_name(row.host)} ({_name(net.name)}): ", "bold yellow"),
                        (f"{row.error.kind.value}: ", "yellow"),
                        _said(row.error.message),
                    )
                )
                if row.error.detail:
                    console.print(Text(f"    {_said(row.error.detail)}", style="dim"))
        console.print(Text(matrix_summary(net)))
        if net.failing:
            console.print(Text("Failing pairs:", style="bold"))
            for f in net.failing:
                console.print(Text(f"  {_said(pair_sentence(f, net))}"))
        for v in net.verdicts:
            console.print(
                Text.assemble(
                    ("Verdict", "bold red"),
                    f" ({v.kind.value}): ",
                    _said(verdict_sentence(v, net)),
                )
            )
    code = int(mesh.exit_code)
    console.print()
    console.print(Text(mesh_summary(mesh), style="bold green" if code == 0 else "bold red"))


def render_changes(changes: Sequence[Change], since: str, console: Console) -> None:
    """Only what changed since the saved run (``--compare``)."""
    since = safe_text(since, 200)
    if not changes:
        console.print(Text(f"No change since {since}.", style="bold green"))
        return
    regressions = [c for c in changes if c.regression]
    console.print(Text(f"Changes since {since}:", style="bold"))
    for c in changes:
        style = "bold red" if c.regression else "green" if c.after.startswith("ok") else ""
        word = "worse" if c.regression else "better" if c.improvement else "changed"
        console.print(
            Text(
                f"  {_name(c.network)}: {_name(c.source)} → {_name(c.destination)}: "
                f"{_said(c.before)} → {_said(c.after)} ({word})",
                style=style,
            )
        )
    if regressions:
        console.print(Text(f"{len(regressions)} regression(s).", style="bold red"))
    else:
        console.print(Text("No regression.", style="bold green"))


_ID_RE = re.compile(r"[^A-Za-z0-9_]")


def _mid(network: str, host: str) -> str:
    return "n_" + _ID_RE.sub("_", network) + "__" + _ID_RE.sub("_", host)


def _label(text: str) -> str:
    """Text for a Mermaid label: safe to show, no quote or markup that ends it early."""
    return _name(text).replace('"', "'").replace("<", "‹").replace(">", "›")


_EDGE = {CellStatus.UNREACHABLE: "unreachable", CellStatus.DEGRADED: "loses big packets"}


def render_mermaid(mesh: Mesh) -> str:
    """A Mermaid flowchart: a box per network, failing pairs as edges, their hosts marked."""
    lines = ["flowchart LR"]
    classes: dict[str, list[str]] = {"suspect": [], "failing": [], "unmeasured": []}
    for net in mesh.networks:
        sid = "net_" + _ID_RE.sub("_", net.name)
        lines.append(f'  subgraph {sid}["{_label(net.name)} (MTU {net.expected_mtu})"]')
        for h in net.hosts:
            lines.append(f'    {_mid(net.name, h)}["{_label(h)}"]')
        lines.append("  end")
        suspects = {
            h
            for v in net.verdicts
            if v.kind in (VerdictKind.HOST, VerdictKind.NETWORK)
            for h in v.hosts
        }
        involved = {h for f in net.failing for h in (f.source, f.destination)}
        unmeasured = {r.host for r in net.rows if r.error is not None}
        drawn: set[frozenset[str]] = set()
        failing = {(f.source, f.destination) for f in net.failing}
        for f in net.failing:
            pair = frozenset((f.source, f.destination))
            if pair in drawn:
                continue
            drawn.add(pair)
            mirror = (f.destination, f.source) in failing
            label = _EDGE.get(f.status, str(f.path_mtu))
            a, b = _mid(net.name, f.source), _mid(net.name, f.destination)
            if mirror:
                lines.append(f'  {a} <-. "{label}" .-> {b}')
            else:
                lines.append(f'  {a} -. "{label}" .-> {b}')
        for h in net.hosts:
            node = _mid(net.name, h)
            if h in suspects:
                classes["suspect"].append(node)
            elif h in involved:
                classes["failing"].append(node)
            elif h in unmeasured:
                classes["unmeasured"].append(node)
    lines += [
        "  classDef suspect fill:#f99,stroke:#900,stroke-width:3px",
        "  classDef failing stroke:#c00,stroke-width:2px",
        "  classDef unmeasured fill:#ddd,stroke-dasharray:4 4",
    ]
    for name, nodes in classes.items():
        if nodes:
            lines.append(f"  class {','.join(nodes)} {name}")
    return "\n".join(lines) + "\n"
