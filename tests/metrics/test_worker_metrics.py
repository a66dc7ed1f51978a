"""A real worker (a process on the local stack) runs executions; its /metrics, scraped before
and after, moved by exactly what they did: outcomes and error types, durations, queue waits,
Book calls and attempts, log records and budget drops, journal appends, dead letters, lag."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jarvis.contract.messages import CONTRACT_VERSION, ProgramSpec, StartCommand, dump
from jarvis.journal.journal import JOURNAL_FILE
from tests.fault.cluster import Cluster
from tests.helpers import wait_for
from tests.helpers.metrics import Samples, get, scrape, total

pytestmark = pytest.mark.integration

BOOKS = '["tests.fault.books:counter", "tests.metrics.books:flaky"]'
LOOP = "i = 0\nwhile i < 5:\n    i += 1\nprint('done')\nresult = i\n"

PROGRAMS: dict[str, tuple[str, list[str], dict[str, Any]]] = {
    # name: (source, books, limits)
    "completed": ("x = 1\nresult = x + 1\n", [], {}),
    "spy-error": ("x = 0\nresult = 1 / x\n", [], {}),
    "book-retry": ("result = flaky.once(41)\n", ["flaky"], {}),
    "book-error": ("result = flaky.broken(1)\n", ["flaky"], {}),
    "unlimited": (LOOP, [], {}),
    "budget": (LOOP, [], {"max_log_records": 4}),
    "unknown-book": ("result = 1\n", ["no_such_book"], {}),
}


def start(
    cluster: Cluster, eid: str, source: str, books: list[str], limits: dict[str, Any]
) -> None:
    command = StartCommand(
        execution_id=eid,
        program=ProgramSpec(source=source, filename=f"{eid}.spy"),
        books=books,
        options={"log_level": "full", "limits": limits},  # type: ignore[arg-type]
    )
    cluster.send_raw(eid, dump(command))()


def moved(after: Samples, before: Samples, name: str, **labels: str) -> float:
    return get(after, name, **labels) - get(before, name, **labels)


def test_counters_and_histograms_move_by_exactly_what_the_executions_did(
    cluster: Cluster,
) -> None:
    worker = cluster.start_worker(
        JARVIS_EXTRA_BOOKS=BOOKS, JARVIS_MAX_CONCURRENCY="2", JARVIS_METRICS_LAG_INTERVAL_S="0.2"
    )
    port = wait_for(worker.health_port, 30, "the worker's health port")

    # Warm first: the pool forks one sandbox per slot when the worker starts.
    def warm() -> Samples | None:
        now = scrape(port)
        return now if get(now, "jarvis_sandbox_starts_total") == 2 else None

    before = wait_for(warm, 60, "two warm sandboxes")
    partitions = cluster.end_offsets()
    assert get(before, "jarvis_partitions_assigned") == len(partitions)
    assert get(before, "jarvis_executions_capacity") == 2

    # Lag as the worker sees it: a running execution holds its offset uncommitted.
    uid = cluster.uid
    sleeper = f"m{uid}-sleeper"
    start(cluster, sleeper, "sleep(120)\nresult = 0\n", [], {})
    wait_for(
        lambda: any(e["event"] == "started" for e in cluster.events_of(sleeper)),
        60,
        "the sleeper to start",
    )

    def series(s: Samples) -> set[str]:
        return {dict(k)["partition"] for (n, k) in s if n == "jarvis_consumer_lag"}

    def lag_seen() -> Samples | None:
        # A series per owned partition (each once librdkafka knows its high watermark),
        # their sum the one running execution's uncommitted offset, as the broker says too.
        s = scrape(port)
        every = series(s) == {str(p) for p in partitions}
        return s if every and total(s, "jarvis_consumer_lag") == 1 and cluster.lag() == 1 else None

    lagging = wait_for(
        lag_seen, 30, "jarvis_consumer_lag to show the running execution", interval_s=0.05
    )
    cluster.stop(sleeper, "cancel")  # it holds the lag until stopped, however slow this test
    assert cluster.terminal(sleeper)["event"] == "stopped"

    eids = {name: f"m{uid}-{name}" for name in PROGRAMS}
    for name, (source, books, limits) in PROGRAMS.items():
        start(cluster, eids[name], source, books, limits)
    cluster.send_raw(b"junk", b"{not json")()
    terminals = {name: cluster.terminal(eid) for name, eid in eids.items()}
    wait_for(lambda: cluster.dlq.pump() or cluster.dlq.messages, 60, "the dead letter")

    def settled() -> Samples | None:
        now = scrape(port)
        idle = get(now, "jarvis_executions_in_flight") == 0
        # The stopped sleeper's sandbox is retired (stopped in a host wait) and replaced.
        warm = (
            get(now, "jarvis_sandbox_starts_total")
            == get(before, "jarvis_sandbox_starts_total") + 1
        )
        return now if idle and warm and total(now, "jarvis_consumer_lag") == 0 else None

    after = wait_for(settled, 30, "lag back to 0, nothing in flight")

    outcome = {name: t["event"] for name, t in terminals.items()}
    assert outcome == {
        "completed": "completed",
        "spy-error": "failed",
        "book-retry": "completed",
        "book-error": "failed",
        "unlimited": "completed",
        "budget": "completed",
        "unknown-book": "rejected",
    }
    assert terminals["spy-error"]["error"]["type"] == "ZeroDivisionError"
    assert terminals["book-error"]["error"]["type"] == "BookError"
    assert terminals["book-retry"]["result"] == 42
    rejected_type = terminals["unknown-book"]["error"]["type"]

    def m(name: str, **labels: str) -> float:
        return moved(after, before, name, **labels)

    # Executions by outcome and error type (and the sleeper, stopped).
    assert m("jarvis_executions_total", outcome="completed", error_type="") == 4
    assert m("jarvis_executions_total", outcome="stopped", error_type="") == 1
    assert m("jarvis_executions_total", outcome="failed", error_type="ZeroDivisionError") == 1
    assert m("jarvis_executions_total", outcome="failed", error_type="BookError") == 1
    assert m("jarvis_executions_total", outcome="rejected", error_type=rejected_type) == 1
    assert total(after, "jarvis_executions_total") - total(before, "jarvis_executions_total") == 8
    assert m("jarvis_execution_duration_seconds_count", outcome="completed") == 4
    assert m("jarvis_execution_duration_seconds_count", outcome="stopped") == 1
    assert m("jarvis_execution_duration_seconds_count", outcome="failed") == 2
    assert m("jarvis_execution_duration_seconds_count", outcome="rejected") == 1
    assert m("jarvis_executions_accepted_total") == 7  # admitted: all but the rejected one
    assert m("jarvis_execution_queue_wait_duration_seconds_count") == 7

    # Book calls (each call) and attempts (each attempt), by outcome and error type.
    assert (
        m("jarvis_book_call_duration_seconds_count", book="flaky", procedure="once", error_type="")
        == 1
    )
    assert (
        m(
            "jarvis_book_call_duration_seconds_count",
            book="flaky",
            procedure="broken",
            error_type="BookError",
        )
        == 1
    )
    assert (
        m(
            "jarvis_book_attempt_duration_seconds_count",
            book="flaky",
            procedure="once",
            outcome="retry",
            error_type="Unavailable",
        )
        == 1
    )
    assert (
        m(
            "jarvis_book_attempt_duration_seconds_count",
            book="flaky",
            procedure="once",
            outcome="ok",
            error_type="",
        )
        == 1
    )
    assert (
        m(
            "jarvis_book_attempt_duration_seconds_count",
            book="flaky",
            procedure="broken",
            outcome="error",
            error_type="NotFound",
        )
        == 1
    )
    attempts = total(after, "jarvis_book_attempt_duration_seconds_count") - total(
        before, "jarvis_book_attempt_duration_seconds_count"
    )
    assert attempts == 3

    # Log records: every one the executions produced is on spy_logs; the budget drops.
    produced = sum(t.get("log_records") or 0 for t in terminals.values()) + (
        cluster.terminal(sleeper).get("log_records") or 0
    )
    on_topic = sum(len(cluster.logs_of(e)) for e in [*eids.values(), sleeper])
    assert produced == on_topic > 0
    assert m("jarvis_log_records_total") == produced
    unlimited, budget = terminals["unlimited"]["log_records"], terminals["budget"]["log_records"]
    assert budget == 4 + 2  # the budget, its notice, the print (an effect: always kept)
    assert m("jarvis_log_records_dropped_total", reason="budget") == unlimited - (budget - 1)

    # Journal: one append per record on disk.
    lines = sum(
        len((Path(cluster.checkpoint_dir) / e / JOURNAL_FILE).read_bytes().splitlines())
        for e in [*eids.values(), sleeper]
        if (Path(cluster.checkpoint_dir) / e / JOURNAL_FILE).exists()
    )
    assert lines > 0
    assert m("jarvis_journal_append_duration_seconds_count") == lines
    # Syncs are shared (group commit): how many depends on timing, but they happened, and
    # never more syncfs rounds than callers.
    callers = m("jarvis_journal_fsync_duration_seconds_count", operation="group_commit") + m(
        "jarvis_journal_fsync_duration_seconds_count", operation="barrier"
    )
    rounds = m("jarvis_journal_fsync_duration_seconds_count", operation="syncfs")
    assert m("jarvis_journal_fsync_duration_seconds_count", operation="barrier") >= 1
    assert 1 <= rounds <= callers

    # Nothing crashed or resumed. The one sandbox retired is the stopped sleeper's: a stop
    # that ends a host wait (its sleep) ends the attempt as "host", and it is replaced.
    recycled = {
        dict(k)["reason"]: v - get(before, n, **dict(k))
        for (n, k), v in after.items()
        if n == "jarvis_sandbox_recycles_total"
    }
    assert {r: v for r, v in recycled.items() if v} == {"host": 1}
    assert m("jarvis_sandbox_starts_total") == 1
    assert m("jarvis_sandbox_crashes_total") == 0
    assert m("jarvis_executions_resumed_total") == 0
    assert m("jarvis_replayed_effects_total") == 0
    assert m("jarvis_executions_taken_over_total") == 0
    assert m("jarvis_executions_handed_off_total") == 0
    assert m("jarvis_dead_letters_total", reason="invalid_json") == 1
    assert (
        total(after, "jarvis_dead_letters_total") - total(before, "jarvis_dead_letters_total") == 1
    )

    # Build info, and what the default registry brings.
    (info,) = [dict(k) for (n, k), v in after.items() if n == "jarvis_build_info" and v == 1]
    assert info["contract_version"] == str(CONTRACT_VERSION) and info["version"] and info["python"]
    assert get(after, "process_resident_memory_bytes") > 0
    assert any(n == "python_info" for n, _ in after)
    assert get(after, "jarvis_consumer_lag_updated_seconds") > get(
        lagging, "jarvis_consumer_lag_updated_seconds"
    )


def test_sandbox_crashes_recycles_and_replays_are_counted(cluster: Cluster) -> None:
    worker = cluster.start_worker(
        JARVIS_MAX_CONCURRENCY="1",
        JARVIS_MAX_SANDBOX_CRASHES="2",
        # The program runs into the OS memory cap: its sandbox dies (twice: K = 2).
        JARVIS_SANDBOX_MEMORY_CAP_BYTES=str(160 * 2**20),
    )
    port = wait_for(worker.health_port, 30, "the worker's health port")

    def warm() -> Samples | None:
        now = scrape(port)
        return now if get(now, "jarvis_sandbox_starts_total") == 1 else None

    before = wait_for(warm, 60, "a warm sandbox")
    eid = f"m{cluster.uid}-oom"
    # One effect before the crash: the second attempt replays it.
    source = "t = now()\nx = []\nwhile True:\n    x.append([len(x)] * 1000)\n"
    start(cluster, eid, source, [], {})
    ev = cluster.terminal(eid, timeout_s=120)
    assert ev["event"] == "failed" and ev["error"]["type"] == "SandboxCrashed", ev

    def replaced() -> Samples | None:  # each dead sandbox is replaced in the background
        now = scrape(port)
        return now if get(now, "jarvis_sandbox_starts_total") == 1 + 2 else None

    after = wait_for(replaced, 60, "both dead sandboxes replaced")

    def m(name: str, **labels: str) -> float:
        return moved(after, before, name, **labels)

    assert m("jarvis_sandbox_crashes_total") == 2
    assert m("jarvis_sandbox_recycles_total", reason="crashed") == 2
    assert (
        total(after, "jarvis_sandbox_recycles_total")
        - total(before, "jarvis_sandbox_recycles_total")
        == 2
    )
    assert m("jarvis_executions_total", outcome="failed", error_type="SandboxCrashed") == 1
    assert m("jarvis_replayed_effects_total") == 1
    # Retries after a crash are one run: "resumed" counts runs from a journal with a start.
    assert m("jarvis_executions_resumed_total") == 0
    assert m("jarvis_executions_accepted_total") == 1
