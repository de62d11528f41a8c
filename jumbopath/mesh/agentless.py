"""Agentless hosts: their own ping, driven over one SSH connection, nothing installed there.

A host with ``agent: ping`` (Ansible: ``jumbopath_agent: ping``) runs no
jumbopath. This machine runs the same check pipeline for it, with the same
planners, and only the probes leave from the far host: each engine round is
one command there (:class:`~jumbopath.probers.systemping.SystemPingProber`),
its iputils ``ping -M do``, ESXi ``vmkping -d``, macOS ``ping -D`` or Windows
PowerShell's .NET ``Ping.SendPingAsync`` with don't-fragment.

Every command rides one OpenSSH ControlMaster connection per host (``ssh -M
-S SOCKET``, the socket in a private mode-700 folder), so a round costs a
channel, not a login: at most :data:`MAX_CHANNELS` at once, below sshd's
default ``MaxSessions`` of 10 (rounds that come meanwhile wait and leave
together). A login the server drops (``MaxStartups``) or that does not finish
in time is tried again, :data:`LOGIN_ATTEMPTS` times in all; a round's
command that is refused is tried again by the prober, with a growing pause,
and a host that refuses several in a row is reported unmeasured with what
ssh said (:mod:`jumbopath.probers.systemping`). On Linux one more command asks the host's kernel how
it reaches each target (``ip -o route get``, the interface's MTU and state),
so the verdicts name the far host's interface exactly as jumbopath would
there. Its output, like every ping's, is bounded and validated before use.

What the pipeline finds becomes the same ``check --json`` document a host
running jumbopath prints, so the matrix and the inference cannot tell the
difference; the row says how it was measured (:data:`VIA_PING`).
"""

from __future__ import annotations

import base64
import ipaddress
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from jumbopath.errors import CannotMeasure, InterfaceDown, JumbopathError, NoRoute
from jumbopath.mesh.inventory import Inventory, MeshHost
from jumbopath.mesh.inventory.model import HostOS
from jumbopath.mesh.runs import ErrorKind, HostError, HostRun, NetworkRun, shown_line
from jumbopath.mesh.sessions import Sessions, collect
from jumbopath.mesh.ssh import (
    SshOptions,
    classify_ssh,
    interrupted_error,
    interrupted_run,
    ssh_argv,
)
from jumbopath.numbers import parse_int_or_none
from jumbopath.probers.pingparse import Flavour
from jumbopath.probers.systemping import PingTool, SystemPingProber
from jumbopath.safe import safe_text

if TYPE_CHECKING:
    from jumbopath.egress import Egress
    from jumbopath.pathstate import CheckConfig
    from jumbopath.probers.base import Prober, Target
    from jumbopath.switches.files import SwitchesFile
    from jumbopath.switches.graph import L2Graph

#: How a row measured through the host's own ping says so (``"via"`` in the JSON).
VIA_PING = "ping over ssh"
#: Past the connect timeout, how long the login itself may take, seconds.
LOGIN_S = 10.0
#: Startup allowed to a round's command over SSH (a channel, a login shell), seconds.
REMOTE_START_S = 2.0
#: A probe whose fate its round's command has not told this long after it was planned
#: is void (planned again), never lost: a loaded host starts commands late, seconds.
REMOTE_GIVE_UP_S = 8.0
#: Session channels open at once on one host's connection (sshd: MaxSessions 10).
MAX_CHANNELS = 6
#: Logins tried when the server drops one (MaxStartups) or it does not finish in time.
LOGIN_ATTEMPTS = 3
#: Pause before the next login, seconds, times the attempts so far.
LOGIN_RETRY_S = 0.5
#: The soak's default here, in probes: each is a ping process on the far host (a
#: production server), where jumbopath's own check sends 200 from one socket.
SOAK = 40
#: Bound on the route query's output, bytes (a line per target).
MAX_ROUTE_OUTPUT = 1 << 20

#: The ping each OS has, as the prober drives it.
TOOLS: dict[HostOS, PingTool] = {
    HostOS.LINUX: PingTool(Flavour.IPUTILS),
    HostOS.ESXI: PingTool(Flavour.ESXI, "vmkping"),
    HostOS.WINDOWS: PingTool(Flavour.WINDOWS, "powershell"),
    HostOS.MACOS: PingTool(Flavour.MACOS),
}


