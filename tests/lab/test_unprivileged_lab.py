"""Without root: the installed command, run as ``nobody``, gives the verdicts root gets.

Inside the lab's ``src`` namespace only, ``net.ipv4.ping_group_range`` lets
every group open ICMP ping sockets (the sysctl is per namespace: the host's
stays as it is). The command is the installed one (the ``jumbopath`` script
beside this interpreter, run by ``nobody``), importing this checkout's code.
The same lab as ``test_check_lab`` (see its picture).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_check_lab import CASES, multi

from jumbopath.lab import Lab

REPO = Path(__file__).resolve().parents[2]
INSTALLED = Path(sys.executable).parent / "jumbopath"
NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
COMMAND = [str(INSTALLED)]
#: The verdict, as data: what must not depend on the privileges.
SAME = ("status", "path_mtu", "cause", "direction", "unreachable", "max_icmp_payload")


def _readable_by_nobody(path: Path) -> bool:
    probe = [*NOBODY, "test", "-r", str(path)]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


@pytest.fixture(scope="module", autouse=True)
def _installed() -> Iterator[None]:
    """The installed command, as another user runs it.

    A checkout inside a private folder (a CI clone under /root) is out of
    nobody's reach whatever the interpreter: then the installed venv and this
    checkout's code are copied to a world-readable folder and run from there
    (the interpreter is still the venv's, so a Python under /root still fails).
    """
    global COMMAND, ENV
    if _readable_by_nobody(REPO / "jumbopath" / "__init__.py"):
        yield
        return
    place = Path(tempfile.mkdtemp(prefix="jumbopath-installed-", dir="/tmp"))
    try:
        shutil.copytree(Path(sys.prefix), place / "venv", symlinks=True)
        shutil.copytree(REPO / "jumbopath", place / "src" / "jumbopath")
        for path in [place, *place.rglob("*")]:
            if not path.is_symlink():
                extra = 0o555 if path.is_dir() else 0o444
                path.chmod(path.stat().st_mode | extra)
        COMMAND = [str(place / "venv" / "bin" / "python"), "-m", "jumbopath"]
        ENV = {**os.environ, "PYTHONPATH": str(place / "src")}
        yield
    finally:
        shutil.rmtree(place, ignore_errors=True)


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with Lab(multi()) as built:
        built.run("src", ["sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647"], check=True)
        yield built


def as_nobody(lab: Lab, node: str, *args: str) -> subprocess.CompletedProcess[str]:
    return lab.run(node, [*NOBODY, *COMMAND, *args], env=ENV, timeout=60)


def as_root(lab: Lab, node: str, *args: str) -> subprocess.CompletedProcess[str]:
    return lab.run(node, [sys.executable, "-m", "jumbopath", *args], cwd=REPO, timeout=60)


def result(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode in (0, 1, 3) and done.stdout, done.stderr
    doc = json.loads(done.stdout)
    assert len(doc["results"]) == 1
    r: dict[str, Any] = doc["results"][0]
    return r


def verdict(r: dict[str, Any]) -> dict[str, Any]:
    brk = r.get("break") or {}
    return {
        **{k: r.get(k) for k in SAME},
        "break": {k: brk.get(k) for k in ("kind", "after", "before", "mtu", "cause")},
    }


#: Where each target's break is, from the topology (test_check_lab's picture):
#: (the node and the peer naming its address) for the break's ``after`` and ``before``.
#: ``after`` is the last hop big packets reach, named by its address toward the prober.
BREAKS: dict[str, tuple[tuple[str, str | None], tuple[str, str | None]] | None] = {
    "a": None,
    "b": (("r1", "sw0"), ("b", None)),  # sw-b's port toward b drops: silent after r1
    "c": (("r1", "sw0"), ("c", None)),  # r1's egress toward sw-c is 1500: r1 says too big
    "e": (("r1", "sw0"), ("e", None)),  # e's NIC at 1500
    "g": (("r1", "sw0"), ("r2", "r1")),  # the r1-r2 link at 8950: r1 says too big
    "d": (("r3", "r1"), ("d", None)),  # r3 sends no too-big: silent after r3
}


def truth(lab: Lab, node: str, family: int) -> tuple[str | None, str | None]:
    """The break's (after, before) addresses the lab was built with."""
    where = BREAKS[node]
    if where is None:
        return None, None
    (after, toward), (before, peer) = where
    return lab.addr(after, family, peer=toward), lab.addr(before, family, peer=peer)


def test_the_installed_command_runs_for_another_user(lab: Lab) -> None:
    """install.sh builds the venv on the system's Python: any user can run the command."""
    done = lab.run("src", [*NOBODY, *COMMAND, "--help"], env=ENV)
    assert done.returncode == 0, (
        f"{COMMAND[0]} does not run for other users ({done.stderr.strip()}): its interpreter "
        "must be the system's Python (install.sh uses /usr/bin/python3)"
    )
    uid = lab.run("src", [*NOBODY, "id", "-u"]).stdout.strip()
    assert uid != "0"


@pytest.mark.parametrize("command", ["check", "trace"])
@pytest.mark.parametrize(("node", "family", "status", "mtu", "outcome"), CASES)
def test_same_verdict_as_root(
    lab: Lab, command: str, node: str, family: int, status: str, mtu: int, outcome: str
) -> None:
    args = [command, "--json", "--expect", "9000", lab.addr(node, family)]
    mine = result(as_nobody(lab, "src", *args))
    root = result(as_root(lab, "src", *args, "--via", "raw"))
    assert verdict(mine) == verdict(root), (mine, root)
    brk = root.get("break") or {}
    assert (brk.get("after"), brk.get("before")) == truth(lab, node, family), root
    assert (mine["status"], mine["path_mtu"]) == (status, mtu)
    assert outcome in {e["outcome"] for e in mine["evidence"]}
    if command == "trace":
        # Back-to-back runs share the routers' ICMP rate limits: a hop may stay
        # quiet in one run; where both runs heard it, it is the same router.
        theirs = {h["ttl"]: h["address"] for h in root["hops"]}
        assert all(
            h["address"] == theirs[h["ttl"]]
            for h in mine["hops"]
            if h["address"] and theirs.get(h["ttl"])
        )
        assert mine["hops"][-1]["address"] == root["hops"][-1]["address"]
    # Flows over TCP need raw sockets: skipped, and said so.
    codes = {(n["code"], n.get("stage")) for n in mine["remarks"]}
    assert ("prober-limit", "flows") in codes


def test_forged_and_cached_paths_measure_as_root(lab: Lab) -> None:
    """After a PTB the kernel caches 1500 for c: ping sockets ignore the cache too."""
    dst = lab.addr("c", 4)
    lab.run("src", ["ping", "-c1", "-W1", "-M", "do", "-s", "8972", dst])
    assert "mtu 1500" in lab.run("src", ["ip", "route", "get", dst]).stdout
    r = result(as_nobody(lab, "src", "check", "--json", "--expect", "9000", dst))
    assert r["path_mtu"] == 1500 and "too-big" in {e["outcome"] for e in r["evidence"]}


def test_echo_filtered_host_falls_back_to_udp_and_says_why(lab: Lab) -> None:
    """f drops echo. Without raw sockets there is no TCP: auto goes straight to UDP,
    whose answers (f's port unreachables) f rate-limits; it still proves 9000."""
    mine = result(as_nobody(lab, "src", "check", "--json", "--expect", "9000", lab.addr("f", 4)))
    assert (mine["status"], mine["path_mtu"], mine["protocol"]) == ("ok", 9000, "udp")
    codes = [(n["code"], n.get("stage"), n.get("protocol")) for n in mine["remarks"]]
    assert ("prober-limit", "fallback", "tcp") in codes


def test_tcp_probes_without_raw_sockets_exit_3_with_the_fixes(lab: Lab) -> None:
    done = as_nobody(lab, "src", "check", "--probe", "tcp", lab.addr("a", 4))
    assert done.returncode == 3, done.stderr
    line = done.stderr.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    assert "TCP probes need raw sockets" in line and "cap_net_raw+ep" in line


def test_neither_raw_nor_ping_sockets_exits_3_with_every_fix(lab: Lab) -> None:
    """evil's namespace keeps the default ping_group_range ("1 0": nobody may)."""
    rng = lab.run("evil", ["sysctl", "-n", "net.ipv4.ping_group_range"]).stdout.split()
    assert int(rng[0]) > int(rng[1])
    done = as_nobody(lab, "evil", "check", lab.addr("a", 4))
    assert done.returncode == 3, done.stderr
    line = done.stderr.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    for fix in ("net.ipv4.ping_group_range=", "setcap cap_net_raw+ep", "sudo", "--via ping"):
        assert fix in line, line


# --------------------------------------------------------------------------
# --via ping: the system's iputils ping, run by nobody


@pytest.mark.parametrize("command", ["check", "trace"])
@pytest.mark.parametrize(("node", "family", "status", "mtu", "outcome"), CASES)
def test_via_system_ping_same_verdict_as_root(
    lab: Lab, command: str, node: str, family: int, status: str, mtu: int, outcome: str
) -> None:
    """iputils ping -M do obeys the kernel's path MTU cache: each run starts from a
    flushed cache, as a fresh host would (a router's report within the run is kept)."""
    args = [command, "--json", "--expect", "9000", lab.addr(node, family)]
    lab.flush_pmtu("src")
    mine = result(as_nobody(lab, "src", *args, "--via", "ping"))
    lab.flush_pmtu("src")
    root = result(as_root(lab, "src", *args, "--via", "raw"))
    ours, theirs = verdict(mine), verdict(root)
    after, before = truth(lab, node, family)
    # Raw sockets place the break exactly. The system's ping places it too, but a
    # hop that stays quiet under its ICMP rate limit leaves a router "before" unknown
    # (a target "before" is the target itself, always known).
    assert (theirs["break"]["after"], theirs["break"]["before"]) == (after, before), root
    known = {before} if before == lab.addr(node, family) else {before, None}
    assert ours["break"]["after"] == after and ours["break"]["before"] in known, mine
    ours["break"]["before"] = theirs["break"]["before"]
    same = {k: v for k, v in ours.items() if k != "direction"}
    assert same == {k: v for k, v in theirs.items() if k != "direction"}, (mine, root)
    assert (mine["status"], mine["path_mtu"]) == (status, mtu)
    # A silent drop's direction needs the one-way (UDP) test, which ping cannot send.
    assert mine["direction"] in (root["direction"], None)
    if outcome != "lost":
        assert outcome in {e["outcome"] for e in mine["evidence"]}


def test_via_system_ping_silent_drop_is_exact_within_5_s(lab: Lab) -> None:
    import time

    lab.flush_pmtu("src")
    start = time.monotonic()
    r = result(
        as_nobody(
            lab, "src", "check", "--json", "--expect", "9000", lab.addr("b", 4), "--via", "ping"
        )
    )
    assert time.monotonic() - start < 5.0
    assert (r["status"], r["path_mtu"], r["cause"]) == ("below", 1500, "silent-drop")


@pytest.mark.parametrize("via", ["auto", "ping"])
def test_local_nic_at_1500_without_root(via: str) -> None:
    """This host's own NIC is the limit: ping sockets and the system's ping say so."""
    from jumbopath.lab import chain

    with Lab(chain(0, mtus={("src", "sw"): 1500})) as small:
        small.run("src", ["sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647"], check=True)
        r = result(
            as_nobody(
                small,
                "src",
                "check",
                "--json",
                "--expect",
                "9000",
                "--via",
                via,
                small.addr("dst", 4),
            )
        )
    assert (r["status"], r["path_mtu"], r["cause"]) == ("below", 1500, "local-interface-mtu")
    assert r["break"]["kind"] == "local-nic"
    # The system's ping says "message too long" only after the search has moved on
    # (the refusal is believed when it repeats): no refusal in the evidence, so
    # the direction needs the one-way test, which ping cannot send.
    assert r["direction"] in (("forward", None) if via == "ping" else ("forward",))
