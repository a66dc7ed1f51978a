"""The consumer loop's commit point moves past failures (DESIGN.md §2 "an offset").

A dead letter whose delivery fails is retried (``Later`` items with backoff) and its offset
finishes once a try lands, or once ``dead_letter_attempts`` tries all failed; a bug of
ours while handling a message dead-letters it and the loop goes on. The Worker is built
without its real clients (no broker, no Redis); its methods are driven by hand, a turn of
the loop at a time, with a fake monotonic clock (no sleeping).
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka import KafkaError, TopicPartition

from jarvis.contract.messages import ProgramSpec, StartCommand
from jarvis.settings import Settings
from jarvis.worker import loop
from jarvis.worker.hooks import HookList
from jarvis.worker.loop import Worker
from jarvis.worker.offsets import OffsetTracker

TOPIC = "spy_control"
OnDelivery = Callable[[KafkaError | None, Any], None]


class FakeMessage:
    def __init__(
        self, offset: int, value: bytes | None, key: bytes | None = b"e-1", partition: int = 0
    ) -> None:
        self._offset = offset
        self._value = value
        self._key = key
        self._partition = partition

    def topic(self) -> str:
        return TOPIC

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes | None:
        return self._key

    def value(self) -> bytes | None:
        return self._value

    def headers(self) -> list[tuple[str, bytes]]:
        return []

    def error(self) -> None:
        return None


class FakePublisher:
    """Keeps every dead letter's delivery callback; the test says how each try ended."""

    def __init__(self) -> None:
        self.tries: list[tuple[FakeMessage, str, str | None]] = []
        self.callbacks: list[OnDelivery] = []

    def dead_letter(
        self, msg: FakeMessage, reason: str, field: str | None, on_delivery: OnDelivery
    ) -> None:
        self.tries.append((msg, reason, field))
        self.callbacks.append(on_delivery)

    def fail(self, index: int) -> None:
        # What KafkaPublisher does for a failure that is not about size: on_delivery(err, None).
        self.callbacks[index](KafkaError(KafkaError._MSG_TIMED_OUT, "timed out"), None)

    def deliver(self, index: int) -> None:
        msg = self.tries[index][0]
        self.callbacks[index](None, msg)


class FakeConsumer:
    def __init__(self) -> None:
        self.commits: list[list[tuple[str, int, int]]] = []
        self.calls: list[tuple[str, Any]] = []  # barriers and commits, in order

    def commit(self, offsets: list[Any], asynchronous: bool = True) -> None:
        assert asynchronous is False
        self.commits.append([(tp.topic, tp.partition, tp.offset) for tp in offsets])
        self.calls.append(("commit", self.commits[-1]))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(loop.time, "monotonic", fake)
    return fake


class FakeDurability:
    """Records barriers in the consumer's call log, so tests see them beside the commits."""

    defers_end = True

    def __init__(self, consumer: Any) -> None:
        self.consumer = consumer
        self.broken: OSError | None = None
        self.barriers: list[str] = []

    def sync(self, fd: int, new_dir: str | None) -> None:
        raise AssertionError("the loop never syncs a journal itself")

    def barrier(self, root: str) -> None:
        if self.broken is not None:
            raise self.broken
        self.barriers.append(root)
        self.consumer.calls.append(("barrier", root))


def make_worker(
    publisher: FakePublisher, running: frozenset[str] = frozenset(), **overrides: Any
) -> Worker:
    settings = Settings(_env_file=None, worker_id="w-1", commit_interval_s=1.0, **overrides)  # type: ignore[call-arg]
    w = Worker.__new__(Worker)
    w.settings = settings
    w.publisher = publisher  # type: ignore[assignment]
    w.hooks = HookList([])
    w.offsets = OffsetTracker()
    w._done = collections.deque()
    w._later = []
    w._assigned = {(TOPIC, 0)}
    w.processed = 0
    w._finished_since_commit = 0
    w._last_commit = 0.0
    w.consumer = FakeConsumer()  # type: ignore[assignment]
    w.executions = running  # type: ignore[assignment]  # decide only asks "is it running here?"
    w.durability = FakeDurability(w.consumer)  # type: ignore[assignment]
    w.books = None  # type: ignore[assignment]  # admission is never reached by these messages
    return w


