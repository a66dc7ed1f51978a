"""The live status view: each execution's latest state in Redis, for ``jarvis status`` / ``ls``.

Fed by the lifecycle events the worker produces (``WorkerHooks.lifecycle``), never on the
execution's own thread: a hook call only appends to a bounded, per-execution pending table
(``StatusWriter``); a background thread coalesces what piled up for each execution and
writes it with one pipeline every ``JARVIS_STATUS_FLUSH_INTERVAL_S``. When Redis is down the
table fills, the oldest executions' updates are dropped (counted, logged at most every
``LOG_EVERY_S``), and executions carry on.

Keys (``group`` is the consumer group, as the lease registry ``jarvis:leases:<group>``):

- ``jarvis:status:<group>:<execution_id>``: a hash (fields: ``FIELDS``), expiring
  ``JARVIS_STATUS_TTL_S`` after its last write (its terminal state, once it has one);
- ``jarvis:statuses:<group>``: a sorted set, execution id -> last update (ms since the
  epoch), and ``jarvis:statuses:<group>:<state>`` the same per state, trimmed to the TTL
  and to ``JARVIS_STATUS_INDEX_SIZE`` newest entries.

Ordering (the ``_APPLY`` script): every update carries (attempt, rank, seq). ``attempt`` is
the fencing token of the lease its run held (``jarvis.worker.lease``: an INCR per
acquisition, so it grows across workers and take-overs); 0 for what a worker says before it
holds the lease (accepted, rejected, dead-lettered). ``rank``: accepted 0, started/resumed
and progress 1, terminal 2. An update is applied only when its key is not lower than the
stored one: a late update from an older attempt (a frozen worker, a slow pipeline) never
overwrites a newer one. A lease-less update never overwrites a leased one, except a new
start accepted after a suspension (then it ranks 3 in the suspended attempt); two lease-less
updates are ordered by their event time.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
import redis

from jarvis.contract.messages import EXECUTION_ID_PATTERN, TERMINAL_EVENTS, LifecycleEvent
from jarvis.worker.hooks import Progress, WorkerHooks

log = logging.getLogger("jarvis.worker")

STATES: tuple[str, ...] = (
    "accepted",
    "started",
    "resumed",
    "completed",
    "failed",
    "rejected",
    "stopped",
    "suspended",
    "dead_lettered",
)
"""What ``state`` can be: the lifecycle event's name, except ``stopped`` with stop mode
``suspend`` (``suspended``) and a start sent to the dead-letter topic (``dead_lettered``)."""

FINAL_STATES = frozenset(
    {"completed", "failed", "rejected", "stopped", "suspended", "dead_lettered"}
)

# Bounds of what a hostile program (or command) puts into a status record: a status is a
# screenful, the events on spy_events carry the whole thing.
MAX_RESULT_BYTES = 2048
"""The result's JSON text kept in the status (``result_truncated`` says when clipped)."""
MAX_MESSAGE_BYTES = 1024
"""An error message, a dead-letter reason."""
MAX_TRACEBACK_BYTES = 8192
"""The rendered SPy traceback (its last lines are kept: that is where the error is)."""
MAX_ARTIFACTS = 100
"""Artifacts listed (with their URLs); ``artifacts_count`` says how many there are."""
MAX_NAME_BYTES = 256
"""An artifact name, a label, a worker id."""
MAX_LABELS_BYTES = 2048
"""The labels' JSON text."""

LOG_EVERY_S = 30.0
"""Writer warnings (Redis down, updates dropped) at most this often."""
TRIM_EVERY_S = 30.0
"""How often a writer trims the indexes to the TTL and JARVIS_STATUS_INDEX_SIZE."""

_RANK = {"accepted": 0, "started": 1, "resumed": 1}
_TERMINAL_RANK = 2

OUTCOME_FIELDS: tuple[str, ...] = (
    "ended_at",
    "log_records",
    "result",
    "result_type",
    "result_bytes",
    "result_truncated",
    "result_ref",
    "result_url",
    "result_url_expires_at",
    "error_type",
    "error_message",
    "error_line",
    "error_col",
    "error_traceback",
    "stop_mode",
    "artifacts",
    "artifacts_count",
    "reason",
    "field",
)
"""Fields about how a run ended: cleared when a new run (a resume) is accepted or starts."""
_OUTCOME = frozenset(OUTCOME_FIELDS)