def network_tool(host: MeshHost, network: str) -> PingTool:
    """The host's ping for one network: on ESXi with that network's ``-I vmkN``/``-S``."""
    tool = TOOLS[host.os]
    if host.os is not HostOS.ESXI:
        return tool
    return replace(
        tool, interface=dict(host.vmk).get(network), netstack=dict(host.netstack).get(network)
    )


def remote_command(tool: PingTool, argv: Sequence[str]) -> str:
    """One prober command as the text ``ssh`` hands the far host's shell.

    POSIX shells get the words quoted; Windows (cmd.exe or PowerShell as the
    OpenSSH server's shell) gets PowerShell's ``-EncodedCommand`` (UTF-16LE,
    base64), which no shell between can misquote.
    """
    if tool.flavour is Flavour.WINDOWS:
        script = argv[-1]
        encoded = base64.b64encode(script.encode("utf-16-le")).decode("ascii")
        return f"powershell -NoProfile -NonInteractive -EncodedCommand {encoded}"
    return shlex.join(argv)


class Control:
    """One OpenSSH ControlMaster connection to a host, and commands run over it."""

    def __init__(self, host: MeshHost, options: SshOptions, sessions: Sessions) -> None:
        self.host = host
        self.options = options
        self.sessions = sessions
        self.folder = tempfile.mkdtemp(prefix="jumbopath-ssh-")
        self.socket = os.path.join(self.folder, "control")
        self.master: subprocess.Popen[bytes] | None = None

    def open(self, attempts: int = LOGIN_ATTEMPTS) -> HostError | None:
        """Log in; None when the connection is up, else why not. A login the server
        dropped (``MaxStartups``) or that did not finish in time is tried again,
        ``attempts`` times in all, with a pause growing by :data:`LOGIN_RETRY_S`."""
        failed: HostError | None = None
        for attempt in range(1, max(1, attempts) + 1):
            failed = self._login()
            if failed is None or not _worth_retrying(failed) or attempt == attempts:
                return failed
            if self.master is not None:
                self.sessions.release(self.master)
                self.master = None
            pause = time.monotonic() + LOGIN_RETRY_S * attempt
            while time.monotonic() < pause:
                if self.sessions.stopped:
                    return interrupted_error(self.host.name)
                time.sleep(0.05)
        return failed

    def _login(self) -> HostError | None:
        """One login attempt."""
        extra = ["-M", "-S", self.socket, "-N", "-o", "ControlPersist=no"]
        argv = ssh_argv(self.host, None, self.options, extra)
        errors = os.path.join(self.folder, "master.err")
        with open(errors, "wb") as err:
            self.master = self.sessions.spawn(
                argv, self.options.ssh, stdout=subprocess.DEVNULL, stderr=err
            )  # never jumbopath's own stdout: a reader of it would wait for the master
        if self.master is None:
            return interrupted_error(self.host.name)
        deadline = time.monotonic() + self.options.connect_timeout_s + LOGIN_S
        while not os.path.exists(self.socket):
            if self.sessions.stopped:
                return interrupted_error(self.host.name)
            if self.master.poll() is not None:
                with open(errors, "rb") as err:
                    said = err.read()[-65536:].decode("utf-8", "replace")
                return classify_ssh(said, self.host)
            if time.monotonic() >= deadline:
                return HostError(
                    ErrorKind.CONNECT_TIMEOUT,
                    f"the SSH login to {safe_text(self.host.ssh_host, 200)} did not finish "
                    f"within {self.options.connect_timeout_s + LOGIN_S:g} s",
                )
            time.sleep(0.02)
        return None

    def argv(self, remote: str) -> list[str]:
        """``ssh`` running ``remote`` over the master connection."""
        extra = ["-S", self.socket, "-o", "ControlMaster=no"]
        return ssh_argv(self.host, remote, self.options, extra)

    def runner(self, argv: Sequence[str]) -> subprocess.Popen[bytes]:
        """The prober's runner: one round's command, run on the far host."""
        proc = self.sessions.spawn(
            self.argv(remote_command(TOOLS[self.host.os], argv)),
            self.options.ssh,
            stderr=subprocess.STDOUT,
        )
        if proc is None:
            raise CannotMeasure("the run was interrupted")
        return proc

    def run(self, remote: str, timeout_s: float) -> str | None:
        """Run ``remote`` there and return its output (bounded); None when it failed."""
        proc = self.sessions.spawn(self.argv(remote), self.options.ssh)
        if proc is None:
            return None
        try:
            out = collect(proc, timeout_s, self.sessions, MAX_ROUTE_OUTPUT)
        finally:
            self.sessions.release(proc)
        if out.timed_out or out.too_large or out.interrupted or proc.returncode != 0:
            return None
        return out.stdout

    def close(self) -> None:
        """End the master connection and remove its folder."""
        if self.master is not None:
            self.sessions.release(self.master)
        shutil.rmtree(self.folder, ignore_errors=True)


