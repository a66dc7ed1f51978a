"""The ``traced`` Book of the tracing tests: one procedure that works, one that fails once.

Workers load it with ``JARVIS_EXTRA_BOOKS='["tests.telemetry.books:traced"]'``. ``flaky``
raises ``Unavailable`` (retryable) on the first attempt of each idempotency key and answers
on the next: the span tree then has a failed attempt and a successful retry under one call.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from jarvis.bdk import Book, BookContext, RetryPolicy, Unavailable

traced = Book("traced", "Tracing tests: a steady and a flaky procedure.")

_seen: set[str] = set()
_lock = threading.Lock()

PROGRAM = """\
a = traced.double(21)
b = traced.flaky(a)
report = artifact("report.txt", f"{a} {b}")
print(a, b)
result = b
"""
"""Two Book calls (the second retried once) and an artifact upload."""


@traced.procedure(timeout_s=5)
def double(ctx: BookContext[Any], n: int) -> int:
    ctx.logger.info("doubling %d", n)
    return n * 2


@traced.procedure(timeout_s=5, retry=RetryPolicy(max_attempts=3, base_s=0.01, cap_s=0.01))
def flaky(ctx: BookContext[Any], n: int) -> int:
    with _lock:
        first = ctx.idempotency_key not in _seen
        _seen.add(ctx.idempotency_key)
    if first:
        logging.getLogger("jarvis.books.traced").warning("flaky: failing attempt %d", ctx.attempt)
        raise Unavailable("the first attempt always fails")
    return n + 1
