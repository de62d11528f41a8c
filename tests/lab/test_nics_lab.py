"""``jumbopath nics`` on real namespaces: a switch running lldpd, bridges, down ports.

The switch namespace runs lldpd on its ports and advertises an IEEE 802.3
maximum frame size per port through a custom TLV (OUI 00-12-0F, subtype 4)::

    host                                   sw (lldpd, tx-interval 1 s)
    eth1 MTU 9000 ───────── veth ───────── swp1 MTU 9000   max frame 9018
    eth2 MTU 9000 ───────── veth ───────── swp2 MTU 9000   max frame 1518 (too small)

The host reads the neighbours (a) through its own lldpd, receive-only, on
its own socket, and (b) through the passive capture. ``jumbopath nics``
runs inside the host namespace, as a separate process.

Every namespace is named ``jp-<pid>-<4 hex>-<node>``, every address comes
from 198.18.0.0/15 or 2001:db8::/32, and teardown (lldpd processes, then
namespaces) happens in ``finally``. Nothing here touches the root namespace.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

IP = shutil.which("ip")
LLDPD = shutil.which("lldpd")
LLDPCLI = shutil.which("lldpcli")

needs_lldpd = pytest.mark.skipif(
    LLDPD is None or LLDPCLI is None, reason="lldpd is not installed: apt-get install lldpd"
)
pytestmark = pytest.mark.skipif(IP is None, reason="iproute2 is not installed")

ENTRY = (
    "import sys; from jumbopath.cli import app; import jumbopath.cli.local; "
    "app(sys.argv[1:], prog_name='jumbopath')"
)
"""Runs the commands of jumbopath.cli.local only, whatever else the package holds."""


class KernelRefused(Exception):
    """``ip`` said "Unknown device type": the kernel may lack a link type's module."""


def lacks_module(module: str) -> bool:
    """Whether the running kernel really has no ``module``: neither loaded nor built in
    (``/sys/module``), and ``modprobe`` (when there is one) cannot find it."""
    if Path("/sys/module", module).exists():
        return False
    modprobe = shutil.which("modprobe") or shutil.which("modprobe", path="/sbin:/usr/sbin")
    if modprobe is None:
        return True
    done = subprocess.run([modprobe, "-n", "-q", module], capture_output=True, timeout=10)
    return done.returncode != 0


def skip_if_lacking(module: str, what: str, exc: KernelRefused) -> None:
    """Skip when the kernel truly lacks ``module``; any other refusal fails the test."""
    if not lacks_module(module):
        raise AssertionError(f"{exc}, yet the {module} module is available") from exc
    pytest.skip(f"kernel lacks {what}: no {module} module loaded, built in or installed")


