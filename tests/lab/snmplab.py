"""Real SNMP and LLDP agents in lab switches, lldpd on the hosts and routers.

Every switch given gets an address on its bridge (its management address),
a default route through a router of its segment, Debian's ``snmpd`` serving
that namespace's own interfaces (IF-MIB straight from the kernel: each
bridge port's MTU exactly as ``ip link`` has it) with a v2c community and a
v3 user (SHA + AES), and ``lldpd`` as its AgentX subagent filling LLDP-MIB.
Every host and router given runs ``lldpd`` too, so the switches hear them.
BRIDGE-MIB comes from the kernel bridge's own forwarding table (``bridge -j
fdb``) through snmpd's ``pass_persist`` (:data:`BRIDGE_MIB`), so a host that
runs no LLDP can be placed by its MAC address.
Every agent has its own folder (mode 755) for sockets, pid files, the
agent's persistent state and its log::

    with Lab(topo) as lab, SnmpLab(lab, {"sw-a": ("198.18.1.250", "r1")},
                                   speakers=["client", "r1"]) as agents:
        agents.wait_for_neighbours()

A switch in ``silent`` runs no snmpd (it does not answer SNMP); one in
``slow`` answers through a relay that holds every datagram ``delay_s``.
Every process is stopped on close; the lab removes its namespaces.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from jumbopath.lab import Lab

SNMPD = "/usr/sbin/snmpd"
LLDPD = "/usr/sbin/lldpd"
COMMUNITY = "jp-lab-community"
V3_USER = "jpmonitor"
V3_AUTH = "jp-auth-pass-1"
V3_PRIV = "jp-priv-pass-1"

_RELAY = """
import selectors, socket, sys, time
listen, agent, delay = (sys.argv[1], 161), ("127.0.0.1", 1161), float(sys.argv[2])
front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); front.bind(listen)
back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); back.bind(("127.0.0.1", 0))
sel = selectors.DefaultSelector()
sel.register(front, selectors.EVENT_READ); sel.register(back, selectors.EVENT_READ)
client, queue, deadline = None, [], time.monotonic() + 600
while time.monotonic() < deadline:
    due = min((t for t, _, _ in queue), default=time.monotonic() + 0.5)
    wait = max(0.0, due - time.monotonic())
    for key, _ in sel.select(wait):
        data, peer = key.fileobj.recvfrom(65535)
        if key.fileobj is front:
            client = peer
            queue.append((time.monotonic() + delay, back, (data, agent)))
        elif client is not None:
            queue.append((time.monotonic() + delay, front, (data, client)))
    now = time.monotonic()
    for item in [q for q in queue if q[0] <= now]:
        queue.remove(item)
        item[1].sendto(*item[2])
"""


# BRIDGE-MIB (RFC 4188) from the kernel bridge's own forwarding table, for snmpd's
# pass_persist: dot1dBasePortIfIndex (base port = the port's ifIndex, as IF-MIB numbers
# it) and dot1dTpFdbPort/Status for every MAC the bridge learned (``bridge -j fdb``:
# no "self" flag, not permanent). Serves only those three columns; at most MAX_ROWS
# rows; re-reads the kernel at most once a second; quits when snmpd closes its stdin,
# when snmpd is gone (its parent changes) or after an hour.
BRIDGE_MIB = """
import json, os, subprocess, sys, time
BASE_PORT = (1, 3, 6, 1, 2, 1, 17, 1, 4, 1, 2)
FDB_PORT = (1, 3, 6, 1, 2, 1, 17, 4, 3, 1, 2)
FDB_STATUS = (1, 3, 6, 1, 2, 1, 17, 4, 3, 1, 3)
LEARNED, MAX_ROWS, BRIDGE = 3, 4096, sys.argv[1]
parent, deadline, cache = os.getppid(), time.monotonic() + 3600, (0.0, [])

def bridge(*args):
    done = subprocess.run(["bridge", "-j", *args], capture_output=True, text=True, timeout=5)
    return json.loads(done.stdout or "[]") if done.returncode == 0 else []

