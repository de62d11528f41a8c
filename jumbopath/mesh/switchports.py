"""``mesh --switches``: name the switch port behind every silent break of the mesh.

Each failing cell's break comes from the source host's own check; the map of
the switches (read over SNMP or given as data, :mod:`jumbopath.switches`)
names the port(s) on its silent stretch below the failing size, exactly as
``check --switches`` does for one host's paths.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from jumbopath.mesh.model import Cell, Mesh, NetworkMatrix
from jumbopath.model import Break, BreakKind

if TYPE_CHECKING:
    from jumbopath.mesh.inventory import Inventory
    from jumbopath.switches.files import SwitchesFile
    from jumbopath.switches.graph import L2Graph


def switches_for(given: str | None, inv: Inventory | None) -> str | SwitchesFile | None:
    """``--switches FILE`` when given, else the inventory's switches (with its hosts' addresses).

    The mesh hosts are named to the map by their addresses, so a break toward
    one is placed even when its LLDP announces no management address.
    """
    if given is not None or inv is None or inv.switches is None:
        return given
    from jumbopath.switches.model import HostHint

    named = {h.name for h in inv.switches.hosts}
    hints = [
        HostHint(h.name, tuple(a for n in inv.networks if (a := n.address(h.name)) is not None))
        for h in inv.hosts
        if h.name not in named
    ]
    return replace(inv.switches, hosts=(*inv.switches.hosts, *hints))


def with_switch_ports(mesh: Mesh, graph: L2Graph) -> Mesh:
    """``mesh`` with the suspect ports on every silent break (cells and failing pairs)."""
    return replace(mesh, networks=tuple(_network(n, graph) for n in mesh.networks))


def _network(net: NetworkMatrix, graph: L2Graph) -> NetworkMatrix:
    addresses = dict(net.addresses)
    cache: dict[tuple[Break, str | None], Break] = {}

    def placed(b: Break | None, source: str) -> Break | None:
        if b is None or b.kind is not BreakKind.SILENT:
            return b
        key = (b, addresses.get(source))
        if key not in cache:
            cache[key] = _ports(b, graph, net.expected_mtu, addresses.get(source))
        return cache[key]

    def cell(c: Cell) -> Cell:
        b = placed(c.break_, c.source)
        return replace(c, break_=b, breaks=(*c.breaks[:-1], b) if c.breaks and b else c.breaks)

    cells = tuple(cell(c) for c in net.cells)
    failing = tuple(replace(f, break_=placed(f.break_, f.source)) for f in net.failing)
    return replace(net, cells=cells, failing=failing)


def _ports(b: Break, graph: L2Graph, expected: int, source: str | None) -> Break:
    from jumbopath.switches.suspects import placed, suspect_ports

    found = suspect_ports(b, graph, expected=expected, source=(source,) if source else ())
    return placed(b, found)
