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

import logging
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import redis
from confluent_kafka import Consumer, KafkaError, Message, TopicPartition

from jarvis.artifacts import ArtifactStore, S3ArtifactStore
from jarvis.contract.messages import LifecycleEvent, StartCommand, StopCommand
from jarvis.contract.parse import parse_control
from jarvis.errors import ControlMessageError, JarvisError
from jarvis.execution.host import ExecutionHost
from jarvis.execution.runner import error_info, run_execution
from jarvis.journal import Journal
from jarvis.kafka.config import base_config
from jarvis.settings import Settings
from jarvis.worker.offsets import OffsetTracker
from jarvis.worker.publisher import KafkaPublisher
from jarvis.worker.stops import StopFlag, StopFlags, StopWatcher

log = logging.getLogger("jarvis.worker")

HANDOFF = "handoff"
"""Internal stop mode: the partition moved or the worker is leaving; the journal stays open
and the next owner resumes the execution from it. Never shown to orchestrators."""


@dataclass
class Running:
    execution_id: str
    topic: str
    partition: int
    offset: int
    host: ExecutionHost | None = None
    pending_stop: str | None = None  # a stop that arrived before the host existed


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
        redis_client: redis.Redis[bytes] | None = None,
    ) -> None:
        self.settings = settings
        self.publisher = KafkaPublisher(settings)
        self.artifacts = artifacts or S3ArtifactStore(
            settings.s3_bucket, settings.s3_prefix, settings.s3_endpoint_url, settings.s3_region
        )
        self.redis = redis_client or redis.Redis.from_url(settings.redis_url, socket_timeout=5)
        self.stops = StopFlags(self.redis)
        self.offsets = OffsetTracker()
        self.running: dict[str, Running] = {}
        self._lock = threading.Lock()  # guards self.running (loop, pool threads, watcher)
        self._done: queue.Queue[tuple[str, int, int]] = queue.Queue()
        self._pool = ThreadPoolExecutor(settings.max_concurrency, thread_name_prefix="jarvis-exec")
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
        last_activity = time.monotonic()
        log.info("worker %s consuming %s", self.settings.worker_id, self.settings.control_topic)
        try:
            while not self._shutdown.is_set():
                msg = self.consumer.poll(self.settings.poll_timeout_s)
                self.publisher.poll()
                if msg is not None:
                    last_activity = time.monotonic()
                    self._handle(msg)
                if self._drain_done():
                    last_activity = time.monotonic()
                self._commit()
                self._backpressure()
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

    def _handle(self, msg: Message) -> None:
        err = msg.error()
        if err is not None:
            if err.code() != KafkaError._PARTITION_EOF:
                log.warning("consumer error: %s", err)
            return
        topic, partition, offset = coordinates(msg)
        self.offsets.take(topic, partition, offset)
        try:
            command = parse_control(msg.value(), msg.key())
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
            # Redis is down: leave the offset unfinished so the command is not lost;
            # a rebalance or restart redelivers it.
            log.error("cannot handle %s at %s[%d]@%d: Redis unavailable: %s", command.type, topic, partition, offset, exc)

    def _dead_letter(self, msg: Message, exc: ControlMessageError) -> None:
        topic, partition, offset = coordinates(msg)
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
        self.publisher.event(
            LifecycleEvent(execution_id=eid, event="accepted", worker=self.settings.worker_id, labels=command.labels)
        )
        run = Running(eid, topic, partition, offset)
        with self._lock:
            self.running[eid] = run
        self._pool.submit(self._execute, command, run)

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

    def _execute(self, command: StartCommand, run: Running) -> None:
        eid = command.execution_id
        try:
            source = self._program_source(command)
            if len(source.encode()) > self.settings.max_program_bytes:
                raise JarvisError(
                    f"program is {len(source.encode())} bytes; the limit is "
                    f"{self.settings.max_program_bytes} (JARVIS_MAX_PROGRAM_BYTES)"
                )
            outcome = run_execution(
                command,
                source,
                journal_root=self.settings.checkpoint_dir,
                sink=self.publisher,
                artifacts=self.artifacts,
                worker_id=self.settings.worker_id,
                on_host=lambda host: self._attach(run, host),
            )
            if outcome.handoff:
                log.info("execution %s handed off", eid)
            else:
                self.publisher.event(outcome.event)
                log.info("execution %s %s%s", eid, outcome.event.event, " (re-announced)" if outcome.reannounced else "")
        except JarvisError as exc:
            self.publisher.event(
                LifecycleEvent(execution_id=eid, event="failed", worker=self.settings.worker_id,
                               error=error_info(exc), labels=command.labels)
            )
        except Exception:  # a bug of ours: never kill the pool thread, never lose the offset
            log.exception("execution %s crashed the host; it stays uncommitted for redelivery", eid)
            with self._lock:
                self.running.pop(eid, None)
            return
        # Output-commit rule: logs and events must be on the broker before the offset moves.
        if not self.publisher.flush():
            log.error("could not deliver output of %s; its offset stays uncommitted", eid)
            with self._lock:
                self.running.pop(eid, None)
            return
        with self._lock:
            self.running.pop(eid, None)
        self._done.put((run.topic, run.partition, run.offset))

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
        busy = self.offsets.in_flight() >= self.settings.max_concurrency
        if busy != self._paused and self._assigned:
            parts = [TopicPartition(t, p) for t, p in self._assigned]
            (self.consumer.pause if busy else self.consumer.resume)(parts)
            self._paused = busy

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._assigned |= {(tp.topic, tp.partition) for tp in partitions}
        if self._paused and partitions:
            consumer.pause(partitions)
        log.info("assigned %s", sorted((tp.topic, tp.partition) for tp in partitions))

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        lost = {(tp.topic, tp.partition) for tp in partitions}
        self._handoff(lambda r: (r.topic, r.partition) in lost)
        self._drain_done()
        self._commit()
        for t, p in lost:
            self.offsets.forget(t, p)
        self._assigned -= lost
        log.info("revoked %s", sorted(lost))

    def _handoff(self, which: Any, timeout_s: float | None = None) -> None:
        """Suspend matching running executions (journals are durable) and wait for them."""
        with self._lock:
            runs = [r for r in self.running.values() if which(r)]
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
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.consumer.close()
        log.info("worker %s left the group", self.settings.worker_id)


