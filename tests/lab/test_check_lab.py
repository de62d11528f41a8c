"""``jumbopath check`` on real namespaces: every verdict, from the installed command.

The shared lab (one build for most cases)::

    src ─9000─ sw0 ─9000─ r1 ─┬─9000─ sw-a ─9000─ a            clean
     evil ─9000─┘  (sw0)      ├─9000─ sw-b ─1500┆9000─ b       access port at 1500 (silent)
                              ├─1500─ sw-c ─9000─ c            router egress 1500, PTB
                              ├─9000─ sw-e ─9000┆1500─ e       destination NIC at 1500
                              ├─9000─ sw-f ─9000─ f            drops echo requests
                              ├─8950─ r2 ─9000─ sw-g ─ g       odd MTU 8950 between routers
                              └─9000─ r3 ─1500─ sw-d ─ d       r3 suppresses PTB (black hole)
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from jumbopath.lab import (
    DropEcho,
    Host,
    Lab,
    Link,
    Loss,
    NoPTB,
    Route,
    Router,
    Switch,
    Topology,
    chain,
)

CHECK = [sys.executable, "-m", "jumbopath", "check"]


def multi() -> Topology:
    nodes = [Host("src"), Host("evil"), Switch("sw0"), Router("r1"), Router("r2"), Router("r3")]
    links = [Link("src", "sw0"), Link("evil", "sw0"), Link("sw0", "r1")]
    for leaf in "abcefgd":
        nodes += [Switch(f"sw-{leaf}"), Host(leaf)]
    links += [
        Link("r1", "sw-a"),
        Link("sw-a", "a"),
        Link("r1", "sw-b"),
        Link("sw-b", "b", a_mtu=1500),
        Link("r1", "sw-c", a_mtu=1500),
        Link("sw-c", "c"),
        Link("r1", "sw-e"),
        Link("sw-e", "e", b_mtu=1500),
        Link("r1", "sw-f"),
        Link("sw-f", "f"),
        Link("r1", "r2", a_mtu=8950, b_mtu=8950),
        Link("r2", "sw-g"),
        Link("sw-g", "g"),
        Link("r1", "r3"),
        Link("r3", "sw-d", a_mtu=1500),
        Link("sw-d", "d"),
    ]
    return Topology(nodes=tuple(nodes), links=tuple(links), faults=(DropEcho("f"), NoPTB("r3")))


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with Lab(multi()) as built:
        yield built


def run_check(lab: Lab, node: str, *args: str, timeout: float = 60) -> tuple[int, dict[str, Any]]:
    done = lab.run(node, [*CHECK, "--json", *args], timeout=timeout)
    assert done.returncode in (0, 1, 3), done.stderr
    return done.returncode, json.loads(done.stdout)


def only(doc: dict[str, Any]) -> dict[str, Any]:
    assert len(doc["results"]) == 1
    result: dict[str, Any] = doc["results"][0]
    return result


# (target node, family, expected status, expected path MTU, evidence outcome that must appear)
CASES = [
    ("a", 4, "ok", 9000, "reply"),
    ("a", 6, "ok", 9000, "reply"),
    ("b", 4, "below", 1500, "lost"),
    ("b", 6, "below", 1500, "lost"),
    ("c", 4, "below", 1500, "too-big"),
    ("c", 6, "below", 1500, "too-big"),
    # A veth NIC accepts its MTU plus 4 bytes (room for a VLAN tag): the
    # largest packet that really reaches e is 1504 here (LAB-NOTES); the
    # system's ping agrees (see ping_agrees).
    ("e", 4, "below", 1504, "lost"),
    ("g", 4, "below", 8950, "too-big"),
    ("d", 4, "below", 1500, "lost"),
    ("d", 6, "below", 1500, "lost"),
]


@pytest.mark.parametrize(("node", "family", "status", "mtu", "outcome"), CASES)
def test_verdicts(lab: Lab, node: str, family: int, status: str, mtu: int, outcome: str) -> None:
    rc, doc = run_check(lab, "src", "--expect", "9000", lab.addr(node, family))
    r = only(doc)
    assert (r["status"], r["path_mtu"]) == (status, mtu), r
    assert r["max_icmp_payload"] == mtu - (28 if family == 4 else 48)
    assert r["interface"] == lab.iface("src", "sw0") and r["interface_mtu"] == 9000
    assert outcome in {e["outcome"] for e in r["evidence"]}
    assert rc == (0 if status == "ok" else 1)
    stages = {st["name"]: st for st in r["stages"]}
    assert stages["search"]["probes"] <= 40, "a loss-free path needs at most 40 probes"
    # Well under 0.5 s each here (bench/check_bench.py times checks); a hang fails this.
    assert stages["search"]["elapsed_s"] <= 5.0
    assert r["probes_sent"] == sum(st["probes"] for st in r["stages"])
    if status != "ok":
        ping_agrees(lab, "src", lab.addr(node, family), family, mtu)


def ping_agrees(lab: Lab, node: str, address: str, family: int, mtu: int) -> None:
    """The system's ping (DF) passes at ``mtu`` and fails one byte above."""
    overhead = 28 if family == 4 else 48

    def passes(size: int) -> bool:
        lab.flush_pmtu(node)
        argv = ["ping", f"-{family}", "-M", "do", "-c", "2", "-i", "0.2", "-W", "1"]
        done = lab.run(node, [*argv, "-s", str(size - overhead), address])
        return done.returncode == 0

    assert passes(mtu) and not passes(mtu + 1)


