"""Switches without a network: MIB decoding, vendor rules, the map, suspect ports,
the switches file, credentials and the command on data given in a file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from jumbopath.errors import UsageError
from jumbopath.model import Break, BreakKind, Cause
from jumbopath.switches import files, mib
from jumbopath.switches.credentials import (
    Credentials,
    credentials_from_env,
    load_credentials,
)
from jumbopath.switches.graph import build, flags
from jumbopath.switches.model import PollFailure, Source, SwitchInfo
from jumbopath.switches.suspects import suspect_ports
from jumbopath.switches.vendors import guess_vendor, ip_mtu_from_if_mtu

# --------------------------------------------------------------------------
# MIB decoding: a walk as an agent (net-snmp + lldpd) hands it over

MAC_B = bytes.fromhex("0242c6120002")


def walk_sw_c() -> dict[str, mib.Column]:
    """sw-c: swp1 to sw-b, swp2 to stor-a, swp3 (ifMtu 1500) to stor-b."""
    return {
        "ifName": {(1,): b"lo", (17,): b"swp1", (18,): b"swp2", (20,): b"swp3"},
        "ifType": {(1,): 24, (17,): 6, (18,): 6, (20,): 6},
        "ifMtu": {(1,): 65536, (17,): 9000, (18,): 9000, (20,): 1500},
        "ifOperStatus": {(1,): 1, (17,): 1, (18,): 1, (20,): 1},
        "ifAlias": {(20,): b"stor-b \x1b[2J"},
        "lldpLocPortId": {(17,): b"swp1", (18,): b"swp2", (20,): b"swp3"},
        "lldpRemSysName": {(200, 17, 1): b"sw-b", (200, 18, 3): b"stor-a", (200, 20, 2): b"stor-b"},
        "lldpRemPortIdSubtype": {(200, 17, 1): 5, (200, 18, 3): 5, (200, 20, 2): 3},
        "lldpRemPortId": {(200, 17, 1): b"swp2", (200, 18, 3): b"eth0", (200, 20, 2): MAC_B},
        "lldpRemChassisIdSubtype": {(200, 17, 1): 4},
        "lldpRemChassisId": {(200, 17, 1): bytes.fromhex("e24b8241ba49")},
        "lldpRemManAddrIfSubtype": {
            (200, 20, 2, 1, 4, 198, 18, 2, 3): 2,
            (200, 17, 1, 1, 4, 198, 18, 2, 250): 2,
            (200, 17, 1, 1, 3, 1, 2): 2,  # length does not match: ignored
        },
        "lldpXdot3RemMaxFrameSize": {(200, 18, 3): 1518},
        "dot1dBasePortIfIndex": {(1,): 17, (2,): 18, (3,): 20},
        "dot1dTpFdbPort": {(2, 0, 0, 0, 0, 9): 3, (2, 0, 0, 0, 0, 8): 1},
        "dot1dTpFdbStatus": {(2, 0, 0, 0, 0, 9): 3, (2, 0, 0, 0, 0, 8): 4},
    }


def decoded_sw_c() -> SwitchInfo:
    scalars = {"sysDescr": b"Linux sw 6.1", "lldpLocSysName": b"sw-c"}
    return mib.decode("sw-c", "198.18.2.251", scalars, walk_sw_c())


def test_decode_ports_neighbours_and_fdb() -> None:
    sw = decoded_sw_c()
    assert sw.vendor == "linux" and sw.vendor_guessed
    assert [(p.name, p.if_mtu, p.ip_mtu) for p in sw.ports] == [
        ("lo", 65536, None),  # not a possible IP MTU
        ("swp1", 9000, 9000),
        ("swp2", 9000, 9000),
        ("swp3", 1500, 1500),
    ]
    assert sw.port("swp3") is not None and sw.port("swp3").alias == "stor-b \\x1b[2J"  # type: ignore[union-attr]
    by_port = {n.port: n for n in sw.neighbours}
    assert by_port["swp1"].system == "sw-b" and by_port["swp1"].chassis_id == "e2:4b:82:41:ba:49"
    assert by_port["swp1"].addresses == ("198.18.2.250",)
    assert by_port["swp3"].port_id == "02:42:c6:12:00:02"  # a MAC port ID, written as one
    assert by_port["swp2"].max_frame == 1518
    # Only the learned entry (status 3), on the port its base port maps to.
    assert [(f.mac, f.port) for f in sw.fdb] == [("02:00:00:00:00:09", "swp3")]


@pytest.mark.parametrize(
    ("descr", "oid", "vendor"),
    [
        ("Cisco NX-OS(tm) n9000, Software", "", "nxos"),
        ("Cisco IOS XR Software, Version 7.3", "", "iosxr"),
        ("Cisco IOS Software [Cupertino], Catalyst L3 Switch", "", "ios"),
        ("Juniper Networks, Inc. qfx5120 ... JUNOS 21.4", "", "junos"),
        ("Arista Networks EOS version 4.30", "", "eos"),
        ("Linux sw1 5.10.0-cl-1-amd64", "1.3.6.1.4.1.8072.3.2.10", "linux"),
        ("", "1.3.6.1.4.1.30065.1.3011", "eos"),
        ("some box", "1.3.6.1.4.1.99999.1", "unknown"),
    ],
)
def test_vendor_recognised(descr: str, oid: str, vendor: str) -> None:
    assert guess_vendor(descr, oid) == vendor


@pytest.mark.parametrize(
    ("if_mtu", "vendor", "ip_mtu"),
    [
        (9000, "linux", 9000),
        (9216, "nxos", 9216),
        (1514, "iosxr", 1500),  # IOS XR counts the 14-byte header
        (9014, "junos", 9000),
        (1500, "unknown", 1500),
        (65536, "linux", None),
    ],
)
def test_if_mtu_rules(if_mtu: int, vendor: str, ip_mtu: int | None) -> None:
    assert ip_mtu_from_if_mtu(if_mtu, vendor) == ip_mtu


# --------------------------------------------------------------------------
# The map and the suspects, on data given as a file

CHAIN = """
switches:
  - name: sw-b
    vendor: nxos
    chassis_id: "aa:aa:aa:aa:aa:0b"
    ports:
      - {name: Ethernet1/1, mtu: 9216}
      - {name: Ethernet1/2, mtu: 9216}
    neighbours:
      - {port: Ethernet1/1, system: r1, port_id: eth1, addresses: [198.18.1.2, 198.18.2.1]}
      - {port: Ethernet1/2, system: sw-c, port_id: swp1}
  - name: sw-c
    vendor: iosxr
    ports:
      - {name: swp1, mtu: SWP1}
      - {name: Ethernet1/7, mtu: SWP7}
      - {name: swp9, mtu: 9014}
    neighbours:
      - {port: swp1, system: sw-b, port_id: Ethernet1/2}
      - {port: Ethernet1/7, system: stor-b, port_id: eth0}
    fdb:
      - {port: swp9, mac: "02:00:00:00:00:09"}
