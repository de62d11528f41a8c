"""``watch``: the pure change tracker, the schedule, and the loop on simulated paths."""

from __future__ import annotations

import io
import json

import pytest

from jumbopath.cli.watch import (
    JsonLinesOutput,
    RoundInfo,
    change_line,
    summary,
    watch_loop,
)
from jumbopath.environment import SimulatedEnvironment
from jumbopath.errors import CannotMeasure, UsageError
from jumbopath.model import Cause, Status
from jumbopath.pipeline import CheckConfig, check
from jumbopath.probers.simulated import SimPath, SimRouter, SimSegment
from jumbopath.status import ExitCode
from jumbopath.watch import Observation, Schedule, Tracker, not_measured

A, B = "198.18.9.9", "198.18.9.10"


def obs(key: str, status: Status, mtu: int | None, cause: Cause | None = None) -> Observation:
    return Observation(key, key, key, status, mtu, 9000, cause)


OK = Status.OK
BELOW = Status.BELOW


# --------------------------------------------------------------------------
# Tracker: rounds in, changes out


def test_first_round_is_sightings_not_history() -> None:
    t = Tracker()
    changes = t.feed([obs("a", OK, 9000), obs("b", BELOW, 1500)], now=100.0)
    assert [(c.key, c.first, c.before) for c in changes] == [("a", True, None), ("b", True, None)]
    assert t.history == [] and t.rounds == 1 and t.started == 100.0
    assert not t.all_ok
    assert {k: r.since for k, r in t.rows.items()} == {"a": 100.0, "b": 100.0}


def test_unchanged_round_says_nothing_and_keeps_since() -> None:
    t = Tracker()
    t.feed([obs("a", BELOW, 1500, Cause.SILENT_DROP)], now=1.0)
    assert t.feed([obs("a", BELOW, 1500, Cause.SILENT_DROP)], now=3.0) == []
    assert t.rows["a"].since == 1.0 and t.rounds == 2


@pytest.mark.parametrize(
    ("before", "after", "fixed", "broke"),
    [
        (obs("a", BELOW, 1500), obs("a", OK, 9000), True, False),
        (obs("a", OK, 9000), obs("a", BELOW, 1500), False, True),
        (obs("a", BELOW, 1500), obs("a", BELOW, 4000), False, False),  # MTU moved
        (
            obs("a", BELOW, 1500, Cause.SILENT_DROP),
            obs("a", BELOW, 1500, Cause.ROUTER_TOO_BIG),  # same MTU, other cause
            False,
            False,
        ),
        (obs("a", OK, 9000), obs("a", Status.UNREACHABLE, None), False, True),
    ],
)
def test_a_change_is_reported_once_with_both_sides(before, after, fixed, broke) -> None:
    t = Tracker()
    t.feed([before], now=1.0)
    (change,) = t.feed([after], now=3.0)
    assert (change.before, change.after, change.at, change.round) == (before, after, 3.0, 2)
    assert (change.fixed, change.broke) == (fixed, broke)
    assert t.history == [change] and t.latest_change is change
    assert t.rows["a"].since == 3.0 and t.rows["a"].last_change is change
    assert t.feed([after], now=5.0) == []


def test_a_path_that_disappears_and_one_that_appears() -> None:
    t = Tracker()
    t.feed([obs("a", OK, 9000)], now=1.0)
    gone, new = sorted(t.feed([obs("b", OK, 9000)], now=2.0), key=lambda c: c.key)
    assert gone.after is None and gone.before is not None and gone.broke
    assert new.first and new.after is not None
    assert list(t.rows) == ["b"] and len(t.history) == 2


def test_all_ok_needs_every_path_and_at_least_one() -> None:
    t = Tracker()
    assert not t.all_ok
    t.feed([obs("a", OK, 9000), obs("b", OK, 9000)], now=1.0)
    assert t.all_ok


def test_error_text_alone_is_not_a_change() -> None:
    t = Tracker()
    t.feed(not_measured([obs("a", OK, 9000)], ["a"], "interface lab0 is down"), now=1.0)
    assert t.feed(not_measured([obs("a", OK, 9000)], ["a"], "no route"), now=2.0) == []


