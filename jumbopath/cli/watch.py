"""``jumbopath watch``: re-check until the path turns good (or forever), live.

The loop is here; what changed is decided by the pure
:class:`jumbopath.watch.Tracker`, when the next round starts by
:class:`jumbopath.watch.Schedule`. Each round is one
:func:`jumbopath.pipeline.check`.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

import typer
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from jumbopath.cli import app
from jumbopath.cli.check import EXPECT, IPV4, IPV6, MAX_TIME, family_option
from jumbopath.errors import CannotMeasure, UsageError
from jumbopath.model import Report, Status
from jumbopath.pathstate import CheckConfig
from jumbopath.safe import safe_text
from jumbopath.status import ExitCode
from jumbopath.watch import (
    Change,
    Observation,
    Schedule,
    Tick,
    Tracker,
    not_measured,
    observe_mesh,
    observe_report,
)

STYLE = {
    Status.OK: "bold green",
    Status.BELOW: "bold red",
    Status.UNREACHABLE: "bold yellow",
    Status.ERROR: "bold magenta",
}


# --------------------------------------------------------------------------
# Words for observations and changes (verdicts, MTUs and cause codes: data)


def clock(at: float) -> str:
    """Local wall-clock time of day of ``at``."""
    return datetime.fromtimestamp(at).strftime("%H:%M:%S")


def iso(at: float) -> str:
    """``at`` as an ISO 8601 UTC timestamp."""
    return datetime.fromtimestamp(at, timezone.utc).isoformat(timespec="milliseconds")


def verdict(o: Observation | None) -> str:
    """``OK 9000``, ``BELOW 9000 (1500, silent-drop)``, ``UNREACHABLE (no-answer)``, ``gone``."""
    if o is None:
        return "gone"
    word = o.status.value.upper()
    if o.status is Status.BELOW and o.expected_mtu is not None:
        word += f" {o.expected_mtu}"
    facts = [str(o.path_mtu)] if o.path_mtu is not None and o.status is not Status.OK else []
    if o.cause is not None and o.status is not Status.OK:
        facts.append(o.cause.value)
    if o.status is Status.OK:
        return f"{word} {o.path_mtu}" if o.path_mtu is not None else word
    return f"{word} ({', '.join(facts)})" if facts else word


def where(o: Observation) -> str:
    """Target and address, terminal-safe."""
    name = safe_text(o.target, 80)
    if o.address and o.address != o.target:
        name += f" ({safe_text(o.address, 80)})"
    return name


def change_line(c: Change) -> str:
    """One timestamped line per change, kept in the scrollback."""
    seen = c.after or c.before
    assert seen is not None
    head = f"{clock(c.at)}  {where(seen)}: "
    if c.first:
        line = head + verdict(c.after)
    else:
        mark = "FIXED " if c.fixed else "BROKE " if c.broke else ""
        line = head + f"{mark}{verdict(c.before)} -> {verdict(c.after)}"
    if c.after is not None and c.after.error:
        line += f": {safe_text(c.after.error, 200)}"
    return line


def change_dict(c: Change) -> dict[str, Any]:
    """A change as JSON."""

    def side(o: Observation | None) -> dict[str, Any] | None:
        if o is None:
            return None
        return {
            "status": o.status.value,
            "path_mtu": o.path_mtu,
            "expected_mtu": o.expected_mtu,
            "cause": o.cause.value if o.cause is not None else None,
            "error": o.error,
        }

    seen = c.after or c.before
    assert seen is not None
    return {
        "time": iso(c.at),
        "round": c.round,
        "target": seen.target,
        "address": seen.address,
        "before": side(c.before),
        "after": side(c.after),
    }


def ago(seconds: float) -> str:
    """``12 s``, ``3 min``, ``2 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def summary(tracker: Tracker, now: float) -> list[str]:
    """Every change seen, then the state of every path."""
    start = tracker.started if tracker.started is not None else now
    lines = [
        f"watched {ago(now - start)}, {tracker.rounds} round(s), {len(tracker.history)} change(s)"
    ]
    lines += [f"  {change_line(c)}" for c in tracker.history]
    for row in tracker.rows.values():
        lines.append(f"  now {where(row.now)}: {verdict(row.now)} since {clock(row.since)}")
    return lines


