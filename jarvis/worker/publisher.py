"""Producing log records, lifecycle events and dead letters to Kafka.

Nothing here raises out for what it was given to send: an output too large for Kafka is
shrunk first (``jarvis.worker.oversize``, ``jarvis.worker.deadletter``), and a delivery
refused as too large (the topic's limit is lower than ours) is sent again smaller. A dead
letter is retried until it is delivered: its ``on_delivery`` is called once, with success,
because the control message's offset may only move on once its dead letter is on the
broker (DESIGN.md §2: an offset is eventually committed while the worker is healthy).

Resends are never produced from inside a delivery callback (librdkafka runs those inside
``poll``/``flush``, and a produce that meets a full queue would poll again from within the
callback); callbacks queue them and ``poll``/``flush`` send them once librdkafka returns.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, cast

import orjson
from confluent_kafka import KafkaError, KafkaException, Message, Producer

from jarvis.contract.messages import LifecycleEvent
from jarvis.kafka.config import producer_config
from jarvis.settings import Settings
from jarvis.telemetry import tracing
from jarvis.worker import deadletter
from jarvis.worker.oversize import encode_event, encode_record, minimal_event

log = logging.getLogger("jarvis.worker")

Delivered = Callable[[KafkaError | None, Message], None]
Headers = list[tuple[str, bytes]]
Spill = Callable[[str, bytes], str]
"""Stores a dead letter's whole original value under a name; returns its URI."""

SIZE_ERRORS = frozenset(
    {
        KafkaError.MSG_SIZE_TOO_LARGE,  # the producer's message.max.bytes, or the topic's limit
        KafkaError.RECORD_LIST_TOO_LARGE,
        KafkaError.INVALID_MSG_SIZE,
    }
)

PRODUCER_OVERHEAD_BYTES = 64 * 1024
"""Room above our own size budgets for librdkafka's framing of one message."""


SHRINK_ATTEMPTS = 4
"""A dead letter refused as too large is sent again at a quarter of the size, this often,
then with an empty value (the headers still say why and where from)."""


def producer_max_bytes(settings: Settings) -> int:
    """The producer's ``message.max.bytes``: our largest budget plus librdkafka's framing."""
    return max(settings.max_event_bytes, settings.max_dead_letter_bytes) + PRODUCER_OVERHEAD_BYTES


class ProducerLike(Protocol):
    def produce(
        self,
        topic: str,
        value: Any = ...,
        key: Any = ...,
        headers: Any = ...,
        on_delivery: Any = ...,
    ) -> None: ...
    def poll(self, timeout: float = ...) -> int: ...
    def flush(self, timeout: float = ...) -> int: ...


@dataclass
class _Resend:
    due: float
    send: Callable[[], None]


