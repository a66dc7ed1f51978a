"""The worker's own logs as JSON lines (jarvis.telemetry.logs)."""

from __future__ import annotations

import contextvars
import io
import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from jarvis.telemetry import logs, tracing
from tests.helpers import ROOT
from tests.telemetry.spans import TRACE_ID, TRACEPARENT, Spans, hex_ids


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    level = logging.getLogger().level
    handler = logs.setup("json", "DEBUG", worker="pod-7", stream=out)
    try:
        yield out
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(level)
        logs.ENABLED = False


def lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in out.getvalue().splitlines()]


def test_each_record_is_one_json_object_on_one_line(stream: io.StringIO) -> None:
    log = logging.getLogger("jarvis.worker")
    log.info("plain %s", "text")
    log.warning("two\nlines", extra={"attempt": 2, "odd": object()})
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        log.exception("it broke")
    first, second, third = lines(stream)
    assert first["message"] == "plain text" and first["level"] == "INFO"
    assert first["logger"] == "jarvis.worker" and first["worker"] == "pod-7"
    assert first["ts"].endswith("+00:00") and "T" in first["ts"]
    assert "execution_id" not in first and "trace_id" not in first  # none known here
    assert second["message"] == "two\nlines" and second["attempt"] == 2
    assert second["odd"].startswith("<object object")  # not JSON-able: its repr
    assert third["level"] == "ERROR"
    assert "ZeroDivisionError: division by zero" in third["exception"]
    assert third["exception"].startswith("Traceback")


def test_an_execution_threads_lines_carry_its_id_and_trace(stream: io.StringIO) -> None:
    """Tracing off: the trace id is the start's traceparent's. Threads started with a copy
    of the context (Book attempts) log under the same execution; other threads do not."""
    log = logging.getLogger("jarvis.execution")
    token = logs.bind(
        "exec-9", tracing.trace_id_of(tracing.incoming([("traceparent", TRACEPARENT.encode())]))
    )
    try:
        log.info("running")
        book = threading.Thread(target=contextvars.copy_context().run, args=(log.info, "in a Book"))
        book.start()
        book.join()
    finally:
        logs.unbind(token)
    other = threading.Thread(target=log.info, args=("elsewhere",))
    other.start()
    other.join()
    log.info("after")
    running, in_book, elsewhere, after = lines(stream)
    for line in (running, in_book):
        assert line["execution_id"] == "exec-9" and line["trace_id"] == TRACE_ID
        assert "span_id" not in line  # no span of ours when tracing is off
    assert "execution_id" not in elsewhere and "execution_id" not in after


def test_with_tracing_on_lines_carry_the_current_span(stream: io.StringIO, spans: Spans) -> None:
    log = logging.getLogger("jarvis.worker")
    parent = tracing.incoming([("traceparent", TRACEPARENT.encode())])
    token = logs.bind("exec-10", tracing.trace_id_of(parent))
    try:
        with tracing.consume("exec-10", parent, topic="c", partition=0, offset=0, group="g"):
            log.info("in the execution span")
            with tracing.span("book x.y"):
                log.info("in a child span")
    finally:
        logs.unbind(token)
    outer, inner = lines(stream)
    assert (outer["trace_id"], outer["span_id"]) == hex_ids(spans.one("process c"))
    assert (inner["trace_id"], inner["span_id"]) == hex_ids(spans.one("book x.y"))
    assert inner["trace_id"] == TRACE_ID and outer["execution_id"] == "exec-10"


def test_text_format_binds_nothing() -> None:
    out = io.StringIO()
    level = logging.getLogger().level
    handler = logs.setup("text", "INFO", stream=out)
    try:
        assert logs.bind("exec-1", TRACE_ID) is None
        logging.getLogger("jarvis.worker").info("hello")
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(level)
    line = out.getvalue().strip()
    assert line.endswith("INFO jarvis.worker hello")
    with pytest.raises(ValueError, match="not one of text, json"):
        logs.setup("xml", stream=out)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"log level 'LOUD' is not one of CRITICAL, .*DEBUG"):
        logs.setup("text", "loud", stream=out)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("JARVIS_LOG_FORMAT", "bogus", "JARVIS_LOG_FORMAT='bogus' is not one of: text, json"),
        ("JARVIS_TRACING", "jaeger", "JARVIS_TRACING='jaeger' is not one of: off, otlp, console"),
    ],
)
def test_jarvis_worker_refuses_an_invalid_value_naming_the_valid_ones(
    variable: str, value: str, message: str
) -> None:
    env = {"PATH": "/usr/bin:/bin", "JARVIS_CONFIG": "/dev/null", variable: value}
    done = subprocess.run(
        [sys.executable, "-m", "jarvis.cli", "worker"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
