"""What a procedure knows about the call it is serving."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Generic

from typing_extensions import TypeVar

ConfigT = TypeVar("ConfigT", default=Any)


@dataclass(frozen=True)
class BookContext(Generic[ConfigT]):
    """Passed as the first argument of every procedure.

    ``idempotency_key`` is ``<execution_id>:<effect_seq>``: the same on every attempt of a
    call and on the re-run of a call that was in flight when a pod crashed. Send it to the
    remote system (``Idempotency-Key`` header, a dedup table) whenever the call changes
    something, so that a repeat is harmless.

    ``config`` is the Book's settings object (``Book(config=...)``), validated once when the
    Book was resolved; annotate ``ctx: BookContext[MyConfig]`` to have it typed.

    ``cancelled`` is set when the caller stops waiting for this attempt (its timeout passed,
    or the execution is stopping). A sync procedure cannot be killed, so it keeps running on
    its thread; long procedures should check it between steps and give up early.
    """

    book: str
    procedure: str
    execution_id: str
    idempotency_key: str
    attempt: int
    """1 on the first attempt, 2 on the first retry..."""
    timeout_s: float | None
    """This attempt's time budget: pass it (or less) to the clients the procedure uses."""
    config: ConfigT
    logger: logging.LoggerAdapter[logging.Logger]
    cancelled: threading.Event = field(default_factory=threading.Event, compare=False)