def turn(w: Worker) -> None:
    """What one turn of ``Worker.run`` does after handling the polled messages."""
    w._handle_later()
    w._drain_done()
    w._commit()


def commits(w: Worker) -> list[list[tuple[str, int, int]]]:
    return w.consumer.commits  # type: ignore[attr-defined, no-any-return]


def valid_start(execution_id: str) -> bytes:
    return (
        StartCommand(execution_id=execution_id, program=ProgramSpec(source="result = 1"))
        .model_dump_json()
        .encode()
    )


# --- a dead letter whose delivery fails -------------------------------------------------------


def test_dead_letter_retried_with_backoff_until_delivered_then_committed(clock: Clock) -> None:
    publisher = FakePublisher()
    w = make_worker(publisher, running=frozenset({"e-dup"}), dead_letter_attempts=5)
    bad = FakeMessage(7, b"{not json")
    dup = FakeMessage(8, valid_start("e-dup"), key=b"e-dup")  # finished at once (absorbed)

    w._handle(bad)
    w._handle(dup)
    assert len(publisher.tries) == 1
    publisher.fail(0)
    turn(w)
    # 8 is finished, but 7 (below it) is not: nothing may be committed yet.
    assert commits(w) == []
    assert w.offsets.in_flight() == 1
    assert len(w._later) == 1

    clock.now += 0.1  # before the first backoff (0.2 s) is over: no second try yet
    turn(w)
    assert len(publisher.tries) == 1

    clock.now += 0.1
    turn(w)
    assert len(publisher.tries) == 2
    publisher.fail(1)
    turn(w)
    assert commits(w) == []

    clock.now += 0.3  # the second backoff is 0.4 s
    turn(w)
    assert len(publisher.tries) == 2
    clock.now += 0.1
    turn(w)
    assert len(publisher.tries) == 3
    assert all(t[0] is bad and t[1] == publisher.tries[0][1] for t in publisher.tries)

    publisher.deliver(2)
    clock.now += 1.0
    turn(w)
    assert commits(w) == [[(TOPIC, 0, 9)]]  # past both 7 and 8
    assert w.offsets.in_flight() == 0
    assert w._later == []
    assert w.processed == 2

    clock.now += 60.0
    turn(w)
    assert len(publisher.tries) == 3  # delivered: never sent again
    assert commits(w) == [[(TOPIC, 0, 9)]]