# --------------------------------------------------------------------------
# Outputs


@dataclass(frozen=True, slots=True)
class RoundInfo:
    """One finished round, as an output shows it."""

    number: int
    """Round number (1 = first)."""
    ended: float
    """Wall-clock time it ended."""
    elapsed_s: float
    """How long the check took."""
    tick: Tick
    """When the next round starts and whether this one ran late."""
    document: dict[str, Any] | None
    """The round's JSON document (check's, or the mesh's); None when nothing was measured."""
    error: str | None
    """Why nothing could be measured this round."""
    changes: tuple[Change, ...]
    """What changed."""
    exit_code: ExitCode
    """The verdict of this round as an exit status."""


class Output(Protocol):
    """Where a watch shows its rounds."""

    def round(self, tracker: Tracker, info: RoundInfo) -> None:
        """A round finished."""
        ...

    def finish(self, tracker: Tracker, now: float) -> None:
        """The watch ends (count reached, all ok, Ctrl-C)."""
        ...


class LiveTable:
    """The table that ``rich.live`` re-renders (so "since" keeps counting)."""

    def __init__(self, tracker: Tracker, interval_s: float, wall: Callable[[], float]):
        self.tracker = tracker
        self.interval_s = interval_s
        self.wall = wall
        self.last: RoundInfo | None = None

    def __rich__(self) -> RenderableType:
        now = self.wall()
        latest = self.tracker.latest_change
        table = Table(title="jumbopath watch", title_justify="left", header_style="bold")
        for name, justify in (
            ("target", "left"),
            ("path MTU", "right"),
            ("verdict", "left"),
            ("since", "left"),
            ("last change", "left"),
        ):
            table.add_column(name, justify=justify)  # type: ignore[arg-type]
        for row in self.tracker.rows.values():
            o = row.now
            highlight = latest is not None and row.last_change is latest
            last = "-"
            if row.last_change is not None:
                c = row.last_change
                last = f"{clock(c.at)} {verdict(c.before)} -> {verdict(c.after)}"
            table.add_row(
                Text(where(o)),  # names from outside: never read as markup
                str(o.path_mtu) if o.path_mtu is not None else "-",
                Text(verdict(o), style=STYLE[o.status]),
                f"{clock(row.since)} ({ago(now - row.since)} ago)",
                Text(last),
                style="reverse" if highlight else None,
            )
        caption = f"every {self.interval_s:g} s; Ctrl-C ends with a summary"
        if self.last is not None:
            caption = (
                f"round {self.last.number} at {clock(self.last.ended)} took "
                f"{self.last.elapsed_s:.1f} s; " + caption
            )
            if self.last.error:
                caption += f"\nnothing measured: {safe_text(self.last.error, 200)}"
        return Group(table, Text(caption, style="dim"))


class TerminalOutput:
    """A live table on a terminal (changes printed above it, into the scrollback);
    elsewhere (a pipe, a log file) only the change lines."""

    def __init__(self, console: Console, interval_s: float, wall: Callable[[], float]):
        self.console = console
        self.interval_s = interval_s
        self.wall = wall
        self.live: Live | None = None
        self.table: LiveTable | None = None

    def round(self, tracker: Tracker, info: RoundInfo) -> None:
        if self.live is None and self.console.is_terminal:
            self.table = LiveTable(tracker, self.interval_s, self.wall)
            self.live = Live(self.table, console=self.console, refresh_per_second=2)
            self.live.start()
        if self.table is not None:
            self.table.last = info
        for c in info.changes:
            self.console.print(Text(change_line(c)), soft_wrap=True)
        if info.tick.late_s > 0:
            self.console.print(
                Text(
                    f"{clock(info.ended)}  round {info.number} took {info.elapsed_s:.1f} s, "
                    f"{info.tick.late_s:.1f} s over the {self.interval_s:g} s interval: the next "
                    "starts now (rounds never overlap)",
                    style="yellow",
                ),
                soft_wrap=True,
            )
        if self.live is not None:
            self.live.refresh()

    def finish(self, tracker: Tracker, now: float) -> None:
        if self.live is not None:
            self.live.stop()
        for line in summary(tracker, now):
            self.console.print(Text(line), soft_wrap=True)


