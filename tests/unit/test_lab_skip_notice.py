"""A pytest run that is not root says, in one line at its end, that the lab tests were
skipped and why (tests/lab/conftest.py), so a green run without them is not mistaken
for a full one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]
NOTICE = re.compile(r"^LAB TESTS NOT RUN: (\d+) tests under tests/lab were skipped", re.M)


def pytest_run(*args: str, as_nobody: bool) -> str:
    """pytest's output for ``args``, run by nobody when this test runs as root."""
    with tempfile.TemporaryDirectory(prefix="jp-skip-notice-") as folder:
        Path(folder).chmod(0o777)  # nobody's working folder (pytest's tmp_path is root's)
        return _run(Path(folder), args, as_nobody)


def _run(tmp_path: Path, args: tuple[str, ...], as_nobody: bool) -> str:
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    argv += ["--rootdir", str(REPO), "-c", str(REPO / "pyproject.toml"), *args]
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "HYPOTHESIS_STORAGE_DIRECTORY": str(tmp_path / "hypothesis"),
    }
    prefix = NOBODY if as_nobody and os.geteuid() == 0 else []
    done = subprocess.run(
        [*prefix, *argv], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env
    )
    return done.stdout + done.stderr


def test_a_run_without_root_says_the_lab_tests_were_skipped() -> None:
    out = pytest_run(str(REPO / "tests/lab/test_lab_clean.py"), as_nobody=True)
    found = NOTICE.findall(out)
    assert found == ["2"], out  # the file's two tests, named once, in one line


def test_a_run_that_skips_nothing_says_nothing() -> None:
    out = pytest_run(str(REPO / "tests/unit/test_safe.py"), as_nobody=True)
    assert "passed" in out and NOTICE.search(out) is None, out
