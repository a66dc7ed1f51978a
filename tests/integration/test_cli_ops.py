"""The operator commands against the real stack: logs, stop, topics describe, doctor, and
submit --follow's live view on a terminal (issue 10)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from jarvis.kafka.config import partition_for
from jarvis.kafka.topics import describe
from jarvis.settings import Settings
from tests.helpers import ROOT, new_id, wait_for
from tests.helpers.stack import cli_env

JARVIS = [sys.executable, "-m", "jarvis.cli"]
HELLO = ROOT / "examples" / "hello.spy"


def jarvis(
    args: list[str], settings: Settings, timeout_s: float = 60, **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*JARVIS, *args],
        env=cli_env(settings, **extra),
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


# --- logs ---


def test_logs_prints_the_records_from_the_ids_partition_and_ends_by_itself(
    settings: Settings, harness: Any, client: Any
) -> None:
    harness.start_worker()
    eid = client.start(path=HELLO, inputs={"name": "Ada", "n": 4}, execution_id=new_id("cli-logs"))
    done = harness.terminal(eid)
    assert done.event == "completed"
    count = done.log_records
    assert count and count > 6
    # The worker's records are all on the partition partition_for names (the reader's premise).
    wait_for(lambda: len(harness.logs_for(eid)) >= count, 30, "every record on spy_logs")
    where = {m.partition() for m in harness.logs.messages if m.key() == eid.encode()}
    assert where == {partition_for(eid, 12)}

    proc = jarvis(["logs", eid], settings)
    assert proc.returncode == 0, proc.stderr
    lines = _lines(proc.stdout)
    assert [int(line[1:5]) for line in lines] == list(range(count))
    assert any("print  Hello, Ada!" in line for line in lines)

    proc = jarvis(["logs", eid, "--since", "5", "--json"], settings)
    assert proc.returncode == 0, proc.stderr
    records = [orjson.loads(line)["log"] for line in _lines(proc.stdout)]
    assert [r["seq"] for r in records] == list(range(5, count))
    assert {r["execution_id"] for r in records} == {eid}

    # --follow on a finished execution: the terminal event is there, so it ends at once.
    proc = jarvis(["logs", eid, "--follow"], settings)
    assert proc.returncode == 0, proc.stderr
    assert len(_lines(proc.stdout)) == count
    assert f"== {eid} COMPLETED" in proc.stderr


def test_logs_of_an_unknown_id_is_one_clear_error(settings: Settings) -> None:
    eid = new_id("nobody")
    proc = jarvis(["logs", eid], settings, timeout_s=30)
    assert proc.returncode == 1
    error, hint = _lines(proc.stderr)
    assert error == (
        f"error: no log records for {eid} in the last 24 h (JARVIS_KAFKA_BOOTSTRAP="
        f"{settings.kafka_bootstrap}, {settings.logs_topic} partition {partition_for(eid, 12)})"
    )
    assert hint.startswith("hint: check the id")
    assert proc.stdout == "" and "Traceback" not in proc.stderr


def test_logs_of_a_missing_topic_says_to_apply_the_topics(settings: Settings) -> None:
    proc = jarvis(["logs", "x"], settings, JARVIS_LOGS_TOPIC=f"{settings.logs_topic}-nope")
    assert proc.returncode == 2
    error, hint = _lines(proc.stderr)
    assert error.startswith(f"error: topic {settings.logs_topic}-nope does not exist (")
    assert "jarvis topics apply" in hint


# --- stop ---


def test_stop_suspend_from_the_cli(settings: Settings, harness: Any, client: Any) -> None:
    harness.start_worker()
    eid = client.start(
        "while True:\n    pass\n", execution_id=new_id("cli-susp"), limits={"max_steps": 10**12}
    )
    events = client.follow(eid, logs=False, timeout_s=120)
    assert next(e for e in events if e.event == "started")
    proc = jarvis(["stop", eid, "--mode", "suspend", "--reason", "maintenance"], settings)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"stop (suspend) sent for {eid}"
    final = next(e for e in events if e.terminal)
    assert final.event == "stopped" and final.stop_mode == "suspend"
    proc = jarvis(["stop", eid, "--json"], settings)  # stops are idempotent
    assert proc.returncode == 0, proc.stderr
    assert orjson.loads(proc.stdout) == {
        "execution_id": eid,
        "mode": "cancel",
        "reason": None,
        "sent": True,
    }


# --- topics describe ---


def test_topics_describe_shows_the_lag_of_a_held_start(
    settings: Settings, harness: Any, client: Any, tmp_path: Path
) -> None:
    worker = harness.start_worker()
    first = client.start("result = 1", execution_id=new_id("cli-lag-a"))
    assert harness.terminal(first).event == "completed"
    worker.request_shutdown()  # commits what is finished, leaves the group
    harness.workers[0][1].join(60)
    control = settings.control_topic

    def committed_first() -> bool:
        [state] = [s for s in describe(settings) if s.topic == control]
        part = state.offsets[partition_for(first, 12)]
        return part.committed == part.end == 1

    wait_for(committed_first, 30, "the first start's offset committed")
    program = tmp_path / "two.spy"
    program.write_text("result = 2\n")
    wanted = new_id("cli-lag-b")
    proc = jarvis(["submit", str(program), "--id", wanted, "--json"], settings)  # no worker: held
    assert proc.returncode == 0, proc.stderr
    held = orjson.loads(proc.stdout)["execution_id"]
    assert held == wanted

    proc = jarvis(["topics", "describe", "--json"], settings)
    assert proc.returncode == 0, proc.stderr
    states = {s["role"]: s for s in map(orjson.loads, _lines(proc.stdout))}
    assert set(states) == {"control", "events", "logs", "dlq"}
    ctl = states["control"]
    assert ctl["present"] and ctl["drift"] == [] and ctl["partitions"] == 12
    assert ctl["replication"] == 1 and ctl["group"] == settings.group_id
    assert ctl["lag"] == 1
    by_partition = {p["partition"]: p for p in ctl["offsets"]}
    p_held = by_partition[partition_for(held, 12)]
    assert p_held["lag"] == 1 and p_held["end"] == p_held["earliest"] + (
        1 + (partition_for(first, 12) == partition_for(held, 12))
    )
    if partition_for(first, 12) != partition_for(held, 12):
        p_first = by_partition[partition_for(first, 12)]
        assert (p_first["committed"], p_first["end"], p_first["lag"]) == (1, 1, 0)
    events = states["events"]
    assert events["group"] is None and events["lag"] is None
    assert sum(p["end"] for p in events["offsets"]) >= 3  # accepted, started, completed

    proc = jarvis(["topics", "describe"], settings)
    assert proc.returncode == 0, proc.stderr
    head = next(line for line in proc.stdout.splitlines() if line.startswith(control))
    assert f"group={settings.group_id} lag=1" in head and head.endswith("ok")


def test_topics_describe_reports_a_missing_topic_and_drift(
    settings: Settings, tmp_path: Path
) -> None:
    declared = tmp_path / "topics.toml"
    text = (ROOT / "jarvis" / "topics" / "topics.toml").read_text()
    declared.write_text(text.replace("retention_ms = 2592000000", "retention_ms = 1000", 1))
    proc = jarvis(
        ["topics", "describe", "--json"],
        settings,
        JARVIS_TOPICS_FILE=str(declared),
        JARVIS_DLQ_TOPIC=f"{settings.dlq_topic}-absent",
    )
    assert proc.returncode == 0, proc.stderr
    states = {s["role"]: s for s in map(orjson.loads, _lines(proc.stdout))}
    assert states["events"]["drift"] == ["retention.ms=2592000000, declared 1000"]
    assert states["dlq"]["present"] is False and states["dlq"]["offsets"] == []
    assert states["control"]["drift"] == []


# --- doctor ---

CHECKS = [
    "settings",
    "kafka",
    "topic control",
    "topic events",
    "topic logs",
    "topic dlq",
    "consumer group",
    "redis",
    "object store",
    "checkpoint volume",
    "books",
]


def test_doctor_is_all_ok_on_the_stack(settings: Settings) -> None:
    proc = jarvis(["doctor"], settings)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = _lines(proc.stdout)
    assert [line.split()[0] for line in lines] == ["ok"] * len(CHECKS)
    proc = jarvis(["doctor", "--json"], settings)
    assert proc.returncode == 0
    results = [orjson.loads(line) for line in _lines(proc.stdout)]
    assert [r["check"] for r in results] == CHECKS
    assert all(r["ok"] for r in results)
    by = {r["check"]: r for r in results}
    assert by["kafka"]["address"] == settings.kafka_bootstrap
    assert by["topic control"]["address"] == settings.control_topic
    assert by["consumer group"]["address"] == settings.group_id
    assert by["redis"]["address"] == settings.redis_url.split("@")[-1]
    assert by["checkpoint volume"]["address"] == str(settings.checkpoint_dir)
    assert "kv" in by["books"]["detail"]


@pytest.mark.parametrize(
    ("broken", "env", "address", "needle"),
    [
        ("kafka", {"JARVIS_KAFKA_BOOTSTRAP": "127.0.0.1:9"}, "127.0.0.1:9", "Connection refused"),
        ("redis", {"JARVIS_REDIS_URL": "redis://127.0.0.1:9/0"}, "redis://127.0.0.1:9/0",
         "ConnectionError"),
        ("object store", {"JARVIS_S3_ENDPOINT_URL": "http://127.0.0.1:9"}, "http://127.0.0.1:9",
         "HEAD bucket failed"),
        ("object store", {"JARVIS_S3_BUCKET": "no-such-bucket-jarvis"}, "s3://no-such-bucket-jarvis",
         "HEAD bucket"),
        ("checkpoint volume", {"JARVIS_CHECKPOINT_DIR": "FILE"}, "FILE", "not writable"),
        ("books", {"JARVIS_EXTRA_BOOKS": '["nowhere_at_all:book"]'}, None, "nowhere_at_all"),
        ("topic dlq", {"JARVIS_DLQ_TOPIC": "DLQ-absent"}, "DLQ-absent", "missing"),
    ],
    ids=["kafka", "redis-down", "s3-down", "s3-bucket", "volume", "books", "topic"],
)  # fmt: skip
def test_doctor_names_the_broken_dependency_and_its_address(
    settings: Settings,
    tmp_path: Path,
    broken: str,
    env: dict[str, str],
    address: str | None,
    needle: str,
) -> None:
    a_file = tmp_path / "not-a-directory"
    a_file.write_text("x")
    subst = {"FILE": str(a_file), "DLQ-absent": f"{settings.dlq_topic}-absent"}
    env = {k: subst.get(v, v) for k, v in env.items()}
    address = subst.get(address, address) if address else None
    # The checks run side by side under one deadline. A broken dependency here fails fast
    # (refused, missing), except a Kafka that refuses: librdkafka retries until the
    # deadline, so that case gets a shorter one. The deadline must never decide whether a
    # *healthy* check passes: on a loaded machine importing the Books alone took over 4 s.
    deadline_s = 10 if broken == "kafka" else 30
    proc = jarvis(
        ["doctor", "--json", "--timeout", str(deadline_s)], settings, timeout_s=120, **env
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    results = {r["check"]: r for r in map(orjson.loads, _lines(proc.stdout))}
    failing = {name for name, r in results.items() if not r["ok"]}
    expected = {broken} | ({"topics"} if broken == "kafka" else set())
    assert failing == expected, results
    bad = results[broken]
    if address is not None:
        assert address in bad["address"]
    assert needle in bad["detail"] and bad["hint"]
    # The readable form: the failing line, then its hint. (A short deadline will do: what is
    # asserted is the broken check's line, whatever the healthy ones answered in time.)
    proc = jarvis(["doctor", "--timeout", "3"], settings, timeout_s=60, **env)
    lines = proc.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("FAIL") and broken in line)
    assert lines[at + 1].strip().startswith("hint: ")


@pytest.fixture
def redis_with_password(tmp_path: Path) -> Any:
    """A Redis of its own that requires a password (the shared one has none)."""
    import shutil
    import socket

    import redis

    server = shutil.which("redis-server")
    assert server, "redis-server is part of the local stack (scripts/stack installs it)"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--requirepass", "s3cret",
         "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(port=port, password="s3cret", socket_timeout=1)

    def up() -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    try:
        wait_for(up, 30, "the password-protected redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


def test_doctor_checks_redis_with_its_password(
    settings: Settings, redis_with_password: str
) -> None:
    def redis_check(**env: str) -> dict[str, Any]:
        proc = jarvis(["doctor", "--json"], settings, JARVIS_REDIS_URL=redis_with_password, **env)
        results = {r["check"]: r for r in map(orjson.loads, _lines(proc.stdout))}
        assert proc.returncode == (0 if results["redis"]["ok"] else 1)
        return results["redis"]

    wrong = redis_check(JARVIS_REDIS_PASSWORD="not-it")
    assert not wrong["ok"] and wrong["address"] == redis_with_password
    assert wrong["detail"].startswith("authentication failed") and "PASSWORD" in wrong["hint"]
    none = redis_check()
    assert not none["ok"] and none["detail"].startswith("authentication failed")
    assert redis_check(JARVIS_REDIS_PASSWORD="s3cret")["ok"]


# --- submit --follow on a terminal ---


def test_submit_follow_on_a_terminal_shows_the_live_view_and_the_outcome(
    settings: Settings, harness: Any
) -> None:
    harness.start_worker()
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [*JARVIS, "submit", str(HELLO), "-i", "name=Grace", "--follow", "--timeout", "120"],
        env=cli_env(settings, COLUMNS="160", TERM="xterm"),
        stdout=slave,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    os.close(master)
    assert proc.wait(30) == 0, proc.stderr.read() if proc.stderr else ""
    text = out.decode(errors="replace")
    assert "\x1b[" in text  # drawn as a terminal view, not plain lines
    assert "RUNNING" in text and "log records" in text  # the status panel
    assert "print  Hello, Grace!" in text
    assert "COMPLETED: result = " in text and "artifact report.txt: s3://" in text
