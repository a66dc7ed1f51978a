"""Scale-in: SIGTERM a worker with running executions; another worker finishes them."""

from __future__ import annotations

import signal
import time
from collections import Counter

import pytest

from tests.fault.books import expected_total
from tests.fault.cluster import Cluster, audit
from tests.helpers import new_id, wait_for

pytestmark = pytest.mark.integration

GRACE_S = 8.0


def test_sigterm_hands_running_executions_to_another_worker(cluster: Cluster) -> None:
    workers = [cluster.start_worker(JARVIS_DRAIN_GRACE_S=GRACE_S) for _ in range(2)]
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
        30, "a worker running 3 executions",
    )
    victim_id = max(by_worker, key=lambda w: len(by_worker[w]))
    victim = next(w for w in workers if w.worker_id == victim_id)
    other = next(w for w in workers if w is not victim)
    on_victim = by_worker[victim_id]
    # Still running (no terminal event yet) on the victim at the moment of SIGTERM.
    assert len(on_victim) >= 3
    t0 = time.monotonic()
    victim.signal(signal.SIGTERM)
    code = victim.wait_exit(GRACE_S + 20)
    exit_s = time.monotonic() - t0
    print(f"\nSIGTERMed worker exited with {code} after {exit_s:.2f} s (grace {GRACE_S} s); "
          f"{len(on_victim)} executions handed off")
    assert code == 0
    assert exit_s < GRACE_S, f"worker took {exit_s:.1f} s to leave, more than its {GRACE_S} s grace"
    assert other.alive()

    for eid in expected:
        cluster.terminal(eid, 60)
    for eid in on_victim:
        events = cluster.events_of(eid)
        kinds = [(e["event"], e["worker"]) for e in events]
        assert ("resumed", other.worker_id) in kinds, kinds
        assert ("completed", other.worker_id) in kinds, kinds
        assert not any(e["event"] == "completed" and e["worker"] == victim_id for e in events), kinds
    log = victim.log()
    assert sum(f"execution {eid} handed off" in log for eid in on_victim) == len(on_victim)
    assert "left the group" in log

    cluster.stop_workers()  # quiesce before reading journals
    a = audit(cluster, expected)
    assert a.problems == []
    assert a.completed == len(expected)
    assert a.conflicting_outcomes == 0  # re-announcements (at least once) repeat the same outcome
    assert a.journaled_repeated == 0 and a.missing_log_seqs == 0 and a.corrupt_journals == 0
    repeated = Counter(c["key"] for c in cluster.calls())
    print(f"calls repeated after the hand-off (in flight at SIGTERM): {sum(v - 1 for v in repeated.values())}")
