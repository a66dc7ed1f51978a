"""Which failures of a Book call are retried, and how long to wait between attempts.

Defaults (DESIGN.md via MISSION.md "Retries"): transient failures — timeouts, an unavailable
service, connection and transport errors — are retried with exponential backoff (base 2,
capped, a maximum number of attempts); permanent ones — invalid input, auth, not found —
never are. Both the numbers and the classification are configurable per procedure, and the
numbers have global defaults from the environment (``RetrySettings``).
"""

from __future__ import annotations

import random
import socket
from collections.abc import Callable
from typing import Annotated, Any

import httpx
import redis.exceptions
from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from jarvis.bdk.errors import NonRetryable, Retryable

ExceptionTypes = tuple[type[BaseException], ...]

DEFAULT_MAX_ATTEMPTS = 5
"""Five attempts span ~3 s of backoff at the defaults (0.2+0.4+0.8+1.6): long enough to
ride out a restart or a failover, short enough that a dead dependency fails the program soon."""
DEFAULT_BASE_S = 0.2
"""First delay: long enough not to hammer a service that just refused us."""
DEFAULT_FACTOR = 2.0
"""Base 2 exponential growth (the sibling designs' choice)."""
DEFAULT_CAP_S = 10.0
"""No single wait is longer than this, including a server's ``Retry-After`` hint, so a stop or
a suspend is never stuck behind a long sleep and executions keep moving."""

DEFAULT_RETRY_ON: ExceptionTypes = (
    Retryable,
    TimeoutError,  # also socket.timeout
    ConnectionError,  # refused, reset, aborted, broken pipe
    socket.gaierror,  # DNS hiccups are usually transient
    httpx.TransportError,  # connect/read/write/pool timeouts, network and remote-protocol errors
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.TryAgainError,
    redis.exceptions.ClusterDownError,
)
"""Retried by default: the Book taxonomy's ``Retryable`` plus common transport failures, so a
Book that lets a library's connection error escape still gets sensible behaviour."""

DEFAULT_NO_RETRY_ON: ExceptionTypes = (
    NonRetryable,
    httpx.UnsupportedProtocol,  # a TransportError, but "ftp://" will not start working
    httpx.LocalProtocolError,  # we built an invalid request: same request, same failure
    redis.exceptions.AuthenticationError,  # a redis ConnectionError, but a wrong password stays wrong
    redis.exceptions.AuthorizationError,
)
"""Never retried: the taxonomy's ``NonRetryable`` and the permanent members of the families above."""


class RetryPolicy(BaseModel):
    """How a procedure's failures are retried.

    ``max_attempts`` counts all attempts (1 = no retry). The delay before attempt ``n + 1``
    is ``min(cap_s, base_s * factor ** (n - 1))``, reduced by up to ``jitter`` (a fraction,
    0 = none = deterministic), raised to a ``Retryable.retry_after_s`` hint but never past
    ``cap_s``.

    Classification (``is_retryable``): an exception matching ``no_retry_on`` or ``retry_on``
    is classified by the **most specific** match in its class hierarchy, so
    ``retry_on=(NotFound,)`` overrides the default ``NonRetryable`` for one procedure; a tie
    goes to "don't retry". Anything matching neither is **not** retried: an unknown error is
    as likely a bug in the Book (which a retry repeats) as a transient fault, and retrying a
    call whose side effect may already have happened is only safe when the author says so by
    raising ``Retryable`` or listing the type in ``retry_on``.

    Fields given explicitly win over the global defaults (``RetrySettings``); see ``over``.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    max_attempts: Annotated[int, Field(ge=1, le=100)] = DEFAULT_MAX_ATTEMPTS
    base_s: Annotated[float, Field(ge=0)] = DEFAULT_BASE_S
    factor: Annotated[float, Field(ge=1)] = DEFAULT_FACTOR
    cap_s: Annotated[float, Field(ge=0)] = DEFAULT_CAP_S
    jitter: Annotated[float, Field(ge=0, le=1)] = 0.0
    retry_on: ExceptionTypes = DEFAULT_RETRY_ON
    no_retry_on: ExceptionTypes = DEFAULT_NO_RETRY_ON

    def is_retryable(self, exc: BaseException) -> bool:
        retry = _specificity(exc, self.retry_on)
        no_retry = _specificity(exc, self.no_retry_on)
        if retry is None:
            return False
        return no_retry is None or retry < no_retry

    def delay_s(
        self,
        failed_attempt: int,
        exc: BaseException | None = None,
        rand: Callable[[], float] = random.random,
    ) -> float:
        """Seconds to wait after attempt number ``failed_attempt`` (1-based) failed."""
        delay = min(self.cap_s, self.base_s * self.factor ** (failed_attempt - 1))
        if self.jitter:
            delay *= 1.0 - self.jitter * rand()
        hint = getattr(exc, "retry_after_s", None)
        if isinstance(hint, int | float) and hint > delay:
            delay = min(self.cap_s, float(hint))
        return delay

    def over(self, base: RetryPolicy) -> RetryPolicy:
        """This policy's explicitly given fields laid over ``base``.

        A procedure's ``RetryPolicy(max_attempts=1)`` keeps the global backoff numbers but
        pins its attempt count: the author knows the call best, the operator sets the rest.
        """
        data: dict[str, Any] = {name: getattr(base, name) for name in base.model_fields_set}
        data.update({name: getattr(self, name) for name in self.model_fields_set})
        return RetryPolicy(**data)


def _specificity(exc: BaseException, types: ExceptionTypes) -> int | None:
    """Position in ``type(exc).__mro__`` of the closest matching class (lower = more specific)."""
    mro = type(exc).__mro__
    best: int | None = None
    for cls in types:
        if isinstance(exc, cls):
            # Virtual subclasses (ABC.register) are not in the MRO: rank them least specific.
            rank = mro.index(cls) if cls in mro else len(mro)
            best = rank if best is None else min(best, rank)
    return best


class RetrySettings(BaseSettings):
    """Global retry defaults from the environment (``JARVIS_BOOK_RETRY_*``).

    Each one applies to every procedure that does not set that field in its own
    ``RetryPolicy``. Unset variables keep the built-in defaults above.
    """

    model_config = SettingsConfigDict(env_prefix="JARVIS_BOOK_RETRY_", extra="ignore", frozen=True)

    max_attempts: Annotated[int | None, Field(ge=1, le=100)] = None
    base_s: Annotated[float | None, Field(ge=0)] = None
    factor: Annotated[float | None, Field(ge=1)] = None
    cap_s: Annotated[float | None, Field(ge=0)] = None
    jitter: Annotated[float | None, Field(ge=0, le=1)] = None

    def policy(self) -> RetryPolicy:
        """The default policy: built-in defaults with the variables that are set laid over."""
        given = {k: v for k, v in self.model_dump().items() if v is not None}
        return RetryPolicy(**given)
