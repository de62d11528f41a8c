"""Ready-made topologies. Each picture shows the MTU at every link end.

``a ─9000─ b`` means both ends 9000; ``a ─1500┆9000─ b`` means 1500 on
``a``'s end and 9000 on ``b``'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from jumbopath.errors import LabError
from jumbopath.lab.faults import Fault
from jumbopath.lab.plan import MAX_MEMBERS
from jumbopath.lab.topology import Host, Link, Node, Router, Switch, Topology, set_mtus

if TYPE_CHECKING:
    from jumbopath.lab.network import Lab


def demo() -> Topology:
    """A storage network with one access port left at 1500::

        client ─9000─ sw1 ─9000─ r1 ─9000─ sw2 ─┬─9000────── stor-a
                                                ├─1500┆9000─ stor-b
                                                └─9000────── stor-c

    Every end is 9000 except sw2's port toward stor-b (1500): big frames
    from client to stor-b vanish silently at that port; stor-a and stor-c
    carry 9000 end to end.
    """
    return Topology(
        nodes=(
            Host("client"),
            Switch("sw1"),
            Router("r1"),
            Switch("sw2"),
            Host("stor-a"),
            Host("stor-b"),
            Host("stor-c"),
        ),
        links=(
            Link("client", "sw1"),
            Link("sw1", "r1"),
            Link("r1", "sw2"),
            Link("sw2", "stor-a"),
            Link("sw2", "stor-b", a_mtu=1500),
            Link("sw2", "stor-c"),
        ),
    )


def chain(
    routers: int = 1,
    *,
    mtus: Mapping[tuple[str, str], int] | None = None,
    faults: Sequence[Fault] = (),
    src: str = "src",
    dst: str = "dst",
) -> Topology:
    """Two hosts joined by a line of routers, every end 9000 unless ``mtus`` says::

        src ─9000─ sw-src ─9000─ r1 ─9000─ r2 ─ ... ─ rn ─9000─ sw-dst ─9000─ dst

    With ``routers=0``::

        src ─9000─ sw ─9000─ dst

    ``mtus`` maps (node, peer) to the MTU of ``node``'s interface toward
    ``peer``: ``{("r1", "sw-dst"): 1500}`` is a router egress at 1500
    (``r1 ─1500┆9000─ sw-dst``), ``{("sw-dst", "dst"): 1500}`` a switch
    port left at 1500.
    """
    if not isinstance(routers, int) or not 0 <= routers <= 64:
        raise LabError(f"chain(routers={routers!r}): use 0..64 routers")
    nodes: list[Node] = [Host(src)]
    links: list[Link] = []
    if routers == 0:
        nodes += [Switch("sw"), Host(dst)]
        links += [Link(src, "sw"), Link("sw", dst)]
    else:
        names = [f"r{i}" for i in range(1, routers + 1)]
        nodes += [Switch("sw-src"), *(Router(n) for n in names), Switch("sw-dst"), Host(dst)]
        hops = [src, "sw-src", *names, "sw-dst", dst]
        links += [Link(x, y) for x, y in zip(hops, hops[1:], strict=False)]
    return Topology(nodes=tuple(nodes), links=set_mtus(links, mtus or {}), faults=tuple(faults))


def star(
    hosts: int,
    *,
    mtus: Mapping[tuple[str, str], int] | None = None,
    faults: Sequence[Fault] = (),
) -> Topology:
    """Hosts ``h1..hN`` on one switch ``sw``, every end 9000 unless ``mtus`` says::

        h1 ─9000─┐
        h2 ─9000─┤
        ...      sw
        hN ─9000─┘

    One segment; ``h<i>`` is 198.18.1.<i> and 2001:db8:1::<i:x>. For
    many-target benchmarks with ``h1`` as the prober (the warm-up covers h1
    with everyone; see :class:`Lab` on the shared neighbour table).
    """
    if not isinstance(hosts, int) or not 1 <= hosts <= MAX_MEMBERS:
        raise LabError(f"star(hosts={hosts!r}): use 1..{MAX_MEMBERS} hosts")
    names = [f"h{i}" for i in range(1, hosts + 1)]
    links = [Link(n, "sw") for n in names]
    return Topology(
        nodes=(Switch("sw"), *(Host(n) for n in names)),
        links=set_mtus(links, mtus or {}),
        faults=tuple(faults),
    )


def diamond() -> Topology:
    """Two equal-cost legs between ``r0`` and ``swb``, every end 9000::

                          ┌─9000─ sw1 ─9000─ r1 ─9000─┐
        src ─9000─ swa ─9000─ r0                         swb ─9000─ dst
                          └─9000─ sw2 ─9000─ r2 ─9000─┘

    Plain routes send everything over one leg; :func:`one_leg_at` turns on
    ECMP at ``r0`` and shrinks the leg echo does not take.
    """
    pairs = (
        ("src", "swa"), ("swa", "r0"), ("r0", "sw1"), ("sw1", "r1"), ("r0", "sw2"),
        ("sw2", "r2"), ("r1", "swb"), ("r2", "swb"), ("swb", "dst"),
    )  # fmt: skip
    nodes: tuple[Node, ...] = (
        Host("src"), Switch("swa"), Router("r0"), Switch("sw1"), Switch("sw2"),
        Router("r1"), Router("r2"), Switch("swb"), Host("dst"),
    )  # fmt: skip
    return Topology(nodes=nodes, links=tuple(Link(a, b) for a, b in pairs))


def one_leg_at(lab: Lab, mtu: int = 1500) -> tuple[str, str]:
    """In a running :func:`diamond`: ECMP at ``r0`` toward ``dst`` (ports in the hash),
    and the leg ICMP echo from ``src`` does not take at ``mtu`` (its switch port
    toward that router). ``dst`` answers along the echo's leg. Returns (the
    echo's router, the other one)."""
    import re

    dst = lab.addr("dst", 4)
    prefix = re.sub(r"\.\d+$", ".0/24", dst)
    hops = []
    for r in ("r1", "r2"):
        hops += ["nexthop", "via", lab.addr(r, 4, f"sw{r[1]}"), "dev", lab.iface("r0", f"sw{r[1]}")]
    lab.run("r0", ["sysctl", "-qw", "net.ipv4.fib_multipath_hash_policy=1"], check=True)
    lab.run("r0", ["ip", "route", "replace", prefix, *hops], check=True)
    out = lab.run("src", ["ping", "-c1", "-W1", "-t", "2", dst]).stdout
    legs = [r for r in ("r1", "r2") if any(f"From {a} " in out for a in lab.addrs(r, 4))]
    if len(legs) != 1:
        raise LabError(f"no time exceeded from r1 or r2 toward {dst}: {out!r}")
    good = legs[0]
    bad = "r2" if good == "r1" else "r1"
    src_net = re.sub(r"\.\d+$", ".0/24", lab.addr("src", 4))
    lab.run("dst", ["ip", "route", "replace", src_net, "via", lab.addr(good, 4, "swb")], check=True)
    lab.set_mtu(f"sw{bad[1]}", bad, mtu)
    return good, bad


