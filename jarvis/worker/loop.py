"""The worker: the consumer thread, and the parts it wires together.

All consumer calls happen on this loop's thread: confluent-kafka's Consumer is not
thread-safe (https://github.com/confluentinc/confluent-kafka-python/issues/460). Each
message becomes a ``Decision`` (``dispatch.decide``: pure); the loop carries it out.
Admitted starts go to the bounded ready queue that the execution threads drain
(``executions.py``); they report finished offsets back through a queue, and only the loop
turns them into commits, in batches (``offsets.py``).

Backpressure: the partitions pause only when the ready queue is full (``ready.flow``); the
loop keeps calling ``poll()`` while paused (to stay in the group, receive rebalances) and
re-applies pauses after every assignment, since librdkafka forgets them for newly
assigned partitions. Stops still reach a paused pod through the stop scanner.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from confluent_kafka import Consumer, KafkaError, Message, TopicPartition
from confluent_kafka.admin import AdminClient

from jarvis.artifacts import ArtifactStore, S3ArtifactStore
from jarvis.books import BookRegistry
from jarvis.books.loading import load_books
from jarvis.contract.messages import LifecycleEvent, StopCommand
from jarvis.journal.durability import durability
from jarvis.journal.retention import collect
from jarvis.kafka.config import base_config
from jarvis.sandbox import SandboxPool
from jarvis.settings import Settings
from jarvis.telemetry import metrics, tracing
from jarvis.worker import sizing
from jarvis.worker.admission import admit, check_program_ref
from jarvis.worker.backoff import backoff
from jarvis.worker.deadletter import GiveUp, after_failure
from jarvis.worker.deletion_cost import DeletionCost, in_cluster_patcher
from jarvis.worker.dispatch import Absorb, DeadLetter, Decision, Reject, Run, Stop, decide
from jarvis.worker.executions import Executions, Running, Takeover
from jarvis.worker.health import Health, Metrics
from jarvis.worker.hooks import HookList, WorkerHooks
from jarvis.worker.lease import LeaseKeeper, Leases, registry_key
from jarvis.worker.offsets import OffsetTracker, commit_due
from jarvis.worker.publisher import KafkaPublisher
from jarvis.worker.readiness import checks
from jarvis.worker.ready import flow
from jarvis.worker.redis_client import connect as redis_client_for
from jarvis.worker.status import RedisStore, StatusWriter
from jarvis.worker.stops import StopFlags, StopWatcher
from jarvis.worker.stopscan import StopScanner

log = logging.getLogger("jarvis.worker")

REDIS_RETRY_S = 1.0
"""How soon a control message that failed for want of Redis is handled again."""

MAX_BATCH = 500
"""Most messages taken from the consumer per loop turn."""


def coordinates(msg: Message) -> tuple[str, int, int]:
    """(topic, partition, offset) of a consumed message, which always has all three."""
    topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
    assert topic is not None and partition is not None and offset is not None
    return topic, partition, offset


@dataclass
class Later:
    """Something to do again on the loop's thread at ``due`` (monotonic)."""

    due: float
    msg: Message
    action: Callable[[], None]


def consumer_config(settings: Settings) -> dict[str, object]:
    """The group consumer's librdkafka settings (README "Consumer protocol")."""
    config: dict[str, object] = {
        **base_config(settings),
        "group.id": settings.group_id,
        "client.id": settings.worker_id,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "max.poll.interval.ms": 300000,
    }
    if settings.metrics_lag_interval_s > 0:
        # Lag from the statistics librdkafka gathers anyway (high watermarks come with every
        # fetch): stats_cb runs inside poll() on the loop's thread, and a scrape reads the last
        # snapshot, never asking the broker (jarvis.telemetry.metrics.ConsumerLag).
        config["statistics.interval.ms"] = max(1, int(settings.metrics_lag_interval_s * 1000))
        config["stats_cb"] = metrics.LAG.update
    if settings.group_protocol == "consumer":
        config["group.protocol"] = "consumer"  # KIP-848: assignment and timeouts on the broker
    else:
        config.update(
            {
                "partition.assignment.strategy": "cooperative-sticky",
                "session.timeout.ms": int(settings.session_timeout_s * 1000),
                "heartbeat.interval.ms": int(settings.heartbeat_interval_s * 1000),
            }
        )
    return config


