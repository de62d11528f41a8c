"""``check --switches`` with one switch on the way unread and another naming the port.

Three switches in a chain behind a router, sw-c's port toward stor-b at 1500::

    client ─ r1 ─ sw-a ─ sw-b ─ sw-c ─ stor-b
        9000   9000   9000   9000  1500 (sw-c's end)

sw-b is asked with a wrong community (v2c agents ignore it: a timeout). sw-a
and sw-c name sw-b in their LLDP tables, so the walk from r1 to stor-b goes
through it; sw-c names its port, and the break says sw-b was not read.
"""

from __future__ import annotations

import ipaddress
import json
import os
import sys
from pathlib import Path

import pytest

from jumbopath.lab import Host, Lab, Link, Router, Switch, Topology

sys.path.insert(0, str(Path(__file__).resolve().parent))
from snmplab import COMMUNITY, SnmpLab, tools_missing  # noqa: E402

pytestmark = pytest.mark.skipif(
    bool(tools_missing()), reason=f"needs {', '.join(tools_missing())}: apt-get install snmpd lldpd"
)
REPO = Path(__file__).resolve().parents[2]
SWITCHES = ("sw-a", "sw-b", "sw-c")


def topology() -> Topology:
    chain = ["client", "r1", *SWITCHES, "stor-b"]
    links = [Link(a, b) for a, b in zip(chain, chain[1:], strict=False)]
    links[-1] = Link("sw-c", "stor-b", a_mtu=1500, b_mtu=9000)
    nodes: tuple[Host | Router | Switch, ...] = (
        Host("client"),
        Router("r1"),
        *(Switch(s) for s in SWITCHES),
        Host("stor-b"),
    )
    return Topology(nodes=nodes, links=tuple(links))


def test_unread_switch_on_the_way_is_listed_beside_the_named_port(tmp_path: Path) -> None:
    with Lab(topology()) as lab:
        gateway = ipaddress.ip_address(lab.addr("r1", 4, peer="sw-a"))
        mgmt = {sw: (str(gateway + 249 + i), "r1") for i, sw in enumerate(SWITCHES)}
        with SnmpLab(lab, mgmt, ["client", "r1", "stor-b"]) as snmp:
            snmp.wait_for_neighbours()
            creds = tmp_path / "credentials.yaml"
            creds.write_text(
                f"default: {{version: 2c, community: {COMMUNITY}}}\n"
                "wrong: {version: 2c, community: not-the-community}\n"
            )
            creds.chmod(0o600)
            listed = tmp_path / "switches.yaml"
            listed.write_text(
                "switches:\n"
                + "".join(
                    f"  - {{name: {sw}, address: {address}"
                    + (", credentials: wrong" if sw == "sw-b" else "")
                    + "}\n"
                    for sw, (address, _) in mgmt.items()
                )
            )
            done = lab.run(
                "client",
                [
                    sys.executable,
                    "-m",
                    "jumbopath",
                    "check",
                    "-4",
                    "--expect",
                    "9000",
                    "--switches",
                    str(listed),
                    "--json",
                    lab.addr("stor-b"),
                ],
                cwd=REPO,
                timeout=90,
                env={
                    **os.environ,
                    "PYTHONPATH": str(REPO),
                    "JUMBOPATH_SNMP_CREDENTIALS": str(creds),
                },
            )
            assert done.returncode == 1, done.stdout + done.stderr
            (result,) = json.loads(done.stdout)["results"]
            brk = result["break"]
            assert (result["path_mtu"], brk["kind"]) == (1500, "silent"), brk
            assert [(p["switch"], p["port"], p["toward"], p["mtu"]) for p in brk["ports"]] == [
                ("sw-c", lab.iface("sw-c", "stor-b"), "stor-b", 1500)
            ]
            assert brk["unread_switches"] == [{"switch": "sw-b", "reason": "timeout"}]
