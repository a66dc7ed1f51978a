"""The worker's one retry pause: a base doubling per try, capped."""

from __future__ import annotations


def backoff(attempt: int, base_s: float, cap_s: float) -> float:
    """Pause before the ``attempt``-th retry (1-based): ``base_s`` doubling, at most ``cap_s``.
    The exponent is bounded, so any number of tries is fine (``2 ** 1100`` overflows a float)."""
    return float(min(cap_s, base_s * 2 ** min(max(attempt, 1) - 1, 30)))
