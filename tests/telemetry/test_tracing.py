"""Tracing in-process (jarvis.telemetry.tracing): the span tree of an execution, the trace
headers, what the journal keeps, and that nothing is traced when tracing is off."""

from __future__ import annotations

import contextlib
import timeit
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.trace import SpanKind, StatusCode

from jarvis.artifacts import LocalArtifactStore
from jarvis.books import BookRegistry
from jarvis.contract import StartCommand
from jarvis.execution import ListSink, RunConfig, run_execution
from jarvis.execution.runner import Outcome
from jarvis.journal import Journal
from jarvis.settings import Settings
from jarvis.telemetry import tracing
from tests.telemetry.books import PROGRAM, traced
from tests.telemetry.spans import PARENT_ID, TRACE_ID, TRACEPARENT, TRACESTATE, Spans, hex_ids

INCOMING = [("traceparent", TRACEPARENT.encode()), ("tracestate", TRACESTATE.encode())]


def _registry() -> BookRegistry:
    registry = BookRegistry()
    registry.register(traced, replace=True)
    return registry


def _execute(tmp: Path, eid: str, registry: BookRegistry) -> tuple[Outcome, ListSink]:
    command = StartCommand.model_validate(
        {"execution_id": eid, "program": {"source": PROGRAM}, "books": ["traced"]}
    )
    config = RunConfig(
        journal_root=tmp / "journals",
        worker_id="t",
        artifacts=LocalArtifactStore(tmp / "artifacts"),
        books=registry,
        procedures=registry.procedures(["traced"]),
    )
    sink = ListSink()
    return run_execution(command, PROGRAM, config, sink), sink


def _run_as_worker(tmp: Path, eid: str, registry: BookRegistry) -> tuple[Outcome, Any]:
    """What an execution thread does: the attempt's span around the run, from the start's headers."""
    parent = tracing.incoming(INCOMING)
    with tracing.consume(
        eid, parent, topic="spy_control", partition=3, offset=42, group="jarvis-workers"
    ) as headers:
        outcome, _ = _execute(tmp, eid, registry)
    return outcome, headers


def test_the_span_tree_of_an_execution_with_two_book_calls_one_retried(
    tmp_path: Path, spans: Spans
) -> None:
    eid = "traced-1"
    outcome, headers = _run_as_worker(tmp_path, eid, _registry())
    assert outcome.event.event == "completed" and outcome.event.result == 43

    root = spans.one("process spy_control")
    assert root.kind == SpanKind.CONSUMER
    assert hex_ids(root)[0] == TRACE_ID  # the orchestrator's trace
    assert root.parent is not None and root.parent.is_remote
    assert f"{root.parent.span_id:016x}" == PARENT_ID
    attrs = dict(root.attributes or {})
    assert attrs["messaging.system"] == "kafka"
    assert attrs["messaging.destination.name"] == "spy_control"
    assert attrs["messaging.destination.partition.id"] == "3"
    assert attrs["messaging.kafka.offset"] == 42
    assert attrs["messaging.consumer.group.name"] == "jarvis-workers"
    assert attrs["jarvis.execution_id"] == eid
    assert attrs["jarvis.resumed"] is False

    # The outputs carry the execution span's context: same trace, the caller's tracestate.
    assert headers == [
        ("traceparent", f"00-{TRACE_ID}-{hex_ids(root)[1]}-01".encode()),
        ("tracestate", TRACESTATE.encode()),
    ]

    assert [s.name for s in spans.children(root)] == [
        "book traced.double",
        "book traced.flaky",
        "artifact upload",
    ]
    double, flaky, upload = spans.children(root)
    assert dict(double.attributes or {})["jarvis.idempotency_key"] == f"{eid}:0"
    assert [s.name for s in spans.children(double)] == ["book attempt traced.double"]
    assert spans.children(double)[0].status.status_code != StatusCode.ERROR

    first, second = spans.children(flaky)
    assert [first.name, second.name] == ["book attempt traced.flaky"] * 2
    assert first.kind == SpanKind.CLIENT
    assert [dict(s.attributes or {})["jarvis.book.attempt"] for s in (first, second)] == [1, 2]
    assert first.status.status_code == StatusCode.ERROR
    assert [e.name for e in first.events] == ["exception"]
    assert (
        dict(first.events[0].attributes or {})["exception.type"] == "jarvis.bdk.errors.Unavailable"
    )
    assert second.status.status_code != StatusCode.ERROR
    assert flaky.status.status_code != StatusCode.ERROR  # the call succeeded in the end

    assert dict(upload.attributes or {})["jarvis.artifact.name"] == "report.txt"
    assert dict(upload.attributes or {})["jarvis.artifact.bytes"] == len(b"42 43")
    # Every span is in the caller's trace.
    assert {hex_ids(s)[0] for s in spans.all()} == {TRACE_ID}