def test_not_measured_before_anything_was_seen_names_the_targets() -> None:
    (o,) = not_measured([], ["storage-a"], "interface down")
    assert (o.target, o.status, o.cause, o.error) == (
        "storage-a",
        Status.ERROR,
        Cause.NOT_MEASURED,
        "interface down",
    )


# --------------------------------------------------------------------------
# Schedule: rounds never overlap


@pytest.mark.parametrize(
    ("started", "ended", "next_start", "late", "skipped"),
    [
        (10.0, 10.5, 12.0, 0.0, 0),  # fits: next one interval after the start
        (10.0, 12.0, 12.0, 0.0, 0),  # exactly the interval
        (10.0, 13.0, 13.0, 1.0, 1),  # slow: next at once, said to be 1 s late
        (10.0, 17.5, 17.5, 5.5, 3),  # overran three intervals
    ],
)
def test_schedule(started, ended, next_start, late, skipped) -> None:
    tick = Schedule(2.0).after(started, ended)
    assert (tick.next_start, tick.late_s, tick.skipped) == (next_start, late, skipped)


# --------------------------------------------------------------------------
# The loop, with the real pipeline on simulated paths and a fake clock


def seg(egress: int = 9000, l2: int = 9000) -> SimSegment:
    return SimSegment(egress_mtu=egress, l2_mtu=l2)


def good() -> SimPath:
    return SimPath((seg(), seg()), (SimRouter("198.18.1.1"),))


def bad() -> SimPath:
    return SimPath((seg(), seg(l2=1500)), (SimRouter("198.18.1.1"),))


