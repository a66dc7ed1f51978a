"""Run one execution to an outcome: validate, journal the start, run (or replay), journal the end.

Only values come out of here: an ``Outcome`` whose terminal lifecycle event the caller
publishes. Nothing in this module talks to Kafka (CONVENTIONS.md §4).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from jarvis.contract.messages import ErrorInfo, LifecycleEvent, StartCommand, TraceFrame
from jarvis.errors import (
    InternalError,
    JarvisError,
    JournalError,
    RunLimitExceeded,
    SandboxCrashed,
    SpyFrame,
    SpyRuntimeError,
    SpySyntaxError,
    Stopped,
    clip_counted,
)
from jarvis.execution.bridge import SandboxBridge
from jarvis.execution.config import RunConfig
from jarvis.execution.host import ExecutionHost
from jarvis.execution.sinks import Sink
from jarvis.journal import Crash, End, Journal
from jarvis.sandbox import AttemptEnd, default_pool, run_attempt
from jarvis.spy import Limits
from jarvis.spy.values.data import plain
from jarvis.telemetry import metrics, tracing

log = logging.getLogger("jarvis.execution")

MAX_ERROR_MESSAGE = 8 * 1024
"""Longest error message an event carries (a program can raise a huge one)."""
MAX_TRACEBACK = 32 * 1024


@dataclass(frozen=True)
class Outcome:
    """How an execution ended (or paused). ``event`` is the terminal (or suspend) event."""

    event: LifecycleEvent
    reannounced: bool = False  # the journal already held this outcome (duplicate start)
    handoff: bool = False  # interrupted for another worker to resume: publish nothing
    duration_s: float = 0.0
    # The end record is not written yet: the journal's fence took it (``defer_end``) and
    # writes it once this attempt's output is delivered; until then the event must wait.
    end_deferred: bool = False

    @property
    def suspended(self) -> bool:
        return self.event.event == "stopped" and self.event.stop_mode == "suspend"


def error_info(exc: BaseException) -> ErrorInfo:
    """Describe an execution error for a lifecycle event: SPy coordinates, no host frames."""
    info = _error_info(exc)
    return info.model_copy(
        update={
            "message": clip_counted(info.message, MAX_ERROR_MESSAGE),
            "traceback": clip_counted(info.traceback or "", MAX_TRACEBACK),
            "frames": info.frames[:50] + info.frames[-50:]
            if len(info.frames) > 100
            else info.frames,
        }
    )


def _error_info(exc: BaseException) -> ErrorInfo:
    if isinstance(exc, SpySyntaxError):
        return ErrorInfo(
            type="SpySyntaxError",
            message=exc.message,
            line=exc.line,
            col=exc.col,
            frames=[
                TraceFrame(
                    function="<module>", line=exc.line, col=exc.col, source_line=exc.source_line
                )
            ],
            traceback=exc.render(),
        )
    if isinstance(exc, SpyRuntimeError):
        return ErrorInfo(
            type=exc.spy_type,
            message=exc.message,
            line=exc.line,
            col=exc.col,
            frames=[
                TraceFrame(function=f.function, line=f.line, col=f.col, source_line=f.source_line)
                for f in exc.frames
            ],
            traceback=exc.render(),
        )
    return ErrorInfo(
        type=type(exc).__name__, message=str(exc), traceback=f"{type(exc).__name__}: {exc}"
    )


def rebuild_error(data: dict[str, Any]) -> JarvisError:
    """The SPy error a sandbox reported (``child.error_data``), as the exception it was."""
    try:
        if data.get("cls") == "SpySyntaxError":
            return SpySyntaxError(
                str(data["message"]),
                int(data["line"]),
                int(data["col"]),
                str(data.get("source_line") or ""),
                data.get("hint") if isinstance(data.get("hint"), str) else None,
                str(data.get("filename")),
            )
        frames = [
            SpyFrame(str(f[0]), int(f[1]), int(f[2]), str(f[3])) for f in data.get("frames", [])
        ]
        cls = RunLimitExceeded if data.get("cls") == "LimitExceeded" else SpyRuntimeError
        return cls(str(data["spy_type"]), str(data["message"]), frames, str(data.get("filename")))
    except (KeyError, IndexError, TypeError, ValueError):
        return InternalError("the sandbox reported an error in a form the worker cannot read")


def run_execution(
    command: StartCommand,
    source: str,
    config: RunConfig,
    sink: Sink,
    on_host: Callable[[ExecutionHost], None] | None = None,
    trace: dict[str, str] | None = None,
) -> Outcome:
    """Run ``command`` (whose program text is ``source``) to an outcome, in a sandbox.

    ``trace``: the start's W3C trace headers (``tracing.to_journal``), journaled with the
    command so that whoever resumes the execution from its journal stays in its trace.

    Resumes by replay when the journal already has a start; re-announces the recorded
    outcome when it already has an end. Never raises for anything the program or the host
    did: a host bug becomes a ``failed`` event of type ``InternalError`` (its traceback goes
    to this process's log). Only a ``BaseException`` that is not an ``Exception`` (a
    simulated crash in the tests, KeyboardInterrupt) passes through.
    """
    started = time.monotonic()
    eid = command.execution_id
    worker_id = config.worker_id

    def event(kind: str, **fields: Any) -> LifecycleEvent:
        # Validated even though the values are ours: pydantic's model_construct is ~20x
        # slower here (244 µs against 13 µs with the dump, measured), not faster.
        return LifecycleEvent(
            execution_id=eid,
            event=kind,  # type: ignore[arg-type]
            worker=worker_id,
            labels=command.labels,
            **fields,
        )

    try:
        journal = Journal.open(
            config.journal_root, eid, fence=config.fence, durability=config.durability
        )
        journal.take_over(
            None if journal.records else command.model_dump(mode="json", exclude_defaults=True),
            trace,
        )
        if tracing.ENABLED:
            _trace_journal(journal)
    except JournalError as exc:
        return Outcome(event("failed", error=error_info(exc)))
    except Stopped:  # the lease was lost before we even started
        return Outcome(event("stopped", stop_mode="suspend"), handoff=True)
    try:
        return _run(command, source, config, sink, on_host, journal, event, started)
    except Stopped:
        # Lease lost while journaling: another pod owns the execution now; say nothing.
        return Outcome(event("stopped", stop_mode="suspend"), handoff=True)
    except Exception:
        log.exception("execution %s: internal error (a Jarvis bug, not the program's)", eid)
        err = InternalError(
            "Jarvis failed while running this execution; the worker's log has the details"
        )
        ev = event("failed", error=error_info(err))
        with contextlib.suppress(Exception):
            journal.append(End(ev.model_dump(mode="json")))
        return Outcome(ev, duration_s=time.monotonic() - started)
    finally:
        journal.close()


def _trace_journal(journal: Journal) -> None:
    """What the journal says of this attempt, on the execution's span (tracing on)."""
    span = tracing.current()
    writers = journal.writers
    if writers:
        span.set_attribute("jarvis.attempt", writers)  # the how-manieth owner of the journal
    span.set_attribute("jarvis.journal.records", len(journal.records))
    span.set_attribute("jarvis.resumed", journal.start is not None)


