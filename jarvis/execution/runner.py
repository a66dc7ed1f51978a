"""Run one execution to an outcome: validate, journal the start, run (or replay), journal the end.

Only values come out of here: an ``Outcome`` whose terminal lifecycle event the caller
publishes. Nothing in this module talks to Kafka (CONVENTIONS.md §4).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jarvis.contract.messages import ErrorInfo, LifecycleEvent, StartCommand, TraceFrame
from jarvis.errors import (
    JarvisError,
    JournalError,
    NonDeterminismError,
    SpyRuntimeError,
    SpySyntaxError,
    Stopped,
)
from jarvis.execution.config import RunConfig
from jarvis.execution.host import ExecutionHost
from jarvis.execution.sinks import Sink
from jarvis.journal import FORMAT_VERSION, Journal
from jarvis.spy import Program, compile_program, render_value, run_program


@dataclass(frozen=True)
class Outcome:
    """How an execution ended (or paused). ``event`` is the terminal (or suspend) event."""

    event: LifecycleEvent
    reannounced: bool = False  # the journal already held this outcome (duplicate start)
    handoff: bool = False  # interrupted for another worker to resume: publish nothing
    duration_s: float = 0.0

    @property
    def suspended(self) -> bool:
        return self.event.event == "stopped" and self.event.stop_mode == "suspend"


def error_info(exc: BaseException) -> ErrorInfo:
    """Describe an execution error for a lifecycle event: SPy coordinates, no host frames."""
    if isinstance(exc, SpySyntaxError):
        return ErrorInfo(
            type="SpySyntaxError",
            message=exc.message,
            line=exc.line,
            col=exc.col + 1,
            frames=[TraceFrame(function="<module>", line=exc.line, col=exc.col + 1, source_line=exc.source_line)],
            traceback=exc.render(),
        )
    if isinstance(exc, SpyRuntimeError):
        return ErrorInfo(
            type=exc.spy_type,
            message=exc.message,
            line=exc.line,
            col=None if exc.col is None else exc.col + 1,
            frames=[
                TraceFrame(function=f.function, line=f.line, col=f.col + 1, source_line=f.source_line)
                for f in exc.frames
            ],
            traceback=exc.render(),
        )
    return ErrorInfo(type=type(exc).__name__, message=str(exc), traceback=f"{type(exc).__name__}: {exc}")


def run_execution(
    command: StartCommand,
    source: str,
    config: RunConfig,
    sink: Sink,
    on_host: Callable[[ExecutionHost], None] | None = None,
) -> Outcome:
    """Run ``command`` (whose program text is ``source``) to an outcome.

    Resumes by replay when the journal already has a start; re-announces the recorded
    outcome when it already has an end.
    """
    started = time.monotonic()
    eid = command.execution_id
    worker_id = config.worker_id

    def event(kind: str, **fields: Any) -> LifecycleEvent:
        return LifecycleEvent(
            execution_id=eid, event=kind, worker=worker_id, labels=command.labels, **fields  # type: ignore[arg-type]
        )

    try:
        journal = Journal.open(config.journal_root, eid, fence=config.fence)
        journal.take_over()
    except JournalError as exc:
        return Outcome(event("failed", error=error_info(exc)))
    except Stopped:  # the lease was lost before we even started
        return Outcome(event("stopped", stop_mode="suspend"), handoff=True)
    try:
        return _run(command, source, config, sink, on_host, journal, event, started)
    except Stopped:
        # Lease lost while journaling: another pod owns the execution now; say nothing.
        return Outcome(event("stopped", stop_mode="suspend"), handoff=True)
    finally:
        journal.close()


def _run(
    command: StartCommand,
    source: str,
    config: RunConfig,
    sink: Sink,
    on_host: Callable[[ExecutionHost], None] | None,
    journal: Journal,
    event: Callable[..., LifecycleEvent],
    started: float,
) -> Outcome:
    eid = command.execution_id
    if journal.end is not None:
        return Outcome(LifecycleEvent.model_validate(journal.end["event"]), reannounced=True)

    def finish(ev: LifecycleEvent, durable: bool = True) -> Outcome:
        # On failure the event still goes out; a later start re-runs the replay.
        with contextlib.suppress(JournalError):
            if durable:
                journal.append({"t": "end", "event": ev.model_dump(mode="json")})
            else:
                journal.sync()  # the event may depend on effects written since the last fsync
        return Outcome(ev, duration_s=time.monotonic() - started)

    try:
        program: Program = compile_program(
            source, filename=command.program.filename,
            log_level=command.options.log_level, max_program_bytes=config.max_program_bytes,
        )
    except (SpySyntaxError, SpyRuntimeError) as exc:  # syntax, or a program-size limit
        return finish(event("rejected", error=error_info(exc), log_records=0))

    recorded = journal.start
    if recorded is not None and recorded["digest"] != program.digest:
        err = NonDeterminismError(eid, -1, f"program {recorded['digest'][:12]}", f"program {program.digest[:12]}")
        return finish(event("failed", program_digest=program.digest, error=error_info(err), log_records=0))
    if recorded is None:
        try:
            journal.append(
                {
                    "t": "start",
                    "format": FORMAT_VERSION,
                    "digest": program.digest,
                    "filename": command.program.filename,
                    "inputs": command.inputs,
                    "books": command.books,
                    "at": datetime.now(UTC).isoformat(),
                }
            )
        except JournalError as exc:
            return finish(event("failed", program_digest=program.digest, error=error_info(exc)), durable=False)

    host = ExecutionHost(
        eid, journal, sink, config.artifacts,
        books=config.books, log_policy=config.log_policy, fault=config.fault,
        storage_deadline_s=config.storage_deadline_s,
    )
    sink.event(event("resumed" if recorded is not None else "started", program_digest=program.digest))
    if on_host is not None:
        on_host(host)
    try:
        result = run_program(
            program, dict(command.inputs), host, books=config.procedures, limits=config.limits
        )
    except Stopped as exc:
        cancel = exc.mode == "cancel"
        ev = event(
            "stopped", program_digest=program.digest,
            stop_mode="cancel" if cancel else "suspend",
            log_records=host.seq, artifacts=host.artifacts,
        )
        # Suspended and handed-off executions keep an open journal: a later start
        # (or the partition's next owner) resumes them.
        outcome = finish(ev, durable=cancel)
        if exc.mode not in ("cancel", "suspend"):
            return Outcome(ev, handoff=True, duration_s=outcome.duration_s)
        return outcome
    except (SpyRuntimeError, JarvisError) as exc:
        cause: BaseException = host.fatal or exc
        return finish(
            event(
                "failed", program_digest=program.digest, error=error_info(cause),
                log_records=host.seq, artifacts=host.artifacts,
            ),
            durable=not isinstance(cause, JournalError),
        )
    if host.fatal is not None:  # the program caught a host failure: it still fails
        return finish(
            event(
                "failed", program_digest=program.digest, error=error_info(host.fatal),
                log_records=host.seq, artifacts=host.artifacts,
            ),
            durable=not isinstance(host.fatal, JournalError),
        )
    value, type_name = render_value(result)
    return finish(
        event(
            "completed", program_digest=program.digest, result=value, result_type=type_name,
            log_records=host.seq, artifacts=host.artifacts,
        )
    )
