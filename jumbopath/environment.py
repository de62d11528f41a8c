"""The one door to the world: names, routes, the local side and the prober.

A check needs to resolve names, ask the kernel how it would reach each
target, read what the local side says about an interface (its MTU, VLAN and
bridge parents, the LLDP switch port), and send probes. All of that reaches
the check through an :class:`Environment`. :class:`SystemEnvironment` wraps
this machine; :class:`SimulatedEnvironment` answers from data and a
simulated path, so a unit test runs a whole ``check`` or ``trace`` without
root, sockets or time passing (the prober's clock is the check's clock).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from jumbopath.errors import NoRoute, UsageError
from jumbopath.probers.base import Target

# The system's side (psutil, the raw prober and scapy) and the simulated one
# load only when a method needs them: importing this module costs neither.
if TYPE_CHECKING:
    from jumbopath.egress import Egress
    from jumbopath.probers.base import Prober
    from jumbopath.probers.simulated import SimPath

if TYPE_CHECKING:
    from jumbopath.overlay import Tunnel
    from jumbopath.switches.files import SwitchesFile
    from jumbopath.switches.graph import L2Graph


class Environment(Protocol):
    """What a check asks of the world."""

    def resolve(self, names: Sequence[str], family: int | None) -> list[Target]:
        """Names and addresses to targets (UsageError for a name that does not resolve)."""
        ...

    def egress(self, target: Target) -> Egress:
        """How this host would send to ``target`` (CannotMeasure: no route, interface down)."""
        ...

    def route_mtu(self, target: Target) -> int | None:
        """The MTU of the route toward ``target`` now (the kernel's cache); None: no route."""
        ...

    def local_context(self, interface: str, expected: int | None) -> list[str]:
        """What the local side says about ``interface`` falling short of ``expected``."""
        ...

    def tunnel(self, interface: str) -> Tunnel | None:
        """The tunnel ``interface`` is (kind, MTU, remote end), or None when it is none."""
        ...

    def prober(self) -> Prober:
        """A new prober; the caller closes it."""
        ...

    def switch_map(self, path: str | SwitchesFile) -> L2Graph:
        """The layer-2 map of the switches a switches file (or an inventory) names."""
        ...


@dataclass
class SystemEnvironment:
    """This machine: the resolver, the kernel's routes, psutil, lldpd, raw sockets."""

    lldpd_socket: str | None = field(
        default_factory=lambda: os.environ.get("JUMBOPATH_LLDPD_SOCKET")
    )
    """lldpd's control socket (``--lldpd-socket`` / ``JUMBOPATH_LLDPD_SOCKET``)."""

    def resolve(self, names: Sequence[str], family: int | None) -> list[Target]:
        from jumbopath.egress import resolve

        return resolve(list(names), family)

    def egress(self, target: Target) -> Egress:
        from jumbopath.egress import egress

        return egress(target)

    def route_mtu(self, target: Target) -> int | None:
        from jumbopath.egress import route_mtu

        return route_mtu(target)

    def local_context(self, interface: str, expected: int | None) -> list[str]:
        from jumbopath.nics import local_context

        return local_context(interface, expected, lldpd_socket=self.lldpd_socket)

    def tunnel(self, interface: str) -> Tunnel | None:
        from jumbopath.overlay import read_tunnel

        return read_tunnel(interface)

    via: str = "auto"
    """How probes are sent (``--via``): auto (raw sockets when allowed, else ping
    sockets), raw, ping-socket, or ping (the system's own ping command)."""

    def prober(self) -> Prober:
        return open_prober(self.via)

    def switch_map(self, path: str | SwitchesFile) -> L2Graph:
        from jumbopath.switches import files
        from jumbopath.switches.credentials import credentials_from_env, load_credentials
        from jumbopath.switches.survey import survey

        creds_file = os.environ.get("JUMBOPATH_SNMP_CREDENTIALS")
        creds = load_credentials(creds_file) if creds_file else credentials_from_env()
        return survey(files.load(path) if isinstance(path, str) else path, creds)


#: ``--via`` values.
VIAS = ("auto", "raw", "ping-socket", "ping")


def raw_sockets_allowed() -> bool:
    """Whether this process may open a raw ICMP socket (root or CAP_NET_RAW)."""
    import socket

    for af, proto in ((socket.AF_INET, socket.IPPROTO_ICMP), (socket.AF_INET6, 58)):
        try:
            socket.socket(af, socket.SOCK_RAW, proto).close()
            return True
        except PermissionError:
            return False
        except OSError:
            continue
    return False


def open_prober(via: str = "auto") -> Prober:
    """The prober for ``--via``: raw sockets when allowed, else ping sockets, else
    NoPrivilege (exit 3) naming every fix in one line."""
    from jumbopath.errors import NoPrivilege
    from jumbopath.probers.pingsocket import PingSocketProber, fixes, ping_sockets_allowed

    if via == "ping":
        from jumbopath.probers.systemping import SystemPingProber

        return SystemPingProber.local()
    if via in ("auto", "raw") and raw_sockets_allowed():
        from jumbopath.probers.raw import RawProber

        return RawProber()
    if via in ("auto", "ping-socket") and ping_sockets_allowed():
        return PingSocketProber()
    if via == "raw":
        raise NoPrivilege(f"raw sockets need root or CAP_NET_RAW: {fixes()}")
    if via == "ping-socket":
        raise NoPrivilege(f"ICMP ping sockets are not allowed for this user: {fixes()}")
    raise NoPrivilege(f"raw sockets need root or CAP_NET_RAW, and ping sockets are off: {fixes()}")


@dataclass
class SimulatedEnvironment:
    """A world made of data, for tests: simulated paths, fixed routes and names."""

    paths: Mapping[str, SimPath]
    """Target address to its :class:`~jumbopath.probers.simulated.SimPath`."""
    routes: Mapping[str, Egress] = field(default_factory=dict)
    """Target address to its egress; default: ``lab0`` with the first segment's MTU."""
    names: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Host name to addresses."""
    local: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Interface to what its local side says."""
    seed: int = 1
    """Seed of the simulated loss."""
    probers: list[Prober] = field(default_factory=list)
    """Every prober handed out (tests read their counters)."""
    switches: Mapping[str, L2Graph] = field(default_factory=dict)
    """Switches file name to the map it stands for."""
    tunnels: Mapping[str, Tunnel] = field(default_factory=dict)
    """Interface to the tunnel it is."""

    def resolve(self, names: Sequence[str], family: int | None) -> list[Target]:
        import ipaddress

        targets = []
        for name in names:
            try:
                found = [str(ipaddress.ip_address(name))]
            except ValueError:
                if name not in self.names:
                    raise UsageError(f"cannot resolve {name!r}: give an address") from None
                found = list(self.names[name])
            for addr in found:
                fam = ipaddress.ip_address(addr).version
                if family is None or fam == family:
                    targets.append(Target(name, addr, fam))
        return targets

    def egress(self, target: Target) -> Egress:
        from jumbopath.egress import Egress

        if target.address in self.routes:
            return self.routes[target.address]
        path = self.paths.get(target.address)
        if path is None:
            raise NoRoute(f"no route to {target.address}")
        mtu = path.interface_mtu
        source = "198.18.0.1" if target.family == 4 else "2001:db8::1"
        return Egress(source, "lab0", mtu, mtu)

    def route_mtu(self, target: Target) -> int | None:
        try:
            return self.egress(target).route_mtu
        except NoRoute:
            return None

    def local_context(self, interface: str, expected: int | None) -> list[str]:
        return list(self.local.get(interface, ()))

    def tunnel(self, interface: str) -> Tunnel | None:
        return self.tunnels.get(interface)

    def prober(self) -> Prober:
        from jumbopath.probers.simulated import SimulatedProber

        prober = SimulatedProber(dict(self.paths), seed=self.seed)
        self.probers.append(prober)
        return prober

    def switch_map(self, path: str) -> L2Graph:
        if path not in self.switches:
            raise UsageError(f"{path}: no such switches file")
        return self.switches[path]
