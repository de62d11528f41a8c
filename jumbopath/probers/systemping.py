"""The operating system's own ping as a prober (``--via ping``).

The same pure planners decide; this prober only changes how a probe leaves.
Each engine round's probes run in parallel as **one command**: a small
POSIX ``sh`` script (Linux iputils, ESXi ``vmkping``, macOS) or a PowerShell
script (Windows, .NET ``Ping.SendPingAsync`` with don't-fragment) starts one
``ping -c 1`` per probe in the background and prints each probe's output as
one block when that ping ends. Blocks stream back as they finish, so a quick
answer is not held up by a silent probe beside it; the parsers
(:mod:`jumbopath.probers.pingparse`) turn each block into a typed outcome.

A **runner** starts a command and returns the process, its standard output
a pipe. The default runs it here; any other (for example ``ssh -S CONTROL
host -- ...`` over an OpenSSH ControlMaster connection) runs the same script
on another host, where nothing needs installing.

Bounds: every ping waits at most :data:`WAIT_S` for its answer (``-W 1``,
``-w 1000``) and then says itself that nothing came: only that report is a
loss. Silence never is: a round's command may start late (a loaded host, an
SSH channel opening), so a probe the tool has not told about within
``give_up_s`` of being handed over is *void* (its command killed, the probe
planned again), never lost, and the planners wait longer than that before
they would count a silence (:attr:`SystemPingProber.silence_floor_s`).

At most ``max_commands`` commands run at once (over SSH each is a session
channel, and sshd refuses more than ``MaxSessions``, 10 by default); probes
handed over meanwhile wait and leave together, at most
:data:`MAX_PER_COMMAND` in one command. A command that ends without telling
anything (a channel refused, a login dropped) is retried after a pause that
grows with each such failure; after :data:`MAX_FAILED_COMMANDS` of them in a
row the host cannot be measured (:class:`~jumbopath.errors.CannotMeasure`,
with what the tool said). Every command still running when the prober
closes is killed, so a run never outlives its own time bound.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from jumbopath.errors import CannotMeasure
from jumbopath.model import (
    LocalRefused,
    Lost,
    Outcome,
    ProbeRequest,
    Protocol,
    Reply,
    TimeExceeded,
    TooBig,
    Unreach,
    Unreachable,
)
from jumbopath.numbers import parse_int_or_none
from jumbopath.probers.base import Target
from jumbopath.probers.pingparse import Flavour, Kind, Parsed, parse, parse_status
from jumbopath.procs import track
from jumbopath.safe import safe_text
from jumbopath.sizes import ICMP_OVERHEAD, next_plateau_below

Runner = Callable[[Sequence[str]], "subprocess.Popen[bytes]"]
"""Starts ``argv`` and returns the process; its stdout is a pipe (stderr joined or discarded)."""

#: How long one ping waits for its answer, seconds (integral: old iputils want that).
WAIT_S = 1
#: Bound on the output kept per command, bytes (a ping's block is a few hundred).
MAX_OUTPUT = 1 << 20
MARK = "@@jp"
#: A local refusal is believed once it repeats this long after the first, seconds.
REFUSAL_SETTLE_S = 0.2
#: Startup allowed to a round's command here, seconds (a process start takes milliseconds).
LOCAL_START_S = 0.3
#: A probe not told about this long after it was handed over is void, seconds (here).
LOCAL_GIVE_UP_S = 4.0
#: Most probes in one command (each is a ping process there).
MAX_PER_COMMAND = 64
#: Commands in a row that told nothing before the host counts as unmeasurable.
MAX_FAILED_COMMANDS = 6
#: Pause before the next command after one that told nothing, seconds, times the
#: failures in a row (at most :data:`RETRY_MAX_S`).
RETRY_S = 0.25
RETRY_MAX_S = 2.0
#: Margin between giving a probe up and a planner counting its silence, seconds.
SILENCE_MARGIN_S = 1.0


def local_runner(argv: Sequence[str]) -> subprocess.Popen[bytes]:
    """Run ``argv`` on this host, in its own process group (closed as a whole)."""
    try:
        return track(
            subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    except OSError as exc:
        raise CannotMeasure(f"cannot run {argv[0]!r} ({exc.strerror}): is it installed?") from exc


@dataclass(frozen=True, slots=True)
class PingTool:
    """Which ping runs, and how it is told which interface or stack to use."""

    flavour: Flavour
    """iputils, esxi, macos, windows (PowerShell .NET), windows-ping (ping.exe)."""
    program: str = "ping"
    """The command (``vmkping`` on ESXi)."""
    interface: str | None = None
    """ESXi ``-I vmkN``: the VMkernel interface probes leave from."""
    netstack: str | None = None
    """ESXi ``-S NAME``: the TCP/IP stack (``vmotion``, a storage stack)."""


def probe_argv(tool: PingTool, target: Target, request: ProbeRequest) -> list[str]:
    """One probe as the tool's own command line (sizes are ICMP payload bytes there)."""
    payload = str(max(0, request.size - ICMP_OVERHEAD[target.family]))
    address = target.address if not target.scope_id else f"{target.address}%{target.scope_id}"
    ttl = request.ttl
    f = tool.flavour
    if f is Flavour.IPUTILS:
        argv = [tool.program, "-n", f"-{target.family}", "-M", "do", "-s", payload, "-c", "1"]
        argv += ["-W", str(WAIT_S)] + (["-t", str(ttl)] if ttl else [])
    elif f is Flavour.ESXI:
        argv = [tool.program] + (["-6"] if target.family == 6 else []) + ["-d", "-s", payload]
        argv += ["-c", "1", "-W", str(WAIT_S)] + (["-t", str(ttl)] if ttl else [])
        argv += (["-I", tool.interface] if tool.interface else []) + (
            ["-S", tool.netstack] if tool.netstack else []
        )
    elif f is Flavour.MACOS:
        if target.family == 4:
            argv = ["ping", "-n", "-D", "-s", payload, "-c", "1", "-W", str(WAIT_S * 1000)]
            argv += ["-m", str(ttl)] if ttl else []
        else:  # ping6 -m: do not fragment to the minimum MTU
            argv = ["ping6", "-n", "-m", "-s", payload, "-c", "1"]
            argv += ["-h", str(ttl)] if ttl else []
    elif f is Flavour.WINDOWS_PING:
        argv = ["ping", f"-{target.family}", "-n", "1", "-w", str(WAIT_S * 1000), "-l", payload]
        argv += (["-f"] if target.family == 4 else []) + (["-i", str(ttl)] if ttl else [])
    else:
        raise CannotMeasure(f"{f.value} ping has no command line of its own here")
    return [*argv, address]


