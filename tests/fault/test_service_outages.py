"""Kafka, Redis and the S3 server go away mid-run; workers recover by themselves.

These restart the services of the stack they run on: marked ``disruptive``. scripts/test
runs them on a stack of their own (other ports, another JARVIS_STACK_DIR), beside the rest
of the suite; run by hand on the shared stack, nothing else may use it meanwhile.

Behaviour under each outage, as these tests pin it down:
- Kafka restart: consumers and the producer reconnect; log records and events wait in
  the producer's queue and go out afterwards; commits fail and are retried; the workers
  never exit; every execution completes and the group's lag drains to 0.
- Redis outage: lease renewals and stop-flag reads fail (logged, retried); an execution
  whose lease may have expired stops writing (its fence) and is resumed by its worker once
  Redis is back; start commands that arrive during the outage wait, and run afterwards.
  Book calls that need Redis are retried by their policy.
- S3 outage: an artifact upload waits it out, retrying with backoff and logging
  ``storage_wait`` records, up to ``JARVIS_ARTIFACT_DEADLINE_S``; then the execution goes
  on. (moto keeps objects in memory: a restart loses earlier objects and the bucket, which
  ``scripts/stack up`` re-creates.)
"""

from __future__ import annotations

import os
import time
import urllib.request
from urllib.parse import urlsplit

import boto3
import pytest

from tests.fault.books import expected_total
from tests.fault.cluster import Cluster, audit
from tests.fault.stack import port_open, stack, stop_service
from tests.helpers import new_id, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.disruptive]


def _port(url: str) -> int:
    """The port of ``host:port`` or of a URL."""
    port = urlsplit(url if "//" in url else f"//{url}").port
    assert port is not None, url
    return port


# The stack under test: the one the environment names (scripts/stack env), not the defaults.
KAFKA_PORT = _port(os.environ.get("JARVIS_KAFKA_BOOTSTRAP", "127.0.0.1:19092"))
REDIS_PORT = _port(os.environ.get("JARVIS_REDIS_URL", "redis://127.0.0.1:16379/0"))
S3_PORT = _port(os.environ.get("JARVIS_S3_ENDPOINT_URL", "http://127.0.0.1:19000"))


def _submit(cluster: Cluster, n: int, calls: int, sleep_s: float, prefix: str) -> dict[str, int]:
    expected = {}
    for k in range(n):
        eid = new_id(prefix)
        expected[eid] = expected_total(k, calls)
        cluster.start(eid, inputs={"n": calls, "seed": k, "hold_s": 0.02, "sleep_s": sleep_s})
    return expected


def _started(cluster: Cluster, eids: list[str]) -> bool:
    return all(
        any(e["event"] in ("started", "resumed") for e in cluster.events_of(eid)) for eid in eids
    )


def _readyz(port: int | None) -> tuple[int, str]:
    assert port is not None
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def _check(cluster: Cluster, expected: dict[str, int], pids: list[int]) -> None:
    for eid in expected:
        cluster.terminal(eid, 120)
    # The workers recovered by themselves: same processes, and the lag drained to 0.
    assert [w.pid for w in cluster.live_workers()] == pids
    wait_for(lambda: cluster.lag() == 0, 60, "the worker group's lag to drain to 0")
    cluster.stop_workers()
    a = audit(cluster, expected)
    assert a.problems == [], a.problems
    assert a.completed == len(expected)
    assert a.journaled_repeated == 0 and a.missing_log_seqs == 0 and a.corrupt_journals == 0


def test_kafka_restart_mid_run(cluster: Cluster) -> None:
    workers = cluster.start_workers(2)
    pids = [w.pid for w in workers]
    # ~6 s each (20 calls, sleep 0.3): all still running when the broker goes down.
    expected = _submit(cluster, 6, 20, 0.3, "kafka")
    wait_for(lambda: _started(cluster, list(expected)), 30, "all executions started")
    t0 = time.monotonic()
    stop_service("kafka", KAFKA_PORT)  # a graceful broker shutdown, as in a rolling restart
    stack("restart-kafka")
    print(f"\nKafka was down {time.monotonic() - t0:.1f} s")
    expected |= _submit(cluster, 2, 3, 0.0, "after-kafka")  # new work flows too
    _check(cluster, expected, pids)


def test_redis_outage_mid_run(cluster: Cluster) -> None:
    workers = cluster.start_workers(2)
    pids = [w.pid for w in workers]
    expected = _submit(cluster, 4, 12, 0.3, "redis")
    wait_for(lambda: _started(cluster, list(expected)), 30, "all executions started")
    stop_service("redis", REDIS_PORT)
    down_at = time.monotonic()
    try:
        # Starts published during the outage must not be lost.
        later = _submit(cluster, 2, 3, 0.0, "during-redis")
        # The workers notice (readiness names Redis)...
        for w in workers:
            wait_for(
                lambda w=w: "redis: failing: " in _readyz(w.health_port())[1],
                20,
                f"{w.worker_id} not ready",
            )
        # ...and the outage outlasts the 3 s lease TTL, so every running lease lapses.
        wait_for(lambda: time.monotonic() - down_at > 5.0, 10, "outage longer than the lease TTL")
    finally:
        took = stack("restart-redis")
    print(f"\nRedis was down {time.monotonic() - down_at:.1f} s (restart took {took:.1f} s)")
    for w in workers:
        wait_for(lambda w=w: _readyz(w.health_port())[0] == 200, 30, f"{w.worker_id} ready again")
    _check(cluster, expected | later, pids)


def test_s3_outage_mid_run(cluster: Cluster) -> None:
    program = (
        "n = inputs['n']\nx = inputs['seed']\ni = 0\n"
        "while i < n:\n"
        "    x = counter.bump(i, x)\n"
        "    sleep(0.2)\n"
        "    artifact(f'part-{i}.txt', str(x))\n"
        "    i += 1\n"
        "result = x\n"
    )
    workers = cluster.start_workers(2, JARVIS_ARTIFACT_DEADLINE_S=120)
    pids = [w.pid for w in workers]
    expected = {}
    for k in range(3):
        eid = new_id("s3")
        expected[eid] = expected_total(k, 15)
        cluster.start(eid, source=program, inputs={"n": 15, "seed": k})
    wait_for(lambda: _started(cluster, list(expected)), 30, "all executions started")
    stop_service("s3", S3_PORT)
    down_at = time.monotonic()
    try:
        # Every execution reaches an upload and waits, saying so in its log.
        wait_for(
            lambda: all(
                any(r["kind"] == "storage_wait" for r in cluster.logs_of(e)) for e in expected
            ),
            60,
            "storage_wait records from every execution",
        )
        assert not any(cluster.terminals_of(e) for e in expected)
    finally:
        took = stack("up")  # restarts the S3 server and re-creates the bucket
    print(f"\nS3 was down {time.monotonic() - down_at:.1f} s (restart took {took:.1f} s)")
    assert port_open(S3_PORT)
    waits = [r for e in expected for r in cluster.logs_of(e) if r["kind"] == "storage_wait"]
    assert all("error" in r["value"] and r["value"]["retry_in_s"] > 0 for r in waits)
    _check(cluster, expected, pids)
    s3 = boto3.client("s3", endpoint_url=cluster.settings.s3_endpoint_url)
    for eid, result in expected.items():
        done = cluster.terminals_of(eid)[0]
        names = [a["name"] for a in done["artifacts"]]
        assert names == [f"part-{i}.txt" for i in range(15)]
        last = done["artifacts"][-1]  # uploaded after the outage: still in the (restarted) store
        bucket, _, key = last["uri"].removeprefix("s3://").partition("/")
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == str(result).encode()
