"""The publisher never raises out and never sends what Kafka would refuse.

A fake producer stands in for librdkafka: it refuses messages above its ``message.max.bytes``
at ``produce`` (as librdkafka does, MSG_SIZE_TOO_LARGE) and, for a topic with a lower limit,
in the delivery report (as the broker does). Pure logic, no broker; the real thing is
exercised by tests/fault/test_poison.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from confluent_kafka import KafkaError, KafkaException

from jarvis.contract.messages import ArtifactRef, ErrorInfo, LifecycleEvent, LogRecord, TraceFrame
from jarvis.settings import Settings
from jarvis.worker import deadletter
from jarvis.worker.oversize import TRUNCATED_LABEL, encode_event
from jarvis.worker.publisher import KafkaPublisher


@dataclass
class Sent:
    topic: str
    key: Any
    value: bytes | None
    headers: list[tuple[str, bytes]] | None

    @property
    def size(self) -> int:
        return (
            len(self.key or b"")
            + len(self.value or b"")
            + sum(len(n) + len(v) for n, v in self.headers or [])
        )

    def header(self) -> dict[str, str]:
        return {n: v.decode() for n, v in self.headers or []}


class FakeMessage:
    def __init__(self, sent: Sent | None = None, **fields: Any) -> None:
        self._f = fields
        self.sent = sent

    def topic(self) -> str | None:
        return self._f.get("topic", self.sent.topic if self.sent else None)

    def partition(self) -> int | None:
        return self._f.get("partition", 0)

    def offset(self) -> int | None:
        return self._f.get("offset", 0)

    def key(self) -> bytes | None:
        return self._f.get("key")

    def value(self) -> bytes | None:
        return self._f.get("value")

    def headers(self) -> Any:
        return self._f.get("headers")


@dataclass
class FakeProducer:
    max_bytes: int
    topic_limits: dict[str, int] = field(default_factory=dict)  # enforced "by the broker"
    fail_with: list[int] = field(default_factory=list)  # async errors for the next deliveries
    sent: list[Sent] = field(default_factory=list)  # delivered
    queued: list[tuple[Sent, Any]] = field(default_factory=list)

    def produce(
        self,
        topic: str,
        value: Any = None,
        key: Any = None,
        headers: Any = None,
        on_delivery: Any = None,
    ) -> None:
        msg = Sent(topic, key.encode() if isinstance(key, str) else key, value, headers)
        if msg.size > self.max_bytes:
            raise KafkaException(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))
        self.queued.append((msg, on_delivery))

    def poll(self, timeout: float = 0) -> int:
        queued, self.queued = self.queued, []
        for msg, cb in queued:
            err = None
            if self.fail_with:
                err = KafkaError(self.fail_with.pop(0))
            elif msg.size > self.topic_limits.get(msg.topic, 1 << 62):
                err = KafkaError(KafkaError.MSG_SIZE_TOO_LARGE)
            if err is None:
                self.sent.append(msg)
            cb(err, FakeMessage(msg))
        return len(queued)

    def flush(self, timeout: float = 0) -> int:
        self.poll()
        return len(self.queued)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _settings(**over: Any) -> Settings:
    base: dict[str, Any] = {
        "worker_id": "w-1",
        "max_event_bytes": 100_000,
        "max_dead_letter_bytes": 400_000,
    }
    base.update(over)
    return Settings(_env_file=None, **base)  # type: ignore[call-arg]


def _publisher(**over: Any) -> tuple[KafkaPublisher, FakeProducer, Clock]:
    s = _settings(**over)
    producer = FakeProducer(max_bytes=max(s.max_event_bytes, s.max_dead_letter_bytes) + 1000)
    clock = Clock()
    return KafkaPublisher(s, producer=producer, clock=clock), producer, clock


def _rejected(n_books: int = 10_000) -> LifecycleEvent:
    text = "unknown Books " + ", ".join(repr(f"book_{i}_{'x' * 40}") for i in range(n_books))
    frames = [
        TraceFrame(function=f"f{i}", line=i, col=1, source_line="y" * 100) for i in range(5000)
    ]
    return LifecycleEvent(
        execution_id="e-1", event="rejected", worker="w-1", log_records=0,
        error=ErrorInfo(type="UnknownBook", message=text, frames=frames, traceback=f"UnknownBook: {text}"),
        labels={f"label{i}": "v" * 50 for i in range(5000)},
    )  # fmt: skip


# --- events ---


def test_an_oversized_event_is_clipped_and_says_what_was_dropped() -> None:
    pub, producer, _ = _publisher()
    event = _rejected()
    assert len(event.model_dump_json()) > 1_000_000
    pub.event(event)
    assert pub.flush(1)
    (sent,) = producer.sent
    assert sent.size <= pub.settings.max_event_bytes
    got = LifecycleEvent.model_validate_json(sent.value or b"")
    assert (got.execution_id, got.event, got.error and got.error.type) == (
        "e-1",
        "rejected",
        "UnknownBook",
    )
    assert got.error is not None and "more chars]" in got.error.message
    assert got.error.message.startswith("unknown Books 'book_0_")
    assert "[4,960 more frames]" in [f.source_line for f in got.error.frames]
    note = got.labels[TRUNCATED_LABEL]
    assert (
        "error.message" in note
        and "labels: 4,900 more" in note
        and "error.frames: 4,960 more" in note
    )


def test_an_event_that_cannot_be_clipped_enough_becomes_a_minimal_one() -> None:
    event = LifecycleEvent(
        execution_id="e-2", event="completed", worker="w-1", result=["x" * 1000] * 1000, result_type="list",
        artifacts=[ArtifactRef(name=f"a{i}", uri=f"s3://b/{i}" + "k" * 200, size=1) for i in range(900)],
    )  # fmt: skip
    data = encode_event(event, 100_000)
    assert len(data) <= 100_000
    got = LifecycleEvent.model_validate_json(data)
    assert (got.execution_id, got.event, got.result_type) == ("e-2", "completed", "list")
    assert got.result is None and TRUNCATED_LABEL in got.labels


def test_a_small_event_is_sent_unchanged() -> None:
    pub, producer, _ = _publisher()
    event = LifecycleEvent(execution_id="e-3", event="accepted", worker="w-1", labels={"team": "a"})
    pub.event(event)
    pub.flush(1)
    assert producer.sent[0].value == event.model_dump_json().encode()
    assert pub.shrunk == 0


def test_an_event_the_topic_refuses_as_too_large_is_sent_again_minimal() -> None:
    """The topic's max.message.bytes is lower than ours: the broker refuses it asynchronously."""
    pub, producer, _ = _publisher()
    producer.topic_limits[pub.settings.events_topic] = 20_000
    event = LifecycleEvent(
        execution_id="e-4", event="failed", worker="w-1",
        error=ErrorInfo(type="ValueError", message="m" * 50_000, traceback="t" * 30_000),
    )  # fmt: skip
    pub.event(event)
    assert pub.flush(1)
    (sent,) = producer.sent
    got = LifecycleEvent.model_validate_json(sent.value or b"")
    assert (got.execution_id, got.event) == ("e-4", "failed") and TRUNCATED_LABEL in got.labels
    assert pub.shrunk == 1


