"""``check --format html``: one self-contained page (no scripts, no CDN, opens
offline, prints well), readable in light and dark mode and without colour:
every verdict carries a shape and a word, not just a hue.

Failing paths are drawn as the hop chain the terminal shows, each link
labelled with the largest packet known to cross it, the broken link(s)
marked. Sentences come from :mod:`jumbopath.render.explain`; every string
from outside is made safe (:func:`jumbopath.safe.safe_text`) and HTML-escaped.
"""

from __future__ import annotations

import html
import time
from datetime import datetime, timezone

from jumbopath import __version__
from jumbopath.model import BreakKind, PathResult, Report, Status
from jumbopath.render.explain import (
    break_sentence,
    error_sentence,
    finding_sentence,
    remark_sentence,
)
from jumbopath.render.graph import broken_links
from jumbopath.safe import safe_text
from jumbopath.sizes import reproduce_commands

#: Shape and word per status; the colour is a third cue, never the only one.
SHAPE = {
    "ok": "✔",
    "below": "✖",
    "unreachable": "▲",
    "error": "?",
    "not-measured": "·",
}

CSS = """
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--mute:#57606a;--line:#d0d7de;
--ok:#1a7f37;--ok-bg:#dafbe1;--below:#cf222e;--below-bg:#ffebe9;--unr:#9a6700;
--unr-bg:#fff8c5;--err:#8250df;--err-bg:#fbefff;--na:#6e7781;--na-bg:#f6f8fa}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--mute:#8d96a0;
--line:#30363d;--ok:#3fb950;--ok-bg:#12361f;--below:#f85149;--below-bg:#4a1519;
--unr:#d29922;--unr-bg:#3b2e0a;--err:#bc8cff;--err-bg:#2e1f4d;--na:#8d96a0;--na-bg:#161b22}}
body{background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,sans-serif;margin:1.5em}
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.2em;margin:1.2em 0 .3em}
h3{font-size:1.05em;margin:1em 0 .3em}
.meta{color:var(--mute);margin:0 0 1em}code,.mono{font-family:ui-monospace,monospace}
table{border-collapse:collapse;margin:.4em 0}
th,td{border:1px solid var(--line);padding:.25em .5em;text-align:left}
th{background:var(--na-bg)}td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:var(--ok)}.below{color:var(--below)}.unreachable{color:var(--unr)}
.error{color:var(--err)}.not-measured{color:var(--na)}
td.ok,.w-ok{background:var(--ok-bg)}td.below,.w-below{background:var(--below-bg)}
td.unreachable,.w-unreachable{background:var(--unr-bg)}td.error,.w-error{background:var(--err-bg)}
.w-not-measured{background:var(--na-bg)}
.w-below,.w-unreachable{border:2px dashed currentColor}
.verdict{font-weight:600;white-space:nowrap}
ol.chain{list-style:none;display:flex;flex-wrap:wrap;align-items:center;padding:0;margin:.4em 0}
ol.chain li{margin:.15em 0}
.node{border:1px solid var(--line);border-radius:4px;padding:.1em .4em;
font-family:ui-monospace,monospace}
.node.quiet{border-style:dotted;color:var(--mute)}.node.target{font-weight:700}
.link{padding:0 .3em;font-family:ui-monospace,monospace;white-space:nowrap}
.link::before,.link::after{content:"───"}
.link.broken{color:var(--below);font-weight:700}
.link.broken::before,.link.broken::after{content:"═╳═"}
.link.unknown{color:var(--mute)}
ul.facts{margin:.2em 0 .6em;padding-left:1.2em}
@media print{:root{--bg:#fff;--fg:#000;--mute:#444;--line:#999}body{margin:0;font-size:11px}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
section.network{break-after:page}section.network:last-child{break-after:auto}
table,ol.chain,li{break-inside:avoid}}
"""


def esc(value: object, limit: int = 500) -> str:
    """Outside text, made safe and HTML-escaped."""
    return html.escape(safe_text(value, limit), quote=True)


def stamp(at: float) -> str:
    """A UTC timestamp for the page."""
    return datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def badge(status: str, words: str | None = None) -> str:
    """Shape + word for a status (the colour comes from the class)."""
    shape = SHAPE.get(status, "?")
    return (
        f'<span class="verdict {esc(status, 20)}">{shape} {esc(words or status.upper(), 80)}</span>'
    )


def page(title: str, meta: str, body: str) -> str:
    """The whole self-contained document."""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta name="generator" content="jumbopath {__version__}">'
        f"<style>{CSS}</style></head><body>\n"
        f'<h1>{esc(title)}</h1>\n<p class="meta">{meta}</p>\n{body}\n</body></html>\n'
    )


