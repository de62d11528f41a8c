"""An inventory's switches: own YAML ``switches:``, Ansible ``network`` hosts (INI, YAML, --list).

Switches are read (or given) exactly as a switches file's, and are never
mesh hosts: never reached over SSH, never a network's member.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from jumbopath.errors import UsageError
from jumbopath.mesh.inventory import AnsibleOptions, find_ansible_inventory, load_inventory
from jumbopath.mesh.inventory.ansible_switches import vendor_of
from jumbopath.mesh.switchports import switches_for
from jumbopath.switches import files
from jumbopath.switches.files import PollSpec
from jumbopath.switches.model import HostHint

BUILT_IN = AnsibleOptions(prefer=False)
ANSIBLE = AnsibleOptions()

OWN = """\
hosts: {hv1: {ssh: 198.18.0.11}, hv2: {}}
networks:
  storage: {mtu: 9000, hosts: {hv1: 198.18.1.11, hv2: 198.18.1.12}}
switches:
  - {name: sw-a, address: 198.18.1.250}
  - {name: sw-b, address: 198.18.1.251, credentials: v3, vendor: nxos, port: 1161}
  - name: sw-x
    vendor: eos
    ports: [{name: Ethernet7, mtu: 1500}]
    neighbours: [{port: Ethernet7, system: hv2, port_id: eth0}]
"""

POLLED = (
    PollSpec("sw-a", "198.18.1.250"),
    PollSpec("sw-b", "198.18.1.251", "v3", "nxos", 1161),
)


def test_own_yaml_switches_section(tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text(OWN)
    inv = load_inventory(path)
    assert [h.name for h in inv.hosts] == ["hv1", "hv2"]
    assert inv.switches is not None
    assert inv.switches.poll == POLLED
    (given,) = inv.switches.given
    assert (given.name, given.vendor, given.ports[0].ip_mtu) == ("sw-x", "eos", 1500)
    assert given.neighbours[0].system == "hv2"
    # The section is exactly what a switches file with the same rows holds.
    same = tmp_path / "switches.yaml"
    same.write_text("switches:\n" + OWN.split("switches:\n", 1)[1])
    assert files.load(same) == inv.switches
    assert inv.only(["storage"]).switches == inv.switches


def test_own_yaml_switches_with_hosts(tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text(
        "networks: {storage: {mtu: 9000, hosts: {hv1: 198.18.1.11, hv2: 198.18.1.12}}}\n"
        "switches:\n"
        "  switches: [{name: sw-a, address: 198.18.1.250}]\n"
        "  hosts: [{name: nas, addresses: [198.18.1.20], macs: ['02:00:00:00:00:20']}]\n"
    )
    inv = load_inventory(path)
    assert inv.switches is not None
    assert inv.switches.poll == POLLED[:1]
    assert inv.switches.hosts == (HostHint("nas", ("198.18.1.20",), ("02:00:00:00:00:20",)),)
    assert [h.name for h in inv.hosts] == ["hv1", "hv2"]


def test_own_yaml_withoutswitches_for(tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text("networks: {storage: {mtu: 9000, hosts: {hv1: 198.18.1.11}}}\n")
    assert load_inventory(path).switches is None


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            "switches: [{name: sw-a, address: 'no;pe'}]",
            "inv.yaml:2: switches: sw-a: 'no;pe' is not",
        ),
        ("switches: [{name: sw-a}]", "switch 'sw-a' needs an 'address'"),
        ("switches: [{address: 198.18.1.9, vendor: acme}]", "vendor 'acme': use one of"),
        ("switches: {switches: [], stuff: 1}", "unknown key(s) stuff"),
        ("switches: 7", "the file must be a mapping"),
        ('switches: [{name: "\\e[2Jx", ports: [{name: p, mtu: 99999999}]}]', "must be a whole"),
    ],
)
def test_own_yaml_bad_switches_is_one_line(tmp_path: Path, section: str, message: str) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text(
        f"networks: {{storage: {{mtu: 9000, hosts: {{hv1: 198.18.1.11}}}}}}\n{section}\n"
    )
    with pytest.raises(UsageError) as err:
        load_inventory(path)
    text = str(err.value)
    assert message in text and "\n" not in text and "\x1b" not in text, text


INI = """\
[all:vars]
jumbopath_networks={"storage": {"mtu": 9000, "var": "storage_ip"}}

[hv]
n1 ansible_host=198.18.0.1 storage_ip=198.18.1.1
n2 ansible_host=198.18.0.2 storage_ip=198.18.1.2

