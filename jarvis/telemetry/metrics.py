"""The worker's Prometheus metrics, on prometheus-client's default registry.

Why prometheus-client and not OpenTelemetry's SDK with a Prometheus reader: the default
registry gives ``process_*``, ``python_gc_*`` and ``python_info`` for free, an update costs
1-3 microseconds here (measured: a counter or histogram child cached, a lock and an add), and
the worker already serves ``/metrics`` itself; the SDK would add its views, aggregation and a
reader for the same exposition. Names follow OpenTelemetry's semantic conventions as
exported to Prometheus (seconds, ``_total`` counters, ``error.type`` as ``error_type``),
with a ``jarvis_`` prefix where no convention exists (README "Metrics and dashboard").

Lower layers (books, journal, sandbox, execution) call the functions here directly: they
must not import ``jarvis.worker``, and a function call is cheaper than an observer seam
they would each need. This module imports nothing of Jarvis but its version, so any layer
may use it. In a process that never serves ``/metrics`` (``jarvis run``) the values are
kept and nobody reads them: the same microseconds, nothing else.

Label values that come from programs or messages are bounded (``bounded``): an error
type must look like an identifier and at most ``MAX_LABEL_VALUES`` distinct ones are kept
per label, then ``other``; a dead letter's free-text reason is reduced to a class.
"""

from __future__ import annotations

import platform
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import orjson
from prometheus_client import REGISTRY, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

import jarvis

CONTRACT_VERSION = "2"
"""The message contract version (``jarvis.contract.messages.CONTRACT_VERSION``; a test keeps
them equal: importing jarvis.contract from here would pull pydantic into every layer)."""

MAX_LABEL_VALUES = 200
"""Most distinct values one bounded label takes before the rest count as ``other``: Prometheus
keeps a series per label set, and a series per program-chosen string would grow without end."""

FAST_BUCKETS = (
    0.0001,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
)
"""Journal appends and fsyncs: tens of microseconds on local disks, milliseconds on EBS/EFS."""

CALL_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
"""Book calls and attempts: a local Book in milliseconds, a remote API up to its timeout."""

RUN_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600)
"""Executions and their queue wait: a trivial program takes milliseconds, a long one an hour."""

# ``*_created`` series (one per counter and histogram child) say when a process started,
# which process_start_time_seconds says once.
disable_created_metrics()  # type: ignore[no-untyped-call]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,63}\Z")
_seen: dict[str, set[str]] = {}
_seen_lock = threading.Lock()


def bounded(label: str, value: str | None) -> str:
    """``value`` as a label value of ``label``: "" for None, ``other`` past the bound or
    when it does not look like an identifier (a type name, a Book or procedure name)."""
    if not value:
        return ""
    known = _seen.get(label)
    if known is not None and value in known:
        return value
    if not _IDENT.match(value):
        return "other"
    with _seen_lock:
        known = _seen.setdefault(label, set())
        if value in known:
            return value
        if len(known) >= MAX_LABEL_VALUES:
            return "other"
        known.add(value)
        return value


# --- executions (the worker's hooks, jarvis.worker.health.Metrics) ---

EXECUTIONS = Counter(
    "jarvis_executions",
    "Executions that reached an outcome on this worker, by outcome (completed, failed, "
    "stopped, rejected) and error type (the SPy or Jarvis error class; empty without one).",
    ["outcome", "error_type"],
)
ACCEPTED = Counter("jarvis_executions_accepted", "Start commands accepted for running.")
HANDED_OFF = Counter(
    "jarvis_executions_handed_off",
    "Executions handed to another worker (partition moved, shutdown) to resume there.",
)
RESUMED = Counter(
    "jarvis_executions_resumed",
    "Executions run from a journal that already had their start (after a suspend, a "
    "hand-off, a take-over or a crash): their effects so far are replayed, not run again.",
)
TAKEN_OVER = Counter(
    "jarvis_executions_taken_over",
    "Executions this worker took over because their lease lapsed (their pod died or froze).",
)
REPLAYED_EFFECTS = Counter(
    "jarvis_replayed_effects",
    "Effects answered from the journal instead of run again (replays after a resume or a "
    "sandbox crash).",
)
DURATION = Histogram(
    "jarvis_execution_duration_seconds",
    "Wall time of executions on this worker, from its journal's opening to its outcome.",
    ["outcome"],
    buckets=RUN_BUCKETS,
)
QUEUE_WAIT = Histogram(
    "jarvis_execution_queue_wait_duration_seconds",
    "Time from a start's admission to its execution starting (its started/resumed event).",
    buckets=RUN_BUCKETS,
)
IN_FLIGHT = Gauge(
    "jarvis_executions_in_flight", "Executions this worker holds (queued or running)."
)
CAPACITY = Gauge(
    "jarvis_executions_capacity", "How many executions this worker runs at once (sandboxes)."
)
PARTITIONS = Gauge("jarvis_partitions_assigned", "spy_control partitions this worker owns.")
REBALANCES = Counter("jarvis_rebalances", "Partition assignments changed.")
DEAD_LETTERS = Counter(
    "jarvis_dead_letters",
    "Control messages forwarded to the dead-letter topic, by reason class "
    "(see jarvis.telemetry.metrics.dead_letter_reason).",
    ["reason"],
)