def table():
    global cache
    if time.monotonic() - cache[0] < 1.0:
        return cache[1]
    ports = {}
    for link in bridge("link", "show")[:MAX_ROWS]:
        if link.get("master") == BRIDGE and isinstance(link.get("ifindex"), int):
            ports[link["ifname"]] = link["ifindex"]
    rows = [(BASE_PORT + (i,), i) for i in ports.values()]
    for entry in bridge("fdb", "show", "br", BRIDGE)[:MAX_ROWS]:
        port = ports.get(entry.get("ifname"))
        flags = entry.get("flags") or []
        if port is None or "self" in flags or entry.get("state") == "permanent":
            continue
        mac = tuple(int(b, 16) for b in str(entry.get("mac", "")).split(":"))
        if len(mac) == 6 and entry.get("vlan") in (None, 1):
            rows += [(FDB_PORT + mac, port), (FDB_STATUS + mac, LEARNED)]
    cache = (time.monotonic(), sorted(set(rows))[:MAX_ROWS])
    return cache[1]

def oid(text):
    try:
        return tuple(int(x) for x in text.strip().strip(".").split("."))
    except ValueError:
        return None

def answer(command, asked):
    rows = table()
    if asked is None:
        return "NONE"
    if command == "get":
        found = [r for r in rows if r[0] == asked]
    else:
        found = [r for r in rows if r[0] > asked][:1]
    if not found:
        return "NONE"
    name, value = found[0]
    return "." + ".".join(map(str, name)) + "\\ninteger\\n" + str(value)

while time.monotonic() < deadline and os.getppid() == parent:
    line = sys.stdin.readline()
    if not line:
        break
    command = line.strip().lower()
    if command == "ping":
        reply = "PONG"
    elif command in ("get", "getnext"):
        reply = answer(command, oid(sys.stdin.readline()[:512]))
    elif command == "set":
        sys.stdin.readline(); sys.stdin.readline()
        reply = "not-writable"
    else:
        reply = "NONE"
    sys.stdout.write(reply + "\\n")
    sys.stdout.flush()