INT_FIELDS = frozenset(
    {"attempt", "seq", "log_records", "result_bytes", "error_line", "error_col", "artifacts_count"}
)
INTERNAL_FIELDS = frozenset({"o_rank", "o_seq", "o_at"})

# KEYS[1] the index (a state's index is KEYS[1] .. ':' .. state), KEYS[1 + i] the status
# hash of the i-th update. ARGV[1] the TTL (ms), ARGV[2] the updates as a JSON array, each
# [execution id, attempt, rank, seq, at (ms), state, fields to set (flat name/value list),
# fields to set only when absent (the same), fields to delete]. One script call writes a
# whole flush: a call per update cost more in this process (packing) and in Redis than the
# writes themselves. Returns per update 1 when applied, 0 when the stored update is newer.
_APPLY = """
local ttl = ARGV[1]
local updates = cjson.decode(ARGV[2])
-- Outcome fields are only there after a final state: no HDEL otherwise.
local final = {FINAL}
local out = {}
for n, u in ipairs(updates) do
  local key = KEYS[n + 1]
  local id, attempt, rank, seq, at = u[1], tonumber(u[2]), tonumber(u[3]), tonumber(u[4]), tonumber(u[5])
  local state = u[6]
  local old = redis.call('HMGET', key, 'attempt', 'o_rank', 'o_seq', 'o_at', 'state')
  local apply = true
  if old[5] then
    local sa, sr = tonumber(old[1]) or 0, tonumber(old[2]) or 0
    local ss, sat = tonumber(old[3]) or -1, tonumber(old[4]) or 0
    if attempt == 0 and sa > 0 then
      if old[5] ~= 'suspended' or at < sat then apply = false
      else attempt, rank, seq = sa, 3, -1 end
    elseif attempt == 0 then
      if at < sat then apply = false end
    elseif attempt < sa or (attempt == sa and (rank < sr or (rank == sr and seq < ss))) then
      apply = false
    end
  end
  if apply then
    local set = {'attempt', tostring(attempt), 'o_rank', tostring(rank), 'o_seq', tostring(seq), 'o_at', u[5], 'state', state}
    for _, v in ipairs(u[7]) do set[#set + 1] = v end
    local first = u[8]
    for i = 1, #first, 2 do
      if old[5] then
        redis.call('HSETNX', key, first[i], first[i + 1])
      else
        set[#set + 1] = first[i]
        set[#set + 1] = first[i + 1]
      end
    end
    if old[5] and final[old[5]] and #u[9] > 0 then
      redis.call('HDEL', key, unpack(u[9]))
    end
    redis.call('HSET', key, unpack(set))
    redis.call('PEXPIRE', key, ttl)
    if old[5] and old[5] ~= state then
      redis.call('ZREM', KEYS[1] .. ':' .. old[5], id)
    end
    redis.call('ZADD', KEYS[1], at, id)
    redis.call('ZADD', KEYS[1] .. ':' .. state, at, id)
    out[n] = 1
  else
    out[n] = 0
  end
end
return out
""".replace("{FINAL}", "{" + ", ".join(f"{s} = true" for s in sorted(FINAL_STATES)) + "}")

BATCH = 256
"""Updates written by one script call (Redis runs a script alone: keep each call short)."""


def status_key(group: str, execution_id: str) -> str:
    return f"jarvis:status:{group}:{execution_id}"


def index_key(group: str, state: str | None = None) -> str:
    """The deployment's index of statuses by update time (all of them, or one state's)."""
    return f"jarvis:statuses:{group}" if state is None else f"jarvis:statuses:{group}:{state}"


def state_of(event: LifecycleEvent) -> str:
    if event.event == "stopped" and event.stop_mode == "suspend":
        return "suspended"
    return event.event


def clip(text: str, limit: int, keep_end: bool = False) -> tuple[str, bool]:
    """``text`` in at most about ``limit`` UTF-8 bytes (with a note of the size), and whether
    it was clipped. ``keep_end``: keep its end instead of its start (tracebacks)."""
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return text, False
    note = f"… ({len(data)} bytes)"
    kept = data[-limit:] if keep_end else data[:limit]
    part = kept.decode("utf-8", "ignore")
    return (note + part if keep_end else part + note), True


