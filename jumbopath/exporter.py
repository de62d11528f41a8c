"""``jumbopath exporter``: a Prometheus exporter that checks on a schedule and
serves the latest results from cache.

A scrape never probes: one background loop runs every configured check each
``interval`` (rounds never overlap; at most ``concurrency`` checks at once,
each a :func:`jumbopath.pipeline.check`), and /metrics serves the metrics
the last round left behind (prometheus_client's HTTP server). A burst of
scrapes costs no packets.

The configuration file (YAML)::

    interval: 60          # seconds from one round's start to the next (>= 5)
    concurrency: 4        # checks running at once (1..16)
    max_time: 5           # bound on each check's search, seconds (0.1..120)
    checks:               # one or more; each is one ``jumbopath check`` run
      - name: storage     # the ``check`` label of its metrics (unique)
        expect: 9000      # --expect; omitted: each path's interface MTU
        family: 4         # 4, 6, or omitted for both
        targets: [storage-a, storage-b, 198.18.2.1]

Metrics: those of ``check --format prometheus`` (see
:mod:`jumbopath.render.prometheus`) with a ``check`` label in front, plus::

    jumbopath_check_up{check}                  1 when the check could measure, else 0
    jumbopath_check_timestamp_seconds{check}   when its last run finished
    jumbopath_exporter_round_duration_seconds  how long the last round took
    jumbopath_exporter_rounds_total            rounds finished since start
    jumbopath_exporter_late_rounds_total       rounds that overran the interval
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from jumbopath.environment import Environment, SystemEnvironment
from jumbopath.errors import JumbopathError, UsageError
from jumbopath.model import Report
from jumbopath.pipeline import CheckConfig, check
from jumbopath.render.prometheus import path_metrics, safe_metrics
from jumbopath.safe import safe_text
from jumbopath.watch import Schedule

#: Bounds on the configuration file.
MAX_CONFIG_BYTES = 1 << 20
MAX_CHECKS = 64
MAX_TARGETS = 256
MIN_INTERVAL_S = 5.0


@dataclass(frozen=True, slots=True)
class ExporterCheck:
    """One named check of the configuration."""

    name: str
    """The ``check`` label of its metrics."""
    config: CheckConfig
    """What it checks."""


@dataclass(frozen=True, slots=True)
class ExporterConfig:
    """The whole configuration file."""

    checks: tuple[ExporterCheck, ...]
    """The checks each round runs."""
    interval_s: float = 60.0
    """Seconds from one round's start to the next."""
    concurrency: int = 4
    """Checks running at once."""


def _keys(keys: set[Any]) -> str:
    return ", ".join(sorted(safe_text(k, 40) for k in keys))