def test_ptb_names_the_reporting_router(lab: Lab) -> None:
    _, doc = run_check(lab, "src", "--expect", "9000", lab.addr("c", 4))
    reporters = {e.get("from") for e in only(doc)["evidence"] if e["outcome"] == "too-big"}
    assert reporters == {lab.addr("r1", 4, peer="sw0")}


def test_echo_filtered_is_unreachable_not_small(lab: Lab) -> None:
    rc, doc = run_check(lab, "src", "--probe", "icmp", "--expect", "9000", lab.addr("f", 4))
    r = only(doc)
    assert (r["status"], r["path_mtu"], r["cause"], rc) == ("unreachable", None, "no-answer", 1)


@pytest.mark.parametrize("family", [4, 6])
def test_echo_filtered_host_is_measured_over_tcp(lab: Lab, family: int) -> None:
    """f drops echo (the system's ping is the witness); --probe auto measures it over TCP."""
    addr = lab.addr("f", family)
    assert lab.run("src", ["ping", f"-{family}", "-c1", "-W1", addr]).returncode != 0
    rc, doc = run_check(lab, "src", "--expect", "9000", addr)
    r = only(doc)
    assert (r["status"], r["path_mtu"], r["protocol"], r["port"], rc) == ("ok", 9000, "tcp", 22, 0)
    assert [n["code"] for n in r["remarks"]] == ["no-echo"]


def test_many_targets_at_once_and_exit_status(lab: Lab) -> None:
    good = [lab.addr("a", 4), lab.addr("a", 6)]
    rc, doc = run_check(lab, "src", "--expect", "9000", *good)
    assert rc == 0 and [r["status"] for r in doc["results"]] == ["ok", "ok"]
    everything = [lab.addr(n, 4) for n in "abcdeg"]
    rc, doc = run_check(lab, "src", "--expect", "9000", *everything)
    assert rc == 1
    assert [r["path_mtu"] for r in doc["results"]] == [9000, 1500, 1500, 1500, 1504, 8950]


def test_default_expectation_is_the_interface_mtu(lab: Lab) -> None:
    rc, doc = run_check(lab, "src", lab.addr("a", 4))
    assert rc == 0 and doc["expected_mtu"] is None
    assert only(doc)["expected_mtu"] == 9000


FORGER = """
import signal, socket, struct, sys, time

port, router, src, targets = sys.argv[1], sys.argv[2], sys.argv[3], set(sys.argv[4:])

def csum(data):
    data += b"\\0" * (len(data) % 2)
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF

# ETH_P_ALL: taps for one protocol see nothing the bridge takes in.
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
sock.bind((port, 0))
sock.settimeout(0.2)
print("ready", flush=True)
signal.signal(signal.SIGTERM, lambda *_: setattr(sys, "stop", True))
end, forged = time.time() + 40, 0
while time.time() < end and not getattr(sys, "stop", False):
    try:
        frame = sock.recv(128)
    except socket.timeout:
        continue
    ip = frame[14:]
    if frame[12:14] != b"\\x08\\x00" or len(ip) < 28 or ip[9] != 1 or ip[20] != 8:
        continue
    if socket.inet_ntoa(ip[12:16]) != src or socket.inet_ntoa(ip[16:20]) not in targets:
        continue
    if struct.unpack("!H", ip[2:4])[0] <= 576:
        continue
    # The probe's own IP and ICMP headers (its id and sequence), then a payload
    # that is not the prober's nonce: only the nonce can tell this is forged.
    quote = ip[:28] + b"x" * 64
    body = struct.pack("!BBHHH", 3, 4, 0, 0, 576) + quote
    body = body[:2] + struct.pack("!H", csum(body)) + body[4:]
    head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), 0, 0, 64, 1, 0,
                       socket.inet_aton(router), socket.inet_aton(src))
    head = head[:10] + struct.pack("!H", csum(head)) + head[12:]
    sock.send(frame[6:12] + frame[0:6] + b"\\x08\\x00" + head + body)
    forged += 1
print(forged, flush=True)
"""


