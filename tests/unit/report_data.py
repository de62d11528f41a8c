"""Data for the report tests: a check report from simulated paths and a
16-host, 3-network mesh document with known faults."""

from __future__ import annotations

from typing import Any

from test_mesh_helpers import check_doc, result

from jumbopath.environment import SimulatedEnvironment
from jumbopath.mesh.document import to_document
from jumbopath.mesh.inventory import Network
from jumbopath.mesh.matrix import build_mesh
from jumbopath.mesh.runs import ErrorKind, HostError, HostRun, NetworkRun
from jumbopath.model import Report
from jumbopath.pipeline import CheckConfig, check
from jumbopath.probers.simulated import SimPath, SimRouter, SimSegment

GOOD, BAD, PTB, DEAD = "198.18.9.9", "198.18.9.10", "198.18.9.11", "198.18.9.12"


def check_report() -> Report:
    """One path of each kind: ok, silent drop, router too big, no answer."""
    r1 = SimRouter("198.18.1.1")
    r2 = SimRouter("198.18.2.1")
    s = SimSegment
    paths = {
        GOOD: SimPath((s(9000, 9000), s(9000, 9000)), (r1,)),
        BAD: SimPath((s(9000, 9000), s(9000, 1500)), (r1,)),
        PTB: SimPath((s(9000, 9000), s(9000, 9000), s(1500, 1500)), (r1, r2)),
        DEAD: SimPath(
            (s(9000, 9000), s(9000, 9000)),
            (r1,),
            answers_echo=False,
            answers_tcp=False,
            answers_udp=False,
        ),
    }
    return check(CheckConfig(tuple(paths), expect=9000), SimulatedEnvironment(paths))


NETWORKS = (("storage", 1, 9000), ("backup", 2, 9000), ("mgmt", 3, 1500))
HOSTS = [f"h{i}" for i in range(1, 17)]
#: storage: h5's switch port is left at 1500 (every pair with h5, both ways).
#: backup: h7's answers to h9 die on the way back (one direction only).
#: h16 cannot be reached over SSH.
DOWN = "h16"


def _cell(net: str, src: str, dst: str, mtu: int) -> tuple[str, int | None, dict[str, Any]]:
    if net == "storage" and "h5" in (src, dst):
        after = "198.18.1.5" if src == "h5" else None
        brk = {
            "kind": "silent",
            "cause": "silent-drop-first-segment",
            "after": after,
            "before": f"198.18.1.{dst[1:]}",
            "mtu": 1500,
            "reported_by": None,
            "size": 9000,
            "explanation": "9000-byte packets never reach the next hop: a switch port drops them",
        }
        return "below", 1500, {"direction": "forward", "brk": brk}
    if net == "backup" and (src, dst) == ("h9", "h7"):
        return "below", 4000, {"direction": "return"}
    return "ok", mtu, {}


def mesh_document() -> dict[str, Any]:
    """The 16-host, 3-network mesh as its JSON document."""
    nets = [
        Network(name, mtu, tuple((h, f"198.18.{third}.{h[1:]}") for h in HOSTS))
        for name, third, mtu in NETWORKS
    ]
    runs = []
    for src in HOSTS:
        if src == DOWN:
            runs.append(
                HostRun(
                    src,
                    error=HostError(
                        ErrorKind.CONNECT_TIMEOUT,
                        "ssh could not connect within 5 s: is the host up and sshd running?",
                        "ssh: connect to host h16 port 22: Connection timed out",
                    ),
                )
            )
            continue
        per_net = []
        for net in nets:
            targets = tuple((h, a) for h, a in net.members if h != src)
            rows = []
            for dst, a in targets:
                status, mtu, extra = _cell(net.name, src, dst, net.mtu)
                rows.append(result(a, status, mtu, interface_mtu=net.mtu, **extra))
            per_net.append(
                NetworkRun(net.name, net.mtu, targets, check_doc(net.mtu, rows), None, 0)
            )
        runs.append(HostRun(src, tuple(per_net), elapsed_s=1.5))
    return to_document(build_mesh(nets, runs))
