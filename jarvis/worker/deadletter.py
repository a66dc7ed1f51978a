"""What a dead letter on ``spy_control.dlq`` holds: the original message and why it was refused.

Headers, in this order, each exactly once:

- ``jarvis.error.reason``, ``jarvis.error.field``: why (one short line) and which field
  (a dotted JSON path, ``key`` for the Kafka key, empty for the message as a whole);
- ``jarvis.source.topic``, ``jarvis.source.partition``, ``jarvis.source.offset``;
- ``jarvis.dead_lettered_at`` (ISO 8601, UTC) and ``jarvis.worker``;
- only when the original did not fit (``JARVIS_MAX_DEAD_LETTER_BYTES``):
  ``jarvis.value.truncated`` = ``true`` and ``jarvis.value.original_bytes`` (the value is
  a prefix of the original), ``jarvis.value.ref`` (where the whole original is stored, when
  the worker could store it), ``jarvis.key.truncated`` / ``jarvis.key.original_bytes``,
  ``jarvis.headers.dropped`` (how many original headers were left out);
- then the original message's own headers, each renamed ``original.<name>``: a producer's
  header can never pose as one of the worker's (``jarvis.*``), however it is spelled.

Pure: ``build`` and ``after_failure`` are unit-tested without a broker.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jarvis.errors import MAX_FIELD_CHARS, MAX_REASON_CHARS, clip
from jarvis.worker.backoff import backoff

ORIGINAL_PREFIX = "original."
"""Prefix of the original message's headers in a dead letter."""

HEADER_OVERHEAD = 16
"""Bytes a header costs besides its name and value (varints), rounded up."""

RECORD_OVERHEAD = 128
"""Bytes a record costs besides key, value and headers (attributes, varints), rounded up."""

MAX_KEY_BYTES = 1024
"""A longer original key is truncated (keys are execution ids, at most 128 characters)."""

Header = tuple[str, bytes]


@dataclass(frozen=True)
class Source:
    """The refused message and why: everything a dead letter is built from."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]]
    reason: str
    field: str | None
    worker: str
    at: str  # ISO 8601


@dataclass(frozen=True)
class DeadLetter:
    key: bytes | None
    value: bytes | None
    headers: list[Header] = field(default_factory=list)
    truncated: bool = False

    @property
    def size(self) -> int:
        return (
            len(self.key or b"")
            + len(self.value or b"")
            + sum(len(n.encode()) + len(v) + HEADER_OVERHEAD for n, v in self.headers)
            + RECORD_OVERHEAD
        )


def _size(headers: list[Header]) -> int:
    return sum(len(n.encode()) + len(v) + HEADER_OVERHEAD for n, v in headers)


def build(source: Source, max_bytes: int, value_ref: str | None = None) -> DeadLetter:
    """The dead letter of ``source``, at most ``max_bytes`` (key + value + headers)."""
    headers: list[Header] = [
        ("jarvis.error.reason", clip(source.reason, MAX_REASON_CHARS).encode()),
        ("jarvis.error.field", clip(source.field or "", MAX_FIELD_CHARS).encode()),
        ("jarvis.source.topic", source.topic.encode()),
        ("jarvis.source.partition", str(source.partition).encode()),
        ("jarvis.source.offset", str(source.offset).encode()),
        ("jarvis.dead_lettered_at", source.at.encode()),
        ("jarvis.worker", clip(source.worker, 256).encode()),
    ]
    key = source.key
    if key is not None and len(key) > MAX_KEY_BYTES:
        headers += [
            ("jarvis.key.truncated", b"true"),
            ("jarvis.key.original_bytes", str(len(key)).encode()),
        ]
        key = key[:MAX_KEY_BYTES]
    original = [(ORIGINAL_PREFIX + name, value or b"") for name, value in source.headers]
    value = source.value
    own = _size(headers) + len(key or b"") + RECORD_OVERHEAD
    room = max_bytes - own - 256  # 256: the truncation headers below
    # The original's headers may take a quarter of what is left; the value keeps the rest.
    kept: list[Header] = []
    used = 0
    for h in original:
        cost = _size([h])
        if used + cost > room // 4:
            break
        kept.append(h)
        used += cost
    if len(kept) < len(original):
        headers.append(("jarvis.headers.dropped", str(len(original) - len(kept)).encode()))
    truncated = False
    if value is not None and len(value) > room - used:
        headers += [
            ("jarvis.value.truncated", b"true"),
            ("jarvis.value.original_bytes", str(len(value)).encode()),
        ]
        if value_ref is not None:
            headers.append(("jarvis.value.ref", value_ref.encode()))
        value = value[: max(0, room - used)]
        truncated = True
    return DeadLetter(key, value, headers + kept, truncated)


def original_headers(raw: object) -> list[tuple[str, bytes | None]]:
    """A consumed message's headers as a list of (name, value), whatever form they came in."""
    if not raw:
        return []
    items = list(raw.items()) if isinstance(raw, dict) else list(raw)  # type: ignore[call-overload]
    out: list[tuple[str, bytes | None]] = []
    for name, value in items:
        if isinstance(value, str):
            value = value.encode()
        out.append((str(name), value))
    return out


# --- what to do when a dead letter could not be delivered ---------------------------------


@dataclass(frozen=True)
class RetryDeadLetter:
    delay_s: float


@dataclass(frozen=True)
class GiveUp:
    """Tried enough: log the message whole and let its offset move on (a partition never
    waits for good behind one message it cannot dead-letter)."""


def after_failure(attempt: int, max_attempts: int) -> RetryDeadLetter | GiveUp:
    """After the ``attempt``-th failed try (1-based): retry with backoff, or give up.
    (Size refusals never get here: the publisher resends those smaller by itself.)"""
    if attempt >= max_attempts:
        return GiveUp()
    return RetryDeadLetter(delay_s=backoff(attempt, 0.2, 5.0))
