"""Take-over of a crashed pod's running executions, independent of Kafka's session timeout.

The workers run with a session timeout far longer than the test waits, so the consumer
group cannot hand the victim's partitions to the survivor in time: only the take-over of
lapsed leases (jarvis/worker/executions.py, ``Takeover``) can resume them. The survivor's
assignment must not change before every victim has resumed there; the journals and the
audit show nothing was lost or repeated.
"""

from __future__ import annotations

import re

import pytest

from tests.fault.books import expected_total
from tests.fault.cluster import Cluster, WorkerProc, audit
from tests.helpers import new_id, wait_for

pytestmark = pytest.mark.integration

SESSION_TIMEOUT_S = 90  # the group would notice the dead worker only after this


def _assignments(worker: WorkerProc) -> int:
    return len(re.findall(r"assigned \[", worker.log()))


def test_a_killed_workers_running_executions_resume_before_the_group_notices(
    cluster: Cluster,
) -> None:
    a, b = cluster.start_workers(2, JARVIS_SESSION_TIMEOUT_S=SESSION_TIMEOUT_S)
    wait_for(lambda: _assignments(a) + _assignments(b) >= 3, 60, "the group to settle")
    expected = {}
    for k in range(6):
        eid = new_id("takeover")
        expected[eid] = expected_total(k, 25)
        cluster.start(eid, inputs={"n": 25, "seed": k, "hold_s": 0.02, "sleep_s": 0.1})

    def on(worker_id: str) -> list[str]:
        return [e for e, w in cluster.lease_holders(expected).items() if w == worker_id]

    victim = wait_for(
        lambda: next((w for w in (a, b) if on(w.worker_id)), None),
        30,
        "a worker running executions",
    )
    survivor = b if victim is a else a
    wait_for(
        lambda: (
            len(on(victim.worker_id))
            == len([e for e in expected if e not in on(survivor.worker_id)])
        ),
        30,
        "every execution running",
    )
    victims = on(victim.worker_id)
    assigned_before = _assignments(survivor)
    victim.kill()
    # Taken over by the survivor: "resumed" from the journal; "started" when the victim died
    # between taking the lease and journaling the start; "completed" (re-announced) when it
    # died between journaling the end and publishing it. (Waiting for "resumed" alone timed
    # out once, on a loaded machine.)
    taken_over = ("resumed", "started", "completed")
    for eid in victims:  # hang detector well below the session timeout
        wait_for(
            lambda eid=eid: any(
                e["event"] in taken_over and e["worker"] == survivor.worker_id
                for e in cluster.events_of(eid)
            ),
            45,
            f"{eid} taken over by the survivor",
        )
    # The group had not moved any partition yet: this was the lease take-over, not a rebalance.
    assert _assignments(survivor) == assigned_before
    for eid in expected:
        wait_for(
            lambda eid=eid: any(e["event"] == "completed" for e in cluster.events_of(eid)),
            60,
            f"{eid} completed",
        )
    assert "taking over" in survivor.log()
    cluster.stop_workers()
    result = audit(cluster, expected)
    assert result.problems == []
    assert result.completed == len(expected) and result.journaled_repeated == 0
    assert result.missing_log_seqs == 0
