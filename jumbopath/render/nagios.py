"""``--format nagios``: the monitoring-plugin convention (Nagios, Icinga, Naemon,
Zabbix, Sensu run it as it is).

One status line, ``JUMBOPATH CRITICAL - ... | perfdata``, then one line per
path that is not OK; the exit status is the plugin state (0 OK, 1 WARNING,
2 CRITICAL, 3 UNKNOWN) instead of jumbopath's own codes. Thresholds are
MTUs: ``-w 9000 -c 1500`` warns when a path carries less than 9000 and is
critical below 1500; without them a path below its expected MTU is
critical. Perfdata follows the plugin guidelines
(``'label'=value[UOM];[warn];[crit];[min];[max]``; ``9000:`` is the range
"alert below 9000").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum

from jumbopath.model import PathResult, Report, Status
from jumbopath.render.explain import break_sentence, error_sentence
from jumbopath.safe import safe_text


class PluginState(IntEnum):
    """Monitoring-plugin exit statuses (pinned by a test)."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


#: How bad a state is when several paths are combined: CRITICAL > WARNING > UNKNOWN > OK
#: (the monitoring plugins' ``max_state_alt``).
_RANK = {
    PluginState.OK: 0,
    PluginState.UNKNOWN: 1,
    PluginState.WARNING: 2,
    PluginState.CRITICAL: 3,
}


@dataclass(frozen=True, slots=True)
class PluginOutput:
    """What the plugin prints and how it exits."""

    state: PluginState
    """The exit status."""
    text: str
    """The status line (with perfdata) and the long output lines."""


def path_state(r: PathResult, warn: int | None, crit: int | None) -> PluginState:
    """One path's state. ``warn``/``crit``: alert when the path MTU is below them;
    both None: critical below the path's expected MTU."""
    if r.status is Status.ERROR:
        return PluginState.UNKNOWN
    if r.status is Status.UNREACHABLE or r.path_mtu is None:
        return PluginState.CRITICAL
    if warn is None and crit is None:
        return PluginState.OK if r.status is Status.OK else PluginState.CRITICAL
    if crit is not None and r.path_mtu < crit:
        return PluginState.CRITICAL
    if warn is not None and r.path_mtu < warn:
        return PluginState.WARNING
    return PluginState.OK


def _label(text: str) -> str:
    """A perfdata label: no ``'`` or ``=``, quoted when it holds anything unusual."""
    text = re.sub(r"['=]", "_", safe_text(text, 60))
    return text if re.fullmatch(r"[A-Za-z0-9_.:-]+", text) else f"'{text}'"


def _name(r: PathResult) -> str:
    name = safe_text(r.target, 80)
    if r.address and r.address != r.target:
        name += f" ({safe_text(r.address, 60)})"
    return name


def _perfdata(report: Report, warn: int | None, crit: int | None) -> str:
    many = len(report.results) > 1
    targets = [r.target for r in report.results]
    items = []
    for r in report.results:
        suffix = ""
        if many:
            suffix = f"_{r.target}"
            if targets.count(r.target) > 1:
                suffix += f"_v{r.family}"
        w = f"{warn}:" if warn is not None else ""
        c = (
            f"{crit}:"
            if crit is not None
            else (f"{r.expected_mtu}:" if warn is None and r.expected_mtu else "")
        )
        value = f"{r.path_mtu}B" if r.path_mtu is not None else "U"
        items.append(f"{_label('pmtu' + suffix)}={value};{w};{c};0")
        if r.path_mtu is not None:
            items.append(f"{_label('loss' + suffix)}={r.loss * 100:.0f}%;;;0;100")
    return " ".join(items)


def _why(r: PathResult) -> str:
    if r.status is Status.ERROR:
        return error_sentence(r) or "not measured"
    cause = f", {r.cause.value}" if r.cause is not None else ""
    if r.status is Status.UNREACHABLE:
        return f"unreachable{cause}"
    return f"path MTU {r.path_mtu} of {r.expected_mtu}{cause}"


def nagios(report: Report, warn: int | None = None, crit: int | None = None) -> PluginOutput:
    """The plugin output of a check report."""
    states = [(r, path_state(r, warn, crit)) for r in report.results]
    worst = max((s for _, s in states), key=_RANK.__getitem__, default=PluginState.UNKNOWN)
    bad = [(r, s) for r, s in states if s is not PluginState.OK]
    n = len(states)
    if not states:
        summary = "no path checked"
    elif not bad:
        mtus = sorted({r.path_mtu for r, _ in states if r.path_mtu is not None})
        summary = f"{n} path(s) carry MTU {'/'.join(str(m) for m in mtus)}"
    else:
        summary = f"{len(bad)} of {n} path(s) not OK: " + "; ".join(
            f"{_name(r)} {_why(r)}" for r, _ in bad
        )
    lines = [f"JUMBOPATH {worst.name} - {summary} | {_perfdata(report, warn, crit)}"]
    for r, s in bad:
        line = f"{s.name}: {_name(r)}: {_why(r)}"
        if r.break_ is not None:
            line += f": {break_sentence(r.break_)}"
        lines.append(line)
    return PluginOutput(worst, "\n".join(lines))


def unknown(message: str) -> PluginOutput:
    """The plugin output when nothing could be checked (bad input, no privilege)."""
    return PluginOutput(PluginState.UNKNOWN, f"JUMBOPATH UNKNOWN - {safe_text(message, 400)}")
