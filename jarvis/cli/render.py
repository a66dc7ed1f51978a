"""Human-readable (and --json) rendering of log records and lifecycle events."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

from jarvis.contract.messages import LifecycleEvent, LogRecord

_MAX_VALUE = 200


def _short(value: Any) -> str:
    text = orjson.dumps(value).decode() if not isinstance(value, str) else repr(value)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def record_line(record: dict[str, Any]) -> str:
    where = f"{record['line']}:{record['col'] + 1}"
    if record["kind"] == "print":
        return f"[{record['seq']:>4}] {where:<7} print  {record['value']}"
    return f"[{record['seq']:>4}] {where:<7} {record['kind']:<6} {record['source']}  → {_short(record['value'])} ({record['type']})"


def event_line(event: LifecycleEvent) -> str:
    head = f"== {event.execution_id} {event.event.upper()}"
    if event.event == "completed":
        head += f": result = {_short(event.result)} ({event.result_type}), {event.log_records} log records"
    elif event.error is not None:
        head += f"\n{event.error.traceback}"
    elif event.event == "stopped":
        head += f" ({event.stop_mode})"
    if event.event in ("accepted", "started", "resumed"):
        head += f" on {event.worker}"
    if event.result_url is not None:
        head += f"\n   result {event.result_ref}\n     url {event.result_url}"
        head += f"\n     (until {_when(event.result_url_expires_at)})"
    for art in event.artifacts:
        head += f"\n   artifact {art.name}: {art.uri} ({art.size} bytes)"
        if art.url is not None:
            head += f"\n     url {art.url}\n     (until {_when(art.url_expires_at)})"
    return head


def _when(at: datetime | None) -> str:
    return "?" if at is None else at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ConsoleSink:
    """Sink for ``jarvis run``: records and events to a stream, readable or JSON lines."""

    def __init__(self, json_lines: bool = False, out: TextIO | None = None) -> None:
        self.json = json_lines
        self.out = out or sys.stdout

    def log(self, execution_id: str, record: dict[str, Any]) -> None:
        if self.json:
            self.out.write(orjson.dumps({"log": record}).decode() + "\n")
        else:
            self.out.write(record_line(record) + "\n")

    def event(self, event: LifecycleEvent) -> None:
        if self.json:
            self.out.write(orjson.dumps({"event": event.model_dump(mode="json")}).decode() + "\n")
        else:
            self.out.write(event_line(event) + "\n")
        self.out.flush()

    def update(self, update: LogRecord | LifecycleEvent) -> None:
        if isinstance(update, LogRecord):
            self.log(update.execution_id, update.model_dump(mode="json"))
        else:
            self.event(update)
