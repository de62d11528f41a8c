"""What each namespace is given, as text: ip batch scripts, sysctls, nftables tables.

Pure functions of the plan, the current MTUs and the faults; the kernel
sees them only through :mod:`jumbopath.lab.kernel`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from jumbopath.lab.faults import DropEcho, Fault, Loss, NoPTB, NoTimeExceeded
from jumbopath.lab.plan import Plan
from jumbopath.lab.topology import Router, Switch

NFT_TABLE = "jumbopath"
"""Name of the nftables table the lab owns in each namespace."""

Mtus = Mapping[tuple[str, str], int]
"""Current MTU of each interface, keyed (node, peer)."""

# nftables rules per fault kind: (chain, rules). Router-made ICMP errors leave
# through OUTPUT; DropEcho drops echo only, so neighbour discovery still passes.
_FAULT_RULES: dict[type, tuple[str, tuple[str, ...]]] = {
    NoPTB: (
        "output",
        (
            "icmp type destination-unreachable icmp code frag-needed drop",
            "icmpv6 type packet-too-big drop",
        ),
    ),
    NoTimeExceeded: ("output", ("icmp type time-exceeded drop", "icmpv6 type time-exceeded drop")),
    DropEcho: ("input", ("icmp type echo-request drop", "icmpv6 type echo-request drop")),
}


def netns_script(plan: Plan, prefix: str) -> str:
    """One ``ip -batch`` script creating every namespace and veth pair.

    Each veth end is created directly inside its namespace, so names never
    meet in the root one. Every interface gets its own ifindex: when a veth's
    peer has the same index as itself, the kernel treats its carrier change
    as not urgent and applies it up to a second later (linkwatch), and until
    then the interface drops everything and a bridge port stays disabled.
    """
    lines = [f"netns add {prefix}{n}" for n in plan.order]
    index = {key: 10 + i for i, key in enumerate(plan.ifaces)}
    for (node, peer), iface in plan.ifaces.items():
        if plan.order.index(node) > plan.order.index(peer):
            continue
        other = plan.ifaces[(peer, node)]
        lines.append(
            f"link add {iface.name} netns {prefix}{node} index {index[(node, peer)]} "
            f"mtu {iface.mtu} type veth peer name {other.name} netns {prefix}{peer} "
            f"index {index[(peer, node)]} mtu {other.mtu}"
        )
    return "\n".join(lines) + "\n"


def sysctls(kind: type) -> list[tuple[str, str]]:
    """The /proc/sys/net settings of a node of ``kind`` (written before links go up)."""
    if kind is Switch:  # layer 2 only: no IPv6 addresses, no ND/MLD chatter of its own
        return [("ipv6/conf/*/disable_ipv6", "1")]
    fwd = "1" if kind is Router else "0"
    return [
        ("ipv4/conf/*/rp_filter", "0"),  # asymmetric routes must work
        ("ipv4/conf/*/accept_redirects", "0"),  # routes stay as computed
        ("ipv4/conf/*/send_redirects", "0"),
        ("ipv6/conf/*/accept_redirects", "0"),
        ("ipv6/conf/*/accept_dad", "0"),  # no 1 s tentative link-local addresses
        ("ipv6/conf/*/accept_ra", "0"),
        ("ipv6/conf/*/router_solicitations", "0"),
        ("ipv4/conf/all/forwarding", fwd),  # also set: a new namespace may inherit 1
        ("ipv4/conf/default/forwarding", fwd),
        ("ipv6/conf/all/forwarding", fwd),
        ("ipv6/conf/default/forwarding", fwd),
    ]


def bridge_mtu(plan: Plan, mtus: Mtus, sw: str) -> int:
    """MTU of switch ``sw``'s bridge: its largest port."""
    return max(mtus[k] for k in plan.by_node[sw])


