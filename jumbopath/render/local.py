"""Tables and JSON for ``jumbopath sizes`` and ``jumbopath nics``. Pure functions of the data.

Interface names, kinds and addresses come from the kernel, but whoever
creates an interface names it; switch names and ports come from the wire.
In the terminal every such string is a :class:`rich.text.Text` (never Rich
markup, so ``[bold]`` in a name is just text) made safe by
:func:`jumbopath.safe.safe_text` (no escape sequences, no line breaks).
"""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from jumbopath import nics, sizes
from jumbopath.lldp import Neighbour
from jumbopath.nics import Interface, NicsReport, Problem
from jumbopath.safe import safe_text

PLACEHOLDER_TARGET = "TARGET"
"""Stands for the address in the by-hand commands ``sizes`` prints."""

# --------------------------------------------------------------------------
# sizes


def sizes_dict(table: sizes.SizeTable, given: tuple[str, int] | None = None) -> dict[str, Any]:
    """The ``sizes --json`` document.

    ``{"schema": 1, "mtu": 9000, "from": {"kind": "windows", "value": 9014} | null,
    "sizes": {kind: value or null, ...}, "arithmetic": "...",
    "commands": {"4": [{"platform": ..., "command": ...}], "6": [...]}}``;
    the ``sizes`` keys are the ``--from`` kinds, so any value can be fed back.
    """
    commands: dict[str, list[dict[str, str]]] = {}
    for family in (4, 6):
        if family == 6 and table.mtu < sizes.MIN_MTU_V6:
            continue
        commands[str(family)] = [
            {"platform": platform, "command": command}
            for platform, command in sizes.reproduce_commands(PLACEHOLDER_TARGET, table.mtu, family)
        ]
    return {
        "schema": 1,
        "mtu": table.mtu,
        "from": {"kind": given[0], "value": given[1]} if given else None,
        "sizes": {row.kind: table.value(row.kind) for row in sizes.ROWS},
        "arithmetic": sizes.arithmetic_line(table.mtu),
        "commands": commands,
    }


def sizes_renderable(table: sizes.SizeTable, given: tuple[str, int] | None = None) -> Group:
    """The numbers for one MTU as a table, the one-line summary and the by-hand commands."""
    title = f"IP MTU {table.mtu}"
    if given is not None and given[0] != "mtu":
        title += f" (from {given[0]} {given[1]})"
    grid = Table(title=title, title_justify="left")
    grid.add_column("", no_wrap=True)
    grid.add_column("bytes", justify="right", no_wrap=True)
    grid.add_column("--from", style="dim", no_wrap=True)
    grid.add_column("where you meet it", style="dim")
    for row in sizes.ROWS:
        value = table.value(row.kind)
        shown = Text(str(value)) if value is not None else Text("—", style="dim")
        if given is not None and row.kind == sizes.canonical_kind(given[0]):
            shown.stylize("bold")
        grid.add_row(row.label, shown, row.kind, row.note)

    commands = Table(title="Test this MTU by hand", title_justify="left", box=None)
    commands.add_column("", style="bold", no_wrap=True)
    commands.add_column("", no_wrap=True)
    for family in (4, 6):
        if family == 6 and table.mtu < sizes.MIN_MTU_V6:
            continue
        for platform, command in sizes.reproduce_commands(PLACEHOLDER_TARGET, table.mtu, family):
            commands.add_row(f"{platform} IPv{family}", command)
    return Group(grid, Text(sizes.arithmetic_line(table.mtu)), Text(""), commands)


# --------------------------------------------------------------------------
# nics


def neighbour_dict(neighbour: Neighbour | None) -> dict[str, Any] | None:
    """One ``neighbour`` object of the ``nics --json`` schema (see :mod:`jumbopath.nics`)."""
    if neighbour is None:
        return None
    return {
        "source": neighbour.source,
        "switch": neighbour.switch,
        "chassis_id": neighbour.chassis_id,
        "system_name": neighbour.system_name,
        "port_id": neighbour.port_id,
        "port_id_subtype": neighbour.port_id_subtype,
        "port_description": neighbour.port_description,
        "pvid": neighbour.pvid,
        "vlans": list(neighbour.vlans),
        "max_frame_size": neighbour.max_frame_size,
        "ttl_s": neighbour.ttl_s,
        "management_address": neighbour.management_address,
    }


def interface_dict(interface: Interface) -> dict[str, Any]:
    """One ``interfaces`` entry of the ``nics --json`` schema."""
    return {
        "name": interface.name,
        "kind": interface.kind,
        "state": interface.state,
        "mtu": interface.mtu,
        "speed_mbps": interface.speed_mbps,
        "mac": interface.mac,
        "addresses": list(interface.addresses),
        "parent": interface.parent,
        "vlan_id": interface.vlan_id,
        "members": list(interface.members),
        "master": interface.master,
        "neighbour": neighbour_dict(interface.neighbour),
    }


