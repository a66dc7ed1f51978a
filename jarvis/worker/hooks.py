"""Lifecycle hooks: metrics, the pod-deletion cost and the health view subscribe to the
worker's events instead of being edited into its loop (CONVENTIONS.md §7)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from jarvis.contract.messages import LifecycleEvent

log = logging.getLogger("jarvis.worker")


class Progress(Protocol):
    """An execution's output in flight (``Outbox``): the seq of its last log record, -1 if none."""

    last_seq: int


class WorkerHooks:
    """Base subscriber: override what you need. Hooks must be quick and must not raise."""

    def accepted(self, execution_id: str) -> None: ...
    def started(self, execution_id: str) -> None: ...
    def finished(self, execution_id: str, event: str, duration_s: float) -> None: ...

    def outcome(
        self, execution_id: str, event: str, error_type: str | None, duration_s: float
    ) -> None:
        """An execution reached an outcome (``event``: completed, failed, stopped, rejected),
        with the error's type when it has one. The worker calls this, not ``finished``; a
        subscriber that only cares about the outcome overrides ``finished``."""
        self.finished(execution_id, event, duration_s)

    def handed_off(self, execution_id: str) -> None: ...
    def dead_lettered(self, reason: str) -> None: ...
    def rebalanced(self, assigned: int) -> None: ...
    def load(self, running: int, capacity: int) -> None: ...

    def lifecycle(self, event: LifecycleEvent, attempt: int, output: Progress | None) -> None:
        """A lifecycle event as the worker produces it (before delivery). ``attempt``: the
        fencing token of the lease it was produced under, 0 before any (accepted, rejected);
        ``output``: the execution's output, whose ``last_seq`` moves as it logs."""

    def dead_lettered_message(self, reason: str, field: str | None, value: bytes | None) -> None:
        """A control message sent to the dead-letter topic (its value, possibly a start)."""


class HookList(WorkerHooks):
    """Fans each event out to every subscriber; a failing subscriber is logged, not fatal."""

    def __init__(self, hooks: list[WorkerHooks] | None = None) -> None:
        self.hooks = list(hooks or [])

    def _each(self, name: str, *args: Any) -> None:
        for hook in self.hooks:
            try:
                getattr(hook, name)(*args)
            except Exception:
                log.exception("hook %s.%s failed", type(hook).__name__, name)

    def accepted(self, execution_id: str) -> None:
        self._each("accepted", execution_id)

    def started(self, execution_id: str) -> None:
        self._each("started", execution_id)

    def finished(self, execution_id: str, event: str, duration_s: float) -> None:
        self._each("finished", execution_id, event, duration_s)

    def outcome(
        self, execution_id: str, event: str, error_type: str | None, duration_s: float
    ) -> None:
        self._each("outcome", execution_id, event, error_type, duration_s)

    def handed_off(self, execution_id: str) -> None:
        self._each("handed_off", execution_id)

    def dead_lettered(self, reason: str) -> None:
        self._each("dead_lettered", reason)

    def rebalanced(self, assigned: int) -> None:
        self._each("rebalanced", assigned)

    def load(self, running: int, capacity: int) -> None:
        self._each("load", running, capacity)

    def lifecycle(self, event: LifecycleEvent, attempt: int, output: Progress | None) -> None:
        self._each("lifecycle", event, attempt, output)

    def dead_lettered_message(self, reason: str, field: str | None, value: bytes | None) -> None:
        self._each("dead_lettered_message", reason, field, value)
