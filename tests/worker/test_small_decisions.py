"""The worker's small pure decisions: commit batching, dead-letter retries, execution
retries, take-over choice."""

from __future__ import annotations

import itertools

import pytest

from jarvis.worker.deadletter import GiveUp, RetryDeadLetter, after_failure
from jarvis.worker.executions import RETRY_MAX_S, backoff, lapsed_to_take
from jarvis.worker.offsets import commit_due

# --- offsets.commit_due ---


@pytest.mark.parametrize(
    ("now", "last", "interval", "finished", "due"),
    [
        (10.0, 9.0, 0.2, 1, True),
        (10.0, 9.75, 0.25, 3, True),  # exactly the interval
        (10.0, 9.875, 0.25, 5, False),  # too soon
        (10.0, 0.0, 0.2, 0, False),  # nothing finished: nothing to commit
        (10.0, 0.0, 0.0, 1, True),
        (10.0, 10.0, 0.0, 1, True),
        (10.0, 10.0, 0.0, 0, False),
    ],
)
def test_commit_due(now: float, last: float, interval: float, finished: int, due: bool) -> None:
    assert commit_due(now, last, interval, finished) is due


# --- deadletter.after_failure ---


def test_dead_letter_retries_with_growing_capped_delays_then_gives_up() -> None:
    steps = [after_failure(attempt, 10) for attempt in range(1, 11)]
    delays = [s.delay_s for s in steps[:-1] if isinstance(s, RetryDeadLetter)]
    assert len(delays) == 9
    assert delays[:5] == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2])
    assert delays[5:] == [5.0, 5.0, 5.0, 5.0]
    assert all(a <= b for a, b in itertools.pairwise(delays))
    assert steps[-1] == GiveUp()


@pytest.mark.parametrize(("attempt", "max_attempts"), [(1, 1), (5, 5), (6, 5), (100, 3)])
def test_dead_letter_gives_up_at_or_past_max(attempt: int, max_attempts: int) -> None:
    assert isinstance(after_failure(attempt, max_attempts), GiveUp)


def test_dead_letter_first_retry_is_short() -> None:
    assert after_failure(1, 5) == RetryDeadLetter(delay_s=0.2)
    assert after_failure(4, 5) == RetryDeadLetter(delay_s=pytest.approx(1.6))


def test_dead_letter_delay_stays_capped_for_many_attempts() -> None:
    assert after_failure(60, 1000) == RetryDeadLetter(delay_s=5.0)


# --- executions.backoff ---


def test_backoff_doubles_from_50ms_and_is_capped() -> None:
    assert [backoff(a) for a in range(1, 7)] == pytest.approx([0.05, 0.1, 0.2, 0.4, 0.8, 1.6])
    assert RETRY_MAX_S == 2.0
    assert backoff(7) == RETRY_MAX_S
    assert backoff(50) == RETRY_MAX_S
    assert backoff(10**6) == RETRY_MAX_S  # the exponent is capped too: no overflow
    assert all(isinstance(backoff(a), float) for a in (1, 7, 100))


# --- executions.lapsed_to_take ---


def test_lapsed_to_take_skips_held_and_keeps_order() -> None:
    assert lapsed_to_take(["a", "b", "c", "d"], ["b"], 10) == ["a", "c", "d"]


def test_lapsed_to_take_is_bounded_by_room() -> None:
    assert lapsed_to_take(["a", "b", "c", "d"], ["a"], 2) == ["b", "c"]
    assert lapsed_to_take(["a", "b"], [], 0) == []
    assert lapsed_to_take(["a", "b", "c", "d"], [], -1) == []


def test_lapsed_to_take_when_everything_is_held_or_nothing_lapsed() -> None:
    assert lapsed_to_take(["a", "b"], ["b", "a", "z"], 5) == []
    assert lapsed_to_take([], ["a"], 5) == []


def test_dead_letter_delay_stays_capped_past_a_thousand_attempts() -> None:
    # JARVIS_DEAD_LETTER_ATTEMPTS has no upper bound (ge=1): attempt 1025+ must still be 5 s.
    assert after_failure(1100, 10_000) == RetryDeadLetter(delay_s=5.0)


def test_the_shared_retry_pause_doubles_is_capped_and_never_overflows() -> None:
    from jarvis.worker.backoff import backoff as pause

    assert [pause(a, 0.2, 2.0) for a in (1, 2, 3, 4, 5)] == [0.2, 0.4, 0.8, 1.6, 2.0]
    assert pause(5000, 0.2, 2.0) == 2.0  # a rejection retried for hours: no OverflowError
