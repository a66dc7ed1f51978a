"""Kafka from tests: admin and metadata calls retried on retriable errors, topic readers,
watermarks and committed offsets.

A broker answers some calls with a retriable error for a while after a topic is created or
a group's coordinator moves (``UNKNOWN_TOPIC_OR_PART``, ``NOT_LEADER_FOR_PARTITION``,
``COORDINATOR_LOAD_IN_PROGRESS``...): a test that does not ask again fails on a loaded
machine for no fault of the code under test. Every test that creates topics, lists
partitions, reads watermarks or committed offsets goes through ``kafka_retry`` here.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import orjson
import tenacity
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from jarvis.kafka.topics import TopicReport, apply
from jarvis.settings import Settings
from tests.helpers.waiting import wait_for

T = TypeVar("T")

# Errors that mean "not yet" or "ask another broker/coordinator", never "wrong request".
RETRIABLE_CODES = frozenset(
    {
        KafkaError.UNKNOWN_TOPIC_OR_PART,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.REQUEST_TIMED_OUT,
        KafkaError.NETWORK_EXCEPTION,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
        KafkaError.NOT_COORDINATOR,
        KafkaError.NOT_CONTROLLER,
        KafkaError.NOT_ENOUGH_REPLICAS,
        KafkaError.REBALANCE_IN_PROGRESS,
        KafkaError.UNKNOWN_LEADER_EPOCH,
        KafkaError.FENCED_LEADER_EPOCH,
        KafkaError._TIMED_OUT,
        KafkaError._TRANSPORT,
        KafkaError._ALL_BROKERS_DOWN,
        KafkaError._WAIT_COORD,
        KafkaError._UNKNOWN_PARTITION,
        KafkaError._UNKNOWN_TOPIC,
    }
)


def retriable(exc: BaseException) -> bool:
    """True when ``exc`` (or an exception it was raised from, e.g. ``apply``'s JarvisError)
    is a Kafka error worth asking again about."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KafkaException) and seen.args and isinstance(seen.args[0], KafkaError):
            err: KafkaError = seen.args[0]
            return bool(err.retriable()) or err.code() in RETRIABLE_CODES
        seen = seen.__cause__
    return False


def kafka_retry(call: Callable[[], T], what: str, timeout_s: float = 60.0) -> T:
    """``call()``, asked again (backing off 0.1 s to 2 s) while it raises a retriable Kafka
    error, for at most ``timeout_s``; any other error, or the last one, propagates."""
    try:
        for attempt in tenacity.Retrying(
            retry=tenacity.retry_if_exception(retriable),
            wait=tenacity.wait_exponential(multiplier=0.1, max=2.0),
            stop=tenacity.stop_after_delay(timeout_s),
            reraise=True,
        ):
            with attempt:
                return call()
    except Exception as exc:
        exc.add_note(f"while {what} (retriable Kafka errors retried for {timeout_s} s)")
        raise
    raise AssertionError("unreachable: tenacity returns or raises")


def create_topics(settings: Settings) -> list[TopicReport]:
    """``jarvis topics apply`` for ``settings``' topics, retried on retriable errors."""
    return kafka_retry(lambda: apply(settings), f"creating the topics of {settings.group_id}")


class _HasMetadata(Protocol):
    def list_topics(self, topic: str | None = None, timeout: float = -1) -> Any: ...


def partitions(client: _HasMetadata, topic: str, timeout_s: float = 60.0) -> list[int]:
    """The partitions of ``topic`` as ``client``'s metadata has them. Moments after creation
    a new client can still see the topic with an error (UNKNOWN_TOPIC_OR_PART) or with no
    partitions: assigning those would read nothing, ever; so ask again."""

    def ask() -> list[int]:
        meta = client.list_topics(topic, timeout=10).topics.get(topic)
        if meta is None or meta.error is not None or not meta.partitions:
            raise KafkaException(
                meta.error
                if meta is not None and meta.error is not None
                else KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART, f"{topic}: no partitions yet")
            )
        return sorted(meta.partitions)

    return kafka_retry(ask, f"listing the partitions of {topic}", timeout_s)


def _probe(bootstrap: str, group: str | None = None) -> Consumer:
    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group or f"probe-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
        }
    )


