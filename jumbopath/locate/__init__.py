"""Hop localization: where on a path big packets die. Pure, like the MTU search.

- :mod:`~jumbopath.locate.pacer`: routers' ICMP budgets, shared by the localizers of a run;
- :mod:`~jumbopath.locate.config`: what a localization knows and what it found;
- :mod:`~jumbopath.locate.locator`: the sweep and the confirmation (the planner);
- :mod:`~jumbopath.locate.verdict`: from the hop map to a break with its cause.
"""

from jumbopath.locate.config import LocateConfig, LocateResult
from jumbopath.locate.locator import Locator
from jumbopath.locate.pacer import HopPacer

__all__ = ["HopPacer", "LocateConfig", "LocateResult", "Locator"]
