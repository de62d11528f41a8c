"""Reading files from outside: bounded text, and bounded YAML that remembers lines.

:func:`read_text` refuses what :func:`jumbopath.outside.read_bytes` refuses
(anything but a regular file, more than :data:`MAX_FILE_BYTES`), a binary
file and invalid UTF-8. :func:`load_yaml_text` parses with a
``SafeLoader`` subclass that records the line of every mapping and key (for
messages) and refuses, while composing and before anything is built:

- collections nested deeper than :data:`MAX_DEPTH` (PyYAML's composer
  recurses once per level, so a deep document would otherwise end in
  ``RecursionError``);
- more than :data:`MAX_YAML_NODES` nodes (the file size alone would let
  two million tiny ones through, minutes of work and gigabytes);
- aliases that together repeat more than :data:`MAX_ALIAS_NODES` nodes
  (the "billion laughs": nine anchors of nine aliases each make a few
  hundred bytes stand for 10**9 strings), and an alias inside the node it
  names.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
import yaml.cyaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, SequenceNode
from yaml.resolver import Resolver

from jumbopath.mesh.inventory.validate import (
    MAX_ALIAS_NODES,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_YAML_NODES,
    bad,
)
from jumbopath.outside import read_bytes
from jumbopath.safe import safe_text

VAULT_MARKER = "<encrypted with ansible-vault>"
"""What a ``!vault`` value in a variables file reads as (jumbopath never decrypts)."""


def read_text(path: Path, what: str = "inventory") -> str:
    """A file's text: a regular file of at most :data:`MAX_FILE_BYTES`, UTF-8, not binary."""
    source = str(path)
    data = read_bytes(path, what, MAX_FILE_BYTES)
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise bad(source, line, f"a binary file (NUL byte), not an {what}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise bad(
            source, line, f"not UTF-8 text (byte {exc.start}): save the {what} as UTF-8"
        ) from exc


class LimitError(yaml.YAMLError):
    """A document that goes past one of the loader's limits."""

    def __init__(self, problem: str, mark: yaml.Mark | None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark


class LineDict(dict):  # type: ignore[type-arg,unused-ignore]
    """A mapping that remembers its own line and its keys' lines."""

    line: int | None = None
    key_lines: dict[Any, int]


if TYPE_CHECKING:
    _SafeBase = yaml.SafeLoader
elif getattr(yaml, "__with_libyaml__", False):

    class _SafeBase(Composer, yaml.cyaml.CParser, SafeConstructor, Resolver):
        """libyaml scans and parses (fast, not recursive); composing stays in Python."""

        def __init__(self, stream: str) -> None:
            yaml.cyaml.CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

else:
    _SafeBase = yaml.SafeLoader


if TYPE_CHECKING:
    _MixinBase = yaml.SafeLoader
else:
    _MixinBase = object


class _Bounded(_MixinBase):
    """Limits applied while composing (so before anything is built), on any SafeLoader."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0
        self._alias_nodes = 0
        self._sizes: dict[Node, int] = {}

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        """Compose one node, counting nesting and the nodes that aliases repeat."""
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            target = self.anchors.get(event.anchor)
            if target is not None:
                size = self._sizes.get(target)
                if size is None:
                    raise LimitError(
                        f"the alias *{safe_text(event.anchor, 40)} is inside the node it "
                        "names (a recursive alias)",
                        event.start_mark,
                    )
                self._alias_nodes += size
                if self._alias_nodes > MAX_ALIAS_NODES:
                    raise LimitError(
                        f"aliases repeat more than {MAX_ALIAS_NODES} nodes "
                        "(an alias bomb?): write the values out",
                        event.start_mark,
                    )
            return super().compose_node(parent, index)
        self._nodes += 1
        if self._nodes > MAX_YAML_NODES:
            raise LimitError(
                f"more than {MAX_YAML_NODES} YAML nodes: jumbopath reads at most that many",
                self.peek_event().start_mark,
            )
        nested = self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent)
        if nested:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise LimitError(f"nested more than {MAX_DEPTH} deep", self.peek_event().start_mark)
        try:
            node = super().compose_node(parent, index)
        finally:
            if nested:
                self._depth -= 1
        if node is not None:
            self._sizes[node] = 1 + sum(self._sizes.get(c, 1) for c in _children(node))
        return node


class LineLoader(_Bounded, _SafeBase):
    """A bounded SafeLoader that remembers the line of every mapping (for messages)."""


class PureLineLoader(_Bounded, yaml.SafeLoader):
    """The same on PyYAML's pure-Python parser (used when libyaml is missing)."""


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _construct_mapping(loader: LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping = LineDict(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    keys = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (str, int)):
            keys[key] = key_node.start_mark.line + 1
    mapping.key_lines = keys
    return mapping


for _loader in (LineLoader, PureLineLoader):
    _loader.add_constructor(
        yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
        _construct_mapping,  # type: ignore[arg-type,unused-ignore]
    )


class VarsLoader(LineLoader):
    """The same, for group_vars/host_vars files: ``!vault`` values stay opaque."""


VarsLoader.add_constructor(
    "!vault",
    lambda loader, node: VAULT_MARKER,  # type: ignore[arg-type,return-value,unused-ignore]
)


def line_of(mapping: Any, key: Any = None) -> int | None:
    """The line a key (or the mapping itself) sits on, when the loader recorded it."""
    if isinstance(mapping, LineDict):
        if key is not None and key in getattr(mapping, "key_lines", {}):
            return mapping.key_lines[key]
        return mapping.line
    return None


def load_yaml_text(
    text: str,
    source: str,
    loader: type[LineLoader] = LineLoader,
    at: tuple[int | None, str] | None = None,
) -> Any:
    """Parse YAML from outside; every failure is a one-line UsageError naming the line.

    ``at`` is (line, prefix) for YAML held in one line of another file: the
    message names that line and starts with the prefix.
    """
    if len(text) > MAX_FILE_BYTES:
        raise bad(source, None, f"more than {MAX_FILE_BYTES} characters of YAML")
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader subclass
    except LimitError as exc:
        cause: Exception = exc
        line, problem = _line(exc, text), exc.problem
    except yaml.YAMLError as exc:
        cause = exc
        line = _line(exc, text)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problem = f"not valid YAML: {safe_text(problem, 120)}"
    except (ValueError, TypeError, OverflowError) as exc:
        # PyYAML's constructors: a date that is not a date, an int of 5000 digits
        cause = exc
        line, problem = None, f"not valid YAML: {safe_text(exc, 120)}"
    if at is not None:
        line, problem = at[0], at[1] + problem.removeprefix("not valid YAML: ")
    raise bad(source, line, problem) from cause


def _line(exc: yaml.YAMLError, text: str) -> int | None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        return int(mark.line) + 1
    position = getattr(exc, "position", None)  # a ReaderError: a character YAML refuses
    if isinstance(position, int):
        return text.count("\n", 0, position) + 1
    return None


def load_yaml(path: Path, what: str = "inventory", loader: type[LineLoader] = LineLoader) -> Any:
    """Read and parse a YAML file from outside, within the limits."""
    return load_yaml_text(read_text(path, what), str(path), loader)