def chain(r: PathResult) -> str:
    """The hop chain of a path: this host, then each hop, each link labelled with
    the largest packet known to cross it; broken links marked ``═╳═``."""
    if not r.hops:
        return ""
    broken = broken_links(r)
    mtu = r.break_.mtu if r.break_ is not None and r.break_.mtu else "?"
    items = [f'<li class="node">{esc(r.interface or "this host", 40)}</li>']
    for i, hop in enumerate(r.hops):
        if i in broken:
            items.append(
                f'<li class="link broken" title="big packets die here">{esc(mtu)} broken</li>'
            )
        else:
            lp = hop.largest_passing
            cls = "link" if lp else "link unknown"
            items.append(f'<li class="{cls}">{lp or "?"}</li>')
        if hop.address is None:
            items.append('<li class="node quiet">* no answer</li>')
        else:
            cls = "node target" if hop.address == r.address else "node"
            items.append(f'<li class="{cls}">{esc(hop.address, 80)}</li>')
    return f'<ol class="chain" aria-label="path">{"".join(items)}</ol>'


def _name(r: PathResult) -> str:
    name = esc(r.target, 200)
    if r.address and r.address != r.target:
        name += f" ({esc(r.address, 80)})"
    return name


def _words(r: PathResult) -> str:
    if r.status is Status.BELOW and r.expected_mtu is not None:
        return f"BELOW {r.expected_mtu}"
    return r.status.value.upper()


def _num(value: int | None) -> str:
    return str(value) if value is not None else "-"


def results_table(report: Report) -> str:
    """One row per path; the verdict cell coloured, shaped and worded."""
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "target",
            "address",
            "path MTU",
            "ping -s",
            "interface",
            "loss",
            "probes",
            "time",
            "verdict",
            "cause",
        )
    )
    rows = []
    for r in report.results:
        iface = f"{esc(r.interface, 40)} ({r.interface_mtu})" if r.interface else "-"
        cause = f"<code>{r.cause.value}</code>" if r.cause is not None else "-"
        rows.append(
            f'<tr data-status="{r.status.value}"><td>{esc(r.target, 200)}</td>'
            f'<td class="mono">{esc(r.address, 80) if r.address else "-"}</td>'
            f'<td class="n">{_num(r.path_mtu)}</td><td class="n">{_num(r.max_icmp_payload)}</td>'
            f"<td>{iface}</td>"
            f'<td class="n">{f"{r.loss:.0%}" if r.path_mtu is not None else "-"}</td>'
            f'<td class="n">{r.probes_sent}</td><td class="n">{r.elapsed_s:.2f} s</td>'
            f'<td class="{r.status.value}">{badge(r.status.value, _words(r))}</td>'
            f"<td>{cause}</td></tr>"
        )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def details(r: PathResult) -> str:
    """What an admin needs for a path that is not OK."""
    head = f"<h3>{badge(r.status.value, _words(r))} {_name(r)}"
    if r.status is Status.BELOW:
        head += f": path MTU {r.path_mtu}, expected {r.expected_mtu}"
    head += "</h3>"
    facts = []
    if r.status is Status.ERROR:
        facts.append(f"<li>{esc(error_sentence(r), 2000)}</li>")
    if r.break_ is not None and r.break_.kind is not BreakKind.NONE:
        facts.append(
            f"<li><b>where</b> (<code>{r.break_.cause.value}</code>): "
            f"{esc(break_sentence(r.break_), 4000)}</li>"
        )
    if r.direction is not None:
        facts.append(f"<li><b>direction</b>: {r.direction.value}</li>")
    facts += [f"<li><b>note</b>: {esc(remark_sentence(n), 2000)}</li>" for n in r.notes]
    if r.status is Status.BELOW and r.address and r.expected_mtu and r.path_mtu:
        fails = dict(reproduce_commands(r.address, r.expected_mtu, r.family))
        passes = dict(reproduce_commands(r.address, r.path_mtu, r.family))
        for os_name, command in fails.items():
            facts.append(
                f"<li><b>by hand</b> ({esc(os_name)}): fails <code>{esc(command)}</code>, "
                f"passes <code>{esc(passes[os_name])}</code></li>"
            )
    return f'{head}{chain(r)}<ul class="facts">{"".join(facts)}</ul>'


def render_html(
    report: Report, command: str = "check", *, generated_at: float | None = None
) -> str:
    """The whole check report as one HTML page."""
    at = time.time() if generated_at is None else generated_at
    title = f"jumbopath {command}"
    if report.expected_mtu:
        title += f": expected MTU {report.expected_mtu}"
    ok = sum(r.status is Status.OK for r in report.results)
    probes = sum(r.probes_sent for r in report.results)
    meta = (
        f"{ok} of {len(report.results)} path(s) carry the expected MTU. Measured from this "
        f"host with don't-fragment ICMP probes ({probes} probes), report written {stamp(at)} "
        f"by jumbopath {__version__}."
    )
    body = [results_table(report)]
    failing = [r for r in report.results if r.status is not Status.OK or (r.break_ and r.hops)]
    if failing:
        body.append("<h2>Paths in detail</h2>")
        body += [details(r) for r in failing]
    if report.findings:
        body.append("<h2>Verdict</h2><ul>")
        for f in report.findings:
            text = esc(finding_sentence(f, report.results), 4000)
            body.append(f"<li>(<code>{f.cause.value}</code>) {text}</li>")
        body.append("</ul>")
    return page(title, meta, "\n".join(body))