def posix_batch(probes: Sequence[tuple[int, list[str]]]) -> list[str]:
    """One ``sh -c`` command running every probe at once.

    Each output line goes out as it is printed, tagged with its probe
    (``@@jp INDEX LINE``, one short write each, so lines of parallel pings
    never mix), then ``@@jp-end INDEX``. A tool that lingers after saying
    what happened (iputils waits out ``-W`` after "message too long") is
    read as soon as it has said it. Two processes per probe, the ping and
    its tagger (a background pipeline, no subshell around it): on a busy
    host, and in a soak, starting processes is most of the cost.
    """
    lines = [
        f't(){{ while IFS= read -r l; do printf \'{MARK} %s %s\\n\' "$1" "$l"; done; '
        f"printf '{MARK}-end %s\\n' \"$1\"; }}",
        *(f"LC_ALL=C {shlex.join(argv)} 2>&1 | t {index} &" for index, argv in probes),
        "wait",
    ]
    return ["sh", "-c", "\n".join(lines)]


def powershell_batch(probes: Sequence[tuple[int, Target, ProbeRequest]]) -> list[str]:
    """One PowerShell command: .NET pings with don't-fragment, all at once, one line each
    as it completes (``@@jp INDEX STATUS RTT_MS ADDRESS``). Windows PowerShell 5.1, no admin."""
    rows = ",".join(
        f"@({i},'{t.address}',{max(0, r.size - ICMP_OVERHEAD[t.family])},{r.ttl or 128})"
        for i, t, r in probes
    )
    script = (
        "$ErrorActionPreference='Stop';$w=@{};"
        f"foreach($p in @({rows})){{"
        "$o=New-Object System.Net.NetworkInformation.PingOptions($p[3],$true);"
        "$b=New-Object byte[] $p[2];"
        "$n=New-Object System.Net.NetworkInformation.Ping;"
        f"$w[$n.SendPingAsync($p[1],{WAIT_S * 1000},$b,$o)]=$p[0]}};"
        "while($w.Count){$t=[System.Threading.Tasks.Task[]]@($w.Keys);"
        "$k=$t[[System.Threading.Tasks.Task]::WaitAny($t)];"
        "if($k.IsFaulted){$s='BadRoute';$a='0.0.0.0';$m=0}else{$r=$k.Result;$s=$r.Status;"
        "$a=$r.Address;$m=$r.RoundtripTime};"
        f"[Console]::Out.WriteLine('{MARK} '+$w[$k]+' '+$s+' '+$m+' '+$a);"
        "[Console]::Out.Flush();$w.Remove($k)}"
    )
    return ["powershell", "-NoProfile", "-NonInteractive", "-Command", script]


