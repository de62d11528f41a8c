"""``mesh --format html`` and ``report --format html``: one self-contained page.

Built from the mesh JSON document only (:func:`jumbopath.mesh.document.to_document`,
schema at the top of that module), so it does not depend on the mesh's
internals. Per network: a matrix heat map where each cell shows both
directions (row host → column host, and back), each with a shape and a word
as well as a colour; the failing pairs with their located breaks; the
verdicts; the hosts that could not be measured and why; and when and how
the numbers were measured. Every string in the document is treated as
outside text (made safe and HTML-escaped).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from jumbopath import __version__
from jumbopath.render.html import SHAPE, badge, esc, page, stamp

#: Worst first: the cell's background is the worse of its two directions.
ORDER = ("below", "unreachable", "error", "not-measured", "ok")
#: Short words inside a matrix cell (the legend spells them out).
SHORT = {"ok": "ok", "below": "low", "unreachable": "unr", "error": "err", "not-measured": "n/m"}

MESH_CSS = """
table.matrix td,table.matrix th{padding:.15em .3em;font-size:12px;text-align:center}
table.matrix th.row{text-align:right}
table.matrix td{min-width:6.5em;line-height:1.25}
table.matrix td.self{background:var(--na-bg);color:var(--mute)}
table.matrix b{display:block;font-weight:600}
.legend span{margin-right:1.2em;white-space:nowrap}
"""


def _status(value: Any) -> str:
    return value if value in SHAPE else "error"


def worst(*statuses: str) -> str:
    """The worse of the statuses (below is worst, ok best)."""
    return min((_status(s) for s in statuses), key=ORDER.index)


def _arrow(arrow: str, cell: Mapping[str, Any] | None) -> str:
    if cell is None:
        return f'<b class="not-measured">{arrow} {SHAPE["not-measured"]} n/m</b>'
    status = _status(cell.get("status"))
    mtu = cell.get("path_mtu")
    value = str(mtu) if isinstance(mtu, int) else SHORT[status]
    return f'<b class="{status}">{arrow} {SHAPE[status]} {esc(value, 12)}</b>'


def matrix(net: Mapping[str, Any]) -> str:
    """The heat map: row host → column host on the first line, back on the second."""
    hosts = [str(h) for h in net.get("hosts", [])]
    cells = {
        (str(c.get("source")), str(c.get("destination"))): c
        for c in net.get("cells", [])
        if isinstance(c, Mapping)
    }
    head = "".join(f'<th scope="col">{esc(h, 60)}</th>' for h in hosts)
    rows = []
    for src in hosts:
        tds = []
        for dst in hosts:
            if src == dst:
                tds.append('<td class="self">—</td>')
                continue
            there, back = cells.get((src, dst)), cells.get((dst, src))
            w = worst(
                _status(there.get("status")) if there else "not-measured",
                _status(back.get("status")) if back else "not-measured",
            )
            tds.append(
                f'<td class="w-{w}" data-pair="{esc(src, 60)} {esc(dst, 60)}" data-worst="{w}" '
                f'title="{esc(src, 60)} → {esc(dst, 60)} and back">'
                f"{_arrow('→', there)}{_arrow('←', back)}</td>"
            )
        rows.append(f'<tr><th scope="row" class="row">{esc(src, 60)}</th>{"".join(tds)}</tr>')
    return (
        f'<table class="matrix"><thead><tr><th>from \\ to</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _failing(net: Mapping[str, Any]) -> str:
    breaks = {
        (str(c.get("source")), str(c.get("destination"))): c.get("break")
        for c in net.get("cells", [])
        if isinstance(c, Mapping)
    }
    items = []
    for f in net.get("failing", []):
        src, dst = str(f.get("source")), str(f.get("destination"))
        status = _status(f.get("status"))
        mtu = f.get("path_mtu")
        line = (
            f"<li>{badge(status)} {esc(src, 60)} → {esc(dst, 60)}"
            f"{f', path MTU {mtu}' if isinstance(mtu, int) else ''}"
            f" (one way: {esc(f.get('one_way'), 20)})"
        )
        brk = breaks.get((src, dst))
        if isinstance(brk, Mapping) and brk.get("explanation"):
            line += f"<br><b>where</b> (<code>{esc(brk.get('kind'), 20)}</code>): "
            line += esc(brk.get("explanation"), 4000)
        elif f.get("explanation"):
            line += f"<br>{esc(f.get('explanation'), 4000)}"
        items.append(line + "</li>")
    if not items:
        return "<p>No failing pairs.</p>"
    return f'<h3>Failing pairs</h3><ul class="facts">{"".join(items)}</ul>'


def _verdicts(net: Mapping[str, Any]) -> str:
    items = [
        f"<li>(<code>{esc(v.get('kind'), 20)}</code>) {esc(v.get('explanation'), 4000)}</li>"
        for v in net.get("verdicts", [])
        if isinstance(v, Mapping)
    ]
    return f'<h3>Verdicts</h3><ul class="facts">{"".join(items)}</ul>' if items else ""


def _error(e: Any) -> str:
    if not isinstance(e, Mapping):
        return "not measured"
    text = f"<code>{esc(e.get('kind'), 40)}</code>: {esc(e.get('message'), 1000)}"
    if e.get("detail"):
        text += f' <span class="meta">({esc(e.get("detail"), 1000)})</span>'
    return text


def _unmeasured(net: Mapping[str, Any]) -> str:
    items = [
        f"<li>{badge('not-measured', 'NOT MEASURED')} {esc(r.get('host'), 60)}: "
        f"{_error(r.get('error'))}</li>"
        for r in net.get("rows", [])
        if isinstance(r, Mapping) and r.get("error")
    ]
    if not items:
        return ""
    return f'<h3>Hosts not measured</h3><ul class="facts">{"".join(items)}</ul>'


def _counts(net: Mapping[str, Any]) -> dict[str, int]:
    counts = dict.fromkeys(ORDER, 0)
    for c in net.get("cells", []):
        if isinstance(c, Mapping):
            counts[_status(c.get("status"))] += 1
    return counts


def network(net: Mapping[str, Any]) -> str:
    """One network's section (one printed page)."""
    counts = _counts(net)
    total = sum(counts.values())
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    addresses = net.get("addresses") or {}
    members = ", ".join(
        f'{esc(h, 60)} <span class="mono">{esc(addresses.get(h, ""), 60)}</span>'
        for h in net.get("hosts", [])
    )
    return (
        f'<section class="network" data-network="{esc(net.get("name"), 60)}">'
        f"<h2>Network {esc(net.get('name'), 60)}: expected MTU {esc(net.get('expected_mtu'), 8)}"
        f'</h2><p class="meta">{total} directed path(s): {esc(summary or "none")}. '
        f"Hosts: {members}.</p>"
        f"{matrix(net)}{_failing(net)}{_verdicts(net)}{_unmeasured(net)}</section>"
    )


