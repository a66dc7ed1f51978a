"""Stop flags in Redis, so a stop reaches an execution wherever it runs.

A stop command sets ``jarvis:stop:<execution_id>``; every worker's watcher thread polls
the flags of the executions it runs and interrupts them at their next check.
The flag remembers the control-topic offset of the stop so a start can tell whether the
stop came before it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import orjson
import redis

from jarvis.contract.messages import StopMode

log = logging.getLogger("jarvis.worker")

STOP_TTL_S = 7 * 24 * 3600
"""Flags outlive the control topic's retention, so a redelivered start still sees its stop."""


@dataclass(frozen=True)
class StopFlag:
    mode: StopMode
    partition: int
    offset: int


def stop_key(execution_id: str) -> str:
    return f"jarvis:stop:{execution_id}"


class StopFlags:
    def __init__(self, client: redis.Redis[bytes]) -> None:
        self.redis = client

    def set(self, execution_id: str, mode: StopMode, partition: int, offset: int) -> None:
        value = orjson.dumps({"mode": mode, "partition": partition, "offset": offset})
        self.redis.set(stop_key(execution_id), value, ex=STOP_TTL_S)

    def get_many(self, execution_ids: list[str]) -> dict[str, StopFlag]:
        if not execution_ids:
            return {}
        values = self.redis.mget([stop_key(e) for e in execution_ids])
        return {
            e: f
            for e, v in zip(execution_ids, values, strict=True)
            if (f := flag_from(v)) is not None
        }

    def clear(self, execution_id: str) -> None:
        self.redis.delete(stop_key(execution_id))


def flag_from(raw: object) -> StopFlag | None:
    """The stop flag in a raw Redis value (None: no flag)."""
    if not isinstance(raw, bytes | str):
        return None
    data = orjson.loads(raw)
    return StopFlag(mode=data["mode"], partition=data["partition"], offset=data["offset"])


class StopWatcher(threading.Thread):
    """Polls Redis for stop flags of running executions and hands them to ``deliver``."""

    def __init__(
        self,
        flags: StopFlags,
        running: Callable[[], list[str]],
        deliver: Callable[[str, StopFlag], None],
        interval_s: float,
    ) -> None:
        super().__init__(name="jarvis-stop-watcher", daemon=True)
        self.flags = flags
        self.running = running
        self.deliver = deliver
        self.interval_s = interval_s
        self.halt = threading.Event()
        self.healthy = True

    def run(self) -> None:
        while not self.halt.wait(self.interval_s):
            ids = self.running()
            if not ids:
                continue
            try:
                found = self.flags.get_many(ids)
                self.healthy = True
            except redis.RedisError as exc:
                if self.healthy:
                    log.warning("cannot read stop flags from Redis: %s (will retry)", exc)
                self.healthy = False
                continue
            for execution_id, flag in found.items():
                self.deliver(execution_id, flag)
