"""The worker: consume ``spy_control``, run executions, publish, commit, dead-letter.

All consumer calls happen on the loop's thread: confluent-kafka's Consumer is not
thread-safe (https://github.com/confluentinc/confluent-kafka-python/issues/460).
Executions run on a bounded thread pool; they report back through a queue the loop
drains, and only the loop turns outcomes into commits (CONVENTIONS.md §4).

Backpressure: at ``max_concurrency`` running executions the loop pauses its partitions
and keeps calling ``poll()`` (to stay in the group, receive rebalances and see stops).
Pauses are re-applied after every assignment, since librdkafka forgets them for newly
assigned partitions.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import redis
from confluent_kafka import Consumer, KafkaError, Message, TopicPartition
from confluent_kafka.admin import AdminClient

from jarvis.artifacts import ArtifactStore, S3ArtifactStore
from jarvis.books import BookRegistry
from jarvis.books.loading import load_books
from jarvis.contract.messages import ErrorInfo, LifecycleEvent, StartCommand, StopCommand
from jarvis.contract.parse import parse_control
from jarvis.errors import ControlMessageError, InternalError, JarvisError
from jarvis.execution.admission import check_program_ref
from jarvis.execution.config import RunConfig, effective_limits, sandbox_run_settings
from jarvis.execution.host import ExecutionHost
from jarvis.execution.runner import error_info, run_execution
from jarvis.journal import Journal
from jarvis.journal.retention import collect
from jarvis.kafka.config import base_config
from jarvis.sandbox import SandboxPool
from jarvis.settings import Settings
from jarvis.worker.deletion_cost import DeletionCost, in_cluster_patcher
from jarvis.worker.health import Health, Metrics
from jarvis.worker.hooks import HookList, WorkerHooks
from jarvis.worker.lease import FencedBooks, Lease, LeaseKeeper, Leases, OutputFence
from jarvis.worker.offsets import OffsetTracker
from jarvis.worker.publisher import KafkaPublisher
from jarvis.worker.stops import StopFlag, StopFlags, StopWatcher
from jarvis.worker.stopscan import StopScanner

log = logging.getLogger("jarvis.worker")

REDIS_RETRY_S = 1.0
"""How soon a control message that failed for want of Redis is handled again."""

HANDOFF = "handoff"
"""Internal stop mode: the partition moved or the worker is leaving; the journal stays open
and the next owner resumes the execution from it. Never shown to orchestrators."""


@dataclass
class Running:
    execution_id: str
    topic: str
    partition: int
    offset: int
    config: RunConfig
    host: ExecutionHost | None = None
    pending_stop: str | None = None  # a stop that arrived before the host existed
    leaving: bool = False  # handed off by this worker (revoke, shutdown): never resume it here


def coordinates(msg: Message) -> tuple[str, int, int]:
    """(topic, partition, offset) of a consumed message, which always has all three."""
    topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
    assert topic is not None and partition is not None and offset is not None
    return topic, partition, offset


class Worker:
    def __init__(
        self,
        settings: Settings,
        artifacts: ArtifactStore | None = None,
        books: BookRegistry | None = None,
        redis_client: redis.Redis[bytes] | None = None,
    ) -> None:
        self.settings = settings
        self.publisher = KafkaPublisher(settings)
        self.artifacts = artifacts or S3ArtifactStore(
            settings.s3_bucket, settings.s3_prefix, settings.s3_endpoint_url, settings.s3_region
        )
        self.books = books or load_books(settings)
        self.redis = redis_client or redis.Redis.from_url(settings.redis_url, socket_timeout=5)
        self.stops = StopFlags(self.redis)
        self.leases = Leases(self.redis, settings.worker_id, settings.lease_ttl_s)
        self.lease_keeper = LeaseKeeper(self.leases)
        self.stop_scanner = StopScanner(settings, self._on_stop)
        self.metrics = Metrics()
        hooks: list[WorkerHooks] = [self.metrics]
        patcher = in_cluster_patcher()
        if patcher is not None:
            hooks.append(DeletionCost(patcher))
        self.hooks = HookList(hooks)
        self.health = Health(
            {
                "kafka": self._check_kafka,
                "redis": self._check_redis,
                "checkpoint_volume": self._check_volume,
                "object_store": self._check_object_store,
            },
            self.metrics,
        )
        self.health_port: int | None = None
        self._next_gc = time.monotonic() + 60.0  # not while the worker is starting
        self.offsets = OffsetTracker()
        self.running: dict[str, Running] = {}
        self._lock = threading.Lock()  # guards self.running (loop, pool threads, watcher)
        self._done: queue.Queue[tuple[str, int, int]] = queue.Queue()
        # Control messages that could not be handled for want of Redis: (due, message).
        self._retries: list[tuple[float, Message]] = []
        self._pool = ThreadPoolExecutor(settings.max_concurrency, thread_name_prefix="jarvis-exec")
        # One warm sandbox process per execution slot (DESIGN.md §1b): programs never run here.
        self.sandboxes = SandboxPool(settings.max_concurrency)
        self._shutdown = threading.Event()
        self._paused = False
        self._assigned: set[tuple[str, int]] = set()
        self.processed = 0  # control messages fully handled (for drain mode and metrics)
        self.consumer = Consumer(
            {
                **base_config(settings),
                "group.id": settings.group_id,
                "client.id": settings.worker_id,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
                "partition.assignment.strategy": "cooperative-sticky",
                "session.timeout.ms": 10000,
                "heartbeat.interval.ms": 1000,
                "max.poll.interval.ms": 300000,
            }
        )
        self._admin = AdminClient(base_config(settings))
        self.watcher = StopWatcher(
            self.stops, self._running_ids, self._deliver_stop, settings.stop_check_interval_s
        )

    # --- public ---

    def request_shutdown(self) -> None:
        """Stop taking work, hand off running executions, commit, leave (SIGTERM path)."""
        self._shutdown.set()

    def run(self, idle_exit_s: float | None = None) -> None:
        """Consume until shutdown is requested, or (drain mode) until idle for ``idle_exit_s``."""
        self.settings.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        self.consumer.subscribe(
            [self.settings.control_topic],
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_revoke,
        )
        self.watcher.start()
        self.lease_keeper.start()
        self.stop_scanner.start()
        if self.settings.health_port >= 0:
            self.health_port = self.health.serve(self.settings.health_host, self.settings.health_port)
            # With JARVIS_HEALTH_PORT=0 the port is only known here: say it, so probes
            # (and the fault tests) can find /readyz.
            log.info("health on port %d", self.health_port)
        last_activity = time.monotonic()
        log.info("worker %s consuming %s", self.settings.worker_id, self.settings.control_topic)
        try:
            while not self._shutdown.is_set():
                msg = self.consumer.poll(self.settings.poll_timeout_s)
                self.publisher.poll()
                if msg is not None:
                    last_activity = time.monotonic()
                    self._handle(msg)
                self._retry_due()
                if self._drain_done():
                    last_activity = time.monotonic()
                self._commit()
                self._backpressure()
                self.health.turned()
                self._maybe_collect_journals()
                self.hooks.load(len(self.running), self.settings.max_concurrency)
                if (
                    idle_exit_s is not None
                    and not self._running_ids()
                    and self.offsets.in_flight() == 0
                    and time.monotonic() - last_activity >= idle_exit_s
                ):
                    break
        finally:
            self._close()

    # --- message handling ---

    def _handle(self, msg: Message, retry: bool = False) -> None:
        err = msg.error()
        if err is not None:
            if err.code() != KafkaError._PARTITION_EOF:
                log.warning("consumer error: %s", err)
            return
        topic, partition, offset = coordinates(msg)
        if not retry:
            self.offsets.take(topic, partition, offset)
        try:
            command = parse_control(msg.value(), msg.key())
            if isinstance(command, StartCommand):
                check_program_ref(command.program.ref, self.settings)
        except ControlMessageError as exc:
            self._dead_letter(msg, exc)
            return
        try:
            if isinstance(command, StopCommand):
                self._on_stop(command, partition, offset)
                self._finished(topic, partition, offset)
            else:
                self._on_start(command, topic, partition, offset)
        except redis.RedisError as exc:
            # Redis is down: leave the offset unfinished so the command is not lost, and
            # handle it again shortly. (Fault-suite fix, tests/fault/test_service_outages.py:
            # it used to wait for "a rebalance or restart" to redeliver it, which never came
            # while the worker stayed healthy: the command and its partition's commit point
            # were stuck for good.) Retries count against max_concurrency (_backpressure).
            log.error(
                "cannot handle %s at %s[%d]@%d: Redis unavailable: %s (retrying in %.0f s)",
                command.type, topic, partition, offset, exc, REDIS_RETRY_S,
            )
            self._retries.append((time.monotonic() + REDIS_RETRY_S, msg))

    def _retry_due(self) -> None:
        if not self._retries:
            return
        now = time.monotonic()
        due = [m for t, m in self._retries if t <= now]
        if due:
            self._retries = [(t, m) for t, m in self._retries if t > now]
            for msg in due:
                self._handle(msg, retry=True)

    def _dead_letter(self, msg: Message, exc: ControlMessageError) -> None:
        topic, partition, offset = coordinates(msg)
        self.hooks.dead_lettered(exc.reason)
        log.warning("dead-lettering %s[%d]@%d: %s", topic, partition, offset, exc)

        def delivered(err: KafkaError | None, _m: Message) -> None:
            if err is None:
                self._done.put((topic, partition, offset))
            else:  # not dead-lettered: keep the offset uncommitted so it is retried
                log.error("could not dead-letter %s[%d]@%d: %s", topic, partition, offset, err)

        self.publisher.dead_letter(msg, exc.reason, exc.field, delivered)

    def _on_stop(self, command: StopCommand, partition: int, offset: int) -> None:
        self.stops.set(command.execution_id, command.mode, partition, offset)
        with self._lock:
            running = self.running.get(command.execution_id)
        if running is not None:
            self._interrupt(running, command.mode)
        log.info("stop (%s) for %s recorded", command.mode, command.execution_id)

    def _on_start(self, command: StartCommand, topic: str, partition: int, offset: int) -> None:
        eid = command.execution_id
        with self._lock:
            duplicate = eid in self.running
        if duplicate:
            log.info("duplicate start for running execution %s absorbed", eid)
            self._finished(topic, partition, offset)
            return
        flag = self.stops.get(eid)
        if flag is not None and self._stop_prevents_start(command, flag):
            self._finished(topic, partition, offset)
            return
        try:
            config = self._run_config(command)
        except JarvisError as exc:
            # Validate on arrival: an execution asking for Books this worker lacks never starts.
            self.publisher.event(
                LifecycleEvent(
                    execution_id=eid, event="rejected", worker=self.settings.worker_id, log_records=0,
                    error=ErrorInfo(type="UnknownBook", message=str(exc), traceback=f"UnknownBook: {exc}"),
                    labels=command.labels,
                )
            )
            self._finished(topic, partition, offset)
            return
        self.publisher.event(
            LifecycleEvent(execution_id=eid, event="accepted", worker=self.settings.worker_id, labels=command.labels)
        )
        self.hooks.accepted(eid)
        run = Running(eid, topic, partition, offset, config)
        with self._lock:
            self.running[eid] = run
        self._pool.submit(self._execute, command, run)

    def _run_config(self, command: StartCommand) -> RunConfig:
        self.books.resolve(command.books)
        limits, log_policy = effective_limits(command.options.limits, self.settings)
        return RunConfig(
            journal_root=self.settings.checkpoint_dir,
            worker_id=self.settings.worker_id,
            artifacts=self.artifacts,
            books=self.books,
            procedures=self.books.procedures(command.books),
            limits=limits,
            log_policy=log_policy,
            max_program_bytes=self.settings.max_program_bytes,
            storage_deadline_s=self.settings.artifact_deadline_s,
            sandboxes=self.sandboxes,
            **sandbox_run_settings(self.settings),  # type: ignore[arg-type]
        )

    def _stop_prevents_start(self, command: StartCommand, flag: StopFlag) -> bool:
        eid = command.execution_id
        journal = Journal.open(self.settings.checkpoint_dir, eid)
        if journal.end is not None:
            return False  # finished: run_execution re-announces the outcome
        if flag.mode == "suspend" and journal.start is not None:
            self.stops.clear(eid)  # a start after a suspend resumes the execution
            return False
        event = LifecycleEvent(
            execution_id=eid, event="stopped", worker=self.settings.worker_id,
            stop_mode=flag.mode, log_records=0, labels=command.labels,  # type: ignore[arg-type]
        )
        if flag.mode == "cancel":
            journal.append({"t": "end", "event": event.model_dump(mode="json")})
        else:
            self.stops.clear(eid)  # a suspend before any start is consumed by that start
        journal.close()
        self.publisher.event(event)
        log.info("start of %s prevented by an earlier stop (%s)", eid, flag.mode)
        return True

    # --- executions (pool threads) ---

    def _acquire(self, run: Running) -> Lease | None:
        """Wait for the execution's lease (another pod may still be handing it off)."""
        delay = 0.05
        while True:
            if run.leaving or run.pending_stop == HANDOFF or self._shutdown.is_set():
                return None
            try:
                lease = self.leases.acquire(run.execution_id)
            except redis.RedisError as exc:
                log.warning("cannot take the lease of %s: %s (retrying)", run.execution_id, exc)
                lease = None
            if lease is not None:
                lease.on_lost.append(lambda: self._interrupt(run, HANDOFF))
                return lease
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    def _execute(self, command: StartCommand, run: Running) -> None:
        eid = command.execution_id
        while True:
            lease = self._acquire(run)
            if lease is None:  # leaving, or the partition moved: the next owner runs it
                with self._lock:
                    self.running.pop(eid, None)
                return
            try:
                again = self._run_leased(command, run, lease)
            finally:
                self.leases.release(lease)
            if not again:
                return
            # Fault-suite fix (tests/fault/test_service_outages.py, Redis outage): the lease
            # lapsed (Redis unreachable past its TTL, or this process stalled) while the
            # partition is still ours. The execution stopped writing, as it must; but it used
            # to be dropped here with its offset uncommitted and nobody to redeliver it, so it
            # never finished. Take the lease again (waiting for Redis, or for whoever holds
            # it) and resume from the journal.
            log.warning("execution %s lost its lease; resuming it from its journal once it is ours again", eid)
            with self._lock:
                run.host = None
                if run.pending_stop == HANDOFF:
                    run.pending_stop = None

    def _run_leased(self, command: StartCommand, run: Running, lease: Lease) -> bool:
        """Run under ``lease``; True when the lease was lost and the run should be resumed here."""
        eid = command.execution_id
        try:
            source = self._program_source(command)
            fence = OutputFence(lease, self.publisher.flush, lambda: run.leaving or self._shutdown.is_set())
            config = dataclasses.replace(run.config, fence=fence)
            if config.books is not None:  # no Book call once the lease may be gone (lease.py)
                config = dataclasses.replace(config, books=FencedBooks(config.books, lease))
            outcome = run_execution(
                command, source, config, self.publisher, on_host=lambda host: self._attach(run, host)
            )
            if outcome.handoff:
                if not (run.leaving or self._shutdown.is_set()):
                    return True  # nobody asked for a hand-off: the lease lapsed
                log.info("execution %s handed off", eid)
                self.hooks.handed_off(eid)
                with self._lock:
                    self.running.pop(eid, None)
                return False  # its offset stays uncommitted: the partition's next owner resumes it
            else:
                self.publisher.event(outcome.event)
                self.hooks.finished(eid, outcome.event.event, outcome.duration_s)
                log.info("execution %s %s%s", eid, outcome.event.event, " (re-announced)" if outcome.reannounced else "")
        except JarvisError as exc:
            self.publisher.event(
                LifecycleEvent(execution_id=eid, event="failed", worker=self.settings.worker_id,
                               error=error_info(exc), labels=command.labels)
            )
        except Exception:  # a bug of ours: never kill the pool thread, never leave the offset stuck
            log.exception("execution %s: internal error around the host", eid)
            err = InternalError("Jarvis failed while running this execution; the worker's log has the details")
            self.publisher.event(
                LifecycleEvent(execution_id=eid, event="failed", worker=self.settings.worker_id,
                               error=error_info(err), labels=command.labels)
            )
        # Output-commit rule: logs and events must be on the broker before the offset moves.
        if not self.publisher.flush():
            log.error("could not deliver output of %s; its offset stays uncommitted", eid)
            with self._lock:
                self.running.pop(eid, None)
            return False
        with self._lock:
            self.running.pop(eid, None)
        self._done.put((run.topic, run.partition, run.offset))
        return False

    def _maybe_collect_journals(self) -> None:
        now = time.monotonic()
        if now < self._next_gc:
            return
        self._next_gc = now + self.settings.journal_gc_interval_s
        # Off the loop's thread: a big volume takes a while to scan.
        threading.Thread(
            target=collect, args=(self.settings.checkpoint_dir, self.settings.journal_retention_s),
            name="jarvis-journal-gc", daemon=True,
        ).start()

    # --- readiness checks (each raises when its dependency is unusable) ---

    def _check_kafka(self) -> None:
        meta = self._admin.list_topics(self.settings.control_topic, timeout=3)
        topic = meta.topics.get(self.settings.control_topic)
        if topic is None or topic.error is not None:
            raise JarvisError(f"topic {self.settings.control_topic} unavailable")

    def _check_redis(self) -> None:
        self.redis.ping()

    def _check_volume(self) -> None:
        probe = self.settings.checkpoint_dir / f".probe-{self.settings.worker_id}"
        with open(probe, "wb") as fh:
            fh.write(b"ok")
            fh.flush()
            os.fsync(fh.fileno())
        probe.unlink()

    def _check_object_store(self) -> None:
        if isinstance(self.artifacts, S3ArtifactStore):
            self.artifacts.client.head_bucket(Bucket=self.artifacts.bucket)

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

    def _attach(self, run: Running, host: ExecutionHost) -> None:
        with self._lock:
            run.host = host
            if run.pending_stop is not None:
                host.stop_requested = run.pending_stop

    def _interrupt(self, run: Running, mode: str) -> None:
        with self._lock:
            if run.host is not None:
                run.host.stop_requested = mode
            else:
                run.pending_stop = mode

    def _running_ids(self) -> list[str]:
        with self._lock:
            return list(self.running)

    def _deliver_stop(self, execution_id: str, flag: StopFlag) -> None:
        with self._lock:
            run = self.running.get(execution_id)
        if run is not None and (run.partition, run.offset) != (flag.partition, flag.offset):
            if flag.mode == "suspend" and flag.offset < run.offset:
                return  # an old suspend this start already resumed from
            self._interrupt(run, flag.mode)

    # --- offsets, backpressure, rebalance ---

    def _finished(self, topic: str, partition: int, offset: int) -> None:
        self.offsets.finish(topic, partition, offset)
        self.processed += 1

    def _drain_done(self) -> bool:
        any_done = False
        while True:
            try:
                topic, partition, offset = self._done.get_nowait()
            except queue.Empty:
                return any_done
            self._finished(topic, partition, offset)
            any_done = True

    def _commit(self) -> None:
        points = self.offsets.commit_points()
        if not points:
            return
        offsets = [TopicPartition(t, p, o) for (t, p), o in points.items()]
        try:
            self.consumer.commit(offsets=offsets, asynchronous=False)
        except Exception as exc:  # KafkaException: retried at the next loop turn
            log.warning("commit failed (will retry): %s", exc)
            return
        for (t, p), o in points.items():
            self.offsets.committed(t, p, o)

    def _backpressure(self) -> None:
        # Count executions, not every unfinished offset (fault-suite fix, tests/fault/
        # test_poison.py): a dead letter waiting for its delivery report used to take a slot,
        # so a run of bad messages paused the partitions every `max_concurrency` messages,
        # and each resume costs a re-fetch (librdkafka drops a paused partition's prefetched
        # messages: confluentinc/librdkafka#2703): ~3 bad messages a second got through.
        # Dead letters are bounded by the producer's queue instead.
        with self._lock:
            executions = len(self.running)
        busy = executions + len(self._retries) >= self.settings.max_concurrency
        if busy != self._paused and self._assigned:
            parts = [TopicPartition(t, p) for t, p in self._assigned]
            (self.consumer.pause if busy else self.consumer.resume)(parts)
            self._paused = busy
            self._scan_stops()

    def _scan_stops(self) -> None:
        """While paused, let the stop scanner read ahead from where this consumer stands."""
        if not self._paused or not self._assigned:
            self.stop_scanner.watch(None)
            return
        positions = self.consumer.position([TopicPartition(t, p) for t, p in self._assigned])
        self.stop_scanner.watch(
            {(tp.topic, tp.partition): tp.offset for tp in positions if tp.offset >= 0}
        )

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._assigned |= {(tp.topic, tp.partition) for tp in partitions}
        if self._paused and partitions:
            consumer.pause(partitions)
            self._scan_stops()
        self.hooks.rebalanced(len(self._assigned))
        log.info("assigned %s", sorted((tp.topic, tp.partition) for tp in partitions))

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        lost = {(tp.topic, tp.partition) for tp in partitions}
        self._handoff(lambda r: (r.topic, r.partition) in lost)
        # Their next owner handles them: it consumes from the committed offset.
        self._retries = [(t, m) for t, m in self._retries if (m.topic(), m.partition()) not in lost]
        self._drain_done()
        self._commit()
        for t, p in lost:
            self.offsets.forget(t, p)
        self._assigned -= lost
        self._scan_stops()
        self.hooks.rebalanced(len(self._assigned))
        log.info("revoked %s", sorted(lost))

    def _handoff(self, which: Any, timeout_s: float | None = None) -> None:
        """Suspend matching running executions (journals are durable) and wait for them."""
        with self._lock:
            runs = [r for r in self.running.values() if which(r)]
            for run in runs:
                run.leaving = True
        for run in runs:
            self._interrupt(run, HANDOFF)
        deadline = time.monotonic() + (timeout_s or self.settings.drain_grace_s)
        while time.monotonic() < deadline:
            with self._lock:
                if not any(r.execution_id in self.running for r in runs):
                    return
            time.sleep(0.01)
        log.warning("executions still running after hand-off deadline: %s", [r.execution_id for r in runs])

    def _close(self) -> None:
        self._handoff(lambda r: True)
        self._drain_done()
        self._commit()
        self.publisher.flush(10)
        self.watcher.halt.set()
        self.lease_keeper.halt.set()
        self.stop_scanner.halt.set()
        self.health.close()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.sandboxes.close()
        self.consumer.close()
        log.info("worker %s left the group", self.settings.worker_id)


