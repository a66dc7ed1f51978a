"""What orchestrators import: publish start/stop commands and follow an execution."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import orjson
from confluent_kafka import (
    OFFSET_END,
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from pydantic import JsonValue, ValidationError

from jarvis.contract.messages import (
    ExecutionOptions,
    LifecycleEvent,
    LimitOverrides,
    LogRecord,
    ProgramSpec,
    StartCommand,
    StopCommand,
    StopMode,
    dump,
)
from jarvis.errors import JarvisError
from jarvis.kafka.config import base_config, partition_for, producer_config
from jarvis.kafka.logs import ROUTER, ProblemRecorder
from jarvis.kafka.reach import unavailable
from jarvis.settings import Settings
from jarvis.telemetry import tracing

Update = LogRecord | LifecycleEvent


class JarvisClient:
    """A thin, synchronous client over Kafka. One instance can serve many executions.

    >>> client = JarvisClient()
    >>> eid = client.start("result = inputs['n'] * 2", inputs={"n": 21})
    >>> client.wait(eid).result
    42

    Events hand out artifacts as ``s3://`` URIs with a presigned GET ``url`` and its
    ``url_expires_at`` beside each (``result_url`` for a stored result): download them with
    any HTTP client, no AWS credentials (README "Artifact URLs").
    """

    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        self.settings = settings or Settings(**overrides)
        tracing.configure(self.settings.tracing)  # JARVIS_TRACING; off: the application's own
        self._problems = ProblemRecorder(ROUTER)
        # librdkafka gives up on a command after client_timeout_s (a delivery error naming
        # the cause) rather than holding it queued past the flush.
        self._producer = Producer(
            producer_config(
                self.settings,
                logger=self._problems,
                **{"message.timeout.ms": int(self.settings.client_timeout_s * 1000)},
            )
        )

    # --- commands ---

    def start(
        self,
        source: str | None = None,
        *,
        path: str | Path | None = None,
        ref: str | None = None,
        inputs: Mapping[str, JsonValue] | None = None,
        execution_id: str | None = None,
        books: list[str] | None = None,
        log_level: str = "full",
        limits: Mapping[str, float] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> str:
        """Publish a start command; returns the execution id (generated when not given)."""
        filename = "program.spy"
        if path is not None:
            source = Path(path).read_text()
            filename = Path(path).name
        eid = execution_id or f"exec-{uuid.uuid4().hex[:16]}"
        try:
            command = StartCommand(
                execution_id=eid,
                program=ProgramSpec(source=source, ref=ref, filename=filename),
                inputs=dict(inputs or {}),
                books=list(books or []),
                options=ExecutionOptions(
                    log_level=log_level,  # type: ignore[arg-type]
                    limits=LimitOverrides(**(limits or {})),  # type: ignore[arg-type]
                ),
                labels=dict(labels or {}),
            )
        except ValidationError as exc:
            raise JarvisError(f"invalid start command: {exc}") from exc
        # The trace context goes along as W3C headers: a PRODUCER span's when tracing is on
        # (JARVIS_TRACING, or the application's own OpenTelemetry setup), else the caller's.
        with tracing.produce(self.settings.control_topic, eid) as headers:
            self._send(eid, dump(command), headers)
        return eid

    def stop(self, execution_id: str, mode: StopMode = "cancel", reason: str | None = None) -> None:
        """Publish a stop command (``cancel`` or ``suspend``: see ``StopMode``)."""
        try:
            command = StopCommand(execution_id=execution_id, mode=mode, reason=reason)
        except ValidationError as exc:
            raise JarvisError(f"invalid stop command: {exc}") from exc
        self._send(execution_id, dump(command))

    def send_raw(self, key: bytes | str | None, value: bytes | None) -> None:
        """Publish arbitrary bytes to the control topic (for tools and tests)."""
        self._send(key, value)

    def _send(
        self,
        key: bytes | str | None,
        value: bytes | None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        errors: list[KafkaError] = []
        topic = self.settings.control_topic
        timeout_s = self.settings.client_timeout_s
        self._producer.produce(
            topic,
            key=key,
            value=value,
            headers=cast(Any, headers),  # the stubs want str | bytes | None values
            on_delivery=lambda err, _m: errors.append(err) if err else None,
        )
        # message.timeout.ms fails the message at timeout_s; the second is for its callback.
        if self._producer.flush(timeout_s + 1) > 0:
            raise unavailable(
                self.settings,
                f"could not deliver to {topic} within {timeout_s:g} s",
                None,
                self._problems.last,
            )
        if errors:
            raise unavailable(
                self.settings, f"could not deliver to {topic}", errors[0], self._problems.last
            )

    # --- following ---

    def follow(
        self,
        execution_id: str,
        *,
        since: datetime | None = None,
        timeout_s: float | None = None,
        logs: bool = True,
    ) -> Iterator[Update]:
        """Yield the execution's log records and lifecycle events until its terminal event.

        Reads from ``since`` (default: one minute ago). After the terminal event it keeps
        reading until every log record it announced (``log_records``) has been seen.
        Duplicates (at-least-once delivery) are dropped. Raises TimeoutError at ``timeout_s``.
        """
        since = since or datetime.now(UTC) - timedelta(minutes=1)
        topics = [self.settings.events_topic] + ([self.settings.logs_topic] if logs else [])
        consumer, _ = self._reader(topics, since, execution_id)
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        key = execution_id.encode()
        seen_seqs: set[int] = set()
        seen_events: set[tuple[str, str]] = set()
        terminal: LifecycleEvent | None = None
        terminal_grace = 0.0
        # Logs and events come from different topics; hold records back until the
        # execution's started/resumed event (or 2 s) so output reads in lifecycle order.
        held: list[LogRecord] = []
        running = False
        hold_until = time.monotonic() + 2.0
        try:
            while True:
                now = time.monotonic()
                if deadline is not None and now > deadline:
                    raise TimeoutError(
                        f"execution {execution_id} did not finish within {timeout_s} s"
                    )
                if held and (running or now > hold_until):
                    yield from held
                    held.clear()
                if terminal is not None and (
                    not logs
                    or len(seen_seqs) >= (terminal.log_records or 0)
                    or now > terminal_grace
                ):
                    return
                msg = consumer.poll(0.2)
                if msg is None or msg.error() is not None or msg.key() != key:
                    continue
                data = orjson.loads(msg.value() or b"null")
                if msg.topic() == self.settings.logs_topic:
                    record = LogRecord.model_validate(data)
                    if record.seq in seen_seqs:
                        continue
                    seen_seqs.add(record.seq)
                    if running or now > hold_until:
                        yield record
                    else:
                        held.append(record)
                else:
                    event = LifecycleEvent.model_validate(data)
                    ident = (event.event, event.at.isoformat())
                    if ident in seen_events:
                        continue
                    seen_events.add(ident)
                    yield event
                    running = running or event.event in ("started", "resumed") or event.terminal
                    if event.terminal and terminal is None:
                        terminal = event
                        terminal_grace = time.monotonic() + 10.0
        finally:
            consumer.close()

    def wait(
        self, execution_id: str, timeout_s: float | None = None, since: datetime | None = None
    ) -> LifecycleEvent:
        """Block until the execution's terminal event and return it."""
        for update in self.follow(execution_id, since=since, timeout_s=timeout_s, logs=False):
            if isinstance(update, LifecycleEvent) and update.terminal:
                return update
        raise JarvisError(f"no terminal event for {execution_id}")  # pragma: no cover

    def logs(
        self,
        execution_id: str,
        *,
        since: datetime | None = None,
        since_seq: int = 0,
    ) -> Iterator[LogRecord]:
        """The execution's log records on ``spy_logs`` from ``since`` (default: a day ago) up
        to the end of the topic as it is now, in seq order from ``since_seq``, then stop.

        Reads only the partition the execution id maps to. To wait for records still to
        come, use ``follow``.
        """
        since = since or datetime.now(UTC) - timedelta(days=1)
        topic = self.settings.logs_topic
        consumer, [start] = self._reader([topic], since, execution_id)
        try:
            low, high = self._watermarks(consumer, start)
            if start.offset == OFFSET_END or high <= max(low, start.offset):
                return
            key = execution_id.encode()
            seen: set[int] = set()
            idle_since = time.monotonic()
            while True:
                msg = consumer.poll(0.2)
                if msg is None or msg.error() is not None:
                    # Nothing more although the end is not reached: a gap (compaction,
                    # transaction markers) at the end of the partition.
                    if time.monotonic() - idle_since > self.settings.client_timeout_s:
                        return
                    continue
                idle_since = time.monotonic()
                if msg.key() == key:
                    record = LogRecord.model_validate(orjson.loads(msg.value() or b"null"))
                    if record.seq >= since_seq and record.seq not in seen:
                        seen.add(record.seq)
                        yield record
                offset = msg.offset()
                if offset is not None and offset + 1 >= high:
                    return
        finally:
            consumer.close()

    def _watermarks(self, consumer: Consumer, tp: TopicPartition) -> tuple[int, int]:
        what = f"cannot read the end offsets of {tp.topic} [{tp.partition}]"
        try:
            found = consumer.get_watermark_offsets(
                tp, timeout=self.settings.client_timeout_s, cached=False
            )
        except KafkaException as exc:
            raise unavailable(self.settings, what, exc, None) from exc
        if found is None:  # confluent-kafka's answer to a timeout
            raise unavailable(
                self.settings, f"{what} within {self.settings.client_timeout_s:g} s", None, None
            )
        low, high = found
        return int(low), int(high)

    def _reader(
        self, topics: list[str], since: datetime, execution_id: str
    ) -> tuple[Consumer, list[TopicPartition]]:
        """A group-less consumer on the partition of each topic that ``execution_id`` maps to
        (its key: jarvis.kafka.config.partition_for), from the offsets at ``since``, and
        those starting offsets (OFFSET_END where nothing is that recent)."""
        problems = ProblemRecorder(ROUTER)
        consumer = Consumer(
            {
                **base_config(self.settings),
                "logger": problems,
                "group.id": f"jarvis-client-{uuid.uuid4().hex}",
                "enable.auto.commit": False,
                "enable.partition.eof": False,
            }
        )
        timeout_s = self.settings.client_timeout_s
        ts = int(since.timestamp() * 1000)
        wanted = []
        try:
            for topic in topics:
                try:
                    meta = consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
                except KafkaException as exc:
                    consumer.poll(0)  # hands the queued log lines (the cause) to `problems`
                    raise unavailable(
                        self.settings,
                        f"cannot read the metadata of {topic} within {timeout_s:g} s",
                        exc,
                        problems.last,
                    ) from exc
                if meta is None or meta.error is not None or not meta.partitions:
                    raise JarvisError(f"topic {topic} does not exist; run `jarvis topics apply`")
                partition = partition_for(execution_id, len(meta.partitions))
                wanted.append(TopicPartition(topic, partition, ts))
            try:
                resolved = consumer.offsets_for_times(wanted, timeout=timeout_s)
            except KafkaException as exc:
                raise unavailable(
                    self.settings, f"cannot look up offsets in {', '.join(topics)}", exc, None
                ) from exc
        except BaseException:
            consumer.close()
            raise
        starts = [
            TopicPartition(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else OFFSET_END)
            for tp in resolved
        ]
        consumer.assign(starts)
        return consumer, starts

    def close(self) -> None:
        self._producer.flush(10)

    def __enter__(self) -> JarvisClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
