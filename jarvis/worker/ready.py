"""The bounded ready queue between the consumer loop and the executions' threads.

The consumer admits starts into it; execution threads take from it as sandboxes free up.
Partitions are paused only when it is full (``flow``), not whenever every slot is busy:
librdkafka drops a paused partition's prefetched messages (confluentinc/librdkafka#2703),
and each resume re-fetches them, which used to cost 0.3-1 s per execution at capacity.

Lanes: each item goes to a named lane, and ``take`` serves lanes by the ``order`` given
(today: ``resume`` — executions taken over from a crashed pod, whose programs were already
running — before ``normal``). Priority lanes (critical/high/normal/low with weights and
aging) plug in by replacing ``_pick``; the queue's bound and the flow rule stay the same.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

LANES = ("resume", "normal")


@dataclass(frozen=True)
class Flow:
    """Whether the consumer should be paused: a value from the queue's fill level."""

    pause: bool


def flow(queued: int, capacity: int, paused: bool) -> Flow:
    """Pause at ``capacity``; resume only once the queue is half empty (hysteresis, so a
    queue hovering at its bound does not pause and resume at every message)."""
    if paused:
        return Flow(pause=queued > capacity // 2)
    return Flow(pause=queued >= capacity)


class ReadyQueue(Generic[T]):
    """Thread-safe FIFO lanes with one bound over all of them (``capacity``).

    ``put`` never blocks or refuses: the consumer may hold a fetched batch past the bound,
    and ``flow`` pauses the partitions for the next one. Being bounded is the consumer's
    job (it stops fetching), so a message it already has is never dropped.
    """

    def __init__(self, capacity: int, order: Iterable[str] = LANES) -> None:
        self.capacity = capacity
        self.order = tuple(order)
        self._lanes: dict[str, deque[tuple[float, T]]] = {lane: deque() for lane in self.order}
        self._cond = threading.Condition()
        self._closed = False

    def put(self, item: T, lane: str = "normal") -> None:
        with self._cond:
            self._lanes[lane].append((time.monotonic(), item))
            self._cond.notify()

    def take(self, timeout_s: float | None = None) -> T | None:
        """The next item (oldest of the first non-empty lane), or None on timeout/close."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._cond:
            while True:
                item = self._pick()
                if item is not None:
                    return item
                if self._closed:
                    return None
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._cond.wait(left)

    def _pick(self) -> T | None:
        for lane in self.order:
            queue = self._lanes[lane]
            if queue:
                return queue.popleft()[1]
        return None

    def remove(self, which: object) -> list[T]:
        """Take out every queued item for which ``which(item)`` is true (a revoked partition)."""
        out: list[T] = []
        with self._cond:
            for lane, queue in self._lanes.items():
                kept = deque(entry for entry in queue if not which(entry[1]))  # type: ignore[operator]
                out += [entry[1] for entry in queue if which(entry[1])]  # type: ignore[operator]
                self._lanes[lane] = kept
        return out

    def __len__(self) -> int:
        with self._cond:
            return sum(len(q) for q in self._lanes.values())

    def oldest_wait_s(self) -> float:
        """How long the oldest queued item has waited (queue-wait metric)."""
        with self._cond:
            times = [q[0][0] for q in self._lanes.values() if q]
        return time.monotonic() - min(times) if times else 0.0

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
