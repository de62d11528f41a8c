"""Inventories: jumbopath YAML, Ansible YAML and Ansible INI; and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from jumbopath.errors import UsageError
from jumbopath.mesh.inventory import expand_pattern, load_inventory
from jumbopath.status import ExitCode

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


# ---------------------------------------------------------------- examples


@pytest.mark.parametrize(
    "name", ["inventory.yml", "inventory-ansible.yml", "inventory-ansible.ini"]
)
def test_examples_parse(name: str) -> None:
    inv = load_inventory(EXAMPLES / name)
    assert inv.networks and inv.hosts
    assert {n.mtu for n in inv.networks} <= {1500, 9000}


def test_own_format_example_in_detail() -> None:
    inv = load_inventory(EXAMPLES / "inventory.yml")
    assert [n.name for n in inv.networks] == ["storage", "migration", "management"]
    storage = inv.networks[0]
    assert storage.mtu == 9000
    assert storage.address("hv2") == "198.18.1.12"
    assert inv.networks[1].family == 6
    hv4 = inv.host("hv4")
    assert (hv4.ssh_host, hv4.user, hv4.port) == ("hv4.mgmt.example", "admin", 2222)
    assert hv4.command == "sudo -n /opt/jumbopath/bin/jumbopath"
    assert inv.host("hv1").user == "root"  # from defaults


def test_ini_example_in_detail() -> None:
    inv = load_inventory(EXAMPLES / "inventory-ansible.ini")
    nets = {n.name: n for n in inv.networks}
    assert nets["storage"].hosts == ("hv1", "hv2", "hv3", "hv4", "bk1")
    assert nets["migration"].hosts == ("hv1", "hv2", "hv3")  # hv4 has no live_migration_ip
    assert nets["management"].address("bk1") == "198.18.0.31"
    bk1 = inv.host("bk1")
    assert (bk1.port, bk1.user, bk1.command) == (2222, "root", "sudo -n jumbopath")


def test_ansible_yaml_example_in_detail() -> None:
    inv = load_inventory(EXAMPLES / "inventory-ansible.yml")
    nets = {n.name: n for n in inv.networks}
    assert nets["cluster"].hosts == ("ceph-osd4", "ceph-osd5")
    assert nets["management"].address("ceph-osd2") == "ceph-osd2"  # ansible_host defaults
    assert inv.host("ceph-osd5").port == 2222


# ---------------------------------------------------------------- own format


def test_own_format_without_hosts_section(tmp_path: Path) -> None:
    p = write(
        tmp_path, "m.yml", "networks:\n  s: {mtu: 9000, hosts: {a: 198.18.1.1, b: 198.18.1.2}}\n"
    )
    inv = load_inventory(p)
    assert [h.ssh_host for h in inv.hosts] == ["a", "b"]
    assert inv.hosts[0].command == "jumbopath"


def test_own_format_ipv6_is_normalised(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "m.yml",
        "networks:\n  s:\n    mtu: 9000\n    hosts: {a: '2001:DB8::0:1', b: 2001:db8::2}\n",
    )
    assert load_inventory(p).networks[0].address("a") == "2001:db8::1"


def test_network_filter(tmp_path: Path) -> None:
    inv = load_inventory(EXAMPLES / "inventory.yml").only(["migration"])
    assert [n.name for n in inv.networks] == ["migration"]
    assert [h.name for h in inv.hosts] == ["hv1", "hv2", "hv3"]
    with pytest.raises(UsageError, match="no network called nope; the inventory has"):
        inv.only(["nope"])


OWN_ERRORS = [
    ("mtu missing", "networks:\n  s:\n    hosts: {a: 198.18.1.1}\n", r"m.yml:2: .*add 'mtu: 9000'"),
    (
        "mtu not a number",
        "networks:\n  s:\n    mtu: big\n    hosts: {a: 198.18.1.1}\n",
        r"m.yml:3: network 's': mtu must be a number",
    ),
    ("mtu too big", "networks:\n  s: {mtu: 70000, hosts: {a: 198.18.1.1}}\n", "outside 68..65535"),
    (
        "unknown network key",
        "networks:\n  s:\n    mtu: 9000\n    members: {a: 1.2.3.4}\n",
        r"m.yml:4: network 's': unknown key 'members'",
    ),
    ("unknown top key", "netwrks: {}\n", r"m.yml:1: unknown key 'netwrks'"),
    ("no networks", "hosts: {a: {}}\n", "'networks:' is missing"),
    (
        "host not under hosts",
        "hosts: {a: {}}\nnetworks:\n  s: {mtu: 9000, hosts: {b: 198.18.1.2}}\n",
        r"m.yml:3: .*host 'b' is not under 'hosts:'",
    ),
    (
        "duplicate address",
        "networks:\n  s: {mtu: 9000, hosts: {a: 198.18.1.1, b: 198.18.1.1}}\n",
        "'b' and 'a' both have address 198.18.1.1",
    ),
    (
        "bad address",
        "networks:\n  s: {mtu: 9000, hosts: {a: 'not an address!'}}\n",
        "neither an IP address nor a host name",
    ),
    (
        "bad port",
        "hosts: {a: {port: 99999}}\nnetworks:\n  s: {mtu: 9000, hosts: {a: 198.18.1.1}}\n",
        "port must be a number 1..65535",
    ),
    (
        "unknown host key",
        "hosts:\n  a:\n    sshd: x\nnetworks:\n  s: {mtu: 9000, hosts: {a: 198.18.1.1}}\n",
        r"m.yml:3: a: unknown key 'sshd'",
    ),
    ("broken yaml", "networks:\n  s: {mtu: 9000\n  t: x\n", r"m.yml:3: not valid YAML"),
    (
        "bad family",
        "networks:\n  s: {mtu: 9000, family: 5, hosts: {a: 198.18.1.1}}\n",
        "family must be 4 or 6",
    ),
]


@pytest.mark.parametrize(("desc", "text", "message"), OWN_ERRORS, ids=[e[0] for e in OWN_ERRORS])
def test_own_format_errors(tmp_path: Path, desc: str, text: str, message: str) -> None:
    p = write(tmp_path, "m.yml", text)
    with pytest.raises(UsageError, match=message) as info:
        load_inventory(p, "jumbopath" if desc in ("no networks", "unknown top key") else "auto")
    assert info.value.exit_code == ExitCode.USAGE


def test_missing_file_and_bad_format(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such inventory file"):
        load_inventory(tmp_path / "nope.yml")
    with pytest.raises(UsageError, match="unknown inventory format"):
        load_inventory(EXAMPLES / "inventory.yml", "toml")


# ---------------------------------------------------------------- Ansible INI

INI = """\
# comment
; another comment
lonely ansible_host=198.18.0.99

