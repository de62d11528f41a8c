"""Reading inventory sources in any supported format, detected or forced.

Formats: ``jumbopath`` (its own YAML), ``ansible-yaml`` and ``ansible-ini``
(the built-in readers; also directories of such files), and ``ansible``
(Ansible itself reads the sources: :mod:`.ansible_source`). ``auto`` picks:

- jumbopath's own YAML: always read here;
- a directory, several sources: Ansible when it is installed and
  ``ansible.prefer``, else the built-in reader of directories;
- an executable or ``*.py`` (a dynamic inventory), a plugin configuration
  (``plugin:``), or vault options given: Ansible, which must be installed;
- any other Ansible file: Ansible when installed and ``ansible.prefer``
  (``mesh`` and ``report`` prefer it), else the built-in readers.

Every static file Ansible is given is first read within jumbopath's limits
(:func:`.ansible_dir.screen`).
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from jumbopath.errors import UsageError
from jumbopath.mesh.inventory import ansible_run
from jumbopath.mesh.inventory.ansible_dir import (
    is_dir,
    is_file,
    is_plugin_config,
    needs_ansible,
    read_static,
    screen,
)
from jumbopath.mesh.inventory.ansible_ini import parse_ini
from jumbopath.mesh.inventory.ansible_run import INSTALL, AnsibleOptions, NeedsAnsible
from jumbopath.mesh.inventory.ansible_source import describe, read_with_ansible
from jumbopath.mesh.inventory.ansible_yaml import parse_yaml
from jumbopath.mesh.inventory.model import Inventory
from jumbopath.mesh.inventory.own_yaml import NET_KEYS, parse_jumbopath
from jumbopath.mesh.inventory.validate import bad
from jumbopath.mesh.inventory.yamlload import load_yaml_text, read_text
from jumbopath.safe import safe_text

FORMATS = ("auto", "jumbopath", "ansible-yaml", "ansible-ini", "ansible")
"""Accepted values of ``--inventory-format``."""

_YAML = (".yml", ".yaml", ".json")
_INI_HEADER = re.compile(r"\[[A-Za-z0-9_.\-]+(:[a-z]+)?\]")


def detect_format(path: Path, data: Any | None) -> str:
    """Guess the format of an inventory source from its name, mode and content.

    "ansible" for what only Ansible reads: a directory (the built-in reader
    stands in without Ansible), an executable or ``*.py``, a plugin
    configuration (``plugin:``).
    """
    if is_dir(path) or (is_file(path) and needs_ansible(path)) or is_plugin_config(data):
        return "ansible"
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


def load_inventory(
    path: str | Path | Sequence[str | Path],
    fmt: str = "auto",
    ansible: AnsibleOptions | None = None,
) -> Inventory:
    """Read one inventory source (or several, merged as Ansible merges ``-i`` sources).

    ``ansible`` says how to ask Ansible (vault options, whether to prefer
    it); None: only for what the built-in readers cannot read.
    """
    if fmt not in FORMATS:
        raise UsageError(
            f"unknown inventory format {safe_text(fmt, 60)!r}; use one of: {', '.join(FORMATS)}"
        )
    sources = [Path(path)] if isinstance(path, (str, Path)) else [Path(p) for p in path]
    if not sources:
        raise UsageError("give an inventory")
    options = ansible if ansible is not None else AnsibleOptions(prefer=False)
    names = [str(p) for p in sources]
    for p in sources:
        if not is_dir(p) and not is_file(p) and not (fmt == "ansible" and "," in str(p)):
            raise bad(str(p), None, "no such inventory file or directory")
    if fmt == "ansible":
        return _ansible(sources, options, "")
    if options.vault:
        return _ansible(sources, options, "vault options")
    if len(sources) > 1 or is_dir(sources[0]):
        if fmt == "jumbopath":
            raise bad(describe(names), None, "a jumbopath inventory is one file")
        scripts = [p for p in sources if is_file(p) and needs_ansible(p)]
        if scripts:
            return _ansible(sources, options, f"{scripts[0]} is {needs_ansible(scripts[0])}")
        if fmt == "auto" and _prefer(options):
            return _with_ansible(sources, options)
        return _built_in(sources, options, lambda: read_static(sources, describe(names)))
    return _built_in(sources, options, lambda: _load_file(sources[0], fmt, options))


def _built_in(
    sources: Sequence[Path], options: AnsibleOptions, read: Callable[[], Inventory]
) -> Inventory:
    """A built-in reading; what only Ansible can read goes to Ansible when it is installed."""
    try:
        return read()
    except NeedsAnsible:
        if ansible_run.find_ansible_inventory() is None:
            raise
    return _with_ansible(sources, options)


def _prefer(options: AnsibleOptions) -> bool:
    return options.prefer and ansible_run.find_ansible_inventory() is not None


def _ansible(sources: Sequence[Path], options: AnsibleOptions, why: str) -> Inventory:
    """Sources only Ansible can read (``why``): Ansible must be installed."""
    if ansible_run.find_ansible_inventory() is None:
        what = f"{why}: " if why else ""
        raise bad(
            describe([str(p) for p in sources]), None, f"{what}only Ansible reads it: {INSTALL}"
        )
    return _with_ansible(sources, options)


def _with_ansible(sources: Sequence[Path], options: AnsibleOptions) -> Inventory:
    screen(sources)
    return read_with_ansible([str(p) for p in sources], options)


def _load_file(p: Path, fmt: str, options: AnsibleOptions) -> Inventory:
    """One inventory file."""
    source = str(p)
    if fmt == "auto":
        why = needs_ansible(p)
        if why is not None:
            return _ansible([p], options, why)
    text = read_text(p)
    if fmt == "ansible-ini":
        return parse_ini(text, source)
    suffix = p.suffix.lower()
    if fmt == "auto" and (suffix in (".ini", ".cfg") or (suffix not in _YAML and _looks_ini(text))):
        return _ini(p, text, options)
    try:
        data = load_yaml_text(text, source)
    except UsageError:
        if fmt == "auto" and suffix not in _YAML:
            return _ini(p, text, options)  # INI that YAML cannot read
        raise
    if fmt == "auto":
        if suffix not in _YAML and not isinstance(data, Mapping):
            return _ini(p, text, options)
        fmt = detect_format(p, data)
        if fmt == "ansible":
            return _ansible([p], options, "an inventory plugin configuration (plugin:)")
        if fmt == "ansible-yaml" and _prefer(options):
            return _with_ansible([p], options)
    if fmt == "jumbopath":
        return parse_jumbopath(data, source)
    if fmt == "ansible-yaml":
        return parse_yaml(data, source)
    return parse_ini(text, source)


def _ini(p: Path, text: str, options: AnsibleOptions) -> Inventory:
    """An INI file met by detection: Ansible reads it when preferred."""
    if _prefer(options):
        return _with_ansible([p], options)
    return parse_ini(text, str(p))


def _looks_ini(text: str) -> bool:
    """True when a line near the top is an INI section header ([group], [group:vars])."""
    for raw in itertools.islice(io.StringIO(text), 200):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if _INI_HEADER.fullmatch(line):
            return True
    return False