def test_a_resumed_execution_replays_its_journal_in_a_span_and_calls_nothing_again(
    tmp_path: Path, spans: Spans
) -> None:
    eid = "traced-2"
    registry = _registry()
    first, _ = _run_as_worker(tmp_path, eid, registry)
    assert first.event.event == "completed"
    journal = Journal.open(tmp_path / "journals", eid)
    assert [e.name for e in journal.effects] == ["book", "book", "artifact"]
    lines = journal.path.read_bytes().splitlines(keepends=True)
    journal.path.write_bytes(b"".join(lines[:-1]))  # no end: the next run resumes by replay
    spans.clear()

    second, _ = _run_as_worker(tmp_path, eid, registry)
    assert second.event.event == "completed" and second.event.result == first.event.result
    root = spans.one("process spy_control")
    assert dict(root.attributes or {})["jarvis.resumed"] is True
    assert [s.name for s in spans.children(root)] == ["journal replay"]
    replay = spans.one("journal replay")
    assert dict(replay.attributes or {})["jarvis.journal.effects"] == 3
    assert dict(replay.attributes or {})["jarvis.journal.replayed"] == 3
    assert replay.status.status_code != StatusCode.ERROR
    assert hex_ids(replay)[0] == TRACE_ID
    # Replayed effects are answered from the journal: no Book attempt, no upload.
    assert not [s for s in spans.all() if s.name.startswith(("book", "artifact"))]


def test_a_failed_execution_marks_its_span_failed(tmp_path: Path, spans: Spans) -> None:
    with tracing.consume("e", None, topic="spy_control", partition=0, offset=1, group="g"):
        tracing.outcome("failed", "ZeroDivisionError", "division by zero")
    root = spans.one("process spy_control")
    assert root.parent is None  # no traceparent: a trace of its own
    assert root.status.status_code == StatusCode.ERROR
    assert root.status.description == "ZeroDivisionError: division by zero"
    assert dict(root.attributes or {})["jarvis.outcome"] == "failed"
    assert dict(root.attributes or {})["error.type"] == "ZeroDivisionError"


def test_a_take_over_span_has_no_partition_or_offset(spans: Spans) -> None:
    with tracing.consume(
        "e", tracing.incoming(INCOMING), topic="spy_control", partition=None, offset=None, group="g"
    ):
        pass
    attrs = dict(spans.one("process spy_control").attributes or {})
    assert attrs["jarvis.takeover"] is True
    assert "messaging.destination.partition.id" not in attrs
    assert "messaging.kafka.offset" not in attrs


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (None, None),
        ([], None),
        ([("other", b"x")], None),
        ([("traceparent", TRACEPARENT.encode())], [("traceparent", TRACEPARENT.encode())]),
        ([("TraceParent", TRACEPARENT.encode())], [("traceparent", TRACEPARENT.encode())]),
        ({"traceparent": TRACEPARENT}, [("traceparent", TRACEPARENT.encode())]),
        (INCOMING, INCOMING),
        ([("tracestate", b"a=1")], None),  # a tracestate alone means nothing
        ([("traceparent", TRACEPARENT.upper().encode())], None),  # upper case is invalid
        ([("traceparent", f"ff-{TRACE_ID}-{PARENT_ID}-01".encode())], None),
        ([("traceparent", f"00-{'0' * 32}-{PARENT_ID}-01".encode())], None),
        ([("traceparent", f"00-{TRACE_ID}-{'0' * 16}-01".encode())], None),
        ([("traceparent", f"00-{TRACE_ID}-{PARENT_ID}-01-extra".encode())], None),
        ([("traceparent", b"garbage")], None),
        ([("traceparent", None)], None),
        # A later version may add fields; its first four are still understood.
        (
            [("traceparent", f"01-{TRACE_ID}-{PARENT_ID}-01-x".encode())],
            [("traceparent", f"01-{TRACE_ID}-{PARENT_ID}-01-x".encode())],
        ),
        # A tracestate past W3C's 512 bytes is dropped; the traceparent stays.
        (
            [("traceparent", TRACEPARENT.encode()), ("tracestate", b"a=" + b"x" * 511)],
            [("traceparent", TRACEPARENT.encode())],
        ),
    ],
)
def test_incoming_trace_headers(headers: Any, expected: Any) -> None:
    assert tracing.incoming(headers) == expected


