"""BookRegistry.call: validation, retries with backoff, timeouts, stops, attempt reports.

Procedures here are fakes that fail on cue; ``sleep`` is injected (no real backoff sleeping)
and timeouts use tens of milliseconds with events, never sleeps that hope.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from jarvis.bdk import (
    AuthError,
    Book,
    BookContext,
    InvalidInput,
    NonRetryable,
    NotFound,
    Retryable,
    RetryPolicy,
    RetrySettings,
    Timeout,
    Unavailable,
)
from jarvis.books import Attempt, BookRegistry
from jarvis.errors import BookUnavailable, ProgramError, Stopped
from tests.helpers.books import Recorder, call


class Flaky:
    """Raises the given exceptions in turn, then returns ``value``; records every context."""

    def __init__(self, *errors: BaseException, value: Any = "ok") -> None:
        self.errors = list(errors)
        self.value = value
        self.contexts: list[BookContext] = []

    def __call__(self, ctx: BookContext) -> Any:
        self.contexts.append(ctx)
        if self.errors:
            raise self.errors.pop(0)
        return self.value


def make(
    fn: Any = None,
    *,
    retry: RetryPolicy | None = None,
    timeout_s: float | None = 5.0,
    settings: RetrySettings | None = None,
) -> tuple[BookRegistry, Book]:
    book = Book("t")
    if fn is not None:

        @book.procedure(name="op", retry=retry, timeout_s=timeout_s)
        def op(ctx: BookContext) -> Any:
            return fn(ctx)

    reg = BookRegistry(retry_settings=settings or RetrySettings())
    reg.register(book)
    return reg, book


@pytest.fixture(autouse=True)
def _clean_retry_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("MAX_ATTEMPTS", "BASE_S", "FACTOR", "CAP_S", "JITTER"):
        monkeypatch.delenv(f"JARVIS_BOOK_RETRY_{var}", raising=False)


# --- arguments ---------------------------------------------------------------------------

book = Book("kvx")


@book.procedure
def get(ctx: BookContext, key: str, default: int | None = None) -> str | None:
    return f"{key}={default}"


@book.procedure
def setmany(ctx: BookContext, items: dict[str, int], *, tags: list[str] | None = None) -> int:
    return sum(items.values()) + len(tags or [])


@pytest.fixture
def reg() -> BookRegistry:
    r = BookRegistry()
    r.register(book)
    return r


def test_arguments_are_validated_and_bound(reg: BookRegistry, rec: Recorder) -> None:
    assert call(reg, rec, "kvx.get", "a") == "a=None"
    assert call(reg, rec, "kvx.get", "a", 3) == "a=3"
    assert call(reg, rec, "kvx.get", key="a", default="4") == "a=4"  # pydantic's lax mode
    assert call(reg, rec, "kvx.setmany", {"x": 1, "y": 2}, tags=["t"]) == 4


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ([1], {}, "kvx.get() argument 'key': Input should be a valid string"),
        (["a", "x"], {}, "kvx.get() argument 'default': Input should be a valid integer"),
        ([], {}, "kvx.get() missing a required argument: 'key'"),
        (["a"], {"colour": 1}, "kvx.get() got an unexpected keyword argument 'colour'"),
        (["a", 1, 2], {}, "kvx.get() too many positional arguments"),
    ],
)
def test_bad_arguments_are_a_spy_type_error_naming_the_parameter(
    reg: BookRegistry, rec: Recorder, args: list[Any], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ProgramError) as err:
        reg.call(
            "kvx",
            "get",
            args,
            kwargs,
            execution_id="e",
            idempotency_key="e:0",
            on_attempt=rec.on_attempt,
            sleep=rec.sleep,
        )
    assert err.value.spy_type == "TypeError"
    assert err.value.message.startswith(message)
    assert rec.attempts == []  # never attempted, never retried


def test_nested_argument_errors_say_where(reg: BookRegistry, rec: Recorder) -> None:
    with pytest.raises(ProgramError) as err:
        call(reg, rec, "kvx.setmany", {"x": 1, "y": "many"}, tags=["a", 2])
    assert err.value.message == (
        "kvx.setmany() argument 'items' [y]: Input should be a valid integer, unable to parse "
        "string as an integer; argument 'tags' [1]: Input should be a valid string"
    )


def test_unknown_procedure_is_a_spy_attribute_error(reg: BookRegistry, rec: Recorder) -> None:
    with pytest.raises(ProgramError) as err:
        call(reg, rec, "kvx.gett", "a")
    assert err.value.spy_type == "AttributeError"
    assert err.value.message == "Book 'kvx' has no procedure 'gett' (it has: get, setmany)"


def test_unknown_book_is_a_host_error(reg: BookRegistry, rec: Recorder) -> None:
    with pytest.raises(BookUnavailable, match="unknown Book 'crm'"):
        call(reg, rec, "crm.lookup", "a")


# --- results -----------------------------------------------------------------------------


class Customer(BaseModel):
    name: str
    since: dt.date


def test_results_become_plain_json_data(rec: Recorder) -> None:
    b = Book("res")

    @b.procedure
    def customer(ctx: BookContext) -> Customer:
        return Customer(name="Ada", since=dt.date(2024, 1, 2))

    @b.procedure
    def untyped(ctx: BookContext):  # type: ignore[no-untyped-def]
        return {"at": dt.datetime(2024, 1, 2, 3, 4, 5), "pair": (1, 2)}

    @b.procedure
    def wrong(ctx: BookContext) -> int:
        return "not a number"  # type: ignore[return-value]

    reg = BookRegistry()
    reg.register(b)
    assert call(reg, rec, "res.customer") == {"name": "Ada", "since": "2024-01-02"}
    assert call(reg, rec, "res.untyped") == {"at": "2024-01-02T03:04:05", "pair": [1, 2]}
    with pytest.raises(ProgramError) as err:
        call(reg, rec, "res.wrong")
    assert err.value.spy_type == "BookError"
    assert err.value.message.startswith("res.wrong failed after 1 attempt: InvalidResult: ")
    assert rec.outcomes == ["ok", "ok", "error"]


def test_async_procedures_are_supported(rec: Recorder) -> None:
    b = Book("aio")

    @b.procedure
    async def double(ctx: BookContext, n: int) -> int:
        await asyncio.sleep(0)
        return n * 2

    reg = BookRegistry()
    reg.register(b)
    assert call(reg, rec, "aio.double", 21) == 42


# --- retries -----------------------------------------------------------------------------


def test_transient_failures_are_retried_with_the_same_idempotency_key(rec: Recorder) -> None:
    flaky = Flaky(Unavailable("busy"), ConnectionResetError("reset"), value={"n": 1})
    reg, _ = make(flaky)
    assert call(reg, rec, "t.op", idem="exec-9:4") == {"n": 1}
    assert [c.idempotency_key for c in flaky.contexts] == ["exec-9:4"] * 3
    assert [c.attempt for c in flaky.contexts] == [1, 2, 3]
    assert {c.execution_id for c in flaky.contexts} == {"exec-9"}
    assert rec.outcomes == ["retry", "retry", "ok"]
    assert [(a.error_type, a.message) for a in rec.attempts] == [
        ("Unavailable", "busy"),
        ("ConnectionResetError", "reset"),
        (None, None),
    ]
    assert rec.sleeps == pytest.approx([0.2, 0.4])
    assert [a.delay_s for a in rec.attempts] == pytest.approx([0.2, 0.4, 0.0])
    assert all(a.duration_s >= 0 for a in rec.attempts)
    assert all((a.book, a.procedure) == ("t", "op") for a in rec.attempts)


def test_exhausted_retries_raise_a_spy_book_error(rec: Recorder) -> None:
    reg, _ = make(Flaky(*[Unavailable("down")] * 10), retry=RetryPolicy(max_attempts=3))
    with pytest.raises(ProgramError) as err:
        call(reg, rec, "t.op")
    assert err.value.spy_type == "BookError"
    assert err.value.message == "t.op failed after 3 attempts: Unavailable: down"
    assert rec.outcomes == ["retry", "retry", "error"]
    assert len(rec.sleeps) == 2


def test_backoff_is_base_2_and_capped(rec: Recorder) -> None:
    policy = RetryPolicy(max_attempts=7, base_s=1.0, cap_s=8.0)
    reg, _ = make(Flaky(*[Timeout("slow")] * 6), retry=policy)
    assert call(reg, rec, "t.op") == "ok"
    assert rec.sleeps == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_retry_after_hints_are_honoured(rec: Recorder) -> None:
    reg, _ = make(Flaky(Unavailable("429", retry_after_s=3.0)))
    call(reg, rec, "t.op")
    assert rec.sleeps == [3.0]


@pytest.mark.parametrize(
    ("error", "attempts"),
    [
        (Retryable("x"), 5),
        (Unavailable("x"), 5),
        (Timeout("x"), 5),
        (TimeoutError("x"), 5),
        (ConnectionRefusedError("x"), 5),
        (NonRetryable("x"), 1),
        (InvalidInput("x"), 1),
        (AuthError("x"), 1),
        (NotFound("x"), 1),
        (ValueError("x"), 1),
        (KeyError("x"), 1),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_each_error_class(rec: Recorder, error: Exception, attempts: int) -> None:
    reg, _ = make(Flaky(*[error] * 10))
    with pytest.raises(ProgramError) as err:
        call(reg, rec, "t.op")
    assert len(rec.attempts) == attempts
    times = "attempt" if attempts == 1 else "attempts"
    assert err.value.message.startswith(
        f"t.op failed after {attempts} {times}: {type(error).__name__}: "
    )
    assert rec.attempts[-1].outcome == "error"


def test_global_defaults_apply_unless_the_procedure_sets_the_field(rec: Recorder) -> None:
    settings = RetrySettings(max_attempts=2, base_s=0.5)
    reg, _ = make(Flaky(*[Unavailable("x")] * 10), settings=settings)
    with pytest.raises(ProgramError, match="after 2 attempts"):
        call(reg, rec, "t.op")
    assert rec.sleeps == [0.5]
    rec2 = Recorder()
    reg, _ = make(
        Flaky(*[Unavailable("x")] * 10), settings=settings, retry=RetryPolicy(max_attempts=3)
    )
    with pytest.raises(ProgramError, match="after 3 attempts"):
        call(reg, rec2, "t.op")
    assert rec2.sleeps == [0.5, 1.0]


def test_global_defaults_from_the_environment(
    rec: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JARVIS_BOOK_RETRY_MAX_ATTEMPTS", "1")
    book = Book("envt")
    book.procedure(name="op")(Flaky(Unavailable("x")))
    reg = BookRegistry()
    reg.register(book)
    with pytest.raises(ProgramError, match="after 1 attempt: Unavailable"):
        call(reg, rec, "envt.op")


def test_a_procedure_may_raise_a_spy_exception_directly(rec: Recorder) -> None:
    reg, _ = make(Flaky(ProgramError("ValueError", "bad email")))
    with pytest.raises(ProgramError) as err:
        call(reg, rec, "t.op")
    assert (err.value.spy_type, err.value.message) == ("ValueError", "bad email")
    assert [(a.outcome, a.error_type, a.message) for a in rec.attempts] == [
        ("error", "ValueError", "bad email")
    ]


# --- timeouts ----------------------------------------------------------------------------


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at teardown so abandoned procedure threads finish."""
    event = threading.Event()
    yield event
    event.set()


