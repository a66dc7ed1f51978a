"""The status view's writer (jarvis/worker/status.py) against a fake store: coalescing,
ordering within a batch, bounded pending updates, Redis down, bounded fields."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import orjson
import pytest
import redis

from jarvis.contract.messages import ArtifactRef, ErrorInfo, LifecycleEvent
from jarvis.worker.hooks import HookList
from jarvis.worker.status import (
    MAX_ARTIFACTS,
    MAX_MESSAGE_BYTES,
    MAX_RESULT_BYTES,
    MAX_TRACEBACK_BYTES,
    OUTCOME_FIELDS,
    StatusWriter,
    Update,
    clip,
    event_update,
    start_id,
)

T0 = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
HANG_S = 10.0  # only a hang detector


class FakeStore:
    """Records every batch; can be down (raises) or stuck (blocks until released)."""

    def __init__(self) -> None:
        self.batches: list[list[Update]] = []
        self.down = False
        self.stuck = threading.Event()
        self.stuck.set()
        self.entered = threading.Event()
        self.trims = 0

    def apply(self, updates: Sequence[Update]) -> list[bool]:
        self.entered.set()
        assert self.stuck.wait(HANG_S)
        if self.down:
            raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")
        self.batches.append(list(updates))
        return [True] * len(updates)

    def trim(self) -> None:
        self.trims += 1

    def last(self, eid: str) -> Update:
        return [u for batch in self.batches for u in batch if u.execution_id == eid][-1]


class Output:
    def __init__(self) -> None:
        self.last_seq = -1


def ev(kind: str, eid: str = "e-1", at_s: float = 0.0, **kw: object) -> LifecycleEvent:
    return LifecycleEvent(
        execution_id=eid,
        event=kind,  # type: ignore[arg-type]
        worker="w-1",
        at=T0 + timedelta(seconds=at_s),
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def writer(store: FakeStore) -> StatusWriter:
    return StatusWriter(store, "w-1", interval_s=0.01, max_pending=3)


def test_one_execution_run_in_one_interval_is_one_write_with_every_first_time(
    writer: StatusWriter, store: FakeStore
) -> None:
    out = Output()
    writer.lifecycle(ev("accepted"), 0, out)
    writer.lifecycle(ev("started", at_s=1), 7, out)
    out.last_seq = 4
    writer.lifecycle(
        ev("completed", at_s=2, result={"x": 1}, result_type="dict", log_records=5), 7, out
    )
    assert writer.flush() == 1
    (batch,) = store.batches
    (u,) = batch
    assert (u.attempt, u.rank, u.seq, u.state) == (7, 2, 4, "completed")
    assert u.first == {"accepted_at": "2026-12-01T12:00:00Z", "started_at": "2026-12-01T12:00:01Z"}
    assert u.fields["ended_at"] == "2026-12-01T12:00:02Z"
    assert orjson.loads(u.fields["result"]) == {"x": 1}
    assert u.fields["log_records"] == "5" and u.fields["seq"] == "4"
    assert "result" not in u.delete and "error_type" in u.delete
    assert writer.flush() == 0  # nothing new; the terminal state ended its live progress


def test_live_progress_is_read_from_the_output_and_written_when_it_moves(
    writer: StatusWriter, store: FakeStore
) -> None:
    out = Output()
    writer.lifecycle(ev("started"), 3, out)
    writer.flush()
    assert store.last("e-1").state == "started"
    assert writer.flush() == 0  # the seq did not move: nothing to write
    out.last_seq = 41
    assert writer.flush() == 1
    progress = store.last("e-1")
    assert (progress.attempt, progress.rank, progress.seq) == (3, 1, 41)
    assert progress.fields["seq"] == "41" and progress.state == "started"


def test_a_stale_event_in_the_same_batch_does_not_undo_a_newer_one(
    writer: StatusWriter, store: FakeStore
) -> None:
    writer.lifecycle(ev("completed", result=1, log_records=0), 5, None)
    # A duplicate start accepted by this worker after the completion: lease-less, older.
    writer.lifecycle(ev("accepted", at_s=9), 0, None)
    writer.flush()
    u = store.last("e-1")
    assert (u.state, u.attempt, u.rank) == ("completed", 5, 2)
    assert u.fields["result"] == "1" and "result" not in u.delete


def test_a_start_accepted_after_a_suspension_ranks_above_it(
    writer: StatusWriter, store: FakeStore
) -> None:
    writer.lifecycle(ev("stopped", stop_mode="suspend"), 4, None)
    writer.lifecycle(ev("accepted", at_s=1), 0, None)
    writer.flush()
    u = store.last("e-1")
    assert (u.state, u.attempt, u.rank) == ("accepted", 4, 3)
    assert "stop_mode" in u.delete and "stop_mode" not in u.fields


def test_pending_updates_are_bounded_dropping_the_oldest_execution_and_counting_it(
    writer: StatusWriter, store: FakeStore
) -> None:
    for i in range(5):
        writer.lifecycle(ev("accepted", eid=f"e-{i}"), 0, None)
    writer.lifecycle(ev("started", eid="e-4"), 1, None)  # coalesces: takes no new room
    assert writer.dropped == 2
    writer.flush()
    assert sorted(u.execution_id for u in store.batches[0]) == ["e-2", "e-3", "e-4"]


def test_redis_down_keeps_updates_for_the_next_flush_and_the_hook_never_waits(
    writer: StatusWriter, store: FakeStore
) -> None:
    store.down = True
    writer.lifecycle(ev("accepted"), 0, None)
    assert writer.flush() == 0
    writer.lifecycle(ev("started", at_s=1), 2, None)
    store.down = False
    assert writer.flush() == 1
    u = store.last("e-1")
    assert u.state == "started" and set(u.first) == {"accepted_at", "started_at"}


def test_a_hook_call_returns_while_the_writer_is_stuck_in_redis(store: FakeStore) -> None:
    writer = StatusWriter(store, "w-1", interval_s=0.01, max_pending=2)
    store.stuck.clear()
    writer.lifecycle(ev("accepted", eid="first"), 0, None)
    writer.start()
    try:
        assert store.entered.wait(HANG_S)  # the writer thread is inside apply(), blocked
        for i in range(10):  # would hang here if a hook waited for the writer
            writer.lifecycle(ev("accepted", eid=f"e-{i}"), 0, None)
        assert writer.dropped == 8
    finally:
        store.stuck.set()
        writer.close(HANG_S)
    written = {u.execution_id for batch in store.batches for u in batch}
    assert written == {"first", "e-8", "e-9"}


def test_hostile_results_errors_and_artifacts_are_bounded() -> None:
    many = [
        ArtifactRef(name="n" * 10_000, uri=f"s3://b/k{i}", size=i) for i in range(MAX_ARTIFACTS + 5)
    ]
    done = event_update(ev("completed", result="x" * 100_000, artifacts=many), 1)
    assert len(done.fields["result"].encode()) < MAX_RESULT_BYTES + 40
    assert done.fields["result_truncated"] == "1"
    listed = orjson.loads(done.fields["artifacts"])
    assert len(listed) == MAX_ARTIFACTS and done.fields["artifacts_count"] == str(MAX_ARTIFACTS + 5)
    assert all(len(a["name"]) < 300 for a in listed)
    tb = "Traceback\n" + "frame\n" * 10_000 + "ValueError: the end"
    failed = event_update(
        ev("failed", error=ErrorInfo(type="ValueError", message="m" * 50_000, traceback=tb)), 1
    )
    assert len(failed.fields["error_message"].encode()) < MAX_MESSAGE_BYTES + 40
    assert failed.fields["error_traceback"].endswith("ValueError: the end")
    assert len(failed.fields["error_traceback"].encode()) < MAX_TRACEBACK_BYTES + 40
    assert set(OUTCOME_FIELDS) >= failed.delete and "error_message" not in failed.delete


def test_clip_never_splits_a_character() -> None:
    text, cut = clip("é" * 100, 11)
    assert cut and text.startswith("é" * 5) and "(200 bytes)" in text


def test_dead_lettered_starts_are_recorded_by_their_execution_id(
    writer: StatusWriter, store: FakeStore
) -> None:
    hooks = HookList([writer])
    hooks.dead_lettered_message(
        "options.limits.max_steps: must be > 0",
        "options.limits.max_steps",
        b'{"type": "start", "execution_id": "dl-1", "program": {"source": "x = 1"}}',
    )
    hooks.dead_lettered_message("not JSON", None, b"\xff garbage")
    hooks.dead_lettered_message("stop: bad", None, b'{"type": "stop", "execution_id": "dl-2"}')
    writer.flush()
    (u,) = store.batches[0]
    assert (u.execution_id, u.state, u.attempt) == ("dl-1", "dead_lettered", 0)
    assert u.fields["field"] == "options.limits.max_steps"
    assert start_id(b'{"type": "start", "execution_id": "../etc"}') is None