[web]
web[01:03] ansible_host=198.18.0.1 storage_ip=198.18.1.1

[db]
db1:2222 ansible_host=198.18.0.10 storage_ip=198.18.1.10 ansible_user=postgres
db2 ansible_host=198.18.0.11 storage_ip=198.18.1.11 jumbopath_command='sudo -n jp'  # comment

[prod:children]
web
db

[all:vars]
ansible_user=root

[prod:vars]
jumbopath_networks={"storage": {"mtu": 9000, "var": "storage_ip"}}

[db:vars]
jumbopath_networks={storage: {mtu: 9000, var: storage_ip}, mgmt: {mtu: 1500, var: ansible_host}}
"""


def test_ini_groups_children_vars_and_precedence(tmp_path: Path) -> None:
    ini = INI.replace(
        "web[01:03] ansible_host=198.18.0.1 storage_ip=198.18.1.1",
        "web01 ansible_host=198.18.0.1 storage_ip=198.18.1.1\n"
        "web02 ansible_host=198.18.0.2 storage_ip=198.18.1.2",
    )
    inv = load_inventory(write(tmp_path, "hosts", ini))
    nets = {n.name: n for n in inv.networks}
    assert nets["storage"].hosts == ("web01", "web02", "db1", "db2")
    assert nets["mgmt"].hosts == ("db1", "db2")  # db:vars (deeper) overrides prod:vars
    assert "lonely" not in [h.name for h in inv.hosts]  # on no network
    db1, db2, web01 = inv.host("db1"), inv.host("db2"), inv.host("web01")
    assert (db1.port, db1.user) == (2222, "postgres")  # host var beats all:vars
    assert web01.user == "root"
    assert db2.command == "sudo -n jp"


def test_ini_range_with_the_same_address_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="both have address 198.18.1.1"):
        load_inventory(write(tmp_path, "hosts.ini", INI))


@pytest.mark.parametrize(
    ("pattern", "hosts"),
    [
        ("web[01:03]", ["web01", "web02", "web03"]),
        ("n[1:10:4]", ["n1", "n5", "n9"]),
        ("rack-[a:c]-x", ["rack-a-x", "rack-b-x", "rack-c-x"]),
        ("r[1:2]n[1:2]", ["r1n1", "r1n2", "r2n1", "r2n2"]),
        ("plain", ["plain"]),
    ],
)
def test_host_ranges(pattern: str, hosts: list[str]) -> None:
    assert expand_pattern(pattern) == hosts


INI_ERRORS = [
    ("bad header", "[web\nx\n", r"hosts.ini:1: section header"),
    ("unknown section kind", "[web:other]\n", r"hosts.ini:1: .*only :vars and :children"),
    (
        "vars without =",
        "[all:vars]\njumbopath_networks\n",
        r"hosts.ini:2: \[all:vars\]: expected key=value",
    ),
    (
        "host word without =",
        "[web]\nweb1 ansible_host\n",
        r"hosts.ini:2: host 'web1': expected key=value",
    ),
    ("unbalanced quote", "[web]\nweb1 a='x\n", r"hosts.ini:2: cannot split"),
    ("cycle", "[a:children]\nb\n[b:children]\na\n", "is its own descendant"),
    (
        "no networks var",
        "[web]\nweb1\n",
        "no host has an address on any network: set jumbopath_networks",
    ),
    (
        "networks not a mapping",
        "[web]\nweb1 x=1\n[all:vars]\njumbopath_networks=[1, 2]\n",
        "must map network names",
    ),
    (
        "network without mtu",
        '[web]\nweb1 s=198.18.1.1\n[all:vars]\njumbopath_networks={"s": {"var": "s"}}\n',
        r"needs \{mtu: 9000, var: VARIABLE\}",
    ),
    (
        "different mtus",
        "[a]\nh1 s=198.18.1.1\n[b]\nh2 s=198.18.1.2\n"
        '[a:vars]\njumbopath_networks={"s": {"mtu": 9000, "var": "s"}}\n'
        '[b:vars]\njumbopath_networks={"s": {"mtu": 1500, "var": "s"}}\n',
        "has mtu 9000 for host 'h1' but 1500 for host 'h2'",
    ),
    ("bad range", "[web]\nweb[3:1]\n", "3 is after 1"),
    (
        "jinja expression",
        '[web]\nweb1 s="{{ x | default(1) }}"\n'
        '[all:vars]\njumbopath_networks={"s": {"mtu": 9000, "var": "s"}}\n',
        "only follows a plain",
    ),
]


@pytest.mark.parametrize(("desc", "text", "message"), INI_ERRORS, ids=[e[0] for e in INI_ERRORS])
def test_ini_errors(tmp_path: Path, desc: str, text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        load_inventory(write(tmp_path, "hosts.ini", text))


def test_ini_jinja_reference_and_addresses_var(tmp_path: Path) -> None:
    text = (
        "[c]\n"
        "h1 ansible_host=198.18.0.1 stor=198.18.1.1 s='{{ stor }}'\n"
        "h2 ansible_host=198.18.0.2 jumbopath_addresses=\"{'s': '198.18.1.2'}\"\n"
        "[c:vars]\n"
        'jumbopath_networks={"s": {"mtu": 9000}}\n'
        "[c2]\nh1 jumbopath_addresses=\"{'s': '198.18.1.1'}\"\n"
    )
    inv = load_inventory(write(tmp_path, "hosts", text))
    assert inv.networks[0].members == (("h1", "198.18.1.1"), ("h2", "198.18.1.2"))


def test_ini_file_without_suffix_is_detected(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "hosts",
        'h1 s=198.18.1.1 jumbopath_networks=\'{"s": {"mtu": 9000, "var": "s"}}\'\n'
        'h2 s=198.18.1.2 jumbopath_networks=\'{"s": {"mtu": 9000, "var": "s"}}\'\n',
    )
    assert load_inventory(p).networks[0].hosts == ("h1", "h2")


# ---------------------------------------------------------------- Ansible YAML

AYAML = """\
all:
  vars:
    ansible_user: root
    jumbopath_networks:
      storage: {mtu: 9000, var: storage_ip}
  children:
    rack1:
      hosts:
        n1: {ansible_host: 198.18.0.1, storage_ip: 198.18.1.1}
        n2: {ansible_host: 198.18.0.2, storage_ip: 198.18.1.2, ansible_user: admin}
    rack2:
      vars:
        jumbopath_command: /opt/jp/bin/jumbopath
      hosts:
        n3: {ansible_host: 198.18.0.3, storage_ip: 198.18.1.3}
        n4:
      children:
        rack2b:
          vars:
            jumbopath_command: /usr/bin/jumbopath
          hosts:
            n3:
