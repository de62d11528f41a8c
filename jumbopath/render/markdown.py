"""``--format markdown``: a check report for tickets and chat (GitHub-flavoured tables).

Every cell is made terminal-safe (:func:`jumbopath.safe.safe_text`) and
escaped for Markdown, so a hostile name can neither break the table nor
inject a link. The sentences come from :mod:`jumbopath.render.explain`.
"""

from __future__ import annotations

import re

from jumbopath.model import BreakKind, PathResult, Report, Status
from jumbopath.render.explain import break_sentence, finding_sentence, remark_sentence
from jumbopath.render.text import hop_chain
from jumbopath.safe import safe_text

#: A mark per verdict, so the table reads without colour.
MARK = {
    Status.OK: "✅ OK",
    Status.BELOW: "❌ BELOW",
    Status.UNREACHABLE: "⚠️ UNREACHABLE",
    Status.ERROR: "❓ ERROR",
}

_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


def md(value: object, limit: int = 200) -> str:
    """Text safe inside a Markdown table cell."""
    return _SPECIAL.sub(r"\\\1", safe_text(value, limit))


def code(value: str) -> str:
    """Inline code (backticks inside are replaced: they cannot be escaped there)."""
    return "`" + safe_text(value, 400).replace("`", "'") + "`"


def _verdict(r: PathResult) -> str:
    text = MARK[r.status]
    if r.status is Status.BELOW and r.expected_mtu is not None:
        text += f" {r.expected_mtu}"
    return f"**{text}**" if r.status is not Status.OK else text


def _num(value: int | None) -> str:
    return str(value) if value is not None else "-"


def table(report: Report) -> list[str]:
    """The results table."""
    lines = [
        "| target | address | path MTU | ping -s | interface | loss | probes | verdict | cause |",
        "|---|---|---:|---:|---|---:|---:|---|---|",
    ]
    for r in report.results:
        iface = f"{md(r.interface, 40)} ({r.interface_mtu})" if r.interface else "-"
        lines.append(
            "| "
            + " | ".join(
                [
                    md(r.target, 80),
                    md(r.address, 80) if r.address else "-",
                    _num(r.path_mtu),
                    _num(r.max_icmp_payload),
                    iface,
                    f"{r.loss:.0%}" if r.path_mtu is not None else "-",
                    str(r.probes_sent),
                    _verdict(r),
                    code(r.cause.value) if r.cause is not None else "-",
                ]
            )
            + " |"
        )
    return lines


def details(r: PathResult) -> list[str]:
    """The path's chain, the break and the notes."""
    head = f"### {md(r.target, 200)}"
    if r.address and r.address != r.target:
        head += f" ({md(r.address, 80)})"
    if r.status is Status.BELOW:
        head += f": path MTU {r.path_mtu}, expected {r.expected_mtu}"
    else:
        head += f": {r.status.value}"
    lines = ["", head, ""]
    chain = hop_chain(r)
    if chain is not None:
        lines.append(f"- path: {code(chain.plain.strip().removeprefix('path: '))}")
    if r.break_ is not None and r.break_.kind is not BreakKind.NONE:
        lines.append(
            f"- where ({code(r.break_.cause.value)}): {md(break_sentence(r.break_), 2000)}"
        )
    for note in r.notes:
        lines.append(f"- note ({code(note.code)}): {md(remark_sentence(note), 2000)}")
    if r.error:
        lines.append(f"- error: {md(r.error, 500)}")
    return lines


def render_markdown(report: Report, command: str = "check") -> str:
    """The whole report as Markdown."""
    title = f"## jumbopath {command}"
    if report.expected_mtu:
        title += f": expected MTU {report.expected_mtu}"
    ok = sum(r.status is Status.OK for r in report.results)
    lines = [title, "", f"{ok} of {len(report.results)} path(s) carry the expected MTU.", ""]
    lines += table(report)
    for r in report.results:
        if r.status is not Status.OK or (r.break_ is not None and r.hops):
            lines += details(r)
    for f in report.findings:
        lines += [
            "",
            f"**verdict** ({code(f.cause.value)}): {md(finding_sentence(f, report.results), 2000)}",
        ]
    return "\n".join(lines) + "\n"
