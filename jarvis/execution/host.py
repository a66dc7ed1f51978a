"""The SPy host of one execution: journaled effects with replay, log records, stop checks.

Log-record timestamps (``ts``, DESIGN.md §2) are a function of the journal and the
record's position, never of the wall clock at emission: ``ts = max(previous ts + 1,
anchor)`` in nanoseconds since the epoch, where the *anchor* is the latest journaled time
at or before the record (the start record's ``ns``, then each effect record's ``ns``; a
``sleep`` anchors at its journaled wake-up time). A replay answers effects from the journal,
so it reproduces every anchor, hence every ``ts``; records after the last journaled effect
depend only on that anchor and their order, so they are re-emitted with the same ``ts``
too. ``at`` stays the informative wall time (millisecond marks from the sandbox).

Effects follow DESIGN.md §1: the ``seq``-th effect is answered from the journal when the
journal has it (replay), after checking the request matches; otherwise it runs live and
its outcome (result, or the SPy error it raised) is appended and fsynced *before* the
program sees it. An effect in flight at a crash is not in the journal, so it runs again
on resume, with the same idempotency key ``<execution_id>:<effect_seq>``.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import orjson

from jarvis.artifacts import ArtifactStore
from jarvis.contract.messages import CONTRACT_VERSION, ArtifactRef
from jarvis.errors import Interruption, JarvisError, NonDeterminismError, ProgramError, Stopped
from jarvis.execution.replay import JournalExhausted, Replay, request_digest
from jarvis.execution.sinks import Sink
from jarvis.journal import Effect, EffectError, Journal, Start
from jarvis.spy import Site, render_value
from jarvis.spy.values.data import plain
from jarvis.telemetry import tracing

log = logging.getLogger("jarvis.execution")

EffectHandler = Callable[[tuple[Any, ...], str], tuple[Any, dict[str, Any]]]
"""(args, idempotency_key) -> (result the program sees, metadata kept in the journal)."""

EFFECT_KINDS = frozenset({"print", "book", "book_attempt", "budget", "storage_wait"})
"""Record kinds kept at level ``effects``, and after the record budget is spent."""

_SCALARS = (int, float, bool, type(None))
_SCALAR_NAMES: dict[type, str] = {str: "str", bool: "bool", int: "int", type(None): "NoneType"}
_INT64 = 2**63
_MAX_BOOK_RESULT_BYTES = 256 * 1024 * 1024
_CODE_NAMES = {
    1: "str",
    2: "bool",
    3: "int",
    4: "NoneType",
    5: "str",
}  # jarvis.sandbox.child's codes
_STR_BLOB = 5  # a long string, in a blob
_NO_BLOBS: list[bytes] = []
_BRANCH = 16
_new_tuple = tuple.__new__


def anchor_ns(record: Start | Effect) -> int | None:
    """The time a journal record (start or effect) anchors the log timestamps at, in ns.

    ``ns`` when the record has it; a start journaled before ``ns`` existed anchors at its
    ISO ``at`` (microseconds); an effect without ``ns`` (an older journal) anchors nowhere
    (None: the previous anchor holds, and its live run had no ``ts`` to match). A ``sleep``
    anchors at its wake-up time, the moment the program goes on.
    """
    ns = record.ns
    if ns is None and type(record) is Start:
        at = record.at
        if isinstance(at, str):
            try:
                when = datetime.fromisoformat(at)
            except ValueError:
                when = None
            if when is not None and when.tzinfo is not None:
                ns = (when - _EPOCH) // timedelta(microseconds=1) * 1000
    if type(record) is Effect and record.name == "sleep":
        until = record.meta.get("until")
        if isinstance(until, int | float) and not isinstance(until, bool) and until == until:
            wake = int(until * 1e9)
            ns = wake if ns is None else max(ns, wake)
    return ns


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _Clock:
    """ISO-8601 UTC timestamps, formatted once per millisecond (records come far faster)."""

    __slots__ = ("ms", "text")

    def __init__(self) -> None:
        self.ms = -1
        self.text = ""

    def now(self) -> str:
        return self.at(int(time.time() * 1000))

    def at(self, ms: int) -> str:
        if ms != self.ms:
            self.ms = ms
            self.text = datetime.fromtimestamp(ms / 1000, UTC).isoformat()
        return self.text


_sysrandom = random.SystemRandom()

# The effects that need no host state. Module-level, and the host's own (artifact, book) are
# bound only when called: a table of bound methods on the host would make every host a
# reference cycle, left for the cyclic collector (with everything an execution holds: a
# 150-400 ms full collection every few thousand executions, measured in the worker).
_PURE_EFFECTS: dict[str, EffectHandler] = {
    "now": lambda _a, _k: (time.time(), {}),
    "random": lambda _a, _k: (_sysrandom.random(), {}),
    "randint": lambda a, _k: (_sysrandom.randint(a[0], a[1]), {}),
    "uuid": lambda _a, _k: (str(uuid.uuid4()), {}),
    # The wake-up time is journaled *before* sleeping, like a durable timer: a resumed
    # execution sleeps only what is left.
    "sleep": lambda a, _k: (None, {"until": time.time() + float(a[0])}),
}


class BookCaller(Protocol):
    """What the host needs from the Books registry (jarvis.books.BookRegistry)."""

    def call(
        self,
        book: str,
        procedure: str,
        args: list[Any],
        kwargs: dict[str, Any],
        *,
        execution_id: str,
        idempotency_key: str,
        on_attempt: Callable[[Any], None] | None = None,
        should_stop: Callable[[], bool | Interruption | None] | None = None,
    ) -> Any: ...


@dataclass(frozen=True)
class LogPolicy:
    """How much an execution logs: the record budget and the per-record value size."""

    max_records: int = 100_000
    max_value_bytes: int = 16 * 1024


Fault = Callable[[str, int], None]
"""Test hook: called with ("effect_started" | "effect_returned" | "effect_journaled", effect_seq)."""


class ExecutionHost:
    def __init__(
        self,
        execution_id: str,
        journal: Journal,
        sink: Sink,
        artifacts: ArtifactStore,
        *,
        books: BookCaller | None = None,
        log_policy: LogPolicy | None = None,
        fault: Fault | None = None,
        storage_deadline_s: float = 300.0,
        max_stored_log_bytes: int = 256 * 1024 * 1024,
        live_effects: bool = True,
    ) -> None:
        self.execution_id = execution_id
        self.stored_log_left = max_stored_log_bytes
        self._sandbox_ms = int(time.time() * 1000)  # the sandbox's last time mark
        self.storage_deadline_s = storage_deadline_s
        self.journal = journal
        self.sink = sink
        self.artifact_store = artifacts
        self.books = books
        self.policy = log_policy or LogPolicy()
        self.fault = fault
        self.seq = 0
        self.effect_seq = 0
        self._clock = _Clock()
        # Log timestamps (module docstring): the anchor until the bridge reads or writes
        # the journal's start record (``anchor_at``), and the last ``ts`` given out.
        self.anchor = time.time_ns()
        self.ts = -1
        self.budget_left = self.policy.max_records
        # For the metrics (jarvis.telemetry.metrics.attempt_ended): records dropped here past
        # the budget, and effects answered from the journal.
        self.dropped = 0
        self.replayed = 0
        self.journaled = Replay(execution_id, journal.effects)
        self.replaying = bool(self.journaled)
        # False: an offline replay (``jarvis journals replay``): an effect past the journal
        # is never run, it ends the attempt with JournalExhausted.
        self.live_effects = live_effects
        self._replay_span: Any = None  # tracing on: the span of the replay while it lasts
        self.artifacts: list[ArtifactRef] = []
        self._attempts: list[dict[str, Any]] | None = (
            None  # failed attempts of the Book call in progress
        )
        # Set from another thread (the worker's stop watcher); read at every check().
        self.stop_requested: Interruption | None = None
        # A host-side failure the program must not be able to swallow or rewrap.
        self.fatal: JarvisError | None = None

    # --- Host protocol (called by the running program) ---

    def emit(self, site: Site, value: object) -> None:
        kind = site.kind
        if self.budget_left <= 0 and kind not in EFFECT_KINDS:
            self.dropped += 1
            return
        # Hot path (one call per record): plain scalars render as themselves.
        t = type(value)
        if t is str or t is bool or value is None or (t is int and -_INT64 <= value < _INT64):  # type: ignore[operator]
            data: Any = value
            type_name = _SCALAR_NAMES[t]
        elif kind == "branch":  # built by the compiler from str/int constants: already plain
            data, type_name = value, "dict"
        else:
            data, type_name = render_value(value)
        self._record(
            kind, site.line, site.col, site.end_line, site.end_col, site.source, data, type_name
        )

    def sandbox_records(
        self,
        recs: list[Any],
        sites: dict[int, tuple[str, int, int, int, int, str]],
        blobs: list[bytes] = _NO_BLOBS,
    ) -> None:
        """A batch of records rendered in the sandbox: flat ``site, value, code`` triples
        (``jarvis.sandbox.channel``).

        The hot path of level ``full`` (hundreds of thousands a second): scalars and branch
        records are built inline; anything that may need truncation takes ``_record``.
        Raises ``ValueError`` for a malformed record (the sandbox's frames are untrusted).
        """
        self._batch_start(recs)
        eid = self.execution_id
        clock = self._clock
        sink_log = self.sink.log
        short = self.policy.max_value_bytes // 6
        names = _CODE_NAMES
        seq, left = self.seq, self.budget_left
        anchor, last = self.anchor, self.ts  # no effect within a batch: one anchor for all
        at = clock.at(self._sandbox_ms)
        it = iter(recs)
        for sid, data, code in zip(it, it, it, strict=True):
            if sid == -1:  # a time mark: the records after it happened in this millisecond
                at = clock.at(self._time_mark(data))
                continue
            site = sites[sid]
            if left <= 0 and site[0] not in EFFECT_KINDS:
                self.dropped += 1
                continue
            if type(code) is not int:  # a type name (a rendered value): the slow path
                self.seq, self.budget_left, self.ts = seq, left, last
                self._named_record(site, data, code, blobs)
                seq, left, last = self.seq, self.budget_left, self.ts
                continue
            slow = left <= 1  # the budget record follows: the slow path says it
            if code >= _BRANCH:
                data, type_name = {"taken": data, "line": code - _BRANCH}, "dict"
            else:
                type_name = names[code]
                if code == _STR_BLOB:
                    data, type_name, slow = blobs[data].decode("utf-8"), "str", True
                elif type(data) is str and len(data) > short:
                    slow = True  # may need truncating
            if slow:
                self.seq, self.budget_left, self.ts = seq, left, last
                self._record(*site, data, type_name, self._sandbox_ms)
                seq, left, last = self.seq, self.budget_left, self.ts
                continue
            last += 1
            if last < anchor:
                last = anchor
            kind, line, col, end_line, end_col, source = site
            sink_log(
                eid,
                {
                    "version": CONTRACT_VERSION,
                    "execution_id": eid,
                    "seq": seq,
                    "kind": kind,
                    "line": line,
                    "col": col,
                    "end_line": end_line,
                    "end_col": end_col,
                    "source": source,
                    "value": data,
                    "type": type_name,
                    "at": at,
                    "ts": last,
                },
            )
            seq += 1
            left -= 1
        self.seq, self.budget_left, self.ts = seq, left, last

    def _batch_start(self, recs: list[Any]) -> None:
        if len(recs) % 3:
            raise ValueError("malformed record batch")
        if self.journal.dirty and any(recs[i] != -1 for i in range(0, len(recs), 3)):
            self._durable()  # records in a batch all follow the last effect

    def _time_mark(self, ms: Any) -> int:
        if type(ms) is not int:
            raise ValueError("malformed time mark")
        self._sandbox_ms = ms
        return ms

    def _named_record(
        self, site: tuple[str, int, int, int, int, str], data: Any, code: Any, blobs: list[bytes]
    ) -> None:
        """A record whose value the sandbox rendered, with its type name as ``code``: ``=``
        first for a big value as JSON in a blob, ``!`` first for one too big to render."""
        if type(code) is not str:
            raise ValueError("malformed record")
        if code.startswith("="):
            self._record_json(*site, blobs[data], code[1:])
            return
        too_large = code.startswith("!")
        self._record(*site, data, code[1:] if too_large else code, self._sandbox_ms, too_large)

    def check(self) -> None:
        if self.stop_requested is not None:
            raise Stopped(self.stop_requested)

    def effect(self, name: str, args: tuple[object, ...]) -> object:
        seq = self.effect_seq
        self.effect_seq += 1
        digest = request_digest(name, args)
        if seq < len(self.journaled):
            return self._replayed(seq, name, digest)
        if self.replaying:
            self.replaying = False
            self.end_replay()
        if not self.live_effects:
            self.fatal = JournalExhausted(self.execution_id, seq, name)
            raise self.fatal
        if name == "artifact":
            handler: EffectHandler | None = self._artifact
        elif name == "book":
            handler = self._book
        else:
            handler = _PURE_EFFECTS.get(name)
        if handler is None:
            raise ProgramError("NameError", f"effect {name!r} is not available to this program")
        return self._live(seq, name, digest, handler, args)

    # --- internals ---

    def _live(
        self, seq: int, name: str, digest: str, handler: EffectHandler, args: tuple[object, ...]
    ) -> object:
        fault = self.fault
        if fault is not None:
            fault("effect_started", seq)
        try:
            result, meta = handler(args, f"{self.execution_id}:{seq}")
        except ProgramError as exc:
            # A definitive SPy-level failure (e.g. a Book call that exhausted its retries)
            # is an outcome too: journal it so a replay raises it without calling again.
            if fault is not None:
                fault("effect_returned", seq)
            error = EffectError(exc.spy_type, exc.message)
            self._journal(seq, name, digest, None, error, self._error_meta())
            if fault is not None:
                fault("effect_journaled", seq)
            raise
        if fault is not None:
            fault("effect_returned", seq)  # done outside, not yet durable: "in flight"
        self._journal(seq, name, digest, result, None, meta)
        if fault is not None:
            fault("effect_journaled", seq)
        self._after(name, result, meta)
        return result

    def _replayed(self, seq: int, name: str, digest: str) -> object:
        if seq == 0 and tracing.ENABLED:
            self._replay_span = tracing.start_span(
                "journal replay",
                {
                    "jarvis.execution_id": self.execution_id,
                    "jarvis.journal.effects": len(self.journaled),
                },
            )
        try:
            rec = self.journaled.answer(seq, name, digest)
        except NonDeterminismError as exc:
            self.fatal = exc
            self.end_replay()
            raise
        assert rec is not None  # seq is within the journal
        self.replayed += 1
        if seq == len(self.journaled) - 1:
            self.replaying = False
            self.end_replay()
        for info in rec.meta.get("attempts", ()):
            self._attempt_record(info)  # the log replays what the live run logged
        self.anchor_at(rec)  # as the live run did once the effect was journaled
        if rec.error is not None:
            raise ProgramError(rec.error.type, rec.error.message)
        self._after(name, rec.result, rec.meta)
        return rec.result

    def end_replay(self) -> None:
        """End the replay's span (tracing on): the replay caught up with the journal, failed
        (non-determinism), or the run ended before it caught up."""
        span, self._replay_span = self._replay_span, None
        if span is not None:
            span.set_attribute("jarvis.journal.replayed", min(self.effect_seq, len(self.journaled)))
            tracing.end(span, self.fatal)

    def _journal(
        self,
        seq: int,
        name: str,
        digest: str,
        result: Any,
        error: EffectError | None,
        meta: Mapping[str, Any],
    ) -> None:
        """Append an effect record, stamped with its time (``ns`` since the epoch, taken as
        it is journaled): the anchor of the log timestamps after it, here and in any replay.

        Group commit: effect records are written without their own fsync; ``_durable()``
        fsyncs once before anything that depends on them leaves the pod (a log record, a Book
        call, an upload, an event), so a run of fast effects shares one fsync."""
        journal = self.journal
        # Built with the writer's token (Journal.append then needs no copy to stamp it), and
        # as a plain tuple of Effect's fields in order: NamedTuple's Python-level __new__
        # cost ~0.2 us more per record, ~6% of a whole append (measured).
        record = _new_tuple(
            Effect, (seq, name, digest, result, error, meta, time.time_ns(), journal.token)
        )
        try:
            journal.append(record, sync=False)
        except JarvisError as exc:
            self.fatal = exc
            raise
        self.anchor_at(record)

    def _durable(self) -> None:
        """Output-commit rule: make journaled effects durable before output depends on them."""
        if self.journal.dirty:
            try:
                self.journal.sync()
            except JarvisError as exc:
                self.fatal = exc
                raise

    def _record(
        self,
        kind: str,
        line: int,
        col: int,
        end_line: int,
        end_col: int,
        source: str,
        data: Any,
        type_name: str,
        at_ms: int | None = None,
        too_large: bool = False,
        json_text: bytes | None = None,
    ) -> None:
        record: dict[str, Any] = {
            "version": CONTRACT_VERSION,
            "execution_id": self.execution_id,
            "seq": self.seq,
            "kind": kind,
            "line": line,
            "col": col,
            "end_line": end_line,
            "end_col": end_col,
            "source": source,
            "value": data,
            "type": type_name,
            "at": self._clock.now() if at_ms is None else self._clock.at(at_ms),
            "ts": self._next_ts(),
        }
        t = type(data)
        if too_large:  # the sandbox could not even render it within the stored-log budget
            record["truncated"] = True
            record["value_ref"] = None
        elif json_text is not None:
            self._maybe_truncate(record, None, json_text)
        elif t is str:
            # 6 bytes per char is JSON's worst case (\u00XX): shorter strings always fit.
            if len(data) * 6 > self.policy.max_value_bytes:
                self._maybe_truncate(record, data)
        elif t not in _SCALARS and kind != "branch":
            self._maybe_truncate(record, data)
        if self.journal.dirty:
            self._durable()
        self.sink.log(self.execution_id, record)
        self.seq += 1
        self.budget_left -= 1
        if self.budget_left == 0:
            self.budget_left = -1  # say it once
            self._record(
                "budget",
                line,
                col,
                end_line,
                end_col,
                source,
                f"record budget of {self.policy.max_records} reached: continuing at level effects",
                "str",
            )

    def _next_ts(self) -> int:
        ts = self.ts + 1
        if ts < self.anchor:
            ts = self.anchor
        self.ts = ts
        return ts

    def anchor_at(self, record: Start | Effect) -> None:
        """Move the log timestamps' anchor to a journal record's time (start or effect)."""
        ns = anchor_ns(record)
        if ns is not None:
            self.anchor = ns

    def _record_json(
        self,
        kind: str,
        line: int,
        col: int,
        end_line: int,
        end_col: int,
        source: str,
        text: bytes,
        type_name: str,
    ) -> None:
        """A record whose value came as JSON text (a big value, from the sandbox)."""
        if len(text) <= self.policy.max_value_bytes:
            self._record(
                kind,
                line,
                col,
                end_line,
                end_col,
                source,
                orjson.loads(text),
                type_name,
                self._sandbox_ms,
            )
            return
        self._record(
            kind,
            line,
            col,
            end_line,
            end_col,
            source,
            None,
            type_name,
            self._sandbox_ms,
            json_text=text,
        )

    def _maybe_truncate(self, record: dict[str, Any], data: Any, text: bytes | None = None) -> None:
        if text is None:
            text = orjson.dumps(data)
        limit = self.policy.max_value_bytes
        if len(text) <= limit:
            return
        # The whole value goes to object storage under a name fixed by its seq, so a
        # replay overwrites the same object instead of adding another; within the run's
        # max_stored_log_bytes (past it the record is truncated and not stored).
        self.stored_log_left -= len(text)
        if self.stored_log_left < 0:
            record["value_ref"] = None
        else:
            try:
                stored = self.artifact_store.put(
                    self.execution_id, f"log-values/{record['seq']}.json", text
                )
                record["value_ref"] = stored.uri
            except JarvisError as exc:
                log.warning(
                    "%s: could not store oversized log value #%d: %s",
                    self.execution_id,
                    record["seq"],
                    exc,
                )
                record["value_ref"] = None
        record["value"] = text[:limit].decode("utf-8", "ignore")
        record["truncated"] = True

    def _artifact(self, args: tuple[Any, ...], idempotency_key: str) -> tuple[Any, dict[str, Any]]:
        name, content = args
        data = (
            content.encode("utf-8", "surrogatepass") if isinstance(content, str) else bytes(content)
        )
        # An object-store outage is waited out (and said so in the log) rather than failing
        # the execution, up to a deadline; a stop still interrupts the wait.
        self._durable()
        deadline = time.monotonic() + self.storage_deadline_s
        delay = 0.5
        while True:
            try:
                stored = self.artifact_store.put(self.execution_id, name, data)
                break
            except JarvisError as exc:
                if time.monotonic() + delay > deadline:
                    self.fatal = exc
                    raise
                log.warning(
                    "%s: object storage unavailable, retrying in %.1fs: %s",
                    self.execution_id,
                    delay,
                    exc,
                )
                self._record(
                    "storage_wait",
                    0,
                    0,
                    0,
                    0,
                    f"artifact({name!r})",
                    {"error": str(exc), "retry_in_s": delay},
                    "dict",
                )
                self._sleep_until(time.time() + delay)
                delay = min(delay * 2, 30.0)
        return stored.uri, {"size": stored.size, "name": stored.name}

    def _book(self, args: tuple[Any, ...], idempotency_key: str) -> tuple[Any, dict[str, Any]]:
        book, procedure, call_args, call_kwargs = args
        if self.books is None:
            raise ProgramError(
                "NameError",
                f"no Books are available to this program (asked for {book}.{procedure})",
            )

        attempts: list[dict[str, Any]] = []
        self._attempts = attempts

        def on_attempt(attempt: Any) -> None:
            if getattr(attempt, "outcome", "ok") == "ok":
                return
            info = {
                k: getattr(attempt, k, None)
                for k in (
                    "book",
                    "procedure",
                    "attempt",
                    "outcome",
                    "error_type",
                    "message",
                    "delay_s",
                )
            }
            attempts.append(info)
            self._attempt_record(info)

        self._durable()
        # Tracing on: a span per call (its attempts are its children: jarvis.books.calls).
        with tracing.span(
            f"book {book}.{procedure}",
            {
                "jarvis.execution_id": self.execution_id,
                "jarvis.book": book,
                "jarvis.book.procedure": procedure,
                "jarvis.idempotency_key": idempotency_key,
            }
            if tracing.ENABLED
            else None,
        ):
            result = self.books.call(
                book,
                procedure,
                list(call_args),
                dict(call_kwargs),
                execution_id=self.execution_id,
                idempotency_key=idempotency_key,
                on_attempt=on_attempt,
                should_stop=lambda: self.stop_requested,
            )
        self._attempts = None
        try:
            # What the journal, the channel and the program can hold (a Book bug otherwise).
            result = plain(result, f"the result of {book}.{procedure}()", _MAX_BOOK_RESULT_BYTES)
        except (TypeError, ValueError) as exc:
            raise ProgramError(
                "BookError", f"{book}.{procedure} returned an unusable value: {exc}"
            ) from None
        return result, {"attempts": attempts} if attempts else {}

    def _error_meta(self) -> dict[str, Any]:
        attempts, self._attempts = self._attempts, None
        return {"attempts": attempts} if attempts else {}

    def _attempt_record(self, info: dict[str, Any]) -> None:
        # Durations are left out: a record must be the same when replayed.
        self._record(
            "book_attempt", 0, 0, 0, 0, f"{info['book']}.{info['procedure']}", info, "dict"
        )

    def _after(self, name: str, result: Any, meta: Mapping[str, Any]) -> None:
        if name == "artifact":
            self.artifacts.append(ArtifactRef(name=meta["name"], uri=result, size=meta["size"]))
        elif name == "sleep":
            self._sleep_until(meta["until"])

    def _sleep_until(self, until: float) -> None:
        # Interruptible: a stop must take effect within its 1 s guarantee.
        while (left := until - time.time()) > 0:
            self.check()
            time.sleep(min(left, 0.05))