def test_a_producer_limit_below_ours_never_raises_out() -> None:
    pub, producer, _ = _publisher()
    producer.max_bytes = 5_000  # message.max.bytes misconfigured below max_event_bytes
    pub.event(LifecycleEvent(execution_id="e-5", event="failed", worker="w-1",
                             error=ErrorInfo(type="E", message="m" * 60_000, traceback="t")))  # fmt: skip
    pub.log(
        "e-5",
        {"execution_id": "e-5", "seq": 0, "kind": "assign", "source": "s" * 60_000, "value": 1},
    )
    assert pub.flush(1)
    assert [s.topic for s in producer.sent] == [pub.settings.events_topic, pub.settings.logs_topic]


# --- log records ---


def _record(seq: int, value: Any, source: str = "x = ...") -> dict[str, Any]:
    return {
        "version": 1, "execution_id": "e-6", "seq": seq, "kind": "assign", "line": 1, "col": 0,
        "end_line": 1, "end_col": 5, "source": source, "value": value, "type": "str",
        "truncated": False, "value_ref": None, "at": "2026-01-01T00:00:00+00:00",
    }  # fmt: skip


def test_an_oversized_log_record_keeps_its_identity() -> None:
    pub, producer, _ = _publisher()
    pub.log("e-6", _record(0, "v" * 500_000, source="s" * 300_000))
    pub.log("e-6", _record(1, 1))
    pub.flush(1)
    first, second = (orjson.loads(s.value or b"") for s in producer.sent)
    assert (first["execution_id"], first["seq"], first["truncated"]) == ("e-6", 0, True)
    assert producer.sent[0].size <= pub.settings.max_event_bytes
    LogRecord.model_validate(first)
    assert second["seq"] == 1 and second["value"] == 1


