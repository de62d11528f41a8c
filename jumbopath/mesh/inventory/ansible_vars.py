"""Ansible's ``group_vars/`` and ``host_vars/`` folders beside an inventory file.

For a group or host NAME, Ansible reads ``NAME``, ``NAME.yml``, ``NAME.yaml``,
``NAME.json`` and every such file inside a folder ``NAME/``. Names are
validated before they become paths (``..`` or ``a/b`` never reach the file
system), and every file read must resolve to a place inside its folder (a
link pointing elsewhere is refused). Files wholly encrypted with
ansible-vault are skipped; ``!vault`` values read as an opaque marker.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from jumbopath.mesh.inventory.validate import (
    MAX_VAR_FILES,
    bad,
    check_count,
    check_name,
)
from jumbopath.mesh.inventory.yamlload import VarsLoader, load_yaml_text, read_text

_SUFFIXES = (".yml", ".yaml", ".json")


class VarFiles:
    """Reads variables files for one inventory, at most :data:`MAX_VAR_FILES` in all."""

    def __init__(self, source: str, base: Path | None = None) -> None:
        self.source = source
        self.base = Path(source).parent if base is None else base
        """Folder holding group_vars/ and host_vars/ (the inventory file's, or the directory)."""
        self.read = 0
        self.encrypted: list[Path] = []
        """Wholly vault-encrypted files seen (and skipped)."""

    def present(self) -> bool:
        """Whether the inventory has a group_vars/ or host_vars/ folder beside it."""
        return any(_is_dir(self.base / kind) for kind in ("group_vars", "host_vars"))

    def merge(self, kind: str, owners: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Update each (name, variables) from ``kind``/ (group_vars or host_vars)."""
        folder = self.base / kind
        if not _is_dir(folder):
            return
        root = folder.resolve()
        for name, variables in owners:
            for path in self.files(folder, root, name):
                variables.update(self.load(path))

    def files(self, folder: Path, root: Path, name: str) -> list[Path]:
        """The files Ansible reads for ``name`` in ``folder``, each checked to stay inside."""
        check_name(self.source, f"{folder.name} file", name)
        found: list[Path] = []
        for candidate in (folder / name, *(folder / f"{name}{ext}" for ext in _SUFFIXES)):
            if _is_file(candidate):
                found.append(candidate)
            elif _is_dir(candidate):
                found += self._folder(candidate)
        for path in found:
            try:
                inside = path.resolve().is_relative_to(root)
            except (OSError, RuntimeError):
                inside = False
            if not inside:
                raise bad(
                    str(path),
                    None,
                    f"leads outside {folder}/ (a link?): jumbopath reads variables only "
                    "from files inside it",
                )
        self.read += len(found)
        check_count(self.source, self.read, MAX_VAR_FILES, "group_vars/host_vars files")
        return found

    def _folder(self, folder: Path) -> list[Path]:
        try:
            entries = list(itertools.islice(folder.iterdir(), MAX_VAR_FILES + 1))
        except OSError as exc:
            raise bad(str(folder), None, f"cannot list: {exc.strerror or exc}") from exc
        check_count(str(folder), len(entries), MAX_VAR_FILES, "files in one folder")
        return sorted(p for p in entries if p.suffix in ("", *_SUFFIXES) and _is_file(p))

    def load(self, path: Path) -> Mapping[str, Any]:
        """One variables file (``{}`` when it is wholly vault-encrypted)."""
        text = read_text(path, "variables file")
        if text.lstrip().startswith("$ANSIBLE_VAULT;"):
            self.encrypted.append(path)
            return {}  # a wholly encrypted file: nothing jumbopath needs can be in it
        data = load_yaml_text(text, str(path), VarsLoader)
        if data is None:
            return {}
        if not isinstance(data, Mapping):
            raise bad(str(path), None, f"expected variables (a mapping), not {type(data).__name__}")
        return data


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False
