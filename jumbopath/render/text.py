"""Terminal rendering of ``check`` and ``trace`` reports (rich)."""

from __future__ import annotations

from dataclasses import replace

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from jumbopath.model import BreakKind, PathResult, Protocol, Report, Status
from jumbopath.render.explain import (
    break_sentence,
    error_sentence,
    finding_sentence,
    flows_sentence,
    limit_sentences,
    remark_sentence,
    soak_sentence,
)
from jumbopath.render.graph import broken_links
from jumbopath.safe import safe_text
from jumbopath.sizes import arithmetic_line, icmp_payload, reproduce_commands

STYLE = {
    Status.OK: "bold green",
    Status.BELOW: "bold red",
    Status.DEGRADED: "bold red",
    Status.UNREACHABLE: "bold yellow",
    Status.ERROR: "bold magenta",
}


def _verdict(r: PathResult) -> Text:
    if r.protocol is not Protocol.ICMP:
        how = r.protocol.value + (f":{r.port}" if r.port is not None else "")
        text = _verdict_word(r)
        text.append(f" ({how})", style="dim")
        return text
    return _verdict_word(r)


def _verdict_word(r: PathResult) -> Text:
    if r.status is Status.BELOW and r.expected_mtu is not None:
        return Text(f"BELOW {r.expected_mtu}", style=STYLE[r.status])
    return Text(r.status.value.upper(), style=STYLE[r.status])


def results_table(report: Report, command: str = "check") -> Table:
    """One row per path."""
    expect = report.expected_mtu
    title = f"jumbopath {command}: expected MTU {expect}" if expect else f"jumbopath {command}"
    table = Table(title=title, title_justify="left", header_style="bold")
    for name, justify in (
        ("target", "left"),
        ("address", "left"),
        ("path MTU", "right"),
        ("ping -s", "right"),
        ("interface", "left"),
        ("loss", "right"),
        ("probes", "right"),
        ("time", "right"),
        ("verdict", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in report.results:
        iface = f"{safe_text(r.interface, 40)} ({r.interface_mtu})" if r.interface else "-"
        # Cells from outside go in as Text: a str cell is read as Rich markup, so a
        # target named "[/x]" would crash the table and "[link=...]" would be a link.
        table.add_row(
            Text(safe_text(r.target, 80)),
            Text(safe_text(r.address, 80)) if r.address else "-",
            str(r.path_mtu) if r.path_mtu is not None else "-",
            str(r.max_icmp_payload) if r.max_icmp_payload is not None else "-",
            Text(iface),
            f"{r.loss:.0%}" if r.path_mtu is not None else "-",
            str(r.probes_sent),
            f"{r.elapsed_s:.2f}s",
            _verdict(r),
        )
    return table


def hop_chain(r: PathResult) -> Text | None:
    """The path as a chain of hops, each link labelled with the largest packet
    known to cross it, the broken link(s) highlighted."""
    if not r.hops:
        return None
    broken: dict[int, str] = {}
    for b in r.breaks or ((r.break_,) if r.break_ is not None else ()):
        exact = b.mtu is not None and (b.size is None or b.size <= b.mtu + 1)
        label = str(b.mtu) if exact or b.kind is BreakKind.PTB else f"<{b.size}"
        for i in broken_links(replace(r, break_=b)):
            broken.setdefault(i, label)
    text = Text("  path: ")
    text.append(safe_text(r.interface or "this host", 40), style="bold")
    for i, hop in enumerate(r.hops):
        if i in broken:
            text.append(f" ═╳ {broken[i]} ╳═ ", style="bold red reverse")
        else:
            lp = hop.largest_passing
            text.append(f" ─{lp or '?'}─ ", style="green" if lp else "dim")
        label = safe_text(hop.address, 80) if hop.address else "* (no answer)"
        text.append(label, style="bold" if hop.address == r.address else "")
    return text


def details(r: PathResult) -> list[RenderableType]:
    """What an admin needs for a path that is not OK."""
    out: list[RenderableType] = []
    head = Text(f"\n{safe_text(r.target, 200)}", style="bold")
    if r.address and r.address != r.target:
        head.append(f" ({safe_text(r.address, 80)})")
    if r.status is Status.BELOW:
        head.append(f": path MTU {r.path_mtu}, expected {r.expected_mtu}", style="red")
    elif r.status is Status.UNREACHABLE:
        head.append(": unreachable", style="yellow")
    elif r.status is Status.ERROR:
        head.append(f": {error_sentence(r)}", style="magenta")
    elif r.status is Status.DEGRADED:
        head.append(f": path MTU {r.path_mtu}, but big packets are lost", style="red")
    out.append(head)
    chain = hop_chain(r)
    if chain is not None:
        out.append(chain)
    limits = limit_sentences(r)
    if limits:
        out.extend(Text(f"  where: {line}", style="bold") for line in limits)
    elif r.break_ is not None and r.break_.kind is not BreakKind.NONE:
        out.append(Text(f"  where: {break_sentence(r.break_)}", style="bold"))
    flows = flows_sentence(r)
    if flows:
        out.append(Text(f"  flows: {flows}", style="bold"))
    soak = soak_sentence(r)
    if soak:
        out.append(Text(f"  loss: {soak}", style="bold"))
    for note in r.notes:
        out.append(Text(f"  note: {remark_sentence(note)}"))
    if r.status is Status.BELOW and r.address and r.expected_mtu and r.path_mtu:
        fam = r.family
        out.append(Text("  reproduce by hand (the first fails, the second passes):"))
        fails = dict(reproduce_commands(r.address, r.expected_mtu, fam))
        passes = dict(reproduce_commands(r.address, r.path_mtu, fam))
        for os_name, command in fails.items():
            out.append(Text(f"    {os_name:8} {command}   |   {passes[os_name]}"))
        out.append(Text(f"  sizes: {arithmetic_line(r.expected_mtu)}"))
        out.append(
            Text(
                f"         measured: MTU {r.path_mtu} = ping -s {icmp_payload(r.path_mtu, fam)}"
                f" (IPv{fam})"
            )
        )
    return out


def render_check(report: Report, command: str = "check") -> Group:
    """The whole terminal report."""
    parts: list[RenderableType] = [results_table(report, command)]
    for r in report.results:
        if r.status is not Status.OK or (r.break_ is not None and r.hops):
            parts.extend(details(r))
    for f in report.findings:
        parts.append(Text(f"\nverdict: {finding_sentence(f, report.results)}", style="bold"))
    return Group(*parts)
