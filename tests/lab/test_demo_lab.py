"""``jumbopath demo`` on the real demo lab, and a lab whose fault is not the one claimed."""

from __future__ import annotations

import json
import subprocess
import sys

from jumbopath.lab import Lab, demo
from jumbopath.lab.claim import claims, demo_run, judge

JP = [sys.executable, "-m", "jumbopath"]


def test_demo_finds_the_fault_it_was_built_with() -> None:
    done = subprocess.run([*JP, "demo"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "jumbopath check: expected MTU 9000" in out  # check's own table is shown
    assert "stor-b (198.18.2.3): path MTU 1500, at sw2's port toward stor-b" in out  # built
    assert "stor-b (198.18.2.3): below, path MTU 1500, silent break between r1" in out  # found
    assert "stor-a (198.18.2.2): ok, path MTU 9000" in out
    assert "demo: jumbopath found the fault the lab was built with" in out


def test_a_lab_built_with_another_fault_than_claimed_is_caught() -> None:
    """The lab has stor-c's port at 1500; the demo's claim (stor-b's) must not match."""
    prober, targets, expected = demo_run(demo())
    built = demo().with_mtu("sw2", "stor-b", 9000).with_mtu("sw2", "stor-c", 1500)
    with Lab(built) as lab:
        addresses = [lab.addr(t, 4) for t in targets]
        argv = [*JP, "check", "--json", "--expect", str(expected), *addresses]
        done = lab.run(prober, argv, timeout=60)
    assert done.returncode == 1, done.stderr
    document = json.loads(done.stdout)

    wrong = judge(claims(demo(), prober, targets), expected, document)
    assert not wrong.ok
    text = "\n".join(wrong.differences)
    assert "stor-b (198.18.2.3): built below 9000 (path MTU 1500), but check says ok" in text
    assert "stor-c (198.18.2.4): built to carry 9000 end to end, but check says below" in text

    right = judge(claims(built, prober, targets), expected, document)
    assert right.ok, right.differences
