"""``jumbopath report``: merge per-host results (files) into the mesh."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from jumbopath.errors import UsageError
from jumbopath.mesh.inventory import Inventory, Network
from jumbopath.mesh.runs import HostRun, NetworkRun
from jumbopath.mesh.sources import read_source_file
from jumbopath.safe import safe_text


def _q(name: str) -> str:
    """A name from a file, quoted for an error line (bounded, safe to show)."""
    return repr(safe_text(name, 80))


def _adopt(run: HostRun, inventory: Inventory) -> HostRun:
    """Give a bare ``check --json`` result (network "default") its network and host names."""
    nets = []
    for n in run.networks:
        if n.network != "default":
            nets.append(n)
            continue
        addresses = {a for _, a in n.targets}
        match = next(
            (
                net
                for net in inventory.networks
                if addresses and addresses <= {a for _, a in net.members} | set(net.hosts)
            ),
            None,
        )
        if match is None:
            nets.append(n)
            continue
        by_addr = {a: h for h, a in match.members}
        targets = tuple((by_addr.get(t, t), a) for t, a in n.targets)
        mtu = n.mtu or match.mtu
        nets.append(NetworkRun(match.name, mtu, targets, n.check, n.error, n.rc))
    return HostRun(run.host, tuple(nets), run.error, run.elapsed_s)


def networks_from_runs(runs: Sequence[HostRun]) -> list[Network]:
    """Networks as the files describe them: members are the sources and their targets."""
    order: list[str] = []
    mtus: dict[str, tuple[int, str]] = {}
    members: dict[str, dict[str, str]] = {}
    for r in runs:
        for n in r.networks:
            if n.network not in members:
                order.append(n.network)
                members[n.network] = {}
            if n.mtu:
                prev = mtus.get(n.network)
                if prev is not None and prev[0] != n.mtu:
                    raise UsageError(
                        f"network {_q(n.network)}: {_q(prev[1])} checked it for MTU {prev[0]} "
                        f"but {_q(r.host)} for {n.mtu}: run every host with the same --expect"
                    )
                mtus.setdefault(n.network, (n.mtu, r.host))
            m = members[n.network]
            m.setdefault(r.host, "")
            for host, addr in n.targets:
                if not m.get(host):
                    m[host] = addr
    nets = []
    for name in order:
        if name not in mtus:
            raise UsageError(
                f"network {_q(name)}: no file says which MTU it must carry: run check with "
                "--expect N (or give --inventory)"
            )
        nets.append(Network(name, mtus[name][0], tuple(members[name].items())))
    return nets


def merge(
    files: Sequence[str | Path], inventory: Inventory | None = None, lean: bool = False
) -> tuple[list[Network], list[HostRun]]:
    """Read every file; return the networks to draw and the hosts' runs.

    ``lean`` (``--dry-run``) drops each file's check results as soon as it is
    read, keeping only what names the networks and their members.
    """
    if not files:
        raise UsageError("give the per-host result files to merge (jumbopath report FILE...)")
    runs: list[HostRun] = []
    seen: dict[str, str] = {}
    for f in files:
        run = read_source_file(f)
        if lean:
            run = replace(run, networks=tuple(replace(n, check=None) for n in run.networks))
        if run.host in seen:
            raise UsageError(
                f"{safe_text(str(f), 200)}: a second result for host {_q(run.host)} (the first "
                f"is {safe_text(seen[run.host], 200)}): "
                "give one file per host"
            )
        seen[run.host] = str(f)
        if inventory is not None:
            run = _adopt(run, inventory)
        runs.append(run)
    if inventory is not None:
        known = {h.name for h in inventory.hosts}
        stray = [r.host for r in runs if r.host not in known]
        if stray:
            raise UsageError(
                f"{safe_text(seen[stray[0]], 200)}: host {_q(stray[0])} is not in "
                f"{safe_text(inventory.source, 200)}: name the "
                'file after the inventory host, or fix its "host"'
            )
        return list(inventory.networks), runs
    return networks_from_runs(runs), runs