@functools.lru_cache(maxsize=256)
def _limits_dict(limits: Limits) -> dict[str, Any]:
    # Most executions share a few Limits values; asdict is a deep copy each time. The
    # result is only serialized (orjson) into the run frame, never changed.
    return dataclasses.asdict(limits)


def _spec(command: StartCommand, source: str, config: RunConfig, inputs: object) -> dict[str, Any]:
    limits = config.limits
    policy = config.sandbox_policy
    return {
        "source": source,
        "filename": command.program.filename,
        "log_level": command.options.log_level,
        "inputs": inputs,
        "books": {name: sorted(procs) for name, procs in config.procedures.items()},
        "limits": _limits_dict(limits),
        "max_program_bytes": config.max_program_bytes,
        "max_records": config.log_policy.max_records,
        "max_value_bytes": config.log_policy.max_value_bytes,
        "memory_cap_bytes": policy.memory_cap(limits.max_memory_bytes),
        "cpu_s": float(limits.max_wall_s) + policy.wall_grace_s,
        "max_runs": policy.max_runs,
        "recycle_bytes": policy.recycle_bytes,
    }


def _max_frame_bytes(config: RunConfig) -> int:
    limits = config.limits
    return (
        2 * max(limits.max_memory_bytes, limits.max_stored_log_bytes, limits.max_result_bytes)
        + 2**20
    )


