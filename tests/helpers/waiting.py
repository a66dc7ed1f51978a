"""The one polling helper: wait for a condition with a deadline, never ``sleep(n)`` and hope."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    check: Callable[[], T],
    timeout_s: float = 30.0,
    what: str = "condition",
    interval_s: float = 0.05,
) -> T:
    """Poll ``check`` until it returns something truthy and return that; fail the test at
    the deadline. The deadline only stops a hang: nothing is asserted about how long it took."""
    deadline = time.monotonic() + timeout_s
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what} (last: {last!r})")
