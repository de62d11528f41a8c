"""Lab tests build real network namespaces: they need root.

Everything under tests/lab is marked ``lab``. Without root the tests are
skipped with a clear reason (CI runs them as root and fails on any skip).
Namespaces left behind by earlier runs that died hard are removed once per
session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from jumbopath.lab import cleanup_stale

HERE = Path(__file__).resolve().parent
IS_ROOT = os.geteuid() == 0


#: Lab tests skipped in this session because it does not run as root.
_SKIPPED: list[str] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason="lab tests build network namespaces: run pytest as root")
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.lab)
            if not IS_ROOT:
                item.add_marker(skip)
                _SKIPPED.append(item.nodeid)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say loudly, in one line at the end, that the lab tests did not run and why."""
    if _SKIPPED:
        terminalreporter.write_line(
            f"LAB TESTS NOT RUN: {len(_SKIPPED)} tests under tests/lab were skipped because "
            "they build network namespaces and pytest is not root (run them with sudo; "
            "unit tests alone: pytest tests/unit)",
            red=True,
            bold=True,
        )


@pytest.fixture(scope="session", autouse=True)
def _no_stale_labs() -> Iterator[None]:
    if IS_ROOT:
        cleanup_stale()
    yield
