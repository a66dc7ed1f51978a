"""The worker's own logs: readable text, or one JSON object per line (``JARVIS_LOG_FORMAT``).

A JSON line has ``ts`` (ISO 8601, UTC, microseconds), ``level``, ``logger``, ``message``,
``worker``, and when known ``execution_id``, ``trace_id`` and ``span_id``; ``exception``
holds the traceback text of a logged exception, ``stack`` a logged stack. The execution
thread says which execution it is working on (``bind``): a context variable, so threads it
starts with a copy of its context (Book attempts) log under the same execution. With tracing
on, ``trace_id``/``span_id`` are the current span's; with tracing off, ``trace_id`` is the
one in the start command's ``traceparent``.

Extra fields a caller passes (``log.info(..., extra={"attempt": 2})``) are kept when they are
JSON-able (else their ``repr``).
"""

from __future__ import annotations

import contextvars
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

import orjson

from jarvis.telemetry import tracing

LogFormat = Literal["text", "json"]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

ENABLED = False
"""True when JSON lines are on: only then does ``bind`` set anything."""

_context: contextvars.ContextVar[tuple[str, str | None] | None] = contextvars.ContextVar(
    "jarvis_log_context", default=None
)

# Attributes every LogRecord has: anything else on a record came from ``extra=``.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


def bind(execution_id: str, trace_id: str | None = None) -> contextvars.Token[Any] | None:
    """This thread (and threads started with a copy of its context) now works on
    ``execution_id``; returns the token for ``unbind``. Nothing happens with text logs."""
    if not ENABLED:
        return None
    return _context.set((execution_id, trace_id))


def unbind(token: contextvars.Token[Any] | None) -> None:
    if token is not None:
        _context.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def __init__(self, worker: str | None = None) -> None:
        super().__init__()
        self.worker = worker

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="microseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if self.worker is not None:
            line["worker"] = self.worker
        bound = _context.get()
        if bound is not None:
            line["execution_id"] = bound[0]
            if bound[1] is not None:
                line["trace_id"] = bound[1]
        ids = tracing.current_ids()
        if ids is not None:
            line["trace_id"], line["span_id"] = ids
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in line:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(line, default=repr).decode()


def setup(
    log_format: LogFormat = "text",
    level: str | int = "INFO",
    worker: str | None = None,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Configure the root logger for the worker: one handler on ``stream`` (stderr), text or
    JSON lines. Replaces handlers an earlier call installed. Returns the handler."""
    global ENABLED
    if isinstance(level, str):
        level = level.upper()
        if level not in logging.getLevelNamesMapping():
            valid = ", ".join(n for n in logging.getLevelNamesMapping() if n != "NOTSET")
            raise ValueError(f"log level {level!r} is not one of {valid}")
    handler = logging.StreamHandler(stream or sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter(worker))
    elif log_format == "text":
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    else:
        raise ValueError(f"log format {log_format!r} is not one of text, json")
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_jarvis", False):
            root.removeHandler(old)
    handler._jarvis = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    ENABLED = log_format == "json"
    return handler
