"""Link-local IPv6 targets (``fe80::...%IFACE``) on a real lab segment.

::

    src ─9000─ sw ─1500┆9000─ dst        the switch port toward dst left at 1500

The target is dst's own link-local address, reached through src's lab veth:
the traffic never leaves the lab's segment.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

from jumbopath.lab import Lab, chain

JP = [sys.executable, "-m", "jumbopath"]


def _link_local(lab: Lab, node: str, iface: str) -> str | None:
    out = subprocess.run(
        ["ip", "-n", lab.netns(node), "-6", "-o", "addr", "show", "dev", iface, "scope", "link"],
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    ).stdout
    found = re.search(r"inet6 (fe80:[0-9a-f:]+)/64", out)
    return found.group(1) if found else None


def _ensure_link_local(lab: Lab, node: str, peer: str, fallback: str) -> str:
    """``node``'s link-local address toward ``peer``; one is added if the lab made none."""
    iface = lab.iface(node, peer)
    have = _link_local(lab, node, iface)
    if have is not None:
        return have
    ns = lab.netns(node)
    subprocess.run(
        ["ip", "-n", ns, "-6", "addr", "add", f"{fallback}/64", "dev", iface, "nodad"],
        check=True,
        timeout=10,
    )
    return fallback


@pytest.fixture(scope="module")
def lab() -> Iterator[tuple[Lab, str, str]]:
    with Lab(chain(0, mtus={("sw", "dst"): 1500})) as built:
        _ensure_link_local(built, "src", "sw", "fe80::198:18:0:1")
        target = _ensure_link_local(built, "dst", "sw", "fe80::198:18:0:2")
        yield built, target, built.iface("src", "sw")


def test_check_of_a_link_local_neighbour_finds_the_1500_port(lab: tuple[Lab, str, str]) -> None:
    built, address, iface = lab
    done = built.run(
        "src", [*JP, "check", "--json", "--expect", "9000", f"{address}%{iface}"], timeout=60
    )
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)["results"][0]
    assert result["status"] == "below"
    assert result["target"] == f"{address}%{iface}"
    assert result["address"] == address
    assert result["path_mtu"] == 1500
    assert result["interface"] == iface


def test_the_interface_index_works_as_a_scope(lab: tuple[Lab, str, str]) -> None:
    built, address, iface = lab
    index = built.run("src", ["cat", f"/sys/class/net/{iface}/ifindex"]).stdout.strip()
    done = built.run("src", [*JP, "check", "--json", f"{address}%{index}"], timeout=60)
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["results"][0]["path_mtu"] == 1500


def test_trace_of_a_link_local_neighbour_names_the_silent_drop(
    lab: tuple[Lab, str, str],
) -> None:
    built, address, iface = lab
    done = built.run(
        "src", [*JP, "trace", "--json", "--expect", "9000", f"{address}%{iface}"], timeout=60
    )
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)["results"][0]
    assert result["break"]["kind"] == "silent"
    assert result["break"]["mtu"] == 1500
    assert [h["address"] for h in result["hops"]] == [address]


@pytest.mark.parametrize(
    ("scope", "words"),
    [
        (None, "is link-local: name the interface"),
        ("nosuch0", "no interface 'nosuch0'"),
        ("a/b", "cannot name an interface"),
    ],
)
def test_a_link_local_target_needs_a_real_interface(
    lab: tuple[Lab, str, str], scope: str | None, words: str
) -> None:
    built, address, _ = lab
    target = address if scope is None else f"{address}%{scope}"
    done = built.run("src", [*JP, "check", target], timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("jumbopath: error:"), done.stderr
    assert words in lines[0] and f"e.g. {address}%" in lines[0]
