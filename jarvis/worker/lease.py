"""Ownership of running executions: a Redis lease per execution, with a fencing token.

At most one pod makes progress on an execution (DESIGN.md §2). A worker acquires
``jarvis:lease:<execution_id>`` (SET NX PX) before running it, renews it while it runs, and
releases it when done. Each acquisition takes a new fencing token (INCR
``jarvis:fence:<execution_id>``) that stamps every journal record it writes, so a pod that
lost its lease without knowing it (a long GC pause, a partition) cannot corrupt the
history: its late records are ignored on read. A pod also stops writing by itself as soon
as its lease could have expired (``check``), without asking Redis.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
import redis

from jarvis.errors import Interruption, Stopped
from jarvis.execution.host import BookCaller
from jarvis.worker.stops import stop_key

log = logging.getLogger("jarvis.worker")

# KEYS[1] the lease, KEYS[2] the deployment's registry of held leases (a sorted set: execution
# id -> when its lease lapses, ms since the epoch), which live workers scan for take-overs.
# One round trip per acquisition: a new fencing token (KEYS[3]), the lease, its registry
# entry, and the execution's stop flag (KEYS[4]) for the stop-before-start check. The lease's
# value is JSON ``{"worker": ..., "token": ...}`` (ARGV[1] is the worker id, JSON-quoted).
_ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {0, false, false}
end
local token = redis.call('INCR', KEYS[3])
local value = '{"worker":' .. ARGV[1] .. ',"token":' .. token .. '}'
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
return {token, value, redis.call('GET', KEYS[4])}
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('ZREM', KEYS[2], ARGV[2])
  return redis.call('DEL', KEYS[1])
end
return 0
"""


@dataclass
class Lease:
    execution_id: str
    token: int
    value: bytes
    ttl_s: float
    valid_until: float  # monotonic; the lease is considered lost from here on
    lost: bool = False
    on_lost: list[Callable[[], None]] = field(default_factory=list)
    stop_flag: bytes | None = None  # the execution's stop flag when the lease was taken

    def check(self) -> None:
        """The journal's fence: raise ``Stopped("handoff")`` once the lease may be gone."""
        if self.lost or time.monotonic() >= self.valid_until:
            self.lost = True
            raise Stopped("handoff")


def lease_key(execution_id: str) -> str:
    return f"jarvis:lease:{execution_id}"


def registry_key(group: str) -> str:
    """The sorted set of a deployment's held leases (one per consumer group)."""
    return f"jarvis:leases:{group}"


def _lapse_at_ms(ttl_s: float) -> int:
    return int((time.time() + ttl_s) * 1000)


