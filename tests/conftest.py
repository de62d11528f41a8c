"""Settings for every test.

Several tests signal a child (``jumbopath``, a lab) with SIGINT or SIGHUP as a
user's terminal would. A shell starts background jobs with SIGINT ignored, and
``nohup`` ignores SIGHUP; an ignored signal stays ignored across ``exec``, so
those children would never see it. The test run puts both back to their
defaults, so what the tests send is what the children get.
"""

from __future__ import annotations

import signal

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if signal.getsignal(signal.SIGHUP) is signal.SIG_IGN:
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