def test_forged_frag_needed_does_not_change_the_verdict(lab: Lab) -> None:
    """A "fragmentation needed, MTU 576" for every probe, quoting its id and sequence.

    The forger sits on the wire next to the prober (a packet socket on sw0's
    port toward src), reads each probe's ICMP id and sequence, and answers
    at once with an error that quotes them exactly: only the nonce at the
    start of the quoted payload is wrong. b's probes above 1500 are never
    answered, so a prober that believed the forgery would measure b at 576.
    """
    src, a, b = lab.addr("src", 4), lab.addr("a", 4), lab.addr("b", 4)
    router = lab.addr("r1", 4, peer="sw0")
    port = lab.iface("sw0", "src")
    spray = lab.popen(
        "sw0",
        [sys.executable, "-c", FORGER, port, router, src, a, b],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert spray.stdout is not None and spray.stdout.readline().strip() == "ready"
        rc, doc = run_check(lab, "src", "--expect", "9000", a, b)
    finally:
        spray.terminate()
        out, _ = spray.communicate(timeout=20)
    ra, rb = doc["results"]
    assert (ra["status"], ra["path_mtu"], rc) == ("ok", 9000, 1), ra
    assert (rb["status"], rb["path_mtu"], rb["cause"]) == ("below", 1500, "silent-drop"), rb
    assert "too-big" not in {e["outcome"] for e in rb["evidence"]}
    # a answers before any forgery arrives; b's forged errors were each read and ignored.
    assert rb["ignored_icmp"] > 0 and int(out.split()[-1]) >= rb["ignored_icmp"], (out, rb)
    # The kernel believed the forgery (it updates the path MTU of a raw
    # socket's destination); jumbopath measured instead, and says so.
    assert ra["cached_mtu"] == 576
    cache = [n for n in ra["remarks"] if n["code"] == "kernel-cache"]
    assert [(n["cached"], n["measured"]) for n in cache] == [(576, 9000)], ra["remarks"]


def test_cached_pmtu_does_not_change_the_result(lab: Lab) -> None:
    """After a PTB the kernel caches 1500 for c; a fresh run still measures, not reads the cache."""
    dst = lab.addr("c", 4)
    lab.run("src", ["ping", "-c1", "-W1", "-M", "do", "-s", "8972", dst])
    route = lab.run("src", ["ip", "route", "get", dst]).stdout
    assert "mtu 1500" in route
    _, doc = run_check(lab, "src", "--expect", "9000", dst)
    r = only(doc)
    assert r["path_mtu"] == 1500 and "too-big" in {e["outcome"] for e in r["evidence"]}


def test_local_nic_at_1500() -> None:
    with Lab(chain(0, mtus={("src", "sw"): 1500})) as small:
        rc, doc = run_check(small, "src", "--expect", "9000", small.addr("dst", 4))
    r = only(doc)
    assert (r["status"], r["path_mtu"], r["interface_mtu"], rc) == ("below", 1500, 1500, 1)
    assert "local-refused" in {e["outcome"] for e in r["evidence"]}
    assert r["break"]["kind"] == "local-nic" and r["direction"] == "forward"
    assert (r["cause"], r["break"]["cause"], r["break"]["interface"]) == (
        "local-interface-mtu",
        "local-interface-mtu",
        "eth0",
    )
    # The local side (nics) names the interface's MTU against the expectation.
    assert any("eth0 MTU 1500 is below the expected 9000" in x for x in r["break"]["local"])


def test_interface_down_exits_3() -> None:
    with Lab(chain(0)) as small:
        port = small.iface("sw", "src")
        small.run("sw", ["ip", "link", "set", port, "down"], check=True)
        done = small.run("src", [*CHECK, small.addr("dst", 4)])
    assert done.returncode == 3
    assert "is down" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_no_privilege_exits_3() -> None:
    with Lab(chain(0)) as small:
        argv = ["setpriv", "--bounding-set=-net_raw", "--inh-caps=-net_raw", "--", *CHECK]
        done = small.run("src", [*argv, small.addr("dst", 4)])
    assert done.returncode == 3, done.stderr
    assert "CAP_NET_RAW" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def _repeat(small: Lab, target: str, runs: int) -> list[int | None]:
    def one(_: int) -> int | None:
        done = small.run("src", [*CHECK, "--json", "--expect", "9000", target], timeout=60)
        return only(json.loads(done.stdout))["path_mtu"]  # type: ignore[no-any-return]

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, range(runs)))