class JsonLinesOutput:
    """One JSON document per round on stdout (flushed), the summary on stderr."""

    def __init__(self, write: Callable[[str], None], err: Console):
        self.write = write
        self.err = err

    def round(self, tracker: Tracker, info: RoundInfo) -> None:
        doc = {
            "schema": 1,
            "kind": "jumbopath-watch-round",
            "round": info.number,
            "time": iso(info.ended),
            "elapsed_s": round(info.elapsed_s, 3),
            "late_s": round(info.tick.late_s, 3),
            "all_ok": tracker.all_ok,
            "exit_code": int(info.exit_code),
            "error": info.error,
            "changes": [change_dict(c) for c in info.changes],
            "report": info.document,
        }
        self.write(json.dumps(doc, separators=(",", ":")) + "\n")

    def finish(self, tracker: Tracker, now: float) -> None:
        if self.err.is_terminal:
            for line in summary(tracker, now):
                self.err.print(Text(line), soft_wrap=True)


# --------------------------------------------------------------------------
# The loop


def round_code(tracker: Tracker) -> ExitCode:
    """The exit status the latest round stands for (as ``check`` would exit)."""
    statuses = [r.now.status for r in tracker.rows.values()]
    if not statuses or Status.ERROR in statuses:
        return ExitCode.CANNOT_MEASURE
    if any(s is not Status.OK for s in statuses):
        return ExitCode.BELOW
    return ExitCode.OK


@dataclass(frozen=True, slots=True)
class Measured:
    """What one round measured: observations to track, the document to stream."""

    observations: list[Observation]
    """One per path (or mesh pair)."""
    document: dict[str, Any]
    """The round's JSON document."""


def measured_check(report: Report) -> Measured:
    """A check report as a round."""
    from jumbopath.schema import report_dict

    return Measured(observe_report(report), report_dict(report))


