"""Bad and hostile inventories: each is refused with one UsageError line naming the problem."""

from __future__ import annotations

import re
import resource
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from jumbopath.errors import UsageError
from jumbopath.mesh.inventory import expand_pattern, load_inventory, load_yaml_text
from jumbopath.mesh.inventory.validate import MAX_FILE_BYTES
from jumbopath.mesh.inventory.yamlload import LineLoader, PureLineLoader
from jumbopath.status import ExitCode

NET = "networks:\n  s: {mtu: 9000, hosts: {a: 198.18.1.1, b: 198.18.1.2}}\n"
"""A valid network section to put after a bad host."""
ANET = '[all:vars]\njumbopath_networks={"s": {"mtu": 9000, "var": "s"}}\n'
"""A valid INI network declaration to put after bad hosts."""


def own_host(**settings: str) -> str:
    """A jumbopath inventory whose host 'a' has the given settings (JSON-quoted)."""
    import json

    spec = ", ".join(f"{k}: {json.dumps(v)}" for k, v in settings.items())
    return f"hosts:\n  a: {{{spec}}}\n  b: {{}}\n" + NET


def bomb(levels: int) -> str:
    """A "billion laughs" document: 9**levels strings from a few hundred bytes."""
    parts = ["&a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels):
        parts.append(f"&a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "all:\n  hosts:\n    h: [" + ", ".join(parts) + "]\n"


def outside_link(tmp: Path) -> None:
    """group_vars/all.yml is a link to a file outside group_vars/."""
    secret = tmp / "secret.txt"
    secret.write_text("root:x:0:0\n")
    (tmp / "group_vars").mkdir()
    (tmp / "group_vars" / "all.yml").symlink_to(secret)


def host_vars_dir(tmp: Path) -> None:
    """A host_vars/ folder, so host names are looked up in it."""
    (tmp / "host_vars").mkdir()


Setup = Callable[[Path], None] | None

# (id, file name, content, setup, regular expression the message must match)
CASES: list[tuple[str, str, str | bytes, Setup, str]] = [
    ("binary file", "inv.yml", b"networks:\n\x00\x01\x02", None, r":2: a binary file"),
    ("invalid utf-8", "inv.yml", b"networks:\n  s: \xff\xfe\n", None, r":2: not UTF-8 text"),
    ("larger than 4 MiB", "inv.yml", "#" * (MAX_FILE_BYTES + 1), None, r"larger than 4 MiB"),
    (
        "deep flow nesting",
        "inv.yml",
        "a: " + "[" * 5000 + "]" * 5000,
        None,
        r"(more than 32|maximum nesting) dep",
    ),
    (
        "deep block nesting",
        "inv.yml",
        "".join(" " * i + f"k{i}:\n" for i in range(60)),
        None,
        r"more than 32 deep",
    ),
    (
        "nesting of 40",
        "inv.yml",
        "a: " + "[" * 40 + "]" * 40,
        None,
        r":1: nested more than 32 deep",
    ),
    ("billion laughs", "inv.yml", bomb(9), None, r":3: aliases repeat more than 10000 nodes"),
    ("recursive alias", "inv.yml", "all: &a {children: {g: *a}}\n", None, r"recursive alias"),
    ("undefined alias", "inv.yml", "all: *nope\n", None, r"not valid YAML: found undefined alias"),
    (
        "range product",
        "hosts.ini",
        "[g]\nn[0:9999][0:9999]\n",
        None,
        r":2: host range 'n\[0:9999\]\[0:9999\]' expands to 100000000 hosts",
    ),
    ("one huge range", "hosts.ini", "[g]\nn[0:999999999]\n", None, r"expands to more than"),
    ("too many hosts", "hosts.ini", "[g]\nn[00000:10000]\n", None, r"more than 10000 hosts"),
    (
        "too many host entries",
        "hosts.ini",
        "".join(f"[g{i}]\nn[0:9999]\n" for i in range(6)),
        None,
        r"expands to 10000 hosts: an inventory may list at most 50000 host entries",
    ),
    ("too many groups", "hosts.ini", "".join(f"[g{i}]\n" for i in range(2001)), None, r"groups"),
    (
        "too many networks",
        "inv.yml",
        "networks:\n"
        + "".join(f"  n{i}: {{mtu: 9000, hosts: {{a: 198.18.0.1}}}}\n" for i in range(257)),
        None,
        r"more than 256 networks",
    ),
    (
        "groups nested too deep",
        "hosts.ini",
        "".join(f"[g{i}:children]\ng{i + 1}\n" for i in range(40)),
        None,
        r"groups are nested more than 32 deep",
    ),
    (
        "groups nested too deep, children first",
        "hosts.ini",
        "".join(f"[g{i + 1}:children]\ng{i}\n" for i in range(1500)),
        None,
        r"groups are nested more than 32 deep",
    ),
    ("group cycle", "hosts.ini", "[a:children]\nb\n[b:children]\na\n", None, r"own descendant"),
    (
        "name with a newline",
        "inv.yml",
        'hosts:\n  "a\\n": {}\n' + NET,
        None,
        r":2: host name 'a\\n' may only hold",
    ),
    (
        "escape sequence in a name",
        "inv.yml",
        'hosts:\n  "\\e[2Jx": {}\n' + NET,
        None,
        r"host name '\\x1b\[2Jx' may only hold",
    ),
    ("group called ..", "hosts.ini", "[..]\nh1\n", None, r":1: group name '\.\.' .*only dots"),
    ("host called ..", "hosts.ini", "[g]\n..\n" + ANET, host_vars_dir, r"host name '\.\.'"),
    ("host with a slash", "hosts.ini", "[g]\na/../../x\n", host_vars_dir, r"may only hold"),
    ("var file outside", "hosts.ini", "[g]\nh1\n", outside_link, r"all.yml: leads outside"),
    (
        "IPv6 scope with a shell word",
        "inv.yml",
        "networks:\n  s: {mtu: 9000, hosts: {a: 'fe80::1%eth0;reboot'}}\n",
        None,
        r"neither an IP address nor a host name",
    ),
    ("ssh option injection", "inv.yml", own_host(ssh="-oProxyCommand=x"), None, r"starts with '-'"),
    ("ssh shell characters", "inv.yml", own_host(ssh="a;reboot"), None, r"ssh target 'a;reboot'"),
    ("ssh user@ with $()", "inv.yml", own_host(ssh="$(reboot)@a"), None, r"user '\$\(reboot\)'"),
    ("user option", "inv.yml", own_host(user="-oProxyCommand=x"), None, r"user .*starts with '-'"),
    ("user with a quote", "inv.yml", own_host(user="ro'ot"), None, r"user \"ro'ot\" may only"),
    ("identity newline", "inv.yml", own_host(identity_file="k\nx"), None, r"control characters"),
    ("identity option", "inv.yml", own_host(identity_file="-oX"), None, r"starts with '-'"),
    ("command ;", "inv.yml", own_host(command="jumbopath; reboot"), None, r"plain words"),
    ("command $()", "inv.yml", own_host(command="$(reboot) jp"), None, r"plain words"),
    ("command newline", "inv.yml", own_host(command="jumbopath\nreboot"), None, r"control"),
    ("command quote", "inv.yml", own_host(command="sudo 'jumbopath"), None, r"No closing quot"),
    ("command too long", "inv.yml", own_host(command="j" * 2000), None, r"longer than 1024"),
    (
        "ansible_host with a space",
        "hosts.ini",
        '[g]\nh1 s=198.18.1.1 ansible_host="a b"\n' + ANET,
        None,
        r":2: host 'h1': ssh target 'a b' must be",
    ),
    ("int of 5000 digits", "inv.yml", "all:\n  vars: {x: " + "1" * 5000 + "}\n", None, r"digits"),
    (
        "date that is no date",
        "inv.yml",
        "networks:\n  s: {mtu: 2001-02-30, hosts: {a: 198.18.1.1}}\n",
        None,
        r"not valid YAML: day is out of range",
    ),
    (
        "long value is cut",
        "inv.yml",
        "networks:\n  s: {mtu: " + "x" * 100_000 + ", hosts: {a: 198.18.1.1}}\n",
        None,
        r"mtu must be a number like 9000, not 'x{20,30}\.\.\.x{20,30}'$",
    ),
    (
        "unhashable key in an INI value",
        "hosts.ini",
        "[g]\nh1 s=198.18.1.1\n[all:vars]\njumbopath_networks={[1]: 2}\n",
        None,
        r":2: host 'h1': jumbopath_networks is not valid YAML/JSON: found unhashable key",
    ),
    (
        "alias bomb in an INI value",
        "hosts.ini",
        "[g]\nh1 s=198.18.1.1\n[all:vars]\njumbopath_networks=" + bomb(9).splitlines()[2][7:],
        None,
        r"aliases repeat more than 10000 nodes",
    ),
    ("port word", "inv.yml", own_host(port="ssh"), None, r"port must be a number 1\.\.65535"),
    ("vars not a mapping", "inv.yml", "all:\n  vars: [1, 2]\n", None, r"'vars:' must be a mapp"),
]


@pytest.mark.parametrize(
    ("name", "content", "setup", "pattern"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_bad_inventory_is_one_usage_line(
    tmp_path: Path, name: str, content: str | bytes, setup: Setup, pattern: str
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    if setup is not None:
        setup(tmp_path)
    with pytest.raises(UsageError) as info:
        load_inventory(path)
    message = str(info.value)
    assert info.value.exit_code == ExitCode.USAGE
    assert re.search(pattern, message), message
    assert re.search(r"[\x00-\x1f\x7f-\x9f]", message) is None, message
    assert len(message) <= 1000
    assert message.startswith(str(tmp_path))


def test_there_are_at_least_25_distinct_cases() -> None:
    assert len({c[0] for c in CASES}) >= 25


def test_yaml_nodes_are_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from jumbopath.mesh.inventory import yamlload

    monkeypatch.setattr(yamlload, "MAX_YAML_NODES", 1000)
    path = tmp_path / "inv.yml"
    path.write_text("all: [" + "1, " * 1000 + "1]\n")
    with pytest.raises(UsageError, match=r"inv.yml:1: more than 1000 YAML nodes"):
        load_inventory(path)


@pytest.mark.parametrize("loader", [LineLoader, PureLineLoader], ids=["libyaml", "pure"])
def test_billion_laughs_costs_little(loader: type[LineLoader]) -> None:
    """A 493-byte document once cost 534 MB; now it stops while composing."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.monotonic()
    with pytest.raises(UsageError, match="aliases repeat"):
        load_yaml_text(bomb(9), "bomb.yml", loader)
    assert time.monotonic() - start < 1.0
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 20_000


def test_a_few_aliases_still_work(tmp_path: Path) -> None:
    path = tmp_path / "inv.yml"
    path.write_text(
        "defaults: &d {user: root}\n"
        "hosts: {a: *d, b: {<<: *d, port: 2222}}\n"
        "networks:\n  s: {mtu: 9000, hosts: {a: 198.18.1.1, b: 198.18.1.2}}\n"
    )
    inv = load_inventory(path)
    assert [(h.user, h.port) for h in inv.hosts] == [("root", None), ("root", 2222)]


def test_range_limit_is_on_the_total_and_ranges_are_fast() -> None:
    start = time.monotonic()
    assert len(expand_pattern("n[0:99][0:99]")) == 10_000
    with pytest.raises(UsageError, match="expands to 100000000 hosts"):
        expand_pattern("n[0:9999][0:9999]")
    assert time.monotonic() - start < 1.0


def test_ten_thousand_hosts_are_read_in_linear_time(tmp_path: Path) -> None:
    """10000 hosts in one range, each on a network: well under a few seconds."""
    path = tmp_path / "hosts.ini"
    path.write_text(
        "[g]\nn[0000:9999] s=198.18.1.1\n"
        '[all:vars]\njumbopath_networks={"s": {"mtu": 9000, "var": "ansible_host"}}\n'
    )
    start = time.monotonic()
    inv = load_inventory(path)
    assert len(inv.hosts) == 10_000
    assert time.monotonic() - start < 5.0


def test_vault_files_stay_skipped(tmp_path: Path) -> None:
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "all.yml").write_text("$ANSIBLE_VAULT;1.1;AES256\n6162\n")
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "host_vars" / "h1.yml").write_text("secret: !vault |\n  $ANSIBLE_VAULT;1.1\n")
    path = tmp_path / "hosts.ini"
    path.write_text("[g]\nh1 s=198.18.1.1\n" + ANET)
    assert load_inventory(path).networks[0].members == (("h1", "198.18.1.1"),)


def test_links_inside_group_vars_are_followed(tmp_path: Path) -> None:
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "shared.yml").write_text("ansible_user: admin\n")
    (tmp_path / "group_vars" / "all.yml").symlink_to(tmp_path / "group_vars" / "shared.yml")
    path = tmp_path / "hosts.ini"
    path.write_text("[g]\nh1 s=198.18.1.1\n" + ANET)
    assert load_inventory(path).hosts[0].user == "admin"


@pytest.mark.parametrize(
    ("ssh", "user", "command"),
    [
        ("198.18.0.1", "root", "sudo -n jumbopath"),
        ("admin@hv1.example", "ci-bot", "env PYTHONPATH=/opt/jp /usr/bin/python3 -m jumbopath"),
        ("fe80::1%eth0", "svc.account@corp", "'/opt/jump path/bin/jumbopath'"),
        ("lab_alias", "machine$", "$HOME/bin/jumbopath"),
    ],
)
def test_ordinary_ssh_settings_pass(tmp_path: Path, ssh: str, user: str, command: str) -> None:
    path = tmp_path / "inv.yml"
    path.write_text(own_host(ssh=ssh, user=user, command=command))
    host = load_inventory(path).host("a")
    assert (host.ssh_host, host.user, host.command) == (ssh, user, command)


def test_values_are_shown_short_and_cheaply() -> None:
    from jumbopath.mesh.inventory import show
    from jumbopath.mesh.inventory.yamlload import LineDict

    huge = LineDict({i: "x" * 100 for i in range(200_000)})
    start = time.monotonic()
    shown = [show(huge), show([huge] * 1000), show(b"\x1b" * 10**6), show("\x1b[2J" * 10**6)]
    assert time.monotonic() - start < 0.5  # a few ms here; only a rescan of the input fails
    assert all(len(s) <= 80 and "\x1b" not in s for s in shown), shown
    assert show("big") == "'big'"


def test_a_nul_in_the_path_is_no_such_file() -> None:
    with pytest.raises(UsageError, match=r"a\\x00b: no such inventory file"):
        load_inventory("a\x00b")