def _admitted_inputs(command: StartCommand, source: str, config: RunConfig) -> object:
    """The inputs as plain data, once the program's size and its inputs pass; else the
    error that rejects the execution."""
    if (
        len(source) * 4 > config.max_program_bytes
        and len(source.encode("utf-8", "surrogatepass")) > config.max_program_bytes
    ):
        raise RunLimitExceeded(
            "LimitExceeded",
            f"the program is more than {config.max_program_bytes:,} bytes (max_program_bytes)",
            [],
            command.program.filename,
        )
    try:
        return plain(command.inputs, "inputs", 2 * config.limits.max_memory_bytes)
    except (TypeError, ValueError) as exc:
        raise SpyRuntimeError(
            "TypeError" if isinstance(exc, TypeError) else "ValueError",
            str(exc),
            [],
            command.program.filename,
        ) from None


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
        return Outcome(LifecycleEvent.model_validate(journal.end.event), reannounced=True)

    def finish(ev: LifecycleEvent, durable: bool = True) -> Outcome:
        deferred = _journal_end(journal, ev, durable)
        return Outcome(ev, duration_s=time.monotonic() - started, end_deferred=deferred)

    crashes = journal.crashes
    limit = config.max_sandbox_crashes
    if len(crashes) >= limit:
        # Crashed K times already (on any pod): never a poison message that kills pod after pod.
        last = crashes[-1]
        err: JarvisError = SandboxCrashed(str(last.cause), len(crashes), limit, last.peak_rss)
        return finish(event("failed", error=error_info(err), log_records=0))

    try:
        inputs = _admitted_inputs(command, source, config)
    except JarvisError as exc:
        return finish(event("rejected", error=error_info(exc), log_records=0))

    pool = config.sandboxes or default_pool()
    spec = _spec(command, source, config, inputs)
    if journal.start is not None:
        metrics.resumed()  # suspended, handed off, taken over or redelivered: replayed
    while True:
        host = ExecutionHost(
            eid,
            journal,
            sink,
            config.artifacts,
            books=config.books,
            log_policy=config.log_policy,
            fault=config.fault,
            storage_deadline_s=config.storage_deadline_s,
            max_stored_log_bytes=config.limits.max_stored_log_bytes,
            live_effects=config.live_effects,
        )
        if on_host is not None:
            on_host(host)
        bridge = SandboxBridge(host, journal, command, sink, event)
        try:
            end = run_attempt(pool, spec, bridge, config.sandbox_policy, _max_frame_bytes(config))
        finally:
            host.end_replay()
        dropped = end.data.get("dropped")
        metrics.attempt_ended(
            host.seq,
            host.dropped + (dropped if type(dropped) is int and dropped > 0 else 0),
            host.replayed,
            end.status == "crashed",
        )
        if end.status != "crashed":
            return _outcome(end, bridge, host, config, event, finish, started)
        attempt = len(crashes) + 1
        log.warning(
            "execution %s: sandbox died (%s) on attempt %d of %d (peak RSS %s)",
            eid,
            end.cause,
            attempt,
            limit,
            end.peak_rss_bytes,
        )
        record = Crash(end.cause, attempt, end.peak_rss_bytes)
        try:
            journal.append(record)
        except JournalError as exc:
            return finish(event("failed", error=error_info(exc)), durable=False)
        crashes.append(record)
        if attempt >= limit:
            died = SandboxCrashed(str(end.cause), attempt, limit, end.peak_rss_bytes)
            return finish(
                event(
                    "failed",
                    program_digest=bridge.digest,
                    error=error_info(died),
                    log_records=host.seq,
                    artifacts=host.artifacts,
                )
            )
        # Retry by replay in a fresh sandbox: journaled effects are answered, not repeated.


