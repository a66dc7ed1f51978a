"""KEDA's view on a real broker: KEDA's own Kafka scaler (kedacheck, built against
github.com/kedacore/keda/v2) reads the local Kafka while real ``jarvis worker`` processes
consume from it, and the replica count it asks for tracks the work:

- rises with a backlog (40 queued starts, lagThreshold 4 -> 10 pods);
- stays up while executions run, whose offsets are uncommitted; executions that finished
  behind a still-running one on the same partition stay counted, because a partition's
  commit point moves only over finished offsets (jarvis/worker/offsets.py);
- falls to the activation level (0, or minReplicaCount) once everything has ended.

Programs hold until the test opens their gate (a ``kv`` key), so every point is reached by
a condition, not by time.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fault.cluster import Cluster, Sent
from tests.helpers import new_uid, wait_for
from tests.keda.kedacheck import scaler_view

pytestmark = pytest.mark.integration

LAG_THRESHOLD = 4  # = JARVIS_MAX_CONCURRENCY, as in keda/scaledobject.yaml
MAX_REPLICAS = 12  # spy_control's partitions
STARTS = 40
WORKERS = 2

GATED = """\
gate = inputs["gate"]
while kv.get(gate, default=0) == 0:
    sleep(0.1)
result = gate
"""


@pytest.fixture
def cluster(stack_env: dict[str, str], tmp_path: Path) -> Iterator[Cluster]:
    services = stack_env
    prefix = f"jarvis:keda-test:{new_uid()}:"
    c = Cluster(
        tmp_path,
        services,
        JARVIS_MAX_CONCURRENCY=LAG_THRESHOLD,
        JARVIS_BOOK_KV_REDIS_URL=services["JARVIS_REDIS_URL"],
        JARVIS_BOOK_KV_PREFIX=prefix,
    )
    c.kv_prefix = prefix  # type: ignore[attr-defined]
    try:
        yield c
    finally:
        for key in c.redis.scan_iter(match=f"{prefix}*"):
            c.redis.delete(key)
        c.close()


def metadata(cluster: Cluster, **overrides: str) -> dict[str, str]:
    """keda/scaledobject.yaml's trigger metadata, pointed at this test's topic and group."""
    s = cluster.settings
    md = {
        "bootstrapServers": s.kafka_bootstrap,
        "consumerGroup": s.group_id,
        "topic": s.control_topic,
        "lagThreshold": str(LAG_THRESHOLD),
        "activationLagThreshold": "0",
        "offsetResetPolicy": "earliest",
        "scaleToZeroOnInvalidOffset": "false",
    }
    md.update(overrides)
    return md


def view(
    cluster: Cluster, min_replicas: int = 0, current: int = 0, **overrides: str
) -> dict[str, Any]:
    """One KEDA poll. Right after the topics are created the broker may still answer "not
    the leader for some partition" (KEDA would simply poll again): retry those only."""

    def poll() -> dict[str, Any] | None:
        try:
            return scaler_view(metadata(cluster, **overrides), min_replicas, MAX_REPLICAS, current)
        except RuntimeError as exc:
            if "not the leader" not in str(exc) and "metadata is out of date" not in str(exc):
                raise
            return None

    return wait_for(poll, 30, "KEDA's scaler to read the topic", interval_s=0.5)


def open_gate(cluster: Cluster, eid: str) -> None:
    cluster.redis.set(f"{cluster.kv_prefix}{eid}", b"1")  # type: ignore[attr-defined]


def with_event(cluster: Cluster, eids: list[str], event: str) -> list[str]:
    cluster.events.pump()
    return [e for e in eids if any(v["event"] == event for v in cluster.events.by_eid.get(e, []))]


def desired_for(lag: int) -> int:
    return min(MAX_REPLICAS, max(1, math.ceil(lag / LAG_THRESHOLD)))


def test_replicas_track_backlog_running_and_done(cluster: Cluster) -> None:
    # Nothing sent, no group yet: inactive, zero pods.
    idle = view(cluster)
    assert (idle["lag"], idle["active"], idle["desiredReplicas"]) == (0, False, 0)

    # A backlog before any worker exists (the group has never committed).
    eids = [f"keda-{uuid.uuid4().hex[:10]}" for _ in range(STARTS)]
    pending = [cluster.start(e, GATED, inputs={"gate": e}, books=["kv"], wait=False) for e in eids]
    sent: dict[str, Sent] = {e: r() for e, r in zip(eids, pending, strict=True)}
    backlog = view(cluster)
    assert backlog["lag"] == STARTS
    assert backlog["active"] is True
    assert backlog["desiredReplicas"] == STARTS // LAG_THRESHOLD == 10
    assert backlog["targetAverageValue"] == str(LAG_THRESHOLD)

    # Workers take 4 each; everything is still queued or running, nothing committed.
    for _ in range(WORKERS):
        cluster.start_worker()
    running = wait_for(
        lambda: (
            len(started := with_event(cluster, eids, "started")) >= WORKERS * LAG_THRESHOLD
            and started
        ),
        120,
        "every worker slot to run a held execution",
    )
    busy = view(cluster, current=WORKERS)
    assert busy["lag"] == STARTS
    assert (busy["active"], busy["desiredReplicas"]) == (True, 10)

    # Keep 4 running executions held, each with a later start on its partition, and let
    # the other 36 finish.
    later = {
        e
        for e in running
        if any(
            s.partition == sent[e].partition and s.offset > sent[e].offset for s in sent.values()
        )
    }
    held = sorted(later, key=lambda e: sent[e].offset)[:4]
    assert len(held) == 4, f"running executions with a later start on their partition: {later}"
    for e in eids:
        if e not in held:
            open_gate(cluster, e)
    others = [e for e in eids if e not in held]
    wait_for(
        lambda: len(with_event(cluster, others, "completed")) == len(others),
        180,
        "the 36 released executions to complete",
    )
    assert with_event(cluster, held, "completed") == []

    # Each held execution pins its partition's commit point at its own offset: everything
    # after it on that partition counts, finished or not.
    ends = cluster.end_offsets()
    pinned = {}
    for e in held:
        p = sent[e].partition
        pinned[p] = min(pinned.get(p, sent[e].offset), sent[e].offset)
    expected = sum(ends[p] - offset for p, offset in pinned.items())
    assert expected > len(held)  # finished executions behind the held ones still count
    settled = wait_for(
        lambda: (v := view(cluster))["lag"] == expected and v,
        60,
        f"KEDA to read the lag pinned by the held executions ({expected})",
        interval_s=0.5,
    )
    assert cluster.lag() == expected  # librdkafka's own reading agrees with KEDA's
    assert settled["active"] is True
    assert settled["desiredReplicas"] == desired_for(expected) >= 1

    # With activationLagThreshold at or above that lag KEDA calls the trigger inactive and
    # would scale to zero under 4 running executions (keda/README.md: keep it 0).
    risky = view(cluster, activationLagThreshold=str(expected))
    assert (risky["active"], risky["desiredReplicas"]) == (False, 0)

    # All done: lag 0, inactive, down to the activation level.
    for e in held:
        open_gate(cluster, e)
    wait_for(
        lambda: len(with_event(cluster, eids, "completed")) == STARTS,
        120,
        "every execution to complete",
    )
    done = wait_for(
        lambda: (v := view(cluster))["lag"] == 0 and v,
        60,
        "the group to commit past every execution",
        interval_s=0.5,
    )
    assert (done["active"], done["desiredReplicas"]) == (False, 0)
    floor = view(cluster, min_replicas=1)
    assert (floor["active"], floor["desiredReplicas"]) == (False, 1)