# --- Book calls (jarvis.books) ---

BOOK_CALLS = Histogram(
    "jarvis_book_call_duration_seconds",
    "Live Book calls (replays make none), all attempts and backoff included, by Book, "
    "procedure and error type (empty when it returned).",
    ["book", "procedure", "error_type"],
    buckets=CALL_BUCKETS,
)
BOOK_ATTEMPTS = Histogram(
    "jarvis_book_attempt_duration_seconds",
    "Each attempt of a Book call, by outcome (ok, retry, error) and error type.",
    ["book", "procedure", "outcome", "error_type"],
    buckets=CALL_BUCKETS,
)

# --- log records (jarvis.execution) ---

LOG_RECORDS = Counter(
    "jarvis_log_records", "Log records produced to spy_logs (replays produce theirs again)."
)
LOG_DROPPED = Counter(
    "jarvis_log_records_dropped",
    "Log records not produced, by reason (budget: past the execution's record budget, "
    "max_records, where only effects are logged).",
    ["reason"],
)

# --- journal (jarvis.journal) ---

JOURNAL_APPEND = Histogram(
    "jarvis_journal_append_duration_seconds",
    "Appending one record to a journal, its own sync included when it has one.",
    buckets=FAST_BUCKETS,
)
JOURNAL_SYNC = Histogram(
    "jarvis_journal_fsync_duration_seconds",
    "Making journals durable, by operation: fsync (one journal's file), group_commit (a "
    "caller's wait for its syncfs round), syncfs (one round), barrier (the consumer loop's "
    "before committing offsets).",
    ["operation"],
    buckets=FAST_BUCKETS,
)

# --- sandboxes (jarvis.sandbox) ---

SANDBOX_STARTS = Counter("jarvis_sandbox_starts", "Sandbox processes forked from the zygote.")
SANDBOX_CRASHES = Counter(
    "jarvis_sandbox_crashes",
    "Execution attempts whose sandbox died (killed, memory cap, wall deadline, protocol "
    "violation); the execution is retried by replay up to JARVIS_MAX_SANDBOX_CRASHES.",
)
SANDBOX_RECYCLES = Counter(
    "jarvis_sandbox_recycles",
    "Sandboxes retired and replaced, by reason (recycled: max_runs or memory growth; "
    "crashed, wall deadline, stop deadline, ...).",
    ["reason"],
)

BUILD_INFO = Gauge(
    "jarvis_build_info",
    "Always 1: this worker's version, message contract version and Python version.",
    ["version", "contract_version", "python"],
)
BUILD_INFO.labels(jarvis.__version__, CONTRACT_VERSION, platform.python_version()).set(1)


# --- the functions lower layers call ---


_children: dict[tuple[Any, ...], Any] = {}
MAX_CHILDREN = 10_000
"""Most cached label children (``labels()`` costs microseconds: a lock and a dict of tuples;
a cached child is one dict lookup). Raw label values may be unbounded: past this the cache
starts again."""


def _child(metric: Any, key: tuple[Any, ...], labels: Callable[[], tuple[str, ...]]) -> Any:
    child = _children.get(key)
    if child is None:
        if len(_children) >= MAX_CHILDREN:
            _children.clear()
        child = _children[key] = metric.labels(*labels())
    return child


def execution(outcome: str, error_type: str | None, duration_s: float) -> None:
    """An execution's outcome (the worker's hook, ``jarvis.worker.health.Metrics``)."""
    _child(
        EXECUTIONS,
        ("x", outcome, error_type),
        lambda: (outcome, bounded("error_type", error_type)),
    ).inc()
    _child(DURATION, ("d", outcome), lambda: (outcome,)).observe(duration_s)


def book_call(book: str, procedure: str, error_type: str | None, duration_s: float) -> None:
    _child(
        BOOK_CALLS,
        ("c", book, procedure, error_type),
        lambda: (
            bounded("book", book),
            bounded("procedure", procedure),
            bounded("error_type", error_type),
        ),
    ).observe(duration_s)


def book_attempt(
    book: str, procedure: str, outcome: str, error_type: str | None, duration_s: float
) -> None:
    _child(
        BOOK_ATTEMPTS,
        ("a", book, procedure, outcome, error_type),
        lambda: (
            bounded("book", book),
            bounded("procedure", procedure),
            outcome,
            bounded("error_type", error_type),
        ),
    ).observe(duration_s)


_append = JOURNAL_APPEND.observe


def journal_append(duration_s: float) -> None:
    _append(duration_s)


def journal_sync(operation: str, duration_s: float) -> None:
    _child(JOURNAL_SYNC, ("s", operation), lambda: (operation,)).observe(duration_s)


