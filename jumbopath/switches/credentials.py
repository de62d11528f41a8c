"""SNMP credentials: from a file only its owner can read, or from the environment.

Never from the command line (every user's ``ps`` shows it) and never
echoed: the secret fields are left out of ``repr`` and of every output.

Environment::

    JUMBOPATH_SNMP_COMMUNITY        v2c community
    JUMBOPATH_SNMP_USER             v3 user (authPriv)
    JUMBOPATH_SNMP_AUTH_PROTOCOL    sha (default), sha224, sha256, sha384, sha512, md5
    JUMBOPATH_SNMP_AUTH_KEY         v3 authentication pass phrase
    JUMBOPATH_SNMP_PRIV_PROTOCOL    aes (default, AES-128), aes192, aes256, des, 3des
    JUMBOPATH_SNMP_PRIV_KEY         v3 privacy pass phrase
    JUMBOPATH_SNMP_CREDENTIALS      a credentials file (instead of the above)

A credentials file is YAML, mode 0600 (or stricter), one profile per name;
a switch picks one with ``credentials: NAME`` (default: ``default``)::

    default: {version: 3, user: monitor, auth_key: "...", priv_key: "..."}
    lab:     {version: 2c, community: "..."}
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jumbopath.errors import UsageError
from jumbopath.outside import read_text
from jumbopath.safe import safe_text

AUTH_PROTOCOLS = ("sha", "sha224", "sha256", "sha384", "sha512", "md5")
"""SNMPv3 authentication protocols (RFC 3414, RFC 7860)."""
PRIV_PROTOCOLS = ("aes", "aes192", "aes256", "des", "3des")
"""SNMPv3 privacy protocols (RFC 3826 AES-128; 192/256 as most agents implement them)."""
MAX_FILE = 64 * 1024
_ENV = "JUMBOPATH_SNMP_"


@dataclass(frozen=True, slots=True)
class Credentials:
    """How to authenticate to one agent. The secrets never appear in ``repr``."""

    version: str
    """``2c`` or ``3``."""
    community: str | None = field(default=None, repr=False)
    """v2c community."""
    user: str | None = None
    """v3 user name (security name)."""
    auth_protocol: str = "sha"
    """v3 authentication protocol (see :data:`AUTH_PROTOCOLS`)."""
    auth_key: str | None = field(default=None, repr=False)
    """v3 authentication pass phrase (at least 8 characters, RFC 3414)."""
    priv_protocol: str = "aes"
    """v3 privacy protocol (see :data:`PRIV_PROTOCOLS`)."""
    priv_key: str | None = field(default=None, repr=False)
    """v3 privacy pass phrase (at least 8 characters)."""

    def describe(self) -> str:
        """What these credentials are, without any secret: ``v3 user monitor (sha/aes)``."""
        if self.version == "2c":
            return "v2c community (hidden)"
        return f"v3 user {safe_text(self.user, 64)} ({self.auth_protocol}/{self.priv_protocol})"


def credentials_from(doc: Mapping[str, Any], where: str) -> Credentials:
    """One profile (a mapping) as credentials; UsageError saying what is wrong."""
    version = str(doc.get("version", "3" if doc.get("user") else "2c")).lower().lstrip("v")
    if version not in ("2c", "3"):
        raise UsageError(f"{where}: SNMP version {version!r}: use 2c or 3 (v1 is not supported)")
    if version == "2c":
        community = doc.get("community")
        if not isinstance(community, str) or not community:
            raise UsageError(f"{where}: SNMPv2c needs a 'community'")
        return Credentials("2c", community=community)
    user, auth_key, priv_key = doc.get("user"), doc.get("auth_key"), doc.get("priv_key")
    if not isinstance(user, str) or not user:
        raise UsageError(f"{where}: SNMPv3 needs a 'user'")
    for name, key in (("auth_key", auth_key), ("priv_key", priv_key)):
        if not isinstance(key, str) or len(key) < 8:
            raise UsageError(
                f"{where}: SNMPv3 needs '{name}' of at least 8 characters "
                "(jumbopath reads switches with authentication and privacy only)"
            )
    auth = str(doc.get("auth_protocol", "sha")).lower().replace("-", "")
    priv = str(doc.get("priv_protocol", "aes")).lower().replace("-", "").replace("128", "")
    if auth not in AUTH_PROTOCOLS:
        raise UsageError(f"{where}: auth_protocol {auth!r}: use one of {', '.join(AUTH_PROTOCOLS)}")
    if priv not in PRIV_PROTOCOLS:
        raise UsageError(f"{where}: priv_protocol {priv!r}: use one of {', '.join(PRIV_PROTOCOLS)}")
    return Credentials(
        "3", user=user, auth_protocol=auth, auth_key=auth_key, priv_protocol=priv, priv_key=priv_key
    )


def load_credentials(path: str | Path) -> dict[str, Credentials]:
    """Every profile of a credentials file (refused if others can read it)."""
    from jumbopath.mesh.inventory.yamlload import load_yaml_text

    path = Path(path)
    text = read_text(path, "credentials file", MAX_FILE, private=True)
    doc = load_yaml_text(text, str(path))  # bounded: depth, nodes, aliases
    if not isinstance(doc, Mapping) or not doc:
        raise UsageError(f"{path}: expected profiles, e.g. 'default: {{version: 2c, ...}}'")
    if "version" in doc or "community" in doc or "user" in doc:
        doc = {"default": doc}
    out = {}
    for name, profile in doc.items():
        if not isinstance(profile, Mapping):
            raise UsageError(f"{path}: profile {safe_text(name, 40)!r} must be a mapping")
        out[str(name)] = credentials_from(profile, f"{path}: profile {safe_text(name, 40)}")
    return out


def credentials_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Credentials]:
    """The ``default`` profile from the environment (or the file it names); may be empty."""
    env = os.environ if environ is None else environ
    path = env.get(_ENV + "CREDENTIALS")
    if path:
        return load_credentials(path)
    doc: dict[str, str] = {}
    for key in ("community", "user", "auth_protocol", "auth_key", "priv_protocol", "priv_key"):
        value = env.get(_ENV + key.upper())
        if value:
            doc[key] = value
    if not doc:
        return {}
    return {"default": credentials_from(doc, "the JUMBOPATH_SNMP_* environment")}