#: ssh's words for a server that took the connection but did not answer in time.
_SLOW_SERVER = re.compile(r"during banner exchange", re.I)


def _worth_retrying(failed: HostError) -> bool:
    """A login the server dropped before authentication (``MaxStartups``), or one
    that connected but did not finish in time (a slow login: ssh's banner
    exchange timed out, or :data:`LOGIN_S` passed). Not a connection nothing
    answered (the host is down or filtered: trying again only waits longer),
    nor a refused key or host key."""
    if failed.kind is ErrorKind.CONNECTION_CLOSED:
        return True
    if failed.kind is not ErrorKind.CONNECT_TIMEOUT:
        return False
    return not failed.detail or _SLOW_SERVER.search(failed.detail) is not None


# --------------------------------------------------------------------------
# The far host's routes (Linux)

_ROUTE_LINE = re.compile(r"^@@jp (\S+) ([0-9]{1,6}|-) (\S+) ?(.*)$")
_IFNAME = re.compile(r"^[A-Za-z0-9_.:@-]{1,15}$")


def route_script(addresses: Sequence[str]) -> str:
    """A POSIX script that prints, per address, the far host's route toward it:
    ``@@jp ADDRESS INTERFACE_MTU OPERSTATE ROUTE``."""
    lines = []
    for address in addresses:
        a = shlex.quote(address)
        lines.append(
            f"r=$(LC_ALL=C ip -o route get {a} 2>/dev/null | head -n 1); "
            'd=${r#* dev }; d=${d%% *}; m=-; o=-; case "$d" in */*|""|.*) ;; *) '
            'm=$(cat "/sys/class/net/$d/mtu" 2>/dev/null || echo -); '
            'o=$(cat "/sys/class/net/$d/operstate" 2>/dev/null || echo -);; esac; '
            f'echo "@@jp {address} $m $o $r"'
        )
    return "\n".join(lines)


def parse_routes(text: str) -> dict[str, Egress | str]:
    """Each address's egress there, or why there is none (no route, interface down).

    Lines that do not fit are ignored; every field is checked before use.
    """
    from jumbopath.egress import Egress

    out: dict[str, Egress | str] = {}
    for line in text.splitlines()[:10_000]:
        m = _ROUTE_LINE.match(line.strip())
        if m is None:
            continue
        address, mtu_text, state, route = m.groups()
        try:
            ipaddress.ip_address(address)
        except ValueError:
            continue
        dev = re.search(r"\bdev (\S+)", route)
        src = re.search(r"\bsrc (\S+)", route)
        cached = re.search(r"\bmtu ([0-9]{2,6})\b", route)
        if not route or dev is None or not _IFNAME.match(dev.group(1)):
            out[address] = "no route"
            continue
        interface = dev.group(1)
        if state in ("down", "lowerlayerdown"):
            out[address] = f"interface {interface} is down (state {state})"
            continue
        interface_mtu = parse_int_or_none(mtu_text, 68, 65535)
        source = src.group(1) if src is not None and _is_address(src.group(1)) else ""
        route_mtu = parse_int_or_none(cached.group(1), 68, 65535) if cached else interface_mtu
        out[address] = Egress(source, interface, interface_mtu, route_mtu)
    return out


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------
# The environment of a check measured from the far host