class Leases:
    """This worker's leases. ``registry``: the deployment's sorted set of held leases
    (``registry_key``), so that live workers can find the ones a crashed pod left to lapse."""

    def __init__(
        self,
        client: redis.Redis[bytes],
        worker_id: str,
        ttl_s: float = 15.0,
        registry: str = "jarvis:leases",
    ) -> None:
        self.redis = client
        self.worker_id = worker_id
        self.ttl_s = ttl_s
        self.registry = registry
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)
        self.held: dict[str, Lease] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        # Releases in batches (``start_releasing``): what the releaser thread has to send.
        self._releases: list[Lease] = []
        self._release_cond = threading.Condition()
        self._releaser: threading.Thread | None = None
        self._closing = False

    def acquire(self, execution_id: str) -> Lease | None:
        """Take the lease, or None if another live worker holds it."""
        started = time.monotonic()
        token, value, stop = self._call(
            self._acquire,
            [
                lease_key(execution_id),
                self.registry,
                f"jarvis:fence:{execution_id}",
                stop_key(execution_id),
            ],
            [
                orjson.dumps(self.worker_id),
                int(self.ttl_s * 1000),
                _lapse_at_ms(self.ttl_s),
                execution_id,
            ],
        )
        if not token:
            return None
        # Count validity from *before* the request: the lease can only expire later than that.
        lease = Lease(
            execution_id, int(token), bytes(value), self.ttl_s, started + self.ttl_s * 0.8
        )
        lease.stop_flag = stop if isinstance(stop, bytes) else None
        with self._lock:
            self.held[execution_id] = lease
        return lease

    def _conn(self) -> Any:
        """This thread's own connection: redis-py's client path (pool checkout, retry
        wrapper, observability hooks) costs about 60 us of CPU per call, twice what the call
        itself costs, on the per-execution path."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self.redis.connection_pool.make_connection()
        return conn

    def _call(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        conn = self._conn()
        try:
            conn.send_command("EVALSHA", script.sha, len(keys), *keys, *args)
            return conn.read_response()
        except redis.exceptions.NoScriptError:  # a restarted Redis forgot it
            return script(keys=keys, args=args)
        except redis.RedisError:
            conn.disconnect()  # next call reconnects; the caller retries or lets it expire
            raise

    def _call_many(self, script: Any, calls: list[tuple[list[str], list[Any]]]) -> list[Any]:
        """``_call`` for many calls of one script, in one round trip."""
        conn = self._conn()
        commands = [("EVALSHA", script.sha, len(keys), *keys, *args) for keys, args in calls]
        try:
            conn.send_packed_command(conn.pack_commands(commands))
            replies = [conn.read_response() for _ in commands]
        except redis.exceptions.NoScriptError:  # a restarted Redis forgot it
            conn.disconnect()
            return [script(keys=keys, args=args) for keys, args in calls]
        except redis.RedisError:
            conn.disconnect()
            raise
        return replies

    def holder(self, execution_id: str) -> dict[str, object] | None:
        raw = self.redis.get(lease_key(execution_id))
        return None if raw is None else dict(orjson.loads(raw))

    def start_releasing(self) -> None:
        """Release from a thread of this worker's own, a batch per round trip, instead of a
        round trip on the execution's thread (the worker: hundreds of releases a second).
        A release may then reach Redis a round trip later: the lease is this worker's until
        then, which only delays a new acquisition of the same execution by that much."""
        self._releaser = threading.Thread(
            target=self._release_loop, name="jarvis-lease-release", daemon=True
        )
        self._releaser.start()

    def release(self, lease: Lease) -> None:
        with self._lock:
            self.held.pop(lease.execution_id, None)
        if self._releaser is not None:
            with self._release_cond:
                if not self._closing:
                    self._releases.append(lease)
                    self._release_cond.notify()
                    return
        self._release_now([lease])

    def close(self, timeout_s: float = 2.0) -> None:
        """Send the releases still queued and stop the releaser (bounded by ``timeout_s``)."""
        thread = self._releaser
        with self._release_cond:
            self._closing = True
            self._release_cond.notify()
        if thread is not None:
            thread.join(timeout_s)

    def _release_loop(self) -> None:
        while True:
            with self._release_cond:
                while not self._releases and not self._closing:
                    self._release_cond.wait()
                batch, self._releases = self._releases, []
            if batch:
                self._release_now(batch)
            elif self._closing:
                return

    def _release_now(self, leases: list[Lease]) -> None:
        calls = [
            ([lease_key(lease.execution_id), self.registry], [lease.value, lease.execution_id])
            for lease in leases
        ]
        try:
            self._call_many(self._release, calls)
        except redis.RedisError as exc:  # they expire by themselves
            log.warning(
                "could not release %d lease(s) (%s...): %s",
                len(leases),
                leases[0].execution_id,
                exc,
            )

    def lapsed(self, limit: int = 100) -> list[str]:
        """Executions whose lease lapsed without a release (their worker died or froze)."""
        now_ms = int(time.time() * 1000)
        ids = self.redis.zrangebyscore(self.registry, 0, now_ms, start=0, num=limit)
        return [i.decode() if isinstance(i, bytes) else str(i) for i in ids]

    def forget(self, execution_id: str) -> None:
        """Drop a registry entry with nothing to resume (no journal start, or already ended)."""
        self.redis.zrem(self.registry, execution_id)

    def renew_all(self) -> None:
        """Extend every held lease (one round trip for all); mark (and report) the lost ones."""
        with self._lock:
            leases = list(self.held.values())
        if not leases:
            return
        started = time.monotonic()
        lapse_at = _lapse_at_ms(self.ttl_s)
        try:
            pipe = self.redis.pipeline(transaction=False)
            for lease in leases:
                self._renew(
                    keys=[lease_key(lease.execution_id), self.registry],
                    args=[lease.value, int(lease.ttl_s * 1000), lapse_at, lease.execution_id],
                    client=pipe,
                )
            results = pipe.execute(raise_on_error=False)
        except redis.RedisError as exc:
            log.warning("cannot renew leases: %s", exc)
            return  # still valid until valid_until; Redis may be back before then
        with self._lock:
            still = set(self.held)
        for lease, ok in zip(leases, results, strict=True):
            if lease.execution_id not in still:
                continue  # released meanwhile: nothing to renew, nothing lost
            if isinstance(ok, Exception):
                log.warning("cannot renew lease of %s: %s", lease.execution_id, ok)
                continue
            if ok:
                lease.valid_until = started + lease.ttl_s * 0.8
            else:
                log.warning("lease of %s was lost (expired or taken over)", lease.execution_id)
                lease.lost = True
                for callback in lease.on_lost:
                    callback()


class LeaseKeeper(threading.Thread):
    """Renews this worker's leases every third of their TTL."""

    def __init__(self, leases: Leases) -> None:
        super().__init__(name="jarvis-lease-keeper", daemon=True)
        self.leases = leases
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(self.leases.ttl_s / 3):
            self.leases.renew_all()


