"""The system-ping prober when its commands start late, are refused or pile up.

Over SSH on a loaded host a round's command can start seconds after it was
planned, an sshd refuses channels past ``MaxSessions``, and a dropped login
prints ssh's complaint instead of the pings' output. None of that may become
evidence about the path: only the ping's own report is. A stand-in ``ping``
(a shell script) answers every size up to 9000 bytes, as a path carrying
9000 would; the runners below delay or refuse the real batch command.
"""

from __future__ import annotations

import stat
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from jumbopath.egress import Egress
from jumbopath.engine import Job, drive
from jumbopath.environment import SimulatedEnvironment
from jumbopath.errors import CannotMeasure
from jumbopath.model import Lost, Outcome, ProbeRequest, Reply, Status
from jumbopath.pathstate import CheckConfig
from jumbopath.pipeline import check
from jumbopath.probers import systemping
from jumbopath.probers.base import Prober, Target, silence_floor_s
from jumbopath.probers.pingparse import Flavour
from jumbopath.probers.systemping import PingTool, Runner, SystemPingProber, local_runner
from jumbopath.soak import Soak, paced

TARGET = "198.18.2.2"
T = Target(TARGET, TARGET, 4)
REPLY = (
    "PING {a} ({a}) {s}({t}) bytes of data.\n"
    "{r} bytes from {a}: icmp_seq=1 ttl=64 time=0.050 ms\n\n"
    "--- {a} ping statistics ---\n"
    "1 packets transmitted, 1 received, 0% packet loss, time 0ms\n"
)
REFUSED = "mux_client_request_session: session request failed: Session open refused by peer"