def high_watermarks(bootstrap: str, topic: str) -> dict[int, int]:
    """Each partition's end offset (high watermark), read by a fresh consumer."""
    probe = _probe(bootstrap)
    try:
        return {
            p: kafka_retry(
                lambda p=p: probe.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1],
                f"reading the high watermark of {topic}[{p}]",
            )
            for p in partitions(probe, topic)
        }
    finally:
        probe.close()


def committed(
    bootstrap: str, group: str, topic: str, parts: list[int] | None = None
) -> dict[int, int]:
    """``group``'s committed offset on each partition of ``topic`` (negative: none)."""
    probe = _probe(bootstrap, group)
    try:
        wanted = parts if parts is not None else partitions(probe, topic)

        def ask() -> dict[int, int]:
            tps = probe.committed([TopicPartition(topic, p) for p in wanted], timeout=10)
            for tp in tps:
                if tp.error is not None:  # e.g. the coordinator still loading the group
                    raise KafkaException(tp.error)
            return {tp.partition: int(tp.offset) for tp in tps}

        return kafka_retry(ask, f"reading {group}'s committed offsets on {topic}")
    finally:
        probe.close()


def lag(bootstrap: str, group: str, topic: str) -> int:
    """Messages of ``topic`` that ``group`` has not committed past."""
    ends = high_watermarks(bootstrap, topic)
    done = committed(bootstrap, group, topic, list(ends))
    return sum(end - max(0, done.get(p, -1)) for p, end in ends.items())


def caught_up(bootstrap: str, group: str, topic: str) -> bool:
    """``group`` has committed every non-empty partition of ``topic`` to its end."""
    ends = high_watermarks(bootstrap, topic)
    done = committed(bootstrap, group, topic, list(ends))
    return all(done.get(p) == end for p, end in ends.items() if end > 0)


class TopicReader:
    """Reads one topic from its beginning: keeps every message, decodes JSON values once
    and indexes them by execution id."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"reader-{uuid.uuid4().hex}",
                "enable.auto.commit": False,
                "enable.partition.eof": False,
                # A fetch at offset 0 of a topic created moments ago can come back out of range
                # (its log not ready yet); the default reset ("latest") would then skip past the
                # first messages: a test waiting for a `started` it never sees.
                "auto.offset.reset": "earliest",
            }
        )
        self.partitions = partitions(self.consumer, topic)
        self.consumer.assign([TopicPartition(topic, p, 0) for p in self.partitions])
        self.messages: list[Message] = []
        self.values: list[dict[str, Any]] = []
        self.by_eid: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.undecodable = 0

    def pump(self, budget_s: float = 1.0) -> int:
        """Read what is available now (for at most ``budget_s``); how many arrived."""
        n = 0
        deadline = time.monotonic() + budget_s
        while time.monotonic() < deadline:
            batch = self.consumer.consume(1000, timeout=0.05)
            if not batch:
                break
            for msg in batch:
                if msg.error() is not None:
                    continue
                n += 1
                self.messages.append(msg)
                try:
                    value = orjson.loads(msg.value() or b"null")
                except orjson.JSONDecodeError:
                    self.undecodable += 1
                    continue
                if isinstance(value, dict):
                    self.values.append(value)
                    self.by_eid[str(value.get("execution_id"))].append(value)
        return n

    def poll(self) -> list[Message]:
        """Every message read so far, after reading what is available now."""
        self.pump()
        return self.messages

    def drain(self, timeout_s: float = 60.0) -> None:
        """Read until every partition's high watermark (as of now) is reached."""
        highs = {
            p: kafka_retry(
                lambda p=p: self.consumer.get_watermark_offsets(
                    TopicPartition(self.topic, p), timeout=10
                )[1],
                f"reading the high watermark of {self.topic}[{p}]",
                timeout_s,
            )
            for p in self.partitions
        }

        def done() -> bool:
            self.pump(2.0)
            positions = self.consumer.position(
                [TopicPartition(self.topic, p) for p in self.partitions]
            )
            return all(
                highs[tp.partition] == 0 or (tp.offset >= 0 and tp.offset >= highs[tp.partition])
                for tp in positions
            )

        wait_for(done, timeout_s, f"reading {self.topic} to its end", interval_s=0.01)

    def close(self) -> None:
        self.consumer.close()
