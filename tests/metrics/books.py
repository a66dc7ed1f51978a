"""The ``flaky`` Book of the metrics tests: its first attempt of every call fails, retryably.

Workers load it with ``JARVIS_EXTRA_BOOKS='["tests.metrics.books:flaky"]'`` (cwd = repo root).
``once(x)`` fails attempt 1 with ``Unavailable`` and returns ``x + 1`` on attempt 2: one call,
two attempts (a retry, then ok), whatever the timing. ``broken(x)`` always fails with
``NotFound`` (not retried): a call that ends in a ``BookError``.
"""

from __future__ import annotations

from typing import Any

from jarvis.bdk import Book, BookContext, NotFound, RetryPolicy, Unavailable

flaky = Book("flaky", description="Metrics-test Book: every call's first attempt fails.")

_QUICK = RetryPolicy(max_attempts=3, base_s=0.01, cap_s=0.01)


@flaky.procedure(timeout_s=10.0, retry=_QUICK)
def once(ctx: BookContext[Any], x: int) -> int:
    """Fail the first attempt (retryable), then return ``x + 1``."""
    if ctx.attempt == 1:
        raise Unavailable("the first attempt of every call fails")
    return x + 1


@flaky.procedure(timeout_s=10.0, retry=_QUICK)
def broken(ctx: BookContext[Any], x: int) -> int:
    """Always fail, not retryably."""
    raise NotFound(f"nothing for {x}")
