"""ready.flow (pause at capacity, resume at half) and the ReadyQueue's lanes."""

from __future__ import annotations

import threading

import pytest

from jarvis.worker import ready
from jarvis.worker.ready import LANES, Flow, ReadyQueue, flow

HANG_S = 10.0  # only a hang detector: nothing asserts on time


@pytest.mark.parametrize(
    ("queued", "capacity", "paused", "pause"),
    [
        (0, 10, False, False),
        (9, 10, False, False),
        (10, 10, False, True),  # pause at capacity
        (11, 10, False, True),
        (10, 10, True, True),
        (6, 10, True, True),  # hysteresis: still above half
        (5, 10, True, False),  # resume at half
        (0, 10, True, False),
        (3, 5, True, True),  # odd capacity: half rounds down
        (2, 5, True, False),
        (1, 1, False, True),
        (1, 1, True, True),
        (0, 1, True, False),
    ],
)
def test_flow(queued: int, capacity: int, paused: bool, pause: bool) -> None:
    assert flow(queued, capacity, paused) == Flow(pause=pause)


def test_flow_does_not_flap_between_half_and_full() -> None:
    paused = False
    changes = 0
    for queued in [*range(0, 11), *range(10, 4, -1), *range(5, 11)]:
        now = flow(queued, 10, paused).pause
        changes += now != paused
        paused = now
    assert changes == 3  # paused at 10, resumed at 5, paused at 10 again


def test_lanes_are_served_in_order_and_fifo_within_a_lane() -> None:
    assert LANES == ("resume", "normal")
    q: ReadyQueue[str] = ReadyQueue(capacity=10)
    q.put("n1")
    q.put("r1", lane="resume")
    q.put("n2", lane="normal")
    q.put("r2", lane="resume")
    assert len(q) == 4
    assert [q.take(0) for _ in range(4)] == ["r1", "r2", "n1", "n2"]
    assert len(q) == 0


def test_custom_lane_order() -> None:
    q: ReadyQueue[int] = ReadyQueue(capacity=4, order=("low", "high"))
    q.put(1, lane="high")
    q.put(2, lane="low")
    assert [q.take(0), q.take(0)] == [2, 1]
    with pytest.raises(KeyError):
        q.put(3, lane="normal")


def test_put_never_blocks_beyond_capacity() -> None:
    q: ReadyQueue[int] = ReadyQueue(capacity=2)
    for i in range(5):
        q.put(i)
    assert len(q) == 5
    assert flow(len(q), q.capacity, paused=False).pause
    assert [q.take(0) for _ in range(5)] == [0, 1, 2, 3, 4]


def test_take_on_empty_times_out_with_none() -> None:
    q: ReadyQueue[str] = ReadyQueue(capacity=2)
    assert q.take(0) is None
    assert q.take(0.01) is None
    assert q.take(-1) is None


def test_falsy_items_are_items() -> None:
    q: ReadyQueue[int] = ReadyQueue(capacity=2)
    q.put(0)
    assert q.take(0) == 0


def _taker(q: ReadyQueue[str], out: list[str | None]) -> threading.Thread:
    thread = threading.Thread(target=lambda: out.append(q.take(None)), daemon=True)
    thread.start()
    return thread


def test_close_wakes_a_waiting_taker() -> None:
    q: ReadyQueue[str] = ReadyQueue(capacity=2)
    out: list[str | None] = []
    thread = _taker(q, out)
    q.close()
    thread.join(HANG_S)
    assert not thread.is_alive()
    assert out == [None]
    assert q.take(None) is None  # closed and empty: never blocks again


def test_put_wakes_a_waiting_taker() -> None:
    q: ReadyQueue[str] = ReadyQueue(capacity=2)
    out: list[str | None] = []
    thread = _taker(q, out)
    q.put("a")
    thread.join(HANG_S)
    assert not thread.is_alive()
    assert out == ["a"]


def test_a_closed_queue_still_hands_out_what_it_holds() -> None:
    q: ReadyQueue[str] = ReadyQueue(capacity=2)
    q.put("a")
    q.close()
    assert q.take(None) == "a"
    assert q.take(None) is None


def test_remove_returns_and_drops_matching_items_from_every_lane() -> None:
    q: ReadyQueue[tuple[int, str]] = ReadyQueue(capacity=10)
    q.put((0, "a"))
    q.put((1, "b"))
    q.put((0, "c"), lane="resume")
    q.put((2, "d"), lane="resume")
    q.put((0, "e"))
    removed = q.remove(lambda item: item[0] == 0)
    assert sorted(removed) == [(0, "a"), (0, "c"), (0, "e")]
    assert len(q) == 2
    assert [q.take(0), q.take(0)] == [(2, "d"), (1, "b")]
    assert q.remove(lambda item: True) == []


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_oldest_wait_is_the_oldest_item_in_any_lane(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(ready, "time", clock)
    q: ReadyQueue[str] = ReadyQueue(capacity=10)
    assert q.oldest_wait_s() == 0.0
    q.put("n1")
    clock.now += 3.0
    q.put("r1", lane="resume")
    clock.now += 2.0
    assert q.oldest_wait_s() == 5.0  # n1, although r1 is served first
    assert q.take(0) == "r1"
    assert q.oldest_wait_s() == 5.0
    assert q.take(0) == "n1"
    assert q.oldest_wait_s() == 0.0


@pytest.mark.parametrize(
    ("queued", "queued_bytes", "paused", "pause"),
    [
        (1, 99, False, False),
        (1, 100, False, True),  # the byte bound alone pauses
        (1, 51, True, True),  # paused: stays so until half the bytes are gone
        (1, 50, True, False),
        (6, 10, True, True),  # ... and half the count
    ],
)
def test_flow_bytes(queued: int, queued_bytes: int, paused: bool, pause: bool) -> None:
    assert flow(queued, 10, paused, queued_bytes, 100) == Flow(pause=pause)


def test_the_queue_counts_the_bytes_it_holds() -> None:
    q: ReadyQueue[str] = ReadyQueue(capacity=10, max_bytes=1000)
    q.put("a", size=300)
    q.put("b", lane="resume", size=200)
    q.put("c", size=100)
    assert (len(q), q.bytes, q.max_bytes) == (3, 600, 1000)
    assert q.take(0) == "b"
    assert q.bytes == 400
    assert q.remove(lambda item: item == "c") == ["c"]
    assert (len(q), q.bytes) == (1, 300)
    assert q.take(0) == "a"
    assert (len(q), q.bytes) == (0, 0)
