"""What to do when a dead letter could not be delivered: a value from the try count."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryDeadLetter:
    delay_s: float


@dataclass(frozen=True)
class GiveUp:
    """Tried enough: log the message whole and let its offset move on (a partition never
    waits for good behind one message it cannot dead-letter)."""


def after_failure(attempt: int, max_attempts: int) -> RetryDeadLetter | GiveUp:
    """After the ``attempt``-th failed try (1-based): retry with backoff, or give up."""
    if attempt >= max_attempts:
        return GiveUp()
    return RetryDeadLetter(delay_s=min(5.0, 0.2 * 2 ** min(attempt - 1, 10)))