def _iso(at: datetime | None) -> str | None:
    if at is None:
        return None
    if at.tzinfo is not UTC:
        at = at.astimezone(UTC)
    return at.isoformat()[:-6] + "Z"  # "+00:00" -> "Z"


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


@dataclass
class Update:
    """One write of an execution's status, the coalesced sum of what happened since the last."""

    execution_id: str
    attempt: int
    rank: int
    seq: int
    at_ms: int
    state: str
    fields: dict[str, str] = field(default_factory=dict)
    first: dict[str, str] = field(default_factory=dict)  # set only when absent (accepted_at...)
    delete: frozenset[str] = frozenset()

    def then(self, later: Update) -> Update:
        """This update followed by ``later`` (of the same execution), as one write: the
        same rule as the Redis script, so a batch never applies what Redis would refuse."""
        attempt, rank, seq = later.attempt, later.rank, later.seq
        if attempt == 0 and self.attempt > 0:
            if self.state != "suspended" or later.at_ms < self.at_ms:
                return self
            attempt, rank, seq = self.attempt, 3, -1
        elif attempt == 0:
            if later.at_ms < self.at_ms:
                return self
        elif (attempt, rank, seq) < (self.attempt, self.rank, self.seq):
            return self
        fields = {k: v for k, v in self.fields.items() if k not in later.delete}
        fields.update(later.fields)
        delete = self.delete.difference(later.fields) | later.delete
        first = {**later.first, **self.first}
        return Update(
            self.execution_id,
            attempt,
            rank,
            seq,
            later.at_ms,
            later.state,
            fields,
            first,
            delete,
        )


def _put(fields: dict[str, str], name: str, value: object) -> None:
    if value is not None:
        fields[name] = value if isinstance(value, str) else str(value)


def event_update(event: LifecycleEvent, attempt: int) -> Update:
    """What a lifecycle event says about its execution's status (its fields bounded)."""
    state = state_of(event)
    at = event.at
    update = Update(
        event.execution_id,
        attempt,
        _RANK.get(event.event, _TERMINAL_RANK),
        -1,
        _ms(at),
        state,
    )
    f = update.fields
    f["event"] = event.event
    f["worker"] = clip(event.worker, MAX_NAME_BYTES)[0]
    f["updated_at"] = _iso(at) or ""
    if event.labels:
        f["labels"] = clip(orjson.dumps(event.labels).decode(), MAX_LABELS_BYTES)[0]
    if event.event == "accepted":
        update.first["accepted_at"] = f["updated_at"]
        update.delete = _OUTCOME
        return update
    _put(f, "program_digest", event.program_digest)
    if event.event in ("started", "resumed"):
        update.first["started_at"] = f["updated_at"]
        update.delete = _OUTCOME
        return update
    # terminal
    f["ended_at"] = f["updated_at"]
    if event.log_records is not None:
        f["log_records"] = str(event.log_records)
        if event.log_records > 0:
            update.seq = event.log_records - 1
            f["seq"] = str(update.seq)
    if event.event == "completed":
        if event.result_ref is None:
            text, cut = clip(orjson.dumps(event.result).decode(), MAX_RESULT_BYTES)
            f["result"] = text
            if cut:
                f["result_truncated"] = "1"
        _put(f, "result_type", event.result_type)
        _put(f, "result_bytes", event.result_bytes)
        _put(f, "result_ref", event.result_ref)
        _put(f, "result_url", event.result_url)
        _put(f, "result_url_expires_at", _iso(event.result_url_expires_at))
    if event.error is not None:
        f["error_type"] = clip(event.error.type, MAX_NAME_BYTES)[0]
        f["error_message"] = clip(event.error.message, MAX_MESSAGE_BYTES)[0]
        _put(f, "error_line", event.error.line)
        _put(f, "error_col", event.error.col)
        f["error_traceback"] = clip(event.error.traceback, MAX_TRACEBACK_BYTES, keep_end=True)[0]
    _put(f, "stop_mode", event.stop_mode)
    if event.artifacts:
        f["artifacts_count"] = str(len(event.artifacts))
        f["artifacts"] = orjson.dumps(
            [
                {
                    "name": clip(a.name, MAX_NAME_BYTES)[0],
                    "uri": clip(a.uri, 2 * MAX_NAME_BYTES)[0],
                    "size": a.size,
                    "url": a.url,
                    "url_expires_at": _iso(a.url_expires_at),
                }
                for a in event.artifacts[:MAX_ARTIFACTS]
            ]
        ).decode()
    update.delete = _OUTCOME.difference(f)
    return update


