"""One Book call: attempts with a timeout each, retries with backoff, a report per attempt.

Timeouts. A sync procedure cannot be killed from outside, so each attempt runs on its own
daemon thread and the caller simply stops waiting when the attempt's ``timeout_s`` passes;
that counts as a retryable ``Timeout``. The abandoned thread may still finish its work
later (its ``ctx.cancelled`` event is set so it can give up early) and the next attempt may
overlap it. That is exactly the situation idempotency keys exist for: every attempt of a
call carries the same key, so a remote system that honours it applies the call once.
Daemon threads (not a pool) so that a hung procedure never blocks interpreter exit.

Stops. When ``should_stop()`` turns truthy — checked before each attempt, every
``STOP_POLL_S`` while an attempt runs and while waiting between attempts — the call is
abandoned and ``jarvis.errors.Stopped`` is raised (mode: the value ``should_stop`` returned
if it is a string, else ``"cancel"``; an exception ``should_stop`` raises itself, such as the
host's ``Stopped(mode)``, propagates unchanged). Deliberately *not* a SPy ``BookError``: the
host journals a ``ProgramError`` as the call's outcome, so a suspended execution would
replay a failure that never happened; a ``Stopped`` leaves the call unjournaled and a
resumed execution makes it again, with the same idempotency key.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pydantic
from pydantic_core import PydanticSerializationError

from jarvis.bdk.book import Procedure
from jarvis.bdk.context import BookContext
from jarvis.bdk.errors import NonRetryable, Timeout
from jarvis.bdk.retries import RetryPolicy
from jarvis.errors import Interruption, ProgramError, Stopped
from jarvis.telemetry import metrics, tracing

Outcome = Literal["ok", "retry", "error"]

STOP_POLL_S = 0.05
"""How often a stop is looked for while a call runs or waits: well inside the 1 s stop guarantee."""


@dataclass(frozen=True)
class Attempt:
    """What happened on one attempt of a Book call; ``on_attempt`` gets one per attempt.

    ``outcome`` is ``ok`` (the result was returned), ``retry`` (failed, another attempt follows
    after ``delay_s``) or ``error`` (failed, no more attempts: the call fails or was stopped).
    """

    book: str
    procedure: str
    attempt: int
    outcome: Outcome
    error_type: str | None = None
    message: str | None = None
    delay_s: float = 0.0
    duration_s: float = 0.0


class InvalidResult(NonRetryable):
    """The procedure returned something its return annotation does not allow (a Book bug)."""


class _Abandoned(Exception):
    """Internal: should_stop() asked us to stop while an attempt ran or waited."""

    def __init__(self, mode: Interruption) -> None:
        super().__init__(mode)
        self.mode = mode


StopCheck = Callable[[], bool | Interruption | None]
"""Asked whether the call must stop: an ``Interruption``, or true for ``cancel``."""


def _stop_mode(should_stop: StopCheck | None) -> Interruption | None:
    if should_stop is None:
        return None
    answer = should_stop()
    if not answer:
        return None
    return answer if isinstance(answer, str) else "cancel"


def run_call(
    proc: Procedure,
    args: list[Any],
    kwargs: dict[str, Any],
    *,
    policy: RetryPolicy,
    config: Any,
    execution_id: str,
    idempotency_key: str,
    on_attempt: Callable[[Attempt], None] | None = None,
    should_stop: StopCheck | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> object:
    """Validate the arguments, then attempt the call until it succeeds or the policy gives up."""
    bound = proc.bind(args, kwargs)  # a SPy TypeError: never retried, no attempt made
    logger = logging.getLogger(f"jarvis.books.{proc.book}")

    def report(attempt: Attempt) -> None:
        metrics.book_attempt(
            attempt.book, attempt.procedure, attempt.outcome, attempt.error_type, attempt.duration_s
        )
        if on_attempt is not None:
            on_attempt(attempt)

    for attempt in range(1, policy.max_attempts + 1):
        if (mode := _stop_mode(should_stop)) is not None:
            raise Stopped(mode)
        ctx: BookContext[Any] = BookContext(
            book=proc.book,
            procedure=proc.name,
            execution_id=execution_id,
            idempotency_key=idempotency_key,
            attempt=attempt,
            timeout_s=proc.timeout_s,
            config=config,
            logger=logging.LoggerAdapter(
                logger,
                {
                    "execution_id": execution_id,
                    "idempotency_key": idempotency_key,
                    "attempt": attempt,
                },
            ),
        )
        started = time.monotonic()
        try:
            # Tracing on: one span per attempt, a child of the call's (a failed attempt's
            # exception is recorded on it, status ERROR); off, the shared no-op.
            with tracing.span(
                f"book attempt {proc.qualname}",
                {
                    "jarvis.execution_id": execution_id,
                    "jarvis.book": proc.book,
                    "jarvis.book.procedure": proc.name,
                    "jarvis.book.attempt": attempt,
                    "jarvis.idempotency_key": idempotency_key,
                }
                if tracing.ENABLED
                else None,
                "CLIENT",
            ):
                result = _attempt(proc, ctx, bound, should_stop)
        except _Abandoned as stop:
            report(
                Attempt(
                    proc.book,
                    proc.name,
                    attempt,
                    "error",
                    "Stopped",
                    f"execution stopping ({stop.mode})",
                    0.0,
                    time.monotonic() - started,
                )
            )
            raise Stopped(stop.mode) from None
        except ProgramError as exc:
            # A procedure may raise a SPy exception on purpose (ProgramError("ValueError", ...)):
            # it reaches the program as is, like an argument error, and is never retried.
            report(
                Attempt(
                    proc.book,
                    proc.name,
                    attempt,
                    "error",
                    exc.spy_type,
                    exc.message,
                    0.0,
                    time.monotonic() - started,
                )
            )
            raise
        except Exception as exc:
            duration = time.monotonic() - started
            retry = attempt < policy.max_attempts and policy.is_retryable(exc)
            delay = policy.delay_s(attempt, exc) if retry else 0.0
            kind = type(exc).__name__
            message = str(exc) or repr(exc)
            report(
                Attempt(
                    proc.book,
                    proc.name,
                    attempt,
                    "retry" if retry else "error",
                    kind,
                    message,
                    delay,
                    duration,
                )
            )
            if not retry:
                times = "attempt" if attempt == 1 else "attempts"
                raise ProgramError(
                    "BookError",
                    f"{proc.qualname} failed after {attempt} {times}: {kind}: {message}",
                ) from exc
            _wait(delay, sleep, should_stop)
            continue
        report(Attempt(proc.book, proc.name, attempt, "ok", duration_s=time.monotonic() - started))
        return result
    raise AssertionError("unreachable: the last attempt either returns or raises")


def _attempt(
    proc: Procedure, ctx: BookContext[Any], bound: Any, should_stop: StopCheck | None
) -> object:
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["value"] = proc.invoke(ctx, bound)
        except BaseException as exc:  # handed to the caller, which classifies it
            box["error"] = exc
        finally:
            done.set()

    # copy_context: the procedure sees the caller's contextvars (trace spans, log context).
    thread = threading.Thread(
        target=contextvars.copy_context().run,
        args=(target,),
        name=f"book:{proc.qualname}:{ctx.idempotency_key}:{ctx.attempt}",
        daemon=True,
    )
    thread.start()
    deadline = None if proc.timeout_s is None else time.monotonic() + proc.timeout_s
    try:
        while True:
            wait: float | None = STOP_POLL_S if should_stop is not None else None
            if deadline is not None:
                left = max(0.0, deadline - time.monotonic())
                wait = left if wait is None else min(wait, left)
            if done.wait(wait):
                break
            if deadline is not None and time.monotonic() >= deadline:
                ctx.cancelled.set()
                raise Timeout(f"no answer within {proc.timeout_s:g} s (timeout_s)")
            if (mode := _stop_mode(should_stop)) is not None:
                ctx.cancelled.set()
                raise _Abandoned(mode)
    except BaseException:
        ctx.cancelled.set()  # also when should_stop() itself raised
        raise
    if "error" in box:
        exc = box["error"]
        if not isinstance(exc, Exception):  # SystemExit, KeyboardInterrupt from a Book thread
            raise NonRetryable(f"procedure raised {type(exc).__name__}: {exc}") from exc
        raise exc
    try:
        return proc.dump_result(box.get("value"))
    except (pydantic.ValidationError, PydanticSerializationError) as exc:
        raise InvalidResult(
            f"{proc.qualname} returned a value its return annotation does not allow: {exc}"
        ) from exc


def _wait(delay_s: float, sleep: Callable[[float], None], should_stop: StopCheck | None) -> None:
    """Back off for ``delay_s``; in slices when a stop may cut the wait short."""
    if should_stop is None:
        if delay_s > 0:
            sleep(delay_s)
        return
    left = delay_s
    while left > 1e-9:  # not 0: float slices would leave a dust-sized extra sleep
        step = min(STOP_POLL_S, left)
        sleep(step)
        left -= step
        if (mode := _stop_mode(should_stop)) is not None:
            raise Stopped(mode)