def test_an_unencodable_log_record_is_still_sent() -> None:
    pub, producer, _ = _publisher()
    pub.log("e-7", _record(3, 10**30))  # orjson cannot write a 100-bit int
    pub.flush(1)
    got = orjson.loads(producer.sent[0].value or b"")
    assert (got["seq"], got["truncated"], got["value"]) == (3, True, None)


# --- dead letters ---


def _dead_letter(pub: KafkaPublisher, **fields: Any) -> list[Any]:
    delivered: list[Any] = []
    msg = FakeMessage(topic="spy_control", partition=2, offset=7, **fields)
    pub.dead_letter(msg, "bad thing", "program.source", lambda err, m: delivered.append(err))
    return delivered


def test_original_headers_cannot_pose_as_the_workers() -> None:
    pub, producer, _ = _publisher()
    forged = [
        ("jarvis.error.reason", b"all good"),
        ("jarvis.source.offset", b"0"),
        ("traceparent", b"00-ab"),
    ]
    delivered = _dead_letter(pub, key=b"k", value=b"{}", headers=forged)
    pub.flush(1)
    assert delivered == [None]
    (sent,) = producer.sent
    names = [n for n, _ in sent.headers or []]
    assert len(names) == len(set(names))  # each header once: a dict reader cannot be fooled
    h = sent.header()
    assert h["jarvis.error.reason"] == "bad thing" and h["jarvis.error.field"] == "program.source"
    assert h["jarvis.source.offset"] == "7" and h["jarvis.source.partition"] == "2"
    assert h["original.jarvis.error.reason"] == "all good"
    assert h["original.traceparent"] == "00-ab"
    assert all(n.startswith(("jarvis.", deadletter.ORIGINAL_PREFIX)) for n in names)
    assert sent.value == b"{}" and sent.key == b"k"


def test_dict_headers_are_prefixed_too() -> None:
    pub, producer, _ = _publisher()
    _dead_letter(pub, key=b"k", value=b"x", headers={"jarvis.worker": "evil"})
    pub.flush(1)
    h = producer.sent[0].header()
    assert h["jarvis.worker"] == "w-1" and h["original.jarvis.worker"] == "evil"


def test_a_dead_letter_too_large_is_forwarded_truncated() -> None:
    pub, producer, _ = _publisher()
    value = b"{" + b"z" * 1_000_000
    delivered = _dead_letter(pub, key=b"k", value=value, headers=[("h", b"v" * 300_000)])
    pub.flush(1)
    assert delivered == [None]
    (sent,) = producer.sent
    assert sent.size <= pub.settings.max_dead_letter_bytes
    h = sent.header()
    assert h["jarvis.value.truncated"] == "true" and h["jarvis.value.original_bytes"] == str(
        len(value)
    )
    assert h["jarvis.headers.dropped"] == "1"
    assert sent.value is not None and value.startswith(sent.value) and len(sent.value) > 200_000


def test_a_truncated_dead_letter_can_spill_the_whole_original() -> None:
    stored: dict[str, bytes] = {}

    def spill(name: str, data: bytes) -> str:
        stored[name] = data
        return f"s3://jarvis-artifacts/{name}"

    s = _settings()
    producer = FakeProducer(max_bytes=s.max_dead_letter_bytes + 1000)
    pub = KafkaPublisher(s, producer=producer, spill=spill)
    value = b"q" * 1_000_000
    _dead_letter(pub, key=b"k", value=value)
    pub.flush(1)
    h = producer.sent[0].header()
    assert h["jarvis.value.ref"] == "s3://jarvis-artifacts/dead-letters/spy_control/2/7"
    assert stored["dead-letters/spy_control/2/7"] == value


def test_a_failing_spill_still_forwards_the_truncated_value() -> None:
    def spill(name: str, data: bytes) -> str:
        raise OSError("object store down")

    s = _settings()
    producer = FakeProducer(max_bytes=s.max_dead_letter_bytes + 1000)
    pub = KafkaPublisher(s, producer=producer, spill=spill)
    delivered = _dead_letter(pub, key=b"k", value=b"q" * 1_000_000)
    pub.flush(1)
    assert delivered == [None] and "jarvis.value.ref" not in producer.sent[0].header()


def test_a_dead_letter_refused_by_the_topic_is_sent_again_smaller() -> None:
    pub, producer, _ = _publisher()
    producer.topic_limits[pub.settings.dlq_topic] = 30_000
    delivered = _dead_letter(pub, key=b"k", value=b"v" * 350_000)
    assert pub.flush(1)
    assert delivered == [None]  # once, on success
    (sent,) = producer.sent
    assert sent.size <= 30_000 and sent.header()["jarvis.value.truncated"] == "true"