class KafkaPublisher:
    """One thread-safe producer shared by the loop and every execution thread.

    confluent-kafka's Producer is thread-safe (unlike its Consumer); delivery callbacks
    run inside ``poll``/``flush``, which the worker loop (and execution threads, flushing
    their output) call. ``spill``, when given, stores the whole original of a dead letter
    too large to forward; the dead letter then carries its URI (``jarvis.value.ref``).
    """

    def __init__(
        self,
        settings: Settings,
        producer: ProducerLike | None = None,
        spill: Spill | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.clock = clock  # when resends are due (tests pass their own)
        # confluent-kafka's stubs type produce() more loosely than our protocol: cast.
        self.producer = producer or cast(
            ProducerLike,
            Producer(
                producer_config(settings, **{"message.max.bytes": producer_max_bytes(settings)})
            ),
        )
        self.spill = spill
        self.failures = 0
        self.shrunk = 0  # outputs sent smaller than they were made (metrics, tests)
        self._resends: list[_Resend] = []
        self._lock = threading.Lock()
        self._poller: threading.Thread | None = None
        self._halt = threading.Event()

    # --- producing ---

    def _produce(
        self,
        topic: str,
        key: str | bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes]] | None = None,
        on_delivery: Delivered | None = None,
    ) -> KafkaError | None:
        """Queue one message; the error instead of an exception when librdkafka refuses it."""
        while True:
            try:
                self.producer.produce(
                    topic,
                    value=value,
                    key=key,
                    headers=headers,
                    on_delivery=on_delivery or self._delivered,
                )
                return None
            except BufferError:
                # Local queue full: let deliveries drain instead of buffering without bound.
                self.producer.poll(0.1)
            except KafkaException as exc:
                err = exc.args[0] if exc.args and isinstance(exc.args[0], KafkaError) else None
                return err if err is not None else KafkaError(KafkaError._FAIL, str(exc))
            except (TypeError, ValueError) as exc:  # never for what we build; still not fatal
                return KafkaError(KafkaError._INVALID_ARG, str(exc))

    def _delivered(self, err: KafkaError | None, msg: Message | None) -> None:
        if err is not None:
            self.failures += 1
            log.error("delivery to %s failed: %s", msg.topic() if msg is not None else "?", err)

    def _later(self, delay_s: float, send: Callable[[], None]) -> None:
        with self._lock:
            self._resends.append(_Resend(self.clock() + delay_s, send))

    def _resend_due(self) -> int:
        now = self.clock()
        with self._lock:
            due = [r for r in self._resends if r.due <= now]
            if not due:
                return 0
            self._resends = [r for r in self._resends if r.due > now]
        for r in due:
            r.send()
        return len(due)

    def pending_resends(self) -> int:
        with self._lock:
            return len(self._resends)

    # --- outputs of executions (the Sink protocol) ---

    def _output(
        self,
        topic: str,
        key: str,
        data: bytes,
        what: str,
        smaller: Callable[[], bytes],
        on_delivery: Delivered | None = None,
        headers: Headers | None = None,
    ) -> None:
        """Send an event or record; if Kafka refuses its size, send ``smaller()`` instead.
        ``on_delivery`` (the execution's Outbox) hears exactly once how it ended."""

        def done(err: KafkaError | None, msg: Message | None) -> None:
            if on_delivery is not None:
                on_delivery(err, msg)  # type: ignore[arg-type]

        def fallback(reason: object) -> None:
            self.shrunk += 1
            log.error("%s for %s refused (%s); sending a minimal one", what, key, reason)

            def final(err: KafkaError | None, msg: Message) -> None:
                self._delivered(err, msg)
                done(err, msg)

            err = self._produce(topic, key, smaller(), headers, on_delivery=final)
            if err is not None:
                self.failures += 1
                log.error("%s for %s not sent: %s", what, key, err)
                done(err, None)

        def delivered(err: KafkaError | None, msg: Message) -> None:
            if err is not None and err.code() in SIZE_ERRORS:
                self._later(0.0, lambda: fallback(err))
            else:
                self._delivered(err, msg)
                done(err, msg)

        err = self._produce(topic, key, data, headers, on_delivery=delivered)
        if err is None:
            return
        if err.code() in SIZE_ERRORS:
            fallback(err)
        else:
            self.failures += 1
            log.error("%s for %s not sent: %s", what, key, err)
            done(err, None)

    def resend_smaller(self, msg: Message, on_delivery: Delivered) -> bool:
        """Produce a log record refused as too large again, shrunk to its identity and a
        clipped value; False when ``msg`` is not one (the caller counts a failure)."""
        topic, key, value = msg.topic(), msg.key(), msg.value()
        if topic != self.settings.logs_topic or key is None or value is None:
            return False
        try:
            record = orjson.loads(value)
        except orjson.JSONDecodeError:
            return False
        if not isinstance(record, dict):
            return False
        self.shrunk += 1
        log.error(
            "log record %s of %r refused as too large; sending it clipped", record.get("seq"), key
        )
        err = self._produce(
            topic,
            key,
            encode_record(record, 4096),
            tracing.incoming(msg.headers()),
            on_delivery=on_delivery,
        )
        if err is not None:
            on_delivery(err, None)  # type: ignore[arg-type]
        return True

    def _budget(self, key: str, headers: Headers | None = None) -> int:
        budget = self.settings.max_event_bytes - len(key.encode()) - deadletter.RECORD_OVERHEAD
        if headers:
            budget -= sum(
                len(n) + len(v) + deadletter.HEADER_OVERHEAD for n, v in headers
            )  # names are ASCII: traceparent, tracestate
        return budget

    def log(
        self,
        execution_id: str,
        record: dict[str, Any],
        on_delivery: Delivered | None = None,
        headers: Headers | None = None,
    ) -> None:
        """One log record; ``on_delivery`` (the execution's Outbox) hears exactly once how it
        ended, else failures are counted and logged here. One path for every caller, and no
        closure per record on the hottest path (hundreds of thousands a second at level full):
        a size refusal at produce is resent clipped here, one at delivery by the callback
        (``resend_smaller``). ``headers``: the execution's trace context (W3C traceparent)."""
        callback = on_delivery or self._log_delivered
        topic = self.settings.logs_topic
        data = encode_record(record, self._budget(execution_id, headers))
        err = self._produce(topic, execution_id, data, headers, on_delivery=callback)
        if err is not None and err.code() in SIZE_ERRORS:
            self.shrunk += 1
            log.error(
                "log record %s of %r refused as too large (%s); sending it clipped",
                record.get("seq"), execution_id, err,
            )  # fmt: skip
            err = self._produce(
                topic, execution_id, encode_record(record, 4096), headers, on_delivery=callback
            )
        if err is not None:
            callback(err, None)  # type: ignore[arg-type]

    def _log_delivered(self, err: KafkaError | None, msg: Message | None) -> None:
        if (
            err is not None
            and msg is not None
            and err.code() in SIZE_ERRORS
            and self.resend_smaller(msg, self._log_delivered)
        ):
            return
        self._delivered(err, msg)

    def event(
        self,
        event: LifecycleEvent,
        on_delivery: Delivered | None = None,
        headers: Headers | None = None,
    ) -> None:
        """One lifecycle event; ``headers``: the execution's trace context (traceparent)."""
        budget = self._budget(event.execution_id, headers)
        data = encode_event(event, budget)
        self._output(
            self.settings.events_topic,
            event.execution_id,
            data,
            f"{event.event} event",
            lambda: minimal_event(event, len(data)).model_dump_json().encode(),
            on_delivery,
            headers,
        )

    # --- dead letters ---

    def dead_letter(
        self, msg: Message, reason: str, field: str | None, on_delivery: Delivered
    ) -> None:
        """Forward the original message with headers naming the error and the source
        (``jarvis.worker.deadletter``). ``on_delivery(None, msg)`` runs once it is on the
        broker; a failed delivery is retried (smaller, if it was refused as too large)."""
        topic, partition, offset = msg.topic() or "", msg.partition(), msg.offset()
        source = deadletter.Source(
            topic=topic,
            partition=-1 if partition is None else partition,
            offset=-1 if offset is None else offset,
            key=msg.key(),
            value=msg.value(),
            headers=deadletter.original_headers(msg.headers()),
            reason=reason,
            field=field,
            worker=self.settings.worker_id,
            at=datetime.now(UTC).isoformat(),
        )
        self._send_dead_letter(source, self.settings.max_dead_letter_bytes, on_delivery, attempt=0)

    def _spill(self, source: deadletter.Source) -> str | None:
        if self.spill is None or source.value is None:
            return None
        name = f"dead-letters/{source.topic}/{source.partition}/{source.offset}"
        try:
            return self.spill(name, source.value)
        except Exception as exc:  # the store is optional here: forward the truncated value anyway
            log.warning("could not store the whole dead letter %s: %s", name, exc)
            return None

    def _send_dead_letter(
        self, source: deadletter.Source, max_bytes: int, on_delivery: Delivered, attempt: int
    ) -> None:
        letter = deadletter.build(source, max_bytes)
        if letter.truncated:
            self.shrunk += 1
            ref = self._spill(source) if attempt == 0 else None
            if ref is not None:
                letter = deadletter.build(source, max_bytes, value_ref=ref)
            log.warning(
                "dead letter of %s[%d]@%d truncated to %d of %d bytes",
                source.topic,
                source.partition,
                source.offset,
                len(letter.value or b""),
                len(source.value or b""),
            )
        where = f"{source.topic}[{source.partition}]@{source.offset}"

        def again(err: KafkaError) -> None:
            if err.code() in SIZE_ERRORS and max_bytes > 0:
                smaller = max_bytes // 4 if attempt < SHRINK_ATTEMPTS else 0
                log.error(
                    "dead letter of %s refused as too large (%s); sending it smaller", where, err
                )
                self._later(
                    0.0, lambda: self._send_dead_letter(source, smaller, on_delivery, attempt + 1)
                )
            else:
                # Not a size problem: the caller decides (the worker retries with backoff,
                # then gives up and moves the offset on: jarvis.worker.deadletter.after_failure).
                on_delivery(err, None)  # type: ignore[arg-type]

        def delivered(err: KafkaError | None, m: Message) -> None:
            if err is None:
                on_delivery(None, m)
            else:
                again(err)

        err = self._produce(
            self.settings.dlq_topic, letter.key, letter.value, letter.headers, delivered
        )
        if err is not None:
            again(err)

    # --- driving deliveries ---

    def poll(self) -> None:
        self.producer.poll(0)
        self._resend_due()

    def start_polling(self, interval_s: float = 0.05) -> None:
        """Serve delivery reports (and due resends) on a thread of their own, as soon as they
        arrive: an execution waiting for its output must not wait for the loop's next turn."""
        if self._poller is not None:
            return

        def serve() -> None:
            while not self._halt.is_set():
                self.producer.poll(interval_s)
                self._resend_due()

        self._poller = threading.Thread(target=serve, name="jarvis-delivery", daemon=True)
        self._poller.start()

    def stop_polling(self) -> None:
        self._halt.set()
        if self._poller is not None:
            self._poller.join(5)
            self._poller = None

    def flush(self, timeout_s: float = 30.0) -> bool:
        """Wait for every queued message to be delivered (and for resends that are due now,
        e.g. an event sent again smaller); True when none is left."""
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = self.producer.flush(max(0.0, deadline - time.monotonic()))
            resent = self._resend_due()
            if remaining == 0 and resent == 0:
                return True
            if time.monotonic() >= deadline:
                return False
