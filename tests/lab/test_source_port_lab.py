"""The switch port toward the source, smaller than the source's own NIC::

    src ─9000┆4000─ sw-src ─9000─ r1 ─9000─ sw-dst ─9000─ dst

The port drops larger frames silently, like any misconfigured switch port.
In the lab that port is the veth peer of ``src``'s NIC: the kernel refuses
the frame at once and an IPv6 raw socket (and an IPv4 ping socket, which
asks for ``IP_RECVERR``) says so with ``ENOBUFS``; on a wire the frame would
simply be lost. Either way the probe left the host and its silence is
evidence: every prober must find the 4000 limit (``ping -M do -s 3952``
passes from ``src``, 3953 does not), never "inconclusive".
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

import pytest

from jumbopath.lab import Lab, chain

PORT = 4000


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with Lab(chain(1, mtus={("sw-src", "src"): PORT})) as built:
        # Ping sockets for root's group, in this namespace only.
        built.run("src", ["sysctl", "-qw", "net.ipv4.ping_group_range=0 0"])
        yield built


@pytest.mark.parametrize(
    ("cmd", "family", "via"),
    [
        ("check", 6, "raw"),
        ("trace", 6, "raw"),
        ("check", 4, "ping-socket"),
        ("check", 6, "ping-socket"),
    ],
)
def test_silent_limit_on_the_source_port(lab: Lab, cmd: str, family: int, via: str) -> None:
    lab.run("src", ["ip", f"-{family}", "route", "flush", "cache"])
    argv = [sys.executable, "-m", "jumbopath", cmd, f"-{family}", "--json", "--expect", "9000"]
    done = lab.run("src", [*argv, "--via", via, lab.addr("dst", family)], timeout=120)
    result = json.loads(done.stdout)["results"][0]
    assert (done.returncode, result["status"], result["path_mtu"]) == (1, "below", PORT), (
        done.stderr[-300:],
        result.get("error"),
    )