def attempt_ended(produced: int, dropped: int, replayed: int, crashed: bool) -> None:
    """One execution attempt's log records, budget drops and replayed effects."""
    if produced:
        LOG_RECORDS.inc(produced)
    if dropped:
        _DROPPED_BUDGET.inc(dropped)
    if replayed:
        REPLAYED_EFFECTS.inc(replayed)
    if crashed:
        SANDBOX_CRASHES.inc()


_DROPPED_BUDGET = LOG_DROPPED.labels("budget")


def resumed() -> None:
    RESUMED.inc()


def taken_over() -> None:
    TAKEN_OVER.inc()


def sandbox_started() -> None:
    SANDBOX_STARTS.inc()


def sandbox_retired(reason: str) -> None:
    SANDBOX_RECYCLES.labels(bounded("sandbox_reason", reason.replace(" ", "_"))).inc()


# --- dead-letter reasons ---

_REASONS: tuple[tuple[str, str], ...] = (
    ("message is not UTF-8", "not_utf8"),
    ("message is not valid JSON", "invalid_json"),
    ("empty message", "empty"),
    ("nested", "too_deep"),
    ("message must be a JSON object", "not_an_object"),
    ("duplicate key", "duplicate_key"),
    ("does not fit in 64 bits", "integer_too_large"),
    ("unsupported version", "unsupported_version"),
    ("version must be", "invalid_version"),
    ("unknown command", "unknown_command"),
    ("message has no key", "no_key"),
    ("message key", "key_mismatch"),
    ("bucket", "program_ref_forbidden"),
    ("the worker failed handling", "internal_error"),
)


def dead_letter_reason(reason: str) -> str:
    """The class of a dead letter's reason (its text names the field and the value; a label
    must not): the first matching phrase of ``_REASONS``, else ``invalid_command`` (a field
    that failed validation)."""
    head = reason[:200]
    for phrase, name in _REASONS:
        if phrase in head:
            return name
    return "invalid_command"


# --- consumer lag (from librdkafka's statistics) ---


class ConsumerLag(Collector):
    """Per-partition lag of the worker's consumer, as librdkafka last reported it.

    ``update`` runs from the consumer's ``stats_cb`` (on the loop's thread, inside
    ``poll``, every ``statistics.interval.ms``); a scrape only reads the last snapshot, so it
    never waits on the broker. Lag is the partition's high watermark (its last stable offset
    under ``read_committed``) minus the committed offset: librdkafka's ``consumer_lag``;
    before anything is committed, minus the low watermark (the group starts at the earliest
    offset).
    """

    def __init__(self) -> None:
        self.lag: dict[tuple[str, int], int] = {}
        self.updated = 0.0

    def update(self, stats_json: str | bytes) -> None:
        stats = orjson.loads(stats_json)
        lag: dict[tuple[str, int], int] = {}
        for topic, tstats in (stats.get("topics") or {}).items():
            for part, p in (tstats.get("partitions") or {}).items():
                if part == "-1" or not p.get("desired"):
                    continue  # the unassigned-messages pseudo partition; not ours
                hi = p.get("hi_offset", -1)
                if hi < 0:
                    continue
                value = p.get("consumer_lag", -1)
                if value < 0:
                    # librdkafka's own figure needs a committed offset; its end is the last
                    # stable offset under read_committed (the default), else the high mark.
                    end = p.get("ls_offset", -1)
                    end = hi if end < 0 else end
                    committed = p.get("committed_offset", -1)
                    low = p.get("lo_offset", -1)
                    value = end - committed if committed >= 0 else end - max(low, 0)
                lag[(topic, int(part))] = max(0, value)
        self.lag = lag
        self.updated = time.time()

    def forget(self, partitions: Iterable[tuple[str, int]]) -> None:
        """Partitions this worker no longer owns (revoked): their lag is another's now."""
        gone = set(partitions)
        self.lag = {tp: v for tp, v in self.lag.items() if tp not in gone}

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "jarvis_consumer_lag",
            "Messages of each owned spy_control partition not yet committed by this worker "
            "(high watermark minus committed offset), from librdkafka's statistics.",
            labels=["topic", "partition"],
        )
        for (topic, partition), value in sorted(self.lag.items()):
            family.add_metric([topic, str(partition)], value)
        yield family
        yield GaugeMetricFamily(
            "jarvis_consumer_lag_updated_seconds",
            "When the lag was last reported (Unix time; 0: never).",
            value=self.updated,
        )


LAG = ConsumerLag()
REGISTRY.register(LAG)


def sample(name: str, labels: dict[str, str] | None = None) -> float:
    """The current value of one sample of the default registry (0 when absent): for tests
    and ``jarvis doctor``-style tools, not the hot path."""
    value = REGISTRY.get_sample_value(name, labels or {})
    return 0.0 if value is None else value


def names() -> Iterator[str]:
    """Every metric family name the default registry exports (as scraped)."""
    for metric in REGISTRY.collect():
        yield metric.name