def two_uplinks() -> Topology:
    """A host that routes: two uplinks, each to its own router, both reaching ``dst``::

              ┌─9000─ sw1 ─9000─ r1 ─9000─┐
        src ──┤                           swb ─9000─ dst
              └─9000─ sw2 ─9000─ r2 ─9000─┘

    ``src`` has an address on each uplink; plain routes reach ``dst`` by
    ``r1``. :func:`one_uplink_at` makes ``src``'s route multipath.
    """
    pairs = (
        ("src", "sw1"), ("src", "sw2"), ("sw1", "r1"), ("sw2", "r2"),
        ("r1", "swb"), ("r2", "swb"), ("swb", "dst"),
    )  # fmt: skip
    nodes: tuple[Node, ...] = (
        Host("src"), Switch("sw1"), Switch("sw2"), Router("r1"), Router("r2"),
        Switch("swb"), Host("dst"),
    )  # fmt: skip
    return Topology(nodes=nodes, links=tuple(Link(a, b) for a, b in pairs))


def one_uplink_at(lab: Lab, mtu: int = 1500, families: Sequence[int] = (4, 6)) -> tuple[str, str]:
    """In a running :func:`two_uplinks`: a multipath route on ``src`` toward ``dst``
    (ports in the hash, ``fib_multipath_hash_policy=1``, set in ``src``'s namespace
    only) and the uplink ICMP echo does not take at ``mtu`` (its switch's port
    toward the router). Returns (the echo's router, the other one)."""
    import re

    for family in families:
        dst = lab.addr("dst", family)
        prefix = re.sub(r"\.\d+$", ".0/24", dst) if family == 4 else dst.rsplit(":", 1)[0] + ":/64"
        hops = []
        for r in ("r1", "r2"):
            via = lab.addr(r, family, f"sw{r[1]}")
            hops += ["nexthop", "via", via, "dev", lab.iface("src", f"sw{r[1]}")]
        policy = f"net.ipv{family}.fib_multipath_hash_policy=1"
        lab.run("src", ["sysctl", "-qw", policy], check=True)
        lab.run("src", ["ip", f"-{family}", "route", "replace", prefix, *hops], check=True)
    # The hash seed (src's own, Linux 6.11 and later) picks which uplink echo takes in
    # each family; a few seeds give one where both families' echo takes the same.
    for seed in range(1, 17):
        lab.run("src", ["sysctl", "-qw", f"net.ipv4.fib_multipath_hash_seed={seed}"])
        legs = set()
        for family in families:
            dst = lab.addr("dst", family)
            out = lab.run("src", ["ping", f"-{family}", "-c1", "-W1", "-t", "1", dst]).stdout
            legs |= {
                r for r in ("r1", "r2") if any(f"From {a} " in out for a in lab.addrs(r, family))
            }
        if len(legs) == 1:
            break
    else:
        raise LabError(f"echo from src does not take one uplink in every family: {sorted(legs)}")
    (good,) = legs
    bad = "r2" if good == "r1" else "r1"
    lab.set_mtu(f"sw{bad[1]}", bad, mtu)
    return good, bad
