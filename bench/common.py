"""Shared pieces for the benchmarks in bench/: running a tool inside a lab
namespace with a hard time cap, parsing the system tools' path MTU output,
medians, and a plain aligned table.

Nothing here probes anything by itself; callers pass a built
:class:`jumbopath.lab.Lab` and addresses from it.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jumbopath.lab import Lab

REPO = Path(__file__).resolve().parent.parent
"""The checkout this bench/ folder lives in."""

LAB_NETS = (ipaddress.ip_network("198.18.0.0/15"), ipaddress.ip_network("2001:db8::/32"))
"""The only networks a benchmark may probe (and only inside its own lab)."""

DEBIAN_PACKAGES = ("iproute2", "nftables", "iputils-ping", "iputils-tracepath", "scamper")
"""Debian packages the benchmarks run (besides Python and jumbopath itself)."""

# Which Debian package provides each program the benchmarks call.
PROGRAM_PACKAGES = {
    "ip": "iproute2",
    "nft": "nftables",
    "ping": "iputils-ping",
    "tracepath": "iputils-tracepath",
    "scamper": "scamper",
}


def require_root() -> None:
    """Exit with a clear message unless running as root (namespaces need it)."""
    if os.geteuid() != 0:
        sys.exit("the benchmark builds network namespaces: run it as root (sudo)")


def missing_programs(names: Iterable[str]) -> list[str]:
    """The programs among ``names`` that are not on PATH."""
    return [n for n in names if shutil.which(n) is None]


def apt_hint(programs: Iterable[str]) -> str:
    """The apt-get line that installs ``programs``."""
    pkgs = sorted({PROGRAM_PACKAGES.get(p, p) for p in programs})
    return "apt-get install -y " + " ".join(pkgs)


def check_lab_address(addr: str) -> str:
    """Return ``addr`` if it lies in the lab ranges; refuse anything else."""
    ip = ipaddress.ip_address(addr)
    if not any(ip in net for net in LAB_NETS):
        raise SystemExit(f"refusing to probe {addr}: not a lab address")
    return addr


def jumbopath_argv() -> list[str]:
    """How to start jumbopath: the console script next to this interpreter
    (no version-manager shim in front of it), else ``python -m jumbopath``."""
    script = Path(sys.executable).with_name("jumbopath")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "jumbopath"]


def git_commit(rev: str = "HEAD", repo: Path = REPO) -> str | None:
    """Full hash of ``rev`` in ``repo`` (None if that is not a git checkout)."""
    try:
        r = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--verify", f"{rev}^{{commit}}"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if r.returncode != 0:
        return None
    return r.stdout.strip() or None


def git_dirty(repo: Path = REPO) -> bool | None:
    """Whether ``repo`` has uncommitted changes under jumbopath/ (None if unknown)."""
    try:
        r = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--", "jumbopath"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return bool(r.stdout.strip()) if r.returncode == 0 else None


def snapshot(rev: str, repo: Path = REPO) -> tuple[Path, str]:
    """Export the ``jumbopath`` package as committed at ``rev`` into a new
    temporary folder; returns (folder to put on PYTHONPATH, full commit hash).
    The caller removes the folder."""
    commit = git_commit(rev, repo)
    if commit is None:
        raise SystemExit(f"--at {rev}: not a commit of {repo}")
    dest = Path(tempfile.mkdtemp(prefix="jumbopath-bench-"))
    archive = dest / "src.tar"
    r = subprocess.run(
        ["git", "-C", str(repo), "archive", "-o", str(archive), commit, "jumbopath"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if r.returncode != 0:
        shutil.rmtree(dest, ignore_errors=True)
        raise SystemExit(f"git archive {commit}: {r.stderr.strip()}")
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4
            tar.extractall(dest, filter="data")
        else:  # our own git archive
            tar.extractall(dest)
    archive.unlink()
    return dest, commit


@dataclass(frozen=True, slots=True)
class Timed:
    """One finished (or killed) program run."""

    argv: tuple[str, ...]
    """What ran, inside the namespace."""
    rc: int | None
    """Exit status; None when killed at the time cap."""
    stdout: str
    """Standard output (what arrived before a kill)."""
    stderr: str
    """Standard error (what arrived before a kill)."""
    wall_s: float
    """Seconds from start to exit (or to the cap)."""
    timed_out: bool
    """Whether the time cap killed it."""
    cpu_s: float
    """CPU seconds (user + system) the run used, its children included."""
    load1: float
    """The machine's 1-minute load average when the run started."""
    idle: float | None
    """Share of the machine's CPU time that was idle just before the run
    (None if not sampled)."""


