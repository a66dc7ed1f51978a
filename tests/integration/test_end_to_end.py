"""The whole path on real services: control topic -> worker -> logs, events, journal, S3."""

from __future__ import annotations

from pathlib import Path

import orjson

from jarvis.journal import Journal
from tests.helpers import ROOT, new_id, wait_for
from tests.helpers.harness import Harness

HELLO = (ROOT / "examples" / "hello.spy").read_text()


def test_submit_runs_to_completed_with_ordered_logs_journal_and_artifact(
    harness: Harness, client, s3
) -> None:
    harness.start_worker()
    eid = client.start(HELLO, inputs={"name": "Ada", "n": 6}, execution_id=new_id("hello"))

    done = harness.terminal(eid)
    assert done.event == "completed", done
    assert done.result == {"name": "Ada", "count": 3, "total": 0 + 1 + 3}
    assert done.result_type == "dict"

    kinds = [e.event for e in harness.events_for(eid)]
    assert kinds == ["accepted", "started", "completed"]

    records = wait_for(
        lambda: (r := harness.logs_for(eid)) and len(r) >= done.log_records and r,
        what="log records",
    )
    assert [r["seq"] for r in records] == list(range(done.log_records))
    by_source = {r["source"]: r for r in records}
    assert by_source['name = inputs.get("name", "world")']["value"] == "Ada"
    assert by_source['greeting = f"Hello, {name}!"']["value"] == "Hello, Ada!"
    assert by_source['greeting = f"Hello, {name}!"']["type"] == "str"
    prints = [r["value"] for r in records if r["kind"] == "print"]
    assert prints == ["Hello, Ada!", "even-index Fibonacci numbers below 6: [0, 1, 3], total 4"]
    assert by_source["total = sum(numbers)"]["value"] == 4
    assert all(r["execution_id"] == eid for r in records)
    # Kafka key = execution id on every record
    assert {
        m.key() for m in harness.logs.messages if orjson.loads(m.value())["execution_id"] == eid
    } == {eid.encode()}

    journal = Journal.open(harness.settings.checkpoint_dir, eid)
    assert journal.start is not None and journal.end is not None
    assert journal.end.event["event"] == "completed"
    assert [e.name for e in journal.effects] == ["artifact"]

    (art,) = done.artifacts
    assert art.name == "report.txt"
    bucket, _, key = art.uri.removeprefix("s3://").partition("/")
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert body == b"Hello, Ada!\nnumbers=[0, 1, 3]\ntotal=4\n"
    assert art.size == len(body)


def test_failing_program_reports_spy_line(harness: Harness, client) -> None:
    harness.start_worker()
    eid = client.start(
        (ROOT / "examples" / "failing.spy").read_text(), execution_id=new_id("fails")
    )
    done = harness.terminal(eid)
    assert done.event == "failed"
    assert done.error is not None
    assert done.error.type == "ZeroDivisionError"
    assert done.error.line == 3  # `return a / b`, inside ratio()
    assert [f.line for f in done.error.frames] == [9, 3]
    assert "line 3" in done.error.traceback and "return a / b" in done.error.traceback
    assert "jarvis/" not in done.error.traceback  # no host frames


def test_unsupported_construct_is_rejected_with_line_and_col(harness: Harness, client) -> None:
    harness.start_worker()
    eid = client.start(
        (ROOT / "examples" / "rejected.spy").read_text(), execution_id=new_id("rejects")
    )
    done = harness.terminal(eid)
    assert done.event == "rejected"
    assert done.error is not None and done.error.type == "SpySyntaxError"
    assert (done.error.line, done.error.col) == (3, 0)  # 0-based: the traceback shows col + 1
    assert "import" in done.error.message
    assert ":3:1:" in done.error.traceback and "import os" in done.error.traceback
    assert harness.logs_for(eid) == []  # nothing ran


def test_duplicate_start_after_completion_is_absorbed_and_reannounced(
    harness: Harness, client
) -> None:
    harness.start_worker()
    src = "x = 1\ny = x + 1\nresult = y\n"
    eid = client.start(src, execution_id=new_id("dup"))
    first = harness.terminal(eid)
    n_logs = len(wait_for(lambda: len(harness.logs_for(eid)) >= 3 and harness.logs_for(eid)))
    client.start(src, execution_id=eid)
    wait_for(
        lambda: len([e for e in harness.events_for(eid) if e.terminal]) == 2,
        what="re-announced outcome",
    )
    terminals = [e for e in harness.events_for(eid) if e.terminal]
    assert terminals[1].event == "completed" and terminals[1].result == first.result == 2
    assert len(harness.logs_for(eid)) == n_logs == 3  # the program did not run again


def test_stop_cancels_a_running_execution(harness: Harness, client) -> None:
    harness.start_worker()
    eid = client.start(
        "i = 0\nwhile True:\n    i += 1\n",
        execution_id=new_id("spin"),
        log_level="effects",
        limits={"max_steps": 10**12},  # only the stop may end it, however slow the machine
    )
    wait_for(lambda: any(e.event == "started" for e in harness.events_for(eid)), what="started")
    client.stop(eid, mode="cancel")
    done = harness.terminal(eid)
    assert done.event == "stopped" and done.stop_mode == "cancel", done.error


def test_stop_before_start_prevents_it(harness: Harness, client) -> None:
    harness.start_worker()
    eid = new_id("never")
    client.stop(eid, mode="cancel")
    client.start("result = 1\n", execution_id=eid)
    done = harness.terminal(eid)
    assert done.event == "stopped" and done.stop_mode == "cancel", done.error
    assert harness.logs_for(eid) == []


def test_journal_lives_in_checkpoint_dir(harness: Harness, client) -> None:
    harness.start_worker()
    eid = client.start("result = 7\n", execution_id=new_id("journal"))
    harness.terminal(eid)
    path = Path(harness.settings.checkpoint_dir) / eid / "journal.log"
    assert path.exists()
    lines = path.read_bytes().splitlines()
    records = [orjson.loads(line.split(b" ", 1)[1]) for line in lines]
    # the worker fences the journal with its lease token, then runs: start, end
    assert [r["t"] for r in records] == ["fence", "start", "end"]
    assert len({r["k"] for r in records}) == 1