def test_a_slow_attempt_times_out_and_is_retried(rec: Recorder, release: threading.Event) -> None:
    contexts: list[BookContext] = []

    def slow_then_fast(ctx: BookContext) -> str:
        contexts.append(ctx)
        if ctx.attempt == 1:
            release.wait(10)
            return "late"
        return "fast"

    # 1 s: the timeout the first attempt waits out, and room enough for the fast second
    # attempt (a thread that returns at once) on a loaded machine.
    reg, _ = make(slow_then_fast, timeout_s=1.0)
    assert call(reg, rec, "t.op") == "fast"
    assert rec.outcomes == ["retry", "ok"]
    assert rec.attempts[0].error_type == "Timeout"
    assert "no answer within 1 s" in (rec.attempts[0].message or "")
    assert [a.attempt for a in rec.attempts] == [1, 2]
    assert contexts[0].cancelled.is_set()  # the abandoned attempt is told
    assert not contexts[1].cancelled.is_set()


def test_timeouts_exhaust_into_a_book_error(rec: Recorder, release: threading.Event) -> None:
    reg, _ = make(lambda ctx: release.wait(10), timeout_s=0.02, retry=RetryPolicy(max_attempts=2))
    with pytest.raises(ProgramError) as err:
        call(reg, rec, "t.op")
    assert err.value.message.startswith(
        "t.op failed after 2 attempts: Timeout: no answer within 0.02 s"
    )