"""


def tools_missing() -> list[str]:
    """Programs this helper needs that are not installed."""
    return [t for t in (SNMPD, LLDPD) if not os.path.exists(t)]


class SnmpLab:
    """snmpd + lldpd in switches, lldpd in speakers; stopped on close."""

    def __init__(
        self,
        lab: Lab,
        switches: Mapping[str, tuple[str, str]],
        speakers: Sequence[str] = (),
        *,
        silent: Sequence[str] = (),
        slow: Mapping[str, float] | None = None,
    ) -> None:
        self.lab = lab
        self.switches = dict(switches)
        """Switch name to (management address, router on its segment)."""
        self.speakers = list(speakers)
        self.silent = set(silent)
        self.slow = dict(slow or {})
        self.folder = Path(tempfile.mkdtemp(prefix="jp-snmplab-"))
        self.folder.chmod(0o755)
        self._procs: list[subprocess.Popen[Any]] = []

    def __enter__(self) -> SnmpLab:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def addr(self, switch: str) -> str:
        """Management address of ``switch``."""
        return self.switches[switch][0]

    def _dir(self, node: str) -> Path:
        path = self.folder / node
        path.mkdir(mode=0o755, exist_ok=True)
        path.chmod(0o755)
        return path

    def _spawn(self, node: str, argv: list[str], log: Path, **kw: Any) -> None:
        with open(log, "wb") as out:
            self._procs.append(
                self.lab.popen(node, argv, stdout=out, stderr=subprocess.STDOUT, **kw)
            )

    def _lldpd_conf(self, folder: Path, name: str) -> Path:
        conf = folder / "lldpd.conf"
        conf.write_text(
            f"configure system hostname {name}\n"
            "configure lldp tx-interval 1\n"
            "configure lldp portidsubtype ifname\n"
            "configure system ip management pattern *\n"
        )
        return conf

    def start(self) -> None:
        for sw, (address, router) in self.switches.items():
            folder = self._dir(sw)
            gateway = self.lab.addr(router, 4, peer=self._peer_toward(sw, router))
            for argv in (
                ["ip", "addr", "add", f"{address}/24", "dev", "br0"],
                ["ip", "route", "add", "default", "via", gateway],
            ):
                done = self.lab.run(sw, argv)
                if done.returncode != 0:
                    raise RuntimeError(f"{sw}: {' '.join(argv)}: {done.stderr.strip()}")
            if sw not in self.silent:
                self._snmpd(sw, folder, address)
        time.sleep(0.3)  # the AgentX master socket, before the subagents connect
        for sw in self.switches:
            folder = self._dir(sw)
            agentx = ["-x", "-X", str(folder / "agentx")] if sw not in self.silent else []
            self._spawn(
                sw,
                [
                    LLDPD,
                    "-d",
                    *agentx,
                    "-I",
                    "swp*",
                    "-u",
                    str(folder / "lldpd.socket"),
                    "-O",
                    str(self._lldpd_conf(folder, sw)),
                ],
                folder / "lldpd.log",
            )
        for node in self.speakers:
            folder = self._dir(node)
            self._spawn(
                node,
                [
                    LLDPD,
                    "-d",
                    "-I",
                    "eth*",
                    "-u",
                    str(folder / "lldpd.socket"),
                    "-O",
                    str(self._lldpd_conf(folder, node)),
                ],
                folder / "lldpd.log",
            )

    def _peer_toward(self, sw: str, router: str) -> str:
        """The switch or router next to ``router`` on ``sw``'s segment (for its address)."""
        for link in self.lab.topology.links:
            if router in (link.a, link.b):
                other = link.b if link.a == router else link.a
                if other == sw or self._same_segment(other, sw):
                    return other
        raise RuntimeError(f"{router} is not on {sw}'s segment")

    def _same_segment(self, a: str, b: str, seen: frozenset[str] = frozenset()) -> bool:
        """Whether switches ``a`` and ``b`` are joined by switches only."""
        if a == b:
            return True
        kinds = {n.name: type(n).__name__ for n in self.lab.topology.nodes}
        if kinds.get(a) != "Switch":
            return False
        for link in self.lab.topology.links:
            if a in (link.a, link.b):
                other = link.b if link.a == a else link.a
                if other not in seen and self._same_segment(other, b, seen | {a}):
                    return True
        return False

    def _snmpd(self, sw: str, folder: Path, address: str) -> None:
        delay = self.slow.get(sw)
        listen = "udp:127.0.0.1:1161" if delay is not None else f"udp:{address}:161"
        bridge_mib = folder / "bridge-mib"
        bridge_mib.write_text(f"#!{sys.executable}\n" + BRIDGE_MIB)
        bridge_mib.chmod(0o755)
        conf = folder / "snmpd.conf"
        conf.write_text(
            f"agentAddress {listen}\n"
            f"rocommunity {COMMUNITY} 198.18.0.0/15\n"
            f"rocommunity {COMMUNITY} 127.0.0.1\n"
            f'createUser {V3_USER} SHA "{V3_AUTH}" AES "{V3_PRIV}"\n'
            f"rouser {V3_USER} priv\n"
            "master agentx\n"
            f"agentXSocket {folder}/agentx\n"
            "agentXPerms 777 777\n"
            f"pass_persist .1.3.6.1.2.1.17 {bridge_mib} br0\n"
        )
        env = {
            **os.environ,
            "SNMP_PERSISTENT_DIR": str(folder / "state"),
            "MIBS": "",
            "MIBDIRS": str(folder),
        }
        self._spawn(
            sw,
            [
                SNMPD,
                "-f",
                "-Lf",
                str(folder / "snmpd.log"),
                "-C",
                "-c",
                str(conf),
                "-p",
                str(folder / "snmpd.pid"),
            ],
            folder / "snmpd.out",
            env=env,
        )
        if delay is not None:
            self._spawn(
                sw, [sys.executable, "-c", _RELAY, address, str(delay)], folder / "relay.log"
            )

    def wait_for_neighbours(self, timeout_s: float = 10.0) -> None:
        """Until every switch's lldpd has heard every one of its ports' neighbours."""
        deadline = time.monotonic() + timeout_s
        pending = set(self.switches)
        while pending and time.monotonic() < deadline:
            for sw in sorted(pending):
                folder = self.folder / sw
                done = self.lab.run(
                    sw,
                    [
                        "lldpcli",
                        "-u",
                        str(folder / "lldpd.socket"),
                        "-f",
                        "keyvalue",
                        "show",
                        "neighbors",
                    ],
                    timeout=5,
                )
                heard = {
                    line.split(".")[1]
                    for line in done.stdout.splitlines()
                    if line.startswith("lldp.") and ".chassis.name=" in line
                }
                ports = {
                    self.lab.iface(sw, link.b if link.a == sw else link.a)
                    for link in self.lab.topology.links
                    if sw in (link.a, link.b)
                    and (link.b if link.a == sw else link.a) in self._lldp_nodes()
                }
                if ports <= heard:
                    pending.discard(sw)
            if pending:
                time.sleep(0.2)
        if pending:
            raise RuntimeError(f"lldpd on {', '.join(sorted(pending))} did not hear every port")

    def _lldp_nodes(self) -> set[str]:
        return set(self.switches) | set(self.speakers)

    def close(self) -> None:
        for p in self._procs:
            if p.poll() is None:
                p.terminate()
        for p in self._procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
        self._procs.clear()
        shutil.rmtree(self.folder, ignore_errors=True)
