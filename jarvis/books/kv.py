"""The ``kv`` Book: a JSON key-value store on Redis.

    kv.put("greeting", {"text": "hi"})
    kv.get("greeting")            # {"text": "hi"}
    kv.get("missing", default=0)  # 0
    kv.incr("visits")             # 1, then 2...

Values are stored as JSON text under ``<prefix><key>``. ``incr`` is idempotent per
idempotency key: its result is remembered under ``<prefix>idem:<idempotency_key>`` (with a
TTL) in the same atomic Lua script that increments, so a retried attempt, or a call re-run
after a crash left it unjournaled, returns the first result instead of counting twice.
``put`` is naturally idempotent (same value, same key) and ``get`` reads only. Keys starting
with ``idem:`` are therefore reserved.

Config (``JARVIS_BOOK_KV_*``): ``REDIS_URL`` (default ``redis://127.0.0.1:16379/0``, the local
stack's Redis), ``PREFIX`` (default ``jarvis:kv:``), ``IDEMPOTENCY_TTL_S``, ``SOCKET_TIMEOUT_S``.
Connection errors and timeouts are retried by the default policy.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any

import orjson
import redis
import redis.exceptions
from pydantic import AfterValidator, Field, JsonValue
from pydantic_settings import BaseSettings, SettingsConfigDict
from redis.backoff import NoBackoff
from redis.commands.core import Script
from redis.retry import Retry

from jarvis.bdk import Book, BookContext, InvalidInput, NonRetryable

RESERVED = "idem:"


class KvConfig(BaseSettings):
    """Settings of the ``kv`` Book (environment: ``JARVIS_BOOK_KV_<FIELD>``)."""

    model_config = SettingsConfigDict(env_prefix="JARVIS_BOOK_KV_", extra="ignore", frozen=True)

    redis_url: str = Field(
        default="redis://127.0.0.1:16379/0", description="Redis holding the values."
    )
    prefix: str = Field(
        default="jarvis:kv:", description="Prepended to every key, to share a Redis."
    )
    idempotency_ttl_s: int = Field(
        default=7 * 24 * 3600,
        gt=0,
        description="How long incr remembers a result per idempotency key: longer than an "
        "execution can plausibly stay suspended before it resumes and re-runs the call.",
    )
    socket_timeout_s: float = Field(
        default=5.0,
        gt=0,
        description="Connect and read timeout; a stalled Redis fails the attempt (retried) "
        "well before the procedure's 10 s attempt budget.",
    )


def _not_reserved(key: str) -> str:
    if key.startswith(RESERVED):
        raise ValueError(f"keys starting with {RESERVED!r} are reserved for idempotency records")
    return key


Key = Annotated[str, Field(min_length=1, max_length=1024), AfterValidator(_not_reserved)]

# KEYS[1] the counter, KEYS[2] the idempotency record; ARGV[1] the increment, ARGV[2] the TTL.
# One script, so the check, the increment and the record are atomic: two attempts of the
# same call racing (one abandoned after a timeout) still count once.
_INCR = """
local done = redis.call('GET', KEYS[2])
if done then return done end
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], value, 'EX', ARGV[2])
return tostring(value)
"""
# Results come back as text: Lua numbers are doubles, text keeps every digit of the stored
# result on a repeat. (INCRBY's own reply to Lua is a double, so a counter beyond 2**53 may
# round on its first increment; use it for counts, not for 64-bit ids.)

book = Book(
    "kv", description="JSON key-value store on Redis; incr is idempotent per call.", config=KvConfig
)


@functools.lru_cache(maxsize=8)
def _client(url: str, socket_timeout_s: float) -> redis.Redis[str]:
    # One pooled client per URL for the process (redis.Redis is thread-safe). Its own retries
    # are off: the Book's RetryPolicy is the single place that decides, logs and backs off.
    return redis.Redis.from_url(
        url,
        socket_timeout=socket_timeout_s,
        socket_connect_timeout=socket_timeout_s,
        retry=Retry(NoBackoff(), 0),
        decode_responses=True,
    )


def _redis(ctx: BookContext[KvConfig]) -> redis.Redis[str]:
    return _client(ctx.config.redis_url, ctx.config.socket_timeout_s)


@functools.lru_cache(maxsize=8)
def _incr_script(url: str, socket_timeout_s: float) -> Script:
    # EVALSHA with a fallback to EVAL when Redis lost its script cache (a restart).
    return _client(url, socket_timeout_s).register_script(_INCR)


@book.procedure(timeout_s=10.0)
def get(ctx: BookContext[KvConfig], key: Key, default: JsonValue = None) -> JsonValue:
    """The value stored under ``key``, or ``default`` when there is none."""
    raw: Any = _redis(ctx).get(ctx.config.prefix + key)
    if raw is None:
        return default
    try:
        value: JsonValue = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise NonRetryable(
            f"the value under {key!r} is not JSON (written outside the kv Book?)"
        ) from exc
    return value


@book.procedure(timeout_s=10.0)
def put(ctx: BookContext[KvConfig], key: Key, value: JsonValue) -> None:
    """Store ``value`` (any JSON data) under ``key``."""
    _redis(ctx).set(ctx.config.prefix + key, orjson.dumps(value))


@book.procedure(timeout_s=10.0)
def incr(ctx: BookContext[KvConfig], key: Key, by: int = 1) -> int:
    """Add ``by`` to the integer under ``key`` (0 when absent); return the new value, once per call."""
    prefix = ctx.config.prefix
    try:
        script = _incr_script(ctx.config.redis_url, ctx.config.socket_timeout_s)
        result: Any = script(
            keys=[prefix + key, f"{prefix}{RESERVED}{ctx.idempotency_key}"],
            args=[by, ctx.config.idempotency_ttl_s],
        )
    except redis.exceptions.ResponseError as exc:
        if "not an integer" in str(exc) or "WRONGTYPE" in str(exc):
            raise InvalidInput(f"the value under {key!r} is not an integer: {exc}") from exc
        raise
    return int(result)