class FencedBooks:
    """A ``BookCaller`` that checks the lease before every live Book call.

    Found by the fault suite (tests/fault/test_split_ownership.py): the journal's fence is
    only checked when a record is *appended*, i.e. after the Book call. A worker frozen
    (SIGSTOP, a long GC pause, a suspended VM) past its lease, whose execution had been
    resumed elsewhere meanwhile, woke up and called the Book again for an effect the new
    owner had already journaled, before its append was refused. Checking the fence first
    narrows that window to a pause between this check and the call itself; what is left is
    covered by the idempotency key (the same for both callers).
    """

    def __init__(self, books: BookCaller, lease: Lease) -> None:
        self.books = books
        self.lease = lease

    def call(
        self, book: str, procedure: str, args: list[Any], kwargs: dict[str, Any], **kw: Any
    ) -> Any:
        self.lease.check()  # raises Stopped("handoff"): the call is not made, not journaled
        inner = kw.get("should_stop")
        lease = self.lease

        def should_stop() -> bool | Interruption | None:
            # Before every attempt and while waiting between them, not only before the first
            # (fault-suite fix, tests/fault/test_service_outages.py, Redis outage): a call
            # retrying through an outage outlived its lease; a live worker took the execution
            # over and journaled that very call; the old owner's next attempt then called
            # the Book again for a journaled effect.
            lease.check()
            return inner() if inner is not None else None

        return self.books.call(book, procedure, args, kwargs, **{**kw, "should_stop": should_stop})


class Output(Protocol):
    """An execution's output in flight (``jarvis.worker.outbox.Outbox``)."""

    failures: int

    def wait(self, timeout_s: float) -> bool: ...


class OutputFence:
    """The journal fence of an execution run by a worker: its lease, plus ``before_end``,
    which delivers the worker's output (this execution's log records, see ``Outbox``) to Kafka before
    the journal's end record is written (see ``Journal.append``).

    Fault-suite fix (scripts/chaos): a worker SIGKILLed in the few milliseconds between
    journaling an execution's end and its producer delivering the last log records lost
    those records for good, since the next owner only re-announces a finished execution.
    While Kafka is unreachable this waits, holding the lease (renewed as usual); if the lease
    is lost or the worker is handing the execution off, it raises ``Stopped("handoff")``:
    no end is written, and the next run replays the journal, re-emitting the whole log.
    """

    def __init__(
        self, lease: Lease, output: Output, leaving: Callable[[], bool], defer: bool = False
    ) -> None:
        self.lease = lease
        self.output = output
        self.leaving = leaving
        self.defer = defer
        self.deferred: tuple[Any, Any] | None = None  # (journal, end record) taken by defer_end

    def defer_end(self, journal: Any, end: Any) -> bool:
        """Take the end record to write once the output is delivered (``Executions``
        finishes it off the execution's thread); False when this fence does not defer (then
        the journal calls ``before_end`` and waits). The journal may be closed meanwhile:
        an append opens it again."""
        if not self.defer:
            return False
        self.deferred = (journal, end)
        return True

    @property
    def token(self) -> int:
        return self.lease.token

    def check(self) -> None:
        self.lease.check()

    def before_end(self) -> None:
        while not self.output.wait(1.0):
            if self.output.failures:
                # Some of it will never arrive: write no end, so that the run is done again
                # by replay, which produces the whole output again (the worker retries in place).
                raise Stopped("handoff")
            self.lease.check()
            if self.leaving():
                raise Stopped("handoff")