def legend() -> str:
    """What the shapes and words mean."""
    words = {
        "ok": "carries the expected MTU",
        "below": "below the expected MTU (low)",
        "unreachable": "unreachable (unr)",
        "error": "could not be measured (err)",
        "not-measured": "the source host was not measured (n/m)",
    }
    spans = "".join(f"<span>{badge(s, s.upper())} {w}</span>" for s, w in words.items())
    return (
        f'<p class="legend">{spans}</p><p class="meta">Each cell: the first line is the row '
        "host → column host, the second the way back; the number is the path MTU. The "
        "cell's background and dashed border follow the worse direction.</p>"
    )


def render_mesh_html(
    doc: Mapping[str, Any],
    *,
    how: str = "jumbopath mesh",
    generated_at: float | None = None,
    measured_at: float | None = None,
) -> str:
    """The whole mesh document as one HTML page."""
    at = time.time() if generated_at is None else generated_at
    hosts: Sequence[Any] = [h for h in doc.get("hosts", []) if isinstance(h, Mapping)]
    measured = sum(1 for h in hosts if h.get("measured"))
    when = stamp(measured_at) if measured_at is not None else stamp(at)
    meta = (
        f"Measured {when} by <code>{esc(how, 400)}</code>: every host checks every other "
        f"host of each network with don't-fragment ICMP probes ({measured} of {len(hosts)} "
        f"host(s) measured). Report by jumbopath {__version__}; exit status "
        f"{esc(doc.get('exit_code'), 4)}."
    )
    down = [h for h in hosts if h.get("error")]
    body = [legend()]
    if down:
        body.append(
            '<h2>Hosts that could not be measured</h2><ul class="facts">'
            + "".join(
                f"<li>{badge('not-measured', 'NOT MEASURED')} {esc(h.get('name'), 60)}: "
                f"{_error(h.get('error'))}</li>"
                for h in down
            )
            + "</ul>"
        )
    body += [network(n) for n in doc.get("networks", []) if isinstance(n, Mapping)]
    out = page("jumbopath mesh", meta, "\n".join(body))
    return out.replace("</style>", MESH_CSS + "</style>", 1)