def test_a_dead_letter_whose_delivery_fails_reports_the_error_to_the_caller() -> None:
    # Not a size problem: the worker decides (retry with backoff, then give up and move on:
    # deadletter.after_failure), so the publisher never holds a partition on its own.
    pub, producer, _clock = _publisher()
    producer.fail_with = [KafkaError._MSG_TIMED_OUT]
    delivered = _dead_letter(pub, key=b"k", value=b"{}")
    pub.poll()
    assert [e.code() for e in delivered if e is not None] == [KafkaError._MSG_TIMED_OUT]
    assert pub.pending_resends() == 0


def test_a_dead_letter_refused_at_produce_reports_the_error() -> None:
    pub, producer, _clock = _publisher()
    real = producer.produce
    calls = {"n": 0}

    def flaky(*a: Any, **kw: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise KafkaException(KafkaError(KafkaError._UNKNOWN_TOPIC))
        real(*a, **kw)

    producer.produce = flaky  # type: ignore[method-assign]
    delivered = _dead_letter(pub, key=b"k", value=b"{}")
    assert [e.code() for e in delivered if e is not None] == [KafkaError._UNKNOWN_TOPIC]
    assert pub.pending_resends() == 0


@pytest.mark.parametrize("key_bytes", [0, 100, 5000])
def test_dead_letter_build_fits_any_budget(key_bytes: int) -> None:
    source = deadletter.Source(
        topic="t", partition=0, offset=1, key=b"k" * key_bytes if key_bytes else None,
        value=b"v" * 100_000, headers=[(f"h{i}", b"x" * 100) for i in range(100)],
        reason="r" * 5000, field="f" * 5000, worker="w", at="2026-01-01T00:00:00+00:00",
    )  # fmt: skip
    for budget in (0, 2000, 10_000, 50_000, 1_000_000):
        letter = deadletter.build(source, budget)
        names = [n for n, _ in letter.headers]
        assert len(names) == len(set(names))
        if budget >= 10_000:
            assert letter.size <= budget
        if budget == 1_000_000:
            assert letter.value == source.value and not letter.truncated


def test_a_log_record_refused_at_produce_is_resent_clipped_for_an_outbox_too() -> None:
    # The worker's path (an on_delivery callback, no closure per record) shrinks like the others.
    pub, producer, _ = _publisher()
    producer.max_bytes = 5_000
    heard: list[Any] = []
    pub.log("e-8", _record(4, 1, source="s" * 60_000), lambda err, m: heard.append(err))
    assert pub.flush(1)
    assert heard == [None]  # heard once, delivered
    (sent,) = producer.sent
    assert sent.size <= 5_000 and orjson.loads(sent.value or b"")["seq"] == 4


# --- trace headers (jarvis.telemetry.tracing) ---

TRACE = [
    ("traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
    ("tracestate", b"v=" + b"x" * 500),
]


def test_trace_headers_go_on_events_and_records_and_count_in_their_size() -> None:
    pub, producer, _ = _publisher(max_event_bytes=10_000)
    # A record that fits the budget by itself, not with ~600 bytes of headers beside it.
    near = _record(0, "v" * 9_400)
    assert 9_300 < len(orjson.dumps(near)) < 9_900
    pub.log("e-6", near, headers=TRACE)
    pub.log("e-6", _record(1, 1))  # none given: none sent
    pub.event(_rejected(), headers=TRACE)  # oversized: clipped to fit with its headers
    pub.flush(1)
    big, small, event = producer.sent
    assert big.headers == TRACE and small.headers is None and event.headers == TRACE
    assert orjson.loads(big.value or b"")["truncated"] is True
    assert big.size <= 10_000 and event.size <= 10_000


def test_a_record_resent_smaller_keeps_its_trace_headers() -> None:
    pub, producer, _ = _publisher()
    refused = FakeMessage(
        topic=pub.settings.logs_topic,
        key=b"e-8",
        value=orjson.dumps(_record(4, "v" * 60_000)),
        headers=TRACE,
    )
    heard: list[Any] = []
    assert pub.resend_smaller(refused, lambda err, m: heard.append(err))  # type: ignore[arg-type]
    assert pub.flush(1) and heard == [None]
    (sent,) = producer.sent
    assert orjson.loads(sent.value or b"")["truncated"] is True
    assert sent.headers == TRACE