@pytest.mark.parametrize(("port_mtu", "truth"), [(9000, 9000), (1500, 1500)])
def test_twenty_percent_loss_each_way_never_changes_the_verdict(port_mtu: int, truth: int) -> None:
    topo = chain(1, mtus={("sw-dst", "dst"): port_mtu}, faults=(Loss("r1", percent=20),))
    with Lab(topo) as lossy:
        found = _repeat(lossy, lossy.addr("dst", 4), 50)
    assert found == [truth] * 50


def _search_tally(r: dict[str, Any]) -> tuple[int, int]:
    """(lost, lost + replies) of the search's probes at sizes known to pass."""
    rows = [e for e in r["evidence"] if e["size"] <= r["path_mtu"]]
    lost = sum(e["count"] for e in rows if e["outcome"] == "lost")
    return lost, lost + sum(e["count"] for e in rows if e["outcome"] == "reply")


def test_loss_is_reported() -> None:
    """``loss`` is the share of decided search probes lost, bounded by the lab's loss.

    Loss(r1, 20) drops 20% each way: a round trip survives with 0.8 * 0.8,
    so 36% of echo probes are lost. The search stops as soon as it knows the
    MTU, and probes still in flight then count neither way, so the reported
    figure can only be bounded from above (seen here: 0 to 0.32 per run,
    0.05 to 0.17 pooled over 12 runs); a clean path reports exactly 0.
    """
    args = ["--json", "--expect", "9000", "--max-time", "5"]
    with Lab(chain(1, faults=(Loss("r1", percent=20),))) as lossy:
        target = lossy.addr("dst", 4)

        def one(_: int) -> dict[str, Any]:
            done = lossy.run("src", [*CHECK, *args, target], timeout=60)
            return only(json.loads(done.stdout))

        with ThreadPoolExecutor(max_workers=4) as pool:
            runs = list(pool.map(one, range(8)))
    assert [r["path_mtu"] for r in runs] == [9000] * 8
    lost = decided = 0
    for r in runs:
        this_lost, this_decided = _search_tally(r)
        assert this_decided > 0 and r["loss"] == round(this_lost / this_decided, 4), r
        lost, decided = lost + this_lost, decided + this_decided
    rate = 1 - 0.8 * 0.8
    # Four standard deviations above the configured rate: a sound ceiling.
    assert lost / decided <= rate + 4 * math.sqrt(rate * (1 - rate) / decided)


def test_clean_path_reports_no_loss(lab: Lab) -> None:
    _, doc = run_check(lab, "src", "--expect", "9000", lab.addr("a", 4), lab.addr("a", 6))
    assert [(r["loss"], _search_tally(r)[0]) for r in doc["results"]] == [(0.0, 0), (0.0, 0)]


def test_bad_target_in_namespace_gives_one_line() -> None:
    done = subprocess.run(
        [*CHECK, "no-such-host.invalid"], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2
    assert done.stderr.startswith("jumbopath: error: cannot resolve")


def asymmetric() -> Topology:
    """Only the return path is limited::

    src ─9000─ sw-src ─9000─ r1 ─9000─ sw-dst ─9000─ dst
                  └─1500┆9000─ r2 ─9000─┘
    dst answers src via r2, whose switch port on sw-src is left at 1500.
    """
    return Topology(
        nodes=(
            Host("src"),
            Switch("sw-src"),
            Router("r1"),
            Router("r2"),
            Switch("sw-dst"),
            Host("dst"),
        ),
        links=(
            Link("src", "sw-src"),
            Link("sw-src", "r1"),
            Link("r1", "sw-dst"),
            Link("sw-dst", "dst"),
            Link("sw-src", "r2", a_mtu=1500),
            Link("r2", "sw-dst"),
        ),
        routes=(Route(node="dst", dest="src", via="r2"),),
    )


@pytest.mark.parametrize("family", [4, 6])
def test_direction_of_a_one_way_fault(family: int) -> None:
    with Lab(asymmetric()) as lab:
        _, there = run_check(lab, "src", "--expect", "9000", lab.addr("dst", family))
        _, back = run_check(lab, "dst", "--expect", "9000", lab.addr("src", family))
    r = only(there)
    assert (r["status"], r["path_mtu"], r["direction"]) == ("below", 1500, "return")
    assert r["break"]["after"] == r["address"] and r["cause"] == "return-path"
    assert only(back)["direction"] == "forward"


def test_direction_of_a_forward_fault(lab: Lab) -> None:
    _, silent = run_check(lab, "src", "--expect", "9000", lab.addr("b", 4))
    _, ptb = run_check(lab, "src", "--expect", "9000", lab.addr("c", 4))
    assert only(silent)["direction"] == only(ptb)["direction"] == "forward"
