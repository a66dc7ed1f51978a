"""The running table and the threads that run executions: lease, run, deliver, hand off.

Admitted starts wait in the ready queue (``jarvis.worker.ready``); each of the worker's
execution threads takes the next one, takes its lease, checks for a stop that came before
it, runs it (``run_execution``: a sandbox from the pool, the journal, replay), publishes its
terminal event and waits until everything it produced is on the broker. Only then does the
consumer loop hear that its offset is finished (``finished`` callback): the output-commit
rule. Nothing here talks to the consumer.

There are more threads than sandboxes (``SandboxPool`` bounds how many programs run at
once): the rest of an execution's work (its lease, its journal's end, waiting for its
output's delivery) overlaps other executions' programs.

Take-over (DESIGN.md §2, "a crashed pod's executions"): ``Takeover`` scans the
deployment's lease registry for leases that lapsed without a release and resumes those
executions from their journals (which hold their start command), whoever owns their
partition. The eventual owner of the partition absorbs the redelivered start: it waits for
the lease, finds the journal's end and re-announces the outcome.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import redis

from jarvis.artifacts import ArtifactStore, with_urls
from jarvis.books import BookRegistry
from jarvis.contract.messages import LifecycleEvent, LimitOverrides, StartCommand, StopMode
from jarvis.errors import InternalError, Interruption, JarvisError, JournalError, Stopped
from jarvis.execution.config import RunConfig
from jarvis.execution.host import BookCaller, ExecutionHost, LogPolicy
from jarvis.execution.runner import Outcome, error_info, run_execution
from jarvis.journal import End, Fence, Journal
from jarvis.journal.durability import Durability
from jarvis.sandbox import SandboxPool
from jarvis.settings import Settings
from jarvis.spy import Limits
from jarvis.telemetry import logs, metrics, tracing
from jarvis.worker.backoff import backoff as retry_pause
from jarvis.worker.hooks import WorkerHooks
from jarvis.worker.lease import FencedBooks, Lease, Leases, OutputFence
from jarvis.worker.outbox import Outbox
from jarvis.worker.publisher import KafkaPublisher
from jarvis.worker.ready import ReadyQueue
from jarvis.worker.stops import StopFlag, StopFlags, flag_from

log = logging.getLogger("jarvis.worker")

HANDOFF: Final = "handoff"
"""Internal stop mode: the partition moved or the worker is leaving; the journal stays open
and the next owner resumes the execution from it. Never shown to orchestrators."""

RETRY_MAX_S = 2.0
"""Longest pause between two tries of something that failed in place (Redis, delivery)."""


@dataclass
class Running:
    """One execution this worker holds: queued, running, or finishing."""

    execution_id: str
    command: StartCommand | None  # None: a take-over, read from its journal once leased
    outbox: Outbox
    topic: str | None = None  # where its start is: None for a take-over (no offset of ours)
    partition: int = -1
    offset: int = -1
    host: ExecutionHost | None = None
    pending_stop: Interruption | None = None  # a stop that arrived before the host existed
    leaving: bool = False  # handed off by this worker (revoke, shutdown): never resume it here
    size: int = 0  # bytes of its start message (the ready queue's byte bound)
    admitted_at: float = field(default_factory=time.monotonic)
    # The start's W3C trace headers (a take-over: its journal's); outputs carry them, or the
    # execution span's own context with tracing on (jarvis.telemetry.tracing).
    trace: tracing.Headers | None = None

    @property
    def takeover(self) -> bool:
        return self.topic is None


def backoff(attempt: int) -> float:
    """Pause before the ``attempt``-th retry (1-based): 50 ms doubling, at most RETRY_MAX_S."""
    return retry_pause(attempt, 0.05, RETRY_MAX_S)


class Executions:
    def __init__(
        self,
        settings: Settings,
        publisher: KafkaPublisher,
        leases: Leases,
        stops: StopFlags,
        sandboxes: SandboxPool,
        books: BookRegistry,
        artifacts: ArtifactStore,
        hooks: WorkerHooks,
        durability: Durability,
        finished: Callable[[Running], None],
        threads: int,
        ready_capacity: int,
        ready_bytes: int | None = None,
    ) -> None:
        self.settings = settings
        self.publisher = publisher
        self.leases = leases
        self.stops = stops
        self.sandboxes = sandboxes
        self.books = books
        self.artifacts = artifacts
        self.hooks = hooks
        self.durability = durability
        self.finished = finished
        self.ready: ReadyQueue[Running] = ReadyQueue(ready_capacity, max_bytes=ready_bytes)
        self.running: dict[str, Running] = {}
        self._limits: dict[LimitOverrides, tuple[Limits, LogPolicy]] = {}
        self._lock = threading.Lock()  # guards self.running and each Running's host/stop
        self.shutdown = threading.Event()
        self._threads = [
            threading.Thread(target=self._serve, name=f"jarvis-exec-{i}", daemon=True)
            for i in range(threads)
        ]
        self.finisher = _Finisher(self)

    def start(self) -> None:
        for thread in self._threads:
            thread.start()
        self.finisher.start()

    def close(self) -> None:
        self.shutdown.set()
        self.ready.close()

    # --- the running table (any thread) ---

    def __contains__(self, execution_id: object) -> bool:
        with self._lock:
            return execution_id in self.running

    def __len__(self) -> int:
        with self._lock:
            return len(self.running)

    def ids(self) -> list[str]:
        with self._lock:
            return list(self.running)

    def running_ids(self) -> list[str]:
        """Executions whose program runs now (their host is attached): what the stop watcher
        polls. A queued one needs no polling: its stop flag comes back with its lease
        (lease.py: ``_ACQUIRE``) and is checked before it starts; polling the whole ready
        queue (a thousand and more) cost a large MGET four times a second."""
        with self._lock:
            return [eid for eid, run in self.running.items() if run.host is not None]

    def new(
        self,
        command: StartCommand,
        topic: str,
        partition: int,
        offset: int,
        trace: tracing.Headers | None = None,
        size: int = 0,
    ) -> Running:
        """A start the loop admitted: in the table, not yet queued (see ``queue``).
        ``trace``: its message's trace headers (``tracing.incoming``); ``size``: its
        message's bytes (the ready queue's byte bound)."""
        run = Running(
            command.execution_id,
            command,
            Outbox(self.publisher, self.hooks, trace),
            topic,
            partition,
            offset,
            trace=trace,
            size=size,
        )
        with self._lock:
            self.running[run.execution_id] = run
        return run

    def queue(self, run: Running) -> None:
        self.ready.put(run, "resume" if run.takeover else "normal", run.size)

    def take_over(self, execution_id: str) -> bool:
        """Queue the resumption of an execution whose lease lapsed; False if already held."""
        with self._lock:
            if execution_id in self.running:
                return False
            run = Running(execution_id, None, Outbox(self.publisher, self.hooks))
            self.running[execution_id] = run
        self.queue(run)
        return True

    def interrupt(self, run: Running, mode: Interruption) -> None:
        with self._lock:
            if run.host is not None:
                run.host.stop_requested = mode
            else:
                run.pending_stop = mode

    def stop(self, execution_id: str, mode: StopMode) -> None:
        with self._lock:
            run = self.running.get(execution_id)
        if run is not None:
            self.interrupt(run, mode)

    def deliver_stop(self, execution_id: str, flag: StopFlag) -> None:
        """A stop flag the watcher found for an execution this worker holds."""
        with self._lock:
            run = self.running.get(execution_id)
        if run is not None and (run.partition, run.offset) != (flag.partition, flag.offset):
            if flag.mode == "suspend" and flag.offset < run.offset:
                return  # an old suspend this start already resumed from
            self.interrupt(run, flag.mode)

    def hand_off(self, which: Callable[[Running], bool], timeout_s: float) -> list[Running]:
        """Suspend matching executions (journals are durable) and wait for them to let go.
        Queued ones leave at once. Returns those still running at the deadline."""
        with self._lock:
            runs = [r for r in self.running.values() if which(r)]
            for run in runs:
                run.leaving = True
        chosen = {id(r) for r in runs}
        for run in self.ready.remove(lambda r: id(r) in chosen):
            with self._lock:
                self.running.pop(run.execution_id, None)
        for run in runs:
            self.interrupt(run, HANDOFF)
        deadline = time.monotonic() + timeout_s
        while True:  # at least once: with no time to wait, say who is still running
            with self._lock:
                left = [r for r in runs if self.running.get(r.execution_id) is r]
            if not left or time.monotonic() >= deadline:
                return left
            time.sleep(0.01)

    def _forget(self, run: Running) -> None:
        with self._lock:
            if self.running.get(run.execution_id) is run:
                del self.running[run.execution_id]

    def _leaving(self, run: Running) -> bool:
        return run.leaving or self.shutdown.is_set()

    # --- execution threads ---

    def _serve(self) -> None:
        while not self.shutdown.is_set():
            run = self.ready.take(0.5)
            if run is None:
                continue
            self._guarded(run, "in its thread", functools.partial(self._execute, run))

    def _guarded(self, run: Running, where: str, work: Callable[[], None]) -> None:
        """``work()`` for ``run`` in its log context (JSON logs: this thread's lines are
        the execution's; a take-over's trace is known once its journal is read, and
        _run_leased binds again then). A bug of ours fails nothing else: never lose a thread,
        never leave an offset stuck."""
        token = logs.bind(run.execution_id, tracing.trace_id_of(run.trace))
        try:
            work()
        except BaseException:
            log.exception("execution %s: internal error %s", run.execution_id, where)
            self._forget(run)
            if run.command is not None and not run.takeover:
                self.finished(run)
        finally:
            logs.unbind(token)

    def _execute(self, run: Running) -> None:
        attempt = 0
        while True:
            lease = self._acquire(run)
            if lease is None:  # leaving, the partition moved, or a take-over someone else won
                self._forget(run)
                return
            run.outbox.attempt = lease.token  # orders this run's status updates (status.py)
            again: bool | None = False
            try:
                again = self._run_leased(run, lease)
            finally:
                if again is not None:  # None: the finisher holds the lease until the end
                    self._release(lease)
            if not again:
                return
            # The lease lapsed (Redis unreachable past its TTL, this process stalled) or some
            # output was not delivered, while the execution is still ours: take the lease
            # again and resume from the journal, which re-produces the output. (Fault-suite
            # fix, tests/fault/test_service_outages.py: it used to be dropped with its offset
            # uncommitted and nobody to redeliver it.)
            attempt += 1
            self._to_resume(run, "once it is ours again")
            time.sleep(backoff(attempt))

    def _release(self, lease: Lease) -> None:
        self.leases.release(lease)
        lease.on_lost.clear()  # its callback holds the run: no cycle left for the GC

    def _to_resume(self, run: Running, when: str) -> None:
        """Ready ``run`` to be run again from its journal (its lease lapsed, or some output
        was not delivered): its failures forgotten (the replay produces that output again),
        its host and a stale hand-off request cleared."""
        failed = run.outbox.reset_failures()
        log.warning(
            "execution %s %s; resuming it from its journal %s",
            run.execution_id,
            f"lost {failed} output message(s)" if failed else "lost its lease",
            when,
        )
        with self._lock:
            run.host = None
            if run.pending_stop == HANDOFF:
                run.pending_stop = None

    def _acquire(self, run: Running) -> Lease | None:
        """Wait for the execution's lease (another pod may still be handing it off, or be
        running it after a take-over). A take-over tries once."""
        attempt = 0
        while True:
            if self._leaving(run) or run.pending_stop == HANDOFF:
                return None
            try:
                lease = self.leases.acquire(run.execution_id)
            except redis.RedisError as exc:
                log.warning("cannot take the lease of %s: %s (retrying)", run.execution_id, exc)
                lease = None
            else:
                if lease is None and run.takeover:
                    return None
            if lease is not None:
                lease.on_lost.append(lambda: self.interrupt(run, HANDOFF))
                return lease
            attempt += 1
            time.sleep(min(1.0, backoff(attempt)))

    def _run_leased(self, run: Running, lease: Lease) -> bool | None:
        """Run under ``lease``; True when it should be resumed here (lease lost, output lost);
        None when its end waits for its output (``_Finisher``, which then owns the lease).

        The execution's log context (JSON logs) and, with tracing on, its span (an attempt)
        cover everything this thread does for it, its outputs included."""
        eid = run.execution_id
        taken = run.command is None
        token = None
        if taken:
            run.command = self._resumable(run, lease)
            if run.command is None:
                self._forget(run)
                return False
            token = logs.bind(eid, tracing.trace_id_of(run.trace))  # the journal's trace
        try:
            if not tracing.ENABLED:
                return self._run_attempt(run, lease, taken)
            with tracing.consume(
                eid,
                run.trace,
                topic=run.topic or self.settings.control_topic,
                partition=None if run.takeover else run.partition,
                offset=None if run.takeover else run.offset,
                group=self.settings.group_id,
            ) as headers:
                run.outbox.headers = headers or run.trace
                return self._run_attempt(run, lease, taken)
        finally:
            logs.unbind(token)

    def _run_attempt(self, run: Running, lease: Lease, taken: bool) -> bool | None:
        eid = run.execution_id
        command = run.command
        assert command is not None
        if taken:
            log.info("taking over %s: its lease lapsed", eid)
            metrics.taken_over()
        event: LifecycleEvent
        try:
            if not run.takeover:
                stopped = self._stop_prevents_start(run, lease)
                if stopped is not None:
                    return self._deliver(run, stopped)
            source = self._program_source(command)
            # Without tracing the end is journaled off this thread once the output is
            # delivered (_Finisher); a traced attempt keeps it inside its span, here.
            fence = OutputFence(
                lease, run.outbox, lambda: self._leaving(run), defer=not tracing.ENABLED
            )
            # No Book call once the lease may be gone (lease.py: FencedBooks).
            config = self.config(command, fence=fence, books=FencedBooks(self.books, lease))
            # The start's trace goes into the journal with the command (a take-over keeps it).
            traced = {"trace": tracing.to_journal(run.trace)} if run.trace else {}
            try:
                outcome = run_execution(
                    command,
                    source,
                    config,
                    run.outbox,
                    on_host=lambda h: self._attach(run, h),
                    **traced,
                )
            finally:
                self._detach(run)
            if outcome.handoff:
                if not self._leaving(run):
                    return True  # nobody asked for a hand-off: the lease lapsed or output was lost
                log.info("execution %s handed off", eid)
                if tracing.ENABLED:
                    tracing.outcome("handoff")
                self.hooks.handed_off(eid)
                self._forget(run)
                return False  # its offset stays uncommitted: the partition's next owner resumes it
            event = outcome.event
            if outcome.end_deferred:
                self.finisher.wait_for_output(run, lease, fence, outcome)
                return None
            self._report(outcome)
            # DEBUG: at a thousand executions a second, a line each is a log nobody reads
            # (the outcome is on spy_events; failures of ours are logged where they happen).
            log.debug(
                "execution %s %s%s",
                eid,
                event.event,
                " (re-announced)" if outcome.reannounced else "",
            )
        except Stopped:
            # The lease lapsed before the run began (while preventing a stopped start, or
            # fetching the program): not an outcome. Take the lease again, or let it go.
            return not self._leaving(run)
        except JarvisError as exc:
            event = self._failed(command, exc)
        except Exception:  # a bug of ours: the execution fails, its offset moves on
            log.exception("execution %s: internal error around the host", eid)
            event = self._failed(
                command,
                InternalError(
                    "Jarvis failed while running this execution; the worker's log has the details"
                ),
            )
        return self._deliver(run, event)

    def _finish(
        self, run: Running, lease: Lease, fence: OutputFence, outcome: Outcome, drained: bool
    ) -> None:
        """The end of a run whose output is delivered (``drained``), or failed, or given up
        on (leaving while it was in flight): journal the end under the lease, then publish
        the outcome (``_deliver``), as ``before_end`` and ``_run_attempt`` did on the
        execution's thread. No end when some output failed, the lease is gone, or the run
        left before its output was delivered: as there, a replay re-emits everything."""
        eid = run.execution_id
        assert fence.deferred is not None
        journal, end = fence.deferred
        fence.deferred = None
        event = outcome.event
        resume = ended = False
        try:
            if not drained or run.outbox.failures:
                raise Stopped("handoff")
            with contextlib.suppress(JournalError):  # the event still goes out (finish())
                journal.append(end, sync=not journal.durability.defers_end)
            ended = True
        except Stopped:
            resume = not self._leaving(run)
            if not resume:
                log.info("execution %s handed off", eid)
                self.hooks.handed_off(eid)
                self._forget(run)
        finally:
            journal.close()
            self._release(lease)
        if resume:
            # The lease lapsed or some output was lost while the end waited: take the lease
            # again and resume from the journal, which re-produces the output (_execute),
            # ahead of new starts (its offset holds its partition's commit point back).
            self._to_resume(run, "before its end")
            self.ready.put(run, "resume", run.size)
            return
        if not ended:
            return  # handed off: its next owner resumes it from the journal
        self._report(outcome)
        log.debug("execution %s %s", eid, event.event)
        self._deliver(run, event)

    def _report(self, outcome: Outcome) -> None:
        event = outcome.event
        error = event.error.type if event.error else None
        self.hooks.outcome(event.execution_id, event.event, error, outcome.duration_s)

    def _failed(self, command: StartCommand, exc: BaseException) -> LifecycleEvent:
        error = error_info(exc)
        self.hooks.outcome(command.execution_id, "failed", error.type, 0.0)
        return LifecycleEvent(
            execution_id=command.execution_id,
            event="failed",
            worker=self.settings.worker_id,
            error=error,
            labels=command.labels,
        )

    def _deliver(self, run: Running, event: LifecycleEvent | None, attempt: int = 0) -> bool:
        """Publish the terminal event; the offset is finished once everything this execution
        produced is on the broker (the output-commit rule), without holding this thread.

        A delivery that fails is retried in place (the event is produced again, with backoff)
        until it lands or the worker lets the execution go (then its next owner re-announces).
        """
        if event is not None:
            if tracing.ENABLED and attempt == 0:
                error = event.error
                tracing.outcome(
                    event.event,
                    None if error is None else error.type,
                    None if error is None else error.message,
                )
            # URLs are signed here, as the event goes out, never journaled (artifacts.urls).
            run.outbox.event(with_urls(event, self.artifacts, self.settings.artifact_url_expiry_s))

        def drained(ok: bool) -> None:
            if ok:
                self._forget(run)
                if not run.takeover:
                    self.finished(run)
                return
            if self._leaving(run):
                log.warning(
                    "leaving with output of %s undelivered; its offset stays uncommitted",
                    run.execution_id,
                )
                self._forget(run)
                return
            log.error(
                "output of %s not delivered (%s); producing its terminal event again (try %d)",
                run.execution_id,
                run.outbox.last_error,
                attempt + 1,
            )
            run.outbox.reset_failures()
            retry = threading.Timer(backoff(attempt + 1), self._deliver, (run, event, attempt + 1))
            retry.daemon = True
            retry.start()

        run.outbox.when_drained(drained)
        return False

    def _resumable(self, run: Running, lease: Lease) -> StartCommand | None:
        """A take-over's start command, from its journal (its first writer's fence mark); None
        when there is nothing to resume here (never started, already ended: the partition's
        owner handles it)."""
        eid = run.execution_id
        try:
            journal = Journal.read(self.settings.checkpoint_dir, eid)  # looks only: no repair
        except JournalError as exc:
            log.warning("cannot take over %s: %s", eid, exc)
            return None
        command, end, trace = journal.command, journal.end, journal.trace
        if command is None or end is not None:
            with contextlib.suppress(redis.RedisError):
                self.leases.forget(eid)
            return None
        try:
            resumed = StartCommand.model_validate(command)
        except ValueError as exc:
            log.error(
                "cannot take over %s: its journal's start command is unreadable: %s", eid, exc
            )
            return None
        run.trace = tracing.from_journal(trace)  # the start's trace: the resumed run stays in it
        run.outbox.headers = run.trace
        return resumed

    def _stop_prevents_start(self, run: Running, lease: Lease) -> LifecycleEvent | None:
        """A stop consumed before this start: cancel prevents it (journaled, under the lease);
        suspend before any start is consumed by it. The ``stopped`` event to deliver when the
        start must not run (delivered like any terminal event: retried until it lands), else None."""
        assert run.command is not None
        flag = flag_from(lease.stop_flag)  # read with the lease, in the same round trip
        if flag is None:
            return None
        eid = run.execution_id
        journal = Journal.open(
            self.settings.checkpoint_dir, eid, fence=lease, durability=self.durability
        )
        try:
            if journal.end is not None:
                return None  # finished: run_execution re-announces the outcome
            if flag.mode == "suspend" and journal.start is not None:
                self.stops.clear(eid)  # a start after a suspend resumes the execution
                return None
            event = LifecycleEvent(
                execution_id=eid,
                event="stopped",
                worker=self.settings.worker_id,
                stop_mode=flag.mode,
                log_records=0,
                labels=run.command.labels,
            )
            if flag.mode == "cancel":
                journal.append(End(event.model_dump(mode="json")))
            else:
                self.stops.clear(eid)  # a suspend before any start is consumed by that start
        finally:
            journal.close()
        self.hooks.outcome(eid, "stopped", None, 0.0)
        log.info("start of %s prevented by an earlier stop (%s)", eid, flag.mode)
        return event

    def config(
        self, command: StartCommand, fence: Fence | None = None, books: BookCaller | None = None
    ) -> RunConfig:
        return RunConfig.for_command(
            self.settings,
            command,
            artifacts=self.artifacts,
            books=self.books,
            caller=books or self.books,
            fence=fence,
            sandboxes=self.sandboxes,
            durability=self.durability,
            memo=self._limits,
        )

    def _program_source(self, command: StartCommand) -> str:
        if command.program.source is not None:
            return command.program.source
        assert command.program.ref is not None
        try:
            data = self.artifacts.get(command.program.ref)
        except Exception as exc:
            raise JarvisError(f"cannot read program.ref {command.program.ref}: {exc}") from exc
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JarvisError(f"program.ref {command.program.ref} is not UTF-8 text") from exc

    def _detach(self, run: Running) -> None:
        """The run's program is over: let go of its host. The host holds the run's lease
        fence and Book caller, whose callbacks hold the run: kept, they made each finished
        execution a reference cycle that only the cyclic collector freed (50+ objects per
        execution; a full collection of 150-400 ms every few thousand executions, which was
        the worker's p99 latency). A stop that comes later is kept as pending, as before one
        is attached."""
        with self._lock:
            run.host = None

    def _attach(self, run: Running, host: ExecutionHost) -> None:
        with self._lock:
            run.host = host
            if run.pending_stop is not None:
                host.stop_requested = run.pending_stop


class _Finisher(threading.Thread):
    """Ends runs whose program is done but whose output is still on its way to Kafka.

    The end record may only be journaled once everything the run produced is on the broker
    (``OutputFence.before_end``), which takes ~10 ms under load: an execution thread used
    to wait that out, and those waits were 45 % of its time while sandboxes sat idle. Now
    the run waits here, off any execution thread: the output's last delivery (``Outbox.
    when_drained``) queues it, and this thread journals its end and publishes its outcome
    (``Executions._finish``). A run that is leaving (hand-off, shutdown) while it waits is
    let go at once, as ``before_end`` did: no end, its lease released, its offset left for
    the partition's next owner."""

    def __init__(self, executions: Executions) -> None:
        super().__init__(name="jarvis-finisher", daemon=True)
        self.executions = executions
        self._lock = threading.Lock()
        self._ready: collections.deque[Running] = collections.deque()
        self._wake = threading.Event()
        # Runs waiting for their output, with what their end needs.
        self._waiting: dict[int, tuple[Running, Lease, OutputFence, Outcome]] = {}

    def wait_for_output(
        self, run: Running, lease: Lease, fence: OutputFence, outcome: Outcome
    ) -> None:
        with self._lock:
            self._waiting[id(run)] = (run, lease, fence, outcome)
        run.outbox.when_drained(lambda _ok: self._drained(run))

    def _drained(self, run: Running) -> None:
        with self._lock:
            if id(run) not in self._waiting:
                return  # let go already (leaving)
            self._ready.append(run)
        self._wake.set()

    def run(self) -> None:
        executions = self.executions
        while True:
            self._wake.wait(0.25)
            self._wake.clear()
            while True:
                with self._lock:
                    if not self._ready:
                        break
                    run = self._ready.popleft()
                    item = self._waiting.pop(id(run), None)
                if item is not None:
                    self._end(*item, drained=True)
            self._let_go_of_leaving()
            if executions.shutdown.is_set() and not self._waiting:
                return

    def _end(
        self, run: Running, lease: Lease, fence: OutputFence, outcome: Outcome, drained: bool
    ) -> None:
        executions = self.executions
        executions._guarded(
            run,
            "finishing it",
            functools.partial(executions._finish, run, lease, fence, outcome, drained),
        )

    def _let_go_of_leaving(self) -> None:
        """Runs leaving while their output is still in flight: as ``before_end`` (which
        raised ``Stopped("handoff")`` within a second), let them go without an end."""
        with self._lock:
            leaving = [item for item in self._waiting.values() if self.executions._leaving(item[0])]
            for item in leaving:
                del self._waiting[id(item[0])]
        for item in leaving:
            self._end(*item, drained=False)  # no end: lease released, run forgotten


class Takeover(threading.Thread):
    """Finds executions whose lease lapsed (their pod died or froze) and queues them here."""

    def __init__(
        self, leases: Leases, executions: Executions, interval_s: float, room: Callable[[], int]
    ) -> None:
        super().__init__(name="jarvis-takeover", daemon=True)
        self.leases = leases
        self.executions = executions
        self.interval_s = interval_s
        self.room = room
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(self.interval_s):
            try:
                self.scan()
            except redis.RedisError as exc:
                log.debug("take-over scan skipped: %s", exc)
            except Exception:
                log.exception("take-over scan failed")

    def scan(self) -> int:
        room = self.room()
        if room <= 0:
            return 0
        taken = 0
        for eid in lapsed_to_take(self.leases.lapsed(limit=4 * room), self.executions.ids(), room):
            if self.executions.take_over(eid):
                taken += 1
        return taken


def lapsed_to_take(lapsed: list[str], held: list[str], room: int) -> list[str]:
    """Which lapsed leases this worker should try to take over: not ones it holds (its own
    threads are already waiting for them), at most ``room``."""
    mine = set(held)
    return [eid for eid in lapsed if eid not in mine][: max(0, room)]
