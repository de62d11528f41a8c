"""``jumbopath switches`` against real agents: snmpd + lldpd in every switch namespace.

Three switches in a chain behind a router; every end 9000 unless a test says::

    client ─ sw-a ─ r1 ─ sw-b ─ sw-c ─┬─ stor-a
                                      └─ stor-b

The management addresses sit on each switch's bridge (198.18.1.250,
198.18.2.250, 198.18.2.251); ``jumbopath`` runs in ``client`` as its own
process, traces to stor-b, then reads the switches and places the break.
sw-b is read with SNMPv3 (SHA + AES), the others with v2c.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from jumbopath.lab import Host, Lab, Link, Router, Switch, Topology

sys.path.insert(0, str(Path(__file__).resolve().parent))
from snmplab import COMMUNITY, V3_AUTH, V3_PRIV, V3_USER, SnmpLab, tools_missing  # noqa: E402
from sshlab import REMOTE_COMMAND, SshLab  # noqa: E402
from sshlab import tools_missing as ssh_missing  # noqa: E402

pytestmark = pytest.mark.skipif(
    bool(tools_missing()), reason=f"needs {', '.join(tools_missing())}: apt-get install snmpd lldpd"
)
REPO = Path(__file__).resolve().parents[2]
MGMT = {
    "sw-a": ("198.18.1.250", "r1"),
    "sw-b": ("198.18.2.250", "r1"),
    "sw-c": ("198.18.2.251", "r1"),
}
SPEAKERS = ["client", "r1", "stor-a", "stor-b"]


def topology(mtus: Mapping[tuple[str, str], int] = {}) -> Topology:  # noqa: B006
    links = []
    for a, b in [
        ("client", "sw-a"),
        ("sw-a", "r1"),
        ("r1", "sw-b"),
        ("sw-b", "sw-c"),
        ("sw-c", "stor-a"),
        ("sw-c", "stor-b"),
    ]:
        links.append(Link(a, b, a_mtu=mtus.get((a, b), 9000), b_mtu=mtus.get((b, a), 9000)))
    nodes = (
        Host("client"),
        Switch("sw-a"),
        Router("r1"),
        Switch("sw-b"),
        Switch("sw-c"),
        Host("stor-a"),
        Host("stor-b"),
    )
    return Topology(nodes=nodes, links=tuple(links))


@contextmanager
def switch_lab(
    tmp: Path,
    mtus: Mapping[tuple[str, str], int] = {},  # noqa: B006
    speakers: list[str] = SPEAKERS,  # noqa: B006
    **agents: Any,
) -> Iterator[tuple[Lab, SnmpLab, Path]]:
    with Lab(topology(mtus)) as lab, SnmpLab(lab, MGMT, speakers, **agents) as snmp:
        snmp.wait_for_neighbours()
        creds = tmp / "credentials.yaml"
        creds.write_text(
            f"default: {{version: 2c, community: {COMMUNITY}}}\n"
            f"v3: {{version: 3, user: {V3_USER}, auth_key: {V3_AUTH}, priv_key: {V3_PRIV}}}\n"
            f"wrong-key: {{version: 3, user: {V3_USER}, auth_key: not-the-key, "
            f"priv_key: {V3_PRIV}}}\n"
            "wrong-community: {version: 2c, community: not-the-community}\n"
        )
        creds.chmod(0o600)
        yield lab, snmp, creds


def switches_file(tmp: Path, profiles: Mapping[str, str] = {}) -> Path:  # noqa: B006
    path = tmp / "switches.yaml"
    rows = []
    for sw, (address, _) in MGMT.items():
        profile = profiles.get(sw, "v3" if sw == "sw-b" else "default")
        rows.append(f"  - {{name: {sw}, address: {address}, credentials: {profile}}}")
    path.write_text("switches:\n" + "\n".join(rows) + "\n")
    return path


def read_switches(lab: Lab, listed: Path, creds: Path, *extra: str) -> tuple[int, Any]:
    """``jumbopath switches --switches LISTED --json``, read with ``creds``."""
    return jumbopath(
        lab, "switches", "--switches", str(listed), "--credentials", str(creds), "--json", *extra
    )


def check_switches(
    lab: Lab, listed: Path, creds: Path, trace: Path, *extra: str
) -> tuple[int, Any]:
    """``jumbopath switches --check TRACE`` (see :func:`read_switches`)."""
    return read_switches(lab, listed, creds, "--check", str(trace), *extra)


def jumbopath(lab: Lab, *args: str, timeout: float = 60) -> tuple[int, Any]:
    done = lab.run(
        "client",
        [sys.executable, "-m", "jumbopath", *args],
        cwd=REPO,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        return done.returncode, json.loads(done.stdout)
    except ValueError:
        raise AssertionError(f"exit {done.returncode}: {done.stdout}\n{done.stderr}") from None


def trace_to_stor_b(lab: Lab, tmp: Path) -> Path:
    code, doc = jumbopath(lab, "trace", "-4", "--expect", "9000", "--json", lab.addr("stor-b"))
    assert code == 1, doc
    (result,) = doc["results"]
    assert result["break"]["kind"] == "silent", result["break"]
    path = tmp / "trace.json"
    path.write_text(json.dumps(doc))
    return path


def port_names(entry: Mapping[str, Any]) -> list[tuple[str, str, str, int]]:
    return [(p["node"], p["port"], p["toward"], p["ip_mtu"]) for p in entry["ports"]]


def test_host_port_at_1500_is_named(tmp_path: Path) -> None:
    with switch_lab(tmp_path, {("sw-c", "stor-b"): 1500}) as (lab, _, creds):
        trace = trace_to_stor_b(lab, tmp_path)
        code, doc = check_switches(lab, switches_file(tmp_path), creds, trace)
        port = lab.iface("sw-c", "stor-b")
        assert code == 1
        assert [s["failure"] for s in doc["switches"]] == [None, None, None]
        assert [(f["node"], f["port"], f["toward"]) for f in doc["flagged"]] == [
            ("sw-c", port, "stor-b")
        ]
        (entry,) = doc["breaks"]
        assert port_names(entry) == [("sw-c", port, "stor-b", 1500)]
        assert entry["walk"] == ["r1", "sw-b", "sw-c", "stor-b"]
        assert entry["explanation"] == f"sw-c port {port} (toward stor-b) has MTU 1500"
        # sw-b was read with SNMPv3 (authPriv), the others with v2c.
        assert {s["name"]: s["vendor"]["key"] for s in doc["switches"]} == dict.fromkeys(
            MGMT, "linux"
        )


def test_inter_switch_link_at_1500_names_both_ends(tmp_path: Path) -> None:
    mtus = {("sw-b", "sw-c"): 1500, ("sw-c", "sw-b"): 1500}
    with switch_lab(tmp_path, mtus) as (lab, _, creds):
        trace = trace_to_stor_b(lab, tmp_path)
        code, doc = check_switches(lab, switches_file(tmp_path), creds, trace)
        assert code == 1
        (entry,) = doc["breaks"]
        assert port_names(entry) == [
            ("sw-b", lab.iface("sw-b", "sw-c"), "sw-c", 1500),
            ("sw-c", lab.iface("sw-c", "sw-b"), "sw-b", 1500),
        ]


def test_switch_that_does_not_answer(tmp_path: Path) -> None:
    with switch_lab(tmp_path, {("sw-c", "stor-b"): 1500}, silent=["sw-c"]) as (lab, _, creds):
        trace = trace_to_stor_b(lab, tmp_path)
        code, doc = check_switches(
            lab, switches_file(tmp_path), creds, trace, "--timeout", "0.3", "--retries", "0"
        )
        assert code == 3
        failures = {s["name"]: s["failure"] for s in doc["switches"]}
        assert failures == {"sw-a": None, "sw-b": None, "sw-c": "timeout"}
        (entry,) = doc["breaks"]
        assert entry["ports"] == []
        # Only sw-c's own LLDP table knows stor-b: the map cannot reach it, and says why.
        assert entry["reason"] == "unplaced"
        assert entry["missing"] == lab.addr("stor-b")
        assert entry["unread"] == ["sw-c (timeout)"]
        assert "not read: sw-c (timeout)" in entry["explanation"]


def test_wrong_credentials(tmp_path: Path) -> None:
    with switch_lab(tmp_path) as (lab, _, creds):
        listed = switches_file(tmp_path, {"sw-a": "wrong-community", "sw-b": "wrong-key"})
        code, doc = read_switches(lab, listed, creds, "--timeout", "0.3", "--retries", "0")
        assert code == 3
        by_name = {s["name"]: s for s in doc["switches"]}
        assert by_name["sw-a"]["failure"] == "timeout"  # v2c agents ignore a wrong community
        assert by_name["sw-b"]["failure"] == "auth"
        assert by_name["sw-c"]["failure"] is None
        # No secret is ever printed.
        done = lab.run(
            "client",
            [
                sys.executable,
                "-m",
                "jumbopath",
                "switches",
                "--switches",
                str(listed),
                "--credentials",
                str(creds),
                "--timeout",
                "0.3",
                "--retries",
                "0",
            ],
            cwd=REPO,
        )
        for secret in (COMMUNITY, V3_AUTH, V3_PRIV, "not-the-key", "not-the-community"):
            assert secret not in done.stdout + done.stderr
        assert "NOT READ: auth" in done.stdout


def test_slow_switch(tmp_path: Path) -> None:
    with switch_lab(tmp_path, slow={"sw-a": 0.2}) as (lab, _, creds):
        listed = switches_file(tmp_path)
        code, doc = read_switches(lab, listed, creds, "--timeout", "1.5")
        by_name = {s["name"]: s for s in doc["switches"]}
        assert by_name["sw-a"]["failure"] is None
        assert by_name["sw-a"]["elapsed_s"] >= 0.4  # at least one GET and one GETBULK round
        assert code == 0, doc["flagged"]
        code, doc = read_switches(lab, listed, creds, "--timeout", "0.1", "--retries", "0")
        by_name = {s["name"]: s for s in doc["switches"]}
        assert by_name["sw-a"]["failure"] == "timeout"
        assert by_name["sw-b"]["failure"] is None
        assert code == 3


def test_host_without_lldp_is_placed_by_its_mac(tmp_path: Path) -> None:
    """stor-b runs no lldpd: sw-c's BRIDGE-MIB (the kernel bridge's FDB) places it by MAC."""
    speakers = [s for s in SPEAKERS if s != "stor-b"]
    with switch_lab(tmp_path, {("sw-c", "stor-b"): 1500}, speakers) as (lab, _, creds):
        trace = trace_to_stor_b(lab, tmp_path)
        nic = lab.iface("stor-b", "sw-c")
        (link,) = json.loads(lab.run("stor-b", ["ip", "-j", "link", "show", nic]).stdout)
        mac = link["address"]
        listed = switches_file(tmp_path)
        with listed.open("a") as out:
            out.write(
                f"hosts:\n  - {{name: stor-b, addresses: [{lab.addr('stor-b')}], "
                f'macs: ["{mac}"]}}\n'
            )
        code, doc = check_switches(lab, listed, creds, trace)
        port = lab.iface("sw-c", "stor-b")
        by_name = {s["name"]: s for s in doc["switches"]}
        # The FDB really comes from the kernel bridge: stor-b's MAC on sw-c's port toward it.
        assert {"mac": mac, "port": port, "vlan": None} in by_name["sw-c"]["fdb"]
        assert not any(n["system"] == "stor-b" for n in by_name["sw-c"]["neighbours"])
        assert code == 1
        assert [
            lk["via"] for lk in doc["links"] if "stor-b" in (lk["a"]["node"], lk["b"]["node"])
        ] == ["fdb"]
        (entry,) = doc["breaks"]
        assert port_names(entry) == [("sw-c", port, "stor-b", 1500)]
        assert entry["explanation"] == f"sw-c port {port} (toward stor-b) has MTU 1500"


def test_switch_pasted_as_lldpcli_and_ip_json_is_named(tmp_path: Path) -> None:
    """sw-c given as what its real lldpd and iproute2 print (JSON), sw-a and sw-b read over SNMP."""
    with switch_lab(tmp_path, {("sw-c", "stor-b"): 1500}) as (lab, snmp, creds):
        trace = trace_to_stor_b(lab, tmp_path)
        socket = str(snmp.folder / "sw-c" / "lldpd.socket")
        for name, argv in (
            (
                "sw-c-lldp.json",
                ["lldpcli", "-u", socket, "-f", "json", "show", "neighbors", "details"],
            ),
            ("sw-c-links.json", ["ip", "-j", "link", "show"]),
        ):
            done = lab.run("sw-c", argv)
            assert done.returncode == 0, done.stderr
            (tmp_path / name).write_text(done.stdout)
        listed = tmp_path / "switches.yaml"
        listed.write_text(
            "switches:\n"
            f"  - {{name: sw-a, address: {MGMT['sw-a'][0]}}}\n"
            f"  - {{name: sw-b, address: {MGMT['sw-b'][0]}, credentials: v3}}\n"
            "  - {name: sw-c, show_interface: sw-c-links.json, show_lldp: sw-c-lldp.json}\n"
        )
        code, doc = check_switches(lab, listed, creds, trace)
        port = lab.iface("sw-c", "stor-b")
        assert code == 1
        by_name = {s["name"]: s for s in doc["switches"]}
        assert by_name["sw-c"]["source"] == "file"
        assert by_name["sw-c"]["vendor"]["key"] == "linux"
        (entry,) = doc["breaks"]
        assert port_names(entry) == [("sw-c", port, "stor-b", 1500)]
        assert entry["walk"] == ["r1", "sw-b", "sw-c", "stor-b"]


def mesh_inventory(lab: Lab, ssh: SshLab, path: Path, switches: Path | None) -> Path:
    """client and stor-b on one 9000 network (routed through r1), with the switches or not."""
    hosts = ["client", "stor-b"]
    text = (
        f"defaults: {{user: root, command: {json.dumps(REMOTE_COMMAND)}}}\n"
        "hosts:\n"
        + "".join(f"  {h}: {{ssh: {ssh.addr(h)}}}\n" for h in hosts)
        + "networks:\n  storage:\n    mtu: 9000\n    hosts:\n"
        + "".join(f"      {h}: {lab.addr(h)}\n" for h in hosts)
    )
    if switches is not None:
        text += switches.read_text()  # the switches file's 'switches:' list, as it is
    path.write_text(text)
    return path


@pytest.mark.skipif(bool(ssh_missing()), reason="needs openssh-server and openssh-client")
def test_mesh_with_the_inventory_switches_names_the_port_as_switches_file(tmp_path: Path) -> None:
    with (
        switch_lab(tmp_path, {("sw-c", "stor-b"): 1500}) as (lab, _, creds),
        SshLab(lab, ["client", "stor-b"]) as ssh,
    ):
        listed = switches_file(tmp_path)
        env = {"JUMBOPATH_SNMP_CREDENTIALS": str(creds)}
        own = mesh_inventory(lab, ssh, tmp_path / "own.yaml", listed)
        bare = mesh_inventory(lab, ssh, tmp_path / "bare.yaml", None)
        runs = {}
        for name, args in (
            ("inventory", [str(own)]),
            ("file", [str(bare), "--switches", str(listed)]),
        ):
            done = lab.run(
                "client",
                [sys.executable, "-m", "jumbopath", "mesh", *args, "-F", str(ssh.config), "--json"],
                cwd=REPO,
                timeout=180,
                env={**os.environ, "PYTHONPATH": str(REPO), **env},
            )
            assert done.returncode == 1, done.stdout + done.stderr
            runs[name] = json.loads(done.stdout)
        cells = {
            name: next(
                c
                for c in doc["networks"][0]["cells"]
                if (c["source"], c["destination"]) == ("client", "stor-b")
            )
            for name, doc in runs.items()
        }
        port = lab.iface("sw-c", "stor-b")
        for name, found in cells.items():
            ports = [
                (p["switch"], p["port"], p["toward"], p["mtu"]) for p in found["break"]["ports"]
            ]
            assert ports == [("sw-c", port, "stor-b", 1500)], (name, found["break"])
        assert cells["inventory"]["break"] == cells["file"]["break"]
        # The switches are no mesh hosts: only client and stor-b were reached over SSH.
        assert runs["inventory"]["networks"][0]["hosts"] == ["client", "stor-b"]


def _bridge_mib_pids(folder: Path) -> list[int]:
    """Processes running a BRIDGE-MIB script of this lab (found by its path)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if str(folder).encode() in cmdline and b"bridge-mib" in cmdline:
            found.append(int(proc.name))
    return found


