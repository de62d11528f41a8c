"""Pasted switch tables: NX-OS, EOS, Cumulus (nv, ip -j link) and lldpd JSON, real and hostile.

Six fixtures are printed by the devices or tools (napalm's NX-OS/EOS test captures, lldpd
and iproute2 in the switch lab); two are written by hand in the documented shape
(nxos-show-lldp-neighbors-detail.json, cumulus-nv-show-interface.json).
tests/fixtures/switches/README.md names each source.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jumbopath.errors import UsageError
from jumbopath.switches import files, pasted
from jumbopath.switches.graph import build, flags

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "switches"


def doc(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def test_nxos_show_interface() -> None:
    vendor, ports = pasted.interfaces(doc("nxos-show-interface.json"), None)
    assert vendor == "nxos"
    assert [p.name for p in ports][:3] == ["mgmt0", "Ethernet2/1", "Ethernet2/2"]
    first = ports[1]
    assert (first.if_mtu, first.ip_mtu, first.up, first.speed_mbps) == (1500, 1500, True, 1000)
    assert ports[7].up is False  # Ethernet2/7 is down


def test_nxos_lldp_names_the_long_port() -> None:
    spec = files.parse(
        {
            "switches": [
                {
                    "name": "n9k1",
                    "show_interface": "nxos-show-interface.json",
                    "show_lldp": "nxos-show-lldp-neighbors-detail.json",
                }
            ]
        },
        "sw.yaml",
        FIXTURES,
    )
    (sw,) = spec.given
    assert (sw.vendor, sw.vendor_guessed) == ("nxos", True)
    assert [(n.port, n.system, n.port_id, n.addresses) for n in sw.neighbours] == [
        ("mgmt0", "PERIMETER.cisco.com", "Fa1/0/9", ("10.1.100.1",)),
        ("Ethernet2/1", "n9k2.ntc.com", "Ethernet1/1", ("10.1.100.21",)),
        ("Ethernet2/2", "n9k2.ntc.com", "Ethernet1/2", ("10.1.100.21",)),
    ]
    assert [p.index for p in sw.ports] == list(range(1, len(sw.ports) + 1))


def test_eos_show_interfaces_and_lldp() -> None:
    vendor, ports = pasted.interfaces(doc("eos-show-interfaces.json"), None)
    assert vendor == "eos"
    by_name = {p.name: p for p in ports}
    assert (by_name["Ethernet2"].if_mtu, by_name["Ethernet2"].ip_mtu) == (9214, 9214)
    assert by_name["Management1"].ip_mtu == 1500
    assert by_name["Management1"].speed_mbps == 1000
    assert by_name["Ethernet2"].speed_mbps is None  # bandwidth 0: not known
    found = pasted.neighbours(doc("eos-show-lldp-neighbors-detail.json"))
    by_port = {n.port: n for n in found}
    assert by_port["Ethernet8"].system == "78m3"
    assert by_port["Ethernet8"].addresses == ("192.168.8.21",)
    assert by_port["Ethernet8"].max_frame is None  # announced as 0: not announced
    assert by_port["Ethernet47"].port_id == "597"  # EOS quotes some port IDs
    assert by_port["Ethernet47"].max_frame == 1514
    assert "Ethernet12" not in by_port  # no neighbour there


def test_cumulus_nv_and_ip_link() -> None:
    vendor, ports = pasted.interfaces(doc("cumulus-nv-show-interface.json"), None)
    assert vendor == "linux"
    by_name = {p.name: p for p in ports}
    assert (by_name["swp2"].ip_mtu, by_name["swp1"].ip_mtu) == (1500, 9216)
    assert by_name["swp50"].up is False
    vendor, ports = pasted.interfaces(doc("ip-j-link-show.json"), None)
    assert vendor == "linux"
    assert {p.name: p.ip_mtu for p in ports if p.name.startswith("swp")} == {
        "swp1": 9000,
        "swp2": 9000,
        "swp3": 1500,
    }


@pytest.mark.parametrize(
    "name",
    ["lldpcli-json-show-neighbors-details.json", "lldpcli-json0-show-neighbors-details.json"],
)
def test_lldpctl_json_and_json0(name: str) -> None:
    found = pasted.neighbours(doc(name))
    assert [(n.port, n.system, n.port_id) for n in found] == [
        ("swp1", "sw-b", "swp2"),
        ("swp2", "stor-a", "eth0"),
        ("swp3", "stor-b", "eth0"),
    ]
    assert found[0].addresses == ("198.18.2.250",)
    assert found[1].addresses == ("198.18.2.2", "2001:db8:2::2")


def test_pasted_lab_switch_flags_the_host_port(tmp_path: Path) -> None:
    """sw-c as pasted (lab captures): the port toward stor-b is flagged at 1500."""
    for name in ("lldpcli-json-show-neighbors-details.json", "ip-j-link-show.json"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    (tmp_path / "switches.yaml").write_text(
        "switches:\n  - name: sw-c\n    show_interface: ip-j-link-show.json\n"
        "    show_lldp: lldpcli-json-show-neighbors-details.json\n"
    )
    spec = files.load(tmp_path / "switches.yaml")
    graph = build(spec.given, spec.hosts)
    assert [(f.node, f.port, f.toward, f.ip_mtu) for f in flags(graph, 9000)] == [
        ("sw-c", "swp3", "stor-b", 1500)
    ]


def test_vendor_given_wins_over_the_shape() -> None:
    """An NX-OS table with vendor iosxr: ifMtu 1500 is then a frame, IP MTU 1486."""
    spec = files.parse(
        {
            "switches": [
                {"name": "x", "vendor": "iosxr", "show_interface": "nxos-show-interface.json"}
            ]
        },
        "sw.yaml",
        FIXTURES,
    )
    (sw,) = spec.given
    assert (sw.vendor, sw.vendor_guessed, sw.ports[1].ip_mtu) == ("iosxr", False, 1486)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not JSON jumbopath accepts"),
        ('{"TABLE_interface": 5}', "TABLE_interface must hold ROW_interface"),
        ('{"TABLE_interface": {"ROW_interface": [{"eth_mtu": "1500"}]}}', "has no 'interface'"),
        (
            '{"TABLE_interface": {"ROW_interface": {"interface": "e1", "eth_mtu": "lots"}}}',
            "interface e1: mtu 'lots' is not an MTU",
        ),
        ('{"interfaces": {"Ethernet1": 7}}', "interface Ethernet1: must be a mapping"),
        ('{"hello": 1}', "not an interface table jumbopath knows"),
        ("[" * 100 + "]" * 100, "not JSON jumbopath accepts"),
        ('{"interfaces": {"\\u001b[2J": {"mtu": 1}}}', "is not an MTU"),
    ],
)
def test_bad_interface_document_is_one_line(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "if.json").write_text(content)
    (tmp_path / "sw.yaml").write_text("switches: [{name: x, show_interface: if.json}]\n")
    with pytest.raises(UsageError) as err:
        files.load(tmp_path / "sw.yaml")
    text = str(err.value)
    assert message in text and str(tmp_path / "if.json") in text, text
    assert "\n" not in text and "\x1b" not in text


def test_missing_pasted_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "sw.yaml").write_text("switches: [{name: x, show_lldp: nowhere.json}]\n")
    with pytest.raises(UsageError, match=r"nowhere.json: show_lldp: cannot read the pasted file"):
        files.load(tmp_path / "sw.yaml")
    (tmp_path / "sw.yaml").write_text("switches: [{name: x, show_lldp: [1]}]\n")
    with pytest.raises(UsageError, match=r"x: show_lldp must name a file"):
        files.load(tmp_path / "sw.yaml")


# ------------------------------------------------------------------ hostile documents

_scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=20)
_keys = st.sampled_from(
    [
        "TABLE_interface",
        "ROW_interface",
        "interface",
        "eth_mtu",
        "eth_bw",
        "state",
        "interfaces",
        "mtu",
        "name",
        "bandwidth",
        "link",
        "oper-status",
        "ifname",
        "TABLE_nbor_detail",
        "ROW_nbor_detail",
        "l_port_id",
        "sys_name",
        "chassis_id",
        "mgmt_addr",
        "lldpNeighbors",
        "lldpNeighborInfo",
        "neighborInterfaceInfo",
        "maxFrameSize",
        "managementAddresses",
        "lldp",
        "chassis",
        "port",
        "id",
        "value",
        "mgmt-ip",
        "mfs",
        "result",
    ]
) | st.text(max_size=8)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=5),
    max_leaves=40,
)


def _mutate(value: Any, path: list[int], replacement: Any) -> Any:
    """``value`` with the node that ``path`` picks replaced (paths pick children by index)."""
    if not path:
        return replacement
    if isinstance(value, dict) and value:
        keys = list(value)
        key = keys[path[0] % len(keys)]
        return {**value, key: _mutate(value[key], path[1:], replacement)}
    if isinstance(value, list) and value:
        i = path[0] % len(value)
        return [*value[:i], _mutate(value[i], path[1:], replacement), *value[i + 1 :]]
    return replacement


_FIXTURE_DOCS = [
    "nxos-show-interface.json",
    "nxos-show-lldp-neighbors-detail.json",
    "eos-show-interfaces.json",
    "cumulus-nv-show-interface.json",
    "ip-j-link-show.json",
    "lldpcli-json-show-neighbors-details.json",
    "lldpcli-json0-show-neighbors-details.json",
]


def _check(tmp: Path, document: Any) -> None:
    path = tmp / "doc.json"
    path.write_text(json.dumps(document))
    for what in ("show_interface", "show_lldp"):
        try:
            pasted.load(path, what, None)
        except UsageError as exc:
            text = str(exc)
            assert "\n" not in text and "\x1b" not in text and str(path) in text, text


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(document=_json)
def test_random_documents_never_give_a_traceback(tmp_path: Path, document: Any) -> None:
    _check(tmp_path, document)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.sampled_from(_FIXTURE_DOCS),
    path=st.lists(st.integers(0, 50), max_size=8),
    replacement=_json,
)
def test_damaged_real_documents_never_give_a_traceback(
    tmp_path: Path, name: str, path: list[int], replacement: Any
) -> None:
    _check(tmp_path, _mutate(doc(name), path, replacement))


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=200))
def test_random_bytes_are_one_line(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "doc.json"
    path.write_bytes(data)
    for what in ("show_interface", "show_lldp"):
        try:
            pasted.load(path, what, "nxos")
        except UsageError as exc:
            assert "\n" not in str(exc)


def test_strings_are_made_safe(tmp_path: Path) -> None:
    hostile = {
        "TABLE_nbor_detail": {
            "ROW_nbor_detail": {"l_port_id": "Eth1/1\x1b[2J", "sys_name": "evil\x07" + "x" * 5000}
        }
    }
    (n,) = pasted.neighbours(hostile)
    assert "\x1b" not in n.port and "\x07" not in n.system and len(n.system) < 400


def test_switches_file_yaml_roundtrip_of_a_pasted_switch(tmp_path: Path) -> None:
    """The same switch in an inventory's switches: section, paths relative to the inventory."""
    for name in ("lldpcli-json-show-neighbors-details.json", "ip-j-link-show.json"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    inv = tmp_path / "inv.yaml"
    inv.write_text(
        yaml.safe_dump(
            {
                "networks": {"storage": {"mtu": 9000, "hosts": {"a": "198.18.2.2"}}},
                "switches": [
                    {
                        "name": "sw-c",
                        "show_interface": "ip-j-link-show.json",
                        "show_lldp": "lldpcli-json-show-neighbors-details.json",
                    }
                ],
            }
        )
    )
    from jumbopath.mesh.inventory import load_inventory

    switches = load_inventory(inv).switches
    assert switches is not None
    (sw,) = switches.given
    assert sw.port("swp3") is not None and sw.port("swp3").ip_mtu == 1500  # type: ignore[union-attr]
