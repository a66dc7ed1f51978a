"""RetryPolicy: classification, backoff arithmetic and the layering of global defaults."""

from __future__ import annotations

import socket

import httpx
import pytest
import redis.exceptions

from jarvis.bdk import (
    AuthError,
    InvalidInput,
    NonRetryable,
    NotFound,
    Retryable,
    RetryPolicy,
    RetrySettings,
    Timeout,
    Unavailable,
)


@pytest.mark.parametrize(
    "exc",
    [
        Retryable("x"),
        Unavailable("x"),
        Timeout("x"),
        TimeoutError(),
        ConnectionRefusedError(),
        ConnectionResetError(),
        BrokenPipeError(),
        socket.gaierror(),
        httpx.ConnectError("x"),
        httpx.ReadTimeout("x"),
        httpx.RemoteProtocolError("x"),
        redis.exceptions.ConnectionError(),
        redis.exceptions.TimeoutError(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_transient_failures_are_retried(exc: BaseException) -> None:
    assert RetryPolicy().is_retryable(exc)


@pytest.mark.parametrize(
    "exc",
    [
        NonRetryable("x"),
        InvalidInput("x"),
        AuthError("x"),
        NotFound("x"),
        httpx.UnsupportedProtocol("x"),
        redis.exceptions.AuthenticationError(),
        # Unknown exceptions: not retried (a bug repeats; a side effect may have happened).
        ValueError("x"),
        KeyError("x"),
        RuntimeError("x"),
        FileNotFoundError(),
        PermissionError(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_permanent_and_unknown_failures_are_not_retried(exc: BaseException) -> None:
    assert not RetryPolicy().is_retryable(exc)


def test_the_most_specific_match_wins() -> None:
    # Per procedure, NotFound may be made retryable (eventual consistency) despite NonRetryable.
    policy = RetryPolicy(retry_on=(*RetryPolicy().retry_on, NotFound))
    assert policy.is_retryable(NotFound("not yet"))
    assert not policy.is_retryable(AuthError("no"))
    # ...and a retryable family can exclude one member.
    policy = RetryPolicy(no_retry_on=(*RetryPolicy().no_retry_on, httpx.ReadTimeout))
    assert not policy.is_retryable(httpx.ReadTimeout("slow"))
    assert policy.is_retryable(httpx.ConnectTimeout("down"))
    # Opting an unknown type in.
    assert RetryPolicy(retry_on=(ValueError,)).is_retryable(ValueError())


def test_a_tie_goes_to_not_retrying() -> None:
    class Both(Exception):
        pass

    assert not RetryPolicy(retry_on=(Both,), no_retry_on=(Both,)).is_retryable(Both())


def test_delays_are_base_2_exponential_and_capped() -> None:
    policy = RetryPolicy(base_s=0.5, cap_s=3.0)
    assert [policy.delay_s(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
    default = RetryPolicy()
    assert [default.delay_s(n) for n in range(1, 5)] == pytest.approx([0.2, 0.4, 0.8, 1.6])
    assert default.delay_s(20) == 10.0


def test_jitter_only_shortens_and_is_injectable() -> None:
    policy = RetryPolicy(base_s=1.0, jitter=0.5)
    assert policy.delay_s(2, rand=lambda: 0.0) == 2.0
    assert policy.delay_s(2, rand=lambda: 1.0) == 1.0
    assert 1.0 <= policy.delay_s(2) <= 2.0


def test_retry_after_hint_raises_the_delay_up_to_the_cap() -> None:
    policy = RetryPolicy(base_s=0.1, cap_s=5.0)
    assert policy.delay_s(1, Unavailable("busy", retry_after_s=2)) == 2.0
    assert policy.delay_s(1, Unavailable("busy", retry_after_s=60)) == 5.0
    assert policy.delay_s(1, Unavailable("busy", retry_after_s=0.01)) == 0.1


def test_policy_values_are_validated() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(factor=0.5)


def test_global_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JARVIS_BOOK_RETRY_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("JARVIS_BOOK_RETRY_CAP_S", "1.5")
    policy = RetrySettings().policy()
    assert (policy.max_attempts, policy.cap_s, policy.base_s) == (2, 1.5, 0.2)


def test_procedure_fields_win_over_global_defaults() -> None:
    base = RetrySettings(max_attempts=2, base_s=1.0).policy()
    mine = RetryPolicy(max_attempts=7).over(base)
    assert (mine.max_attempts, mine.base_s, mine.cap_s) == (7, 1.0, 10.0)
    assert RetryPolicy().over(base) == base