def dead_letter_update(execution_id: str, reason: str, where: str | None) -> Update:
    now = datetime.now(UTC)
    update = Update(execution_id, 0, _TERMINAL_RANK, -1, _ms(now), "dead_lettered")
    iso = _iso(now) or ""
    update.fields.update({"event": "dead_lettered", "updated_at": iso, "ended_at": iso})
    update.fields["reason"] = clip(reason, MAX_MESSAGE_BYTES)[0]
    if where is not None:
        update.fields["field"] = clip(where, MAX_NAME_BYTES)[0]
    update.delete = _OUTCOME.difference(update.fields)
    return update


def start_id(value: bytes | None) -> str | None:
    """The execution id of a dead-lettered message when it is a start that names a valid one."""
    if value is None or len(value) > 1_000_000:
        return None
    try:
        body = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(body, dict) or body.get("type", "start") != "start":
        return None
    eid = body.get("execution_id")
    if isinstance(eid, str) and re.fullmatch(EXECUTION_ID_PATTERN, eid):
        return eid
    return None


class Store(Protocol):
    """Where status updates go (``RedisStore``; tests use a fake)."""

    def apply(self, updates: Sequence[Update]) -> list[bool]:
        """Write ``updates`` (in order); per update, True when applied, False when a newer
        one was there. Raises ``redis.RedisError`` when none could be written."""
        ...

    def trim(self) -> None: ...


