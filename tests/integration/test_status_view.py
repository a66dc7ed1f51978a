"""The live status view on the real stack: a worker's executions in Redis (jarvis/worker/
status.py), the Redis script's ordering, and `jarvis status`, `ls`, `artifacts` as processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
import redis

from jarvis.client import JarvisClient
from jarvis.settings import Settings
from jarvis.worker.status import RedisStore, Update, index_key, status_key
from tests.helpers import ROOT, new_id, new_uid, wait_for
from tests.helpers.harness import Harness
from tests.helpers.kafka import create_topics
from tests.helpers.stack import delete_topics, fresh_settings

pytestmark = pytest.mark.integration

JARVIS = [sys.executable, "-m", "jarvis.cli"]
CLI_BOUND_S = 60  # a hang detector for each CLI process, never a measured duration
TTL_S = 3600.0

HELLO = (ROOT / "examples" / "hello.spy").read_text()
FAILING = (ROOT / "examples" / "failing.spy").read_text()
REJECTED = (ROOT / "examples" / "rejected.spy").read_text()
BODY = b"Hello, Ada!\nnumbers=[0, 1, 3]\ntotal=4\n"  # hello.spy's report.txt for these inputs
STATE_OF = {"rejected_book": "rejected"}
SLEEPER = 'print("going to sleep")\nsleep(60)\nresult = 1\n'


@pytest.fixture(scope="module")
def settings(
    stack_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    uid = new_uid()
    s = fresh_settings(
        stack_env,
        tmp_path_factory.mktemp("status") / "checkpoints",
        uid,
        worker_id=f"status-worker-{uid}",
        health_port=-1,
        status_ttl_s=TTL_S,
    )
    create_topics(s)
    yield s
    delete_topics(s.kafka_bootstrap, f"t{uid}.")


@pytest.fixture(scope="module")
def store(settings: Settings) -> RedisStore:
    return RedisStore(redis.Redis.from_url(settings.redis_url), settings.group_id, TTL_S)


@pytest.fixture(scope="module")
def ran(settings: Settings, store: RedisStore) -> Iterator[dict[str, str]]:
    """One worker runs one execution per final state; their ids by state."""
    harness = Harness(settings)
    client = JarvisClient(settings)
    try:
        harness.start_worker()
        ids = {
            "completed": client.start(
                HELLO,
                inputs={"name": "Ada", "n": 6},
                execution_id=new_id("st-ok"),
                labels={"team": "a"},
            ),
            "failed": client.start(FAILING, execution_id=new_id("st-fail")),
            "rejected": client.start(REJECTED, execution_id=new_id("st-rej")),
            "rejected_book": client.start(
                "result = 1", execution_id=new_id("st-book"), books=["no-such-book"]
            ),
            "stopped": client.start(SLEEPER, execution_id=new_id("st-stop")),
            "suspended": client.start(SLEEPER, execution_id=new_id("st-susp")),
        }
        dead = new_id("st-dead")
        client.send_raw(
            dead,
            orjson.dumps(
                {
                    "version": 1,
                    "type": "start",
                    "execution_id": dead,
                    "program": {"source": "result = 1"},
                    "options": {"limits": {"max_steps": -5}},
                }
            ),
        )
        ids["dead_lettered"] = dead
        for state in ("stopped", "suspended"):
            # Live: started, with the seq of its first record, while it sleeps.
            live = wait_for(
                lambda s=state: (st := store.get(ids[s])) and st.get("seq") == 0 and st,
                60,
                f"{state} run's live status",
            )
            assert live["state"] == "started" and "ended_at" not in live
        client.stop(ids["stopped"], mode="cancel")
        client.stop(ids["suspended"], mode="suspend")
        for name, eid in ids.items():
            state = STATE_OF.get(name, name)
            wait_for(
                lambda e=eid, s=state: (st := store.get(e)) and st["state"] == s,
                60,
                f"status {state} of {eid}",
            )
        yield ids
    finally:
        client.close()
        harness.close()


def cli(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {
        **{k: v for k, v in os.environ.items() if not k.startswith("JARVIS_")},
        "JARVIS_CONFIG": "/dev/null",
        "JARVIS_REDIS_URL": settings.redis_url,
        "JARVIS_GROUP_ID": settings.group_id,
        "JARVIS_S3_ENDPOINT_URL": settings.s3_endpoint_url or "",
        "JARVIS_S3_BUCKET": settings.s3_bucket,
        "JARVIS_S3_PREFIX": settings.s3_prefix,
        "JARVIS_STATUS_TTL_S": str(TTL_S),
        **env,
    }
    return subprocess.run(
        [*JARVIS, *args], env=full, capture_output=True, text=True, timeout=CLI_BOUND_S, cwd=ROOT
    )


# --- what the worker wrote ---


def test_completed_execution_has_its_result_times_seq_artifact_and_a_ttl(
    ran: dict[str, str], store: RedisStore, settings: Settings
) -> None:
    s = store.get(ran["completed"])
    assert s is not None
    assert s["state"] == "completed" and s["event"] == "completed"
    assert s["worker"] == settings.worker_id
    assert s["attempt"] >= 1
    assert s["result"] == {"name": "Ada", "count": 3, "total": 4} and s["result_type"] == "dict"
    assert s["log_records"] > 0 and s["seq"] == s["log_records"] - 1
    assert s["accepted_at"] <= s["started_at"] <= s["ended_at"] == s["updated_at"]
    assert s["labels"] == {"team": "a"}
    (art,) = s["artifacts"]
    assert art["name"] == "report.txt" and art["size"] == len(BODY)
    assert art["url"].startswith(settings.s3_endpoint_url) and art["url_expires_at"]
    assert 0 < s["ttl_s"] <= TTL_S
    assert "error_type" not in s and "stop_mode" not in s


def test_failed_stopped_suspended_rejected_and_dead_lettered_say_why(
    ran: dict[str, str], store: RedisStore
) -> None:
    failed = store.get(ran["failed"])
    assert failed is not None and failed["state"] == "failed"
    assert failed["error_type"] == "ZeroDivisionError" and failed["error_line"] == 3
    assert "return a / b" in failed["error_traceback"] and "result" not in failed
    stopped = store.get(ran["stopped"])
    assert stopped is not None and stopped["stop_mode"] == "cancel" and stopped["seq"] == 0
    suspended = store.get(ran["suspended"])
    assert suspended is not None and suspended["state"] == "suspended"
    assert suspended["stop_mode"] == "suspend"
    rejected = store.get(ran["rejected"])
    assert rejected is not None and rejected["error_type"] == "SpySyntaxError"
    assert rejected["attempt"] >= 1  # found by the run, under its lease
    book = store.get(ran["rejected_book"])
    assert (
        book is not None and book["state"] == "rejected" and "no-such-book" in book["error_message"]
    )
    assert book["attempt"] == 0  # refused on arrival, before any lease
    dead = store.get(ran["dead_lettered"])
    assert dead is not None and dead["state"] == "dead_lettered"
    assert dead["field"] == "options.limits.max_steps" and dead["reason"]
    for eid in ran.values():
        st = store.get(eid)
        assert st is not None and 0 < st["ttl_s"] <= TTL_S, eid


def test_a_stale_update_of_an_older_attempt_does_not_overwrite(
    ran: dict[str, str], store: RedisStore
) -> None:
    eid = ran["completed"]
    before = store.get(eid)
    assert before is not None
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    late = Update(eid, before["attempt"] - 1, 1, 99, now_ms, "started", {"worker": "frozen-pod"})
    lower = Update(eid, before["attempt"], 1, 99, now_ms, "started", {"worker": "frozen-pod"})
    leaseless = Update(eid, 0, 0, -1, now_ms, "accepted", {"worker": "frozen-pod"})
    assert store.apply([late, lower, leaseless]) == [False, False, False]
    assert store.get(eid) == before
    assert eid in ids_of(store, "completed") and eid not in ids_of(store, "started")


def ids_of(store: RedisStore, state: str) -> set[str]:
    return {i.decode() for i in store.redis.zrange(index_key(store.group, state), 0, -1)}


def test_ls_lists_newest_first_and_filters_by_state(ran: dict[str, str], store: RedisStore) -> None:
    everything = store.list(None, 100)
    assert {s["execution_id"] for s in everything} == set(ran.values())
    updated = [s["updated_at"] for s in everything]
    assert updated == sorted(updated, reverse=True)
    for state in {STATE_OF.get(name, name) for name in ran}:
        expected = {eid for name, eid in ran.items() if STATE_OF.get(name, name) == state}
        assert {s["execution_id"] for s in store.list(state, 10)} == expected, state
    rejected = store.list("rejected", 10)
    assert rejected[0]["updated_at"] >= rejected[1]["updated_at"]
    assert len(store.list(None, 2)) == 2


# --- the Redis script, on its own ---


def test_the_script_orders_by_attempt_then_rank_then_seq_across_writers(store: RedisStore) -> None:
    eid = new_id("order")
    t = int(datetime.now(UTC).timestamp() * 1000)

    def up(attempt: int, rank: int, seq: int, state: str, at: int = t, **fields: str) -> Update:
        return Update(eid, attempt, rank, seq, at, state, dict(fields))

    assert store.apply([up(0, 0, -1, "accepted", worker="a")]) == [True]
    assert store.apply([up(2, 1, 5, "started", worker="a")]) == [True]
    assert store.apply([up(1, 2, 9, "completed", worker="old")]) == [False]  # older attempt
    assert store.apply([up(2, 1, 4, "started", worker="old")]) == [False]  # older seq
    assert store.apply([up(3, 1, 0, "resumed", worker="b")]) == [True]  # a take-over
    assert store.apply([up(0, 0, -1, "accepted", at=t + 10, worker="c")]) == [False]
    assert store.apply([up(3, 2, 7, "suspended", worker="b")]) == [True]
    # A start accepted after the suspension: applied, and above everything of attempt 3.
    assert store.apply([up(0, 0, -1, "accepted", at=t + 20, worker="c")]) == [True]
    assert store.apply([up(3, 1, 8, "resumed", worker="late")]) == [False]
    s = store.get(eid)
    assert s is not None and (s["state"], s["worker"], s["attempt"]) == ("accepted", "c", 3)
    assert ids_of(store, "accepted") >= {eid} and eid not in ids_of(store, "suspended")
    store.redis.delete(status_key(store.group, eid))


def test_two_updates_before_any_lease_are_ordered_by_their_time(store: RedisStore) -> None:
    eid = new_id("noLease")
    t = int(datetime.now(UTC).timestamp() * 1000)
    assert store.apply([Update(eid, 0, 2, -1, t + 5, "rejected")]) == [True]
    assert store.apply([Update(eid, 0, 0, -1, t, "accepted")]) == [False]
    assert store.apply([Update(eid, 0, 0, -1, t + 6, "accepted")]) == [True]
    store.redis.delete(status_key(store.group, eid))


# --- the CLI ---


def test_cli_status_text_and_json(ran: dict[str, str], settings: Settings) -> None:
    done = cli(settings, "status", ran["completed"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{ran['completed']}  COMPLETED")
    assert f"worker     {settings.worker_id} (attempt " in done.stdout
    assert 'result     {"name":"Ada","count":3,"total":4} (dict)' in done.stdout
    assert f"report.txt ({len(BODY)} bytes)" in done.stdout
    data = orjson.loads(cli(settings, "status", ran["completed"], "--json").stdout)
    assert data["state"] == "completed" and data["result"]["total"] == 4
    assert data["artifacts"][0]["name"] == "report.txt"
    failed = cli(settings, "status", ran["failed"])
    assert failed.returncode == 0
    assert "error      ZeroDivisionError at line 3: division by zero" in failed.stdout
    assert "return a / b" in failed.stdout


def test_cli_ls_text_json_and_state_filter(ran: dict[str, str], settings: Settings) -> None:
    text = cli(settings, "ls")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert {line.split()[-1] for line in lines} == set(ran.values())
    failed = cli(settings, "ls", "--state", "failed", "--json")
    assert [orjson.loads(line)["execution_id"] for line in failed.stdout.splitlines()] == [
        ran["failed"]
    ]
    limited = cli(settings, "ls", "--limit", "2", "--json")
    assert len(limited.stdout.splitlines()) == 2
    bad = cli(settings, "ls", "--state", "running")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert (
        "unknown state 'running'; valid states: accepted, started, resumed, completed" in bad.stderr
    )


def test_cli_artifacts_lists_signed_urls_and_signs_expired_ones_again(
    ran: dict[str, str], settings: Settings, store: RedisStore
) -> None:
    eid = ran["completed"]
    body = BODY
    shown = cli(settings, "artifacts", eid, "--json")
    assert shown.returncode == 0, shown.stderr
    (row,) = [orjson.loads(line) for line in shown.stdout.splitlines()]
    assert row["name"] == "report.txt" and row["size"] == len(body) and row["resigned"] is False
    assert urllib.request.urlopen(row["url"], timeout=30).read() == body
    text = cli(settings, "artifacts", eid)
    assert text.stdout.startswith(f"report.txt  {len(body)} bytes  s3://")
    assert f"url until {row['url_expires_at']}: {row['url']}" in text.stdout
    # The stored URL expired: the CLI, holding credentials, signs a new one.
    key = status_key(settings.group_id, eid)
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    stored = orjson.loads(store.redis.hget(key, "artifacts"))
    stored[0]["url_expires_at"] = past
    store.redis.hset(key, "artifacts", orjson.dumps(stored))
    again = cli(settings, "artifacts", eid, "--json")
    (fresh,) = [orjson.loads(line) for line in again.stdout.splitlines()]
    assert fresh["resigned"] is True
    assert datetime.fromisoformat(fresh["url_expires_at"].replace("Z", "+00:00")) > datetime.now(
        UTC
    )
    assert urllib.request.urlopen(fresh["url"], timeout=30).read() == body
    assert "(signed just now)" in cli(settings, "artifacts", eid).stdout
    none = cli(settings, "artifacts", ran["failed"])
    assert none.returncode == 0 and "has no artifacts" in none.stderr


def test_cli_unknown_id_is_one_line_and_exit_1(ran: dict[str, str], settings: Settings) -> None:
    for command in ("status", "artifacts"):
        done = cli(settings, command, "no-such-execution-42")
        assert done.returncode == 1, done
        assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1
        assert "no status for execution no-such-execution-42" in done.stderr
        assert settings.group_id in done.stderr
    bad = cli(settings, "status", "../../etc/passwd")
    assert bad.returncode == 2 and "is not an execution id" in bad.stderr


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    "command", [["status", "x-1"], ["ls"], ["ls", "--state", "failed"], ["artifacts", "x-1"]]
)
def test_cli_with_redis_down_says_where_in_one_line(settings: Settings, command: list[str]) -> None:
    port = closed_port()
    done = cli(settings, *command, JARVIS_REDIS_URL=f"redis://:hunter2@127.0.0.1:{port}/0")
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(
        f"error: cannot read the status view from Redis at redis://127.0.0.1:{port}/0"
    )
    assert "hunter2" not in done.stderr and "Traceback" not in done.stderr


def test_worker_with_status_off_writes_nothing(stack_env: dict[str, str], tmp_path: Path) -> None:
    uid = new_uid()
    s = fresh_settings(
        stack_env, tmp_path / "checkpoints", uid, health_port=-1, status_enabled=False
    )
    create_topics(s)
    harness = Harness(s)
    client = JarvisClient(s)
    try:
        worker = harness.start_worker()
        assert worker.status is None
        eid = client.start("result = 2", execution_id=new_id("off"))
        assert harness.terminal(eid).event == "completed"
        r = redis.Redis.from_url(s.redis_url)
        assert r.exists(status_key(s.group_id, eid), index_key(s.group_id)) == 0
    finally:
        client.close()
        harness.close()
        delete_topics(s.kafka_bootstrap, f"t{uid}.")
