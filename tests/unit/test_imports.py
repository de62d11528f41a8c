"""Import hygiene: no command imports what it does not use.

Each case runs in a fresh interpreter (``sys.modules`` of this test process
says nothing about what one command pulls in) and lists every module that
was loaded when the command finished. scapy costs about 0.2-0.5 s to import,
so only the real prober may bring it in; the mesh package and any Prometheus
module belong to the commands that use them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import jumbopath

ROOT = Path(jumbopath.__file__).resolve().parent.parent
"""The checkout under test: put first on the children's path."""

# Runs the real entry point with argv[2:] and, however it exits, writes the
# names of every loaded module to the file argv[1].
COMMAND = """
import json, sys
from jumbopath.cli import main
try:
    main(sys.argv[2:])
finally:
    with open(sys.argv[1], "w") as f:
        json.dump(sorted(sys.modules), f)
"""

# A whole check on a simulated clean path, then the real prober: the modules
# loaded after each step.
PIPELINE = """
import json, sys
from jumbopath.environment import SimulatedEnvironment, SystemEnvironment
from jumbopath.errors import NoPrivilege
from jumbopath.pipeline import CheckConfig, check
from jumbopath.probers.simulated import SimPath, SimRouter, SimSegment

path = SimPath((SimSegment(), SimSegment()), (SimRouter("198.18.1.1"),))
env = SimulatedEnvironment({"198.18.9.9": path})
report = check(CheckConfig(("198.18.9.9",), expect=9000), env)
simulated = sorted(sys.modules)
try:
    SystemEnvironment().prober().close()
except NoPrivilege:  # not root: the prober's module is loaded all the same
    pass
print(json.dumps({
    "status": report.results[0].status.value,
    "path_mtu": report.results[0].path_mtu,
    "simulated": simulated,
    "real": sorted(sys.modules),
}))
"""


def _env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else "")}


def run_command(args: list[str], tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], set]:
    """Run ``jumbopath ARGS`` in a new interpreter: (the finished run, modules loaded)."""
    listing = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", COMMAND, str(listing), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=_env(),
    )
    assert listing.is_file(), done.stderr
    return done, set(json.loads(listing.read_text()))


def loaded(modules: set, package: str) -> list[str]:
    """``package`` and its submodules among ``modules``."""
    return sorted(m for m in modules if m == package or m.startswith(package + "."))


def prometheus(modules: set) -> list[str]:
    """Any module about Prometheus (the client library or an exporter of ours)."""
    return sorted(m for m in modules if "prometheus" in m.lower())


def test_children_import_this_checkout(tmp_path: Path) -> None:
    listing = tmp_path / "file.json"
    code = f"import jumbopath, json; json.dump(jumbopath.__file__, open({str(listing)!r}, 'w'))"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, cwd=ROOT, env=_env())
    assert Path(json.loads(listing.read_text())).resolve() == Path(jumbopath.__file__).resolve()


@pytest.mark.parametrize(
    ("args", "shows"),
    [
        (["--help"], "Usage"),
        (["sizes", "9000"], "9000"),
        (["nics", "--help"], "Usage"),
        (["check", "--help"], "Usage"),
    ],
)
def test_local_commands_load_no_scapy_mesh_or_prometheus(
    args: list[str], shows: str, tmp_path: Path
) -> None:
    done, modules = run_command(args, tmp_path)
    assert done.returncode == 0, done.stderr
    assert shows in done.stdout
    assert "jumbopath.cli" in modules  # the listing is the command's own
    assert loaded(modules, "scapy") == []
    assert prometheus(modules) == []
    assert loaded(modules, "jumbopath.mesh") == []


def test_mesh_help_loads_no_scapy(tmp_path: Path) -> None:
    done, modules = run_command(["mesh", "--help"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Usage" in done.stdout
    assert "jumbopath.cli.mesh" in modules
    assert loaded(modules, "scapy") == []


def test_check_pipeline_loads_scapy_only_for_the_real_prober() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PIPELINE],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=_env(),
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert (seen["status"], seen["path_mtu"]) == ("ok", 9000)
    simulated, real = set(seen["simulated"]), set(seen["real"])
    assert "jumbopath.pipeline" in simulated
    assert loaded(simulated, "scapy") == []
    assert loaded(simulated, "jumbopath.probers.raw") == []
    assert "jumbopath.probers.raw" in real
    assert loaded(real, "scapy") != []
    # Neither the simulated nor the real check needs the mesh package or Prometheus.
    assert loaded(real, "jumbopath.mesh") == []
    assert prometheus(real) == []


def test_package_import_is_light_and_the_api_still_works() -> None:
    code = (
        "import json, sys, jumbopath\n"
        "light = sorted(sys.modules)\n"
        "from jumbopath import CheckConfig, check, Report, ExitCode\n"
        "names = {n: getattr(jumbopath, n).__name__ for n in jumbopath.__all__}\n"
        "print(json.dumps({'light': light, 'names': names, 'dir': dir(jumbopath),\n"
        "                  'check': check.__module__, 'config': CheckConfig.__module__}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=_env()
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert loaded(set(seen["light"]), "jumbopath.pipeline") == []
    assert (seen["check"], seen["config"]) == ("jumbopath.pipeline", "jumbopath.pathstate")
    assert set(seen["names"]) == set(jumbopath.__all__)
    assert seen["names"]["check"] == "check"
    assert set(jumbopath.__all__) <= set(seen["dir"])


def test_unknown_package_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = jumbopath.no_such_name  # type: ignore[attr-defined]
