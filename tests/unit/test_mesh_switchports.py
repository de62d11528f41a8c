"""mesh --switches: the switches name the port behind a pair's silent break."""

from __future__ import annotations

import yaml

from jumbopath.mesh.model import Cell, CellStatus, Mesh, NetworkMatrix
from jumbopath.mesh.switchports import with_switch_ports
from jumbopath.model import Break, BreakKind, Cause
from jumbopath.schema import break_dict
from jumbopath.switches import files
from jumbopath.switches.graph import build
from tests.unit.test_switches import CHAIN


def test_the_port_behind_a_silent_break_is_named() -> None:
    text = CHAIN.replace("SWP1", "9014").replace("SWP7", "1514")  # IOS XR: IP MTU 1500
    spec = files.parse(yaml.safe_load(text), "sw.yaml")
    graph = build(spec.given, spec.hosts)
    silent = Break(
        BreakKind.SILENT, "198.18.1.2", "198.18.2.3", 1500, None, Cause.SILENT_DROP, size=9000
    )
    ptb = Break(BreakKind.PTB, "198.18.1.2", "198.18.2.3", 1500, "198.18.1.2", Cause.ROUTER_TOO_BIG)
    cells = (
        Cell("client", "stor-b", "198.18.2.3", CellStatus.BELOW, 1500, break_=silent),
        Cell("client", "stor-c", "198.18.2.4", CellStatus.BELOW, 1500, break_=ptb),
    )
    net = NetworkMatrix("storage", 9000, ("client", "stor-b", "stor-c"), (), cells, (), (), ())
    found = with_switch_ports(Mesh((net,), ()), graph)
    bad, other = found.networks[0].cells
    assert bad.break_ is not None and [(p.switch, p.port, p.mtu) for p in bad.break_.ports] == [
        ("sw-c", "Ethernet1/7", 1500)
    ]
    assert break_dict(bad.break_)["ports"][0]["toward"] == "stor-b"
    assert other.break_ == ptb  # a router's "too big" needs no switch
