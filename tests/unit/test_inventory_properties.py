"""Property-based tests: random and hostile inventories never raise anything but UsageError."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jumbopath.errors import UsageError
from jumbopath.mesh.inventory import (
    FORMATS,
    Inventory,
    load_inventory,
    load_yaml_text,
    parse_ini,
    parse_jumbopath,
    parse_yaml,
)
from jumbopath.mesh.inventory.yamlload import LineLoader, PureLineLoader

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    """One folder for every example (no group_vars/ or host_vars/ in it)."""
    with tempfile.TemporaryDirectory(prefix="jp-inv-") as name:
        yield Path(name)


def outcome(call: Callable[[], Any]) -> Any:
    """Run one reader; only an Inventory, a parsed document or one UsageError line may come out."""
    try:
        return call()
    except UsageError as exc:
        message = str(exc)
        assert "\n" not in message and "\r" not in message
        assert re.search(r"[\x00-\x1f\x7f-\x9f]", message) is None
        assert len(message) <= 1000
        return exc


def load_all_formats(folder: Path, name: str, content: str | bytes) -> None:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    for fmt in FORMATS:
        result = outcome(lambda fmt=fmt: load_inventory(path, fmt))
        assert isinstance(result, (Inventory, UsageError))


# ------------------------------------------------------------------ strategies

# characters that mean something to YAML or INI, and a few that must never pass
SYNTAX = ":-[]{}&*!|>'\"%@`#,?=;\n\t .0123456789abcnsmtuhv\x00\x1b\u202e\ufeff"
names = st.sampled_from(
    ["all", "hosts", "children", "vars", "networks", "mtu", "family", "ssh", "user", "port",
     "command", "identity_file", "defaults", "jumbopath_networks", "jumbopath_addresses",
     "ansible_host", "ansible_user", "ansible_port", "var", "storage", "s", "h1", "h2", "..",
     "a/b", "n[1:3]", "x\n", "-o"]
)  # fmt: skip
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(
        ["9000", "198.18.1.1", "2001:db8::1", "fe80::1%eth0", "fe80::1%e;x", "{{ s }}",
         "{{ x | y }}", "-oProxyCommand=x", "a;b", "sudo -n jumbopath", "$(x)", "storage_ip"]
    ),
)  # fmt: skip
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(names, st.text(max_size=8), st.integers()), inner, max_size=5),
    ),
    max_leaves=30,
)
yaml_like = st.text(alphabet=st.sampled_from(SYNTAX), max_size=300)


@st.composite
def ini_documents(draw: st.DrawFn) -> str:
    """INI text built from the pieces real inventories are made of, and broken ones."""
    line = st.one_of(
        st.builds(lambda n: f"[{n}]", names),
        st.builds(lambda n, k: f"[{n}:{k}]", names, st.sampled_from(["vars", "children", "x"])),
        st.builds(
            lambda h, k, v: f"{h} {k}={v}",
            st.sampled_from(["h1", "h2:2222", "n[01:03]", "n[0:99][0:99]", "..", "x[", "'q"]),
            names,
            st.one_of(st.sampled_from(["198.18.1.1", "{'s': 1}", "[1", "'a b'"]), st.text()),
        ),
        st.just('jumbopath_networks={"s": {"mtu": 9000, "var": "s"}}'),
        st.just("s=198.18.1.1"),
        names,
        st.text(max_size=30),
    )
    return "\n".join(draw(st.lists(line, max_size=12)))


@st.composite
def alias_documents(draw: st.DrawFn) -> str:
    """Anchors and aliases: chains with fan-out, sometimes recursive or undefined."""
    levels = draw(st.integers(1, 10))
    fan = draw(st.integers(1, 12))
    parts = ["&a0 [lol, {mtu: 9000}]"]
    for i in range(1, levels):
        parts.append(f"&a{i} [" + ", ".join([f"*a{i - 1}"] * fan) + "]")
    if draw(st.booleans()):
        parts.append(f"&r [*r, *a{levels - 1}]")
    if draw(st.booleans()):
        parts.append("*undefined")
    where = draw(st.sampled_from(["all:\n  hosts:\n    h: [{}]\n", "networks: {{s: [{}]}}\n"]))
    return where.format(", ".join(parts))


@st.composite
def deep_documents(draw: st.DrawFn) -> str:
    depth = draw(st.integers(1, 1500))
    kind = draw(st.sampled_from(["flow-seq", "flow-map", "block"]))
    if kind == "flow-seq":
        return "networks: " + "[" * depth + "]" * depth
    if kind == "flow-map":
        return "all: " + "{a: " * depth + "1" + "}" * depth
    depth = min(depth, 200)
    return "".join(" " * i + f"k{i}:\n" for i in range(depth))


# ------------------------------------------------------------------ properties


@SETTINGS
@given(text=yaml_like)
def test_random_yaml_like_text(folder: Path, text: str) -> None:
    for loader in (LineLoader, PureLineLoader):
        outcome(lambda loader=loader: load_yaml_text(text, "t.yml", loader))
    load_all_formats(folder, "t.yml", text)
    outcome(lambda: parse_ini(text, str(folder / "t.ini")))


@SETTINGS
@given(text=st.text(max_size=200))
def test_random_unicode_text(folder: Path, text: str) -> None:
    load_all_formats(folder, "hosts", text)


@SETTINGS
@given(data=st.binary(max_size=300))
def test_random_bytes(folder: Path, data: bytes) -> None:
    load_all_formats(folder, "inv.yml", data)


@SETTINGS
@given(data=documents)
def test_random_nested_data_to_the_parsers(folder: Path, data: Any) -> None:
    source = str(folder / "d.yml")
    outcome(lambda: parse_jumbopath(data, source))
    outcome(lambda: parse_yaml(data, source))
    outcome(lambda: parse_ini(yaml.safe_dump(data, default_flow_style=True), source))


@SETTINGS
@given(data=documents)
def test_random_nested_data_as_files(folder: Path, data: Any) -> None:
    load_all_formats(folder, "d.yml", yaml.safe_dump(data, allow_unicode=True))


@SETTINGS
@given(text=ini_documents())
def test_random_ini(folder: Path, text: str) -> None:
    load_all_formats(folder, "hosts.ini", text)
    load_all_formats(folder, "hosts", text)


@SETTINGS
@given(text=alias_documents())
def test_aliases(folder: Path, text: str) -> None:
    load_all_formats(folder, "a.yml", text)
    outcome(lambda: load_yaml_text(text, "a.yml", PureLineLoader))


@settings(SETTINGS, max_examples=15)
@given(text=deep_documents())
def test_deep_nesting(folder: Path, text: str) -> None:
    load_all_formats(folder, "deep.yml", text)
    outcome(lambda: load_yaml_text(text, "deep.yml", PureLineLoader))


@SETTINGS
@given(
    networks=st.dictionaries(names, documents, max_size=3),
    hosts=st.dictionaries(names, st.dictionaries(names, scalars, max_size=4), max_size=4),
)
def test_ansible_shaped_documents(folder: Path, networks: Any, hosts: Any) -> None:
    """Documents close to real Ansible inventories reach the deeper checks."""
    data = {"all": {"vars": {"jumbopath_networks": networks}, "hosts": hosts}}
    outcome(lambda: parse_yaml(data, str(folder / "a.yml")))
    ini = "[g]\n" + "\n".join(
        f"{h} " + " ".join(f"{k}={v!r}" for k, v in hv.items()) for h, hv in hosts.items()
    )
    ini += f"\n[all:vars]\njumbopath_networks={networks!r}\n"
    outcome(lambda: parse_ini(ini, str(folder / "a.ini")))
