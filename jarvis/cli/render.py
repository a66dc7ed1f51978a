"""Human-readable (and --json) rendering of log records and lifecycle events."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.text import Text

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

    def __enter__(self) -> ConsoleSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.out.flush()


_STATES = {
    "accepted": "queued",
    "started": "running",
    "resumed": "running",
}


class LiveView:
    """``jarvis submit --follow`` on a terminal: log lines scroll by above a status panel
    (state, worker, elapsed, records, the Book call being retried), which is replaced by the
    outcome (result, artifacts, or the SPy traceback) at the end.

    A SPy program makes one Book call at a time, and a Book call reaches the log when it
    ends (kind ``book``) or when an attempt fails (``book_attempt``): the call shown "in
    flight" is the one whose failed attempt is the latest record.
    """

    def __init__(self, execution_id: str, console: Console | None = None) -> None:
        self.execution_id = execution_id
        self.console = console or Console(highlight=False)
        self.state = "submitted"
        self.worker: str | None = None
        self.records = 0
        self.retrying: dict[str, Any] | None = None
        self.began = time.monotonic()
        self.live = Live(
            self, console=self.console, refresh_per_second=8, transient=True, redirect_stdout=False
        )

    def __rich__(self) -> RenderableType:
        elapsed = time.monotonic() - self.began
        head = Text.assemble(
            (f"{self.execution_id} ", "bold"),
            (self.state.upper(), "cyan"),
            f" on {self.worker}" if self.worker else "",
            f"  {elapsed:.1f} s  {self.records} log records",
        )
        lines: list[RenderableType] = [head]
        if self.retrying is not None:
            r = self.retrying
            lines.append(
                Text(
                    f"  Book call in flight: {r.get('book')}.{r.get('procedure')} "
                    f"(attempt {r.get('attempt')} failed: {r.get('error_type')}: "
                    f"{_short(r.get('message'))}; retrying in {r.get('delay_s')} s)",
                    style="yellow",
                )
            )
        return Group(*lines)

    def update(self, update: LogRecord | LifecycleEvent) -> None:
        if isinstance(update, LogRecord):
            self.records += 1
            data = update.model_dump(mode="json")
            if update.kind == "book_attempt" and isinstance(update.value, dict):
                self.retrying = dict(update.value)
            else:
                self.retrying = None
            self.live.console.print(Text(record_line(data)), soft_wrap=True)
            return
        self.state = _STATES.get(update.event, update.event)
        self.worker = update.worker or self.worker
        if update.event in ("accepted", "started", "resumed"):
            self.live.console.print(
                Text(f"== {update.event} on {update.worker}", style="blue"), soft_wrap=True
            )
        if update.terminal:
            self.retrying = None
            self.live.stop()
            style = "green" if update.event == "completed" else "red"
            self.console.print(Text(event_line(update), style=style), soft_wrap=True)
            self.console.print(
                Text(f"   {time.monotonic() - self.began:.1f} s, {self.records} log records"),
                soft_wrap=True,
            )

    def __enter__(self) -> LiveView:
        self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.stop()