def run_timed(
    lab: Lab,
    node: str,
    argv: Sequence[str],
    timeout_s: float,
    env: Mapping[str, str] | None = None,
    settle_s: float = 0.0,
) -> Timed:
    """Run ``argv`` inside ``node``'s namespace, capped at ``timeout_s`` seconds.

    The wall time covers the whole process, including ``ip netns exec`` (a few
    milliseconds, the same for every tool). At the cap the whole process group
    of the run is killed and the output so far is kept. CPU time comes from
    this process's reaped children, so runs must not overlap. With
    ``settle_s`` > 0 it first waits (at most that long) for a quiet machine,
    see :func:`settle`.
    """
    idle = settle(settle_s) if settle_s > 0 else None
    load1 = os.getloadavg()[0]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = lab.popen(
        node,
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,  # its own process group: a kill reaches its children too
        env=dict(env) if env is not None else None,
    )
    try:
        out, err = p.communicate(timeout=timeout_s)
        wall = time.perf_counter() - t0
        return Timed(tuple(argv), p.returncode, out, err, wall, False, _cpu_since(ru0), load1, idle)
    except subprocess.TimeoutExpired:
        wall = time.perf_counter() - t0
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGKILL)
        try:
            out, err = p.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            out, err = "", ""
        return Timed(
            tuple(argv), None, out or "", err or "", wall, True, _cpu_since(ru0), load1, idle
        )


