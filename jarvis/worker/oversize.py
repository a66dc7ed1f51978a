"""Making lifecycle events and log records fit a Kafka message, whatever they hold.

A message larger than the producer's or the topic's limit is refused by Kafka
(MSG_SIZE_TOO_LARGE), and an output that cannot be produced would either kill the worker or
leave its execution's offset stuck. So an output that does not fit is shrunk first: long
texts are clipped ("… [12,345 more chars]"), long lists keep their ends ("[9,990 more
frames]"), and what was dropped is listed in the label ``jarvis.truncated``. If that is
still too big, the event is replaced by a minimal one of the same type and execution id.
Pure functions: unit-tested without a broker.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from jarvis.contract.messages import ErrorInfo, LifecycleEvent, TraceFrame

log = logging.getLogger("jarvis.worker")

TRUNCATED_LABEL = "jarvis.truncated"
"""Label of a shrunk event: what was clipped or dropped, e.g. ``error.traceback: 1,234,567
more chars; labels: 9,990 more``."""

MESSAGE_CHARS = 4096
TRACEBACK_CHARS = 16384
FRAMES_KEPT = 20  # at each end of the list
LINE_CHARS = 500
LABELS_KEPT = 100
LABEL_CHARS = 1024
ARTIFACTS_KEPT = 1000


def clip_text(text: str, limit: int, notes: list[str] | None = None, what: str = "") -> str:
    """``text`` cut to about ``limit`` characters, saying how many were dropped."""
    if len(text) <= limit:
        return text
    dropped = len(text) - limit
    if notes is not None and what:
        notes.append(f"{what}: {dropped:,} more chars")
    return f"{text[:limit]}… [{dropped:,} more chars]"


def clip_middle(text: str, limit: int, notes: list[str] | None = None, what: str = "") -> str:
    """Keep both ends (a traceback's last lines name the error)."""
    if len(text) <= limit:
        return text
    dropped = len(text) - limit
    if notes is not None and what:
        notes.append(f"{what}: {dropped:,} more chars")
    half = limit // 2
    return f"{text[:half]}\n… [{dropped:,} more chars]\n{text[-half:]}"


def _frames(frames: list[TraceFrame], notes: list[str]) -> list[TraceFrame]:
    def small(f: TraceFrame) -> TraceFrame:
        if len(f.function) <= LINE_CHARS and len(f.source_line) <= LINE_CHARS:
            return f
        return f.model_copy(
            update={
                "function": clip_text(f.function, LINE_CHARS),
                "source_line": clip_text(f.source_line, LINE_CHARS),
            }
        )

    if len(frames) <= 2 * FRAMES_KEPT:
        return [small(f) for f in frames]
    dropped = len(frames) - 2 * FRAMES_KEPT
    notes.append(f"error.frames: {dropped:,} more")
    marker = TraceFrame(function="…", line=0, col=0, source_line=f"[{dropped:,} more frames]")
    return (
        [small(f) for f in frames[:FRAMES_KEPT]]
        + [marker]
        + [small(f) for f in frames[-FRAMES_KEPT:]]
    )


def shrink_event(event: LifecycleEvent, budget: int) -> LifecycleEvent:
    """The same event with long texts and lists clipped; notes in ``jarvis.truncated``."""
    notes: list[str] = []
    update: dict[str, Any] = {}
    if event.error is not None:
        e = event.error
        update["error"] = ErrorInfo(
            type=clip_text(e.type, 200, notes, "error.type"),
            message=clip_text(e.message, MESSAGE_CHARS, notes, "error.message"),
            line=e.line,
            col=e.col,
            frames=_frames(e.frames, notes),
            traceback=clip_middle(e.traceback, TRACEBACK_CHARS, notes, "error.traceback"),
        )
    labels = dict(list(event.labels.items())[:LABELS_KEPT])
    if len(event.labels) > LABELS_KEPT:
        notes.append(f"labels: {len(event.labels) - LABELS_KEPT:,} more")
    if any(len(k) > 256 or len(v) > LABEL_CHARS for k, v in labels.items()):
        notes.append("labels: long keys or values clipped")
        labels = {clip_text(k, 256): clip_text(v, LABEL_CHARS) for k, v in labels.items()}
    if len(event.artifacts) > ARTIFACTS_KEPT:
        notes.append(f"artifacts: {len(event.artifacts) - ARTIFACTS_KEPT:,} more")
        update["artifacts"] = event.artifacts[:ARTIFACTS_KEPT]
    if event.result is not None:
        try:
            size = len(orjson.dumps(event.result))
        except (TypeError, orjson.JSONEncodeError):  # too deep or too big an int for orjson
            size = budget
        if size > budget // 2:
            notes.append(f"result: {size:,} bytes not inline")
            update["result"] = None
            update["result_bytes"] = event.result_bytes or size
    update["worker"] = clip_text(event.worker, 256)
    if notes:
        labels[TRUNCATED_LABEL] = clip_text("; ".join(notes), LABEL_CHARS)
    update["labels"] = labels
    return event.model_copy(update=update)


def minimal_event(event: LifecycleEvent, original_bytes: int | None) -> LifecycleEvent:
    """A small valid event of the same type and execution id: always fits."""
    error = None
    if event.error is not None:
        error = ErrorInfo(
            type=clip_text(event.error.type, 200),
            message=clip_text(event.error.message, 1000),
            line=event.error.line,
            col=event.error.col,
            traceback=clip_middle(event.error.traceback, 2000),
        )
    size = f"{original_bytes:,} bytes" if original_bytes is not None else "an unencodable event"
    return LifecycleEvent(
        execution_id=event.execution_id,
        event=event.event,
        at=event.at,
        worker=clip_text(event.worker, 256),
        program_digest=event.program_digest,
        result_type=None if event.result_type is None else clip_text(event.result_type, 200),
        result_ref=event.result_ref,
        result_bytes=event.result_bytes,
        result_url=event.result_url,
        result_url_expires_at=event.result_url_expires_at,
        error=error,
        stop_mode=event.stop_mode,
        log_records=event.log_records,
        labels={TRUNCATED_LABEL: f"replaced by a minimal event: the original was {size}"},
    )


def encode_event(event: LifecycleEvent, budget: int) -> bytes:
    """The event's JSON, shrunk or replaced until it is at most ``budget`` bytes."""
    try:
        data = event.model_dump_json().encode()
    except Exception as exc:  # a result pydantic cannot serialise: still announce the outcome
        log.error(
            "event %s of %s cannot be encoded (%s); sending a minimal one",
            event.event,
            event.execution_id,
            exc,
        )
        return minimal_event(event, None).model_dump_json().encode()
    if len(data) <= budget:
        return data
    try:
        shrunk = shrink_event(event, budget).model_dump_json().encode()
    except Exception:
        shrunk = b""
    if shrunk and len(shrunk) <= budget:
        log.warning(
            "event %s of %s was %d bytes; sent clipped (%d bytes)",
            event.event,
            event.execution_id,
            len(data),
            len(shrunk),
        )
        return shrunk
    log.error(
        "event %s of %s was %d bytes; sent a minimal one",
        event.event,
        event.execution_id,
        len(data),
    )
    return minimal_event(event, len(data)).model_dump_json().encode()


RECORD_IDENTITY = (
    "version",
    "execution_id",
    "seq",
    "kind",
    "line",
    "col",
    "end_line",
    "end_col",
    "type",
    "at",
    "ts",
)


def encode_record(record: dict[str, Any], budget: int) -> bytes:
    """A log record's JSON, at most ``budget`` bytes: its identity (execution_id, seq) always
    survives, so no seq goes missing; the value becomes a clipped JSON text (``truncated``)."""
    try:
        data = orjson.dumps(record)
    except (TypeError, orjson.JSONEncodeError) as exc:
        log.error(
            "log record %s of %s cannot be encoded: %s",
            record.get("seq"),
            record.get("execution_id"),
            exc,
        )
        data = b""
    if data and len(data) <= budget:
        return data
    small = dict(record)
    for name, value in record.items():
        if isinstance(value, str) and len(value) > budget // 8:
            small[name] = clip_text(value, budget // 8)
    if "value" in record:
        try:
            text = orjson.dumps(record["value"]).decode()
        except (TypeError, orjson.JSONEncodeError):
            text = "<unencodable value>"
        if len(text) > budget // 4:
            small["value"] = clip_text(text, budget // 4)
            small["truncated"] = True
    try:
        data = orjson.dumps(small)
    except (TypeError, orjson.JSONEncodeError):
        data = b""
    if data and len(data) <= budget:
        return data
    minimal = {k: record[k] for k in RECORD_IDENTITY if k in record}
    for name in ("kind", "type", "execution_id"):
        if isinstance(minimal.get(name), str):
            minimal[name] = clip_text(minimal[name], 256)
    minimal.update(source="", value=None, truncated=True, value_ref=None)
    return orjson.dumps(minimal, default=str)
