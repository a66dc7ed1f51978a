"""Outbox: counting one execution's deliveries, with a publisher that never touches Kafka."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka import KafkaError

from jarvis.contract.messages import LifecycleEvent
from jarvis.worker.hooks import WorkerHooks
from jarvis.worker.outbox import Outbox

HANG_S = 10.0  # only a hang detector

OnDelivery = Callable[[KafkaError | None, Any], None]


class FakePublisher:
    """Keeps each delivery callback so the test decides when (and how) it is delivered."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []
        self.callbacks: list[OnDelivery] = []

    def log(
        self,
        execution_id: str,
        record: dict[str, Any],
        on_delivery: OnDelivery,
        headers: Any = None,
    ) -> None:
        self.sent.append(("log", (execution_id, record)))
        self.callbacks.append(on_delivery)

    def event(self, event: LifecycleEvent, on_delivery: OnDelivery, headers: Any = None) -> None:
        self.sent.append(("event", event))
        self.callbacks.append(on_delivery)

    def deliver(self, index: int, err: KafkaError | None = None) -> None:
        self.callbacks[index](err, None)


class RecordingHooks(WorkerHooks):
    def __init__(self) -> None:
        self.started_ids: list[str] = []

    def started(self, execution_id: str) -> None:
        self.started_ids.append(execution_id)


def event(kind: str, execution_id: str = "exec-1") -> LifecycleEvent:
    return LifecycleEvent(execution_id=execution_id, event=kind, worker="w-1")  # type: ignore[arg-type]


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


def outbox(publisher: FakePublisher, hooks: WorkerHooks | None = None) -> Outbox:
    return Outbox(publisher, hooks)  # type: ignore[arg-type]


def test_nothing_sent_means_all_delivered(publisher: FakePublisher) -> None:
    box = outbox(publisher)
    assert box.pending == 0
    assert box.wait(0) is True


def test_pending_counts_sends_until_delivered(publisher: FakePublisher) -> None:
    box = outbox(publisher)
    box.log("exec-1", {"seq": 0})
    box.event(event("accepted"))
    box.log("exec-1", {"seq": 1})
    assert box.pending == 3
    assert [kind for kind, _ in publisher.sent] == ["log", "event", "log"]
    assert publisher.sent[0][1] == ("exec-1", {"seq": 0})
    assert box.wait(0) is False  # timeout: still in flight
    publisher.deliver(1)
    publisher.deliver(0)
    assert box.pending == 1
    assert box.wait(0) is False
    publisher.deliver(2)
    assert box.pending == 0
    assert box.wait(0) is True
    assert box.failures == 0


def test_a_failed_delivery_makes_wait_false_until_reset(publisher: FakePublisher) -> None:
    box = outbox(publisher)
    box.log("exec-1", {"seq": 0})
    box.log("exec-1", {"seq": 1})
    error = KafkaError(KafkaError._MSG_TIMED_OUT)
    publisher.deliver(0, error)
    publisher.deliver(1)
    assert box.pending == 0
    assert box.failures == 1
    assert box.last_error is error
    assert box.wait(0) is False
    assert box.wait(1.0) is False  # returns at once: nothing in flight, but one failed
    assert box.reset_failures() == 1
    assert box.failures == 0
    assert box.wait(0) is True
    assert box.reset_failures() == 0


def test_wait_wakes_when_the_last_delivery_arrives(publisher: FakePublisher) -> None:
    box = outbox(publisher)
    box.log("exec-1", {"seq": 0})
    result: list[bool] = []
    waiter = threading.Thread(target=lambda: result.append(box.wait(HANG_S)), daemon=True)
    waiter.start()
    publisher.deliver(0)
    waiter.join(HANG_S)
    assert not waiter.is_alive()
    assert result == [True]


def test_started_hook_fires_for_started_and_resumed_only(publisher: FakePublisher) -> None:
    hooks = RecordingHooks()
    box = outbox(publisher, hooks)
    for i, kind in enumerate(
        ["accepted", "started", "resumed", "completed", "failed", "rejected", "stopped"]
    ):
        box.event(event(kind, f"exec-{i}"))
    assert hooks.started_ids == ["exec-1", "exec-2"]
    assert box.pending == 7
    box.log("exec-1", {"seq": 0})
    assert hooks.started_ids == ["exec-1", "exec-2"]


def test_no_hooks_is_fine(publisher: FakePublisher) -> None:
    box = outbox(publisher, None)
    box.event(event("started"))
    assert box.pending == 1
