"""Executions finish their offsets past failures (DESIGN.md §2 "an offset").

Output that cannot be delivered is produced again until it lands (or the execution is let
go, for its next owner to re-announce); a bug of ours around the host fails the execution
with an ``InternalError`` event and its offset moves on; a stop consumed before the start
prevents it, journaled under the lease. Executions is built with fakes (no broker, Redis
or sandbox) and its private steps are called directly; delivery callbacks fire by hand.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from confluent_kafka import KafkaError

from jarvis.contract.messages import LifecycleEvent, ProgramSpec, StartCommand
from jarvis.errors import Stopped
from jarvis.execution.runner import Outcome
from jarvis.journal import End, Journal, Start
from jarvis.journal.durability import DIRECT
from jarvis.settings import Settings
from jarvis.worker import executions as executions_module
from jarvis.worker.executions import Executions, Running
from jarvis.worker.hooks import HookList
from jarvis.worker.lease import Lease, OutputFence
from jarvis.worker.outbox import Outbox
from tests.helpers import wait_for

HANG_S = 10.0  # only a hang detector
TOPIC = "spy_control"
OnDelivery = Callable[[KafkaError | None, Any], None]
TIMED_OUT = KafkaError(KafkaError._MSG_TIMED_OUT, "timed out")


class FakePublisher:
    """Keeps each delivery callback (from any thread); the test fires them by hand."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []
        self.callbacks: list[OnDelivery] = []
        self.changed = threading.Condition()

    def _add(self, kind: str, item: Any, on_delivery: OnDelivery) -> None:
        with self.changed:
            self.sent.append((kind, item))
            self.callbacks.append(on_delivery)
            self.changed.notify_all()

    def log(self, execution_id: str, record: dict[str, Any], on_delivery: OnDelivery) -> None:
        self._add("log", (execution_id, record), on_delivery)

    def event(self, event: LifecycleEvent, on_delivery: OnDelivery) -> None:
        self._add("event", event, on_delivery)

    def fire(self, index: int, err: KafkaError | None = None) -> None:
        self.callbacks[index](err, None)

    def wait_sent(self, count: int) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.sent) >= count, HANG_S), (
                f"never sent {count}"
            )

    def events(self) -> list[LifecycleEvent]:
        return [item for kind, item in self.sent if kind == "event"]


class Finished:
    """The ``finished`` callback: which runs told the loop their offset is done."""

    def __init__(self) -> None:
        self.runs: list[Running] = []
        self.changed = threading.Condition()

    def __call__(self, run: Running) -> None:
        with self.changed:
            self.runs.append(run)
            self.changed.notify_all()

    def wait(self, count: int = 1) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.runs) >= count, HANG_S), (
                "offset never finished"
            )


class FakeLeases:
    def __init__(self, make: Callable[[str], Lease] | None = None) -> None:
        self.make = make
        self.acquired: list[Lease] = []
        self.released: list[Lease] = []

    def acquire(self, execution_id: str) -> Lease | None:
        assert self.make is not None
        lease = self.make(execution_id)
        self.acquired.append(lease)
        return lease

    def release(self, lease: Lease) -> None:
        self.released.append(lease)


class FakeStops:
    def __init__(self) -> None:
        self.cleared: list[str] = []

    def clear(self, execution_id: str) -> None:
        self.cleared.append(execution_id)


class FakeBooks:
    def procedures(self, names: list[str]) -> dict[str, Any]:
        return {}


def lease(
    eid: str, token: int = 42, valid_s: float = 60.0, stop: dict[str, Any] | None = None
) -> Lease:
    return Lease(
        execution_id=eid,
        token=token,
        value=orjson.dumps({"worker": "w-1", "token": token}),
        ttl_s=15.0,
        valid_until=time.monotonic() + valid_s,
        stop_flag=None if stop is None else orjson.dumps(stop),
    )


def start(eid: str) -> StartCommand:
    return StartCommand(execution_id=eid, program=ProgramSpec(source="result = 1"))


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(executions_module, "backoff", lambda attempt: 0.0)


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def finished() -> Finished:
    return Finished()


@pytest.fixture
def stops() -> FakeStops:
    return FakeStops()