def _number(doc: Mapping[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = doc.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise UsageError(f"{key}: {value!r} is not a number from {low:g} to {high:g}")
    return float(value)


def _check(doc: Any, index: int, max_time: float) -> ExporterCheck:
    where = f"checks[{index}]"
    if not isinstance(doc, Mapping):
        raise UsageError(f"{where}: expected a mapping with name and targets")
    unknown = set(doc) - {"name", "targets", "expect", "family"}
    if unknown:
        raise UsageError(f"{where}: unknown key(s) {_keys(unknown)}")
    name = doc.get("name")
    if not isinstance(name, str) or not 0 < len(name) <= 64:
        raise UsageError(f"{where}: name must be a string of 1 to 64 characters")
    targets = doc.get("targets")
    if (
        not isinstance(targets, list)
        or not 0 < len(targets) <= MAX_TARGETS
        or not all(isinstance(t, str) and 0 < len(t) <= 255 for t in targets)
    ):
        raise UsageError(f"{where} ({name}): targets must be a list of 1 to {MAX_TARGETS} names")
    expect = doc.get("expect")
    if expect is not None and (isinstance(expect, bool) or not isinstance(expect, int)):
        raise UsageError(f"{where} ({name}): expect must be an MTU such as 9000")
    family = doc.get("family")
    if family not in (None, 4, 6):
        raise UsageError(f"{where} ({name}): family must be 4 or 6 (or omitted for both)")
    return ExporterCheck(name, CheckConfig(tuple(targets), expect, family, max_time))


def parse_config(doc: Any) -> ExporterConfig:
    """A configuration document (already parsed YAML) to a config; UsageError says what is wrong."""
    if not isinstance(doc, Mapping):
        raise UsageError("the configuration must be a mapping with a 'checks' list")
    unknown = set(doc) - {"interval", "concurrency", "max_time", "checks"}
    if unknown:
        raise UsageError(f"unknown key(s) {_keys(unknown)}")
    interval = _number(doc, "interval", 60.0, MIN_INTERVAL_S, 86400.0)
    concurrency = int(_number(doc, "concurrency", 4, 1, 16))
    max_time = _number(doc, "max_time", 5.0, 0.1, 120.0)
    items = doc.get("checks")
    if not isinstance(items, list) or not 0 < len(items) <= MAX_CHECKS:
        raise UsageError(f"checks must be a list of 1 to {MAX_CHECKS} checks")
    checks = tuple(_check(item, i, max_time) for i, item in enumerate(items))
    names = [c.name for c in checks]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise UsageError(f"two checks are named {dup!r}: names label the metrics, make them unique")
    return ExporterConfig(checks, interval, concurrency)


def load_config(path: Path) -> ExporterConfig:
    """Read and validate a configuration file."""
    from jumbopath.mesh.inventory.yamlload import load_yaml_text
    from jumbopath.outside import read_text

    text = read_text(path, "exporter configuration", MAX_CONFIG_BYTES)
    doc = load_yaml_text(text, str(path))  # bounded: depth, nodes, aliases
    try:
        return parse_config(doc)
    except UsageError as exc:
        raise UsageError(f"{path}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Outcome:
    """The last run of one check."""

    name: str
    """The check's name."""
    report: Report | None
    """Its report; None when it could not measure at all."""
    error: str | None
    """Why it could not measure."""
    finished_at: float
    """When it finished (Unix time)."""


class Exporter(Collector):
    """Runs rounds of checks and serves their latest metrics (a prometheus_client collector)."""

    def __init__(
        self,
        config: ExporterConfig,
        env: Callable[[], Environment] = SystemEnvironment,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.env = env
        self.wall = wall
        self.rounds = 0
        self.late = 0
        self.round_s = 0.0
        self._metrics: list[Metric] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(config.concurrency, thread_name_prefix="jumbopath-check")

    # -- checking -------------------------------------------------------------

    def _run(self, item: ExporterCheck) -> Outcome:
        try:
            report = check(item.config, self.env())
        except JumbopathError as exc:
            return Outcome(item.name, None, str(exc), self.wall())
        return Outcome(item.name, report, None, self.wall())

    def run_round(self) -> list[Outcome]:
        """Run every check (at most ``concurrency`` at once) and cache their metrics."""
        started = time.monotonic()
        outcomes = list(self._pool.map(self._run, self.config.checks))
        self.round_s = time.monotonic() - started
        self.rounds += 1
        metrics = self._build(outcomes)
        with self._lock:
            self._metrics = metrics
        return outcomes

    def _build(self, outcomes: list[Outcome]) -> list[Metric]:
        up = GaugeMetricFamily(
            "jumbopath_check_up", "1 when the check could measure, else 0.", labels=["check"]
        )
        metrics: list[Metric] = [up]
        stamps = GaugeMetricFamily(
            "jumbopath_check_timestamp",
            "When the check's last run finished.",
            labels=["check"],
            unit="seconds",
        )
        per_path: list[list[Metric]] = []
        for o in outcomes:
            up.add_metric([o.name], 1 if o.report is not None else 0)
            stamps.add_metric([o.name], o.finished_at)
            if o.report is not None:
                per_path.append(path_metrics(o.report.results, {"check": o.name}))
        # One family per metric name, samples of every check together.
        for group in zip(*per_path, strict=True):
            first = group[0]
            for other in group[1:]:
                first.samples.extend(other.samples)
            metrics.append(first)
        metrics.append(stamps)
        return metrics

    def collect(self) -> Iterator[Metric]:
        """What a scrape gets: the cached metrics of the last round (never a probe)."""
        with self._lock:
            metrics = list(self._metrics)
        yield from safe_metrics(metrics)
        duration = GaugeMetricFamily(
            "jumbopath_exporter_round_duration",
            "How long the last round of checks took.",
            unit="seconds",
        )
        duration.add_metric([], self.round_s)
        yield duration
        yield CounterMetricFamily(
            "jumbopath_exporter_rounds", "Rounds of checks finished.", value=self.rounds
        )
        yield CounterMetricFamily(
            "jumbopath_exporter_late_rounds",
            "Rounds that overran the interval (the next started late, never on top).",
            value=self.late,
        )

    # -- the schedule -----------------------------------------------------------

    def loop(self, rounds: int | None = None) -> None:
        """Run rounds every interval until :meth:`stop` (or ``rounds`` rounds)."""
        schedule = Schedule(self.config.interval_s)
        done = 0
        while not self._stop.is_set():
            started = time.monotonic()
            self.run_round()
            tick = schedule.after(started, time.monotonic())
            if tick.late_s > 0:
                self.late += 1
            done += 1
            if rounds is not None and done >= rounds:
                break
            self._stop.wait(max(0.0, tick.next_start - time.monotonic()))

    def stop(self) -> None:
        """Ask the loop to end after the round in progress."""
        self._stop.set()

    def close(self) -> None:
        """Stop and release the worker threads."""
        self.stop()
        self._pool.shutdown(wait=True)


def registry_for(exporter: Exporter) -> CollectorRegistry:
    """A registry serving just this exporter."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(exporter)
    return registry


def parse_listen(listen: str) -> tuple[str, int]:
    """``ADDR:PORT`` or ``[V6ADDR]:PORT`` to (address, port)."""
    import ipaddress

    from jumbopath.numbers import parse_int

    host, sep, port = listen.rpartition(":")
    bracketed = host.startswith("[") and host.endswith("]") and len(host) > 2
    if bracketed:
        host = host[1:-1]
    try:
        number = parse_int(port, 0, 65535)
        address = ipaddress.ip_address(host)
    except ValueError:  # NumberError is one
        number, address = -1, None
    # An IPv6 address goes in brackets and only there; an IPv4 one never does.
    shape_ok = address is not None and (address.version == 6) == bracketed
    if not sep or number < 0 or not shape_ok:
        raise UsageError(
            f"--listen {listen!r}: give ADDRESS:PORT, e.g. 127.0.0.1:9799 or [::1]:9799"
        )
    return host, number
