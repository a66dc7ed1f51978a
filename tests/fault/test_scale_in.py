"""Scale-in: SIGTERM a worker with running executions; another worker finishes them."""

from __future__ import annotations

import signal
from collections import Counter

import pytest

from tests.fault.books import expected_total
from tests.fault.cluster import Cluster, audit
from tests.helpers import new_id, wait_for

pytestmark = pytest.mark.integration

# The drain grace: long, so that a loaded machine never reaches it. Nothing here is timed:
# the worker says whether every execution let go before it ("still running after hand-off
# deadline" otherwise), and the executions' events say where each one finished.
GRACE_S = 60.0


def test_sigterm_hands_running_executions_to_another_worker(cluster: Cluster) -> None:
    workers = cluster.start_workers(2, JARVIS_DRAIN_GRACE_S=GRACE_S)
    expected = {}
    for _ in range(8):
        eid = new_id("scalein")
        # 15 calls with sleep(0.2) between: ~4 s of work, long enough to be caught mid-run.
        inputs = {"n": 15, "seed": len(expected), "hold_s": 0.02, "sleep_s": 0.2}
        expected[eid] = expected_total(len(expected), 15)
        cluster.start(eid, inputs=inputs)

    def running_by_worker() -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for eid in expected:
            events = cluster.events_of(eid)
            started = [e for e in events if e["event"] in ("started", "resumed")]
            if started and not cluster.terminals_of(eid):
                out.setdefault(started[-1]["worker"], []).append(eid)
        return out

    by_worker = wait_for(
        lambda: (r := running_by_worker()) and max(len(v) for v in r.values()) >= 3 and r,
        30,
        "a worker running 3 executions",
    )
    victim_id = max(by_worker, key=lambda w: len(by_worker[w]))
    victim = next(w for w in workers if w.worker_id == victim_id)
    other = next(w for w in workers if w is not victim)
    on_victim = by_worker[victim_id]
    # Still running (no terminal event yet) on the victim at the moment of SIGTERM.
    assert len(on_victim) >= 3
    victim.signal(signal.SIGTERM)
    code = victim.wait_exit(GRACE_S + 30)  # a hang guard, not a measured duration
    assert code == 0
    assert other.alive()

    for eid in expected:
        cluster.terminal(eid, 60)
    for eid in on_victim:
        events = cluster.events_of(eid)
        kinds = [(e["event"], e["worker"]) for e in events]
        assert ("resumed", other.worker_id) in kinds, kinds
        assert ("completed", other.worker_id) in kinds, kinds
        assert not any(e["event"] == "completed" and e["worker"] == victim_id for e in events), (
            kinds
        )
    log = victim.log()
    assert sum(f"execution {eid} handed off" in log for eid in on_victim) == len(on_victim)
    # Handed off, not waited out: every execution let go before the drain deadline.
    assert "still running after hand-off deadline" not in log
    assert "left the group" in log

    cluster.stop_workers()  # quiesce before reading journals
    a = audit(cluster, expected)
    assert a.problems == []
    assert a.completed == len(expected)
    assert a.conflicting_outcomes == 0  # re-announcements (at least once) repeat the same outcome
    assert a.journaled_repeated == 0 and a.missing_log_seqs == 0 and a.corrupt_journals == 0
    repeated = Counter(c["key"] for c in cluster.calls())
    print(
        f"calls repeated after the hand-off (in flight at SIGTERM): {sum(v - 1 for v in repeated.values())}"
    )
