"""Prometheus metrics of a check (and of a mesh document): OpenMetrics text and
node_exporter textfiles, built with prometheus_client.

Only the commands that print metrics import this module (prometheus_client
is not loaded by any other command). Metric names are stable:

Per path of ``check`` (labels ``target``, ``address``, ``family``)::

    jumbopath_path_mtu_bytes            measured path MTU (absent when not measured)
    jumbopath_expected_mtu_bytes        the MTU the path should carry
    jumbopath_path_ok                   1 when the path carries it, else 0;
                                        extra labels ``status`` and ``cause``
    jumbopath_path_loss_ratio           probes of passing sizes lost, 0..1
    jumbopath_path_probes               probe packets the last check sent
    jumbopath_path_duration_seconds     probing time of the last check

Per pair of ``mesh`` (labels ``network``, ``source``, ``destination``)::

    jumbopath_mesh_path_mtu_bytes, jumbopath_mesh_expected_mtu_bytes,
    jumbopath_mesh_path_ok (extra labels ``status`` and ``break``),
    jumbopath_mesh_host_measured{host}

and ``jumbopath_check_timestamp_seconds``: when the numbers were measured.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_latest
from prometheus_client.registry import Collector, CollectorRegistry

from jumbopath.errors import UsageError
from jumbopath.model import PathResult, Report, Status
from jumbopath.safe import safe_text

PATH_LABELS = ("target", "address", "family")
MESH_LABELS = ("network", "source", "destination")


def _path_labels(r: PathResult) -> list[str]:
    return [r.target, r.address or "", str(r.family)]


def path_metrics(
    results: Iterable[PathResult], extra: Mapping[str, str] | None = None
) -> list[Metric]:
    """Gauges for every path; ``extra`` labels (such as the exporter's ``check``)
    go in front of the path's own."""
    keys = list(extra or {})
    values = list((extra or {}).values())
    labels = [*keys, *PATH_LABELS]
    mtu = GaugeMetricFamily(
        "jumbopath_path_mtu",
        "Largest IP packet that reaches the target and comes back.",
        labels=labels,
        unit="bytes",
    )
    expected = GaugeMetricFamily(
        "jumbopath_expected_mtu", "The MTU the path should carry.", labels=labels, unit="bytes"
    )
    ok = GaugeMetricFamily(
        "jumbopath_path_ok",
        "1 when the path carries the expected MTU, else 0; status and cause say why.",
        labels=[*labels, "status", "cause"],
    )
    loss = GaugeMetricFamily(
        "jumbopath_path_loss",
        "Fraction of probes of passing sizes that got no answer.",
        labels=labels,
        unit="ratio",
    )
    probes = GaugeMetricFamily(
        "jumbopath_path_probes", "Probe packets the last check sent to the target.", labels=labels
    )
    duration = GaugeMetricFamily(
        "jumbopath_path_duration",
        "Probing time of the last check of the target.",
        labels=labels,
        unit="seconds",
    )
    for r in results:
        lv = [*values, *_path_labels(r)]
        if r.path_mtu is not None:
            mtu.add_metric(lv, r.path_mtu)
        if r.expected_mtu is not None:
            expected.add_metric(lv, r.expected_mtu)
        cause = r.cause.value if r.cause is not None else ""
        ok.add_metric([*lv, r.status.value, cause], 1 if r.status is Status.OK else 0)
        loss.add_metric(lv, r.loss)
        probes.add_metric(lv, r.probes_sent)
        duration.add_metric(lv, r.elapsed_s)
    return [mtu, expected, ok, loss, probes, duration]


def timestamp_metric(measured_at: float, extra: Mapping[str, str] | None = None) -> Metric:
    """When the numbers were measured (Unix time)."""
    gauge = GaugeMetricFamily(
        "jumbopath_check_timestamp",
        "When the check that produced these numbers finished.",
        labels=list(extra or {}),
        unit="seconds",
    )
    gauge.add_metric(list((extra or {}).values()), measured_at)
    return gauge


def mesh_metrics(doc: Mapping[str, Any]) -> list[Metric]:
    """Gauges for every pair of a mesh JSON document (:mod:`jumbopath.mesh.document`)."""
    mtu = GaugeMetricFamily(
        "jumbopath_mesh_path_mtu",
        "Path MTU from source to destination.",
        labels=list(MESH_LABELS),
        unit="bytes",
    )
    expected = GaugeMetricFamily(
        "jumbopath_mesh_expected_mtu",
        "The MTU the network should carry.",
        labels=["network"],
        unit="bytes",
    )
    ok = GaugeMetricFamily(
        "jumbopath_mesh_path_ok",
        "1 when the pair carries the network's MTU, else 0; status and break say why.",
        labels=[*MESH_LABELS, "status", "break"],
    )
    measured = GaugeMetricFamily(
        "jumbopath_mesh_host_measured",
        "1 when the host could be reached and measured.",
        labels=["host"],
    )
    for host in doc.get("hosts", []):
        measured.add_metric([str(host.get("name"))], 1 if host.get("measured") else 0)
    for net in doc.get("networks", []):
        name = str(net.get("name"))
        if isinstance(net.get("expected_mtu"), int):
            expected.add_metric([name], net["expected_mtu"])
        for cell in net.get("cells", []):
            lv = [name, str(cell.get("source")), str(cell.get("destination"))]
            if isinstance(cell.get("path_mtu"), int):
                mtu.add_metric(lv, cell["path_mtu"])
            brk = (cell.get("break") or {}).get("kind") or ""
            status = str(cell.get("status"))
            ok.add_metric([*lv, status, str(brk)], 1 if status == "ok" else 0)
    return [mtu, expected, ok, measured]


#: Longest label value exposed, characters.
MAX_LABEL = 200


def safe_metrics(metrics: Iterable[Metric]) -> Iterator[Metric]:
    """The metrics with every label value made safe (:func:`~jumbopath.safe.safe_text`).

    Label values carry names from inventories, DNS and result files; the
    exposition formats escape only backslash, quote and newline, so ESC, BEL,
    C1 controls and bidirectional overrides would reach whoever reads the
    file or the scrape (a terminal, a log viewer). Every exposition path
    (``--format prometheus``, ``--textfile``, the exporter's ``/metrics``)
    passes through here.
    """
    for metric in metrics:
        clean = Metric(metric.name, metric.documentation, metric.type, metric.unit)
        clean.samples = [
            s._replace(labels={k: safe_text(v, MAX_LABEL) for k, v in s.labels.items()})
            for s in metric.samples
        ]
        yield clean


class Fixed(Collector):
    """A collector that yields metrics made beforehand (label values made safe)."""

    def __init__(self, metrics: list[Metric]) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        yield from safe_metrics(self.metrics)


def registry_of(metrics: list[Metric]) -> CollectorRegistry:
    """A registry holding just these metrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Fixed(metrics))
    return registry


def report_metrics(report: Report, measured_at: float) -> list[Metric]:
    """Every metric of one check report."""
    return [*path_metrics(report.results), timestamp_metric(measured_at)]


def render_openmetrics(metrics: list[Metric]) -> str:
    """OpenMetrics text (ends with ``# EOF``)."""
    return openmetrics_latest(registry_of(metrics)).decode()


def write_textfile(metrics: list[Metric], path: str) -> None:
    """Write the metrics for node_exporter's textfile collector, atomically
    (a temporary file in the same folder, then a rename), in the Prometheus
    text format that collector reads."""
    from prometheus_client import write_to_textfile

    if not path.endswith(".prom"):
        raise UsageError(f"--textfile {path}: node_exporter reads only files ending in .prom")
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise UsageError(
            f"--textfile {path}: no folder {folder} (node_exporter's "
            "--collector.textfile.directory)"
        )
    try:
        write_to_textfile(path, registry_of(metrics))
    except OSError as exc:
        raise UsageError(f"--textfile {path}: cannot write: {exc.strerror}") from exc
