"""When silence proves a drop: the one statistical rule, used by every planner.

A probe that gets no answer may have been dropped because it was too big,
or lost like any packet. jumbopath never reads silence as a small MTU by
itself: a size (or a hop, or a direction) counts as failing only when
enough probes of it went unanswered that, at the loss rate measured on
probes known to pass, the chance they were *all* lost by accident is below
an error budget. With loss rate ``p`` and ``k`` silent probes that chance is
``p ** k`` (probes are lost independently), so the rule is the smallest
``k`` with ``p ** k < error_rate``.

The loss rate is estimated with Laplace's rule of succession,
``(lost + 1) / (sent + 2)``: never zero, so a few clean answers do not make
a single silence a proof. It is capped below one, so a path that loses
nearly everything still ends with a finite (large) requirement that the
planners' probe and time bounds then cut short as inconclusive.

Each planner passes its own error budget: the MTU search decides the
verdict an admin acts on (1e-6); the hop localization and the one-way test
refine a verdict already proven (1e-3 and 1e-2).
"""

from __future__ import annotations

import math

#: Largest loss rate the rule believes; above it the path is too lossy to prove a drop.
MAX_LOSS = 0.95


def loss_estimate(lost: int, sent: int) -> float:
    """Laplace estimate of the loss rate from ``lost`` of ``sent`` probes."""
    if sent < 0 or lost < 0 or lost > sent:
        raise ValueError(f"impossible tally: {lost} lost of {sent} sent")
    return (lost + 1) / (sent + 2)


def silences_needed(loss: float, error_rate: float, *, floor: int = 1) -> int:
    """Unanswered probes that prove a drop at loss rate ``loss`` within ``error_rate``.

    ``loss`` is clamped to ``[0.001, MAX_LOSS]``; the answer is at least ``floor``.
    """
    if not 0 < error_rate < 1:
        raise ValueError(f"error_rate must be between 0 and 1, not {error_rate}")
    p = min(max(loss, 0.001), MAX_LOSS)
    return max(floor, math.ceil(math.log(error_rate) / math.log(p)))


def proves_drop(silent: int, loss: float, error_rate: float) -> bool:
    """Whether ``silent`` unanswered probes prove a drop (see :func:`silences_needed`)."""
    return silent >= silences_needed(loss, error_rate)
