"""Checks for every value an inventory brings in, and the limits on its size.

Inventories come from outside: each value is validated where it enters,
every failure is one :class:`~jumbopath.errors.UsageError` line naming the
file (and line when known), and a value is never shown whole: :func:`show`
gives at most :data:`SHOWN` characters, made safe for a terminal.
"""

from __future__ import annotations

import ipaddress
import re
import reprlib
import shlex
from enum import Enum
from typing import Any, TypeVar

from jumbopath.errors import UsageError
from jumbopath.mesh.inventory.model import (
    DEFAULT_COMMAND,
    Agent,
    HostOS,
    Inventory,
    MeshHost,
    Network,
)
from jumbopath.safe import safe_text

# ------------------------------------------------------------------ limits

MAX_FILE_BYTES = 4 * 1024 * 1024
"""Largest inventory or variables file read."""
MAX_DEPTH = 32
"""Deepest nesting of YAML collections, and of Ansible groups."""
MAX_YAML_NODES = 300_000
"""YAML nodes (scalars and collections) in one document."""
MAX_ALIAS_NODES = 10_000
"""YAML nodes that aliases (``*name``) may repeat in one document, in all."""
MAX_HOSTS = 10_000
"""Distinct hosts in one inventory (after host ranges are expanded)."""
MAX_HOST_ENTRIES = 50_000
"""Host entries in one inventory, counting a host once per group it is listed in."""
MAX_GROUPS = 2_000
"""Ansible groups in one inventory."""
MAX_NETWORKS = 256
"""Networks in one inventory."""
MAX_VAR_FILES = 1_000
"""``group_vars/``/``host_vars/`` files read for one inventory."""
MAX_NAME = 253
"""Longest host, group or network name (a DNS name's limit)."""

SHOWN = 60
"""Most characters of an outside value an error message shows."""

_NAME_RE = re.compile(r"[A-Za-z0-9_.:\-\[\]]+")
_HOSTNAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-]*")
_SSH_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")
_USER_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@\-]*\$?")
_SCOPE_RE = re.compile(r"[A-Za-z0-9_.\-]{1,15}")
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f]")
_COMMAND_BAD = re.compile(r"[;&|<>()`#]|\$\(")


class _Short(reprlib.Repr):
    """reprlib that also keeps subclasses (a YAML mapping is a dict subclass) and bytes short."""

    def repr1(self, x: Any, level: int) -> str:
        if isinstance(x, dict):
            return self.repr_dict(x, level)
        if isinstance(x, list):
            return self.repr_list(x, level)
        if isinstance(x, str):
            return self.repr_str(x[: self.maxstring + 1], level)
        if isinstance(x, (bytes, bytearray)):
            return repr(bytes(x[: self.maxstring])) + ("..." if len(x) > self.maxstring else "")
        return super().repr1(x, level)


_repr = _Short()
_repr.maxlevel = 3
_repr.maxstring = _repr.maxother = _repr.maxlong = SHOWN
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = _repr.maxfrozenset = 4


def show(value: Any) -> str:
    """``value`` for an error message: its repr, at most ~:data:`SHOWN` characters, safe.

    The repr is built with bounded effort (a few levels, a few items), so a
    value that expands to gigabytes never is.
    """
    try:
        text = _repr.repr(value)
    except Exception:  # noqa: BLE001 - a repr that fails must not hide the real error
        text = f"<{type(value).__name__}>"
    return safe_text(text, SHOWN)


def bad(source: str, line: int | None, what: str) -> UsageError:
    """A one-line UsageError that names the file and, when known, the line."""
    where = f"{source}:{line}" if line else source
    return UsageError(safe_text(f"{where}: {what}", 1000))


def check_count(source: str, count: int, limit: int, what: str, line: int | None = None) -> None:
    """Refuse an inventory with more than ``limit`` of ``what``."""
    if count > limit:
        raise bad(source, line, f"more than {limit} {what}: jumbopath reads at most {limit}")


# ------------------------------------------------------------------ numbers


def _number(value: Any) -> Any:
    """A short string of ASCII digits as an int; anything else unchanged."""
    if isinstance(value, str) and re.fullmatch(r"[ \t]*[0-9]{1,9}[ \t]*", value):
        return int(value)
    return value


