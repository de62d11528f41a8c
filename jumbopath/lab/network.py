"""The :class:`Lab`: a topology built as real namespaces, used, and torn down."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from jumbopath.errors import LabError
from jumbopath.lab import kernel, safety, scripts
from jumbopath.lab.faults import FAULT_TYPES, Fault, RateLimit
from jumbopath.lab.plan import Plan
from jumbopath.lab.topology import MIN_MTU_V6, Switch, Topology, check_mtu
from jumbopath.lab.warmup import warm_up


def _check_family(family: object) -> None:
    if family not in (4, 6):
        raise LabError(f"address family {family!r}: use 4 or 6")


class Lab:
    """A built topology. Use as a context manager; teardown always happens.

    Construction is pure (no root needed): names and addresses can be asked
    before building. ``with Lab(topo) as lab`` builds the namespaces, warms
    neighbour caches (``warm=True``), installs the faults, and deletes
    everything on exit.
    """

    def __init__(self, topology: Topology, *, warm: bool = True, warm_timeout_s: float = 1.0):
        self.topology = topology
        """The topology this lab builds."""
        self.prefix = safety.new_prefix()
        """Prefix of every namespace name of this lab (unique per run)."""
        self.warm = warm
        """Whether building ends with the warm-up pings."""
        self.warm_timeout_s = warm_timeout_s
        """Bound on the warm-up."""
        self.unwarmed: tuple[tuple[str, str], ...] = ()
        """(node, address) pairs the warm-up echo did not get through (normally empty)."""
        self.build_s: float | None = None
        """Seconds the last build took (namespaces, config, warm-up, faults)."""
        self._plan = Plan(topology)
        self._mtu = {key: iface.mtu for key, iface in self._plan.ifaces.items()}
        self._faults: list[Fault] = list(topology.faults)
        self._defaults: dict[str, tuple[str, str]] = {}  # node -> kernel ICMP rate limits
        self._procs: list[subprocess.Popen[Any]] = []
        self._state = "new"  # new -> building -> open -> closed
        self._owner = os.getpid()

    def __repr__(self) -> str:
        return f"<Lab {self.prefix}* {len(self._plan.order)} nodes {self._state}>"

    # -- lifecycle ---------------------------------------------------------

    def __enter__(self) -> Lab:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.close()
            return
        try:
            self.close()
        except LabError as e:  # do not hide the error that is already propagating
            print(f"jumbopath: {e}", file=sys.stderr)

    def open(self) -> Lab:
        """Build the lab (once). On any failure, everything built so far is removed."""
        if self._state != "new":
            raise LabError(f"this lab is {self._state}: make a new Lab to build again")
        kernel.check_tools(self._needs_nft())
        self._state = "building"
        safety.register(self)
        started = time.monotonic()
        try:
            self._build()
            if self.warm:
                self.unwarmed = warm_up(self._plan, self.prefix, self.warm_timeout_s)
            self._apply_faults(self._plan.order)
        except BaseException:
            with contextlib.suppress(LabError):
                self.close()
            raise
        self.build_s = time.monotonic() - started
        self._state = "open"
        return self

    def close(self) -> None:
        """Kill processes left in the namespaces and delete them. Idempotent."""
        if self._state in ("new", "closed") or os.getpid() != self._owner:
            return
        with safety.signals_deferred():
            for p in self._procs:
                if p.poll() is None:
                    with contextlib.suppress(OSError):
                        p.kill()
            left = kernel.delete_netns([self.netns(n) for n in self._plan.order])
            for p in self._procs:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    p.wait(timeout=5)
            self._procs.clear()
            if left:
                raise LabError(f"could not delete namespaces {', '.join(left)}: try ip netns del")
            self._state = "closed"
            safety.unregister(self)

    # -- names and addresses (pure) ----------------------------------------

    @property
    def nodes(self) -> tuple[str, ...]:
        """Node names in topology order."""
        return tuple(self._plan.order)

    @property
    def faults(self) -> tuple[Fault, ...]:
        """Faults currently installed (or to be installed)."""
        return tuple(self._faults)

    def netns(self, node: str) -> str:
        """Namespace name of ``node``."""
        if node not in self._plan.kind:
            raise LabError(f"no node named {node!r} in the topology")
        return self.prefix + node

    def iface(self, node: str, peer: str) -> str:
        """Name of ``node``'s interface toward the directly linked ``peer``."""
        return self._plan.ifaces[self._plan.key(node, peer)].name

    def addr(self, node: str, family: int = 4, peer: str | None = None) -> str:
        """Address of ``node`` (``family`` 4 or 6): its first one, or the one on the
        interface toward the directly linked ``peer``."""
        _check_family(family)
        if peer is not None:
            a = self._plan.addr(self._plan.key(node, peer), family)
            if a is None:
                raise LabError(self._no_addr(node, family, peer))
            return a
        found = self.addrs(node, family)
        if not found:
            raise LabError(self._no_addr(node, family, None))
        return found[0]

    def addrs(self, node: str, family: int = 4) -> tuple[str, ...]:
        """Every address of ``node`` in ``family`` (4 or 6), in interface order."""
        _check_family(family)
        self._plan.key(node, None)
        got = (self._plan.addr(k, family) for k in self._plan.by_node[node])
        return tuple(a for a in got if a is not None)

    def _no_addr(self, node: str, family: int, peer: str | None) -> str:
        where = f"{node} toward {peer}" if peer else node
        if self._plan.kind[node] is Switch:
            return f"{node} is a switch (layer 2): it has no addresses"
        if family == 6:
            return f"{where} has no IPv6 address: its segment has an MTU below {MIN_MTU_V6}"
        return f"{where} has no IPv{family} address"

    def mtu(self, node: str, peer: str) -> int:
        """Current MTU of ``node``'s interface toward ``peer``."""
        return self._mtu[self._plan.key(node, peer)]

    # -- running things inside ---------------------------------------------

    def run(
        self, node: str, argv: Sequence[str], *, timeout: float | None = 30.0, **kw: Any
    ) -> subprocess.CompletedProcess[Any]:
        """``subprocess.run`` inside ``node``'s namespace (``ip netns exec``).

        Defaults: ``capture_output=True, text=True, check=False``; any keyword
        passes through. A timeout raises ``subprocess.TimeoutExpired`` as usual.
        """
        self._need_open()
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        kw.setdefault("check", False)
        return subprocess.run(
            ["ip", "netns", "exec", self.netns(node), *argv], timeout=timeout, **kw
        )

    def popen(self, node: str, argv: Sequence[str], **kw: Any) -> subprocess.Popen[Any]:
        """``subprocess.Popen`` inside ``node``'s namespace; killed at teardown if still running."""
        self._need_open()
        p: subprocess.Popen[Any] = subprocess.Popen(
            ["ip", "netns", "exec", self.netns(node), *argv], **kw
        )
        self._procs = [q for q in self._procs if q.poll() is None]
        self._procs.append(p)
        return p

    def _need_open(self) -> None:
        if self._state != "open":
            raise LabError(f"the lab is {self._state}: use it inside 'with Lab(topology) as lab:'")

    def _ip(self, node: str, script: str) -> None:
        kernel.run_jobs(
            [(f"configuring {node}", ["ip", "-n", self.netns(node), "-batch", "-"], script)]
        )

    # -- runtime changes ---------------------------------------------------

    def set_mtu(self, node: str, peer: str, mtu: int) -> None:
        """Change the MTU of ``node``'s interface toward ``peer`` now."""
        self._need_open()
        key = self._plan.key(node, peer)
        check_mtu(mtu, f"{node} toward {peer}")
        iface = self._plan.ifaces[key]
        if iface.v6 is not None and mtu < MIN_MTU_V6:
            raise LabError(
                f"{node} toward {peer} carries IPv6, which needs an MTU of at least {MIN_MTU_V6}"
            )
        old = self._mtu[key]
        self._mtu[key] = mtu
        try:
            script = f"link set dev {iface.name} mtu {mtu}\n"
            if self._plan.kind[node] is Switch:
                script += (
                    f"link set dev br0 mtu {scripts.bridge_mtu(self._plan, self._mtu, node)}\n"
                )
            self._ip(node, script)
            if self._plan.kind[node] is Switch:
                self._apply_faults([node])
        except BaseException:
            self._mtu[key] = old
            raise

    def add_fault(self, fault: Fault) -> None:
        """Install one more fault now."""
        self._need_open()
        if not isinstance(fault, FAULT_TYPES):
            raise LabError(f"{fault!r} is not a fault")
        self._plan.check_fault(fault)
        trial = [*self._faults, fault]
        self._plan.check_faults(trial)  # duplicates, one Loss/RateLimit per node
        self._faults = trial
        try:
            self._apply_faults([fault.node])
        except BaseException:
            self._faults.remove(fault)
            raise

    def remove_fault(self, fault: Fault) -> None:
        """Remove an installed fault now."""
        self._need_open()
        if fault not in self._faults:
            raise LabError(f"{fault} is not installed")
        self._faults.remove(fault)
        self._apply_faults([fault.node])

    def flush_pmtu(self, node: str) -> None:
        """Forget the path MTUs ``node`` has learned (IPv4 and IPv6 route exceptions)."""
        self._need_open()
        ns = self.netns(node)
        kernel.run_jobs(
            [
                (
                    f"flushing IPv{fam} path MTUs on {node}",
                    ["ip", f"-{fam}", "-n", ns, "route", "flush", "cache"],
                    "",
                )
                for fam in (4, 6)
            ]
        )

    # -- building ------------------------------------------------------------

    def _build(self) -> None:
        plan, prefix = self._plan, self.prefix
        # 1. Namespaces and cables, in one ip process.
        script = scripts.netns_script(plan, prefix)
        kernel.run_jobs([("creating namespaces and links", ["ip", "-batch", "-"], script)])
        # 2. sysctls, written from this process inside each namespace (before links go up).
        settings = {n: scripts.sysctls(plan.kind[n]) for n in plan.order}
        kernel.in_netns(
            [self.netns(n) for n in plan.order],
            lambda ns: kernel.write_sysctls(settings[ns[len(prefix) :]]),
        )
        # 3. Links up, bridges, addresses, routes: one ip process per namespace.
        jobs = []
        for n in plan.order:
            if plan.kind[n] is Switch:
                script = scripts.switch_script(plan, self._mtu, n)
            else:
                script = scripts.l3_script(plan, n)
            jobs.append((f"configuring {n}", ["ip", "-n", self.netns(n), "-batch", "-"], script))
        kernel.run_jobs(jobs)

    def _needs_nft(self) -> bool:
        switches = [n for n in self._plan.order if self._plan.kind[n] is Switch]
        return bool(self._faults) or any(
            scripts.port_rules(self._plan, self._mtu, sw) for sw in switches
        )

    # -- faults --------------------------------------------------------------

    def _apply_faults(self, nodes: Sequence[str]) -> None:
        jobs = []
        for node in dict.fromkeys(nodes):
            table = scripts.nft_table(self._plan, self._mtu, self._faults, node)
            if table is None and self._state == "building":
                continue  # nothing installed yet, nothing to install
            script = scripts.nft_replace(scripts.nft_family(self._plan, node), table)
            argv = ["ip", "netns", "exec", self.netns(node), "nft", "-f", "-"]
            jobs.append((f"installing faults on {node}", argv, script))
        if jobs:
            kernel.check_nft()
        kernel.run_jobs(jobs)
        self._apply_ratelimits(nodes)

    def _apply_ratelimits(self, nodes: Sequence[str]) -> None:
        want: dict[str, int | None] = {}
        for node in dict.fromkeys(nodes):
            if self._plan.kind[node] is Switch:
                continue
            ms = [f.ms for f in self._faults if isinstance(f, RateLimit) and f.node == node]
            if ms or node in self._defaults:
                want[node] = ms[0] if ms else None
        if not want:
            return

        def apply(ns: str) -> None:
            node = ns[len(self.prefix) :]
            if node not in self._defaults:
                self._defaults[node] = (
                    kernel.read_sysctl("ipv4/icmp_ratelimit"),
                    kernel.read_sysctl("ipv6/icmp/ratelimit"),
                )
            ms = want[node]
            v4, v6 = self._defaults[node] if ms is None else (str(ms), str(ms))
            kernel.write_sysctls([("ipv4/icmp_ratelimit", v4), ("ipv6/icmp/ratelimit", v6)])

        kernel.in_netns([self.netns(n) for n in want], apply)