def switch_script(plan: Plan, mtus: Mtus, sw: str) -> str:
    """``ip -batch`` script of a switch: bridge ``br0`` (STP off), every port in it."""
    lines = [
        "link set dev lo up",
        "link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0",
    ]
    for key in plan.by_node[sw]:
        lines.append(f"link set dev {plan.ifaces[key].name} master br0 up")
    lines.append(f"link set dev br0 mtu {bridge_mtu(plan, mtus, sw)} up")
    return "\n".join(lines) + "\n"


def l3_script(plan: Plan, node: str) -> str:
    """``ip -batch`` script of a host or router: links up, addresses, routes."""
    lines = ["link set dev lo up"]
    for key in plan.by_node[node]:
        lines.append(f"link set dev {plan.ifaces[key].name} up")
    for key in plan.by_node[node]:
        iface = plan.ifaces[key]
        if iface.segment is None:
            continue
        lines.append(f"address add {iface.v4}/24 dev {iface.name}")
        if iface.v6:
            lines.append(f"address add {iface.v6}/64 dev {iface.name} nodad")
    for fam in (4, 6):
        for r in plan.routes[(node, fam)] + plan.host_routes.get((node, fam), []):
            lines.append(f"route add {r.prefix} via {r.via} dev {r.dev}")
    return "\n".join(lines) + "\n"


def port_rules(plan: Plan, mtus: Mtus, sw: str) -> list[str]:
    """Bridge rules dropping frames above each port's MTU, in both directions.

    They back the kernel's own check, which lets non-DF packets up to MTU+4
    through and accepts MTU+4 on ingress.
    """
    top = bridge_mtu(plan, mtus, sw)
    rules = []
    for key in plan.by_node[sw]:
        mtu = mtus[key]
        if mtu < top:
            name = plan.ifaces[key].name
            rules.append(f'iifname "{name}" meta length > {mtu} drop')
            rules.append(f'oifname "{name}" meta length > {mtu} drop')
    return rules


def fault_rules(faults: Sequence[Fault], node: str) -> dict[str, list[str]]:
    """The inet rules of ``node``'s faults, per chain (input, output, forward)."""
    chains: dict[str, list[str]] = {"input": [], "output": [], "forward": []}
    for f in faults:
        if f.node != node:
            continue
        if type(f) in _FAULT_RULES:
            chain, rules = _FAULT_RULES[type(f)]
            chains[chain] += rules
        elif isinstance(f, Loss) and f.percent > 0:
            size = f"meta length > {f.above} " if f.above else ""
            # nft's numgen compares against 0..99: 100% is a plain drop.
            chance = f"numgen random mod 100 < {f.percent} " if f.percent < 100 else ""
            chains["forward"].append(f"meta l4proto {{ icmp, ipv6-icmp }} {size}{chance}drop")
    return chains


def nft_family(plan: Plan, node: str) -> str:
    """The nftables family of ``node``'s table: bridge on switches, inet elsewhere."""
    return "bridge" if plan.kind[node] is Switch else "inet"


def nft_table(plan: Plan, mtus: Mtus, faults: Sequence[Fault], node: str) -> str | None:
    """The node's whole nftables table (replaced atomically), or None if it needs none."""
    if plan.kind[node] is Switch:
        chains = {"forward": port_rules(plan, mtus, node)}
    else:
        chains = fault_rules(faults, node)
    body = []
    for chain_name, rules in chains.items():
        if rules:
            body.append(f"  chain {chain_name} {{")
            body.append(f"    type filter hook {chain_name} priority 0; policy accept;")
            body += [f"    {r}" for r in rules]
            body.append("  }")
    if not body:
        return None
    return "\n".join([f"table {nft_family(plan, node)} {NFT_TABLE} {{", *body, "}"]) + "\n"


def nft_replace(family: str, table: str | None) -> str:
    """An ``nft -f`` transaction: create-if-missing, delete, recreate (atomic)."""
    return f"table {family} {NFT_TABLE}\ndelete table {family} {NFT_TABLE}\n" + (table or "")