class Worker:
    def __init__(
        self,
        settings: Settings,
        artifacts: ArtifactStore | None = None,
        books: BookRegistry | None = None,
        redis_client: redis.Redis[bytes] | None = None,
    ) -> None:
        self.settings = settings
        tracing.configure(settings.tracing, settings.worker_id)  # JARVIS_TRACING; off: nothing
        self.concurrency = settings.max_concurrency or sizing.default_concurrency(
            sizing.available_cpus()
        )
        self.publisher = KafkaPublisher(settings)
        self.artifacts = artifacts or S3ArtifactStore(
            settings.s3_bucket, settings.s3_prefix, settings.s3_endpoint_url, settings.s3_region
        )
        self.books = books or load_books(settings)
        self.redis = redis_client or redis_client_for(
            settings.redis_url,
            5.0,
            # A password in the URL wins (redis-py); this one serves URLs without.
            password=(
                settings.redis_password.get_secret_value() if settings.redis_password else None
            ),
        )
        self.stops = StopFlags(self.redis)
        self.leases = Leases(
            self.redis, settings.worker_id, settings.lease_ttl_s, registry_key(settings.group_id)
        )
        self.lease_keeper = LeaseKeeper(self.leases)
        self.metrics = Metrics()
        # Known from the start: a scrape before the loop's first turn (which is when hooks
        # first hear the load) must not read 0 sandboxes.
        self.metrics.load(0, self.concurrency)
        hooks: list[WorkerHooks] = [self.metrics]
        patcher = in_cluster_patcher()
        if patcher is not None:
            hooks.append(DeletionCost(patcher))
        self.status: StatusWriter | None = None
        if settings.status_enabled:
            self.status = StatusWriter(
                RedisStore(
                    self.redis, settings.group_id, settings.status_ttl_s, settings.status_index_size
                ),
                settings.worker_id,
                interval_s=settings.status_flush_interval_s,
                max_pending=settings.status_queue_size,
                refresh_s=settings.status_ttl_s / 4,
            )
            hooks.append(self.status)
        self.hooks = HookList(hooks)
        self._admin = AdminClient(base_config(settings))
        self.health = Health(
            checks(settings, self._admin, self.redis, self.artifacts), self.metrics
        )
        self.health_port: int | None = None
        self._next_gc = time.monotonic() + 60.0  # not while the worker is starting
        self.offsets = OffsetTracker()
        # Finished work, appended by any thread and drained by this one each turn. A deque:
        # append and popleft are atomic, and nobody blocks on it (queue.Queue's locks and
        # condition cost ~10% of this process's GIL time at saturation).
        self._done: collections.deque[Running | tuple[str, int, int] | Later] = collections.deque()
        # Messages to handle again (Redis down, a dead letter or rejection undelivered).
        self._later: list[Later] = []
        # One warm sandbox process per execution slot (DESIGN.md §1b): programs never run here.
        self.sandboxes = SandboxPool(self.concurrency)
        self.durability = durability(settings.journal_sync)
        self.executions = Executions(
            settings,
            self.publisher,
            self.leases,
            self.stops,
            self.sandboxes,
            self.books,
            self.artifacts,
            self.hooks,
            self.durability,
            self._done.append,
            threads=settings.execution_threads or sizing.default_threads(self.concurrency),
            ready_capacity=settings.ready_queue_size
            or sizing.default_ready_capacity(self.concurrency),
            ready_bytes=settings.ready_queue_bytes,
        )
        self.takeover = Takeover(
            self.leases,
            self.executions,
            settings.takeover_interval_s,
            room=lambda: self.executions.ready.capacity - len(self.executions.ready),
        )
        self.stop_scanner = StopScanner(settings, self._on_stop)
        self._shutdown = threading.Event()
        self._paused = False
        self._handed_off = False  # shutdown's hand-off is done (see _on_revoke)
        self._assigned: set[tuple[str, int]] = set()
        self._last_commit = 0.0
        self._last_load = -1
        self._finished_since_commit = 0
        self.processed = 0  # control messages fully handled (for drain mode and metrics)
        self.consumer = Consumer(consumer_config(settings))
        self.watcher = StopWatcher(
            self.stops,
            self.executions.running_ids,
            self.executions.deliver_stop,
            settings.stop_check_interval_s,
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
        self.publisher.start_polling()
        self.executions.start()
        self.watcher.start()
        self.lease_keeper.start()
        self.leases.start_releasing()
        self.stop_scanner.start()
        self.takeover.start()
        if self.status is not None:
            self.status.start()
        if self.settings.health_port >= 0:
            self.health_port = self.health.serve(
                self.settings.health_host, self.settings.health_port
            )
            # With JARVIS_HEALTH_PORT=0 the port is only known here: say it, so probes
            # (and the fault tests) can find /readyz.
            log.info("health on port %d", self.health_port)
        last_activity = time.monotonic()
        log.info(
            "worker %s consuming %s (%d sandboxes)",
            self.settings.worker_id,
            self.settings.control_topic,
            self.concurrency,
        )
        try:
            while not self._shutdown.is_set():
                for msg in self._poll():
                    last_activity = time.monotonic()
                    self._handle(msg)
                self._handle_later()
                if self._drain_done():
                    last_activity = time.monotonic()
                self._commit()
                self._flow()
                self.health.turned()
                # Hands the admin client's queued librdkafka log lines to jarvis.kafka
                # (jarvis/kafka/logs.py): they are delivered only inside poll(). Microseconds.
                self._admin.poll(0)
                self._maybe_collect_journals()
                load = len(self.executions)
                if load != self._last_load:  # hooks hear changes, not every turn of the loop
                    self._last_load = load
                    self.hooks.load(load, self.concurrency)
                if (
                    idle_exit_s is not None
                    and not len(self.executions)
                    and self.offsets.in_flight() == 0
                    and time.monotonic() - last_activity >= idle_exit_s
                ):
                    break
        finally:
            self._close()

    def _poll(self) -> list[Message]:
        """Wait for one message, then take whatever else is already fetched (no waiting:
        ``consume`` with a timeout waits for a full batch, which costs latency at light load)."""
        first = self.consumer.poll(self.settings.poll_timeout_s)
        if first is None:
            return []
        if self._paused:
            return [first]
        return [first, *self.consumer.consume(MAX_BATCH - 1, 0)]

    # --- message handling (the loop's thread) ---

    def _handle(self, msg: Message) -> None:
        err = msg.error()
        if err is not None:
            if err.code() != KafkaError._PARTITION_EOF:
                log.warning("consumer error: %s", err)
            return
        topic, partition, offset = coordinates(msg)
        self.offsets.take(topic, partition, offset)
        try:
            decision = decide(
                msg.value(),
                msg.key(),
                self.executions,
                lambda command: admit(command, self.books, self.settings.worker_id),
                lambda command: check_program_ref(command.program.ref, self.settings),
            )
            self._carry_out(decision, msg)
        except Exception:  # a bug of ours: never kill the loop, never leave the offset stuck
            log.exception("internal error handling %s[%d]@%d", topic, partition, offset)
            self._dead_letter(
                msg,
                "the worker failed handling this message (an internal error; see its log)",
                None,
            )

    def _carry_out(self, decision: Decision, msg: Message) -> None:
        topic, partition, offset = coordinates(msg)
        if isinstance(decision, DeadLetter):
            self._dead_letter(msg, decision.reason, decision.field)
        elif isinstance(decision, Stop):
            self._stop(decision.command, msg)
        elif isinstance(decision, Absorb):
            log.info(
                "duplicate start for running execution %s absorbed",
                decision.execution_id,
                extra={"execution_id": decision.execution_id},  # a field of JSON log lines
            )
            self._finished(topic, partition, offset)
        elif isinstance(decision, Reject):
            self._reject(decision, msg, 1)
        elif isinstance(decision, Run):
            command = decision.command
            run = self.executions.new(
                command,
                topic,
                partition,
                offset,
                tracing.incoming(msg.headers()),
                size=len(msg.value() or b""),
            )
            run.outbox.event(
                LifecycleEvent(
                    execution_id=command.execution_id,
                    event="accepted",
                    worker=self.settings.worker_id,
                    labels=command.labels,
                )
            )
            self.hooks.accepted(command.execution_id)
            self.executions.queue(run)

    def _stop(self, command: StopCommand, msg: Message) -> None:
        topic, partition, offset = coordinates(msg)
        try:
            self._on_stop(command, partition, offset)
        except redis.RedisError as exc:
            # Redis is down: leave the offset unfinished so the command is not lost, and
            # handle it again shortly. (Fault-suite fix, tests/fault/test_service_outages.py:
            # it used to wait for "a rebalance or restart" to redeliver it, which never came
            # while the worker stayed healthy.)
            log.error(
                "cannot handle stop at %s[%d]@%d: Redis unavailable: %s (retrying in %.0f s)",
                topic,
                partition,
                offset,
                exc,
                REDIS_RETRY_S,
            )
            self._later.append(
                Later(time.monotonic() + REDIS_RETRY_S, msg, lambda: self._stop(command, msg))
            )
            return
        self._finished(topic, partition, offset)

    def _on_stop(self, command: StopCommand, partition: int, offset: int) -> None:
        self.stops.set(command.execution_id, command.mode, partition, offset)
        self.executions.stop(command.execution_id, command.mode)
        log.info(
            "stop (%s) for %s recorded",
            command.mode,
            command.execution_id,
            extra={"execution_id": command.execution_id},
        )

    def _reject(self, decision: Reject, msg: Message, attempt: int) -> None:
        topic, partition, offset = coordinates(msg)
        eid = decision.command.execution_id
        if attempt == 1:
            log.info(
                "start of %s rejected: %s",
                eid,
                decision.event.error.message if decision.event.error else "",
                extra={"execution_id": eid},
            )
            error = decision.event.error
            self.hooks.outcome(eid, "rejected", error.type if error else None, 0.0)
            self.hooks.lifecycle(decision.event, 0, None)

        def delivered(err: KafkaError | None, _m: Message) -> None:
            if err is None:
                self._done.append((topic, partition, offset))
                return
            log.error("could not deliver the rejection of %s (try %d): %s", eid, attempt, err)
            self._done.append(
                Later(
                    time.monotonic() + backoff(attempt, 0.2, 2.0),
                    msg,
                    lambda: self._reject(decision, msg, attempt + 1),
                )
            )

        self.publisher.event(decision.event, delivered, tracing.incoming(msg.headers()))

    def _dead_letter(self, msg: Message, reason: str, field: str | None, attempt: int = 1) -> None:
        topic, partition, offset = coordinates(msg)
        if attempt == 1:
            self.hooks.dead_lettered(reason)
            self.hooks.dead_lettered_message(reason, field, msg.value())
            log.warning(
                "dead-lettering %s[%d]@%d: %s%s",
                topic,
                partition,
                offset,
                f"{field}: " if field else "",
                reason,
            )

        def delivered(err: KafkaError | None, _m: Message) -> None:
            if err is None:
                self._done.append((topic, partition, offset))
                return
            step = after_failure(attempt, self.settings.dead_letter_attempts)
            if isinstance(step, GiveUp):
                # Never a partition stuck behind one message: say all there is to say, move on.
                log.error(
                    "giving up dead-lettering %s[%d]@%d after %d tries (%s); key=%r value=%r reason=%s",
                    topic,
                    partition,
                    offset,
                    attempt,
                    err,
                    msg.key(),
                    (msg.value() or b"")[:4096],
                    reason,
                )
                self._done.append((topic, partition, offset))
            else:
                log.error(
                    "could not dead-letter %s[%d]@%d (try %d): %s",
                    topic,
                    partition,
                    offset,
                    attempt,
                    err,
                )
                self._done.append(
                    Later(
                        time.monotonic() + step.delay_s,
                        msg,
                        lambda: self._dead_letter(msg, reason, field, attempt + 1),
                    )
                )

        self.publisher.dead_letter(msg, reason, field, delivered)

    def _handle_later(self) -> None:
        if not self._later:
            return
        now = time.monotonic()
        due = [item for item in self._later if item.due <= now]
        if due:
            self._later = [item for item in self._later if item.due > now]
            for item in due:
                item.action()

    # --- offsets, flow, rebalance ---

    def _finished(self, topic: str, partition: int, offset: int) -> None:
        self.offsets.finish(topic, partition, offset)
        self.processed += 1
        self._finished_since_commit += 1

    def _drain_done(self) -> bool:
        any_done = False
        while True:
            try:
                item = self._done.popleft()
            except IndexError:
                return any_done
            if isinstance(item, Later):
                if (item.msg.topic(), item.msg.partition()) in self._assigned:
                    self._later.append(item)
                continue
            if isinstance(item, Running):
                if item.topic is None:
                    continue
                item = (item.topic, item.partition, item.offset)
            self._finished(*item)
            any_done = True

    def _commit(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and not commit_due(
            now, self._last_commit, self.settings.commit_interval_s, self._finished_since_commit
        ):
            return
        points = self.offsets.commit_points()
        self._last_commit = now
        self._finished_since_commit = 0
        if not points:
            return
        offsets = [TopicPartition(t, p, o) for (t, p), o in points.items()]
        try:
            # The ends of the executions behind these offsets were written unsynced (group
            # commit defers them): one syncfs makes them all durable before the offsets move.
            self.durability.barrier(str(self.settings.checkpoint_dir))
        except OSError as exc:
            log.error(
                "cannot make journals in %s durable (%s); offsets stay uncommitted until it can",
                self.settings.checkpoint_dir,
                exc.strerror or exc,
            )
            self._finished_since_commit = 1
            return
        try:
            self.consumer.commit(offsets=offsets, asynchronous=False)
        except Exception as exc:  # KafkaException: retried at the next commit
            log.warning("commit failed (will retry): %s", exc)
            self._finished_since_commit = 1
            return
        for (t, p), o in points.items():
            self.offsets.committed(t, p, o)

    def _flow(self) -> None:
        waiting = len(self.executions.ready) + len(self._later)
        ready = self.executions.ready
        pause = flow(waiting, ready.capacity, self._paused, ready.bytes, ready.max_bytes).pause
        if pause != self._paused and self._assigned:
            parts = [TopicPartition(t, p) for t, p in self._assigned]
            (self.consumer.pause if pause else self.consumer.resume)(parts)
            self._paused = pause
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
        # consumer.close() revokes everything once more: shutdown has handed off and waited
        # already, and a second wait of drain_grace_s would outlast the pod's grace period.
        wait_s = 0.0 if self._handed_off else self.settings.drain_grace_s
        left = self.executions.hand_off(lambda r: (r.topic, r.partition) in lost, wait_s)
        if left and not self._handed_off:  # shutdown has said so already
            log.warning(
                "executions still running after hand-off deadline: %s",
                [r.execution_id for r in left],
            )
        # Their next owner handles them: it consumes from the committed offset.
        self._later = [
            item for item in self._later if (item.msg.topic(), item.msg.partition()) not in lost
        ]
        self._drain_done()
        self._commit(force=True)
        for t, p in lost:
            self.offsets.forget(t, p)
        self._assigned -= lost
        self._scan_stops()
        self.hooks.rebalanced(len(self._assigned))
        metrics.LAG.forget(lost)  # not ours any more: until the next statistics say so
        log.info("revoked %s", sorted(lost))

    def _maybe_collect_journals(self) -> None:
        now = time.monotonic()
        if now < self._next_gc:
            return
        self._next_gc = now + self.settings.journal_gc_interval_s
        # Off the loop's thread: a big volume takes a while to scan.
        threading.Thread(
            target=collect,
            args=(self.settings.checkpoint_dir, self.settings.journal_retention_s),
            name="jarvis-journal-gc",
            daemon=True,
        ).start()

    # --- shutdown ---

    def _close(self) -> None:
        self.takeover.halt.set()
        left = self.executions.hand_off(lambda r: True, self.settings.drain_grace_s)
        self._handed_off = True
        if left:
            log.warning(
                "executions still running after hand-off deadline: %s",
                [r.execution_id for r in left],
            )
        self._drain_done()
        self._commit(force=True)
        self.publisher.flush(self.settings.flush_timeout_s)
        if self.status is not None:
            self.status.close()  # its last flush: the final states of what ran here
        self.executions.close()
        self.leases.close()  # the releases still queued
        self.publisher.stop_polling()
        self.watcher.halt.set()
        self.lease_keeper.halt.set()
        self.stop_scanner.halt.set()
        self.health.close()
        self.sandboxes.close()
        self.consumer.close()
        log.info("worker %s left the group", self.settings.worker_id)
