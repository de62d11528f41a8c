"""A real network on one machine: Linux namespaces built from a topology written as data.

Every :class:`Host`, :class:`Router` and :class:`Switch` becomes its own network
namespace (its own kernel network stack). Links are veth pairs; a switch is a
Linux bridge ``br0`` in its namespace; a router is a namespace with forwarding
on, so it sends real ICMP "fragmentation needed" (RFC 1191) and ICMPv6 "packet
too big" (RFC 4443) errors, rate-limited like any Linux router. Faults are
nftables rules (one table named ``jumbopath`` per namespace)::

    from jumbopath.lab import Lab, NoPTB, chain

    with Lab(chain(1, mtus={("r1", "sw-dst"): 1500}, faults=(NoPTB("r1"),))) as lab:
        lab.run("src", ["ping", "-c1", "-M", "do", "-s", "1473", lab.addr("dst", 4)])

Conventions (deterministic, so tests can name addresses before the lab exists):

* Interfaces: hosts and routers ``eth0, eth1, ...`` and switch ports
  ``swp1, swp2, ...``, numbered in link order.
* An L3 *segment* is a set of host/router interfaces joined directly or
  through switches (switches are layer 2 only). Segment ``N`` (1-based, in the
  order of the first link that belongs to it) is ``198.18.N.0/24`` and
  ``2001:db8:N::/64`` (segments 256..511 use ``198.19.N-256.0/24``). Its
  hosts and routers get ``.1, .2, ...`` (``::1, ::2, ...``) in the order their
  link ends appear in the link list.
* IPv6 needs an MTU of at least 1280 (RFC 8200, section 5). Any link end may
  be 68..65535, but a segment with a host/router interface below 1280 is
  IPv4-only (the kernel turns IPv6 off on such an interface).
* Static routes are computed: every host and router gets a route to every
  segment it is not on, via the first router of a shortest path (hosts never
  forward). :class:`Route` overrides that for one destination node.
* A switch port whose MTU is below the bridge's largest port drops larger
  frames in both directions, exactly at its MTU (an nftables bridge rule
  backs the kernel's own check, which lets non-DF packets up to MTU+4 through
  and accepts MTU+4 on ingress).
* ICMP redirects and reverse-path filtering are off everywhere, so routes stay
  exactly as computed (asymmetric routes work). ICMP rate limits keep the
  kernel defaults unless a :class:`RateLimit` fault says otherwise.
* Pictures in docstrings: ``a ─9000─ b`` means both ends 9000;
  ``a ─1500┆9000─ b`` means 1500 on ``a``'s end and 9000 on ``b``'s.

Building: one ``ip -batch`` creates every namespace and veth pair (each end
directly in its namespace), sysctls are written from this process inside each
namespace, one ``ip -n NS -batch`` per namespace configures it, and one
``nft -f`` per namespace that needs rules installs them after the warm-up.
A six-namespace lab builds and warms in about 0.1 s.

Warm-up: before faults go in, small echoes (IPv4 and IPv6, sent from this
process) join every pair of hosts/routers, so neighbour discovery is done
before anything is timed. The kernel's neighbour tables are shared by every
namespace on the machine, the machine's own traffic included (``gc_thresh3``,
1024 entries by default), so a lab whose segments are big warms only the
first member and the routers of each segment with everyone there. Keep that
limit in mind when many hosts of one lab all talk to each other.

Safety: addresses come only from 198.18.0.0/15 and 2001:db8::/32 and live only
inside namespaces this module created, named ``jp-<pid>-<4 hex>-<node>``. The
machine's own interfaces and root-namespace settings are never touched.
Teardown always happens: on leaving the ``with`` block (also by exception or
Ctrl-C), at interpreter exit, and on SIGTERM/SIGHUP (turned into
``SystemExit``). :func:`cleanup_stale` removes namespaces left by processes
that died without any of those running (SIGKILL); so does ``jumbopath lab
clean``.

Modules: :mod:`~jumbopath.lab.topology` (nodes, links, routes, the
:class:`Topology`), :mod:`~jumbopath.lab.faults`, :mod:`~jumbopath.lab.presets`
(demo, chain, star), :mod:`~jumbopath.lab.plan` (names, addresses, routes),
:mod:`~jumbopath.lab.scripts` (what each namespace is given, as text),
:mod:`~jumbopath.lab.kernel` (ip, nft, sysctls, entering namespaces),
:mod:`~jumbopath.lab.warmup`, :mod:`~jumbopath.lab.safety` (teardown safety
net, stale labs), :mod:`~jumbopath.lab.network` (the :class:`Lab`) and
:mod:`~jumbopath.lab.claim` (what check must find on a lab, and whether it
did: the demo's self-check); :mod:`~jumbopath.lab.randomlab` draws labs from
a seed and derives their truth (the oracle of ``tests/lab/test_oracle_lab.py``).
"""

from __future__ import annotations

from jumbopath.lab.faults import DropEcho, Fault, Loss, NoPTB, NoTimeExceeded, RateLimit
from jumbopath.lab.kernel import NETNS_DIR
from jumbopath.lab.network import Lab
from jumbopath.lab.plan import MAX_MEMBERS, MAX_SEGMENTS
from jumbopath.lab.presets import (
    chain,
    demo,
    diamond,
    one_leg_at,
    one_uplink_at,
    star,
    two_uplinks,
)
from jumbopath.lab.safety import LabNamespace, cleanup_stale, lab_namespaces, remove_stale
from jumbopath.lab.scripts import NFT_TABLE
from jumbopath.lab.topology import (
    DEFAULT_MTU,
    MAX_MTU,
    MIN_MTU,
    MIN_MTU_V6,
    Host,
    Link,
    Node,
    Route,
    Router,
    Switch,
    Topology,
)

__all__ = [
    "DEFAULT_MTU",
    "MAX_MEMBERS",
    "MAX_MTU",
    "MAX_SEGMENTS",
    "MIN_MTU",
    "MIN_MTU_V6",
    "NETNS_DIR",
    "NFT_TABLE",
    "DropEcho",
    "Fault",
    "Host",
    "Lab",
    "LabNamespace",
    "Link",
    "Loss",
    "Node",
    "NoPTB",
    "NoTimeExceeded",
    "RateLimit",
    "Route",
    "Router",
    "Switch",
    "Topology",
    "chain",
    "cleanup_stale",
    "demo",
    "diamond",
    "lab_namespaces",
    "one_leg_at",
    "one_uplink_at",
    "remove_stale",
    "star",
    "two_uplinks",
]
