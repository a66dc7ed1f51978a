"""Stops: prompt on a worker at capacity, before the start, twice, and suspend + resume.

The worker runs with ``JARVIS_MAX_CONCURRENCY=1``: while one execution runs its partitions
are paused, so a stop behind it is only seen by the stop scanner reading ahead. Latencies
are printed (the guarantee is 1 s: a timing, for a benchmark, not a pass/fail check); the
assertions are on outcomes: the stop's mode, and how far the program got (it stopped long
before its end, which the main loop would only have reached after the program finished).
"""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.fault.books import expected_total
from tests.fault.cluster import Cluster, Sent, audit
from tests.helpers import new_id, wait_for

pytestmark = pytest.mark.integration

LONG = {"n": 300, "seed": 5, "hold_s": 0.02, "sleep_s": 0.1}  # ~40 s if nobody stops it


def _ts(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _wait_started(cluster: Cluster, eid: str) -> None:
    wait_for(
        lambda: any(e["event"] in ("started", "resumed") for e in cluster.events_of(eid)),
        30,
        f"{eid} started",
    )
    wait_for(
        lambda: sum(c["eid"] == eid for c in cluster.calls()) >= 2, 30, f"{eid} calling its Book"
    )


def _stop_latency(cluster: Cluster, eid: str, sent: Sent) -> tuple[dict, float]:
    done = cluster.terminal(eid, 30)
    return done, _ts(done["at"]) - sent.at


def _processed(cluster: Cluster, sent: Sent) -> None:
    """Until the worker group committed past ``sent`` (commits only move over handled messages)."""
    wait_for(
        lambda: cluster.committed(sent.partition) > sent.offset, 30, f"offset {sent.offset} handled"
    )


def test_cancel_and_suspend_take_effect_on_a_paused_worker(cluster: Cluster) -> None:
    # One sandbox, one execution thread, a ready queue of one: the queued start fills the
    # queue, so the partitions pause and the stops come through the stop scanner.
    cluster.start_worker(
        JARVIS_MAX_CONCURRENCY=1, JARVIS_EXECUTION_THREADS=1, JARVIS_READY_QUEUE_SIZE=1
    )
    # cancel
    a, queued = new_id("cancel-me"), new_id("queued")
    cluster.start(a, inputs=LONG)
    _wait_started(cluster, a)
    cluster.start(queued, inputs={"n": 2, "seed": 1})
    sent = cluster.stop(a, "cancel")
    done, latency = _stop_latency(cluster, a, sent)
    print(f"\ncancel on a paused worker took effect after {latency:.3f} s")
    assert done["event"] == "stopped" and done["stop_mode"] == "cancel"
    # Stopped mid-run: far fewer Book calls than the program makes when nobody stops it.
    assert 2 <= sum(x["eid"] == a for x in cluster.calls()) < LONG["n"] // 2
    assert cluster.terminal(queued)["event"] == "completed"  # the slot freed up
    # The worker was at capacity: the queued start (accepted into the ready queue on arrival)
    # only started once the cancel freed the sandbox.
    started = next(e for e in cluster.events_of(queued) if e["event"] == "started")
    assert _ts(started["at"]) >= _ts(done["at"])

    # suspend, then start again: resumes from the journal
    c, queued2 = new_id("suspend-me"), new_id("queued")
    cluster.start(c, inputs=LONG | {"n": 25})
    _wait_started(cluster, c)
    cluster.start(queued2, inputs={"n": 2, "seed": 2})
    sent = cluster.stop(c, "suspend")
    done, latency = _stop_latency(cluster, c, sent)
    print(f"suspend on a paused worker took effect after {latency:.3f} s")
    assert done["event"] == "stopped" and done["stop_mode"] == "suspend"
    assert cluster.terminal(queued2)["event"] == "completed"
    started = next(e for e in cluster.events_of(queued2) if e["event"] == "started")
    assert _ts(started["at"]) >= _ts(done["at"])
    calls_before = sum(x["eid"] == c for x in cluster.calls())
    cluster.start(c, inputs=LONG | {"n": 25})
    wait_for(
        lambda: any(e["event"] == "completed" for e in cluster.events_of(c)),
        60,
        "resumed run to complete",
    )
    kinds = [e["event"] for e in cluster.events_of(c)]
    assert kinds == ["accepted", "started", "stopped", "accepted", "resumed", "completed"], kinds
    cluster.stop_workers()
    a_ = audit(
        cluster,
        {c: expected_total(5, 25), queued: expected_total(1, 2), queued2: expected_total(2, 2)},
    )
    assert a_.journaled_repeated == 0 and a_.key_mismatch == 0 and a_.unjournaled_calls == 0
    assert a_.missing_log_seqs == 0 and a_.corrupt_journals == 0
    # 25 calls in all: the resumed run made only the ones missing (+ at most the one in flight).
    calls = [x for x in cluster.calls() if x["eid"] == c]
    assert len({x["key"] for x in calls}) == 25 and len(calls) <= 26
    assert 0 < calls_before < 25


def test_stop_before_start_prevents_it(cluster: Cluster) -> None:
    cluster.start_worker(JARVIS_MAX_CONCURRENCY=1)
    cancelled, suspended = new_id("pre-cancel"), new_id("pre-suspend")
    cluster.stop(cancelled, "cancel")
    cluster.stop(suspended, "suspend")
    cluster.start(cancelled, inputs={"n": 3, "seed": 1})
    cluster.start(suspended, inputs={"n": 3, "seed": 2})
    done = cluster.terminal(cancelled)
    assert (done["event"], done["stop_mode"]) == ("stopped", "cancel")
    done = cluster.terminal(suspended)
    assert (done["event"], done["stop_mode"]) == ("stopped", "suspend")
    # A cancel is final: a later start re-announces it. A suspend prevented only that start.
    cluster.start(cancelled, inputs={"n": 3, "seed": 1})
    cluster.start(suspended, inputs={"n": 3, "seed": 2})
    wait_for(lambda: len(cluster.terminals_of(cancelled)) == 2, 30, "cancel re-announced")
    assert [t["event"] for t in cluster.terminals_of(cancelled)] == ["stopped", "stopped"]
    wait_for(
        lambda: any(e["event"] == "completed" for e in cluster.events_of(suspended)),
        30,
        "second start runs",
    )
    assert cluster.terminals_of(suspended)[-1]["result"] == expected_total(2, 3)
    assert cluster.logs_of(cancelled) == []
    assert [x for x in cluster.calls() if x["eid"] == cancelled] == []


def test_stopping_twice_gives_one_terminal_event(cluster: Cluster) -> None:
    cluster.start_worker(JARVIS_MAX_CONCURRENCY=1)
    for mode in ("cancel", "suspend"):
        eid = new_id(f"twice-{mode}")
        cluster.start(eid, inputs=LONG)
        _wait_started(cluster, eid)
        cluster.stop(eid, mode)
        second = cluster.stop(eid, mode)
        cluster.terminal(eid, 30)
        _processed(cluster, second)  # both stops handled by the main loop too
        terminals = cluster.terminals_of(eid)
        assert [(t["event"], t["stop_mode"]) for t in terminals] == [("stopped", mode)], terminals