hosts:
  - {name: stor-b, addresses: [198.18.2.3]}
  - {name: stor-c, addresses: [198.18.2.4], macs: ["02-00-00-00-00-09"]}
"""


def chain(swp1: int = 9014, swp7: int = 9014) -> Any:
    text = CHAIN.replace("SWP1", str(swp1)).replace("SWP7", str(swp7))
    spec = files.parse(yaml.safe_load(text), "chain.yaml")
    return build(spec.given, spec.hosts)


def silent(
    after: str | None,
    before: str | None,
    target: str,
    size: int | None = 9000,
    cause: Cause = Cause.SILENT_DROP,
) -> Break:
    return Break(
        kind=BreakKind.SILENT,
        after=after,
        before=before,
        mtu=1500,
        reported_by=None,
        cause=cause,
        size=size,
        target=target,
    )


def test_map_links_and_flags() -> None:
    graph = chain(swp7=1514)
    pairs = {frozenset({(lk.a.node, lk.a.port), (lk.b.node, lk.b.port)}) for lk in graph.links}
    assert frozenset({("sw-b", "Ethernet1/2"), ("sw-c", "swp1")}) in pairs
    assert frozenset({("sw-c", "swp9"), ("stor-c", "")}) in pairs  # placed by MAC
    assert len(graph.links) == 4
    (flag,) = flags(graph, 9000)
    assert (flag.node, flag.port, flag.toward, flag.ip_mtu) == (
        "sw-c",
        "Ethernet1/7",
        "stor-b",
        1500,
    )
    assert "ifMtu 1514 -> IP MTU 1500" in flag.basis and "Cisco IOS XR" in flag.basis


CASES = [
    # (description, port MTUs, break, expected ports or reason)
    (
        "host port",
        {"swp7": 1514},
        silent("198.18.2.1", "198.18.2.3", "198.18.2.3"),
        [("sw-c", "Ethernet1/7", "stor-b", 1500)],
    ),
    (
        "inter-switch link, one end",
        {"swp1": 1514},
        silent("198.18.1.2", "198.18.2.3", "x"),
        [("sw-c", "swp1", "sw-b", 1500)],
    ),
    (
        "no next hop: walk to the target",
        {"swp7": 1514},
        silent("198.18.2.1", None, "198.18.2.3", cause=Cause.SILENT_NO_NEXT_HOP),
        [("sw-c", "Ethernet1/7", "stor-b", 1500)],
    ),
    (
        "host placed by MAC, all fit",
        {},
        silent("198.18.2.1", "198.18.2.4", "198.18.2.4"),
        "all-fit",
    ),
    (
        "unknown address",
        {"swp7": 1514},
        silent("198.18.2.1", "198.18.9.9", "198.18.9.9"),
        "unplaced",
    ),
    (
        "first segment without --source",
        {"swp7": 1514},
        silent(None, "198.18.2.3", "198.18.2.3", cause=Cause.SILENT_FIRST_SEGMENT),
        "unplaced",
    ),
    (
        "a router said too big",
        {"swp7": 1514},
        Break(
            kind=BreakKind.PTB,
            after="198.18.2.1",
            before=None,
            mtu=1500,
            reported_by="x",
            cause=Cause.ROUTER_TOO_BIG,
        ),
        "not-silent",
    ),
    (
        "no size",
        {"swp7": 1514},
        silent("198.18.2.1", "198.18.2.3", "198.18.2.3", size=None),
        "no-size",
    ),
]


@pytest.mark.parametrize(("what", "mtus", "brk", "expected"), CASES, ids=[c[0] for c in CASES])
def test_suspect_ports(what: str, mtus: dict[str, int], brk: Break, expected: Any) -> None:
    graph = chain(swp1=mtus.get("swp1", 9014), swp7=mtus.get("swp7", 9014))
    found = suspect_ports(brk, graph)
    if isinstance(expected, str):
        assert found.ports == () and found.reason == expected, found
        assert found.sentence()
    else:
        assert [(p.node, p.port, p.toward, p.ip_mtu) for p in found.ports] == expected
        assert found.reason is None


def test_first_segment_with_source_and_sentence() -> None:
    graph = chain(swp7=1514)
    brk = silent(None, "198.18.2.3", "198.18.2.3", cause=Cause.SILENT_FIRST_SEGMENT)
    found = suspect_ports(brk, graph, source=("198.18.2.1",))
    assert found.walk == ("r1", "sw-b", "sw-c", "stor-b")
    assert found.sentence() == "sw-c port Ethernet1/7 (toward stor-b) has MTU 1500"


def test_unread_switch_is_said() -> None:
    spec = files.parse(yaml.safe_load(CHAIN.replace("SWP1", "9014").replace("SWP7", "9014")), "x")
    failed = SwitchInfo(
        "sw-c",
        "198.18.2.251",
        Source.SNMP,
        "unknown",
        failure=PollFailure.TIMEOUT,
        error="no answer",
    )
    graph = build([spec.given[0], failed], spec.hosts)
    found = suspect_ports(silent("198.18.2.1", "198.18.2.3", "198.18.2.3"), graph)
    # stor-b is named in hosts:, but only sw-c's own table links it to the map.
    assert found.reason == "no-path" and found.unread == ("sw-c (timeout)",)
    assert "not read: sw-c (timeout)" in found.sentence()


# --------------------------------------------------------------------------
# The switches file and credentials: hostile input never makes a traceback


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("switches: [{name: a}]", "needs an 'address'"),
        ("switches: [{address: 'not an ip'}]", "not an IP address or a host name"),
        ("switches: [{address: 198.18.0.1, vendor: acme}]", "vendor 'acme'"),
        ("switches: [198.18.0.1, 198.18.0.1]", "listed twice"),
        ("bogus: 1", "unknown key"),
        ("switches: [{name: a, ports: [{name: p, mtu: 12}]}]", "mtu must be"),
        ("hosts: [{name: h, macs: [zz]}]", "not a MAC"),
    ],
)
def test_bad_switches_files(text: str, words: str) -> None:
    with pytest.raises(UsageError, match=words):
        files.parse(yaml.safe_load(text), "f.yaml")


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "switches",
                        "hosts",
                        "name",
                        "address",
                        "ports",
                        "mtu",
                        "neighbours",
                        "fdb",
                        "port",
                        "mac",
                        "system",
                        "vendor",
                    ]
                ),
                inner,
                max_size=5,
            )
        ),
        max_leaves=20,
    )
)
def test_hostile_switches_documents(doc: Any) -> None:
    """Any document is refused in one line naming its source, or read row for row."""
    try:
        spec = files.parse(doc, "fuzz")
    except UsageError as exc:
        message = str(exc)
        assert message.startswith("fuzz: ") and "\n" not in message
        return
    assert isinstance(doc, dict) or doc is None
    rows = (doc or {}).get("switches") or []
    assert len(spec.poll) + len(spec.given) == len(rows)
    names = [p.name for p in spec.poll] + [g.name for g in spec.given]
    assert len(set(names)) == len(names) and all(n.strip() for n in names)
    assert len(spec.hosts) == len((doc or {}).get("hosts") or [])
    assert all(1 <= p.port <= 65535 for p in spec.poll)
    graph = build(spec.given, spec.hosts)
    assert [s.name for s in graph.switches] == [g.name for g in spec.given]
    nodes = set(graph.nodes())
    assert all({link.a.node, link.b.node} <= nodes for link in graph.links)


def test_credentials_never_shown(tmp_path: Path) -> None:
    c = Credentials("3", user="mon", auth_key="secret-auth", priv_key="secret-priv")
    assert "secret" not in repr(c) and "secret" not in c.describe()
    path = tmp_path / "creds.yaml"
    path.write_text("default: {version: 2c, community: s3cret}\n")
    path.chmod(0o644)
    with pytest.raises(UsageError, match="chmod 600"):
        load_credentials(path)
    path.chmod(0o600)
    assert load_credentials(path)["default"].community == "s3cret"
    with pytest.raises(UsageError, match="at least 8"):
        credentials_from_env({"JUMBOPATH_SNMP_USER": "mon", "JUMBOPATH_SNMP_AUTH_KEY": "short"})
    env = {"JUMBOPATH_SNMP_COMMUNITY": "c"}
    assert credentials_from_env(env)["default"].version == "2c"


# --------------------------------------------------------------------------
# The command, on switches given as data (no SNMP)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    repo = Path(__file__).resolve().parents[2]
    return subprocess.run(
        [sys.executable, "-m", "jumbopath", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(repo)},
    )


def test_command_on_given_data(tmp_path: Path) -> None:
    (tmp_path / "sw.yaml").write_text(CHAIN.replace("SWP1", "9014").replace("SWP7", "1514"))
    result = {
        "break": {
            "kind": "silent",
            "cause": "silent-drop",
            "after": "198.18.2.1",
            "before": "198.18.2.3",
            "mtu": 1500,
            "size": 9000,
        }
    }
    doc = {
        "schema": 1,
        "results": [
            {"target": "stor-b", "address": "198.18.2.3", "family": 4, "status": "below", **result}
        ],
    }
    (tmp_path / "check.json").write_text(json.dumps(doc))
    done = run("switches", "--switches", "sw.yaml", "--check", "check.json", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "Break toward stor-b: sw-c port Ethernet1/7 (toward stor-b) has MTU 1500" in done.stdout
    done = run("switches", "--switches", "sw.yaml", "--json", "--expect", "1500", cwd=tmp_path)
    assert done.returncode == 0 and json.loads(done.stdout)["flagged"] == []


def test_command_usage_errors(tmp_path: Path) -> None:
    done = run("switches", cwd=tmp_path)
    assert done.returncode == 2 and "no switches" in done.stderr
    done = run("switches", "198.18.0.1", cwd=tmp_path)
    assert done.returncode == 2 and "no SNMP credentials" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


# --------------------------------------------------------------------------
# Q-BRIDGE-MIB (RFC 4363): learned MACs per VLAN, from a walk as net-snmp prints it

# Written by hand in the layout of ``snmpwalk -v2c -c public -On ADDR
# 1.3.6.1.2.1.17`` output (numeric OIDs; a value with the MIB loaded reads
# ``INTEGER: learned(3)``), for a switch whose base ports 1..3 are ifIndex
# 17, 18, 20 (walk_sw_c's swp1, swp2, swp3). Not captured: the Linux snmpd
# here implements no Q-BRIDGE-MIB.
QBRIDGE_WALK = """\
.1.3.6.1.2.1.17.1.4.1.2.1 = INTEGER: 17
.1.3.6.1.2.1.17.1.4.1.2.2 = INTEGER: 18
.1.3.6.1.2.1.17.1.4.1.2.3 = INTEGER: 20
.1.3.6.1.2.1.17.4.3.1.2.2.0.0.0.0.7 = INTEGER: 1
.1.3.6.1.2.1.17.4.3.1.3.2.0.0.0.0.7 = INTEGER: learned(3)
.1.3.6.1.2.1.17.7.1.2.2.1.2.10.2.66.198.18.2.3 = INTEGER: 3
.1.3.6.1.2.1.17.7.1.2.2.1.2.20.2.66.198.18.2.3 = INTEGER: 2
.1.3.6.1.2.1.17.7.1.2.2.1.2.10.2.0.0.0.0.9 = INTEGER: 1
.1.3.6.1.2.1.17.7.1.2.2.1.2.10.2.0.0.0.0.5 = INTEGER: 2
.1.3.6.1.2.1.17.7.1.2.2.1.2.10.2.0.0.0.0.6 = INTEGER: 9
.1.3.6.1.2.1.17.7.1.2.2.1.2.10.2.0.0.0.0.4 = INTEGER: 0
.1.3.6.1.2.1.17.7.1.2.2.1.2.10.2.0.0.0.3 = INTEGER: 3
.1.3.6.1.2.1.17.7.1.2.2.1.3.10.2.66.198.18.2.3 = INTEGER: learned(3)
.1.3.6.1.2.1.17.7.1.2.2.1.3.20.2.66.198.18.2.3 = INTEGER: learned(3)
.1.3.6.1.2.1.17.7.1.2.2.1.3.10.2.0.0.0.0.9 = INTEGER: mgmt(5)
.1.3.6.1.2.1.17.7.1.2.2.1.3.10.2.0.0.0.0.6 = INTEGER: learned(3)
.1.3.6.1.2.1.17.7.1.2.2.1.3.10.2.0.0.0.0.4 = INTEGER: learned(3)
"""


def snmpwalk_columns(text: str) -> dict[str, mib.Column]:
    """``snmpwalk -On`` lines as the walked columns mib.decode takes (INTEGERs only)."""
    by_oid = {f".{oid}.": name for name, oid in mib.COLUMNS.items()}
    walk: dict[str, mib.Column] = {}
    for line in text.splitlines():
        oid, _, value = line.partition(" = INTEGER: ")
        prefix = next(p for p in by_oid if oid.startswith(p))
        index = tuple(int(x) for x in oid[len(prefix) :].split("."))
        number = value.rsplit("(", 1)[-1].rstrip(")")
        walk.setdefault(by_oid[prefix], {})[index] = int(number)
    return walk


def qbridge_fdb(text: str) -> list[tuple[str, str, int | None]]:
    walk = {**walk_sw_c(), **snmpwalk_columns(text)}
    for name in ("dot1dTpFdbPort", "dot1dTpFdbStatus"):
        walk.setdefault(name, {})
    sw = mib.decode("sw-c", "198.18.2.251", {"sysDescr": b"Linux sw 6.1"}, walk)
    return [(f.mac, f.port, f.vlan) for f in sw.fdb]


def test_q_bridge_fdb_gives_learned_macs_per_vlan_on_their_ports() -> None:
    assert qbridge_fdb(QBRIDGE_WALK) == [
        ("02:42:c6:12:02:03", "swp3", 10),  # base port 3 = ifIndex 20
        ("02:42:c6:12:02:03", "swp2", 20),  # the same MAC in VLAN 20, on another port
        # mgmt(5) is not learned; base port 9 names no port; 0 is no port;
        # a 5-octet MAC is no row; a row without a status counts as learned.
        ("02:00:00:00:00:05", "swp2", 10),
    ]


def test_q_bridge_rows_win_over_bridge_mib_and_bridge_mib_is_the_fallback() -> None:
    found = qbridge_fdb(QBRIDGE_WALK)
    assert "02:00:00:00:00:07" not in {m for m, _, _ in found}  # dot1d row unused
    only_dot1d = "\n".join(line for line in QBRIDGE_WALK.splitlines() if ".17.7.1." not in line)
    assert qbridge_fdb(only_dot1d) == [("02:00:00:00:00:07", "swp1", None)]
    # Q-BRIDGE rows that are all not learned leave BRIDGE-MIB to answer.
    unlearned = only_dot1d + "\n.1.3.6.1.2.1.17.7.1.2.2.1.2.10.2.0.0.0.0.9 = INTEGER: 1"
    unlearned += "\n.1.3.6.1.2.1.17.7.1.2.2.1.3.10.2.0.0.0.0.9 = INTEGER: self(4)"
    assert qbridge_fdb(unlearned) == [("02:00:00:00:00:07", "swp1", None)]
