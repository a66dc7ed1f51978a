"""`jarvis worker` and `jarvis submit --follow` as real processes, as the README uses them."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from jarvis.settings import Settings
from tests.helpers import ROOT, new_id, wait_for
from tests.helpers.stack import cli_env

JARVIS = [sys.executable, "-m", "jarvis.cli"]


@pytest.fixture
def worker_proc(settings: Settings) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [*JARVIS, "worker"],
        env=cli_env(settings, JARVIS_HEALTH_PORT="0"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_submit_follow_streams_logs_and_exits_zero(settings: Settings, worker_proc) -> None:
    proc = subprocess.run(
        [
            *JARVIS,
            "submit",
            str(ROOT / "examples" / "hello.spy"),
            "-i",
            "name=Grace",
            "-i",
            "n=4",
            "--follow",
            "--timeout",
            "120",
        ],
        env=cli_env(settings, JARVIS_HEALTH_PORT="0"),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "STARTED" in out and "COMPLETED" in out
    # The log records, in the program's order and each once: seqs 0..N-1 as the terminal
    # event counts them (logs and events are separate topics: a record may print after
    # COMPLETED, which the follower then waits for; order within the logs topic is Kafka's
    # per-key order, so it can be asserted).
    seqs = [int(m) for m in re.findall(r"^\[\s*(\d+)\] ", out, re.M)]
    (announced,) = re.findall(r"COMPLETED: result = .*, (\d+) log records", out)
    assert seqs == list(range(int(announced))), out
    prints = re.findall(r"^\[\s*\d+\] \S+\s+print  (.*)$", out, re.M)
    assert prints == [
        "Hello, Grace!",
        "even-index Fibonacci numbers below 4: [0, 1], total 1",
    ], out
    assert "artifact report.txt: s3://" in out

    worker_proc.send_signal(signal.SIGTERM)
    assert worker_proc.wait(timeout=60) == 0
    assert "left the group" in (worker_proc.stdout.read() if worker_proc.stdout else "")


def test_submit_follow_exits_non_zero_on_failure(settings: Settings, worker_proc) -> None:
    proc = subprocess.run(
        [*JARVIS, "submit", str(ROOT / "examples" / "failing.spy"), "--follow", "--timeout", "120"],
        env=cli_env(settings, JARVIS_HEALTH_PORT="0"),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (
        "FAILED" in proc.stdout and "ZeroDivisionError" in proc.stdout and "line 3" in proc.stdout
    )


def test_stop_command_via_cli(settings: Settings, worker_proc) -> None:
    from jarvis.client import JarvisClient

    client = JarvisClient(settings)
    eid = client.start(
        "while True:\n    pass\n", execution_id=new_id("cli-stop"), limits={"max_steps": 10**12}
    )
    events = client.follow(eid, logs=False, timeout_s=120)
    assert next(e for e in events if e.event == "started")
    proc = subprocess.run(
        [*JARVIS, "stop", eid],
        env=cli_env(settings, JARVIS_HEALTH_PORT="0"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    final = wait_for(lambda: next((e for e in events if e.terminal), None), what="stopped")
    assert final.event == "stopped" and final.stop_mode == "cancel"