[leaf]
sw-a ansible_host=198.18.1.250 ansible_network_os=cisco.nxos.nxos storage_ip=198.18.1.250
sw-b ansible_host=198.18.1.251 jumbopath_snmp_credentials=v3 jumbopath_snmp_port=1161

[network:children]
leaf

[other]
sw-c ansible_host=198.18.1.252 ansible_network_os=arista.eos.eos
sw-d ansible_host=198.18.1.253 ansible_network_os=acme.fabric.os9
"""

YAML = """\
all:
  vars:
    jumbopath_networks: {storage: {mtu: 9000, var: storage_ip}}
  children:
    hv:
      hosts:
        n1: {ansible_host: 198.18.0.1, storage_ip: 198.18.1.1}
        n2: {ansible_host: 198.18.0.2, storage_ip: 198.18.1.2}
    network:
      children:
        leaf:
          hosts:
            sw-a: {ansible_host: 198.18.1.250, ansible_network_os: cisco.nxos.nxos,
                   storage_ip: 198.18.1.250}
            sw-b: {ansible_host: 198.18.1.251, jumbopath_snmp_credentials: v3,
                   jumbopath_snmp_port: 1161}
    other:
      hosts:
        sw-c: {ansible_host: 198.18.1.252, ansible_network_os: arista.eos.eos}
        sw-d: {ansible_host: 198.18.1.253, ansible_network_os: acme.fabric.os9}
