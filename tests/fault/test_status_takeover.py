"""The live status view across a take-over: a SIGKILLed worker's execution, resumed by another,
ends with the survivor's final state under a newer attempt (jarvis/worker/status.py)."""

from __future__ import annotations

import pytest

from jarvis.worker.status import RedisStore
from tests.fault.books import expected_total
from tests.fault.cluster import Cluster
from tests.helpers import new_id, wait_for

pytestmark = pytest.mark.integration


def test_a_taken_over_execution_ends_with_the_new_owners_state_and_a_newer_attempt(
    cluster: Cluster,
) -> None:
    store = RedisStore(cluster.redis, cluster.settings.group_id, cluster.settings.status_ttl_s)
    victim = cluster.start_worker("victim")
    eid = new_id("status-takeover")
    cluster.start(eid, inputs={"n": 30, "seed": 3, "sleep_s": 0.1})
    running = wait_for(
        lambda: (s := store.get(eid)) and s["state"] == "started" and s.get("seq", -1) >= 5 and s,
        60,
        "the victim's live status",
    )
    assert running["worker"] == victim.worker_id and running["attempt"] >= 1
    victim.kill()
    survivor = cluster.start_worker("survivor")
    done = wait_for(
        lambda: (s := store.get(eid)) and s["state"] == "completed" and s, 90, "completed status"
    )
    assert done["worker"] == survivor.worker_id
    assert done["attempt"] > running["attempt"]
    assert done["result"] == expected_total(3, 30)
    assert done["seq"] == done["log_records"] - 1
    assert done["started_at"] == running["started_at"]  # the first start, not the resumption
