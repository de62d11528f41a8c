"""Shared data for the mesh unit tests: ``check --json`` documents written by hand.

Each document is what one source host's ``jumbopath check --json`` prints;
they are inputs to the pure matrix code, not a stand-in for the network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from jumbopath.mesh.inventory import Network
from jumbopath.mesh.matrix import Mesh, build_mesh
from jumbopath.mesh.runs import HostError, HostRun, NetworkRun


def result(
    target: str,
    status: str = "ok",
    path_mtu: int | None = 9000,
    *,
    direction: str | None = None,
    brk: Mapping[str, Any] | None = None,
    interface: str = "eth1",
    interface_mtu: int = 9000,
    cause: str | None = None,
) -> dict[str, Any]:
    """One entry of ``results`` as check prints it (``cause`` left out unless given, as
    an older check printed it)."""
    doc = {
        "target": target,
        "address": target,
        "family": 6 if ":" in target else 4,
        "status": status,
        "path_mtu": path_mtu,
        "max_icmp_payload": None if path_mtu is None else path_mtu - 28,
        "interface": interface,
        "interface_mtu": interface_mtu,
        "loss": 0.0,
        "probes_sent": 12,
        "elapsed_s": 0.05,
        "evidence": [],
        "cached_mtu": None,
        "notes": [],
        "error": None,
        "direction": direction,
        "hops": None,
        "break": brk,
    }
    if cause is not None:
        doc["cause"] = cause
    return doc


def check_doc(expected: int, results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A whole ``check --json`` document."""
    return {"schema": 1, "expected_mtu": expected, "results": list(results), "findings": []}


def addr(host: str) -> str:
    """Address of a test host on the test network: h1 → 198.18.1.1."""
    return f"198.18.1.{int(host.lstrip('abcdefghijklmnopqrstuvwxyz'))}"


Cellspec = tuple[str, int | None] | tuple[str, int | None, dict[str, Any]]


def mesh_of(
    hosts: Sequence[str],
    expected: int = 9000,
    cells: Mapping[tuple[str, str], Cellspec] | None = None,
    down: Mapping[str, HostError] | None = None,
    interface_mtu: Mapping[str, int] | None = None,
    name: str = "storage",
) -> Mesh:
    """A one-network mesh: every cell ok at ``expected`` unless ``cells`` says otherwise.

    ``cells[(src, dst)] = (status, path_mtu[, extra result fields])``.
    """
    cells = cells or {}
    down = down or {}
    interface_mtu = interface_mtu or {}
    net = Network(name, expected, tuple((h, addr(h)) for h in hosts))
    runs = []
    for src in hosts:
        if src in down:
            runs.append(HostRun(src, error=down[src]))
            continue
        rows = []
        targets = tuple((h, addr(h)) for h in hosts if h != src)
        for dst, a in targets:
            spec = cells.get((src, dst), ("ok", expected))
            extra = dict(spec[2]) if len(spec) > 2 else {}  # type: ignore[misc]
            extra.setdefault("interface_mtu", interface_mtu.get(src, expected))
            rows.append(result(a, spec[0], spec[1], **extra))
        doc = check_doc(expected, rows)
        runs.append(HostRun(src, (NetworkRun(name, expected, targets, doc, None, 0),)))
    return build_mesh([net], runs)


def test_helpers_build_a_clean_mesh() -> None:
    m = mesh_of(["h1", "h2", "h3"])
    assert len(m.networks[0].cells) == 6
    assert int(m.exit_code) == 0
