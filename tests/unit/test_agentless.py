"""Agentless hosts: the commands sent over SSH, the far host's routes, the inventory keys."""

from __future__ import annotations

import base64
import shlex
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jumbopath.egress import Egress
from jumbopath.errors import UsageError
from jumbopath.mesh.agentless import (
    TOOLS,
    network_tool,
    parse_routes,
    remote_command,
    route_script,
)
from jumbopath.mesh.inventory import load_inventory
from jumbopath.mesh.inventory.model import Agent, HostOS, MeshHost
from jumbopath.mesh.ssh import SshOptions, ssh_argv
from jumbopath.model import ProbeRequest
from jumbopath.probers.base import Target
from jumbopath.probers.pingparse import Flavour
from jumbopath.probers.systemping import PingTool, posix_batch, powershell_batch, probe_argv

# ------------------------------------------------------------ commands


def test_a_posix_round_reaches_the_far_shell_word_for_word() -> None:
    argv = posix_batch([(1, ["ping", "-n", "-4", "-M", "do", "-s", "8972", "198.18.2.3"])])
    text = remote_command(TOOLS[HostOS.LINUX], argv)
    assert shlex.split(text) == argv
    done = subprocess.run(
        ["sh", "-c", f"set -- {text}; printf '%s\\n' \"$@\""],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert done.stdout.splitlines()[:2] == ["sh", "-c"]


def test_a_windows_round_is_an_encoded_powershell_command() -> None:
    target = Target("198.18.2.3", "198.18.2.3", 4)
    argv = powershell_batch([(7, target, ProbeRequest(key=1, size=9000))])
    text = remote_command(PingTool(Flavour.WINDOWS, "powershell"), argv)
    head, _, encoded = text.rpartition(" ")
    assert head == "powershell -NoProfile -NonInteractive -EncodedCommand"
    assert base64.b64decode(encoded).decode("utf-16-le") == argv[-1]
    assert "SendPingAsync" in argv[-1] and "'198.18.2.3',8972" in argv[-1]


def test_every_os_has_its_ping() -> None:
    assert {h: t.flavour for h, t in TOOLS.items()} == {
        HostOS.LINUX: Flavour.IPUTILS,
        HostOS.ESXI: Flavour.ESXI,
        HostOS.WINDOWS: Flavour.WINDOWS,
        HostOS.MACOS: Flavour.MACOS,
    }
    assert TOOLS[HostOS.ESXI].program == "vmkping"


def test_commands_ride_the_control_connection() -> None:
    host = MeshHost("n1", "198.18.1.2", user="root", port=2222)
    options = SshOptions(ssh_config="/etc/jp/ssh_config")
    master = ssh_argv(host, None, options, ["-M", "-S", "/tmp/x/control", "-N"])
    assert master[-6:] == ["-M", "-S", "/tmp/x/control", "-N", "--", "198.18.1.2"]
    assert master[:3] == ["ssh", "-F", "/etc/jp/ssh_config"] and "BatchMode=yes" in master
    one = ssh_argv(host, "true", options, ["-S", "/tmp/x/control"])
    assert one[-5:] == ["-S", "/tmp/x/control", "--", "198.18.1.2", "true"]


# ------------------------------------------------------------ the far host's routes

ROUTES = "\n".join(
    [
        r"@@jp 198.18.2.3 9000 up 198.18.2.3 dev eth1 src 198.18.2.2 uid 0 \    cache",
        r"@@jp 198.18.9.9 1500 up 198.18.9.9 via 198.18.1.1 dev eth0 src 198.18.1.2 uid 0 "
        r"\    cache expires 598sec mtu 1400",
        "@@jp 198.18.7.7 - - ",
        r"@@jp 198.18.6.6 9000 down 198.18.6.6 dev eth2 src 198.18.6.1 uid 0 \    cache",
        "@@jp 2001:db8::3 9000 up 2001:db8::3 from :: dev eth1 proto kernel src 2001:db8::2 "
        "metric 256 pref medium",
        "garbage line",
        "@@jp not-an-address 9000 up x dev eth0",
    ]
)


def test_routes_read_as_the_far_kernel_says() -> None:
    found = parse_routes(ROUTES)
    assert found["198.18.2.3"] == Egress("198.18.2.2", "eth1", 9000, 9000)
    # A cached path MTU (a router said "too big" before) is the route's MTU.
    assert found["198.18.9.9"] == Egress("198.18.1.2", "eth0", 1500, 1400)
    assert found["198.18.7.7"] == "no route"
    assert found["198.18.6.6"] == "interface eth2 is down (state down)"
    assert found["2001:db8::3"] == Egress("2001:db8::2", "eth1", 9000, 9000)
    assert set(found) == {"198.18.2.3", "198.18.9.9", "198.18.7.7", "198.18.6.6", "2001:db8::3"}


def test_the_route_script_runs_here_and_reads_back() -> None:
    """The script itself, in a real shell with the real ip (route lookups send nothing)."""
    addresses = ["198.18.0.1", "2001:db8::1"]
    done = subprocess.run(
        ["sh", "-c", route_script(addresses)], capture_output=True, text=True, timeout=20
    )
    found = parse_routes(done.stdout)
    assert set(found) == set(addresses), done.stdout + done.stderr
    for value in found.values():
        assert isinstance(value, (Egress, str))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=120), max_size=30))
