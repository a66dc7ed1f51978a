"""A resumed execution stays in its trace, and the workers' own logs are JSON lines.

Two ``jarvis worker`` processes with ``JARVIS_LOG_FORMAT=json``; a start carrying a W3C
``traceparent``; the worker running it is SIGKILLed mid-run. The session timeout is far
longer than the test, so the survivor cannot get the start again from Kafka: it resumes the
execution from its journal (take-over), and only the journal can have told it the trace.
Once with tracing off (the start's headers pass through unchanged) and once with
``JARVIS_TRACING=console`` (spans printed on stderr: the survivor's span is the start's
caller's child, attempt 2).
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest

from jarvis.contract.messages import ProgramSpec, StartCommand, dump
from jarvis.journal import Journal
from tests.fault.books import expected_total
from tests.fault.cluster import CHAIN_PROGRAM, Cluster, WorkerProc
from tests.helpers import new_id, wait_for
from tests.helpers.kafka import TopicReader
from tests.telemetry.spans import PARENT_ID, TRACE_ID, TRACEPARENT, TRACESTATE

pytestmark = pytest.mark.integration

SESSION_TIMEOUT_S = 90
TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")


def _json_lines(worker: WorkerProc) -> list[dict[str, Any]]:
    """The worker's Python log lines, each parsed; no line of it is in the text format.
    (Console spans are pretty-printed JSON over many lines: their lines are not log lines.)"""
    parsed = []
    for line in worker.log().splitlines():
        assert not TEXT_LINE.match(line), f"a text log line with JARVIS_LOG_FORMAT=json: {line}"
        if line.startswith('{"ts"'):
            parsed.append(orjson.loads(line))
    return parsed


def _console_spans(worker: WorkerProc) -> list[dict[str, Any]]:
    """The spans a worker with JARVIS_TRACING=console printed (one JSON object each)."""
    text = worker.log()
    return [orjson.loads(m) for m in re.findall(r"^\{\n.*?^\}$", text, re.S | re.M)]


@pytest.mark.parametrize("tracing", ["off", "console"])
def test_a_taken_over_execution_keeps_its_trace_and_logs_json(
    cluster: Cluster, tracing: str
) -> None:
    env = {
        "JARVIS_SESSION_TIMEOUT_S": SESSION_TIMEOUT_S,
        "JARVIS_LOG_FORMAT": "json",
        "JARVIS_TRACING": tracing,
    }
    a, b = cluster.start_workers(2, **env)
    eid = new_id("traced-takeover")
    command = StartCommand(
        execution_id=eid,
        program=ProgramSpec(source=CHAIN_PROGRAM, filename="chain.spy"),
        inputs={"n": 30, "seed": 3, "hold_s": 0.02, "sleep_s": 0.1},
        books=["counter"],
    )
    sent = [("traceparent", TRACEPARENT.encode()), ("tracestate", TRACESTATE.encode())]
    cluster.send_raw(eid, dump(command), headers=sent)()

    def holder() -> WorkerProc | None:
        held = cluster.lease_holders([eid]).get(eid)
        return next((w for w in (a, b) if w.worker_id == held), None)

    victim = wait_for(holder, 30, f"a worker running {eid}")
    survivor = b if victim is a else a
    wait_for(
        lambda: len(Journal.read(cluster.checkpoint_dir, eid).effects) > 5,  # read only
        30,
        "the execution under way (effects in its journal)",
    )
    victim.kill()
    wait_for(
        lambda: any(
            e["event"] == "resumed" and e["worker"] == survivor.worker_id
            for e in cluster.events_of(eid)
        ),
        45,
        f"{eid} resumed by the survivor",
    )
    done = cluster.terminal(eid, 60)
    assert done["event"] == "completed" and done["worker"] == survivor.worker_id
    assert done["result"] == expected_total(3, 30)

    # Everything either worker produced for it is in the start's trace.
    for topic in (cluster.settings.events_topic, cluster.settings.logs_topic):
        stream = TopicReader(cluster.settings.kafka_bootstrap, topic)
        try:
            stream.drain()
            mine = [m for m in stream.messages if m.key() == eid.encode()]
        finally:
            stream.close()
        assert mine, f"nothing of {eid} on {topic}"
        if tracing == "off":  # the start's two headers, unchanged
            assert {tuple(m.headers() or ()) for m in mine} == {tuple(sent)}, topic
        else:  # the execution spans' contexts: the same trace and tracestate
            for m in mine:
                headers = dict(m.headers() or ())
                assert headers["traceparent"].split(b"-")[1] == TRACE_ID.encode(), topic
                assert headers["tracestate"] == TRACESTATE.encode()
        if topic == cluster.settings.events_topic:
            by = {orjson.loads(m.value())["worker"] for m in mine}
            assert by == {a.worker_id, b.worker_id}  # both workers' output, one trace

    survivor.stop()  # a graceful exit flushes its spans
    # The survivor's own log says it took the execution over, as JSON with its ids.
    lines = _json_lines(survivor)
    taking = [line for line in lines if line["message"].startswith(f"taking over {eid}")]
    assert len(taking) == 1, [line["message"] for line in lines]
    (line,) = taking
    assert line["execution_id"] == eid and line["trace_id"] == TRACE_ID
    assert line["worker"] == survivor.worker_id and line["level"] == "INFO"
    assert line["logger"] == "jarvis.worker" and line["ts"].endswith("+00:00")
    assert all({"ts", "level", "logger", "message", "worker"} <= set(x) for x in lines)
    assert ("span_id" in line) == (tracing == "console")
    _json_lines(victim)  # its lines, up to the kill, were JSON too

    if tracing == "console":
        (span,) = [
            s
            for s in _console_spans(survivor)
            if s["name"] == f"process {cluster.settings.control_topic}"
            and s["attributes"].get("jarvis.execution_id") == eid
        ]
        assert span["kind"] == "SpanKind.CONSUMER"
        assert span["context"]["trace_id"] == f"0x{TRACE_ID}"
        assert span["parent_id"] == f"0x{PARENT_ID}"  # the start's caller, from the journal
        assert span["attributes"]["jarvis.takeover"] is True
        assert span["attributes"]["jarvis.attempt"] == 2  # the journal's second owner
        assert span["attributes"]["jarvis.outcome"] == "completed"
        assert f"0x{span['context']['span_id'][2:]}" == span["context"]["span_id"]
        assert line["span_id"] == span["context"]["span_id"][2:]
