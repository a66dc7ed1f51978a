"""OpenTelemetry traces of executions, linked to the orchestrator's trace (W3C trace context).

An orchestrator puts a W3C ``traceparent`` (and optionally ``tracestate``) Kafka header on a
start command (``JarvisClient.start`` does it from the current context). The worker:

- always reads those two headers (``incoming``: a scan of the message's few headers) and,
  with tracing off, copies them unchanged onto every log record and lifecycle event the
  execution produces, so orchestrators can still correlate;
- with tracing on (``JARVIS_TRACING=otlp|console``), runs each execution attempt in a
  CONSUMER span whose parent is that context, with child spans for Book calls and each of
  their attempts, journal replay and artifact uploads; the outputs then carry the
  execution span's own context (same trace id).

The journal keeps the start's trace headers with the start command, so an execution resumed
from its journal (take-over) stays in its trace.

Cost when off: no OpenTelemetry module is imported, no span or context object is made. The
hot paths test one module-level flag, ``ENABLED``, or call ``span()``, which then returns a
shared no-op context manager. Exporting runs on the SDK's batch thread, never on an
execution thread. The standard OTEL_* variables apply (OTEL_EXPORTER_OTLP_ENDPOINT,
OTEL_EXPORTER_OTLP_TRACES_*, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
OTEL_TRACES_SAMPLER[_ARG], OTEL_BSP_*); the wire format is W3C trace context, whatever
OTEL_PROPAGATORS says, because the Kafka contract names those headers.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Literal

from jarvis import __version__

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
MAX_TRACESTATE_BYTES = 512
"""W3C trace context: a tracestate is at most 512 characters; a longer one is dropped."""

Headers = list[tuple[str, bytes]]
"""Kafka headers as (name, value) pairs."""

TracingMode = Literal["off", "otlp", "console"]

ENABLED = False
"""True while a tracer is installed (``configure``/``install``): what the hot paths test."""

_tracer: Any = None
_provider: Any = None
_lock = threading.Lock()

_TRACEPARENT = re.compile(rb"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(-.*)?\Z")
_ZERO_TRACE = b"0" * 32
_ZERO_SPAN = b"0" * 16


def valid_traceparent(value: bytes) -> bool:
    """A W3C traceparent this worker can pass on (version 00 exactly; later versions may add
    fields after the four known ones; ``ff``, all-zero ids and upper case are invalid)."""
    m = _TRACEPARENT.match(value)
    if m is None:
        return False
    version, trace_id, span_id, extra = m.groups()
    if version == b"ff" or (version == b"00" and extra is not None):
        return False
    return trace_id != _ZERO_TRACE and span_id != _ZERO_SPAN


def incoming(
    raw: Sequence[tuple[str, str | bytes | None]] | Mapping[str, str | bytes | None] | None,
) -> Headers | None:
    """The trace headers of a consumed message: ``traceparent`` (then ``tracestate``), or None.

    An invalid traceparent is ignored, as W3C trace context asks of a receiver (the command
    still runs; it just starts no trace of the caller's); so is a tracestate without one, or
    one longer than 512 bytes.
    """
    if not raw:
        return None
    parent: bytes | None = None
    state: bytes | None = None
    for name, value in raw.items() if isinstance(raw, Mapping) else raw:
        if value is None:
            continue
        if isinstance(value, str):
            value = value.encode()
        lname = name.lower()
        if lname == TRACEPARENT:
            parent = value
        elif lname == TRACESTATE:
            state = value
    if parent is None or not valid_traceparent(parent):
        return None
    out: Headers = [(TRACEPARENT, parent)]
    if state and len(state) <= MAX_TRACESTATE_BYTES:
        out.append((TRACESTATE, state))
    return out


def trace_id_of(headers: Headers | None) -> str | None:
    """The trace id (32 hex digits) in trace headers from ``incoming``, or None."""
    if not headers:
        return None
    return headers[0][1][3:35].decode()


def to_journal(headers: Headers | None) -> dict[str, str] | None:
    """Trace headers as the journal keeps them (with the start command), or None."""
    if not headers:
        return None
    return {name: value.decode() for name, value in headers}


def from_journal(data: object) -> Headers | None:
    """Trace headers read back from a journal (``to_journal``), validated like a message's."""
    if not isinstance(data, Mapping):
        return None
    pairs = [(str(k), v.encode()) for k, v in data.items() if isinstance(v, str)]
    return incoming(pairs)


# --- setup ---


def configure(mode: TracingMode, worker_id: str | None = None) -> None:
    """Turn tracing on for this process (``otlp`` or ``console``); ``off`` leaves it off.

    Uses the global OpenTelemetry tracer provider when the process already configured an SDK
    one (an orchestrator's own setup, say); else makes one (resource from OTEL_SERVICE_NAME
    and OTEL_RESOURCE_ATTRIBUTES, service name ``jarvis`` by default; sampler from
    OTEL_TRACES_SAMPLER) with a batch processor, and makes it the global provider so that
    instrumentation inside Books reports into the same traces.
    """
    if mode == "off":
        return
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

    with _lock:
        if ENABLED:
            return
        current = trace.get_tracer_provider()
        if isinstance(current, TracerProvider):
            install(current)
            return
        attributes: dict[str, str] = {"service.version": __version__}
        if worker_id:
            attributes["service.instance.id"] = worker_id
        resource = Resource.create(attributes)
        if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
            resource = resource.merge(Resource({"service.name": "jarvis"}))
        provider = TracerProvider(resource=resource)
        exporter: SpanExporter
        if mode == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()
        else:
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            exporter = ConsoleSpanExporter(out=sys.stderr)
        provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        install(provider)


def install(provider: Any) -> None:
    """Trace with ``provider`` (an SDK TracerProvider); tests pass one with an in-memory
    exporter. Does not touch the global provider."""
    global ENABLED, _tracer, _provider
    _provider = provider
    _tracer = provider.get_tracer("jarvis", __version__)
    ENABLED = True


def uninstall() -> None:
    """Tracing off again (tests)."""
    global ENABLED, _tracer, _provider
    ENABLED = False
    _tracer = _provider = None


# --- spans ---


class _NoSpan(AbstractContextManager[None]):
    """What ``span()`` returns with tracing off: one shared object, nothing done."""

    def __exit__(self, *exc: object) -> None:
        return None


NOOP = _NoSpan()


def span(
    name: str, attributes: Mapping[str, Any] | None = None, kind: str = "INTERNAL"
) -> AbstractContextManager[Any]:
    """A child span of the current one around a block (exceptions leaving the block are
    recorded on it with status ERROR); with tracing off, the shared no-op ``NOOP``."""
    if not ENABLED:
        return NOOP
    return _start(name, attributes, kind)


def _start(
    name: str, attributes: Mapping[str, Any] | None, kind: str
) -> AbstractContextManager[Any]:
    from opentelemetry.trace import SpanKind

    return _tracer.start_as_current_span(  # type: ignore[no-any-return]
        name, kind=SpanKind[kind], attributes=attributes
    )


def start_span(name: str, attributes: Mapping[str, Any] | None = None) -> Any:
    """A child span of the current one that the caller ends (``end``); None when off."""
    if not ENABLED:
        return None
    return _tracer.start_span(name, attributes=attributes)


def end(span_: Any, error: BaseException | str | None = None) -> None:
    """End a span from ``start_span`` (None: nothing), with status ERROR when ``error``."""
    if span_ is None:
        return
    if error is not None:
        fail(span_, error)
    span_.end()


def fail(span_: Any, error: BaseException | str) -> None:
    """Mark ``span_`` failed: status ERROR with the error's description (and the exception
    as an event, when it is one)."""
    from opentelemetry.trace import Status, StatusCode

    if isinstance(error, BaseException):
        span_.record_exception(error)
        text = f"{type(error).__name__}: {error}"
    else:
        text = error
    span_.set_status(Status(StatusCode.ERROR, text[:1024]))


def current() -> Any:
    """The current span (tracing on), for attributes known only later; None when off."""
    if not ENABLED:
        return None
    from opentelemetry import trace

    return trace.get_current_span()


def current_ids() -> tuple[str, str] | None:
    """(trace id, span id) of the current span in hex, when tracing is on and one is valid."""
    if not ENABLED:
        return None
    from opentelemetry import trace

    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None
    return f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"


def _carrier(headers: Headers | None) -> dict[str, str]:
    return {name: value.decode() for name, value in headers or ()}


def _w3c() -> Any:
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    return TraceContextTextMapPropagator()


def inject() -> Headers | None:
    """The current context as W3C trace headers (None when there is no valid span)."""
    carrier: dict[str, str] = {}
    _w3c().inject(carrier)
    if TRACEPARENT not in carrier:
        return None
    return [(name, value.encode()) for name, value in carrier.items()]


@contextmanager
def consume(
    execution_id: str,
    parent: Headers | None,
    *,
    topic: str,
    partition: int | None,
    offset: int | None,
    group: str,
) -> Iterator[Headers | None]:
    """The span of one execution attempt (tracing must be on: check ``ENABLED``), child of
    the start command's trace context; yields the trace headers for its outputs.

    Messaging semantic conventions (Kafka consumer, operation ``process``); ``partition`` and
    ``offset`` are None for a take-over, which resumes from the journal, not from a message.
    The runner adds ``jarvis.attempt`` (the how-manieth owner of the journal this is) and
    what the journal held (``jarvis.execution.runner``).
    """
    from opentelemetry.trace import SpanKind

    attributes: dict[str, Any] = {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.operation.name": "process",
        "messaging.destination.name": topic,
        "messaging.consumer.group.name": group,
        "messaging.kafka.message.key": execution_id,
        "jarvis.execution_id": execution_id,
        "jarvis.takeover": partition is None,
    }
    if partition is not None:
        attributes["messaging.destination.partition.id"] = str(partition)
    if offset is not None:
        attributes["messaging.kafka.offset"] = offset
    context = _w3c().extract(_carrier(parent)) if parent else None
    with _tracer.start_as_current_span(
        f"process {topic}", context=context, kind=SpanKind.CONSUMER, attributes=attributes
    ):
        yield inject()


def outcome(event: str, error_type: str | None = None, message: str | None = None) -> None:
    """Record an execution's outcome on the current (execution) span; ``failed`` and
    ``rejected`` set status ERROR."""
    span_ = current()
    if span_ is None:
        return
    span_.set_attribute("jarvis.outcome", event)
    if error_type is not None:
        span_.set_attribute("error.type", error_type)
    if event in ("failed", "rejected"):
        fail(span_, f"{error_type or event}: {message or ''}".rstrip(": "))


@contextmanager
def produce(topic: str, execution_id: str) -> Iterator[Headers | None]:
    """For a client sending a start: a PRODUCER span (when a tracer is installed here or the
    process configured OpenTelemetry itself) and the trace headers to send with the message.
    Without either, the current context's headers (if any), else None."""
    try:
        from opentelemetry import trace
        from opentelemetry.trace import SpanKind
    except ImportError:  # pragma: no cover - opentelemetry-api is a dependency
        yield None
        return
    tracer = _tracer if ENABLED else trace.get_tracer("jarvis.client", __version__)
    with tracer.start_as_current_span(
        f"send {topic}",
        kind=SpanKind.PRODUCER,
        attributes={
            "messaging.system": "kafka",
            "messaging.operation.type": "send",
            "messaging.operation.name": "send",
            "messaging.destination.name": topic,
            "messaging.kafka.message.key": execution_id,
            "jarvis.execution_id": execution_id,
        },
    ):
        yield inject()
