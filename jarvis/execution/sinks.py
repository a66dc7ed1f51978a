"""Where an execution's log records and lifecycle events go."""

from __future__ import annotations

from typing import Any, Protocol

from jarvis.contract.messages import LifecycleEvent


class Sink(Protocol):
    """Receives an execution's output. Implementations: Kafka (worker), console (jarvis run)."""

    def log(self, execution_id: str, record: dict[str, Any]) -> None:
        """One raw log record, already shaped as ``LogRecord`` JSON (dict for speed)."""

    def event(self, event: LifecycleEvent) -> None:
        """One lifecycle event."""


class ListSink:
    """Keeps everything in memory: for tests and embedding."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.events: list[LifecycleEvent] = []

    def log(self, execution_id: str, record: dict[str, Any]) -> None:
        self.records.append(record)

    def event(self, event: LifecycleEvent) -> None:
        self.events.append(event)
