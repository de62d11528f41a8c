"""A VXLAN overlay over a switched 9000 underlay: which side is short, with the arithmetic.

Two hosts on one switch, a VXLAN on each (outer DF inherited, as a hardware
VTEP never fragments)::

    a ─ sw ─ b            underlay 198.18.x, every end 9000
    a:vx0 ═══ b:vx0       overlay 198.19.42.0/24 and 2001:db8:42::/64, VNI 42

First vx0 is left at 9000: the overlay carries 9000 - 50 = 8950 and the
encapsulation is the cause. Then sw's port toward b drops to 1500 and vx0 to
1450: the overlay's own MTU fits, the underlay is what is short.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from jumbopath.lab import Host, Lab, Link, Switch, Topology

REPO = Path(__file__).resolve().parents[2]
INNER = {"a": ("198.19.42.1", "2001:db8:42::1"), "b": ("198.19.42.2", "2001:db8:42::2")}


def vxlan(lab: Lab) -> None:
    """vx0 on a and b; created without ``dev`` (with it the kernel caps it at dev - 50)."""
    for node, peer in (("a", "b"), ("b", "a")):
        v4, v6 = INNER[node]
        for argv in (
            ["ip", "link", "add", "vx0", "type", "vxlan", "id", "42", "remote", lab.addr(peer)]
            + ["local", lab.addr(node), "dstport", "4789", "df", "inherit"],
            ["ip", "link", "set", "vx0", "mtu", "9000"],
            ["ip", "addr", "add", f"{v4}/24", "dev", "vx0"],
            ["ip", "addr", "add", f"{v6}/64", "dev", "vx0", "nodad"],
            ["ip", "link", "set", "vx0", "up"],
        ):
            done = lab.run(node, argv)
            assert done.returncode == 0, (argv, done.stderr)
    for family, index in (("-4", 0), ("-6", 1)):  # warm: neighbours on both layers
        lab.run("a", ["ping", family, "-c", "1", "-W", "2", INNER["b"][index]], timeout=10)


def check(lab: Lab, family: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """``jumbopath check --expect 9000 --json`` from a to b's overlay address."""
    done = lab.run(
        "a",
        [sys.executable, "-m", "jumbopath", "check", f"-{family}", "--expect", "9000", "--json"]
        + [INNER["b"][0 if family == 4 else 1]],
        cwd=REPO,
        timeout=90,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    (result,) = json.loads(done.stdout)["results"]
    (overlay,) = [x for x in result["remarks"] if x["code"] == "overlay"]
    return result, overlay


def test_vxlan_overlay_names_the_short_side() -> None:
    topo = Topology(
        nodes=(Host("a"), Switch("sw"), Host("b")), links=(Link("a", "sw"), Link("sw", "b"))
    )
    with Lab(topo) as lab:
        vxlan(lab)
        for family in (4, 6):
            result, overlay = check(lab, family)
            assert (result["path_mtu"], result["interface"]) == (8950, "vx0")
            assert result["cause"] == result["break"]["cause"] == "overlay-encapsulation"
            assert overlay["remote"] == lab.addr("b")
            assert (overlay["underlay_mtu"], overlay["overhead"], overlay["ceiling"]) == (
                9000,
                50,
                8950,
            )
            assert (overlay["mtu"], overlay["short"]) == (9000, "overlay")
        # A 1500 port in the underlay under a 1450 overlay: the underlay is short.
        port = lab.iface("sw", "b")
        assert lab.run("sw", ["ip", "link", "set", port, "mtu", "1500"]).returncode == 0
        for node in ("a", "b"):
            assert lab.run(node, ["ip", "link", "set", "vx0", "mtu", "1450"]).returncode == 0
        result, overlay = check(lab, 4)
        assert (result["path_mtu"], result["cause"]) == (1450, "underlay-short")
        assert (overlay["underlay_mtu"], overlay["underlay_interface_mtu"]) == (1500, 9000)
        assert (overlay["ceiling"], overlay["mtu"], overlay["short"]) == (1450, 1450, "underlay")