def test_trace_headers_round_trip_through_the_journal(tmp_path: Path) -> None:
    class Fence:
        token = 1

        def check(self) -> None:
            pass

    headers = tracing.incoming(INCOMING)
    journal = Journal.open(tmp_path, "e", fence=Fence())
    journal.take_over({"execution_id": "e"}, tracing.to_journal(headers))
    journal.close()
    again = Journal.open(tmp_path, "e")
    assert again.command == {"execution_id": "e"}
    assert again.trace == {"traceparent": TRACEPARENT, "tracestate": TRACESTATE}
    assert tracing.from_journal(again.trace) == headers
    assert tracing.trace_id_of(headers) == TRACE_ID
    # A journal written before traces were kept, or a tampered value: no trace, no error.
    assert tracing.from_journal(None) is None
    assert tracing.from_journal({"traceparent": "nonsense"}) is None


class _Counter:
    def __init__(self) -> None:
        self.calls = 0

    def wrap(self, fn: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return fn(*args, **kwargs)

        return counted


def test_tracing_off_makes_no_span_and_touches_no_context(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Off (the default), an execution with Book calls, a retry and an upload never reaches
    OpenTelemetry: no span started, no context attached, no header injected or extracted."""
    import opentelemetry.context
    import opentelemetry.sdk.trace
    import opentelemetry.trace
    from opentelemetry.trace.propagation import tracecontext

    counter = _Counter()
    for owner, name in [
        (opentelemetry.sdk.trace.Tracer, "start_span"),
        (opentelemetry.sdk.trace.Tracer, "start_as_current_span"),
        (opentelemetry.trace.NoOpTracer, "start_span"),
        (opentelemetry.trace.ProxyTracer, "start_span"),
        (opentelemetry.context, "attach"),
        (tracecontext.TraceContextTextMapPropagator, "inject"),
        (tracecontext.TraceContextTextMapPropagator, "extract"),
        (tracing, "_start"),
    ]:
        monkeypatch.setattr(owner, name, counter.wrap(getattr(owner, name)))
    assert not tracing.ENABLED
    registry = _registry()
    outcome, _ = _execute(tmp_path, "off-1", registry)
    assert outcome.event.event == "completed" and outcome.event.result == 43
    assert tracing.span("x", {"a": 1}) is tracing.NOOP
    assert tracing.current() is None and tracing.current_ids() is None
    assert counter.calls == 0

    # The same run with tracing on goes through every counted function: the counter works.
    from opentelemetry.sdk.trace import TracerProvider

    tracing.install(TracerProvider())
    try:
        with tracing.consume(
            "on-1", tracing.incoming(INCOMING), topic="c", partition=0, offset=0, group="g"
        ):
            outcome, _ = _execute(tmp_path, "on-1", registry)
    finally:
        tracing.uninstall()
    assert outcome.event.event == "completed"
    assert counter.calls > 10

    # What a disabled span costs, for the record (printed; timings are never asserted).
    n = 200_000
    off = timeit.timeit(lambda: tracing.span("book attempt t.x", None).__enter__(), number=n)
    null = timeit.timeit(lambda: contextlib.nullcontext().__enter__(), number=n)
    print(
        f"\ntracing off: span() {off / n * 1e9:.0f} ns a call (nullcontext: {null / n * 1e9:.0f} ns)"
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("JARVIS_TRACING", "bogus", "JARVIS_TRACING='bogus' is not one of: off, otlp, console"),
        ("JARVIS_TRACING", "", "JARVIS_TRACING='' is not one of: off, otlp, console"),
        ("JARVIS_LOG_FORMAT", "xml", "JARVIS_LOG_FORMAT='xml' is not one of: text, json"),
    ],
)
def test_an_invalid_setting_names_the_variable_and_the_valid_values(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        Settings()


def test_settings_accept_the_valid_values_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (Settings().tracing, Settings().log_format) == ("off", "text")  # the defaults
    monkeypatch.setenv("JARVIS_TRACING", "OTLP")
    monkeypatch.setenv("JARVIS_LOG_FORMAT", " Json ")
    assert (Settings().tracing, Settings().log_format) == ("otlp", "json")