@pytest.fixture
def make(
    tmp_path: Path, publisher: FakePublisher, finished: Finished, stops: FakeStops
) -> Callable[..., Executions]:
    def build(leases: FakeLeases | None = None) -> Executions:
        settings = Settings(_env_file=None, checkpoint_dir=tmp_path, worker_id="w-1")  # type: ignore[call-arg]
        return Executions(
            settings,
            publisher,
            leases or FakeLeases(),
            stops,
            None,
            FakeBooks(),
            None,  # type: ignore[arg-type]
            HookList([]),
            DIRECT,
            finished,
            threads=1,
            ready_capacity=4,
        )

    return build


def completed(eid: str) -> LifecycleEvent:
    return LifecycleEvent(
        execution_id=eid, event="completed", worker="w-1", result=1, result_type="int"
    )


# --- output that cannot be delivered ---------------------------------------------------------


def test_terminal_event_produced_again_until_delivered_then_offset_finished(
    make: Callable[..., Executions], publisher: FakePublisher, finished: Finished
) -> None:
    ex = make()
    run = ex.new(start("e-1"), TOPIC, 0, 3)
    event = completed("e-1")

    assert ex._deliver(run, event) is False  # never holds the execution thread
    assert publisher.events() == [event]
    publisher.fire(0, TIMED_OUT)
    publisher.wait_sent(2)  # produced again (on a Timer thread)
    assert finished.runs == []
    assert "e-1" in ex
    publisher.fire(1, TIMED_OUT)
    publisher.wait_sent(3)
    assert finished.runs == []

    publisher.fire(2)
    finished.wait()
    assert finished.runs == [run]
    assert publisher.events() == [event, event, event]
    assert "e-1" not in ex
    assert run.outbox.failures == 0


def test_failed_log_record_at_delivery_still_ends_in_a_finished_offset(
    make: Callable[..., Executions], publisher: FakePublisher, finished: Finished
) -> None:
    ex = make()
    run = ex.new(start("e-2"), TOPIC, 0, 4)
    run.outbox.log("e-2", {"seq": 1, "msg": "hello"})
    ex._deliver(run, completed("e-2"))
    publisher.fire(1)  # the event lands
    assert finished.runs == []
    publisher.fire(0, TIMED_OUT)  # the log record does not: the outbox drains with a failure
    publisher.wait_sent(3)
    assert publisher.sent[2][0] == "event"
    assert finished.runs == []
    publisher.fire(2)
    finished.wait()
    assert finished.runs == [run]