# --- stops -------------------------------------------------------------------------------


def _stop_after(n: int, answer: bool | str = True) -> Any:
    calls = {"n": 0}

    def should_stop() -> bool | str:
        calls["n"] += 1
        return answer if calls["n"] > n else False

    return should_stop


def test_a_stop_cuts_the_backoff_short(rec: Recorder) -> None:
    reg, _ = make(Flaky(*[Unavailable("x")] * 10), retry=RetryPolicy(base_s=5.0))
    with pytest.raises(Stopped) as err:
        reg.call(
            "t",
            "op",
            [],
            {},
            execution_id="e",
            idempotency_key="e:0",
            on_attempt=rec.on_attempt,
            should_stop=_stop_after(3, "suspend"),
            sleep=rec.sleep,
        )
    assert err.value.mode == "suspend"
    assert rec.outcomes == ["retry"]
    assert 0 < sum(rec.sleeps) < 5.0 and max(rec.sleeps) <= 0.05  # sliced, stopped early


def test_a_stop_abandons_a_running_attempt(rec: Recorder, release: threading.Event) -> None:
    seen: list[BookContext] = []

    def hang(ctx: BookContext) -> None:
        seen.append(ctx)
        release.wait(10)

    reg, _ = make(hang, timeout_s=None)
    with pytest.raises(Stopped) as err:
        reg.call(
            "t",
            "op",
            [],
            {},
            execution_id="e",
            idempotency_key="e:0",
            on_attempt=rec.on_attempt,
            should_stop=_stop_after(2),
            sleep=rec.sleep,
        )
    assert err.value.mode == "cancel"  # a bare True: the mode is not known, so cancel
    assert rec.outcomes == ["error"] and rec.attempts[0].error_type == "Stopped"
    assert seen[0].cancelled.is_set()