"""

EXPECTED = {
    "sw-a": PollSpec("sw-a", "198.18.1.250", "default", "nxos"),
    "sw-b": PollSpec("sw-b", "198.18.1.251", "v3", None, 1161),
    "sw-c": PollSpec("sw-c", "198.18.1.252", "default", "eos"),
}


def _check_ansible(path: Path, options: AnsibleOptions) -> None:
    inv = load_inventory(path, ansible=options)
    assert sorted(h.name for h in inv.hosts) == ["n1", "n2"]
    (storage,) = inv.networks
    assert sorted(storage.members) == [("n1", "198.18.1.1"), ("n2", "198.18.1.2")]
    assert inv.switches is not None
    polled = {p.name: p for p in inv.switches.poll}
    assert {k: polled[k] for k in EXPECTED} == EXPECTED
    assert polled["sw-d"].vendor is None  # unknown network OS: recognised from sysDescr


@pytest.mark.parametrize(("name", "text"), [("inv.ini", INI), ("inv.yml", YAML)])
def test_ansible_network_hosts_areswitches_for(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    for options in (BUILT_IN, ANSIBLE):
        _check_ansible(path, options)


def test_ansible_switch_named_by_a_name_loads(tmp_path: Path) -> None:
    """A site inventory that lists its switches by name still loads: the name is
    resolved only when the switch is read."""
    path = tmp_path / "inv.ini"
    path.write_text(INI.replace("sw-d ansible_host=198.18.1.253 ", "sw-d "))
    for options in (BUILT_IN, ANSIBLE):
        switches = load_inventory(path, ansible=options).switches
        assert switches is not None
        assert {p.name: p.address for p in switches.poll}["sw-d"] == "sw-d"
    # Not a name at all: one line.
    path.write_text(INI.replace("sw-d ansible_host=198.18.1.253 ", "sw-d ansible_host=a..b "))
    for options in (BUILT_IN, ANSIBLE):
        with pytest.raises(UsageError, match=r"sw-d: 'a\.\.b' is not an IP address or a host name"):
            load_inventory(path, ansible=options)
    # jumbopath_snmp_address wins over ansible_host.
    path.write_text(
        INI.replace("sw-d ansible_host=198.18.1.253 ", "sw-d jumbopath_snmp_address=198.18.1.9 ")
    )
    for options in (BUILT_IN, ANSIBLE):
        switches = load_inventory(path, ansible=options).switches
        assert switches is not None
        assert {p.name: p.address for p in switches.poll}["sw-d"] == "198.18.1.9"


def test_ansible_inventory_list_path(tmp_path: Path) -> None:
    """A dynamic inventory: only ansible-inventory --list reads it."""
    if find_ansible_inventory() is None:
        pytest.fail("ansible-core is a test dependency: pip install ansible-core")
    doc = {
        "_meta": {
            "hostvars": {
                "n1": {"ansible_host": "198.18.0.1", "storage_ip": "198.18.1.1"},
                "n2": {"ansible_host": "198.18.0.2", "storage_ip": "198.18.1.2"},
                "sw-a": {"ansible_host": "198.18.1.250", "ansible_network_os": "nxos"},
                "sw-b": {
                    "ansible_host": "198.18.1.251",
                    "jumbopath_snmp_credentials": "v3",
                    "jumbopath_snmp_port": 1161,
                },
                "sw-c": {"ansible_host": "198.18.1.252", "ansible_network_os": "eos"},
                "sw-d": {"ansible_host": "198.18.1.253", "ansible_network_os": "acme.os9"},
            }
        },
        "all": {
            "children": ["hv", "network", "other"],
            "vars": {"jumbopath_networks": {"storage": {"mtu": 9000, "var": "storage_ip"}}},
        },
        "hv": {"hosts": ["n1", "n2"]},
        "network": {"hosts": ["sw-a", "sw-b"]},
        "other": {"hosts": ["sw-c", "sw-d"]},
    }
    path = tmp_path / "inventory.py"
    path.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        "if '--host' in sys.argv:\n    print('{}'); sys.exit()\n"
        f"print({json.dumps(doc)!r})\n"
    )
    path.chmod(0o755)
    _check_ansible(path, BUILT_IN)


@pytest.mark.parametrize(
    ("network_os", "vendor"),
    [
        ("cisco.nxos.nxos", "nxos"),
        ("nxos", "nxos"),
        ("arista.eos.eos", "eos"),
        ("cisco.ios.ios", "ios"),
        ("cisco.iosxr.iosxr", "iosxr"),
        ("junipernetworks.junos.junos", "junos"),
        ("cumulus", "linux"),
        ("nvidia.nvue.nvue", "linux"),
        ("community.routeros.routeros", "routeros"),
        ("Community.RouterOS.RouterOS", "routeros"),
        ("acme.fabric.os9", None),
        (7, None),
    ],
)
def test_network_os_to_vendor(network_os: object, vendor: str | None) -> None:
    assert vendor_of(network_os) == vendor


def test_explicit_switches_file_wins(tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text(OWN)
    inv = load_inventory(path)
    assert switches_for("given.yaml", inv) == "given.yaml"
    assert switches_for(None, None) is None
    chosen = switches_for(None, inv)
    assert not isinstance(chosen, str) and chosen is not None
    assert chosen.poll == POLLED
    # The mesh hosts come along by their addresses, so a break toward one is placed.
    assert chosen.hosts == (
        HostHint("hv1", ("198.18.1.11",)),
        HostHint("hv2", ("198.18.1.12",)),
    )


HOSTS_ONLY = (
    "[hv]\n"
    "n1 ansible_host=198.18.0.1 storage_ip=198.18.1.1\n"
    "n2 ansible_host=198.18.0.2 storage_ip=198.18.1.2\n"
    "[hv:vars]\n"
    'jumbopath_networks={"storage": {"mtu": 9000, "var": "storage_ip"}}\n'
)
"""Two mesh hosts on one network; the tests below add switches."""


def test_ansible_renders_a_switch_address_template(tmp_path: Path) -> None:
    """A switch's templated address is rendered by Ansible, as a mesh host's is."""
    path = tmp_path / "inv.ini"
    path.write_text(
        HOSTS_ONLY + "[network]\n"
        'sw-t ansible_host="{{ mgmt_net }}.254" jumbopath_snmp_credentials="{{ profile }}"\n'
        "[network:vars]\n"
        "mgmt_net=198.18.1\n"
        "profile=v3\n"
    )
    switches = load_inventory(path, ansible=ANSIBLE).switches
    assert switches is not None
    assert switches.poll == (PollSpec("sw-t", "198.18.1.254", "v3"),)
    # Without Ansible: one line saying what to install.
    with pytest.raises(UsageError, match="ansible"):
        load_inventory(path, ansible=BUILT_IN)


def test_ansible_switch_given_as_pasted_json(tmp_path: Path) -> None:
    """jumbopath_show_interface / jumbopath_show_lldp: files beside the inventory."""
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "switches"
    for name in ("eos-show-interfaces.json", "eos-show-lldp-neighbors-detail.json"):
        (tmp_path / name).write_bytes((fixtures / name).read_bytes())
    path = tmp_path / "inv.ini"
    path.write_text(
        HOSTS_ONLY + "[network]\n"
        "leaf7 ansible_network_os=arista.eos.eos "
        "jumbopath_show_interface=eos-show-interfaces.json "
        "jumbopath_show_lldp=eos-show-lldp-neighbors-detail.json\n"
    )
    for options in (BUILT_IN, ANSIBLE):
        switches = load_inventory(path, ansible=options).switches
        assert switches is not None and switches.poll == ()
        (leaf,) = switches.given
        assert (leaf.name, leaf.vendor) == ("leaf7", "eos")
        ports = {p.name: p.ip_mtu for p in leaf.ports}
        assert ports["Ethernet2"] == 9214
        assert any(n.system == "78m3" for n in leaf.neighbours)
