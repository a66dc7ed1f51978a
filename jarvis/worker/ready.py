"""The bounded ready queue between the consumer loop and the executions' threads.

The consumer admits starts into it; execution threads take from it as sandboxes free up.
Partitions are paused only when it is full (``flow``), not whenever every slot is busy:
librdkafka drops a paused partition's prefetched messages (confluentinc/librdkafka#2703),
and each resume re-fetches them, which used to cost 0.3-1 s per execution at capacity.
Even now, measured on the local stack, the first messages after a resume arrive 0.3-1 s
later. So the queue is sized to hold more than that much work when it resumes (half full:
hundreds of starts), bounded by count and by the bytes of the messages it holds (a start
can carry up to 1 MiB of inputs): with 16 places the execution threads sat idle for most
of each resume, at about 60 % of the throughput a 2,000-place queue gave.

Lanes: each item goes to a named lane, and ``take`` serves lanes by the ``order`` given
(today: ``resume`` — executions taken over from a crashed pod, whose programs were already
running — before ``normal``). Priority lanes (critical/high/normal/low with weights and
aging) plug in by replacing ``_pick``; the queue's bound and the flow rule stay the same.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

LANES = ("resume", "normal")


@dataclass(frozen=True)
class Flow:
    """Whether the consumer should be paused: a value from the queue's fill level."""

    pause: bool


def flow(
    queued: int,
    capacity: int,
    paused: bool,
    queued_bytes: int = 0,
    max_bytes: int | None = None,
) -> Flow:
    """Pause at ``capacity`` items or ``max_bytes``; resume only once the queue is half empty
    by both measures (hysteresis, so a queue hovering at its bound does not pause and resume
    at every message)."""
    if paused:
        over_bytes = max_bytes is not None and queued_bytes > max_bytes // 2
        return Flow(pause=queued > capacity // 2 or over_bytes)
    return Flow(pause=queued >= capacity or (max_bytes is not None and queued_bytes >= max_bytes))


class ReadyQueue(Generic[T]):
    """Thread-safe FIFO lanes with one bound over all of them (``capacity``).

    ``put`` never blocks or refuses: the consumer may hold a fetched batch past the bound,
    and ``flow`` pauses the partitions for the next one. Being bounded is the consumer's
    job (it stops fetching), so a message it already has is never dropped.
    """

    def __init__(
        self, capacity: int, order: Iterable[str] = LANES, max_bytes: int | None = None
    ) -> None:
        self.capacity = capacity
        self.max_bytes = max_bytes
        self.order = tuple(order)
        self._lanes: dict[str, deque[tuple[float, T, int]]] = {lane: deque() for lane in self.order}
        self._bytes = 0
        self._cond = threading.Condition()
        self._closed = False

    def put(self, item: T, lane: str = "normal", size: int = 0) -> None:
        """Queue ``item``; ``size``: the bytes it holds (its message), for the byte bound."""
        with self._cond:
            self._lanes[lane].append((time.monotonic(), item, size))
            self._bytes += size
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
                _, item, size = queue.popleft()
                self._bytes -= size
                return item
        return None

    def remove(self, which: Callable[[T], bool]) -> list[T]:
        """Take out every queued item for which ``which(item)`` is true (a revoked partition)."""
        out: list[T] = []
        with self._cond:
            for lane, queue in self._lanes.items():
                kept: deque[tuple[float, T, int]] = deque()
                for entry in queue:  # one call of ``which`` per item
                    if which(entry[1]):
                        out.append(entry[1])
                        self._bytes -= entry[2]
                    else:
                        kept.append(entry)
                self._lanes[lane] = kept
        return out

    def __len__(self) -> int:
        with self._cond:
            return sum(len(q) for q in self._lanes.values())

    @property
    def bytes(self) -> int:
        """The bytes of the queued items' messages (what ``put`` was told)."""
        with self._cond:
            return self._bytes

    def oldest_wait_s(self) -> float:
        """How long the oldest queued item has waited (queue-wait metric)."""
        with self._cond:
            times = [q[0][0] for q in self._lanes.values() if q]
        return time.monotonic() - min(times) if times else 0.0

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