def test_a_stop_before_the_first_attempt_makes_no_call(rec: Recorder) -> None:
    flaky = Flaky()
    reg, _ = make(flaky)
    with pytest.raises(Stopped):
        reg.call(
            "t", "op", [], {}, execution_id="e", idempotency_key="e:0", should_stop=lambda: True
        )
    assert flaky.contexts == []


def test_an_exception_from_should_stop_propagates(rec: Recorder) -> None:
    def host_check() -> bool:
        raise Stopped("handoff")

    reg, _ = make(Flaky(Unavailable("x")))
    with pytest.raises(Stopped) as err:
        reg.call("t", "op", [], {}, execution_id="e", idempotency_key="e:0", should_stop=host_check)
    assert err.value.mode == "handoff"


def test_context_carries_the_call(rec: Recorder) -> None:
    flaky = Flaky()
    reg, _ = make(flaky, timeout_s=2.5)
    call(reg, rec, "t.op", idem="ex-1:7")
    ctx = flaky.contexts[0]
    assert (
        ctx.book,
        ctx.procedure,
        ctx.execution_id,
        ctx.idempotency_key,
        ctx.attempt,
        ctx.timeout_s,
    ) == ("t", "op", "ex-1", "ex-1:7", 1, 2.5)
    assert ctx.config is None
    assert ctx.logger.logger.name == "jarvis.books.t"
    assert ctx.logger.extra == {"execution_id": "ex-1", "idempotency_key": "ex-1:7", "attempt": 1}


def test_attempt_is_a_plain_record() -> None:
    a = Attempt("kv", "get", 1, "ok")
    assert (a.error_type, a.message, a.delay_s, a.duration_s) == (None, None, 0.0, 0.0)
