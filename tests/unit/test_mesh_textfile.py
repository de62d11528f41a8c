"""mesh and report --textfile: Prometheus metrics for node_exporter, written atomically."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from jumbopath.errors import UsageError
from jumbopath.status import ExitCode
from tests.unit.test_mesh_io import invoke, source_files


def test_report_writes_the_textfile_beside_its_usual_output(tmp_path: Path) -> None:
    prom = tmp_path / "jumbopath.prom"
    res = invoke(["report", "--textfile", str(prom), *source_files(tmp_path / "f")])
    assert res.exit_code == ExitCode.OK, res.output
    assert "storage" in res.output  # the text matrix is still printed
    families = {f.name: f for f in text_string_to_metric_families(prom.read_text())}
    assert families, prom.read_text()
    samples = [s for f in families.values() for s in f.samples]
    assert any(s.labels.get("network") == "storage" for s in samples)


def test_textfile_must_end_in_prom(tmp_path: Path) -> None:
    res = invoke(["report", "--textfile", str(tmp_path / "x.txt"), *source_files(tmp_path / "f")])
    assert isinstance(res.exception, UsageError) and ".prom" in str(res.exception)