class Clock:
    """A fake clock: each check takes ``check_s``; sleeping advances time and can
    run a hook (the technician fixing the port between rounds)."""

    def __init__(self, check_s: float = 0.3) -> None:
        self.t = 1000.0
        self.check_s = check_s
        self.sleeps: list[float] = []
        self.hooks: dict[int, object] = {}

    def now(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.t += s
        hook = self.hooks.get(len(self.sleeps))
        if callable(hook):
            hook()


class Recorder:
    def __init__(self) -> None:
        self.rounds: list[RoundInfo] = []
        self.finished: list[str] = []

    def round(self, tracker: Tracker, info: RoundInfo) -> None:
        self.rounds.append(info)

    def finish(self, tracker: Tracker, now: float) -> None:
        self.finished = summary(tracker, now)


def runner(env: SimulatedEnvironment, clock: Clock, targets: tuple[str, ...]):
    def run():
        report = check(CheckConfig(targets, expect=9000), env)
        clock.t += clock.check_s
        return report

    return run


def test_until_ok_exits_0_in_the_round_after_the_fix() -> None:
    paths = {A: good(), B: bad()}
    env = SimulatedEnvironment(paths)
    clock = Clock()
    clock.hooks[2] = lambda: paths.__setitem__(B, good())  # fixed during the 2nd wait
    out = Recorder()
    code = watch_loop(
        runner(env, clock, (A, B)),
        (A, B),
        out,
        interval_s=2.0,
        until_ok=True,
        count=10,
        monotonic=clock.now,
        wall=clock.now,
        sleep=clock.sleep,
    )
    assert code is ExitCode.OK
    assert [r.exit_code for r in out.rounds] == [ExitCode.BELOW, ExitCode.BELOW, ExitCode.OK]
    (fix,) = out.rounds[2].changes
    assert fix.fixed and fix.before is not None and fix.after is not None
    assert (fix.before.path_mtu, fix.before.cause) == (1500, Cause.SILENT_DROP)
    assert (fix.after.status, fix.after.path_mtu) == (Status.OK, 9000)
    # Rounds start every interval: the waits make up the rest of each 2 s.
    assert clock.sleeps == pytest.approx([1.7, 1.7])
    assert any("FIXED BELOW 9000 (1500, silent-drop) -> OK 9000" in line for line in out.finished)


def test_count_stops_and_exits_with_the_last_verdict() -> None:
    env = SimulatedEnvironment({B: bad()})
    clock = Clock()
    out = Recorder()
    code = watch_loop(
        runner(env, clock, (B,)),
        (B,),
        out,
        interval_s=1.0,
        count=3,
        monotonic=clock.now,
        wall=clock.now,
        sleep=clock.sleep,
    )
    assert code is ExitCode.BELOW and len(out.rounds) == 3 and len(clock.sleeps) == 2
    assert out.finished[0].startswith("watched 2 s, 3 round(s), 0 change(s)")


def test_a_slow_round_is_said_and_the_next_is_not_stacked() -> None:
    env = SimulatedEnvironment({A: good()})
    clock = Clock(check_s=3.5)
    out = Recorder()
    watch_loop(
        runner(env, clock, (A,)),
        (A,),
        out,
        interval_s=2.0,
        count=2,
        monotonic=clock.now,
        wall=clock.now,
        sleep=clock.sleep,
    )
    assert out.rounds[0].tick.late_s == pytest.approx(1.5)
    assert clock.sleeps == []  # straight into the next round, one at a time


def test_a_round_that_cannot_measure_keeps_watching() -> None:
    env = SimulatedEnvironment({A: good()})
    clock = Clock()
    calls = [0]

    def run():
        calls[0] += 1
        clock.t += 0.1
        if calls[0] == 2:
            raise CannotMeasure("interface lab0 is down: bring it up (ip link set lab0 up)")
        return check(CheckConfig((A,), expect=9000), env)

    out = Recorder()
    code = watch_loop(
        run,
        (A,),
        out,
        interval_s=1.0,
        count=3,
        monotonic=clock.now,
        wall=clock.now,
        sleep=clock.sleep,
    )
    assert code is ExitCode.OK
    assert [r.exit_code for r in out.rounds] == [0, 3, 0]
    (down,) = out.rounds[1].changes
    assert down.after is not None and down.after.cause is Cause.NOT_MEASURED
    assert "interface lab0 is down" in change_line(down)


def test_bad_input_in_the_first_round_is_not_watched() -> None:
    env = SimulatedEnvironment({})
    with pytest.raises(UsageError):
        watch_loop(
            lambda: check(CheckConfig(("no-such-name",)), env),
            ("no-such-name",),
            Recorder(),
            interval_s=1.0,
            count=2,
            sleep=lambda s: None,
        )


def test_ctrl_c_ends_with_the_summary() -> None:
    paths = {A: bad()}
    env = SimulatedEnvironment(paths)
    clock = Clock()
    clock.hooks[1] = lambda: paths.__setitem__(A, good())

    def interrupt() -> None:
        raise KeyboardInterrupt

    clock.hooks[2] = interrupt
    out = Recorder()
    code = watch_loop(
        runner(env, clock, (A,)),
        (A,),
        out,
        interval_s=1.0,
        monotonic=clock.now,
        wall=clock.now,
        sleep=clock.sleep,
    )
    assert code is ExitCode.OK  # the last round's verdict
    assert out.finished[0].startswith("watched ") and "1 change(s)" in out.finished[0]
    assert "FIXED" in out.finished[1] and out.finished[2].startswith("  now ")


def test_json_lines_one_document_per_round() -> None:
    paths = {A: bad()}
    env = SimulatedEnvironment(paths)
    clock = Clock()
    clock.hooks[1] = lambda: paths.__setitem__(A, good())
    lines: list[str] = []
    from rich.console import Console

    out = JsonLinesOutput(lines.append, Console(file=io.StringIO()))
    watch_loop(
        runner(env, clock, (A,)),
        (A,),
        out,
        interval_s=1.0,
        until_ok=True,
        monotonic=clock.now,
        wall=clock.now,
        sleep=clock.sleep,
    )
    docs = [json.loads(line) for line in lines]
    assert all(line.endswith("\n") and line.count("\n") == 1 for line in lines)
    assert [d["round"] for d in docs] == [1, 2]
    assert [d["exit_code"] for d in docs] == [1, 0] and docs[-1]["all_ok"] is True
    (change,) = docs[1]["changes"]
    assert change["before"]["cause"] == "silent-drop" and change["after"]["status"] == "ok"
    assert docs[1]["report"]["results"][0]["path_mtu"] == 9000


# --------------------------------------------------------------------------
# A mesh: the pairs of the mesh document are the paths


def test_mesh_pairs_are_tracked_from_the_document() -> None:
    from test_mesh_helpers import mesh_of

    from jumbopath.cli.watch import Measured
    from jumbopath.mesh.document import to_document
    from jumbopath.mesh.runs import ErrorKind, HostError
    from jumbopath.watch import observe_mesh

    hosts = ["h1", "h2", "h3"]
    docs = [
        to_document(mesh_of(hosts, cells={("h1", "h3"): ("below", 1500)})),
        to_document(
            mesh_of(hosts, down={"h2": HostError(ErrorKind.CONNECT_TIMEOUT, "ssh timed out")})
        ),
        to_document(mesh_of(hosts)),
    ]
    first = observe_mesh(docs[0])
    assert len(first) == 6
    bad = next(o for o in first if o.key == "storage|h1|h3")
    assert (bad.status, bad.path_mtu, bad.expected_mtu) == (Status.BELOW, 1500, 9000)
    assert bad.target == "storage: h1 -> h3"
    clock = Clock()
    feed = iter(docs)
    out = Recorder()
    code = watch_loop(
        lambda: (lambda d: Measured(observe_mesh(d), d))(next(feed)),
        hosts,
        out,
        interval_s=30.0,
        until_ok=True,
        monotonic=clock.now,
        wall=clock.now,
        sleep=clock.sleep,
    )
    assert code is ExitCode.OK and len(out.rounds) == 3
    second = {c.key: c for c in out.rounds[1].changes}
    # h1 -> h3 got better, h2's own two pairs could not be measured (h2 down)
    assert second["storage|h1|h3"].fixed
    assert {k for k, c in second.items() if c.after and c.after.cause is Cause.NOT_MEASURED} == {
        "storage|h2|h1",
        "storage|h2|h3",
    }
    assert all(c.fixed for c in out.rounds[2].changes) and len(out.rounds[2].changes) == 2


# --------------------------------------------------------------------------
# What a terminal shows


def test_the_live_table_and_the_change_lines() -> None:
    from rich.console import Console

    from jumbopath.cli.watch import TerminalOutput

    paths = {A: bad()}
    env = SimulatedEnvironment(paths)
    clock = Clock(check_s=2.5)  # every round overruns the 2 s interval
    check_round = runner(env, clock, (A,))

    def run():
        report = check_round()
        paths[A] = good()  # fixed while the first round was being shown
        return report

    console = Console(record=True, width=160, force_terminal=True, file=io.StringIO())
    out = TerminalOutput(console, 2.0, clock.now)
    watch_loop(
        run,
        (A,),
        out,
        interval_s=2.0,
        count=2,
        monotonic=clock.now,
        wall=clock.now,
        sleep=clock.sleep,
    )
    text = console.export_text()
    assert "jumbopath watch" in text and "last change" in text  # the live table
    assert f"{A}: BELOW 9000 (1500, silent-drop)" in text
    assert f"{A}: FIXED BELOW 9000 (1500, silent-drop) -> OK 9000" in text
    assert "round 1 took 2.5 s, 0.5 s over the 2 s interval" in text
    assert "watched 2 s, 2 round(s), 1 change(s)" in text
    assert clock.sleeps == []  # rounds ran back to back, one at a time  # the summary


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["watch"], "no targets"),
        (["watch", "--inventory", "x.yml", "198.18.1.1"], "drop the targets"),
        (["watch", "--interval", "0", "198.18.1.1"], "--interval"),
    ],
)
def test_watch_bad_input(args: list[str], words: str) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "jumbopath", *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert words in done.stderr and len(done.stderr.strip().splitlines()) == 1
