"""Tracing into memory for tests: ``in_memory()`` installs a tracer whose spans land in an
in-memory exporter; ``Spans`` reads the tree. Plain Python: the ``spans`` fixtures use it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from jarvis.telemetry import tracing

# A caller's span context, as an orchestrator would send it.
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"
TRACESTATE = "vendor=opaque,other=1"


class Spans:
    """What the in-memory exporter holds, with a few ways to look at the tree."""

    def __init__(self, exporter: InMemorySpanExporter) -> None:
        self.exporter = exporter

    def all(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.all() if s.name == name]

    def one(self, name: str) -> ReadableSpan:
        found = self.named(name)
        assert len(found) == 1, f"{len(found)} spans named {name!r}: {[s.name for s in self.all()]}"
        return found[0]

    def children(self, parent: ReadableSpan) -> list[ReadableSpan]:
        pid = parent.context.span_id
        return sorted(
            (s for s in self.all() if s.parent is not None and s.parent.span_id == pid),
            key=lambda s: s.start_time or 0,
        )

    def clear(self) -> None:
        self.exporter.clear()


def hex_ids(span: Any) -> tuple[str, str]:
    ctx = span.context if hasattr(span, "context") else span
    return f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"


@contextmanager
def in_memory() -> Iterator[Spans]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    try:
        yield Spans(exporter)
    finally:
        tracing.uninstall()
        provider.shutdown()
