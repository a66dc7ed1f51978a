"""Producing log records, lifecycle events and dead letters to Kafka."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from confluent_kafka import KafkaError, Message, Producer

from jarvis.contract.messages import LifecycleEvent
from jarvis.kafka.config import producer_config
from jarvis.settings import Settings

log = logging.getLogger("jarvis.worker")


class KafkaPublisher:
    """One thread-safe producer shared by the loop and every execution thread.

    confluent-kafka's Producer is thread-safe (unlike its Consumer); delivery callbacks
    run inside ``poll``/``flush``, which the worker loop calls.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.producer = Producer(producer_config(settings))
        self.failures = 0
        self._poller: threading.Thread | None = None
        self._halt = threading.Event()

    def _produce(
        self,
        topic: str,
        key: str | bytes | None,
        value: bytes | None,
        headers: list[tuple[str, str | bytes | None]] | None = None,
        on_delivery: Callable[[KafkaError | None, Message], None] | None = None,
    ) -> None:
        while True:
            try:
                self.producer.produce(
                    topic, value=value, key=key, headers=headers, on_delivery=on_delivery or self._delivered
                )
                return
            except BufferError:
                # Local queue full: let deliveries drain instead of buffering without bound.
                self.producer.poll(0.1)

    def _delivered(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            self.failures += 1
            log.error("delivery to %s failed: %s", msg.topic(), err)

    # Sink protocol (``on_delivery``: the worker's per-execution Outbox counts deliveries)
    def log(
        self,
        execution_id: str,
        record: dict[str, Any],
        on_delivery: Callable[[KafkaError | None, Message], None] | None = None,
    ) -> None:
        self._produce(self.settings.logs_topic, execution_id, orjson.dumps(record), None, on_delivery)

    def event(
        self, event: LifecycleEvent, on_delivery: Callable[[KafkaError | None, Message], None] | None = None
    ) -> None:
        self._produce(
            self.settings.events_topic, event.execution_id, event.model_dump_json().encode(), None, on_delivery
        )

    def dead_letter(
        self,
        msg: Message,
        reason: str,
        field: str | None,
        on_delivery: Callable[[KafkaError | None, Message], None],
    ) -> None:
        """Forward the original bytes, unchanged, with headers naming the error and the source."""
        headers: list[tuple[str, str | bytes | None]] = [
            ("jarvis.error.reason", reason.encode()),
            ("jarvis.error.field", (field or "").encode()),
            ("jarvis.source.topic", (msg.topic() or "").encode()),
            ("jarvis.source.partition", str(msg.partition()).encode()),
            ("jarvis.source.offset", str(msg.offset()).encode()),
            ("jarvis.dead_lettered_at", datetime.now(UTC).isoformat().encode()),
            ("jarvis.worker", self.settings.worker_id.encode()),
        ]
        original = msg.headers() or []
        headers += list(original.items()) if isinstance(original, dict) else list(original)
        self._produce(self.settings.dlq_topic, msg.key(), msg.value(), headers, on_delivery)

    def poll(self) -> None:
        self.producer.poll(0)

    def start_polling(self, interval_s: float = 0.05) -> None:
        """Serve delivery reports on a thread of their own, as soon as they arrive (an
        execution waiting for its output must not wait for the consumer loop's next turn)."""
        if self._poller is not None:
            return

        def serve() -> None:
            while not self._halt.is_set():
                self.producer.poll(interval_s)

        self._poller = threading.Thread(target=serve, name="jarvis-delivery", daemon=True)
        self._poller.start()

    def stop_polling(self) -> None:
        self._halt.set()
        if self._poller is not None:
            self._poller.join(5)
            self._poller = None

    def flush(self, timeout_s: float = 30.0) -> bool:
        """Wait for every queued message to be delivered; True when none is left."""
        deadline = time.monotonic() + timeout_s
        while self.producer.flush(max(0.0, deadline - time.monotonic())) > 0:
            if time.monotonic() >= deadline:
                return False
        return True