"""


def test_ansible_yaml(tmp_path: Path) -> None:
    inv = load_inventory(write(tmp_path, "inv.yml", AYAML))
    assert inv.networks[0].hosts == ("n1", "n2", "n3")  # n4 has no storage_ip
    assert inv.host("n2").user == "admin"
    assert inv.host("n1").user == "root"
    assert inv.host("n3").command == "/usr/bin/jumbopath"  # child group beats parent


YAML_ERRORS = [
    (
        "unknown group key",
        "all:\n  host:\n    a: {}\n",
        r"inv.yml:2: group 'all': unknown key 'host'",
    ),
    (
        "hosts not a mapping",
        "all:\n  hosts: [a, b]\n",
        r"inv.yml:2: group 'all': 'hosts:' must map",
    ),
    ("host vars not a mapping", "all:\n  hosts:\n    a: 3\n", r"inv.yml:3: host 'a': expected"),
    (
        "networks wrong type",
        "all:\n  vars: {jumbopath_networks: 5}\n  hosts: {a: {}}\n",
        "must map network names",
    ),
]


@pytest.mark.parametrize(("desc", "text", "message"), YAML_ERRORS, ids=[e[0] for e in YAML_ERRORS])
def test_ansible_yaml_errors(tmp_path: Path, desc: str, text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        load_inventory(write(tmp_path, "inv.yml", text))


def test_format_can_be_forced(tmp_path: Path) -> None:
    p = write(tmp_path, "inv.txt", AYAML)
    assert load_inventory(p, "ansible-yaml").networks[0].name == "storage"
    with pytest.raises(UsageError):
        load_inventory(p, "jumbopath")


def test_cli_lists_the_same_formats() -> None:
    from jumbopath.cli.mesh import FORMATS as CLI_FORMATS
    from jumbopath.mesh.inventory import FORMATS

    assert CLI_FORMATS == FORMATS


def test_group_vars_and_host_vars_next_to_the_inventory(tmp_path: Path) -> None:
    (tmp_path / "group_vars" / "all").mkdir(parents=True)
    (tmp_path / "group_vars" / "all" / "main.yml").write_text(
        "jumbopath_networks:\n  storage: {mtu: 9000, var: storage_ip}\nansible_user: admin\n"
    )
    (tmp_path / "group_vars" / "all" / "vault.yml").write_text(
        "$ANSIBLE_VAULT;1.1;AES256\n6162636465\n"
    )
    (tmp_path / "group_vars" / "db.yaml").write_text("ansible_user: postgres\n")
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "host_vars" / "h1.yml").write_text(
        "storage_ip: 198.18.1.1\nsecret: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n"
    )
    (tmp_path / "host_vars" / "h2").write_text("storage_ip: 198.18.1.2\n")
    inv = tmp_path / "hosts"
    inv.write_text("[web]\nh1 storage_ip=198.18.9.9\n[db]\nh2\n")
    parsed = load_inventory(inv)
    assert parsed.networks[0].members == (("h1", "198.18.1.1"), ("h2", "198.18.1.2"))
    assert parsed.host("h1").user == "admin"
    assert parsed.host("h2").user == "postgres"


def test_broken_group_vars_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "all.yml").write_text("a: [1\n")
    inv = tmp_path / "hosts.ini"
    inv.write_text("h1\n")
    with pytest.raises(UsageError, match=r"group_vars/all.yml:2: not valid YAML"):
        load_inventory(inv)
