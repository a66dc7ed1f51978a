"""Trace context on the real path: a start command's ``traceparent`` header, a worker running
it, and the headers of every event and log record it produces (jarvis.telemetry.tracing)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from confluent_kafka import Producer
from opentelemetry.trace import SpanKind, StatusCode

from jarvis.contract.messages import ProgramSpec, StartCommand, dump
from jarvis.kafka.config import producer_config
from jarvis.telemetry import tracing
from tests.helpers import ROOT, new_id, wait_for
from tests.helpers.harness import Harness
from tests.helpers.kafka import TopicReader
from tests.telemetry.books import PROGRAM
from tests.telemetry.spans import TRACE_ID, TRACEPARENT, TRACESTATE, Spans, hex_ids, in_memory

BOOKS = ["tests.telemetry.books:traced"]


@pytest.fixture
def spans() -> Iterator[Spans]:
    """Tracing on in this process (the in-process worker's too), into memory."""
    with in_memory() as found:
        yield found


def _headers(msg: Any) -> dict[str, bytes]:
    return dict(msg.headers() or [])


def _ids(msg: Any) -> tuple[str, str]:
    """(trace id, parent span id) of a message's traceparent (the flags vary: sampled, random)."""
    _version, trace_id, span_id, _flags = _headers(msg)["traceparent"].decode().split("-")
    return trace_id, span_id


def _outputs(harness: Harness, eid: str, events: int, records: int) -> tuple[list[Any], list[Any]]:
    """The raw Kafka messages of one execution: its events and its log records."""
    key = eid.encode()

    def found() -> tuple[list[Any], list[Any]] | None:
        ev = [m for m in harness.events.poll() if m.key() == key]
        logs = [m for m in harness.logs.poll() if m.key() == key]
        return (ev, logs) if len(ev) >= events and len(logs) >= records else None

    return wait_for(found, 60, f"{events} events and {records} log records of {eid}")


def _control_message(harness: Harness, eid: str) -> Any:
    settings = harness.settings
    reader = TopicReader(settings.kafka_bootstrap, settings.control_topic)
    key = eid.encode()
    try:
        return wait_for(
            lambda: next((m for m in reader.poll() if m.key() == key), None),
            30,
            f"the start of {eid} on {settings.control_topic}",
        )
    finally:
        reader.close()


def test_a_traced_start_runs_in_the_orchestrators_trace_and_its_outputs_carry_it(
    harness: Harness, client: Any, spans: Spans
) -> None:
    harness.start_worker(extra_books=BOOKS)
    with tracing._tracer.start_as_current_span("orchestrate") as orchestrate:
        eid = client.start(PROGRAM, books=["traced"], execution_id=new_id("traced"))
    trace_id = hex_ids(orchestrate)[0]
    done = harness.terminal(eid)
    assert done.event == "completed" and done.result == 43

    # JarvisClient.start: a PRODUCER span under the caller's, its context in the header.
    send = spans.one(f"send {harness.settings.control_topic}")
    assert send.kind == SpanKind.PRODUCER
    assert send.parent is not None and send.parent.span_id == orchestrate.get_span_context().span_id
    start = _control_message(harness, eid)
    assert _ids(start) == (trace_id, hex_ids(send)[1])

    # The worker's span of the attempt is the producer span's child, in the same trace.
    root = wait_for(
        lambda: next(iter(spans.named(f"process {harness.settings.control_topic}")), None),
        30,
        "the execution's span",
    )
    assert root.kind == SpanKind.CONSUMER
    assert root.parent is not None and root.parent.span_id == send.context.span_id
    assert hex_ids(root)[0] == trace_id
    attrs = dict(root.attributes or {})
    assert attrs["jarvis.execution_id"] == eid and attrs["jarvis.outcome"] == "completed"
    assert attrs["messaging.kafka.offset"] == start.offset()
    assert attrs["messaging.destination.partition.id"] == str(start.partition())
    assert attrs["jarvis.attempt"] == 1
    assert root.status.status_code != StatusCode.ERROR
    assert [s.name for s in spans.children(root)] == [
        "book traced.double",
        "book traced.flaky",
        "artifact upload",
    ]
    flaky = spans.children(root)[1]
    assert [s.status.status_code == StatusCode.ERROR for s in spans.children(flaky)] == [
        True,
        False,
    ]

    # Every event and log record carries the trace: accepted the start's context (it is
    # produced before the execution runs), the rest the execution span's.
    events, records = _outputs(harness, eid, 3, done.log_records or 0)
    assert len(events) == 3
    accepted, *rest = events
    assert _headers(accepted)["traceparent"] == _headers(start)["traceparent"]
    ours = (trace_id, hex_ids(root)[1])
    assert [_ids(m) for m in rest] == [ours, ours]
    assert records and {_ids(m) for m in records} == {ours}


def test_with_tracing_off_the_incoming_trace_headers_pass_through_unchanged(
    harness: Harness,
) -> None:
    harness.start_worker(extra_books=BOOKS)
    assert not tracing.ENABLED
    settings = harness.settings
    producer = Producer(producer_config(settings))
    sent = [("traceparent", TRACEPARENT.encode()), ("tracestate", TRACESTATE.encode())]
    eid, refused = new_id("passthrough"), new_id("refused")
    for execution_id, books in ((eid, ["traced"]), (refused, ["no_such_book"])):
        command = StartCommand(
            execution_id=execution_id, program=ProgramSpec(source=PROGRAM), books=books
        )
        producer.produce(
            settings.control_topic,
            key=execution_id,
            value=dump(command),
            headers=[*sent, ("unrelated", b"x")],
        )
    assert producer.flush(30) == 0
    done = harness.terminal(eid)
    assert done.event == "completed"
    events, records = _outputs(harness, eid, 3, done.log_records or 0)
    for msg in events + records:
        headers = msg.headers()
        assert headers == sent, headers  # exactly the start's two, nothing else
    # A rejected start's event carries them too.
    assert harness.terminal(refused).event == "rejected"
    (rejection,) = [m for m in harness.events.poll() if m.key() == refused.encode()]
    assert rejection.headers() == sent
    assert _headers(rejection)["traceparent"][3:35].decode() == TRACE_ID


def test_a_start_without_trace_headers_produces_outputs_without_them(
    harness: Harness, client: Any
) -> None:
    harness.start_worker(extra_books=BOOKS)
    eid = client.start(PROGRAM, books=["traced"], execution_id=new_id("untraced"))
    assert harness.terminal(eid).event == "completed"
    assert _control_message(harness, eid).headers() is None  # no context, no header
    events, records = _outputs(harness, eid, 3, 1)
    assert all(m.headers() is None for m in events + records)


def test_jarvis_submit_with_tracing_on_sends_its_producer_spans_context(
    harness: Harness, tmp_path: Any
) -> None:
    """``jarvis submit`` (no worker needed): JARVIS_TRACING=console prints its spans on stderr;
    the start it sent carries the context of its ``send`` span."""
    settings = harness.settings
    program = tmp_path / "double.spy"
    program.write_text("result = inputs['n'] * 2\n")
    eid = new_id("submitted")
    env = {
        **os.environ,
        "JARVIS_CONFIG": "/dev/null",
        "JARVIS_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "JARVIS_CONTROL_TOPIC": settings.control_topic,
        "JARVIS_TRACING": "console",
        "OTEL_SERVICE_NAME": "submit-test",
    }
    done = subprocess.run(
        [sys.executable, "-m", "jarvis.cli", "submit", str(program), "-i", "n=21", "--id", eid],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    span = re.search(
        r'"name": "send '
        + re.escape(settings.control_topic)
        + r'".*?"trace_id": "0x([0-9a-f]{32})",'
        r'\s*"span_id": "0x([0-9a-f]{16})".*?"kind": "SpanKind.PRODUCER".*?"service.name": "submit-test"',
        done.stderr,
        re.S,
    )
    assert span is not None, done.stderr
    assert _ids(_control_message(harness, eid)) == (span[1], span[2])


ORCHESTRATOR = """
import json, sys
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from jarvis.client import JarvisClient

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)  # the application's own OpenTelemetry setup

with trace.get_tracer("orchestrator").start_as_current_span("handle order") as parent:
    with JarvisClient() as client:
        client.start("result = 1", execution_id=sys.argv[1])
spans = {s.name: s for s in exporter.get_finished_spans()}
send = next(s for name, s in spans.items() if name.startswith("send "))
print(json.dumps({
    "parent": format(parent.get_span_context().span_id, "016x"),
    "trace": format(send.context.trace_id, "032x"),
    "send": format(send.context.span_id, "016x"),
    "send_parent": format(send.parent.span_id, "016x"),
    "kind": str(send.kind),
    "scope": send.instrumentation_scope.name,
}))
"""


def test_an_orchestrators_own_opentelemetry_setup_gets_the_producer_span(
    harness: Harness,
) -> None:
    """JARVIS_TRACING unset (off): JarvisClient still makes its PRODUCER span with the
    application's tracer provider, under the application's span, and sends its context."""
    settings = harness.settings
    eid = new_id("orchestrated")
    env = {
        **os.environ,
        "JARVIS_CONFIG": "/dev/null",
        "JARVIS_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "JARVIS_CONTROL_TOPIC": settings.control_topic,
    }
    env.pop("JARVIS_TRACING", None)
    done = subprocess.run(
        [sys.executable, "-c", ORCHESTRATOR, eid],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    seen = orjson.loads(done.stdout.strip().splitlines()[-1])
    assert seen["send_parent"] == seen["parent"]
    assert seen["kind"] == "SpanKind.PRODUCER" and seen["scope"] == "jarvis.client"
    assert _ids(_control_message(harness, eid)) == (seen["trace"], seen["send"])
