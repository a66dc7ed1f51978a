"""Reading stops ahead of a paused consumer, so a stop works even on a pod at capacity.

At ``max_concurrency`` the worker pauses its partitions, so a stop queued behind other
commands would wait for a free slot. This thread reads the same partitions with a
separate, group-less consumer (confluent-kafka consumers are not thread-safe, so it has
its own), from the paused consumer's position forward, and acts on stop commands only.
The main consumer still sees each stop later; handling a stop twice is harmless.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable

from confluent_kafka import Consumer, TopicPartition

from jarvis.contract.messages import StopCommand
from jarvis.contract.parse import parse_control
from jarvis.errors import ControlMessageError
from jarvis.kafka.config import base_config
from jarvis.settings import Settings

log = logging.getLogger("jarvis.worker")


class StopScanner(threading.Thread):
    def __init__(
        self, settings: Settings, on_stop: Callable[[StopCommand, int, int], None]
    ) -> None:
        super().__init__(name="jarvis-stop-scanner", daemon=True)
        self.settings = settings
        self.on_stop = on_stop
        self.halt = threading.Event()
        self._want: dict[tuple[str, int], int] | None = None
        self._changed = threading.Event()
        self._lock = threading.Lock()

    def watch(self, positions: dict[tuple[str, int], int] | None) -> None:
        """Scan these partitions from these offsets (None: stop scanning). Any thread."""
        with self._lock:
            self._want = positions
        self._changed.set()

    def run(self) -> None:
        consumer = Consumer(
            {
                **base_config(self.settings),
                "group.id": f"jarvis-stopscan-{uuid.uuid4().hex}",  # never commits; no group joins
                "enable.auto.commit": False,
                "enable.partition.eof": False,
                # A position out of range (retention removed it, or a topic too new to read)
                # rescans from the start rather than skipping stops ("latest", the default).
                "auto.offset.reset": "earliest",
            }
        )
        scanning = False
        try:
            while not self.halt.is_set():
                if self._changed.is_set():
                    self._changed.clear()
                    with self._lock:
                        want = self._want
                    if want:
                        consumer.assign([TopicPartition(t, p, o) for (t, p), o in want.items()])
                        scanning = True
                    else:
                        if scanning:
                            consumer.unassign()
                        scanning = False
                if not scanning:
                    self._changed.wait(0.2)
                    consumer.poll(0)  # delivers its queued librdkafka log lines (kafka/logs.py)
                    continue
                msg = consumer.poll(0.1)
                if msg is None or msg.error() is not None:
                    continue
                try:
                    command = parse_control(msg.value(), msg.key())
                except ControlMessageError:
                    continue  # the main loop dead-letters it when it gets there
                if isinstance(command, StopCommand):
                    partition, offset = msg.partition(), msg.offset()
                    assert partition is not None and offset is not None
                    try:
                        self.on_stop(command, partition, offset)
                    except Exception as exc:  # Redis down: the main loop will retry later
                        log.warning(
                            "stop scanner could not apply stop for %s: %s",
                            command.execution_id,
                            exc,
                        )
        finally:
            consumer.close()
