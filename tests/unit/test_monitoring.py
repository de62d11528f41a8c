"""Monitoring formats: Prometheus text read back by prometheus_client's own parsers,
the node_exporter textfile, the monitoring-plugin (nagios) states pinned."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_om
from prometheus_client.parser import text_string_to_metric_families as parse_text
from test_mesh_helpers import mesh_of

from jumbopath.environment import SimulatedEnvironment
from jumbopath.errors import UsageError
from jumbopath.mesh.document import to_document
from jumbopath.model import Report
from jumbopath.pipeline import CheckConfig, check
from jumbopath.probers.simulated import SimPath, SimRouter, SimSegment
from jumbopath.render.nagios import PluginState, nagios, path_state, unknown
from jumbopath.render.prometheus import (
    mesh_metrics,
    render_openmetrics,
    report_metrics,
    timestamp_metric,
    write_textfile,
)

GOOD, BAD, DEAD = "198.18.9.9", "198.18.9.10", "198.18.9.11"


def seg(egress: int = 9000, l2: int = 9000) -> SimSegment:
    return SimSegment(egress_mtu=egress, l2_mtu=l2)


def sim(*segments: SimSegment, **kw: object) -> SimPath:
    return SimPath(segments, (SimRouter("198.18.1.1"),), **kw)  # type: ignore[arg-type]


def report(*which: str) -> Report:
    paths = {
        GOOD: sim(seg(), seg()),
        BAD: sim(seg(), seg(l2=1500)),
        DEAD: sim(seg(), seg(), answers_echo=False, answers_tcp=False, answers_udp=False),
    }
    chosen = {a: paths[a] for a in which}
    return check(CheckConfig(tuple(chosen), expect=9000), SimulatedEnvironment(chosen))


def samples(text: str, parse=parse_om) -> dict[str, list]:
    out: dict[str, list] = {}
    for family in parse(text):
        for s in family.samples:
            out.setdefault(s.name, []).append(s)
    return out


# --------------------------------------------------------------------------
# Prometheus


def test_openmetrics_parses_and_says_what_the_report_says() -> None:
    text = render_openmetrics(report_metrics(report(GOOD, BAD, DEAD), measured_at=1.7e9))
    assert text.endswith("# EOF\n")
    got = samples(text)
    mtu = {s.labels["target"]: s.value for s in got["jumbopath_path_mtu_bytes"]}
    assert mtu == {GOOD: 9000, BAD: 1500}  # no MTU for the unreachable one
    ok = {
        s.labels["target"]: (s.value, s.labels["status"], s.labels["cause"])
        for s in got["jumbopath_path_ok"]
    }
    assert ok == {
        GOOD: (1, "ok", "carries-expected"),
        BAD: (0, "below", "silent-drop"),
        DEAD: (0, "unreachable", "no-answer"),
    }
    assert {s.value for s in got["jumbopath_expected_mtu_bytes"]} == {9000}
    assert all(s.value > 0 for s in got["jumbopath_path_probes"])
    assert {s.labels["family"] for s in got["jumbopath_path_loss_ratio"]} == {"4"}
    assert len(got["jumbopath_path_duration_seconds"]) == 3
    assert got["jumbopath_check_timestamp_seconds"][0].value == 1.7e9


def test_hostile_names_stay_inside_their_label() -> None:
    from jumbopath.render.prometheus import path_metrics

    r = report(GOOD).results[0]
    from dataclasses import replace

    evil = replace(r, target='x"} 1\njumbopath_path_ok{target="y')
    got = samples(render_openmetrics(path_metrics([evil])))
    # The newline is shown escaped (a control character), the quote stays inside.
    assert [s.labels["target"] for s in got["jumbopath_path_ok"]] == [
        'x"} 1\\x0ajumbopath_path_ok{target="y'
    ]


def test_textfile_is_written_atomically_in_the_classic_format(tmp_path: Path) -> None:
    path = tmp_path / "jumbopath.prom"
    path.write_text("old")
    write_textfile(report_metrics(report(BAD), 1.0), str(path))
    text = path.read_text()
    assert "# EOF" not in text  # node_exporter reads the Prometheus text format
    got = samples(text, parse_text)
    assert got["jumbopath_path_mtu_bytes"][0].value == 1500
    assert os.listdir(tmp_path) == ["jumbopath.prom"]  # no temporary file left


@pytest.mark.parametrize("name", ["metrics.txt", "no/such/dir/x.prom"])
def test_textfile_bad_paths_are_usage_errors(tmp_path: Path, name: str) -> None:
    with pytest.raises(UsageError):
        write_textfile([timestamp_metric(1.0)], str(tmp_path / name))


def test_mesh_metrics_parse() -> None:
    m = mesh_of(["h1", "h2", "h3"], cells={("h1", "h3"): ("below", 1500)})
    got = samples(render_openmetrics([*mesh_metrics(to_document(m)), timestamp_metric(1.0)]))
    bad = [s for s in got["jumbopath_mesh_path_ok"] if s.value == 0]
    assert [(s.labels["source"], s.labels["destination"], s.labels["status"]) for s in bad] == [
        ("h1", "h3", "below")
    ]
    assert len(got["jumbopath_mesh_path_ok"]) == 6
    assert {s.value for s in got["jumbopath_mesh_host_measured"]} == {1}


def test_only_the_metrics_commands_import_prometheus_client() -> None:
    code = (
        "import sys; from jumbopath.cli import _register; _register(); "
        "import jumbopath.render.nagios, jumbopath.render.html, jumbopath.render.markdown; "
        "print('prometheus_client' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


# --------------------------------------------------------------------------
# nagios: the monitoring-plugin states


def test_plugin_states_are_pinned() -> None:
    assert [(s.name, int(s)) for s in PluginState] == [
        ("OK", 0),
        ("WARNING", 1),
        ("CRITICAL", 2),
        ("UNKNOWN", 3),
    ]


@pytest.mark.parametrize(
    ("targets", "warn", "crit", "state"),
    [
        ((GOOD,), None, None, PluginState.OK),
        ((GOOD, BAD), None, None, PluginState.CRITICAL),  # below expected: critical
        ((GOOD, BAD), 9000, 1500, PluginState.WARNING),  # 1500 < 9000 but not < 1500
        ((GOOD, BAD), 9000, 4000, PluginState.CRITICAL),
        ((GOOD, BAD), None, 1500, PluginState.OK),
        ((GOOD, DEAD), 9000, 1500, PluginState.CRITICAL),  # unreachable is critical
    ],
)
def test_plugin_state(targets, warn, crit, state) -> None:
    out = nagios(report(*targets), warn, crit)
    assert out.state is state
    first = out.text.splitlines()[0]
    assert first.startswith(f"JUMBOPATH {state.name} - ")
    assert len(out.text.splitlines()) == 1 + sum(
        path_state(r, warn, crit) is not PluginState.OK for r in report(*targets).results
    )


def test_perfdata_follows_the_plugin_guidelines() -> None:
    (line,) = nagios(report(GOOD)).text.splitlines()
    assert line.endswith("| pmtu=9000B;;9000:;0 loss=0%;;;0;100")
    first = nagios(report(GOOD, BAD), 9000, 1500).text.splitlines()[0]
    perf = first.split(" | ", 1)[1].split()
    assert f"pmtu_{BAD}=1500B;9000:;1500:;0" in perf
    assert f"pmtu_{GOOD}=9000B;9000:;1500:;0" in perf
    dead = nagios(report(DEAD)).text.splitlines()[0]
    assert dead.split(" | ")[1] == "pmtu=U;;9000:;0"


def test_not_measured_is_unknown() -> None:
    assert unknown("raw sockets need root").text == "JUMBOPATH UNKNOWN - raw sockets need root"
    assert unknown("x").state is PluginState.UNKNOWN


def test_nagios_from_the_command_exits_3_not_2_on_bad_input() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "jumbopath", "check", "--format", "nagios", "no-such.invalid"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3
    assert done.stdout.startswith("JUMBOPATH UNKNOWN - cannot resolve")