def jumbo_ping(tmp: Path, delay_s: float = 0.0) -> str:
    """A ``ping`` on a path that carries 9000: every size up to it is answered."""
    script = tmp / "ping"
    body = REPLY.format(a=TARGET, s="$size", t="$((size + 28))", r="$((size + 8))")
    script.write_text(
        "#!/bin/sh\n"
        'size=0; while [ $# -gt 1 ]; do [ "$1" = -s ] && size=$2; shift; done\n'
        + (f"sleep {delay_s}\n" if delay_s else "")
        + f"cat <<EOF\n{body}EOF\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def late_when(payload: str, delay_s: float) -> Runner:
    """Runs each round here; a round holding a ``payload``-byte probe starts
    ``delay_s`` late (a channel opening, a login shell, a loaded host)."""

    def run(argv: Sequence[str]) -> subprocess.Popen[bytes]:
        if f"-s {payload} " in argv[-1]:
            return local_runner(["sh", "-c", f'sleep {delay_s}; exec "$@"', "sh", *argv])
        return local_runner(argv)

    return run


def refusing(argv: Sequence[str]) -> subprocess.Popen[bytes]:
    """What ssh prints when the server refuses the session channel (or drops the login)."""
    return local_runner(["sh", "-c", f'echo "{REFUSED}" >&2; exit 255'])


class LateEnvironment(SimulatedEnvironment):
    """Routes from data; probes through the system ping with the runner given."""

    tool: PingTool
    runner: Runner

    def prober(self) -> Prober:
        return SystemPingProber(self.tool, self.runner)


def env_with(tool: PingTool, runner: Runner) -> LateEnvironment:
    env = LateEnvironment(paths={}, routes={TARGET: Egress("198.18.0.1", "lab0", 9000, 9000)})
    env.tool, env.runner = tool, runner
    return env


def drain(prober: SystemPingProber, tokens: set[int], limit_s: float) -> dict[int, Outcome]:
    """Outcomes of ``tokens`` (voided ones left out) within ``limit_s``."""
    got: dict[int, Outcome] = {}
    voided: set[int] = set()
    end = time.monotonic() + limit_s
    while time.monotonic() < end and not tokens <= set(got) | voided:
        got.update(prober.receive(0.05))
        voided.update(prober.take_voided())
    return got


def test_a_round_that_starts_late_is_not_read_as_loss(tmp_path: Path) -> None:
    """The rounds holding the 9000-byte probe start 1.5 s late (longer than such a
    round used to be given): the path still carries 9000, not 8999."""
    tool = PingTool(Flavour.IPUTILS, jumbo_ping(tmp_path))
    env = env_with(tool, late_when("8972", 1.5))
    report = check(CheckConfig((TARGET,), expect=9000, max_time_s=10.0, soak=0), env)
    (r,) = report.results
    assert (r.status, r.path_mtu) == (Status.OK, 9000)
    assert "lost" not in {e.outcome for e in r.evidence}


def test_silence_never_counts_before_the_prober_gives_up() -> None:
    prober = SystemPingProber(PingTool(Flavour.IPUTILS), give_up_s=3.0)
    assert silence_floor_s(prober) > prober.give_up_s >= 3.0


def test_a_command_that_never_starts_is_void_not_lost(tmp_path: Path) -> None:
    tool = PingTool(Flavour.IPUTILS, jumbo_ping(tmp_path))
    prober = SystemPingProber(tool, late_when("1472", 30.0), give_up_s=1.0)
    try:
        token = prober.send(T, ProbeRequest(0, 1500))
        assert isinstance(token, int)
        got: dict[int, Outcome] = {}
        voided: list[int] = []
        start = time.monotonic()
        while not voided and time.monotonic() - start < 10:
            got.update(prober.receive(0.1))
            voided += prober.take_voided()
        assert voided == [token] and got == {}
        assert time.monotonic() - start < silence_floor_s(prober)
        assert not prober._batches  # its command was ended
    finally:
        prober.close()


def test_commands_at_once_are_capped_and_later_rounds_leave_together(tmp_path: Path) -> None:
    """At most two commands at once (sshd refuses sessions past MaxSessions): the
    rounds planned meanwhile wait, then leave as one command, and all are told."""
    tool = PingTool(Flavour.IPUTILS, jumbo_ping(tmp_path, delay_s=0.4))
    prober = SystemPingProber(tool, max_commands=2)
    try:
        tokens = set()
        for k in range(5):
            token = prober.send(T, ProbeRequest(k, 1000 + k))
            assert isinstance(token, int)
            tokens.add(token)
            prober.receive(0.0)
            assert len(prober._batches) <= 2
        assert prober.commands == 2
        got = drain(prober, tokens, 10.0)
        assert set(got) == tokens and all(isinstance(o, Reply) for o in got.values())
        assert prober.commands == 3  # the three waiting rounds left together
    finally:
        prober.close()


def test_refused_commands_are_void_retried_with_a_pause_then_unmeasured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(systemping, "RETRY_S", 0.1)
    prober = SystemPingProber(PingTool(Flavour.IPUTILS), refusing)
    starts: list[float] = []
    try:
        with pytest.raises(CannotMeasure) as caught:
            for _ in range(systemping.MAX_FAILED_COMMANDS):
                token = prober.send(T, ProbeRequest(0, 1500))
                assert isinstance(token, int)
                before = prober.commands
                voided: list[int] = []
                end = time.monotonic() + 10
                while not voided and time.monotonic() < end:
                    outcomes = prober.receive(0.05)
                    assert not [o for _, o in outcomes if isinstance(o, Lost)]
                    if prober.commands > before and len(starts) < prober.commands:
                        starts.append(time.monotonic())
                    voided += prober.take_voided()
                assert voided == [token]
        assert REFUSED in str(caught.value)
        assert prober.commands == systemping.MAX_FAILED_COMMANDS
        gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
        # The pause grows with each refusal: 0.1 s, 0.2 s, ... (bounded).
        assert all(gap >= 0.1 * (i + 1) - 0.02 for i, gap in enumerate(gaps)), gaps
    finally:
        prober.close()


def test_a_refusal_then_a_working_channel_measures_the_path(tmp_path: Path) -> None:
    """The first two rounds are refused; the retry measures 9000 all the same."""
    tool = PingTool(Flavour.IPUTILS, jumbo_ping(tmp_path))
    calls = {"n": 0}

    def flaky(argv: Sequence[str]) -> subprocess.Popen[bytes]:
        calls["n"] += 1
        return refusing(argv) if calls["n"] <= 2 else local_runner(argv)

    report = check(
        CheckConfig((TARGET,), expect=9000, max_time_s=10.0, soak=0), env_with(tool, flaky)
    )
    (r,) = report.results
    assert (r.status, r.path_mtu) == (Status.OK, 9000)


def test_a_soak_probe_given_up_is_neither_sent_nor_lost(tmp_path: Path) -> None:
    """The soak's rounds never start: their probes are void, not lost, so a loaded
    host cannot make a path look degraded, and the soak does not wait them out."""
    tool = PingTool(Flavour.IPUTILS, jumbo_ping(tmp_path))
    prober = SystemPingProber(tool, late_when("8972", 30.0), give_up_s=1.0)
    soak = Soak(paced(4, 9000, 5, silence_floor_s(prober)))
    try:
        drive(prober, [Job(T, soak)], max_time_s=soak.config.max_time_s + 0.5)
        found = soak.abandon(prober.now())
    finally:
        prober.close()
    loss = found.loss
    assert (loss.big_sent, loss.big_lost, loss.small_sent, loss.small_lost) == (0, 0, 0, 0)
    assert not loss.degraded