def check_record(t: Timed, run: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One timed ``check --json`` run as a record (time, CPU, load, exit) and its
    results; a run that printed no JSON has no results and says so in its notes."""
    rec: dict[str, Any] = {
        "run": run,
        "wall_s": t.wall_s,
        "cpu_s": t.cpu_s,
        "load1": t.load1,
        "idle": t.idle,
        "rc": t.rc,
        "timed_out": t.timed_out,
        "notes": [],
    }
    try:
        results = json.loads(t.stdout)["results"]
    except (ValueError, KeyError, TypeError):
        results = []
        rec["notes"].append(f"no JSON (exit {t.rc}): {t.stderr[-300:]}")
    return rec, results if isinstance(results, list) else []


def _cpu_times() -> tuple[int, int]:
    """(idle, total) jiffies of all CPUs from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return idle, sum(fields[:8])  # guest time is already inside user/nice


def cpu_idle(sample_s: float = 0.25) -> float:
    """Share of CPU time (0..1) the whole machine spent idle over ``sample_s``."""
    i0, t0 = _cpu_times()
    time.sleep(sample_s)
    i1, t1 = _cpu_times()
    return (i1 - i0) / (t1 - t0) if t1 > t0 else 1.0


def settle(max_wait_s: float, min_idle: float = 0.5) -> float:
    """Wait, at most ``max_wait_s`` seconds, until the machine's CPUs are at
    least ``min_idle`` idle over a short sample; return the last idle share.

    Timings on a machine that other work keeps busy measure the other work.
    This does not make a busy machine quiet; it only avoids starting a timed
    run in the middle of a burst. The idle share is recorded with every run.
    """
    deadline = time.monotonic() + max_wait_s
    idle = cpu_idle()
    while idle < min_idle and time.monotonic() < deadline:
        idle = cpu_idle()
    return idle


def _cpu_since(ru0: resource.struct_rusage) -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (ru.ru_utime - ru0.ru_utime) + (ru.ru_stime - ru0.ru_stime)


# ---------------------------------------------------------------------------
# The administrator's by-hand method, as a script would do it

BISECT_SH = r"""
# DF bisection with the system ping, one probe at a time, as an admin's script does.
# $1 address, $2 IP+ICMP header bytes (28 IPv4, 48 IPv6), $3 low MTU, $4 high MTU.
addr=$1; hdr=$2; lo=$3; hi=$4; n=0
try() {
    n=$((n + 1))
    ping -M do -s $(($1 - hdr)) -c 1 -W 1 -q "$addr" >/dev/null 2>&1
}
if try "$hi"; then echo "mtu $hi pings $n"; exit 0; fi
if ! try "$lo"; then echo "mtu none pings $n"; exit 1; fi
steps=0
while [ $((hi - lo)) -gt 1 ] && [ $steps -lt 32 ]; do
    steps=$((steps + 1))
    mid=$(((lo + hi) / 2))
    if try "$mid"; then lo=$mid; else hi=$mid; fi
done
echo "mtu $lo pings $n"
"""
"""POSIX sh: prints ``mtu N pings K`` (``mtu none`` when even the low end fails)."""


def bisect_argv(addr: str, family: int, low: int | None = None, high: int = 9000) -> list[str]:
    """argv for :data:`BISECT_SH` toward ``addr`` between ``low`` and ``high`` (MTUs)."""
    hdr = 28 if family == 4 else 48
    lo = low if low is not None else (68 if family == 4 else 1280)
    return ["sh", "-c", BISECT_SH, "bisect", addr, str(hdr), str(lo), str(high)]


_BISECT_RE = re.compile(r"mtu (\d+|none) pings (\d+)")


def parse_bisect(text: str) -> tuple[int | None, int | None]:
    """(MTU, pings sent) from :data:`BISECT_SH` output."""
    m = _BISECT_RE.search(text)
    if not m:
        return None, None
    return (None if m.group(1) == "none" else int(m.group(1))), int(m.group(2))


# ---------------------------------------------------------------------------
# Parsers for the system tools

_TRACEPATH_RESUME = re.compile(r"Resume: pmtu (\d+)")
_TRACEPATH_PMTU = re.compile(r"pmtu (\d+)")


def parse_tracepath(text: str) -> int | None:
    """Path MTU from iputils ``tracepath``: its closing ``Resume: pmtu N``,
    else the last ``pmtu N`` it printed (a run cut short at the cap)."""
    m = _TRACEPATH_RESUME.search(text)
    if m:
        return int(m.group(1))
    found = _TRACEPATH_PMTU.findall(text)
    return int(found[-1]) if found else None


# " 2  198.18.2.2  0.113 ms [mtu: 1500]"; "[*mtu: N]" when the size that got
# through (N) differs from the MTU learned from PTBs (no PTB was seen).
_SCAMPER_HOP = re.compile(r"^\s*\d+\s+(\S+)\s.*\[\*?mtu: (\d+)")


def parse_scamper(text: str, target: str) -> int | None:
    """Path MTU from ``scamper -c "trace -M"`` text output: the MTU annotation on
    the destination's hop line (else on the last annotated hop)."""
    last: int | None = None
    for line in text.splitlines():
        m = _SCAMPER_HOP.match(line)
        if not m:
            continue
        last = int(m.group(2))
        if m.group(1) == target:
            return last
    return last


# ---------------------------------------------------------------------------
# Numbers and tables


def median(xs: Sequence[float | int | None]) -> float | None:
    """Median of the values that are not None (None if there are none)."""
    vals = [x for x in xs if x is not None]
    return statistics.median(vals) if vals else None


def fmt_s(x: float | None, digits: int = 2) -> str:
    """Seconds for a table cell."""
    return "-" if x is None else f"{x:.{digits}f}s"


def fmt_counts(values: Sequence[Any]) -> str:
    """``1500x4 9000x1`` (most common first); ``-`` for None."""
    counts: dict[str, int] = {}
    for v in values:
        key = "-" if v is None else str(v)
        counts[key] = counts.get(key, 0) + 1
    return " ".join(f"{k}x{n}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], right: Iterable[int] = ()) -> str:
    """A plain aligned text table; columns in ``right`` are right-aligned."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    rset = set(right)

    def line(r: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in rset else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), sep, *(line(r) for r in cells[1:])])


def package_version(pkg: str) -> str | None:
    """Installed Debian version of ``pkg`` (None if unknown)."""
    try:
        r = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Version}", pkg],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if r.returncode != 0:
        return None
    return r.stdout.strip() or None


def environment() -> dict[str, Any]:
    """Facts about the machine and tools, stored with the raw numbers."""
    try:
        from importlib.metadata import version

        jp_version: str | None = version("jumbopath")
    except Exception:  # not installed as a distribution
        jp_version = None
    return {
        "kernel": platform.release(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "jumbopath": jp_version,
        "jumbopath_argv": jumbopath_argv(),
        "packages": {p: package_version(p) for p in DEBIAN_PACKAGES},
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