def test_dead_letter_given_up_after_max_attempts_and_offset_committed_anyway(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    publisher = FakePublisher()
    w = make_worker(publisher, dead_letter_attempts=3)
    msg = FakeMessage(4, b"[]")

    caplog.set_level(logging.WARNING, logger="jarvis.worker")
    w._handle(msg)
    for attempt in range(3):
        assert len(publisher.tries) == attempt + 1
        assert commits(w) == []
        publisher.fail(attempt)
        turn(w)  # the retry (or the give-up) reaches the loop
        clock.now += 10.0  # past any backoff
        turn(w)

    assert commits(w) == [[(TOPIC, 0, 5)]]
    assert w.offsets.in_flight() == 0
    assert w.processed == 1
    assert w._later == []
    gave_up = [r for r in caplog.records if "giving up dead-lettering" in r.getMessage()]
    assert len(gave_up) == 1
    assert gave_up[0].levelno == logging.ERROR
    assert "after 3 tries" in gave_up[0].getMessage()

    clock.now += 600.0
    turn(w)
    assert len(publisher.tries) == 3  # gave up: no fourth try


def test_dead_letter_retry_dropped_when_its_partition_was_revoked(clock: Clock) -> None:
    publisher = FakePublisher()
    w = make_worker(publisher, dead_letter_attempts=5)
    w._handle(FakeMessage(2, b"nope"))
    publisher.fail(0)
    w._assigned = set()  # revoked meanwhile: the partition's next owner handles the message
    clock.now += 10.0
    turn(w)
    clock.now += 10.0
    turn(w)
    assert len(publisher.tries) == 1
    assert w._later == []


# --- an unexpected exception in the consumer's handling ---------------------------------------


def test_internal_error_in_decide_dead_letters_and_offset_moves_on(
    clock: Clock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(loop, "decide", broken)
    publisher = FakePublisher()
    w = make_worker(publisher)
    msg = FakeMessage(11, valid_start("e-1"))

    caplog.set_level(logging.ERROR, logger="jarvis.worker")
    w._handle(msg)  # returns normally: the loop goes on

    assert len(publisher.tries) == 1
    sent, reason, field = publisher.tries[0]
    assert sent is msg
    assert "internal error" in reason
    assert field is None
    assert any("internal error handling" in r.getMessage() and r.exc_info for r in caplog.records)

    turn(w)
    assert commits(w) == []  # not before the dead letter is on the broker
    assert w.offsets.in_flight() == 1

    publisher.deliver(0)
    clock.now += 1.0
    turn(w)
    assert commits(w) == [[(TOPIC, 0, 12)]]
    assert w.processed == 1


def test_internal_error_in_carry_out_dead_letters_and_next_messages_still_flow(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_self: Worker, _decision: Any, _msg: Any) -> None:
        raise KeyError("missing")

    publisher = FakePublisher()
    w = make_worker(publisher)
    monkeypatch.setattr(Worker, "_carry_out", broken)
    for offset in (0, 1, 2):
        w._handle(FakeMessage(offset, valid_start(f"e-{offset}"), key=f"e-{offset}".encode()))
    assert [t[0].offset() for t in publisher.tries] == [0, 1, 2]
    publisher.deliver(2)
    publisher.deliver(0)
    turn(w)
    assert commits(w) == [[(TOPIC, 0, 1)]]  # 1 is still in flight: 2 waits behind it
    publisher.deliver(1)
    clock.now += 1.0
    turn(w)
    assert commits(w) == [[(TOPIC, 0, 1)], [(TOPIC, 0, 3)]]


# --- journals are made durable before offsets move (group commit defers the ends) ------------


def test_every_commit_follows_a_barrier_over_the_checkpoint_directory(clock: Clock) -> None:
    publisher = FakePublisher()
    w = make_worker(publisher)
    for offset in (0, 1):
        w._handle(FakeMessage(offset, b"not json", key=f"e-{offset}".encode()))
    publisher.deliver(0)
    turn(w)
    publisher.deliver(1)
    clock.now += 1.0
    turn(w)
    root = str(w.settings.checkpoint_dir)
    assert w.consumer.calls == [  # type: ignore[attr-defined]
        ("barrier", root),
        ("commit", [(TOPIC, 0, 1)]),
        ("barrier", root),
        ("commit", [(TOPIC, 0, 2)]),
    ]


def test_a_failed_barrier_holds_the_commit_until_the_volume_syncs_again(clock: Clock) -> None:
    publisher = FakePublisher()
    w = make_worker(publisher)
    w._handle(FakeMessage(0, b"not json", key=b"e-0"))
    publisher.deliver(0)
    w.durability.broken = OSError(5, "Input/output error")  # type: ignore[attr-defined]
    turn(w)
    assert commits(w) == []  # an end that may not be durable never lets its offset move
    assert w.offsets.in_flight() == 0  # finished all the same: only the commit waits
    w.durability.broken = None  # type: ignore[attr-defined]
    clock.now += 1.0
    turn(w)
    assert commits(w) == [[(TOPIC, 0, 1)]]


# --- shutdown: consumer.close() revokes again, and must not wait a second time ---------------


class HandOffs:
    """Executions that record every hand-off's wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def hand_off(self, which: Any, timeout_s: float) -> list[Any]:
        self.waits.append(timeout_s)
        return []


def test_a_revoke_waits_for_the_hand_off_but_not_again_after_shutdown_handed_off(
    clock: Clock,
) -> None:
    w = make_worker(FakePublisher(), drain_grace_s=20)
    executions = HandOffs()
    w.executions = executions  # type: ignore[assignment]
    w.stop_scanner = type("Scanner", (), {"watch": lambda self, positions: None})()  # type: ignore[assignment]
    w._paused = False
    w._handed_off = False
    w._on_revoke(w.consumer, [TopicPartition(TOPIC, 0)])  # type: ignore[arg-type]
    assert executions.waits == [20]  # a rebalance: running executions get the drain grace
    w._assigned = {(TOPIC, 0)}
    w._handed_off = True  # what _close() sets once its own hand-off has waited
    w._on_revoke(w.consumer, [TopicPartition(TOPIC, 0)])  # type: ignore[arg-type]
    assert executions.waits == [20, 0.0]  # consumer.close()'s revoke: no second wait
    assert w._assigned == set()
