"""The TCP search toward a host that drops echo, held to what really arrives.

::

    src ─9000─ sw ─9000┆4000─ dst        (dst drops echo)

dst's NIC at 4000 passes 4004 (a veth takes MTU + 4, LAB-NOTES). Every SYN
probe shares one flow and dst answers each that arrives (an RST from a closed
port, or a SYN-ACK), so only the acknowledgement number tells which probe an
answer is for. The search must find 4004 and its evidence must be consistent:
every answered size at most 4004, every lost one above.
"""

from __future__ import annotations

import json
import sys

import pytest

from jumbopath.lab import DropEcho, Lab, chain

CHECK = [sys.executable, "-m", "jumbopath", "check", "--json", "--expect", "9000"]


@pytest.mark.parametrize("probe", ["auto", "tcp", "tcp:22"])
def test_tcp_search_finds_what_arrives(probe: str) -> None:
    topo = chain(0, mtus={("dst", "sw"): 4000}, faults=(DropEcho("dst"),))
    with Lab(topo) as lab:
        target = lab.addr("dst", 4)
        done = lab.run("src", [*CHECK, "--probe", probe, target], timeout=60)
    result = json.loads(done.stdout)["results"][0]
    assert (result["status"], result["path_mtu"], result["protocol"], done.returncode) == (
        "below",
        4004,
        "tcp",
        1,
    )
    answered = {e["size"] for e in result["evidence"] if e["outcome"] == "reply"}
    lost = {e["size"] for e in result["evidence"] if e["outcome"] == "lost"}
    assert answered and max(answered) == 4004
    assert lost and min(lost) > 4004