@dataclass(slots=True)
class _Probe:
    token: int
    target: Target
    request: ProbeRequest
    handed_at: float
    """When the engine handed it over (the planners' clock starts there)."""
    sent_at: float = 0.0
    """When its command started."""


@dataclass(slots=True)
class _Batch:
    process: subprocess.Popen[bytes]
    probes: dict[int, _Probe]
    buffer: bytes = b""
    lines: dict[int, list[str]] = field(default_factory=dict)
    size: int = 0
    told: bool = False
    """A line of the script came back (the command ran there)."""
    said: str = ""
    """The last other line (ssh's or the shell's complaint), bounded."""


class SystemPingProber:
    """Implements :class:`jumbopath.probers.base.Prober` with the system's ping."""

    protocols = frozenset({Protocol.ICMP})
    """ICMP echo only: no ping sends UDP or TCP probes."""

    def __init__(
        self,
        tool: PingTool,
        runner: Runner = local_runner,
        start_s: float = LOCAL_START_S,
        *,
        max_commands: int | None = None,
        give_up_s: float = LOCAL_GIVE_UP_S,
    ) -> None:
        if tool.flavour is Flavour.BUSYBOX:
            raise CannotMeasure(
                "BusyBox ping cannot set don't-fragment, so it cannot measure an MTU: "
                "install iputils ping (Debian: apt-get install iputils-ping), "
                "or use --via ping-socket"
            )
        self.tool = tool
        self.runner = runner
        self.give_up_s = max(give_up_s, start_s + WAIT_S)
        """A probe not told about this long after it was handed over is void."""
        self.silence_floor_s = self.give_up_s + SILENCE_MARGIN_S
        """No probe's silence counts sooner: by then the prober has told its fate
        (the ping's own report of a loss, after its ``WAIT_S``) or voided it."""
        self.max_commands = max_commands
        """Commands running at once, at most (None: no bound)."""
        self._failed = 0
        self._hold_until = 0.0
        self._queue: list[_Probe] = []
        self._batches: list[_Batch] = []
        self._next = 0
        self._ignored: dict[str, int] = {}
        self._voided: list[int] = []
        self._refused: dict[str, tuple[int, int | None]] = {}  # address -> (size, mtu)
        self._ptb: dict[tuple[str, int], str] = {}  # (address, mtu) -> reporter
        self._suspect: dict[tuple[str, int | None], float] = {}  # first local refusal seen
        self.commands = 0
        """Commands run (one per engine round)."""

    @classmethod
    def local(cls) -> SystemPingProber:
        """The ping of this host: iputils on Linux, macOS's, Windows PowerShell's .NET ping."""
        return cls(detect_local())

    def now(self) -> float:
        return time.monotonic()

    def ignored(self, target: Target) -> int:
        return self._ignored.get(target.address, 0)

    def take_voided(self) -> list[int]:
        """Probes whose fate the tool did not tell (unparsed output, a refusal learnt late)."""
        voided, self._voided = self._voided, []
        return voided

    def send(self, target: Target, request: ProbeRequest) -> int | LocalRefused:
        if request.protocol is not Protocol.ICMP:
            raise CannotMeasure(
                f"--via ping sends ICMP echo only, not {request.protocol.value.upper()} probes: "
                "use --probe icmp (or auto), or --via auto"
            )
        refused = self._refused.get(target.address)
        if refused is not None and request.size >= refused[0]:
            return LocalRefused(refused[1])
        self._next += 1
        self._queue.append(_Probe(self._next, target, request, self.now()))
        return self._next

    def close(self) -> None:
        for batch in self._batches:
            _stop(batch.process)
        self._batches.clear()
        self._queue.clear()

    # ------------------------------------------------------------- running

    def _launch_queued(self) -> None:
        """Start commands for the waiting probes, as many as the bound allows."""
        while self._queue and self.now() >= self._hold_until:
            if self.max_commands is not None and len(self._batches) >= self.max_commands:
                return
            probes = self._queue[:MAX_PER_COMMAND]
            del self._queue[:MAX_PER_COMMAND]
            self._launch(probes)

    def _give_up(self) -> None:
        """Void every probe handed over ``give_up_s`` ago and still untold, and kill
        the commands that hold such probes: their silence says nothing."""
        limit = self.now() - self.give_up_s
        stale = [p for p in self._queue if p.handed_at <= limit]
        if stale:
            self._queue = [p for p in self._queue if p.handed_at > limit]
            self._voided.extend(p.token for p in stale)
        for batch in list(self._batches):
            if any(p.handed_at <= limit for p in batch.probes.values()):
                self._end(batch)

    def _end(self, batch: _Batch) -> None:
        """Stop a command; whatever it did not tell is void. One that told nothing
        at all (a channel refused, a login dropped) delays the next and counts
        toward :data:`MAX_FAILED_COMMANDS`."""
        _stop(batch.process)
        self._batches.remove(batch)
        if batch.probes and not batch.told:
            self._failed += 1
            self._hold_until = self.now() + min(RETRY_MAX_S, RETRY_S * self._failed)
        elif batch.told:
            self._failed = 0
        self._voided.extend(batch.probes)
        batch.probes.clear()
        if self._failed >= MAX_FAILED_COMMANDS:
            said = f": {batch.said}" if batch.said else ""
            raise CannotMeasure(
                f"{self._failed} commands in a row ended without running their pings{said}"
            )

    def _launch(self, probes: list[_Probe]) -> None:
        if self.tool.flavour is Flavour.WINDOWS:
            argv = powershell_batch([(p.token, p.target, p.request) for p in probes])
        else:
            lines = [(p.token, probe_argv(self.tool, p.target, p.request)) for p in probes]
            argv = posix_batch(lines)
        process = self.runner(argv)
        self.commands += 1
        at = self.now()
        for p in probes:
            p.sent_at = at
        assert process.stdout is not None
        os.set_blocking(process.stdout.fileno(), False)
        self._batches.append(_Batch(process, {p.token: p for p in probes}))

    def receive(self, timeout_s: float) -> list[tuple[int, Outcome]]:
        self._give_up()
        self._launch_queued()
        out: list[tuple[int, Outcome]] = []
        deadline = self.now() + max(0.0, timeout_s)
        # Wake in time to give up on a stale probe or to start the waiting ones.
        handed = [p.handed_at for b in self._batches for p in b.probes.values()]
        handed += [p.handed_at for p in self._queue]
        if handed:
            deadline = min(deadline, min(handed) + self.give_up_s)
        if self._queue and self._hold_until > self.now():
            deadline = min(deadline, self._hold_until)
        while True:
            live = [b for b in self._batches if b.process.stdout is not None]
            if not live:
                time.sleep(max(0.0, min(deadline - self.now(), 0.05)))
                return out
            wait = 0.0 if out else max(0.0, deadline - self.now())
            # A selector, not select(): descriptors past 1024 are fine (a loaded
            # mesh holds many commands' pipes in one process).
            with selectors.DefaultSelector() as sel:
                for b in live:
                    assert b.process.stdout is not None
                    sel.register(b.process.stdout.fileno(), selectors.EVENT_READ, b)
                ready = sel.select(wait)
            for key, _ in ready:
                out.extend(self._read(key.data))
            if self._queue and len(out) == 0:
                self._launch_queued()  # a slot may have freed
            if out or self.now() >= deadline:
                return out

    def _read(self, batch: _Batch) -> list[tuple[int, Outcome]]:
        stdout = batch.process.stdout
        assert stdout is not None
        try:
            chunk = os.read(stdout.fileno(), 65536)
        except BlockingIOError:
            return []
        out: list[tuple[int, Outcome]] = []
        if chunk and batch.size + len(chunk) <= MAX_OUTPUT:
            batch.size += len(chunk)
            batch.buffer += chunk
            *lines, batch.buffer = batch.buffer.split(b"\n")
            for raw in lines:
                line = raw.decode("utf-8", "replace").rstrip("\r")
                if line.startswith(MARK):
                    batch.told = True
                elif line.strip():
                    batch.said = safe_text(line.strip(), 200)
                hit = self._line(batch, line)
                if hit is not None:
                    out.append(hit)
            return out
        # End of output (or too much of it): whatever was not told is void.
        self._end(batch)
        return out

    def _line(self, batch: _Batch, line: str) -> tuple[int, Outcome] | None:
        """Feed one line; a finished block (or a PowerShell line) gives its outcome."""
        if self.tool.flavour is Flavour.WINDOWS:
            parts = line.split()
            found = parse_int_or_none(parts[1], 0, 1 << 31) if len(parts) > 1 else None
            if parts[0:1] != [MARK] or found is None:
                return None
            return self._settle(batch, found, parse_status(line))
        head, _, rest = line.partition(" ")
        index_text, _, text = rest.partition(" ")
        number = parse_int_or_none(index_text, 0, 1 << 31)
        if number is None or number not in batch.probes:
            return None
        index = number
        if head == f"{MARK}-end":
            lines = batch.lines.pop(index, [])
            return self._settle(batch, index, parse(self.tool.flavour, "\n".join(lines), 1))
        if head != MARK:
            return None
        lines = batch.lines.setdefault(index, [])
        if len(lines) < 200:
            lines.append(text)
        parsed = parse(self.tool.flavour, "\n".join(lines), None)
        if parsed.kind in (Kind.LOST, Kind.UNKNOWN):
            return None  # not decided yet: wait for more, or for the end
        batch.lines.pop(index, None)
        return self._settle(batch, index, parsed)

    def _settle(self, batch: _Batch, token: int, parsed: Parsed) -> tuple[int, Outcome] | None:
        probe = batch.probes.pop(token, None)
        if probe is None:
            return None
        outcome = self._outcome(probe, parsed, round((self.now() - probe.sent_at) * 1000, 3))
        if outcome is None:
            self._voided.append(token)
            return None
        return token, outcome

    def _outcome(self, probe: _Probe, parsed: Parsed, rtt_ms: float) -> Outcome | None:
        """The typed outcome; None voids the probe (it says nothing about the path)."""
        target, size = probe.target, probe.request.size
        kind = parsed.kind
        if kind is Kind.REPLY:
            if parsed.reporter not in (None, target.address):
                self._ignore(target)
                return None
            return Reply(rtt_ms)
        if kind is Kind.TOO_BIG:
            mtu = parsed.mtu or next_plateau_below(size) or 0
            if not 68 <= mtu < size:
                self._ignore(target)
                return None
            # iputils prints this host's own address for a "too big" its kernel
            # repeats from the cache: once a router said it, it is the router's.
            reporter = self._ptb.setdefault((target.address, mtu), parsed.reporter or "unknown")
            return TooBig(mtu, reporter, rtt_ms)
        if kind is Kind.REFUSED:
            # iputils with -M do obeys the kernel's cached path MTU: a refusal at
            # the MTU a router reported in this run is that router's report again.
            if parsed.mtu is not None and (target.address, parsed.mtu) in self._ptb:
                return TooBig(parsed.mtu, self._ptb[(target.address, parsed.mtu)], rtt_ms)
            # The router's report may still be on its way (its ping's output
            # races this one): believe a local refusal only when it repeats at
            # least REFUSAL_SETTLE_S later with no such report. Then it is said
            # at once for sizes at or above it. Until then the probe is void
            # (planned again), never evidence.
            key = (target.address, parsed.mtu)
            first = self._suspect.setdefault(key, self.now())
            if self.now() - first < REFUSAL_SETTLE_S:
                return None
            known = self._refused.get(target.address)
            if known is None or size < known[0]:
                self._refused[target.address] = (size, parsed.mtu)
            return None
        if kind is Kind.TIME_EXCEEDED:
            return TimeExceeded(parsed.reporter or "unknown", rtt_ms)
        if kind is Kind.UNREACHABLE:
            return Unreachable(parsed.code or Unreach.OTHER, parsed.reporter or "local")
        if kind is Kind.LOST:
            return Lost()
        if kind is Kind.TOOL_LIMIT:
            raise CannotMeasure(
                f"this ping cannot send {size}-byte probes (at most {parsed.mtu} bytes of data; "
                "on macOS raise it: sudo sysctl -w net.inet.raw.maxdgram=16384), "
                "or check a smaller --expect"
            )
        return None

    def _ignore(self, target: Target) -> None:
        self._ignored[target.address] = self._ignored.get(target.address, 0) + 1


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End a command and everything it started (its process group, when it leads one)."""
    if process.poll() is None:
        with contextlib.suppress(OSError):
            if os.getpgid(process.pid) == process.pid:
                os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=1.0)
    if process.stdout is not None:
        process.stdout.close()


def detect_local() -> PingTool:
    """This host's ping, or CannotMeasure saying what to install."""
    if sys.platform == "win32":
        # Windows PowerShell sends every probe at once; without it, ping.exe
        # (-f -l), one process per probe.
        if shutil.which("powershell") is None:
            return PingTool(Flavour.WINDOWS_PING)
        return PingTool(Flavour.WINDOWS, "powershell")
    if sys.platform == "darwin":
        return PingTool(Flavour.MACOS)
    if shutil.which("vmkping"):
        return PingTool(Flavour.ESXI, "vmkping")
    program = shutil.which("ping")
    if program is None:
        raise CannotMeasure("no ping on PATH: install iputils-ping, or use --via auto")
    try:
        done = subprocess.run(
            [program, "-V"], capture_output=True, text=True, timeout=5, env={"LC_ALL": "C"}
        )
        said = done.stdout + done.stderr
    except (OSError, subprocess.TimeoutExpired):
        said = ""
    if "iputils" in said:
        return PingTool(Flavour.IPUTILS, program)
    if "BusyBox" in said or os.path.realpath(program).endswith("busybox"):
        return PingTool(Flavour.BUSYBOX, program)
    raise CannotMeasure(
        f"{program} is not a ping jumbopath knows (iputils, ESXi, macOS, Windows): "
        "install iputils-ping, or use --via auto"
    )
