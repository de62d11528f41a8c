"""The system-ping prober end to end without a network: a stand-in ``ping`` prints
real iputils outputs (tests/unit/data/ping/) as a path with a 1500-byte hop
would, and a whole ``check`` runs through the real batch command and parsers."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

import pytest

from jumbopath.egress import Egress
from jumbopath.environment import SimulatedEnvironment
from jumbopath.errors import CannotMeasure
from jumbopath.model import ProbeRequest, Protocol
from jumbopath.pathstate import CheckConfig
from jumbopath.pipeline import check
from jumbopath.probers.base import Prober, Target
from jumbopath.probers.pingparse import Flavour
from jumbopath.probers.systemping import (
    PingTool,
    SystemPingProber,
    posix_batch,
    powershell_batch,
    probe_argv,
)

DATA = Path(__file__).parent / "data" / "ping" / "linux-iputils"
TARGET = "198.18.2.2"


def fake_ping(tmp: Path, behaviour: str) -> str:
    """A ``ping`` that answers like iputils on a path whose MTU is 1500.

    ``ptb``: a router reports "Frag needed" above 1500; ``silent``: nothing
    comes back above 1500 (after the -W wait, shortened here).
    """

    def body(name: str) -> str:
        text = (DATA / name).read_text()
        return "".join(x for x in text.splitlines(keepends=True) if not x.startswith("# "))

    big = body("frag-needed-v4.txt") if behaviour == "ptb" else body("timeout-v4.txt")
    script = tmp / "ping"
    script.write_text(
        "#!/bin/sh\n"
        'size=0; while [ $# -gt 1 ]; do [ "$1" = -s ] && size=$2; shift; done\n'
        'if [ "$size" -gt 1472 ]; then\n'
        + ("  sleep 0.3\n" if behaviour == "silent" else "")
        + f"  cat <<'EOF'\n{big}EOF\n  exit 1\nfi\n"
        f"cat <<'EOF'\n{body('reply-v4.txt')}EOF\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


class PingEnvironment(SimulatedEnvironment):
    """Routes and names from data; probes through the system-ping prober."""

    tool: PingTool

    def prober(self) -> Prober:
        return SystemPingProber(self.tool)


def env_with(tool: PingTool) -> PingEnvironment:
    env = PingEnvironment(
        paths={},
        routes={TARGET: Egress("198.18.0.1", "lab0", 9000, 9000)},
    )
    env.tool = tool
    return env


@pytest.mark.parametrize(("behaviour", "evidence"), [("ptb", "too-big"), ("silent", "lost")])
def test_check_through_the_system_ping(tmp_path: Path, behaviour: str, evidence: str) -> None:
    env = env_with(PingTool(Flavour.IPUTILS, fake_ping(tmp_path, behaviour)))
    report = check(CheckConfig((TARGET,), expect=9000, max_time_s=5.0, flows=32, soak=0), env)
    (r,) = report.results
    assert (r.status.value, r.path_mtu) == ("below", 1500)
    assert evidence in {e.outcome for e in r.evidence}
    codes = {(n.code, n.fact("stage")) for n in r.notes}
    assert ("prober-limit", "flows") in codes
    # A router's "too big" says forward; silence needs the one-way (UDP) test ping lacks.
    assert (("prober-limit", "direction") in codes) is (behaviour == "silent")
    assert (r.direction is not None) is (behaviour == "ptb")


def test_one_command_per_round_and_udp_refused(tmp_path: Path) -> None:
    prober = SystemPingProber(PingTool(Flavour.IPUTILS, fake_ping(tmp_path, "ptb")))
    target = Target(TARGET, TARGET, 4)
    try:
        tokens = [prober.send(target, ProbeRequest(k, 1000 + k)) for k in range(5)]
        got: dict[int, object] = {}
        for _ in range(100):
            got.update(prober.receive(0.1))
            if len(got) == 5:
                break
        assert set(got) == set(tokens) and prober.commands == 1
        with pytest.raises(CannotMeasure, match="ICMP echo only"):
            prober.send(target, ProbeRequest(9, 1000, protocol=Protocol.UDP))
    finally:
        prober.close()


def test_busybox_is_refused_with_what_to_install() -> None:
    with pytest.raises(CannotMeasure, match="iputils-ping"):
        SystemPingProber(PingTool(Flavour.BUSYBOX))


T4, T6 = Target("a", "198.18.2.2", 4), Target("b", "2001:db8:2::2", 6)


@pytest.mark.parametrize(
    ("tool", "target", "ttl", "argv"),
    [
        (PingTool(Flavour.IPUTILS), T4, 3, "ping -n -4 -M do -s 8972 -c 1 -W 1 -t 3 198.18.2.2"),
        (PingTool(Flavour.IPUTILS), T6, None, "ping -n -6 -M do -s 8952 -c 1 -W 1 2001:db8:2::2"),
        (
            PingTool(Flavour.ESXI, "vmkping", "vmk1", "vmotion"),
            T4,
            None,
            "vmkping -d -s 8972 -c 1 -W 1 -I vmk1 -S vmotion 198.18.2.2",
        ),
        (PingTool(Flavour.MACOS), T4, 2, "ping -n -D -s 8972 -c 1 -W 1000 -m 2 198.18.2.2"),
        (PingTool(Flavour.WINDOWS_PING), T4, 2, "ping -4 -n 1 -w 1000 -l 8972 -f -i 2 198.18.2.2"),
    ],
)
def test_command_lines(tool: PingTool, target: Target, ttl: int | None, argv: str) -> None:
    assert " ".join(probe_argv(tool, target, ProbeRequest(0, 9000, ttl=ttl))) == argv


def test_batches_are_one_command() -> None:
    sh = posix_batch([(1, ["ping", "-c", "1", "198.18.2.2"]), (2, ["ping", "x;y"])])
    assert sh[:2] == ["sh", "-c"] and sh[2].endswith("wait")
    assert "LC_ALL=C ping 'x;y' 2>&1 | t 2 &" in sh[2]
    ps: Sequence[str] = powershell_batch([(7, T4, ProbeRequest(0, 9000, ttl=5))])
    assert ps[0] == "powershell" and "@(7,'198.18.2.2',8972,5)" in ps[-1]
    assert "PingOptions($p[3],$true)" in ps[-1] and "SendPingAsync" in ps[-1]


def test_close_ends_every_ping(tmp_path: Path) -> None:
    prober = SystemPingProber(PingTool(Flavour.IPUTILS, fake_ping(tmp_path, "silent")))
    prober.send(Target(TARGET, TARGET, 4), ProbeRequest(0, 9000))
    prober.receive(0.0)
    pids = [b.process.pid for b in prober._batches]
    prober.close()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_windows_without_powershell_falls_back_to_ping_exe(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows cannot run here: the choice is tested with the platform and PATH stated."""
    from jumbopath.probers import systemping

    monkeypatch.setattr(systemping.sys, "platform", "win32")
    monkeypatch.setattr(systemping.shutil, "which", lambda name: None)
    assert systemping.detect_local().flavour is Flavour.WINDOWS_PING
    monkeypatch.setattr(systemping.shutil, "which", lambda name: "C:/Windows/" + name + ".exe")
    assert systemping.detect_local() == PingTool(Flavour.WINDOWS, "powershell")
