"""The hop map as a picture: Mermaid (for wikis) and Graphviz DOT.

Every target's path is merged into one tree rooted at this host: a router
seen on several paths is drawn once. Each link is labelled with the largest
packet known to cross it (``Hop.largest_passing`` of its far end); the links
where big packets die are drawn red. Pure functions of the report.

Names in the report come from outside (what the user typed, DNS, interface
names): each is made terminal-safe (:func:`jumbopath.safe.safe_text`: no
control characters, no line breaks, bounded) before it becomes part of a
label, and every label is then escaped for its format, so a name can
neither break the diagram's syntax nor start a new statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from jumbopath.model import BreakKind, PathResult, Report, Status
from jumbopath.safe import safe_text

#: Bound on one name inside a label, characters.
MAX_NAME = 120

RED = "#d62728"
GREEN = "#2ca02c"


def broken_links(r: PathResult) -> set[int]:
    """Indices ``i`` of ``r.hops`` whose incoming link (from hop ``i - 1``, or this
    host for 0) is where big packets die."""
    b, hops = r.break_, r.hops
    if b is None or not hops or b.kind is BreakKind.NONE:
        return set()
    if b.kind is BreakKind.LOCAL_NIC:
        return {0}
    index = {h.address: i for i, h in enumerate(hops) if h.address is not None}
    if b.kind is BreakKind.PTB:
        at = index.get(b.after) if b.after is not None else None
        return {at + 1} if at is not None and at + 1 < len(hops) else set()
    start = index.get(b.after, -1) + 1 if b.after is not None else 0
    if b.after is not None and b.after not in index:
        return set()
    end = index.get(b.before, len(hops) - 1) if b.before is not None else len(hops) - 1
    return set(range(start, end + 1))


@dataclass
class _Tree:
    labels: dict[str, str] = field(default_factory=dict)  # node id -> label
    kinds: dict[str, str] = field(default_factory=dict)  # node id -> local|hop|ok|bad
    edges: dict[tuple[str, str], tuple[str, bool]] = field(default_factory=dict)

    def node(self, key: str, label: str, kind: str) -> str:
        if key not in self.labels:
            self.labels[key] = label
            self.kinds[key] = kind
        elif kind in ("ok", "bad") and self.kinds[key] == "hop":
            self.kinds[key] = kind  # a router that is also a target
            self.labels[key] = label
        return key

    def edge(self, a: str, b: str, label: str, broken: bool) -> None:
        old = self.edges.get((a, b))
        if old is not None:
            label = old[0] if _num(old[0]) >= _num(label) else label
            broken = broken or old[1]
        self.edges[(a, b)] = (label, broken)


def _num(label: str) -> int:
    digits = "".join(c for c in label if c in "0123456789")[:18]
    return int(digits) if digits else -1


def _name(text: str) -> str:
    """A name from outside, fit for one line of a label."""
    return safe_text(text, MAX_NAME)


def _target_label(r: PathResult) -> str:
    same = r.target == r.address or r.address is None
    name = _name(r.target) if same else f"{_name(r.target)}\n{_name(r.address or '')}"
    mtu = f"\npath MTU {r.path_mtu}" if r.path_mtu is not None else ""
    return f"{name}{mtu}"


def _tree(report: Report) -> _Tree:
    tree = _Tree()
    interfaces = sorted({_name(r.interface) for r in report.results if r.interface})
    local = tree.node(
        "local", "this host" + (f"\n{', '.join(interfaces)}" if interfaces else ""), "local"
    )
    for r in report.results:
        kind = "ok" if r.status is Status.OK else "bad"
        target_key = f"target:{r.address or r.target}"
        if not r.hops:
            t = tree.node(target_key, _target_label(r), kind)
            label = str(r.path_mtu) if r.path_mtu is not None else "?"
            tree.edge(local, t, label, r.status is not Status.OK)
            continue
        broken = broken_links(r)
        parent = local
        for i, hop in enumerate(r.hops):
            last = i == len(r.hops) - 1 and hop.address == r.address
            if last:
                key = tree.node(target_key, _target_label(r), kind)
            elif hop.address is not None:
                key = tree.node(f"hop:{hop.address}", _name(hop.address), "hop")
            else:
                key = tree.node(f"anon:{parent}:{hop.ttl}", f"hop {hop.ttl}\n(no answer)", "hop")
            if i in broken and r.break_ is not None:
                label = f"{r.break_.mtu} ✗" if r.break_.mtu is not None else "✗"
                tree.edge(parent, key, label, True)
            else:
                lp = hop.largest_passing
                tree.edge(parent, key, str(lp) if lp is not None else "?", False)
            parent = key
    return tree


def _ids(tree: _Tree) -> dict[str, str]:
    return {key: f"n{i}" for i, key in enumerate(tree.labels)}


#: Characters with a meaning inside a Mermaid label, as Mermaid entity codes:
#: quotes end the label, ``#`` starts an entity, ``<``/``>``/``&`` are HTML in
#: htmlLabels, a backtick starts a markdown string, ``|`` ends an edge label.
_MERMAID_ENTITIES = {
    "#": "#35;",
    '"': "#quot;",
    "<": "#lt;",
    ">": "#gt;",
    "&": "#amp;",
    "`": "#96;",
    "|": "#124;",
    "\n": "<br/>",  # only the label's own line breaks: names carry none
}
_MERMAID_SPECIAL = re.compile("[" + re.escape("".join(_MERMAID_ENTITIES)) + "]")


def _mermaid_text(text: str) -> str:
    return _MERMAID_SPECIAL.sub(lambda m: _MERMAID_ENTITIES[m.group()], text)


def render_mermaid(report: Report) -> str:
    """A Mermaid flowchart of every path, merged into one tree."""
    tree = _tree(report)
    ids = _ids(tree)
    shapes = {
        "local": ('["', '"]'),
        "hop": ('("', '")'),
        "ok": ('(["', '"])'),
        "bad": ('(["', '"])'),
    }
    lines = ["flowchart LR"]
    for key, label in tree.labels.items():
        left, right = shapes[tree.kinds[key]]
        lines.append(f"  {ids[key]}{left}{_mermaid_text(label)}{right}")
    red_links = []
    for n, ((a, b), (label, broken)) in enumerate(tree.edges.items()):
        arrow = "==>" if broken else "-->"
        lines.append(f'  {ids[a]} {arrow}|"{_mermaid_text(label)}"| {ids[b]}')
        if broken:
            red_links.append(str(n))
    lines.append(f"  classDef ok stroke:{GREEN},stroke-width:2px")
    lines.append(f"  classDef bad stroke:{RED},stroke-width:2px")
    for kind in ("ok", "bad"):
        members = [ids[k] for k, v in tree.kinds.items() if v == kind]
        if members:
            lines.append(f"  class {','.join(members)} {kind}")
    if red_links:
        lines.append(f"  linkStyle {','.join(red_links)} stroke:{RED},stroke-width:3px,color:{RED}")
    return "\n".join(lines)


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render_dot(report: Report) -> str:
    """A Graphviz digraph of every path, merged into one tree (``dot -Tsvg``)."""
    tree = _tree(report)
    ids = _ids(tree)
    lines = [
        "digraph jumbopath {",
        "  rankdir=LR;",
        '  node [shape=box, style=rounded, fontname="Helvetica"];',
        '  edge [fontname="Helvetica"];',
    ]
    styles = {
        "local": "shape=box, style=bold",
        "hop": "shape=ellipse",
        "ok": f'color="{GREEN}", penwidth=2',
        "bad": f'color="{RED}", penwidth=2',
    }
    for key, label in tree.labels.items():
        lines.append(f'  {ids[key]} [label="{_dot_text(label)}", {styles[tree.kinds[key]]}];')
    for (a, b), (label, broken) in tree.edges.items():
        extra = f', color="{RED}", fontcolor="{RED}", penwidth=3' if broken else ""
        lines.append(f'  {ids[a]} -> {ids[b]} [label="{_dot_text(label)}"{extra}];')
    lines.append("}")
    return "\n".join(lines)