@dataclass
class RemoteEnvironment:
    """The world as seen from an agentless host: its routes, its ping."""

    control: Control
    """The connection commands run over."""
    routes: dict[str, Egress | str] = field(default_factory=dict)
    """Address to the far host's egress toward it, or why there is none (Linux only)."""
    tool: PingTool = TOOLS[HostOS.LINUX]
    """The ping the network being checked is probed with (ESXi: its vmk and netstack)."""

    def resolve(self, names: Sequence[str], family: int | None) -> list[Target]:
        from jumbopath.egress import resolve

        return resolve(list(names), family)

    def egress(self, target: Target) -> Egress:
        from jumbopath.egress import Egress

        found = self.routes.get(target.address)
        shown = safe_text(self.control.host.name, 200)
        if isinstance(found, str):
            if found.startswith("interface"):
                raise InterfaceDown(f"on {shown}, the {found} toward {target.address}")
            raise NoRoute(f"{shown} has no route to {target.address}: check its addresses")
        return found if found is not None else Egress("", None, None, None)

    def route_mtu(self, target: Target) -> int | None:
        return None

    def local_context(self, interface: str, expected: int | None) -> list[str]:
        return []

    def tunnel(self, interface: str) -> None:
        return None

    def prober(self) -> Prober:
        return SystemPingProber(
            self.tool,
            self.control.runner,
            REMOTE_START_S,
            max_commands=MAX_CHANNELS,
            give_up_s=REMOTE_GIVE_UP_S,
        )

    def switch_map(self, path: str | SwitchesFile) -> L2Graph:
        raise CannotMeasure("switch ports are named by the mesh, not by one host's check")


# --------------------------------------------------------------------------
# One host's row


def run_agentless(
    inventory: Inventory,
    name: str,
    options: SshOptions,
    sessions: Sessions,
    work: Sequence[tuple[str, int, list[tuple[str, str]], int | None]],
) -> HostRun:
    """Measure every network of an agentless host through its own ping."""
    host = inventory.host(name)
    start = time.monotonic()
    control = Control(host, options, sessions)
    try:
        try:
            failed = control.open()
        except JumbopathError as exc:  # ssh could not even start here
            failed = HostError(ErrorKind.SSH_ERROR, shown_line(str(exc)))
        if failed is not None:
            return HostRun(name, error=failed, elapsed_s=time.monotonic() - start, via=VIA_PING)
        env = RemoteEnvironment(control)
        if host.os is HostOS.LINUX:
            addresses = [a for _, _, targets, _ in work for _, a in targets if _is_address(a)]
            said = control.run(route_script(addresses), options.timeout_s)
            env.routes = parse_routes(said) if said is not None else {}
        runs = []
        for network, mtu, targets, family in work:
            env.tool = network_tool(host, network)
            runs.append(_network_run(env, options, network, mtu, targets, family, start))
        if sessions.stopped:
            return interrupted_run(name, time.monotonic() - start)
        return HostRun(name, tuple(runs), elapsed_s=time.monotonic() - start, via=VIA_PING)
    finally:
        control.close()


def check_config(
    options: SshOptions, addresses: Sequence[str], mtu: int, family: int | None, max_time_s: float
) -> CheckConfig:
    """The check a host running jumbopath would run, with its probes sent by its ping:
    ``--probe``, ``--flows`` and ``--soak`` as given (the soak :data:`SOAK` by default)."""
    from jumbopath.pathstate import CheckConfig, parse_probe

    protocol, port = parse_probe(options.probe) if options.probe is not None else (None, None)
    config = CheckConfig(
        targets=tuple(addresses),
        expect=mtu,
        family=family,
        max_time_s=max_time_s,
        probe=protocol,
        port=port,
        soak=options.soak if options.soak is not None else SOAK,
        via="ping",
    )
    return config if options.flows is None else replace(config, flows=options.flows)


def _network_run(
    env: RemoteEnvironment,
    options: SshOptions,
    network: str,
    mtu: int,
    targets: list[tuple[str, str]],
    family: int | None,
    start: float,
) -> NetworkRun:
    """One network's check, measured from the far host; its error when it could not run."""
    from jumbopath.pipeline import check
    from jumbopath.schema import report_dict

    tt = tuple(targets)
    left = options.timeout_s - (time.monotonic() - start)
    if left <= 1.0:
        error = HostError(
            ErrorKind.TIMEOUT,
            f"the check of {network} did not start within {options.timeout_s:g} s: raise --timeout",
        )
        return NetworkRun(network, mtu, tt, None, error)
    config = check_config(options, [a for _, a in targets], mtu, family, min(left, 30.0))
    try:
        report = check(config, env)
    except JumbopathError as exc:
        detail = shown_line(str(exc))
        kind = ErrorKind.CHECK_USAGE if exc.exit_code == 2 else ErrorKind.CHECK_ERROR
        error = HostError(kind, f"the check through ping could not measure: {detail}", detail)
        return NetworkRun(network, mtu, tt, None, error)
    return NetworkRun(network, mtu, tt, report_dict(report), None, report.exit_code)
