"""Which offsets may be committed: the lowest contiguous finished offset per partition.

Executions finish out of order; committing past one still running would lose it if the
pod crashed. So a partition's commit point only moves over a gap-free run of finished
offsets. Lag therefore counts queued + running work, which is what KEDA scales on.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PartitionOffsets:
    # offset -> finished?  Only offsets taken but not yet committed are kept.
    pending: dict[int, bool] = field(default_factory=dict)
    committed: int | None = None  # next offset to consume, as committed to Kafka

    def commit_point(self) -> int | None:
        """The offset to commit (last contiguous finished + 1), or None if it did not move."""
        point = None
        for offset in sorted(self.pending):
            if not self.pending[offset]:
                break
            point = offset + 1
        if point is None or (self.committed is not None and point <= self.committed):
            return None
        return point


class OffsetTracker:
    """Bookkeeping for taken/finished offsets of the partitions this worker owns."""

    def __init__(self) -> None:
        self._parts: dict[tuple[str, int], PartitionOffsets] = {}

    def take(self, topic: str, partition: int, offset: int) -> None:
        self._parts.setdefault((topic, partition), PartitionOffsets()).pending[offset] = False

    def finish(self, topic: str, partition: int, offset: int) -> None:
        part = self._parts.get((topic, partition))
        if part is not None and offset in part.pending:
            part.pending[offset] = True

    def in_flight(self) -> int:
        return sum(1 for p in self._parts.values() for done in p.pending.values() if not done)

    def commit_points(self) -> dict[tuple[str, int], int]:
        """Partitions whose commit point moved, with the offset to commit."""
        out = {}
        for tp, part in self._parts.items():
            point = part.commit_point()
            if point is not None:
                out[tp] = point
        return out

    def committed(self, topic: str, partition: int, offset: int) -> None:
        """Record a successful commit: drop the offsets below it."""
        part = self._parts.get((topic, partition))
        if part is None:
            return
        part.committed = offset
        for o in [o for o in part.pending if o < offset]:
            del part.pending[o]

    def forget(self, topic: str, partition: int) -> None:
        """The partition was revoked: its uncommitted offsets now belong to another worker."""
        self._parts.pop((topic, partition), None)


def commit_due(now: float, last_commit: float, interval_s: float, finished_since: int) -> bool:
    """Commit in batches: once something finished, at most every ``interval_s``."""
    return finished_since > 0 and now - last_commit >= interval_s