def test_bridge_mib_script_serves_only_its_columns(tmp_path: Path) -> None:
    with switch_lab(tmp_path) as (lab, snmp, _creds):
        script = str(snmp.folder / "sw-c" / "bridge-mib")
        asked = (
            "PING\n"
            "get\n.1.3.6.1.2.1.2.2.1.4.1\n"  # ifMtu.1: not served
            "getnext\n.1.3.6.1.2.1.17\n"  # the first dot1dBasePortIfIndex row
            "getnext\n.1.3.6.1.2.1.17.4.3.1.3.255\n"  # past the last column
            "getnext\nnot-an-oid\n"
            "set\n.1.3.6.1.2.1.17.1.4.1.2.1\ninteger 5\n"
        )
        done = lab.run("sw-c", [script, "br0"], input=asked, text=True, timeout=10)
        lines = done.stdout.splitlines()
        assert done.returncode == 0, done.stderr  # stdin closed: it quits
        port = json.loads(lab.run("sw-c", ["ip", "-j", "link", "show", "swp1"]).stdout)[0]
        assert lines[:2] == ["PONG", "NONE"]
        assert lines[2:5] == [
            f".1.3.6.1.2.1.17.1.4.1.2.{port['ifindex']}",
            "integer",
            str(port["ifindex"]),
        ]
        assert lines[5:] == ["NONE", "NONE", "not-writable"]


def test_agents_stop_on_teardown(tmp_path: Path) -> None:
    with switch_lab(tmp_path) as (lab, snmp, creds):
        processes = list(snmp._procs)
        assert processes
        code, _ = jumbopath(
            lab,
            "switches",
            "--switches",
            str(switches_file(tmp_path)),
            "--credentials",
            str(creds),
            "--json",
        )
        assert code == 0
        scripts = _bridge_mib_pids(snmp.folder)
        assert len(scripts) == 3  # snmpd started one per switch for BRIDGE-MIB
    assert all(p.poll() is not None for p in processes)
    assert not snmp.folder.exists()
    for _ in range(50):  # they quit with snmpd (stdin closed)
        if not _bridge_mib_pids(snmp.folder):
            break
        time.sleep(0.1)
    assert _bridge_mib_pids(snmp.folder) == []
