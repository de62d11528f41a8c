"""Reading an inventory file in any supported format, detected or forced."""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jumbopath.errors import UsageError
from jumbopath.mesh.inventory.ansible_ini import parse_ini
from jumbopath.mesh.inventory.ansible_yaml import parse_yaml
from jumbopath.mesh.inventory.model import Inventory
from jumbopath.mesh.inventory.own_yaml import NET_KEYS, parse_jumbopath
from jumbopath.mesh.inventory.validate import bad
from jumbopath.mesh.inventory.yamlload import load_yaml_text, read_text
from jumbopath.safe import safe_text

FORMATS = ("auto", "jumbopath", "ansible-yaml", "ansible-ini")
"""Accepted values of ``--inventory-format``."""

_YAML = (".yml", ".yaml", ".json")
_INI_HEADER = re.compile(r"\[[A-Za-z0-9_.\-]+(:[a-z]+)?\]")


def detect_format(path: Path, data: Any | None) -> str:
    """Guess the format of an inventory file from its name and content."""
    if data is None:
        return "ansible-ini"
    if isinstance(data, Mapping):
        if "networks" in data and "all" not in data:
            nets = data["networks"]
            looks_ours = isinstance(nets, Mapping) and all(
                isinstance(v, Mapping) and ("mtu" in v or all(k in NET_KEYS for k in v))
                for v in nets.values()
            )
            if looks_ours:
                return "jumbopath"
        return "ansible-yaml"
    return "ansible-ini"


def load_inventory(path: str | Path, fmt: str = "auto") -> Inventory:
    """Read an inventory file in any supported format."""
    p = Path(path)
    source = str(p)
    if fmt not in FORMATS:
        raise UsageError(
            f"unknown inventory format {safe_text(fmt, 60)!r}; use one of: {', '.join(FORMATS)}"
        )
    try:
        is_file = p.is_file()
    except (OSError, ValueError):  # ValueError: a NUL in the path
        is_file = False
    if not is_file:
        raise bad(source, None, "no such inventory file")
    text = read_text(p)
    if fmt == "ansible-ini":
        return parse_ini(text, source)
    suffix = p.suffix.lower()
    if fmt == "auto" and (suffix in (".ini", ".cfg") or (suffix not in _YAML and _looks_ini(text))):
        return parse_ini(text, source)
    try:
        data = load_yaml_text(text, source)
    except UsageError:
        if fmt == "auto" and suffix not in _YAML:
            return parse_ini(text, source)  # INI that YAML cannot read
        raise
    if fmt == "auto":
        if suffix not in _YAML and not isinstance(data, Mapping):
            return parse_ini(text, source)
        fmt = detect_format(p, data)
    if fmt == "jumbopath":
        return parse_jumbopath(data, source)
    if fmt == "ansible-yaml":
        return parse_yaml(data, source)
    return parse_ini(text, source)


def _looks_ini(text: str) -> bool:
    """True when a line near the top is an INI section header ([group], [group:vars])."""
    for raw in itertools.islice(io.StringIO(text), 200):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if _INI_HEADER.fullmatch(line):
            return True
    return False