@dataclass
class Namespaces:
    """Namespaces, processes and a folder made for one test; all removed by :meth:`close`."""

    prefix: str = field(default_factory=lambda: f"jp-{os.getpid()}-{secrets.token_hex(2)}")
    names: list[str] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="jp-nics-")))

    def __post_init__(self) -> None:
        # lldpd drops to the _lldpd user, which must reach its control socket.
        self.folder.chmod(0o755)

    def add(self, node: str) -> str:
        name = f"{self.prefix}-{node}"
        subprocess.run(["ip", "netns", "add", name], check=True, timeout=10)
        self.names.append(name)
        self.ip(name, "link", "set", "lo", "up")
        return name

    def ip(self, ns: str, *args: str) -> None:
        done = subprocess.run(
            ["ip", "-n", ns, *args], capture_output=True, text=True, timeout=10, check=False
        )
        if done.returncode != 0:
            if "Unknown device type" in done.stderr:
                raise KernelRefused(done.stderr.strip())
            raise AssertionError(f"ip -n {ns} {' '.join(args)}: {done.stderr.strip()}")

    def cable(self, ns_a: str, a: str, ns_b: str, b: str, mtu: int) -> None:
        """A veth pair: ``a`` in ``ns_a``, ``b`` in ``ns_b``, both up at ``mtu``."""
        self.ip(ns_a, "link", "add", a, "mtu", str(mtu), "type", "veth",
                "peer", "name", b, "mtu", str(mtu), "netns", ns_b)  # fmt: skip
        self.ip(ns_a, "link", "set", a, "up")
        self.ip(ns_b, "link", "set", b, "up")

    def spawn(self, ns: str, *command: str, log: str) -> subprocess.Popen[bytes]:
        with open(self.folder / log, "wb") as out:
            process = subprocess.Popen(
                ["ip", "netns", "exec", ns, *command], stdout=out, stderr=subprocess.STDOUT
            )
        self.processes.append(process)
        return process

    def run(self, ns: str, *command: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ip", "netns", "exec", ns, *command],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        for ns in self.names:
            # Whatever still runs inside our namespaces (lldpd's privilege-separated child).
            pids = subprocess.run(
                ["ip", "netns", "pids", ns], capture_output=True, text=True, check=False
            ).stdout.split()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
        for ns in reversed(self.names):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def lab() -> Iterator[Namespaces]:
    namespaces = Namespaces()
    try:
        yield namespaces
    finally:
        namespaces.close()


def nics(lab: Namespaces, ns: str, *args: str) -> tuple[int, dict[str, Any]]:
    """``jumbopath nics --json ARGS`` inside ``ns``: (exit status, document)."""
    done = lab.run(ns, sys.executable, "-c", ENTRY, "nics", "--json", *args, timeout=60)
    assert done.returncode in (0, 1), done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return done.returncode, document


def wait_for(what: str, check: Callable[[], bool], timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def lldpcli_json(lab: Namespaces, ns: str, socket: Path, *what: str) -> dict[str, Any]:
    done = lab.run(ns, "lldpcli", "-u", str(socket), "-f", "json0", *what, timeout=10)
    if done.returncode != 0:
        return {}
    document: dict[str, Any] = json.loads(done.stdout)
    return document


# Maximum frame size each switch port advertises (802.3 TLV, two bytes).
SWITCH_PORTS = {"swp1": 9018, "swp2": 1518}


@dataclass
class Switched:
    lab: Namespaces
    host: str
    switch: str
    switch_socket: Path


@pytest.fixture
def switched(lab: Namespaces) -> Switched:
    """The host cabled to a switch whose lldpd advertises a maximum frame size per port."""
    if LLDPD is None or LLDPCLI is None:
        pytest.skip("lldpd is not installed: apt-get install lldpd")
    host, sw = lab.add("host"), lab.add("sw")
    lab.cable(host, "eth1", sw, "swp1", 9000)
    lab.cable(host, "eth2", sw, "swp2", 9000)
    lab.ip(host, "addr", "add", "198.18.10.1/24", "dev", "eth1")
    lab.ip(host, "addr", "add", "198.18.11.1/24", "dev", "eth2")
    conf = lab.folder / "sw.conf"
    lines = ["configure system hostname sw2", "configure lldp tx-interval 1",
             "configure lldp portidsubtype ifname"]  # fmt: skip
    for port, frame in SWITCH_PORTS.items():
        info = f"{frame >> 8:02x},{frame & 0xFF:02x}"
        lines.append(
            f"configure ports {port} lldp custom-tlv oui 00,12,0f subtype 4 oui-info {info}"
        )
    conf.write_text("\n".join(lines) + "\n")
    socket = lab.folder / "sw.socket"
    lab.spawn(sw, LLDPD, "-d", "-I", ",".join(SWITCH_PORTS), "-u", str(socket),
              "-O", str(conf), log="lldpd-sw.log")  # fmt: skip

    def configured() -> bool:
        # The custom TLVs are on every port: frames from now on carry them.
        text = json.dumps(lldpcli_json(lab, sw, socket, "show", "interfaces"))
        return text.count('"00,12,0F"') >= len(SWITCH_PORTS)

    wait_for("the switch's lldpd to take its configuration", configured)
    return Switched(lab, host, sw, socket)


def _check_neighbours(document: dict[str, Any], source: str) -> None:
    by_name = {i["name"]: i for i in document["interfaces"]}
    for local, port, frame in (("eth1", "swp1", 9018), ("eth2", "swp2", 1518)):
        neighbour = by_name[local]["neighbour"]
        assert neighbour is not None, f"no neighbour on {local}"
        assert neighbour["source"] == source
        assert neighbour["system_name"] == "sw2"
        assert (neighbour["port_id"], neighbour["port_id_subtype"]) == (port, "ifname")
        assert neighbour["max_frame_size"] == frame
    assert [(p["interface"], p["code"]) for p in document["problems"]] == [
        ("eth2", "frame-too-small")
    ]
    assert document["problems"][0]["message"] == (
        "eth2 is cabled to switch sw2 port swp2, which advertises a maximum frame size "
        "of 1518 (too small for MTU 9000 + 18)"
    )


@needs_lldpd
def test_neighbours_through_lldpd(switched: Switched) -> None:
    lab, host = switched.lab, switched.host
    socket = lab.folder / "host.socket"
    conf = lab.folder / "host.conf"
    conf.write_text("configure system hostname host\n")
    lab.spawn(host, LLDPD or "lldpd", "-d", "-r", "-I", "eth1,eth2", "-u", str(socket),
              "-O", str(conf), log="lldpd-host.log")  # fmt: skip

    def heard_both() -> bool:
        text = json.dumps(lldpcli_json(lab, host, socket, "show", "neighbors", "details"))
        return all(f'"{frame}"' in text for frame in SWITCH_PORTS.values())

    wait_for("the host's lldpd to hear both switch ports", heard_both)
    code, document = nics(lab, host, "--lldpd-socket", str(socket))
    assert code == 1
    assert document["lldp"] == {"source": "lldpd", "waited_s": 0.0, "notes": []}
    _check_neighbours(document, "lldpd")

    # What check/trace get for a path leaving through eth2.
    done = lab.run(
        host,
        sys.executable,
        "-c",
        "import json, sys; from jumbopath.nics import local_context; "
        "print(json.dumps(local_context(sys.argv[1], 9000, lldpd_socket=sys.argv[2])))",
        "eth2",
        str(socket),
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [
        "eth2 is cabled to switch sw2 port swp2, which advertises a maximum frame size "
        "of 1518 (too small for MTU 9000 + 18)"
    ]


@needs_lldpd
def test_neighbours_through_the_capture(switched: Switched) -> None:
    lab, host = switched.lab, switched.host
    absent = lab.folder / "no-lldpd-here.socket"  # never ask a root-namespace lldpd
    started = time.monotonic()
    code, document = nics(lab, host, "--lldpd-socket", str(absent), "--lldp-wait", "20")
    elapsed = time.monotonic() - started
    assert code == 1
    assert document["lldp"]["source"] == "capture"
    assert document["lldp"]["notes"] == []
    assert document["lldp"]["waited_s"] < 10, "the capture stops once every port heard"
    assert elapsed < 15
    _check_neighbours(document, "capture")


@needs_lldpd
def test_capture_gives_up_in_time_on_a_silent_port(lab: Namespaces) -> None:
    host, far = lab.add("host"), lab.add("far")
    lab.cable(host, "eth1", far, "eth9", 1500)  # nobody sends LLDP here
    started = time.monotonic()
    code, document = nics(lab, host, "--lldpd-socket", str(lab.folder / "absent"),
                          "--lldp-wait", "1.5")  # fmt: skip
    assert time.monotonic() - started < 10
    assert code == 0
    assert 1.4 <= document["lldp"]["waited_s"] <= 3
    assert document["lldp"]["notes"] == ["no LLDP neighbour heard on eth1"]


def test_bridge_with_mismatched_ports_and_down_interfaces(lab: Namespaces) -> None:
    r"""
    host: br0 MTU 9000 (198.18.20.1/24)              far
            ├── p1 MTU 9000 ──────── veth ──────── q1
            ├── p2 MTU 1500 ──────── veth ──────── q2   (smaller port)
            └── p3 MTU 9000, down ── veth ──────── q3   (port down)
          d1 MTU 9000, down, 198.18.21.1/24 ── veth ── q4
    """
    host, far = lab.add("host"), lab.add("far")
    lab.ip(host, "link", "add", "br0", "type", "bridge")
    for port, peer, mtu in (("p1", "q1", 9000), ("p2", "q2", 1500), ("p3", "q3", 9000)):
        lab.cable(host, port, far, peer, mtu)
        lab.ip(host, "link", "set", port, "master", "br0")
    lab.ip(host, "link", "set", "br0", "mtu", "9000", "up")
    lab.ip(host, "addr", "add", "198.18.20.1/24", "dev", "br0")
    lab.ip(host, "link", "set", "p3", "down")
    lab.cable(host, "d1", far, "q4", 9000)
    lab.ip(host, "addr", "add", "198.18.21.1/24", "dev", "d1")
    lab.ip(host, "link", "set", "d1", "down")

    code, document = nics(lab, host, "--expect", "9000", "--lldpd-socket", str(lab.folder / "x"))
    assert code == 1
    by_name = {i["name"]: i for i in document["interfaces"]}
    assert by_name["br0"]["kind"] == "bridge" and by_name["br0"]["mtu"] == 9000
    assert by_name["br0"]["members"] == ["p1", "p2", "p3"]
    assert by_name["br0"]["addresses"] == ["198.18.20.1/24"]
    assert by_name["p2"]["master"] == "br0" and by_name["p2"]["kind"] == "veth"
    assert by_name["p3"]["state"] == "down" and by_name["lo"]["kind"] == "loopback"
    assert [(p["interface"], p["code"], p["fix"]) for p in document["problems"]] == [
        ("d1", "down", "ip link set dev d1 up"),
        ("p2", "below-expected", "ip link set dev p2 mtu 9000"),
        ("p2", "member-below-master", "ip link set dev p2 mtu 9000"),
        ("p3", "down", "ip link set dev p3 up"),
    ]

    # -i narrows to one interface and what lies below it.
    code, document = nics(lab, host, "-i", "br0", "--lldpd-socket", str(lab.folder / "x"))
    assert [i["name"] for i in document["interfaces"]] == ["br0", "p1", "p2", "p3"]
    assert [p["code"] for p in document["problems"]] == ["member-below-master", "down"]

    # The problems are fixed by their own fix commands.
    for command in ("ip link set dev d1 up", "ip link set dev p2 mtu 9000",
                    "ip link set dev p3 up"):  # fmt: skip
        lab.ip(host, *command.split()[1:])
    code, document = nics(lab, host, "--expect", "9000", "--lldpd-socket", str(lab.folder / "x"))
    assert (code, document["problems"]) == (0, [])


def test_vlan_on_a_bridge_with_mismatched_mtus(lab: Namespaces) -> None:
    """br0 (ports at 9000 and 1500) carries VLAN 10 at 9000."""
    host, far = lab.add("host"), lab.add("far")
    lab.ip(host, "link", "add", "br0", "type", "bridge")
    for port, peer, mtu in (("p1", "q1", 9000), ("p2", "q2", 1500)):
        lab.cable(host, port, far, peer, mtu)
        lab.ip(host, "link", "set", port, "master", "br0")
    lab.ip(host, "link", "set", "br0", "mtu", "9000", "up")
    try:
        lab.ip(host, "link", "add", "link", "br0", "name", "br0.10", "type", "vlan", "id", "10")
    except KernelRefused as exc:
        skip_if_lacking("8021q", "802.1Q VLAN support", exc)
    lab.ip(host, "link", "set", "br0.10", "mtu", "9000", "up")
    code, document = nics(lab, host, "--lldpd-socket", str(lab.folder / "x"))
    by_name = {i["name"]: i for i in document["interfaces"]}
    assert by_name["br0.10"]["kind"] == "vlan"
    assert (by_name["br0.10"]["parent"], by_name["br0.10"]["vlan_id"]) == ("br0", 10)
    assert code == 1
    assert [(p["interface"], p["code"]) for p in document["problems"]] == [
        ("p2", "member-below-master")
    ]


def test_bond_with_members_at_different_mtus(lab: Namespaces) -> None:
    host, far = lab.add("host"), lab.add("far")
    try:
        lab.ip(host, "link", "add", "bond0", "type", "bond", "mode", "active-backup")
    except KernelRefused as exc:
        skip_if_lacking("bonding", "bonding support", exc)
    for port, peer in (("e1", "f1"), ("e2", "f2")):
        lab.cable(host, port, far, peer, 9000)
        lab.ip(host, "link", "set", port, "down")
        lab.ip(host, "link", "set", port, "master", "bond0")
    lab.ip(host, "link", "set", "bond0", "mtu", "9000", "up")
    lab.ip(host, "link", "set", "e2", "mtu", "1500")
    code, document = nics(lab, host, "--lldpd-socket", str(lab.folder / "x"))
    by_name = {i["name"]: i for i in document["interfaces"]}
    assert by_name["bond0"]["kind"] == "bond"
    assert by_name["bond0"]["members"] == ["e1", "e2"]
    assert code == 1
    assert ("e2", "member-below-master") in [
        (p["interface"], p["code"]) for p in document["problems"]
    ]


@needs_lldpd
def test_check_names_the_switch_port_behind_a_failing_path(switched: Switched) -> None:
    """check's verdict says which switch port, by LLDP, is too small for the expected MTU."""
    lab, host, sw = switched.lab, switched.host, switched.switch
    socket = lab.folder / "host.socket"
    conf = lab.folder / "host.conf"
    conf.write_text("configure system hostname host\n")
    lab.spawn(host, LLDPD or "lldpd", "-d", "-r", "-I", "eth1,eth2", "-u", str(socket),
              "-O", str(conf), log="lldpd-host.log")  # fmt: skip

    def heard_swp2() -> bool:
        text = json.dumps(lldpcli_json(lab, host, socket, "show", "neighbors", "details"))
        return '"1518"' in text

    wait_for("the host's lldpd to hear swp2", heard_swp2)
    # The switch answers on swp2 itself, and that port is left at 1500.
    lab.ip(sw, "link", "set", "swp2", "mtu", "1500")
    lab.ip(sw, "addr", "add", "198.18.11.2/24", "dev", "swp2")
    done = subprocess.run(
        ["ip", "netns", "exec", host, "env", f"JUMBOPATH_LLDPD_SOCKET={socket}",
         sys.executable, "-m", "jumbopath", "check", "--json", "--expect", "9000",
         "198.18.11.2"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    (result,) = json.loads(done.stdout)["results"]
    assert result["status"] == "below" and result["interface"] == "eth2"
    assert (
        "eth2 is cabled to switch sw2 port swp2, which advertises a maximum frame size "
        "of 1518 (too small for MTU 9000 + 18)"
    ) in result["notes"]