def _journal_end(journal: Journal, ev: LifecycleEvent, durable: bool) -> bool:
    """Journal the outcome ``ev`` (``durable``), or just sync what came before it; True when
    the journal's fence took the end to write later (``defer_end``). On failure the event
    still goes out; a later start re-runs the replay."""
    with contextlib.suppress(JournalError):
        if not durable:
            journal.sync()  # the event may depend on effects written since the last fsync
            return False
        end = End(ev.model_dump(mode="json"))
        # A fence may take the end and write it once the output is delivered (the worker's
        # OutputFence: the execution's thread need not wait for Kafka).
        defer = getattr(journal.fence, "defer_end", None)
        if defer is not None and defer(journal, end):
            return True
        # With group commit the end is made durable with every other journal's before
        # offsets are committed (Durability.defers_end), not one by one here.
        journal.append(end, sync=not journal.durability.defers_end)
    return False


def _outcome(
    end: AttemptEnd,
    bridge: SandboxBridge,
    host: ExecutionHost,
    config: RunConfig,
    event: Callable[..., LifecycleEvent],
    finish: Callable[..., Outcome],
    started: float,
) -> Outcome:
    eid = host.execution_id
    digest = bridge.digest
    done: dict[str, Any] = {"log_records": host.seq, "artifacts": host.artifacts}
    status = end.status
    if status == "rejected":
        return finish(
            event("rejected", error=error_info(rebuild_error(end.data["error"])), log_records=0)
        )
    stopped_mode: str | None = None
    if bridge.stopped is not None:
        stopped_mode = bridge.stopped.mode
    elif status == "stopped" or status == "killed_for_stop":
        stopped_mode = str(end.data.get("mode"))
    if host.fatal is not None and stopped_mode is None:
        # A host-side failure (journal, non-determinism...) the program could not swallow.
        return finish(
            event("failed", program_digest=digest, error=error_info(host.fatal), **done),
            durable=not isinstance(host.fatal, JournalError),
        )
    if stopped_mode is not None:
        cancel = stopped_mode == "cancel"
        ev = event(
            "stopped", program_digest=digest, stop_mode="cancel" if cancel else "suspend", **done
        )
        # Suspended and handed-off executions keep an open journal: a later start
        # (or the partition's next owner) resumes them.
        outcome = finish(ev, durable=cancel)
        if stopped_mode not in ("cancel", "suspend"):
            return Outcome(ev, handoff=True, duration_s=outcome.duration_s)
        return outcome
    if status == "error":
        return finish(
            event(
                "failed",
                program_digest=digest,
                error=error_info(rebuild_error(end.data["error"])),
                **done,
            )
        )
    if status == "completed":
        return finish(_completed(end.data, host, config, event, digest, done))
    if status == "internal":
        log.error("execution %s: internal error in its sandbox:\n%s", eid, end.data.get("detail"))
    elif status in ("host", "aborted"):
        log.error("execution %s: the sandbox reported a host failure the worker did not see", eid)
    err = InternalError(
        "Jarvis failed while running this execution; the worker's log has the details"
    )
    return finish(event("failed", program_digest=digest, error=error_info(err), **done))


def _completed(
    data: dict[str, Any],
    host: ExecutionHost,
    config: RunConfig,
    event: Callable[..., LifecycleEvent],
    digest: str | None,
    done: dict[str, Any],
) -> LifecycleEvent:
    type_name = str(data.get("type"))
    body = data.get("result_json")  # a big result came as JSON text
    if isinstance(body, bytes):
        value = orjson.loads(body) if len(body) <= config.max_inline_result_bytes else None
    else:
        value = data.get("result")
        body = orjson.dumps(value)
    if len(body) <= config.max_inline_result_bytes:
        return event(
            "completed",
            program_digest=digest,
            result=value,
            result_type=type_name,
            result_bytes=len(body),
            **done,
        )
    # Too big for an event (and Kafka's max.message.bytes): stored, and referenced.
    try:
        stored = config.artifacts.put(host.execution_id, "result.json", body)
    except JarvisError as exc:
        return event("failed", program_digest=digest, error=error_info(exc), **done)
    return event(
        "completed",
        program_digest=digest,
        result=None,
        result_type=type_name,
        result_ref=stored.uri,
        result_bytes=len(body),
        **done,
    )