class RedisStore:
    """The status view of one deployment in Redis (the writer's and the CLI's side)."""

    def __init__(
        self, client: redis.Redis[bytes], group: str, ttl_s: float, index_size: int = 100_000
    ) -> None:
        self.redis = client
        self.group = group
        self.ttl_ms = max(1, int(ttl_s * 1000))
        self.index_size = index_size
        self._apply = client.register_script(_APPLY)

    @staticmethod
    def _item(u: Update) -> list[Any]:
        fields = [x for pair in u.fields.items() for x in pair]
        first = [x for pair in u.first.items() for x in pair]
        return [
            u.execution_id,
            u.attempt,
            u.rank,
            u.seq,
            str(u.at_ms),
            u.state,
            fields,
            first,
            sorted(u.delete),
        ]

    def apply(self, updates: Sequence[Update]) -> list[bool]:
        if not updates:
            return []
        pipe = self.redis.pipeline(transaction=False)
        chunks = [updates[i : i + BATCH] for i in range(0, len(updates), BATCH)]
        for chunk in chunks:
            self._apply(
                keys=[
                    index_key(self.group),
                    *(status_key(self.group, u.execution_id) for u in chunk),
                ],
                args=[self.ttl_ms, orjson.dumps([self._item(u) for u in chunk])],
                client=pipe,
            )
        results = pipe.execute(raise_on_error=False)
        applied: list[bool] = []
        for chunk, result in zip(chunks, results, strict=True):
            if isinstance(result, Exception):
                if isinstance(result, redis.ConnectionError | redis.TimeoutError):
                    raise result
                log.warning(
                    "status of %d execution(s) not written (%s...): %s",
                    len(chunk),
                    chunk[0].execution_id,
                    result,
                )
                applied += [False] * len(chunk)
            else:
                applied += [bool(r) for r in result]
        return applied

    def trim(self) -> None:
        oldest = int(time.time() * 1000) - self.ttl_ms
        pipe = self.redis.pipeline(transaction=False)
        for key in [index_key(self.group), *(index_key(self.group, s) for s in STATES)]:
            pipe.zremrangebyscore(key, "-inf", oldest)
            pipe.zremrangebyrank(key, 0, -(self.index_size + 1))
        pipe.execute()

    # --- reading (jarvis status / ls) ---

    def get(self, execution_id: str) -> dict[str, Any] | None:
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(status_key(self.group, execution_id))
        pipe.pttl(status_key(self.group, execution_id))
        raw, ttl_ms = pipe.execute()
        return decode(execution_id, raw, ttl_ms) if raw else None

    def list(self, state: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """The newest ``limit`` statuses (in ``state``), newest first."""
        index = index_key(self.group, state)
        found: list[dict[str, Any]] = []
        start, page = 0, max(limit, 50)
        while len(found) < limit:
            ids = [
                i.decode() if isinstance(i, bytes) else str(i)
                for i in self.redis.zrevrange(index, start, start + page - 1)
            ]
            if not ids:
                break
            pipe = self.redis.pipeline(transaction=False)
            for eid in ids:
                pipe.hgetall(status_key(self.group, eid))
            for eid, raw in zip(ids, pipe.execute(), strict=True):
                if not raw:
                    continue  # expired; the index forgets it at the next trim
                status = decode(eid, raw, None)
                if state is None or status.get("state") == state:
                    found.append(status)
                    if len(found) == limit:
                        break
            start += page
        # The index's scores are milliseconds: order what shares one by the exact time too.
        found.sort(key=lambda st: str(st.get("updated_at", "")), reverse=True)
        return found


def decode(execution_id: str, raw: dict[bytes, bytes], ttl_ms: int | None) -> dict[str, Any]:
    """A status hash as plain data: numbers as ints, JSON fields parsed."""
    out: dict[str, Any] = {"execution_id": execution_id}
    for k, v in raw.items():
        name = k.decode()
        if name in INTERNAL_FIELDS:
            continue
        text = v.decode("utf-8", "replace")
        if name in INT_FIELDS:
            try:
                out[name] = int(text)
            except ValueError:
                out[name] = text
        elif name in ("artifacts", "labels"):
            try:
                out[name] = orjson.loads(text)
            except orjson.JSONDecodeError:
                out[name] = text
        elif name == "result_truncated":
            out[name] = text == "1"
        elif name == "result" and raw.get(b"result_truncated") != b"1":
            try:
                out[name] = orjson.loads(text)
            except orjson.JSONDecodeError:
                out[name] = text
        else:
            out[name] = text
    if ttl_ms is not None and ttl_ms >= 0:
        out["ttl_s"] = round(ttl_ms / 1000)
    return out


@dataclass
class _Live:
    """A running execution whose last log seq the writer publishes (read from its Outbox)."""

    output: weakref.ref[Progress]
    attempt: int
    state: str
    written_seq: int = -1
    written_at: float = 0.0


class StatusWriter(WorkerHooks):
    """The worker's status-view hook and its background writer thread."""

    def __init__(
        self,
        store: Store,
        worker_id: str,
        interval_s: float = 0.1,
        max_pending: int = 10_000,
        refresh_s: float = 3600.0,
    ) -> None:
        self.store = store
        self.worker_id = worker_id
        self.interval_s = interval_s
        self.max_pending = max_pending
        self.refresh_s = refresh_s  # a live execution is re-written at least this often (TTL)
        self._lock = threading.Lock()
        self._pending: dict[str, list[tuple[LifecycleEvent | Update, int]]] = {}
        self._live: dict[str, _Live] = {}
        self.dropped = 0  # updates dropped for want of room (Redis down for long)
        self.written = 0
        self.stale = 0  # updates Redis refused because a newer one was there
        self._dropped_logged = 0
        self._last_log = 0.0
        self._last_trim = 0.0
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, name="jarvis-status", daemon=True)

    # --- hooks (any thread: quick, never blocks on Redis) ---

    def _enqueue(self, execution_id: str, item: tuple[LifecycleEvent | Update, int]) -> None:
        pending = self._pending
        entry = pending.get(execution_id)
        if entry is not None:
            entry.append(item)
            return
        if len(pending) >= self.max_pending:
            del pending[next(iter(pending))]  # the oldest execution's updates
            self.dropped += 1
        pending[execution_id] = [item]

    def lifecycle(self, event: LifecycleEvent, attempt: int, output: Progress | None) -> None:
        eid = event.execution_id
        with self._lock:
            self._enqueue(eid, (event, attempt))
            if event.event in TERMINAL_EVENTS:
                self._live.pop(eid, None)
            elif output is not None and event.event != "accepted":
                # Written with this event: the next progress write is due when the seq
                # moves, or after refresh_s (the TTL) if it never does.
                self._live[eid] = _Live(weakref.ref(output), attempt, event.event, -1, time.time())

    def dead_lettered_message(self, reason: str, field: str | None, value: bytes | None) -> None:
        eid = start_id(value)
        if eid is None:
            return
        with self._lock:
            self._enqueue(eid, (dead_letter_update(eid, reason, field), 0))

    def handed_off(self, execution_id: str) -> None:
        with self._lock:
            self._live.pop(execution_id, None)

    # --- the writer thread ---

    def start(self) -> None:
        self._thread.start()

    def close(self, timeout_s: float = 2.0) -> None:
        """Stop the thread after one last flush (bounded by ``timeout_s``)."""
        self._halt.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._halt.wait(self.interval_s):
            self._turn()
        self._turn()

    def _turn(self) -> None:
        try:
            self.flush()
        except Exception:  # never lose the thread
            log.exception("status view writer failed")

    def _progress(self, now: float) -> list[Update]:
        """Progress updates of live executions whose last seq moved (or is due a refresh)."""
        updates = []
        with self._lock:
            for eid, live in list(self._live.items()):
                output = live.output()
                if output is None:  # its run is gone without a terminal event
                    del self._live[eid]
                    continue
                seq = output.last_seq
                if seq == live.written_seq and now - live.written_at < self.refresh_s:
                    continue
                update = Update(eid, live.attempt, 1, seq, int(now * 1000), live.state)
                update.fields = {
                    "updated_at": _iso(datetime.fromtimestamp(now, UTC)) or "",
                    "worker": self.worker_id,
                }
                if seq >= 0:
                    update.fields["seq"] = str(seq)
                updates.append(update)
        return updates

    def flush(self) -> int:
        """Write what is pending (and live progress); how many updates were applied."""
        now = time.time()
        with self._lock:
            pending, self._pending = self._pending, {}
        merged: dict[str, Update] = {}
        for eid, items in pending.items():
            update: Update | None = None
            for item, attempt in items:
                step = item if isinstance(item, Update) else event_update(item, attempt)
                update = step if update is None else update.then(step)
            assert update is not None
            merged[eid] = update
        progress = self._progress(now)
        for p in progress:
            before = merged.get(p.execution_id)
            if before is None:
                merged[p.execution_id] = p
            else:
                merged[p.execution_id] = before.then(p)
        if not merged:
            self._maybe_trim(now)
            return 0
        updates = list(merged.values())
        try:
            results = self.store.apply(updates)
        except redis.RedisError as exc:
            self._put_back(pending)
            self._warn(
                f"status view: cannot write to Redis ({exc}); retrying every "
                f"{self.interval_s:g} s, {self.dropped} execution update(s) dropped so far"
            )
            return 0
        with self._lock:
            for p in progress:
                live = self._live.get(p.execution_id)
                if live is not None:
                    live.written_seq, live.written_at = p.seq, now
        applied = sum(results)
        self.written += applied
        self.stale += len(results) - applied
        if self.dropped != self._dropped_logged:
            self._warn(
                f"status view: {self.dropped - self._dropped_logged} execution update(s) "
                f"dropped (more than {self.max_pending} pending while Redis was unavailable)",
                always=True,
            )
            self._dropped_logged = self.dropped
        self._maybe_trim(now)
        return applied

    def _put_back(self, failed: dict[str, list[tuple[LifecycleEvent | Update, int]]]) -> None:
        """Re-queue a failed batch before what arrived meanwhile (oldest first, bounded)."""
        with self._lock:
            newer, self._pending = self._pending, {}
            for eid, items in failed.items():
                for item in items:
                    self._enqueue(eid, item)
            for eid, items in newer.items():
                for item in items:
                    self._enqueue(eid, item)

    def _maybe_trim(self, now: float) -> None:
        if now - self._last_trim < TRIM_EVERY_S:
            return
        self._last_trim = now
        try:
            self.store.trim()
        except redis.RedisError as exc:
            self._warn(f"status view: cannot trim its index ({exc})")

    def _warn(self, message: str, always: bool = False) -> None:
        now = time.monotonic()
        if always or now - self._last_log >= LOG_EVERY_S:
            self._last_log = now
            log.warning("%s", message)


def states_text(states: Iterable[str] = STATES) -> str:
    return ", ".join(states)
