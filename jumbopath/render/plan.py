"""A mesh plan (``--dry-run``) as JSON and as text. Pure functions of the plan."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jumbopath.mesh.plan import MeshPlan
from jumbopath.safe import safe_text


def plan_dict(plan: MeshPlan, command: str) -> dict[str, Any]:
    """The plan as a JSON document (``kind`` ``jumbopath-mesh-plan``, schema 1)."""
    return {
        "schema": 1,
        "kind": "jumbopath-mesh-plan",
        "command": command,
        "paths": plan.paths,
        "networks": [
            {"name": n.name, "mtu": n.mtu, "hosts": n.hosts, "paths": n.paths}
            for n in plan.networks
        ],
        "hosts": [
            {
                "name": h.host,
                "ssh": h.ssh,
                "agent": h.agent,
                "networks": list(h.networks),
                "targets": h.targets,
                "file": h.source,
            }
            for h in plan.hosts
        ],
    }


def plan_lines(plan: MeshPlan, command: str) -> Iterator[str]:
    """The plan as text, a line at a time (a host per line: never the matrix)."""
    verb = "check" if command == "mesh" else "draw"
    yield f"Dry run: nothing is measured. {command} would {verb} {plan.paths} paths:"
    for n in plan.networks:
        yield f"  network {safe_text(n.name, 80)} (MTU {n.mtu}): {n.hosts} hosts, {n.paths} paths"
    if command == "mesh":
        yield f"{len(plan.hosts)} SSH sessions, one per host:"
    else:
        missing = sum(1 for h in plan.hosts if h.source is None)
        yield f"{len(plan.hosts)} rows, {missing} without a result file:"
    for h in plan.hosts:
        where = (
            f"ssh {safe_text(h.ssh, 120)}, {h.agent}"
            if h.ssh is not None
            else (f"from {safe_text(h.source, 200)}" if h.source else "no result file")
        )
        nets = ", ".join(safe_text(n, 80) for n in h.networks)
        yield f"  {safe_text(h.host, 120)} ({where}): {nets}; {h.targets} targets"
