"""One execution's output on its way to Kafka: what is still in flight, and what failed.

The output-commit rule (DESIGN.md §2) needs "everything this execution produced is on the
broker" twice: before its journal's end record (else a crash loses log records for good:
a redelivered start only re-announces a finished execution) and before its offset is
committed. A producer ``flush()`` answers a different question (is *every* execution's
output delivered?), which under load is rarely true and costs each execution the wait of
all the others. The Outbox counts this execution's own deliveries instead.

Delivery reports run on the publisher's poller thread (``KafkaPublisher.start_polling``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from confluent_kafka import KafkaError, Message

from jarvis.contract.messages import LifecycleEvent
from jarvis.worker.hooks import WorkerHooks
from jarvis.worker.publisher import SIZE_ERRORS, Headers, KafkaPublisher


class Outbox:
    """The ``Sink`` of one execution run by the worker."""

    def __init__(
        self,
        publisher: KafkaPublisher,
        hooks: WorkerHooks | None = None,
        headers: Headers | None = None,
    ) -> None:
        self.publisher = publisher
        self.hooks = hooks
        # The trace context every output carries (W3C traceparent/tracestate): the start's,
        # or the execution span's while one runs (jarvis.telemetry.tracing).
        self.headers = headers
        # Plain locks only: one Outbox per execution, and constructing a Condition (or an
        # Event, which holds one) was a few percent of the worker's CPU.
        self._lock = threading.Lock()
        self._waiters: list[threading.Lock] = []  # each held until nothing is in flight
        self.pending = 0
        self.failures = 0
        self.last_error: KafkaError | None = None
        self._drained: list[Callable[[bool], None]] = []
        self.attempt = 0  # the fencing token of the lease its run holds (0: none yet)
        self.last_seq = -1  # seq of the last log record produced (the live status view reads it)

    def _delivered(self, err: KafkaError | None, msg: Message | None) -> None:
        if (
            err is not None
            and msg is not None
            and err.code() in SIZE_ERRORS
            and self.publisher.resend_smaller(msg, self._delivered)
        ):
            return  # still in flight, smaller
        with self._lock:
            self.pending -= 1
            if err is not None:
                self.failures += 1
                self.last_error = err
            if self.pending > 0:
                return
            for waiter in self._waiters:
                waiter.release()
            self._waiters = []
            callbacks, self._drained = self._drained, []
            ok = self.failures == 0
        for callback in callbacks:
            callback(ok)

    def when_drained(self, callback: Callable[[bool], None]) -> None:
        """Call ``callback(all delivered without failure)`` once nothing is in flight: now, on
        this thread, if that is already so; else on the thread that sees the last delivery."""
        with self._lock:
            if self.pending > 0:
                self._drained.append(callback)
                return
            ok = self.failures == 0
        callback(ok)

    def _sent(self) -> None:
        with self._lock:
            self.pending += 1

    # Sink protocol
    def log(self, execution_id: str, record: dict[str, Any]) -> None:
        self._sent()
        self.last_seq = record["seq"]
        if self.headers is None:
            self.publisher.log(execution_id, record, self._delivered)
        else:
            self.publisher.log(execution_id, record, self._delivered, self.headers)

    def event(self, event: LifecycleEvent) -> None:
        if self.hooks is not None:
            if event.event in ("started", "resumed"):
                self.hooks.started(event.execution_id)
            self.hooks.lifecycle(event, self.attempt, self)
        self._sent()
        if self.headers is None:
            self.publisher.event(event, self._delivered)
        else:
            self.publisher.event(event, self._delivered, self.headers)

    def wait(self, timeout_s: float) -> bool:
        """Wait until nothing is in flight; True when it is all delivered with no failure."""
        with self._lock:
            if self.pending <= 0:
                return self.failures == 0
            waiter = threading.Lock()  # a plain lock as a one-shot signal: cheaper than an Event
            waiter.acquire()
            self._waiters.append(waiter)
        waiter.acquire(timeout=timeout_s)
        with self._lock:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            return self.pending <= 0 and self.failures == 0

    def reset_failures(self) -> int:
        """Forget failed deliveries (their content is being produced again); how many there were."""
        with self._lock:
            failed, self.failures = self.failures, 0
            return failed
