"""The ``counter`` Book of the fault suite: every call leaves a trace in Redis.

Workers load it with ``JARVIS_EXTRA_BOOKS='["tests.fault.books:counter"]'`` (cwd = repo root).
Each call RPUSHes one JSON entry to ``JARVIS_BOOK_COUNTER_LOG_KEY`` *before* doing anything
else, so the list is the ground truth of which calls ran, where, with which idempotency key:

    {"key": "<execution_id>:<effect_seq>", "eid": ..., "i": ..., "x": ..., "attempt": 1,
     "pid": 1234, "worker": "w1", "t": 1700000000.1, "journaled": false}

``journaled`` is the guarantee under test, checked at the moment of the call: the
execution's journal (read-only, under ``JARVIS_BOOK_COUNTER_JOURNAL_ROOT``) already holds
the outcome of this very effect. A Book call whose result was journaled must never run
again, so every ``journaled: true`` entry is a violation.

``bump(i, x, hold_s=0)`` returns ``next_value(i, x)``: deterministic, so the test knows each
execution's right result. ``hold_s`` keeps the call in flight for a while (so kills and
stops land mid-call); it gives up early when the caller abandons the attempt.
"""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path
from typing import Any

import orjson
import redis
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from jarvis.bdk import Book, BookContext, RetryPolicy
from jarvis.errors import JournalError
from jarvis.journal import Journal

MODULUS = 1_000_003


def next_value(i: int, x: int) -> int:
    """What ``counter.bump(i, x)`` returns."""
    return (x * 31 + i + 7) % MODULUS


def expected_total(seed: int, n: int) -> int:
    """The result of ``chain_program`` for these inputs."""
    x = seed
    for i in range(n):
        x = next_value(i, x)
    return x


class CounterConfig(BaseSettings):
    """Settings of the ``counter`` Book (environment: ``JARVIS_BOOK_COUNTER_<FIELD>``)."""

    model_config = SettingsConfigDict(
        env_prefix="JARVIS_BOOK_COUNTER_", extra="ignore", frozen=True
    )

    redis_url: str = Field(
        default="redis://127.0.0.1:16379/0", description="Where the call log goes."
    )
    log_key: str = Field(default="jarvis:fault:calls", description="Redis list of every call made.")
    journal_root: Path | None = Field(
        default=None, description="The worker's checkpoint dir, to flag calls already journaled."
    )


@functools.lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis[bytes]:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def already_journaled(root: Path | None, execution_id: str, seq: int) -> bool:
    """Whether the journal already holds effect ``seq``'s outcome, as a resume would read it.

    ``Journal.read`` on purpose: ``Journal.open`` truncates a torn tail, which must never be
    done to a journal another process may be appending to.
    """
    if root is None:
        return False
    try:
        history = Journal.read(root, execution_id)
    except JournalError:
        return False
    return any(e.seq == seq for e in history.effects)


counter = Book(
    "counter", description="Fault-suite Book: logs every call to Redis.", config=CounterConfig
)

# Patient retries: the call log lives in the same Redis the Redis-restart test bounces.
_PATIENT = RetryPolicy(max_attempts=40, base_s=0.2, cap_s=1.0)


@counter.procedure(timeout_s=10.0, retry=_PATIENT)
def bump(ctx: BookContext[CounterConfig], i: int, x: int, hold_s: float = 0.0) -> int:
    """Record the call, hold it ``hold_s`` seconds, return ``next_value(i, x)``."""
    eid, _, seq = ctx.idempotency_key.rpartition(":")
    entry: dict[str, Any] = {
        "key": ctx.idempotency_key,
        "eid": ctx.execution_id,
        "i": i,
        "x": x,
        "attempt": ctx.attempt,
        "pid": os.getpid(),
        "worker": os.environ.get("JARVIS_WORKER_ID", ""),
        "t": time.time(),
        "journaled": already_journaled(ctx.config.journal_root, eid, int(seq)),
    }
    _client(ctx.config.redis_url).rpush(ctx.config.log_key, orjson.dumps(entry))
    if hold_s > 0:
        ctx.cancelled.wait(hold_s)
    return next_value(i, x)