def watch_loop(
    run: Callable[[], Report | Measured],
    targets: Sequence[str],
    output: Output,
    *,
    interval_s: float,
    count: int | None = None,
    until_ok: bool = False,
    monotonic: Callable[[], float] = time.monotonic,
    wall: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> ExitCode:
    """Run rounds until ``count``, all ok (``until_ok``) or Ctrl-C; return the exit status.

    A round that cannot measure anything (the interface is down while a
    cable is moved) is a round of errors, not the end of the watch; bad
    input in the first round is (it would never get better).
    """
    tracker = Tracker()
    schedule = Schedule(interval_s)
    code = ExitCode.CANNOT_MEASURE
    try:
        while True:
            started = monotonic()
            document: dict[str, Any] | None = None
            error: str | None = None
            try:
                got = run()
                measured = got if isinstance(got, Measured) else measured_check(got)
                observations, document = measured.observations, measured.document
            except (CannotMeasure, UsageError) as exc:
                if isinstance(exc, UsageError) and tracker.rounds == 0:
                    raise
                error = str(exc)
                observations = not_measured([r.now for r in tracker.rows.values()], targets, error)
            ended = monotonic()
            changes = tracker.feed(observations, now=wall())
            code = round_code(tracker)
            tick = schedule.after(started, ended)
            output.round(
                tracker,
                RoundInfo(
                    tracker.rounds,
                    wall(),
                    ended - started,
                    tick,
                    document,
                    error,
                    tuple(changes),
                    code,
                ),
            )
            if until_ok and tracker.all_ok:
                break
            if count is not None and tracker.rounds >= count:
                break
            wait = tick.next_start - monotonic()
            if wait > 0:
                sleep(wait)
    except KeyboardInterrupt:
        pass
    finally:
        output.finish(tracker, wall())
    return code


@app.command("watch")
def watch_command(
    targets: list[str] = typer.Argument(
        None, help="Hosts or addresses to watch (names resolve to A and AAAA).", show_default=False
    ),
    expect: int | None = EXPECT,
    ipv4: bool = IPV4,
    ipv6: bool = IPV6,
    interval: float | None = typer.Option(
        None,
        "--interval",
        "-i",
        help="Seconds from one round's start to the next (default 2; 30 with --inventory).",
        min=0.1,
        max=86400,
        show_default=False,
    ),
    count: int | None = typer.Option(
        None, "--count", "-n", help="Stop after this many rounds.", min=1
    ),
    until_ok: bool = typer.Option(
        False, "--until-ok", help="Exit 0 as soon as every path carries the expected MTU."
    ),
    json_lines: bool = typer.Option(
        False, "--json-lines", help="One JSON document per round on stdout, for scripts."
    ),
    max_time: float = MAX_TIME,
    inventory: Path | None = typer.Option(
        None, "--inventory", help="Watch every pair of a mesh inventory (over SSH) instead."
    ),
    network: list[str] | None = typer.Option(
        None, "--network", help="With --inventory: only this network (repeatable)."
    ),
    ssh_config: Path | None = typer.Option(
        None, "--ssh-config", "-F", help="With --inventory: OpenSSH configuration file."
    ),
) -> None:
    """Re-check every --interval seconds and show each change as it happens.

    For re-cabling and switch work: a live table of every path (MTU,
    verdict, since when, the last change highlighted), one timestamped line
    per change, and a summary of every change at the end (Ctrl-C).
    Exit status: that of the last round (0 with --until-ok once all is ok).
    """
    run: Callable[[], Report | Measured]
    if inventory is not None:
        if targets or expect is not None or ipv4 or ipv6:
            raise UsageError(
                "--inventory watches the inventory's pairs at its networks' MTUs: "
                "drop the targets, --expect, -4 and -6"
            )
        run, names = _mesh_round(inventory, network or [], ssh_config)
        every = 30.0 if interval is None else interval
    else:
        if not targets:
            raise UsageError("no targets: give at least one host or address, or --inventory FILE")
        config = CheckConfig(
            targets=tuple(targets),
            expect=expect,
            family=family_option(ipv4, ipv6),
            max_time_s=max_time,
        )

        def run() -> Report:
            from jumbopath.pipeline import check

            return check(config)

        names = list(config.targets)
        every = 2.0 if interval is None else interval
    output: Output
    if json_lines:

        def write(text: str) -> None:
            sys.stdout.write(text)
            sys.stdout.flush()

        output = JsonLinesOutput(write, Console(stderr=True))
    else:
        console = Console()
        output = TerminalOutput(console, every, time.time)
        if console.is_terminal:
            console.print(
                f"[dim]watching {len(names)} {'host(s)' if inventory else 'target(s)'} every "
                f"{every:g} s; the first round is running...[/]"
            )
    code = watch_loop(run, names, output, interval_s=every, count=count, until_ok=until_ok)
    raise typer.Exit(int(code))


def _mesh_round(
    inventory: Path, networks: list[str], ssh_config: Path | None
) -> tuple[Callable[[], Measured], list[str]]:
    """A round of a mesh: every host checks its peers over SSH; the pairs are the paths."""
    from jumbopath.mesh.document import to_document
    from jumbopath.mesh.inventory import load_inventory
    from jumbopath.mesh.matrix import build_mesh
    from jumbopath.mesh.ssh import SshOptions, fan_out

    inv = load_inventory(inventory).only(networks)
    options = SshOptions(ssh_config=str(ssh_config) if ssh_config is not None else None)

    def run() -> Measured:
        doc = to_document(build_mesh(list(inv.networks), fan_out(inv, options)))
        return Measured(observe_mesh(doc), doc)

    return run, [h.name for h in inv.hosts]
