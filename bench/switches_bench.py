"""Bench: read 4 lab switches over SNMP and build the layer-2 map; name the port on every fault.

Run as root from the repository::

    sudo .venv/bin/python bench/switches_bench.py [--rounds 5]

The lab (real snmpd + lldpd in every switch namespace, lldpd on the hosts)::

    client ─ sw-a ─ r1 ─ sw-b ─ sw-c ─ sw-d ─┬─ stor-a
                                             └─ stor-b

For each fault (a host port at 1500, an inter-switch link at 1500 on both
ends, one end of another inter-switch link at 1500) it traces client to
stor-b, then times ``jumbopath switches --switches FILE --check TRACE``
as a whole process (Python start and imports included) and checks that
the ports named are exactly the faulty ones. Beside it, Debian's
``snmpbulkwalk`` reads the same columns one process per column, for
comparison (v2c: its community is on the command line, which is why
jumbopath does not use it). Target: map within 2 s, right port every time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "lab"))

from snmplab import COMMUNITY, SnmpLab  # noqa: E402

from jumbopath.lab import Host, Lab, Link, Router, Switch, Topology  # noqa: E402
from jumbopath.switches.mib import COLUMNS  # noqa: E402

MGMT = {
    "sw-a": ("198.18.1.250", "r1"),
    "sw-b": ("198.18.2.250", "r1"),
    "sw-c": ("198.18.2.251", "r1"),
    "sw-d": ("198.18.2.252", "r1"),
}
SPEAKERS = ["client", "r1", "stor-a", "stor-b"]
CABLES = [
    ("client", "sw-a"),
    ("sw-a", "r1"),
    ("r1", "sw-b"),
    ("sw-b", "sw-c"),
    ("sw-c", "sw-d"),
    ("sw-d", "stor-a"),
    ("sw-d", "stor-b"),
]
FAULTS: dict[str, dict[tuple[str, str], int]] = {
    "host port sw-d -> stor-b at 1500": {("sw-d", "stor-b"): 1500},
    "link sw-c <-> sw-d at 1500": {("sw-c", "sw-d"): 1500, ("sw-d", "sw-c"): 1500},
    "one end: sw-c toward sw-b at 1500": {("sw-c", "sw-b"): 1500},
}


def topology(mtus: dict[tuple[str, str], int]) -> Topology:
    links = tuple(
        Link(a, b, a_mtu=mtus.get((a, b), 9000), b_mtu=mtus.get((b, a), 9000)) for a, b in CABLES
    )
    nodes = (
        Host("client"),
        Switch("sw-a"),
        Router("r1"),
        Switch("sw-b"),
        Switch("sw-c"),
        Switch("sw-d"),
        Host("stor-a"),
        Host("stor-b"),
    )
    return Topology(nodes=nodes, links=links)


def jumbopath(lab: Lab, *args: str) -> tuple[int, dict, float]:
    started = time.monotonic()
    done = lab.run(
        "client",
        [sys.executable, "-m", "jumbopath", *args],
        cwd=REPO,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    elapsed = time.monotonic() - started
    return done.returncode, json.loads(done.stdout), elapsed


def bulkwalk_s(lab: Lab) -> float:
    started = time.monotonic()
    for address, _ in MGMT.values():
        for oid in COLUMNS.values():
            lab.run(
                "client",
                ["snmpbulkwalk", "-v2c", "-c", COMMUNITY, "-On", "-t", "1", "-Cr12", address, oid],
                timeout=10,
            )
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    ok = True
    print(
        f"{'fault':<34} {'named':<24} {'right':<6} command (s) med/max  read (s) med  bulkwalk (s)"
    )
    for label, mtus in FAULTS.items():
        with Lab(topology(mtus)) as lab, SnmpLab(lab, MGMT, SPEAKERS) as agents:
            agents.wait_for_neighbours()
            sw_file = agents.folder / "switches.yaml"
            sw_file.write_text(
                "switches:\n"
                + "".join(f"  - {{name: {n}, address: {a}}}\n" for n, (a, _) in MGMT.items())
            )
            code, trace, _ = jumbopath(
                lab, "trace", "-4", "--expect", "9000", "--json", lab.addr("stor-b")
            )
            trace_file = agents.folder / "trace.json"
            trace_file.write_text(json.dumps(trace))
            os.environ["JUMBOPATH_SNMP_COMMUNITY"] = COMMUNITY
            times, reads, named = [], [], []
            for _ in range(args.rounds):
                code, doc, elapsed = jumbopath(
                    lab,
                    "switches",
                    "--switches",
                    str(sw_file),
                    "--check",
                    str(trace_file),
                    "--json",
                )
                times.append(elapsed)
                reads.append(max(sw["elapsed_s"] for sw in doc["switches"]))
                named = [(p["node"], p["port"]) for b in doc.get("breaks", []) for p in b["ports"]]
            expected = sorted((n, lab.iface(n, peer)) for (n, peer) in mtus)
            right = sorted(named) == expected
            ok = ok and right and max(times) < 2.0
            walk = bulkwalk_s(lab)
            text = ", ".join(f"{n} {p}" for n, p in named) or "(none)"
            print(
                f"{label:<34} {text:<24} {'yes' if right else 'NO':<6} "
                f"{statistics.median(times):.2f}/{max(times):.2f}            "
                f"{statistics.median(reads):.2f}         {walk:.2f}"
            )
    load = os.getloadavg()[0]
    print(
        f"\ntarget: the map within 2 s and the right port on every fault: "
        f"{'met' if ok else 'NOT met'} (load average {load:.1f} on {os.cpu_count()} cores)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
