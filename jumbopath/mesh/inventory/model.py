"""What an inventory becomes: hosts, networks, and the inventory holding them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from jumbopath.errors import UsageError
from jumbopath.safe import safe_text

if TYPE_CHECKING:
    from jumbopath.switches.files import SwitchesFile

DEFAULT_COMMAND = "jumbopath"
"""Remote command that runs ``jumbopath check`` when the inventory names none."""


class Agent(str, Enum):
    """What measures from a host."""

    JUMBOPATH = "jumbopath"
    """jumbopath installed there runs ``check --json`` (the default)."""
    PING = "ping"
    """Nothing installed: the host's own ping, driven over one SSH connection."""


class HostOS(str, Enum):
    """The operating system of an agentless host: which ping it has and how it is run."""

    LINUX = "linux"
    """iputils ``ping -M do`` from ``sh``."""
    ESXI = "esxi"
    """``vmkping -d`` from the ESXi shell."""
    WINDOWS = "windows"
    """.NET ``Ping.SendPingAsync`` with don't-fragment, from Windows PowerShell."""
    MACOS = "macos"
    """``ping -D`` (IPv6: ``ping6 -m``)."""


@dataclass(frozen=True, slots=True)
class MeshHost:
    """One host of the mesh and how to reach it over SSH."""

    name: str
    """Inventory name; rows and columns of the matrix carry it."""
    ssh_host: str
    """What ``ssh`` connects to (a name, an address or a ~/.ssh/config alias)."""
    user: str | None = None
    """Remote user (``ssh -l``); None leaves it to the SSH configuration."""
    port: int | None = None
    """Remote port (``ssh -p``); None leaves it to the SSH configuration."""
    command: str = DEFAULT_COMMAND
    """Shell words that run jumbopath there (``sudo -n jumbopath``, ``/opt/jp/bin/jumbopath``)."""
    identity_file: str | None = None
    """Private key (``ssh -i``); None leaves it to the agent and the SSH configuration."""
    agent: Agent = Agent.JUMBOPATH
    """What measures from this host: jumbopath installed there, or its own ping."""
    os: HostOS = HostOS.LINUX
    """Its operating system (which ping, which shell); read only when ``agent`` is ping."""
    vmk: tuple[tuple[str, str], ...] = ()
    """ESXi: (network, VMkernel interface) that network's probes leave from (``-I vmk1``)."""
    netstack: tuple[tuple[str, str], ...] = ()
    """ESXi: (network, TCP/IP stack) that network's probes use (``-S vmotion``)."""


@dataclass(frozen=True, slots=True)
class Network:
    """One network every member host must reach every other member on."""

    name: str
    """Network name (``storage``, ``migration``, ...)."""
    mtu: int
    """The MTU every path on this network must carry (``check --expect``)."""
    members: tuple[tuple[str, str], ...]
    """(host name, address on this network), in inventory order."""
    family: int | None = None
    """4 or 6 to pass ``-4``/``-6`` to check when addresses are names; None otherwise."""

    @property
    def hosts(self) -> tuple[str, ...]:
        """Member host names, in inventory order."""
        return tuple(h for h, _ in self.members)

    def address(self, host: str) -> str | None:
        """The host's address on this network, or None when it is not a member."""
        for h, a in self.members:
            if h == host:
                return a
        return None


@dataclass(frozen=True, slots=True)
class Inventory:
    """Hosts and networks of one mesh."""

    hosts: tuple[MeshHost, ...]
    """Every host that belongs to at least one network."""
    networks: tuple[Network, ...]
    """Every network with at least one member."""
    source: str = ""
    """File the inventory came from (for messages)."""
    switches: SwitchesFile | None = None
    """The switches the inventory names (own YAML ``switches:``, Ansible ``network`` hosts):
    read or given as a switches file's are; never mesh hosts. None when it names none."""

    def host(self, name: str) -> MeshHost:
        """The host called ``name``."""
        for h in self.hosts:
            if h.name == name:
                return h
        raise KeyError(name)

    def only(self, networks: list[str] | tuple[str, ...]) -> Inventory:
        """The same inventory limited to the named networks (``--network``)."""
        if not networks:
            return self
        known = {n.name for n in self.networks}
        unknown = [n for n in networks if n not in known]
        if unknown:
            raise UsageError(
                safe_text(
                    f"{self.source}: no network called {', '.join(unknown)}; "
                    f"the inventory has: {', '.join(sorted(known))}",
                    limit=1000,
                )
            )
        nets = tuple(n for n in self.networks if n.name in networks)
        members = {h for n in nets for h in n.hosts}
        return Inventory(
            hosts=tuple(h for h in self.hosts if h.name in members),
            networks=nets,
            source=self.source,
            switches=self.switches,
        )