def problem_dict(problem: Problem) -> dict[str, Any]:
    """One ``problems`` entry of the ``nics --json`` schema."""
    return {
        "interface": problem.interface,
        "code": problem.code,
        "message": problem.message,
        "fix": problem.fix,
    }


def nics_dict(report: NicsReport) -> dict[str, Any]:
    """The ``nics --json`` document (schema documented in :mod:`jumbopath.nics`)."""
    return {
        "schema": nics.SCHEMA,
        "expected_mtu": report.expected_mtu,
        "lldp": {
            "source": report.lldp_source,
            "waited_s": report.lldp_waited_s,
            "notes": list(report.notes),
        },
        "interfaces": [interface_dict(i) for i in report.interfaces],
        "problems": [problem_dict(p) for p in report.problems],
    }


_STATE_STYLE = {"up": "green", "no-carrier": "yellow", "down": "red"}


def _t(value: object, style: str = "") -> Text:
    """A string from outside as a table cell: plain text, terminal-safe."""
    return Text(safe_text(value), style=style)


def _relations(interface: Interface) -> str:
    parts = []
    if interface.vlan_id is not None:
        parts.append(f"VLAN {interface.vlan_id}")
    if interface.parent:
        parts.append(("peer " if interface.kind == "veth" else "on ") + interface.parent)
    if interface.members:
        parts.append("ports " + ", ".join(interface.members))
    if interface.master:
        parts.append("in " + interface.master)
    return "; ".join(parts)


def _mtu_text(interface: Interface, report: NicsReport) -> Text:
    flagged = {p.interface for p in report.problems if p.code != "frame-too-small"}
    style = "bold red" if interface.name in flagged else ""
    return Text(str(interface.mtu), style=style)


def interfaces_table(report: NicsReport) -> Table:
    """One row per interface."""
    table = Table(title="Interfaces", title_justify="left")
    for name in ("name", "kind", "state", "MTU", "speed", "addresses", "stacking"):
        right = name in ("MTU", "speed")
        table.add_column(name, justify="right" if right else "left", no_wrap=name != "stacking")
    for i in report.interfaces:
        speed = (
            f"{i.speed_mbps / 1000:g}G"
            if i.speed_mbps and i.speed_mbps >= 1000
            else (f"{i.speed_mbps}M" if i.speed_mbps else "")
        )
        table.add_row(
            _t(i.name, "bold"),
            _t(i.kind),
            _t(i.state, _STATE_STYLE.get(i.state, "")),
            _mtu_text(i, report),
            speed,
            Text("\n").join(_t(a) for a in i.addresses),
            _t(_relations(i)),
        )
    return table


def neighbours_table(report: NicsReport) -> Table | None:
    """The switch port behind each NIC, when LLDP named one."""
    rows = [i for i in report.interfaces if i.neighbour is not None]
    if not rows:
        return None
    tooslow = {p.interface for p in report.problems if p.code == "frame-too-small"}
    table = Table(title="LLDP neighbours", title_justify="left")
    for name in ("interface", "switch", "port", "VLANs", "max frame", "via"):
        table.add_column(name, justify="right" if name == "max frame" else "left")
    for i in rows:
        n = i.neighbour
        assert n is not None
        vlans = ", ".join(f"{v}{' (pvid)' if v == n.pvid else ''}" for v in n.vlans)
        frame = Text(str(n.max_frame_size) if n.max_frame_size is not None else "not sent")
        if i.name in tooslow:
            frame.stylize("bold red")
        elif n.max_frame_size is None:
            frame.stylize("dim")
        table.add_row(_t(i.name), _t(n.switch), _t(n.port), vlans, frame, _t(n.source))
    return table


def problems_renderable(report: NicsReport) -> RenderableType:
    """Each problem and its fix, in the order to apply them."""
    if not report.problems:
        expect = f" (expected MTU {report.expected_mtu})" if report.expected_mtu else ""
        return Text(f"No problem found{expect}.", style="green")
    lines = [Text(f"{len(report.problems)} problem(s), fixes in order:", style="bold red")]
    previous_fix = None
    for p in report.problems:
        lines.append(Text.assemble(("✗ ", "red"), _t(p.message)))
        if p.fix != previous_fix:
            lines.append(Text.assemble(("    fix: ", "dim"), _t(p.fix, "cyan")))
        previous_fix = p.fix
    return Group(*lines)


def nics_renderable(report: NicsReport) -> Group:
    """Everything ``jumbopath nics`` shows in a terminal."""
    parts: list[RenderableType] = [interfaces_table(report)]
    neighbours = neighbours_table(report)
    if neighbours is not None:
        parts.append(neighbours)
    for note in report.notes:
        parts.append(_t(note, "yellow"))
    parts.append(problems_renderable(report))
    return Group(*parts)
