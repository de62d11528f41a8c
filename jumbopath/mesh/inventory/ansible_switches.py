"""Switches in an Ansible inventory: the hosts of group ``network``, or with ``ansible_network_os``.

Such a host is a switch jumbopath reads over SNMP, never a mesh host (no
SSH, never a network's member):

- ``jumbopath_snmp_address``, else ``ansible_host`` (or the older
  ``ansible_ssh_host``; else the inventory name) is the SNMP address: an IP
  address, or a host name resolved only when the switch is read (a site
  inventory that lists its switches by name still loads);
- ``ansible_network_os`` names the vendor, i.e. what its ifMtu means
  (:mod:`jumbopath.switches.vendors`): ``nxos``, ``cisco.nxos.nxos``,
  ``arista.eos.eos``, ``cumulus``, ``routeros``, ... (the last dotted part
  counts); one jumbopath does not know is recognised from sysDescr;
- ``jumbopath_snmp_credentials`` names the credentials profile (default
  ``default``); ``jumbopath_snmp_port`` the UDP port (default 161);
- ``jumbopath_show_interface`` and ``jumbopath_show_lldp``: a switch that
  cannot be polled, given as the JSON its CLI prints (files relative to the
  inventory), as a switches file's ``show_interface:``/``show_lldp:``.

The rows go through the switches file's own checks
(:func:`jumbopath.switches.files.parse`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jumbopath.numbers import parse_int_or_none

if TYPE_CHECKING:
    from jumbopath.switches.files import SwitchesFile

NETWORK_GROUP = "network"
"""Hosts in this group (or a group below it) are switches."""
NETWORK_OS_VAR = "ansible_network_os"
"""A host with this variable set is a switch; its value names the vendor."""
CREDENTIALS_VAR = "jumbopath_snmp_credentials"
"""The credentials profile a switch is read with (default ``default``)."""
SNMP_ADDRESS_VAR = "jumbopath_snmp_address"
"""The SNMP address, where ``ansible_host`` is a name (or not the management address)."""
SNMP_PORT_VAR = "jumbopath_snmp_port"
"""The UDP port a switch's agent listens on (default 161)."""
PASTED_VARS = {"jumbopath_show_interface": "show_interface", "jumbopath_show_lldp": "show_lldp"}
"""Variables naming a switch's pasted CLI JSON → the switches file's keys."""

SWITCH_VARS = (
    SNMP_ADDRESS_VAR,
    "ansible_host",
    "ansible_ssh_host",
    CREDENTIALS_VAR,
    SNMP_PORT_VAR,
    NETWORK_OS_VAR,
    *PASTED_VARS,
)
"""A switch's variables jumbopath reads (Ansible renders them when they are templates)."""

NETWORK_OS: dict[str, str] = {
    "nxos": "nxos",
    "ios": "ios",
    "iosxe": "ios",
    "iosxr": "iosxr",
    "junos": "junos",
    "eos": "eos",
    "cumulus": "linux",
    "nvue": "linux",
    "sonic": "linux",
    "dellos10": "linux",
    "vyos": "linux",
    "routeros": "routeros",
}
"""``ansible_network_os`` (its last dotted part) → vendor key of :mod:`jumbopath.switches.vendors`.

Cumulus, SONiC, OS10 and VyOS run net-snmp on Linux: ifMtu is the kernel's
IP MTU. Anything else is left to recognition from sysDescr/sysObjectID.
"""


def vendor_of(network_os: Any) -> str | None:
    """The vendor key for an ``ansible_network_os`` value; None: recognise it."""
    if not isinstance(network_os, str):
        return None
    return NETWORK_OS.get(network_os.strip().lower().rpartition(".")[2])


def is_switch(groups: Iterable[str], hv: Mapping[str, Any]) -> bool:
    """Whether a host (its groups, all ancestors included, and variables) is a switch."""
    return NETWORK_GROUP in groups or bool(hv.get(NETWORK_OS_VAR))


def switches_spec(
    source: str,
    names: Iterable[str],
    variables: Callable[[str], Mapping[str, Any]],
    deref: Callable[[Any, Mapping[str, Any], str], Any],
) -> SwitchesFile | None:
    """The switches named (each host's merged variables from ``variables``); None if none.

    ``deref`` resolves a value that is a plain ``{{ var }}`` (and refuses other templates).
    """
    from jumbopath.switches.files import parse

    rows = []
    for name in names:
        hv = variables(name)
        var = SNMP_ADDRESS_VAR if SNMP_ADDRESS_VAR in hv else "ansible_host"
        address = hv.get(SNMP_ADDRESS_VAR, hv.get("ansible_host", hv.get("ansible_ssh_host", name)))
        row = {
            "name": name,
            "address": deref(address, hv, f"switch {name!r}: {var}"),
            "credentials": deref(hv.get(CREDENTIALS_VAR, "default"), hv, CREDENTIALS_VAR),
            "vendor": vendor_of(deref(hv.get(NETWORK_OS_VAR), hv, NETWORK_OS_VAR)),
        }
        for var, key in PASTED_VARS.items():
            if hv.get(var) is not None:
                row[key] = deref(hv[var], hv, var)
        port = hv.get(SNMP_PORT_VAR)
        if port is not None:
            port = deref(port, hv, SNMP_PORT_VAR)
            row["port"] = parse_int_or_none(port, 1, 65535) if isinstance(port, str) else port
        rows.append(row)
    if not rows:
        return None
    return parse({"switches": rows}, f"{source}: switches", _folder(source))


def _folder(source: str) -> Path:
    """The folder pasted files are relative to: the (first) inventory's, or the
    inventory directory itself."""
    path = Path(source.split(", ")[0])
    return path if path.is_dir() else path.parent