def check_mtu(source: str, network: str, value: Any, line: int | None = None) -> int:
    """An MTU from an inventory, validated (68..65535, RFC 791 / RFC 8200 limits)."""
    value = _number(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad(
            source, line, f"network {network!r}: mtu must be a number like 9000, not {show(value)}"
        )
    if not 68 <= value <= 65535:
        raise bad(source, line, f"network {network!r}: mtu {show(value)} is outside 68..65535")
    return value


def check_port(source: str, host: str, value: Any, line: int | None = None) -> int | None:
    """An SSH port, validated; None when unset."""
    if value is None or value == "":
        return None
    value = _number(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise bad(source, line, f"host {host!r}: port must be a number 1..65535, not {show(value)}")
    return value


def check_family(source: str, network: str, value: Any, line: int | None = None) -> int | None:
    """``family: 4|6`` of a network, validated; None when unset."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip() in ("4", "6"):
        value = int(value.strip())
    if isinstance(value, bool) or value not in (4, 6):
        raise bad(source, line, f"network {network!r}: family must be 4 or 6, not {show(value)}")
    return int(value)


# ------------------------------------------------------------------ names and addresses


def _ip(text: str) -> str | None:
    """``text`` as a normalised IP address; an IPv6 scope must be an interface name."""
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    scope = getattr(addr, "scope_id", None)
    if scope is not None and not _SCOPE_RE.fullmatch(scope):
        return None
    return str(addr)


def check_address(source: str, network: str, host: str, value: Any, line: int | None = None) -> str:
    """A host's address on a network: an IP address or a host name."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value).strip() == "":
        raise bad(
            source,
            line,
            f"network {network!r}: host {host!r} needs an address (like 198.18.1.11) "
            f"or a name, not {show(value)}",
        )
    text = str(value).strip()
    if len(text) <= MAX_NAME:
        ip = _ip(text)
        if ip is not None:
            return ip
        labels = text.rstrip(".").split(".")
        if (
            _HOSTNAME_RE.fullmatch(text)
            and all(0 < len(label) <= 63 for label in labels)  # RFC 1035 section 2.3.4
            and not labels[-1].isdigit()  # RFC 3696 section 2: a top label is never all digits
        ):
            return text
    raise bad(
        source,
        line,
        f"network {network!r}: host {host!r} has {show(text)}, which is neither an IP address "
        "nor a host name",
    )


def check_name(source: str, kind: str, value: Any, line: int | None = None) -> str:
    """A host, group or network name: letters, digits and ``. _ - :`` (not only dots)."""
    if not isinstance(value, (str, int)) or isinstance(value, bool) or not str(value):
        raise bad(source, line, f"{kind} name must be text, not {show(value)}")
    text = str(value)
    if len(text) > MAX_NAME:
        raise bad(source, line, f"{kind} name {show(text)} is longer than {MAX_NAME} characters")
    if not _NAME_RE.fullmatch(text) or not text.strip("."):
        raise bad(
            source,
            line,
            f"{kind} name {show(text)} may only hold letters, digits and . _ - : "
            "(and not only dots)",
        )
    return text


# ------------------------------------------------------------------ how to reach a host


def _text(source: str, host: str, key: str, value: Any, limit: int, line: int | None) -> str:
    """A setting that must be text: no control characters, no leading '-', bounded."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise bad(source, line, f"host {host!r}: {key} must be text, not {show(value)}")
    text = str(value)
    if not text.strip():
        raise bad(source, line, f"host {host!r}: {key} is empty")
    if len(text) > limit:
        raise bad(source, line, f"host {host!r}: {key} is longer than {limit} characters")
    if _CONTROL_RE.search(text):
        raise bad(source, line, f"host {host!r}: {key} {show(text)} holds control characters")
    if text.startswith("-"):
        raise bad(
            source,
            line,
            f"host {host!r}: {key} {show(text)} starts with '-', which ssh would read as an option",
        )
    return text


def check_user(source: str, host: str, value: Any, line: int | None = None) -> str | None:
    """A remote user name (``ssh -l``); None when unset."""
    if value is None or value == "":
        return None
    text = _text(source, host, "user", value, 128, line)
    if not _USER_RE.fullmatch(text):
        raise bad(
            source,
            line,
            f"host {host!r}: user {show(text)} may only hold letters, digits and . _ - @ "
            "(ssh may hand it to a shell)",
        )
    return text


def check_ssh_host(source: str, host: str, value: Any, line: int | None = None) -> str:
    """What ``ssh`` connects to: an IP address, a host name or alias, optionally ``user@``."""
    text = _text(source, host, "ssh target", value, MAX_NAME + 129, line)
    target = text
    if "@" in text:
        user, target = text.rsplit("@", 1)
        check_user(source, host, user, line)
    if len(target) > MAX_NAME or (_ip(target) is None and not _SSH_NAME_RE.fullmatch(target)):
        raise bad(
            source,
            line,
            f"host {host!r}: ssh target {show(text)} must be an IP address, a host name or a "
            "~/.ssh/config alias (letters, digits and . _ -; ssh may hand it to a shell)",
        )
    return text


_SHELL_CHARS = set("`$;&|<>()\\\"'*?[]{}!#")


def check_identity(source: str, host: str, value: Any, line: int | None = None) -> str | None:
    """A private key file (``ssh -i``); None when unset. A path, not shell text: ssh never
    hands it to a shell, but a path with shell characters is a mistake or an attack."""
    if value is None or value == "":
        return None
    text = _text(source, host, "identity_file", value, 4096, line)
    if text.startswith("-") or _SHELL_CHARS & set(text):
        raise bad(
            source,
            line,
            f"host {host!r}: identity_file {show(text)} must be a plain path "
            "(no leading - and no shell characters)",
        )
    return text


def check_command(source: str, host: str, value: Any, line: int | None = None) -> str:
    """The remote command: plain shell words, run as the first words of each check."""
    text = _text(source, host, "command", value, 1024, line)
    if _COMMAND_BAD.search(text):
        raise bad(
            source,
            line,
            f"host {host!r}: command {show(text)} must be plain words like 'sudo -n jumbopath' "
            "(no ; & | < > ( ) ` # or $( )",
        )
    try:
        shlex.split(text)
    except ValueError as exc:
        raise bad(source, line, f"host {host!r}: command {show(text)}: {exc}") from exc
    return text


def make_host(
    source: str,
    name: str,
    line: int | None,
    *,
    ssh: Any = None,
    user: Any = None,
    port: Any = None,
    command: Any = None,
    identity_file: Any = None,
    agent: Any = None,
    os: Any = None,
    vmk: Any = None,
    netstack: Any = None,
) -> MeshHost:
    """A :class:`MeshHost` whose every setting has been validated."""
    return MeshHost(
        name=name,
        ssh_host=check_ssh_host(source, name, name if ssh is None or ssh == "" else ssh, line),
        user=check_user(source, name, user, line),
        port=check_port(source, name, port, line),
        command=check_command(source, name, command or DEFAULT_COMMAND, line),
        identity_file=check_identity(source, name, identity_file, line),
        agent=check_choice(source, name, "agent", Agent, agent, Agent.JUMBOPATH, line),
        os=check_choice(source, name, "os", HostOS, os, HostOS.LINUX, line),
        vmk=check_per_network(source, name, "vmk", _VMK_RE, vmk, line),
        netstack=check_per_network(source, name, "netstack", _NETSTACK_RE, netstack, line),
    )


_VMK_RE = re.compile(r"^vmk[0-9]{1,4}$")
_NETSTACK_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")


def check_per_network(
    source: str, host: str, what: str, pattern: re.Pattern[str], value: Any, line: int | None
) -> tuple[tuple[str, str], ...]:
    """A mapping of network names to one ESXi setting each (``{storage: vmk1}``)."""
    if value is None or value == "" or value == {}:
        return ()
    if not isinstance(value, dict):
        raise bad(
            source,
            line,
            f"host {host!r}: {what} must map networks to names, e.g. "
            f"{{storage: {'vmk1' if what == 'vmk' else 'defaultTcpipStack'}}}",
        )
    check_count(source, len(value), MAX_NETWORKS, f"{what} entries", line)
    out = []
    for network, name in value.items():
        network = check_name(source, "network", network, line)
        if not isinstance(name, str) or not pattern.match(name):
            raise bad(
                source,
                line,
                f"host {host!r}: {what} {show(name)} for {network!r} is not "
                + ("a VMkernel interface like vmk1" if what == "vmk" else "a netstack name"),
            )
        out.append((network, name))
    return tuple(out)


C = TypeVar("C", bound=Enum)


def check_choice(
    source: str, host: str, what: str, kind: type[C], value: Any, default: C, line: int | None
) -> C:
    """One of an enum's values (case-insensitive); ``default`` when unset."""
    if value is None or value == "":
        return default
    text = value.strip().lower() if isinstance(value, str) else value
    for choice in kind:
        if choice.value == text:
            return choice
    raise bad(
        source,
        line,
        f"host {host!r}: {what} {show(value)} is not one of: {', '.join(c.value for c in kind)}",
    )


# ------------------------------------------------------------------ the whole


def finish(
    source: str,
    hosts: dict[str, MeshHost],
    networks: list[Network],
) -> Inventory:
    """Keep the hosts that are on some network; refuse an inventory with nothing to check."""
    networks = [n for n in networks if n.members]
    if not networks:
        raise bad(
            source,
            None,
            "no host has an address on any network: give each network an mtu and its "
            "hosts' addresses (see examples/inventory.yml)",
        )
    order = list(hosts)
    members = {h for n in networks for h in n.hosts}
    for h in sorted(members - set(hosts)):
        hosts[h] = make_host(source, h, None)
        order.append(h)
    return Inventory(
        hosts=tuple(hosts[h] for h in order if h in members),
        networks=tuple(networks),
        source=source,
    )
