"""Read every switch a file (or the command line) names and build the map."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from jumbopath.errors import UsageError
from jumbopath.switches.credentials import Credentials
from jumbopath.switches.files import PollSpec, SwitchesFile
from jumbopath.switches.graph import L2Graph, build

if TYPE_CHECKING:
    from jumbopath.switches.snmp import Target


def survey(
    spec: SwitchesFile,
    credentials: Mapping[str, Credentials],
    *,
    timeout_s: float = 1.0,
    retries: int = 1,
    max_time_s: float = 10.0,
) -> L2Graph:
    """Poll the switches to poll (all at once), add the given ones, build the map."""
    polled = []
    if spec.poll:
        from jumbopath.switches.snmp import poll

        targets = [_target(p, credentials) for p in spec.poll]
        polled = poll(targets, timeout_s=timeout_s, retries=retries, max_time_s=max_time_s)
    return build([*polled, *spec.given], spec.hosts)


def _target(p: PollSpec, credentials: Mapping[str, Credentials]) -> Target:

    found = credentials.get(p.credentials)
    if found is None:
        raise UsageError(
            f"no SNMP credentials {p.credentials!r} for switch {p.name}: set "
            "JUMBOPATH_SNMP_COMMUNITY (v2c) or JUMBOPATH_SNMP_USER/_AUTH_KEY/_PRIV_KEY (v3), "
            "or give --credentials FILE with that profile"
        )
    from jumbopath.switches.snmp import Target

    return Target(p.name, p.address, found, p.port, p.vendor)


def specs_from_args(args: Sequence[str]) -> tuple[PollSpec, ...]:
    """``SWITCH`` arguments: ``ADDRESS`` or ``NAME=ADDRESS``."""
    from jumbopath.switches.files import _address

    out = []
    for arg in args:
        name, _, address = arg.rpartition("=")
        address = _address("command line", address, "SWITCH")
        out.append(PollSpec(name or address, address))
    return tuple(out)
