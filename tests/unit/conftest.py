"""Unit tests: no root, no namespaces. The slowest files (random documents through
the inventory readers, ansible-inventory runs, a headless browser) are marked
``slow`` so that ``pytest tests/unit -m "not slow"`` is a quick first pass."""

from __future__ import annotations

from pathlib import Path

import pytest

#: Files whose tests take most of the unit suite's time (pytest --durations).
SLOW = frozenset(
    {
        "test_inventory_properties.py",
        "test_inventory_ansible.py",
        "test_inventory_ansible_properties.py",
        "test_html_browser.py",
        "test_inventory_switches.py",
    }
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.path)).name in SLOW:
            item.add_marker(pytest.mark.slow)