def test_hostile_route_output_never_raises(lines: list[str]) -> None:
    text = "\n".join(f"@@jp {x}" if i % 2 else x for i, x in enumerate(lines))
    for value in parse_routes(text).values():
        if isinstance(value, Egress):
            assert value.interface is not None and len(value.interface) <= 15
            assert value.interface_mtu is None or 68 <= value.interface_mtu <= 65535
        else:
            assert value == "no route" or value.startswith("interface ")


# ------------------------------------------------------------ inventories


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_own_inventory_agent_and_os(tmp_path: Path) -> None:
    inv = load_inventory(
        _write(
            tmp_path,
            "inv.yml",
            "hosts:\n  a: {agent: ping, os: ESXi}\n  b: {}\n"
            "networks:\n  s: {mtu: 9000, hosts: {a: 198.18.1.1, b: 198.18.1.2}}\n",
        )
    )
    a, b = inv.hosts
    assert (a.agent, a.os) == (Agent.PING, HostOS.ESXI)
    assert (b.agent, b.os) == (Agent.JUMBOPATH, HostOS.LINUX)


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [("agent", "snmp", "agent 'snmp' is not one of: jumbopath, ping"), ("os", "aix", "os 'aix'")],
)
def test_own_inventory_refuses_unknown_choices(
    tmp_path: Path, key: str, value: str, words: str
) -> None:
    path = _write(
        tmp_path,
        "inv.yml",
        f"hosts:\n  a: {{{key}: {value}}}\n"
        "networks:\n  s: {mtu: 9000, hosts: {a: 198.18.1.1}}\n",
    )
    with pytest.raises(UsageError, match=words):
        load_inventory(path)


def test_ansible_variables_tell_the_os(tmp_path: Path) -> None:
    inv = load_inventory(
        _write(
            tmp_path,
            "hosts.ini",
            "[all]\n"
            "w1 ansible_host=198.18.1.5 jumbopath_agent=ping ansible_shell_type=powershell\n"
            "m1 ansible_host=198.18.1.6 jumbopath_agent=ping ansible_os_family=Darwin\n"
            "e1 ansible_host=198.18.1.7 jumbopath_agent=ping ansible_os_family=VMkernel\n"
            "x1 ansible_host=198.18.1.8 jumbopath_agent=ping jumbopath_os=linux "
            "ansible_os_family=Windows\n"
            "j1 ansible_host=198.18.1.9\n"
            "[all:vars]\n"
            'jumbopath_networks={"s": {"mtu": 9000, "var": "ansible_host"}}\n',
        )
    )
    got = {h.name: (h.agent.value, h.os.value) for h in inv.hosts}
    assert got == {
        "w1": ("ping", "windows"),
        "m1": ("ping", "macos"),
        "e1": ("ping", "esxi"),
        "x1": ("ping", "linux"),
        "j1": ("jumbopath", "linux"),
    }


def test_esxi_hosts_choose_vmk_and_netstack_per_network(tmp_path: Path) -> None:
    inv = load_inventory(
        _write(
            tmp_path,
            "inv.yml",
            "hosts:\n  esx1:\n    agent: ping\n    os: esxi\n"
            "    vmk: {storage: vmk1, migration: vmk2}\n    netstack: {migration: vmotion}\n"
            "  l1: {}\n"
            "networks:\n  storage: {mtu: 9000, hosts: {esx1: 198.18.1.1, l1: 198.18.1.2}}\n"
            "  migration: {mtu: 9000, hosts: {esx1: 198.18.2.1, l1: 198.18.2.2}}\n",
        )
    )
    esx = inv.host("esx1")
    storage, migration = network_tool(esx, "storage"), network_tool(esx, "migration")
    assert (storage.program, storage.interface, storage.netstack) == ("vmkping", "vmk1", None)
    assert (migration.interface, migration.netstack) == ("vmk2", "vmotion")
    argv = probe_argv(migration, Target("x", "198.18.2.2", 4), ProbeRequest(key=1, size=9000))
    assert argv == [
        "vmkping", "-d", "-s", "8972", "-c", "1", "-W", "1",
        "-I", "vmk2", "-S", "vmotion", "198.18.2.2",
    ]  # fmt: skip
    assert network_tool(inv.host("l1"), "storage") == TOOLS[HostOS.LINUX]


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("vmk: {storage: eth0}", "vmk 'eth0' for 'storage' is not a VMkernel interface"),
        ("vmk: vmk1", "vmk must map networks to names"),
        ("netstack: {storage: 'a b'}", "netstack 'a b' for 'storage' is not a netstack name"),
    ],
)
def test_bad_esxi_settings_are_refused(tmp_path: Path, spec: str, words: str) -> None:
    path = _write(
        tmp_path,
        "inv.yml",
        f"hosts:\n  a: {{agent: ping, os: esxi, {spec}}}\n"
        "networks:\n  storage: {mtu: 9000, hosts: {a: 198.18.1.1}}\n",
    )
    with pytest.raises(UsageError, match=words):
        load_inventory(path)
