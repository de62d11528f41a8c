"""Inventory directories and several sources read as one, as Ansible reads them.

An Ansible inventory directory holds several inventory files (INI, YAML)
and ``group_vars/``/``host_vars/`` beside them. Ansible reads its entries in
sorted order, going into sub-folders, skipping hidden names, ``group_vars``,
``host_vars``, ``vars_plugins`` and the extensions in :data:`IGNORED_EXTS`
(its ``inventory_ignore_extensions`` default); files ending in ``.yml``,
``.yaml`` or ``.json`` are YAML, the others INI. Every file adds to one set
of groups and hosts (a later file's variables win), then the ``group_vars/``
and ``host_vars/`` of each source's folder are merged, sources in order.

What only Ansible can read (an executable inventory script, a ``*.py``, a
plugin configuration with a ``plugin:`` key, TOML) is named here by
:func:`needs_ansible`; :func:`screen` reads every static file of a source
within jumbopath's limits before Ansible is asked (so a YAML alias bomb
never reaches Ansible's unbounded loader).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from jumbopath.mesh.inventory.ansible_ini import read_ini
from jumbopath.mesh.inventory.ansible_run import INSTALL, NeedsAnsible
from jumbopath.mesh.inventory.ansible_tree import Tree, resolve
from jumbopath.mesh.inventory.ansible_yaml import read_yaml
from jumbopath.mesh.inventory.model import Inventory
from jumbopath.mesh.inventory.validate import MAX_DEPTH, MAX_VAR_FILES, bad, check_count
from jumbopath.mesh.inventory.yamlload import VarsLoader, load_yaml_text, read_text

IGNORED_EXTS = (
    ".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry",
)  # fmt: skip
"""Extensions Ansible skips in an inventory directory (``inventory_ignore_extensions``)."""
MAX_INVENTORY_FILES = 1_000
"""Inventory files read from one directory (sub-folders included)."""

YAML_EXTS = (".yml", ".yaml", ".json")
_IGNORED_NAME = re.compile(r"^\.|^host_vars$|^group_vars$|^vars_plugins$")


def is_dir(path: Path) -> bool:
    """Whether ``path`` is a directory (False for anything that cannot be looked at)."""
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def is_file(path: Path) -> bool:
    """Whether ``path`` is a regular file (False for anything that cannot be looked at)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def is_plugin_config(data: Any) -> bool:
    """Whether parsed YAML is an inventory plugin's configuration (``plugin: NAME``)."""
    return isinstance(data, Mapping) and "plugin" in data


def needs_ansible(path: Path) -> str | None:
    """Why only Ansible can read this file (judged by its name and mode), or None."""
    if path.suffix == ".py":
        return "a Python inventory script"
    if os.access(path, os.X_OK):
        return "an executable (a dynamic inventory script)"
    if path.suffix == ".toml":
        return "a TOML inventory"
    return None


def inventory_files(directory: Path) -> list[Path]:
    """The files of an inventory directory, in the order Ansible reads them."""
    found: list[Path] = []

    def walk(folder: Path, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise bad(str(folder), None, f"folders are nested more than {MAX_DEPTH} deep")
        try:
            names = sorted(os.listdir(folder))
        except OSError as exc:
            raise bad(str(folder), None, f"cannot list: {exc.strerror or exc}") from exc
        check_count(str(folder), len(names), MAX_INVENTORY_FILES, "entries in one folder")
        for name in names:
            if _IGNORED_NAME.search(name) or name.endswith(IGNORED_EXTS):
                continue
            path = folder / name
            if is_dir(path):
                walk(path, depth + 1)
            elif is_file(path):
                found.append(path)
                check_count(str(directory), len(found), MAX_INVENTORY_FILES, "inventory files")

    walk(directory, 0)
    return found


def _files_of(sources: Sequence[Path]) -> Iterator[Path]:
    for src in sources:
        yield from inventory_files(src) if is_dir(src) else [src]


def read_static(sources: Sequence[Path], source: str) -> Inventory:
    """Read files and directories of static INI/YAML inventories as one inventory."""
    tree = Tree(source)
    files = list(_files_of(sources))
    for path in files:
        name = str(path)
        why = needs_ansible(path)
        if why is not None:
            raise NeedsAnsible(bad(name, None, f"{why}: only Ansible reads it: {INSTALL}").args[0])
        tree.source = name
        text = read_text(path)
        if path.suffix.lower() in YAML_EXTS:
            data = load_yaml_text(text, name)
            if is_plugin_config(data):
                raise NeedsAnsible(
                    bad(
                        name,
                        None,
                        f"an inventory plugin configuration: only Ansible reads it: {INSTALL}",
                    ).args[0]
                )
            read_yaml(tree, data, name)
        else:
            read_ini(tree, text, name)
    tree.source = source
    if len(files) != 1:  # lines are per file: a message names the source, not a wrong line
        tree.host_lines = dict.fromkeys(tree.host_lines)
        for group in tree.groups.values():
            group.line = None
    bases = [src if is_dir(src) else src.parent for src in sources]
    return resolve(tree, var_dirs=bases)


def screen(sources: Sequence[Path]) -> None:
    """Read every static file Ansible will read, within jumbopath's limits (before Ansible does)."""
    read = 0
    for path in _files_of([s for s in sources if is_dir(s) or is_file(s)]):
        if needs_ansible(path) is None:
            text = read_text(path)
            if path.suffix.lower() in YAML_EXTS:
                load_yaml_text(text, str(path))
    for src in sources:
        base = src if is_dir(src) else src.parent
        for kind in ("group_vars", "host_vars"):
            root = _resolved(base / kind)
            for path in _var_files(base / kind):
                read += 1
                check_count(str(base), read, MAX_VAR_FILES, "group_vars/host_vars files")
                resolved = _resolved(path)
                if root is None or resolved is None or not resolved.is_relative_to(root):
                    # Ansible follows links; the built-in reader refuses them (ansible_vars)
                    raise bad(
                        str(path),
                        None,
                        f"leads outside {base / kind}/ (a link?): jumbopath reads variables "
                        "only from files inside it",
                    )
                text = read_text(path, "variables file")
                if not text.lstrip().startswith("$ANSIBLE_VAULT;"):
                    load_yaml_text(text, str(path), VarsLoader)


def _resolved(path: Path) -> Path | None:
    """Where ``path`` leads once every link is followed; None when that cannot be told."""
    try:
        return path.resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        return None


def _var_files(folder: Path) -> Iterator[Path]:
    """Every file under a group_vars/ or host_vars/ folder that Ansible may read."""
    if not is_dir(folder):
        return
    stack = [(folder, 0)]
    while stack:
        current, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise bad(str(current), None, f"folders are nested more than {MAX_DEPTH} deep")
        try:
            names = sorted(os.listdir(current))
        except OSError as exc:
            raise bad(str(current), None, f"cannot list: {exc.strerror or exc}") from exc
        check_count(str(current), len(names), MAX_VAR_FILES, "files in one folder")
        for name in names:
            if name.startswith("."):
                continue
            path = current / name
            if is_dir(path):
                stack.append((path, depth + 1))
            elif is_file(path) and path.suffix.lower() in ("", *YAML_EXTS):
                yield path
