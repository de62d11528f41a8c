"""What jumbopath knows about switches: ports, LLDP neighbours, forwarding entries.

Every switch comes in the same shape whether it was read over SNMP
(:mod:`jumbopath.switches.snmp` + :mod:`jumbopath.switches.mib`) or given as
data (:mod:`jumbopath.switches.files`). Sizes follow :mod:`jumbopath.sizes`:
``ip_mtu`` is always an IP MTU; what the device itself reported keeps its own
name (``if_mtu``, ``max_frame``) and the assumption that turned it into an IP
MTU is recorded beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Source(str, Enum):
    """Where a switch's tables came from (``"source"`` in JSON)."""

    SNMP = "snmp"
    """Read over SNMP (IF-MIB, LLDP-MIB, BRIDGE-MIB / Q-BRIDGE-MIB)."""
    FILE = "file"
    """Given as data: the plain format or a vendor's ``show ... | json``."""


class PollFailure(str, Enum):
    """Why a switch could not be read (``"failure"`` in JSON)."""

    TIMEOUT = "timeout"
    """No answer within the timeout and retries: down, filtered, wrong address,
    or (SNMPv2c) a wrong community, which agents ignore silently."""
    AUTH = "auth"
    """The agent refused the SNMPv3 credentials (unknown user, wrong key or protocol)."""
    ERROR = "error"
    """The agent answered with an SNMP error, or the transport failed."""
    NO_DATA = "no-data"
    """The agent answered but has no IF-MIB interfaces."""


@dataclass(frozen=True, slots=True)
class Port:
    """One interface of a switch (IF-MIB ifTable + ifXTable)."""

    index: int
    """ifIndex (or a running number for data given in a file)."""
    name: str
    """ifName (ifDescr when ifName is empty)."""
    alias: str = ""
    """ifAlias: the description an admin configured."""
    if_mtu: int | None = None
    """ifMtu exactly as the device reported it (its meaning differs by vendor)."""
    ip_mtu: int | None = None
    """IP MTU this port carries, from ``if_mtu`` and the vendor's rule."""
    speed_mbps: int | None = None
    """ifHighSpeed, in Mb/s."""
    up: bool | None = None
    """ifOperStatus up (1); None when unknown."""
    if_type: int | None = None
    """ifType (IANAifType: 6 ethernetCsmacd, 24 softwareLoopback, 161 ieee8023adLag, ...)."""
    max_frame: int | None = None
    """IEEE 802.3 maximum frame size this switch announces on the port (LLDP, FCS counted)."""

    @property
    def is_ethernet_port(self) -> bool:
        """Whether this is a port a cable plugs into (ethernetCsmacd or a LAG)."""
        return self.if_type in (6, 117, 161) or self.if_type is None


@dataclass(frozen=True, slots=True)
class Neighbour:
    """What LLDP heard on one port (LLDP-MIB lldpRemTable and extensions)."""

    port: str
    """Local port name it was heard on."""
    system: str
    """lldpRemSysName (the chassis ID when the name is empty)."""
    port_id: str
    """lldpRemPortId: the neighbour's own port (an ifName or a MAC)."""
    port_desc: str = ""
    """lldpRemPortDesc."""
    chassis_id: str = ""
    """lldpRemChassisId (a MAC written aa:bb:..., or text)."""
    addresses: tuple[str, ...] = ()
    """lldpRemManAddr: management addresses the neighbour announces."""
    max_frame: int | None = None
    """lldpXdot3RemMaxFrameSize: the neighbour's IEEE 802.3 maximum frame size (FCS counted)."""


@dataclass(frozen=True, slots=True)
class FdbEntry:
    """One learned MAC address (BRIDGE-MIB dot1dTpFdbTable or Q-BRIDGE-MIB dot1qTpFdbTable)."""

    mac: str
    """MAC address, lower case, colon separated."""
    port: str
    """Local port name it was learned on."""
    vlan: int | None = None
    """VLAN (Q-BRIDGE-MIB's FDB id); None for BRIDGE-MIB."""


@dataclass(frozen=True, slots=True)
class SwitchInfo:
    """One switch: what it said, or why it said nothing."""

    name: str
    """Name as given (or its sysName when polled and given by address)."""
    address: str | None
    """Management address polled; None for data given in a file."""
    source: Source
    """snmp or file."""
    vendor: str
    """Key into :data:`jumbopath.switches.vendors.VENDORS` (``linux``, ``nxos``, ...)."""
    vendor_guessed: bool = True
    """True when the vendor was recognised from sysDescr/sysObjectID, False when given."""
    description: str = ""
    """sysDescr."""
    ports: tuple[Port, ...] = ()
    """Interfaces."""
    neighbours: tuple[Neighbour, ...] = ()
    """LLDP neighbours, one per (port, neighbour)."""
    fdb: tuple[FdbEntry, ...] = ()
    """Learned MAC addresses (dynamic entries only)."""
    chassis_id: str = ""
    """lldpLocChassisId: how neighbours see this switch in their LLDP tables."""
    sys_name: str = ""
    """sysName / lldpLocSysName."""
    failure: PollFailure | None = None
    """Why it could not be read; None when it was."""
    error: str | None = None
    """The failure in words, for the user."""
    elapsed_s: float = 0.0
    """Time spent reading it."""

    def port(self, name: str) -> Port | None:
        """The port called ``name`` (ifName), or None."""
        return next((p for p in self.ports if p.name == name), None)


@dataclass(frozen=True, slots=True)
class HostHint:
    """A host the switches file names, so the map can place it by LLDP name or MAC."""

    name: str
    """Host name (what its LLDP announces as the system name, when it runs LLDP)."""
    addresses: tuple[str, ...] = ()
    """Its IP addresses (how a check's break names it)."""
    macs: tuple[str, ...] = ()
    """Its MAC addresses (found in the switches' forwarding tables)."""