@pytest.mark.parametrize("how", ["handed off", "worker shutting down"])
def test_leaving_execution_with_undelivered_output_dropped_without_finishing(
    make: Callable[..., Executions],
    publisher: FakePublisher,
    finished: Finished,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    def no_retry(attempt: int) -> float:
        raise AssertionError("a leaving execution's output must not be produced again here")

    ex = make()
    run = ex.new(start("e-3"), TOPIC, 0, 5)
    ex._deliver(run, completed("e-3"))
    if how == "handed off":
        run.leaving = True
    else:
        ex.shutdown.set()
    monkeypatch.setattr(executions_module, "backoff", no_retry)
    publisher.fire(0, TIMED_OUT)  # drained() runs here, on this thread
    assert finished.runs == []  # its next owner re-announces it; the offset stays uncommitted
    assert "e-3" not in ex
    assert len(publisher.sent) == 1


def test_let_go_while_retrying_delivery(
    make: Callable[..., Executions], publisher: FakePublisher, finished: Finished
) -> None:
    ex = make()
    run = ex.new(start("e-4"), TOPIC, 0, 6)
    ex._deliver(run, completed("e-4"))
    publisher.fire(0, TIMED_OUT)
    publisher.wait_sent(2)
    run.leaving = True  # the partition was revoked meanwhile
    publisher.fire(1, TIMED_OUT)
    assert finished.runs == []
    assert "e-4" not in ex


def test_output_fence_writes_no_end_when_output_failed(
    tmp_path: Path, publisher: FakePublisher
) -> None:
    outbox = Outbox(publisher)  # type: ignore[arg-type]
    fence = OutputFence(lease("e-5"), outbox, lambda: False)
    journal = Journal.open(tmp_path, "e-5", fence=fence)
    journal.append(Start("d", "p.spy", {}, []))
    outbox.log("e-5", {"seq": 1})
    publisher.fire(0, TIMED_OUT)

    with pytest.raises(Stopped) as info:
        journal.append(End({"event": "completed"}))
    assert info.value.mode == "handoff"
    journal.close()
    assert Journal.open(tmp_path, "e-5").end is None  # redone by replay, which re-emits the log


def test_output_fence_writes_end_once_output_delivered(
    tmp_path: Path, publisher: FakePublisher
) -> None:
    outbox = Outbox(publisher)  # type: ignore[arg-type]
    fence = OutputFence(lease("e-6", token=7), outbox, lambda: False)
    journal = Journal.open(tmp_path, "e-6", fence=fence)
    outbox.log("e-6", {"seq": 1})
    publisher.fire(0)
    journal.append(End({"event": "completed"}))
    journal.close()
    end = Journal.open(tmp_path, "e-6").end
    assert end is not None and end.k == 7


def test_output_lost_execution_is_redone_here_then_offset_finished(
    make: Callable[..., Executions],
    publisher: FakePublisher,
    finished: Finished,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """run_execution hands off (its fence found failed output) while nobody asked for a
    hand-off: the execution is leased again and re-run (replay re-produces its output)."""
    calls: list[int] = []

    def fake_run(
        command: StartCommand, source: str, config: Any, sink: Outbox, on_host: Any = None
    ) -> Outcome:
        calls.append(sink.failures)
        if len(calls) == 1:
            sink.log(command.execution_id, {"seq": 1})
            publisher.fire(len(publisher.sent) - 1, TIMED_OUT)
            return Outcome(
                LifecycleEvent.model_construct(execution_id="e-7", event="stopped"), handoff=True
            )
        return Outcome(completed(command.execution_id))

    monkeypatch.setattr(executions_module, "run_execution", fake_run)
    monkeypatch.setattr(executions_module.time, "sleep", lambda s: None)
    leases = FakeLeases(lambda eid: lease(eid))
    ex = make(leases)
    run = ex.new(start("e-7"), TOPIC, 0, 8)

    ex._execute(run)
    assert calls == [0, 0]  # re-run, with the failures forgotten (their content is produced again)
    assert len(leases.acquired) == 2
    assert leases.released == leases.acquired
    assert finished.runs == []
    assert publisher.events()[-1].event == "completed"
    publisher.fire(len(publisher.sent) - 1)
    finished.wait()
    assert finished.runs == [run]


# --- an unexpected exception around the host ------------------------------------------------


def assert_internal_error_and_finished(
    ex: Executions, run: Running, publisher: FakePublisher, finished: Finished
) -> None:
    assert ex._run_leased(run, lease(run.execution_id)) is False
    events = publisher.events()
    assert len(events) == 1
    event = events[0]
    assert event.event == "failed"
    assert event.error is not None and event.error.type == "InternalError"
    assert "a bug of ours" not in event.error.message  # host detail stays in the worker's log
    assert finished.runs == []  # not before the event is on the broker
    publisher.fire(0)
    finished.wait()
    assert finished.runs == [run]
    assert run.execution_id not in ex


def test_exception_preparing_the_run_fails_it_and_finishes_offset(
    make: Callable[..., Executions],
    publisher: FakePublisher,
    finished: Finished,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(self: Executions, command: StartCommand) -> Any:
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(Executions, "config", broken)
    ex = make()
    assert_internal_error_and_finished(ex, ex.new(start("e-8"), TOPIC, 0, 9), publisher, finished)


def test_exception_from_run_execution_fails_it_and_finishes_offset(
    make: Callable[..., Executions],
    publisher: FakePublisher,
    finished: Finished,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[Any] = []

    def broken(
        command: StartCommand, source: str, config: Any, sink: Any, on_host: Any = None
    ) -> Outcome:
        seen.append(config)
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(executions_module, "run_execution", broken)
    ex = make()
    assert_internal_error_and_finished(ex, ex.new(start("e-9"), TOPIC, 0, 10), publisher, finished)
    assert len(seen) == 1  # it did get as far as running


def test_exception_escaping_an_execution_finishes_offset_and_thread_survives(
    make: Callable[..., Executions], finished: Finished
) -> None:
    class BrokenLeases(FakeLeases):
        def acquire(self, execution_id: str) -> Lease | None:
            raise RuntimeError("a bug of ours")

    ex = make(BrokenLeases())
    first = ex.new(start("e-10"), TOPIC, 0, 11)
    second = ex.new(start("e-11"), TOPIC, 0, 12)
    ex.queue(first)
    ex.queue(second)
    ex.start()
    try:
        finished.wait(2)  # the one thread handled both: it survived the first
    finally:
        ex.close()
    assert finished.runs == [first, second]
    assert len(ex) == 0


# --- a stop before its start takes the lease --------------------------------------------------

CANCEL_AT_5 = {"mode": "cancel", "partition": 0, "offset": 5}


def test_cancel_before_start_journaled_under_the_lease(
    tmp_path: Path, make: Callable[..., Executions], publisher: FakePublisher, finished: Finished
) -> None:
    ex = make()
    run = ex.new(start("e-12"), TOPIC, 0, 9)
    held = lease("e-12", token=17, stop=CANCEL_AT_5)

    event = ex._stop_prevents_start(run, held)
    end = Journal.open(tmp_path, "e-12").end
    assert end is not None
    assert end.k == 17
    assert end.event["event"] == "stopped"
    assert end.event["stop_mode"] == "cancel"
    # The event is returned for _deliver (retried until delivered), not published here.
    assert event is not None and event.event == "stopped" and event.stop_mode == "cancel"
    assert publisher.events() == []


def test_cancel_before_start_via_run_leased_never_runs_and_finishes_offset(
    tmp_path: Path,
    make: Callable[..., Executions],
    publisher: FakePublisher,
    finished: Finished,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ran: list[str] = []
    monkeypatch.setattr(
        executions_module, "run_execution", lambda command, *a, **k: ran.append("ran")
    )
    ex = make()
    run = ex.new(start("e-13"), TOPIC, 0, 9)

    assert ex._run_leased(run, lease("e-13", stop=CANCEL_AT_5)) is False
    assert ran == []
    [event] = publisher.events()
    assert event.event == "stopped" and event.stop_mode == "cancel"
    assert finished.runs == []
    publisher.fire(0)
    finished.wait()
    assert finished.runs == [run]
    end = Journal.open(tmp_path, "e-13").end
    assert end is not None and end.event["stop_mode"] == "cancel"


def test_suspend_before_any_start_is_consumed_without_a_journal_end(
    tmp_path: Path, make: Callable[..., Executions], publisher: FakePublisher, stops: FakeStops
) -> None:
    ex = make()
    run = ex.new(start("e-14"), TOPIC, 0, 9)
    event = ex._stop_prevents_start(run, lease("e-14", stop={**CANCEL_AT_5, "mode": "suspend"}))
    assert stops.cleared == ["e-14"]
    assert Journal.open(tmp_path, "e-14").end is None
    assert event is not None and event.event == "stopped" and event.stop_mode == "suspend"


def test_cancel_before_start_with_expired_lease_journals_nothing(
    tmp_path: Path, make: Callable[..., Executions], publisher: FakePublisher
) -> None:
    ex = make()
    run = ex.new(start("e-15"), TOPIC, 0, 9)
    expired = lease("e-15", valid_s=-1.0, stop=CANCEL_AT_5)

    with pytest.raises(Stopped) as info:
        ex._stop_prevents_start(run, expired)
    assert info.value.mode == "handoff"
    assert expired.lost
    journal = Journal.open(tmp_path, "e-15")
    assert journal.end is None
    assert journal.records == []
    assert publisher.sent == []


def test_stopped_event_of_a_prevented_start_is_produced_again_when_its_delivery_fails(
    make: Callable[..., Executions], publisher: FakePublisher, finished: Finished
) -> None:
    """_run_leased calls _deliver(run, None) after _stop_prevents_start sent the stopped
    event itself; a failed delivery retries _deliver(run, None, 1), which produces nothing,
    finds the outbox clean and finishes the offset: the stopped event is lost for good
    (lifecycle events: at least once) and the offset is committed without it."""
    ex = make()
    run = ex.new(start("e-b1"), "spy_control", 0, 9)
    assert ex._run_leased(run, lease("e-b1", stop=CANCEL_AT_5)) is False
    publisher.fire(0, TIMED_OUT)
    with publisher.changed:
        publisher.changed.wait_for(lambda: len(publisher.sent) >= 2 or bool(finished.runs), 10.0)
    assert len(publisher.events()) == 2, "the stopped event was never produced again"
    assert publisher.events()[1].event == "stopped"
    assert finished.runs == []  # not before the stopped event is delivered


def test_prevented_start_with_a_lapsed_lease_is_retried_not_failed(
    tmp_path: Path, make: Callable[..., Executions], publisher: FakePublisher
) -> None:
    """_stop_prevents_start raises Stopped("handoff") when the lease lapsed before the end is
    journaled; Stopped is a JarvisError, so _run_leased publishes a terminal `failed` event
    (error type "Stopped", "execution stopped (handoff)": the internal mode leaks) and finishes
    the offset, with no journal end. Any later run of the start (a redelivery after a crash
    before the commit) journals `stopped`: two different terminal outcomes. Expected: treat it
    as a lost lease (return True: take the lease again and journal the stop)."""
    ex = make()
    run = ex.new(start("e-b2"), "spy_control", 0, 9)
    again = ex._run_leased(run, lease("e-b2", valid_s=-1.0, stop=CANCEL_AT_5))
    assert [e.event for e in publisher.events()] == [], [
        (e.event, e.error and e.error.type) for e in publisher.events()
    ]
    assert again is True
    assert Journal.open(tmp_path, "e-b2").end is None


@pytest.fixture(autouse=True)
def _uses(no_backoff: None) -> None:
    return None


# --- hand-off with no time left (shutdown's second revoke) ------------------------------------


def test_hand_off_with_no_time_to_wait_marks_them_leaving_and_says_who_still_runs(
    make: Callable[..., Executions],
) -> None:
    ex = make()
    queued = ex.new(start("e-queued"), TOPIC, 0, 1)
    ex.queue(queued)
    running = ex.new(start("e-running"), TOPIC, 0, 2)  # admitted, taken by a thread (not queued)
    left = ex.hand_off(lambda r: True, 0.0)
    assert left == [running]  # still running, reported at once; the queued one left
    assert running.leaving and queued.leaving
    assert "e-queued" not in ex and "e-running" in ex


# --- what the stop watcher polls -----------------------------------------------------------


def test_stop_watcher_polls_only_executions_whose_program_runs(
    make: Callable[..., Executions],
) -> None:
    """A queued start's stop flag comes back with its lease (checked before it starts): the
    watcher's MGET covers only executions with a host attached, not the whole ready queue."""
    ex = make()
    queued = ex.new(start("e-queued"), TOPIC, 0, 1)
    running = ex.new(start("e-running"), TOPIC, 0, 2)
    assert ex.running_ids() == []
    ex._attach(running, object())  # type: ignore[arg-type]
    assert ex.running_ids() == ["e-running"]
    assert sorted(ex.ids()) == ["e-queued", "e-running"]
    assert queued.host is None


def test_a_finished_run_lets_go_of_its_host_and_lease_callbacks(
    make: Callable[..., Executions], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The host holds the run's lease fence and Book caller, whose callbacks hold the run:
    kept after the run, each finished execution was a reference cycle for the cyclic GC."""
    attached: list[Any] = []

    class Host:
        stop_requested = None

    def fake_run(command: Any, source: str, config: Any, sink: Any, on_host: Any = None) -> Outcome:
        host = Host()
        on_host(host)
        attached.append(host)
        return Outcome(completed(command.execution_id))

    monkeypatch.setattr(executions_module, "run_execution", fake_run)
    leases = FakeLeases(lambda eid: lease(eid))
    ex = make(leases)
    run = ex.new(start("e-2"), TOPIC, 0, 1)
    ex._execute(run)
    assert len(attached) == 1 and run.host is None  # detached once its program is over
    assert leases.released and all(not held.on_lost for held in leases.released)
    assert ex.running_ids() == []


# --- the end of a run waits for its output off the execution thread (_Finisher) ------------


def deferred_run(
    ex: Executions, tmp_path: Path, eid: str, held: Lease
) -> tuple[Running, OutputFence, Outcome]:
    """A run whose program is done with one log record in flight: its end taken by the fence
    (``defer_end``) and handed to the finisher, as ``_run_attempt`` does."""
    run = ex.new(start(eid), TOPIC, 0, 11)
    fence = OutputFence(held, run.outbox, lambda: ex._leaving(run), defer=True)
    journal = Journal.open(tmp_path, eid, fence=fence)
    journal.append(Start("d", "p.spy", {}, []), lazy=True)
    run.outbox.log(eid, {"seq": 0, "msg": "hello"})  # publisher.callbacks[0]
    event = completed(eid)
    assert fence.defer_end(journal, End(event.model_dump(mode="json")))
    journal.close()  # run_execution closes it; the finisher's append opens it again
    outcome = Outcome(event, end_deferred=True)
    ex.finisher.wait_for_output(run, held, fence, outcome)
    return run, fence, outcome


def finishing(
    make: Callable[..., Executions], tmp_path: Path, eid: str
) -> tuple[Executions, FakeLeases, Lease, Running]:
    """Executions with its finisher running, and one run of ``eid`` waiting on it."""
    leases = FakeLeases()
    ex = make(leases)
    ex.finisher.start()
    held = lease(eid)
    run, _, _ = deferred_run(ex, tmp_path, eid, held)
    return ex, leases, held, run


def test_the_end_is_journaled_once_the_output_is_delivered_then_the_outcome_published(
    make: Callable[..., Executions], publisher: FakePublisher, finished: Finished, tmp_path: Path
) -> None:
    ex, leases, held, run = finishing(make, tmp_path, "f-1")
    time.sleep(0.3)  # the finisher's turn: nothing may happen before the delivery
    assert Journal.read(tmp_path, "f-1").end is None
    assert publisher.events() == [] and leases.released == []

    publisher.fire(0)  # the log record lands
    publisher.wait_sent(2)
    # The end was journaled before the outcome went out, and the lease let go after it.
    assert Journal.read(tmp_path, "f-1").end is not None
    assert [e.event for e in publisher.events()] == ["completed"]
    wait_for(lambda: leases.released == [held], HANG_S, "the lease released", interval_s=0.005)
    assert finished.runs == []
    publisher.fire(1)  # the outcome lands: the offset is finished
    finished.wait()
    assert finished.runs == [run] and "f-1" not in ex
    ex.close()


def test_a_lost_output_message_means_no_end_and_a_resume_from_the_journal(
    make: Callable[..., Executions], publisher: FakePublisher, finished: Finished, tmp_path: Path
) -> None:
    ex, leases, held, run = finishing(make, tmp_path, "f-2")
    publisher.fire(0, TIMED_OUT)
    wait_for(lambda: len(ex.ready) == 1, HANG_S, "the run queued again", interval_s=0.005)
    assert Journal.read(tmp_path, "f-2").end is None  # the replay re-emits the whole log
    assert publisher.events() == [] and leases.released == [held]
    assert run.outbox.failures == 0 and "f-2" in ex and finished.runs == []
    ex.close()


def test_a_lease_lost_while_the_output_was_in_flight_means_no_end_and_a_resume(
    make: Callable[..., Executions], publisher: FakePublisher, tmp_path: Path
) -> None:
    ex, leases, held, _run = finishing(make, tmp_path, "f-3")
    held.lost = True  # Redis said so, or its TTL passed unrenewed
    publisher.fire(0)
    wait_for(lambda: len(ex.ready) == 1, HANG_S, "the run queued again", interval_s=0.005)
    assert Journal.read(tmp_path, "f-3").end is None
    assert publisher.events() == [] and leases.released == [held]
    ex.close()


@pytest.mark.parametrize("how", ["handed off", "worker shutting down"])
def test_a_run_leaving_while_its_output_is_in_flight_is_let_go_without_an_end(
    make: Callable[..., Executions],
    publisher: FakePublisher,
    finished: Finished,
    tmp_path: Path,
    how: str,
) -> None:
    ex, leases, held, _run = finishing(make, tmp_path, "f-4")
    if how == "handed off":
        ex.hand_off(lambda r: True, 0.0)
    else:
        ex.shutdown.set()
    # Let go within a turn of the finisher (as before_end raised within a second), so that
    # the partition's next owner can take the lease: no end, nothing published, not finished.
    wait_for(
        lambda: "f-4" not in ex and leases.released == [held],
        HANG_S,
        "the run let go",
        interval_s=0.005,
    )
    publisher.fire(0)  # its output lands later: nothing more happens
    time.sleep(0.3)
    assert Journal.read(tmp_path, "f-4").end is None
    assert publisher.events() == [] and finished.runs == [] and len(ex.ready) == 0
