"""What a ``mesh`` or ``report`` would do, without doing it (``--dry-run``). Pure.

A mesh of N hosts has N x (N - 1) paths per network, but its plan is linear
in hosts: one line per network and one per host (its networks and how many
targets its check gets). Nothing here holds a pair, so a 10,000-host
inventory plans in the memory its own reading takes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from jumbopath.mesh.inventory import Inventory, Network
from jumbopath.mesh.runs import HostRun

MAX_PATHS = 1_000_000
"""Most paths one ``mesh`` or ``report`` draws (all networks): one network of
1,000 hosts, whose report peaks at 650 MB (JSON) to 1.25 GB (text table);
2,000 hosts took 10 GB, and a 4,096-host network ended in MemoryError."""


@dataclass(frozen=True, slots=True)
class NetworkPlan:
    """One network of the plan."""

    name: str
    """Network name."""
    mtu: int
    """MTU every path must carry."""
    hosts: int
    """Member hosts."""
    paths: int
    """Ordered pairs of distinct members: what the matrix would hold."""


@dataclass(frozen=True, slots=True)
class HostPlan:
    """One source host of the plan (a row of every matrix it is in)."""

    host: str
    """Host name."""
    ssh: str | None
    """How it is reached (``mesh``), None for ``report``."""
    agent: str
    """``jumbopath`` (installed there) or ``ping`` (its own ping, over SSH)."""
    networks: tuple[str, ...]
    """Networks it checks."""
    targets: int
    """Targets its checks get, over all its networks."""
    source: str | None = None
    """``report``: the result file that holds its row; None when no file does."""


@dataclass(frozen=True, slots=True)
class MeshPlan:
    """A whole plan: what would be checked, from where, and how much."""

    networks: tuple[NetworkPlan, ...]
    """Every network, in inventory order."""
    hosts: tuple[HostPlan, ...]
    """Every host that is a member of some network, in inventory order."""

    @property
    def paths(self) -> int:
        """Paths over all networks."""
        return sum(n.paths for n in self.networks)


def _rows(networks: Sequence[Network]) -> dict[str, tuple[list[str], int]]:
    """Per member host: its networks and how many targets they give it (linear in members)."""
    rows: dict[str, tuple[list[str], int]] = {}
    for net in networks:
        peers = len(net.members) - 1
        for host in net.hosts:
            names, targets = rows.get(host, ([], 0))
            names.append(net.name)
            rows[host] = (names, targets + peers)
    return rows


def _networks(networks: Sequence[Network]) -> tuple[NetworkPlan, ...]:
    return tuple(
        NetworkPlan(n.name, n.mtu, len(n.members), len(n.members) * (len(n.members) - 1))
        for n in networks
    )


def mesh_plan(inventory: Inventory) -> MeshPlan:
    """What ``mesh`` would run: one SSH session per host that is in a network."""
    rows = _rows(inventory.networks)
    hosts = tuple(
        HostPlan(h.name, h.ssh_host, h.agent.value, tuple(rows[h.name][0]), rows[h.name][1])
        for h in inventory.hosts
        if h.name in rows
    )
    return MeshPlan(_networks(inventory.networks), hosts)


def report_plan(networks: Sequence[Network], runs: Iterable[tuple[HostRun, str]]) -> MeshPlan:
    """What ``report`` would draw: each member's row, and the file that holds it."""
    files = {run.host: source for run, source in runs}
    rows = _rows(networks)
    order: list[str] = []
    for net in networks:
        order += [h for h in net.hosts if h not in rows or rows[h][0][0] == net.name]
    hosts = tuple(
        HostPlan(h, None, "jumbopath", tuple(rows[h][0]), rows[h][1], files.get(h))
        for h in dict.fromkeys(order)
    )
    return MeshPlan(_networks(networks), hosts)


def too_many_paths(networks: Sequence[Network]) -> NetworkPlan | None:
    """The largest network when all of them hold more than :data:`MAX_PATHS` paths, else None."""
    plans = _networks(networks)
    if sum(n.paths for n in plans) <= MAX_PATHS:
        return None
    return max(plans, key=lambda n: n.paths)
