"""A throw-away Jarvis deployment on the local stack, for fault injection.

``Cluster`` owns one test's world: fresh topics, a fresh consumer group, its own checkpoint
directory and Book call log, and worker *processes* (``python -m jarvis.cli worker``) that
can be SIGKILLed, SIGTERMed or SIGSTOPped like pods. It reads back everything the workers
produce (events, logs, dead letters) and ``audit`` checks the guarantees of DESIGN.md §2
against that output, the Book call log and the journals on disk.

Plain Python (no pytest): the CI tests and ``scripts/chaos`` share it.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import redis
from confluent_kafka import KafkaError, Message, Producer

from jarvis.contract.messages import ProgramSpec, StartCommand, StopCommand, dump
from jarvis.errors import JournalError
from jarvis.journal import Journal
from jarvis.kafka.config import producer_config
from jarvis.settings import Settings
from tests.fault.books import next_value
from tests.helpers import ROOT, kafka, new_uid, wait_for
from tests.helpers.kafka import TopicReader
from tests.helpers.stack import delete_topics, service_env

# A chain of Book calls: call i gets the previous result, so the final result proves every
# call's answer reached the program in order, whichever workers made them.
CHAIN_PROGRAM = """\
n = inputs["n"]
x = inputs["seed"]
hold = inputs.get("hold_s", 0.0)
pause = inputs.get("sleep_s", 0.0)
i = 0
while i < n:
    x = counter.bump(i, x, hold_s=hold)
    if pause > 0:
        sleep(pause)
    i += 1
result = x
"""


# --- worker processes ---


class WorkerProc:
    """One ``jarvis worker`` process (a pod), its stderr in a file."""

    def __init__(self, worker_id: str, env: dict[str, str], log_path: Path) -> None:
        self.worker_id = worker_id
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in reap()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jarvis.cli", "worker", "--log-level", "INFO"],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a signal to the test's process group never reaches it
        )
        self.started_at = time.time()
        self.exited_at: float | None = None
        self.killed_at: float | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def health_port(self) -> int | None:
        found = re.search(r"health on port (\d+)", self.log())
        return int(found.group(1)) if found else None

    def wait_consuming(self, timeout_s: float = 60.0) -> None:
        """Until the worker has joined the group and got its first assignment."""

        def ready() -> bool:
            if not self.alive():
                raise AssertionError(f"worker {self.worker_id} exited early:\n{self.log()[-3000:]}")
            return "assigned [" in self.log()

        wait_for(ready, timeout_s, f"worker {self.worker_id} to get partitions", interval_s=0.1)

    def signal(self, sig: int) -> None:
        if self.alive():
            os.kill(self.pid, sig)

    def kill(self) -> float:
        """SIGKILL and reap; returns the wall time it was dead by."""
        self.signal(signal.SIGKILL)
        self.proc.wait(30)
        self.killed_at = time.time()
        self.reap()
        return self.killed_at

    def wait_exit(self, timeout_s: float) -> int:
        code = self.proc.wait(timeout_s)
        self.reap()
        return code

    def reap(self) -> None:
        if self.proc.poll() is not None and self.exited_at is None:
            self.exited_at = time.time()
        with contextlib.suppress(OSError):
            self._log.close()

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM (graceful drain), SIGKILL if it does not exit in time."""
        if self.alive():
            self.signal(signal.SIGCONT)  # in case a test left it stopped
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.proc.wait(10)
        self.reap()


# --- the deployment ---


@dataclass
class Sent:
    execution_id: str
    partition: int
    offset: int
    at: float


class Cluster:
    """Fresh topics, group, checkpoint dir and call log on the shared local stack."""

    def __init__(
        self, root: Path, services: dict[str, str] | None = None, **worker_env: Any
    ) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.services = services or service_env()
        self.uid = new_uid()
        self.checkpoint_dir = root / "checkpoints"
        self.settings = Settings(
            kafka_bootstrap=self.services["JARVIS_KAFKA_BOOTSTRAP"],
            redis_url=self.services["JARVIS_REDIS_URL"],
            s3_endpoint_url=self.services["JARVIS_S3_ENDPOINT_URL"],
            s3_bucket=self.services["JARVIS_S3_BUCKET"],
            s3_prefix=f"fault-{self.uid}",
            control_topic=f"f{self.uid}.spy_control",
            events_topic=f"f{self.uid}.spy_events",
            logs_topic=f"f{self.uid}.spy_logs",
            dlq_topic=f"f{self.uid}.spy_control.dlq",
            group_id=f"f{self.uid}-workers",
            checkpoint_dir=self.checkpoint_dir,
        )
        kafka.create_topics(self.settings)
        self.call_key = f"jarvis:fault:{self.uid}:calls"
        self.redis = redis.Redis.from_url(self.settings.redis_url, socket_timeout=5)
        self.producer = Producer(producer_config(self.settings))
        self.events = TopicReader(self.settings.kafka_bootstrap, self.settings.events_topic)
        self.logs = TopicReader(self.settings.kafka_bootstrap, self.settings.logs_topic)
        self.dlq = TopicReader(self.settings.kafka_bootstrap, self.settings.dlq_topic)
        self.worker_env = {k: str(v) for k, v in worker_env.items()}
        self.workers: list[WorkerProc] = []
        self._serial = itertools.count(1)
        self.sent: dict[str, list[Sent]] = defaultdict(list)

    # --- workers ---

    def env(self, worker_id: str, **overrides: Any) -> dict[str, str]:
        s = self.settings
        env = {k: v for k, v in os.environ.items() if not k.startswith("JARVIS_")}
        env.update(self.services)
        env.update(
            {
                "JARVIS_CONFIG": "/dev/null",
                "JARVIS_CONTROL_TOPIC": s.control_topic,
                "JARVIS_EVENTS_TOPIC": s.events_topic,
                "JARVIS_LOGS_TOPIC": s.logs_topic,
                "JARVIS_DLQ_TOPIC": s.dlq_topic,
                "JARVIS_GROUP_ID": s.group_id,
                "JARVIS_S3_PREFIX": s.s3_prefix,
                "JARVIS_CHECKPOINT_DIR": str(self.checkpoint_dir),
                "JARVIS_WORKER_ID": worker_id,
                "JARVIS_HEALTH_HOST": "127.0.0.1",
                "JARVIS_HEALTH_PORT": "0",
                "JARVIS_LEASE_TTL_S": "3",
                # The broker's minimum (group.min.session.timeout.ms): a killed worker's
                # queued starts move to the others after 6 s, not the default 10 s.
                "JARVIS_SESSION_TIMEOUT_S": "6",
                "JARVIS_STOP_CHECK_INTERVAL_S": "0.05",
                "JARVIS_POLL_TIMEOUT_S": "0.05",
                "JARVIS_DRAIN_GRACE_S": "10",
                "JARVIS_EXTRA_BOOKS": '["tests.fault.books:counter"]',
                "JARVIS_BOOK_COUNTER_REDIS_URL": s.redis_url,
                "JARVIS_BOOK_COUNTER_LOG_KEY": self.call_key,
                "JARVIS_BOOK_COUNTER_JOURNAL_ROOT": str(self.checkpoint_dir),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.worker_env)
        env.update({k: str(v) for k, v in overrides.items()})
        return env

    def start_worker(
        self, name: str | None = None, wait: bool = True, **overrides: Any
    ) -> WorkerProc:
        worker_id = f"f{self.uid}-{name or 'w'}{next(self._serial)}"
        env = self.env(worker_id, **overrides)
        (self.root / "logs").mkdir(exist_ok=True)
        worker = WorkerProc(worker_id, env, self.root / "logs" / f"{worker_id}.log")
        self.workers.append(worker)
        if wait:
            worker.wait_consuming()
        return worker

    def start_workers(self, n: int, **overrides: Any) -> list[WorkerProc]:
        """``n`` workers started side by side (a worker process takes seconds to boot), then
        waited for until each has its first assignment."""
        workers = [self.start_worker(wait=False, **overrides) for _ in range(n)]
        for worker in workers:
            worker.wait_consuming()
        return workers

    def live_workers(self) -> list[WorkerProc]:
        return [w for w in self.workers if w.alive()]

    # --- commands ---

    def _produce(
        self,
        key: bytes | str | None,
        value: bytes | None,
        eid: str | None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> Callable[[], Sent]:
        box: dict[str, Any] = {}

        def delivered(err: KafkaError | None, msg: Message) -> None:
            box["err"], box["msg"] = err, msg

        while True:
            try:
                self.producer.produce(
                    self.settings.control_topic,
                    key=key,
                    value=value,
                    headers=headers,
                    on_delivery=delivered,
                )
                break
            except BufferError:
                self.producer.poll(0.1)

        def result() -> Sent:
            if "msg" not in box:
                self.producer.flush(60)
            if box.get("err") is not None or "msg" not in box:
                raise AssertionError(f"control message not delivered: {box.get('err')}")
            msg = box["msg"]
            sent = Sent(eid or "", msg.partition(), msg.offset(), time.time())
            if eid:
                self.sent[eid].append(sent)
            return sent

        return result

    def start(
        self,
        eid: str,
        source: str = CHAIN_PROGRAM,
        inputs: dict[str, Any] | None = None,
        books: Iterable[str] = ("counter",),
        log_level: str = "full",
        wait: bool = True,
    ) -> Callable[[], Sent]:
        """Publish a start; returns a function giving where it landed (flushes if needed)."""
        command = StartCommand(
            execution_id=eid,
            program=ProgramSpec(source=source, filename=f"{eid}.spy"),
            inputs=inputs or {},
            books=list(books),
            options={"log_level": log_level},  # type: ignore[arg-type]
        )
        result = self._produce(eid, dump(command), eid)
        if wait:
            result()
        return result

    def stop(self, eid: str, mode: str = "cancel") -> Sent:
        return self._produce(eid, dump(StopCommand(execution_id=eid, mode=mode)), eid)()  # type: ignore[arg-type]

    def send_raw(
        self,
        key: bytes | str | None,
        value: bytes | None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> Callable[[], Sent]:
        return self._produce(key, value, None, headers)

    def flush(self) -> None:
        assert self.producer.flush(60) == 0, "control messages not delivered within 60 s"

    # --- observing ---

    def events_of(self, eid: str) -> list[dict[str, Any]]:
        self.events.pump()
        return self.events.by_eid.get(eid, [])

    def terminals_of(self, eid: str) -> list[dict[str, Any]]:
        return [
            e
            for e in self.events_of(eid)
            if e["event"] in ("completed", "failed", "rejected", "stopped")
        ]

    def terminal(self, eid: str, timeout_s: float = 60.0) -> dict[str, Any]:
        try:
            return wait_for(
                lambda: next(iter(self.terminals_of(eid)), None),
                timeout_s,
                f"terminal event of {eid}",
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self._why_no_terminal(eid)}") from None

    def _why_no_terminal(self, eid: str) -> str:
        """What a missing terminal event leaves behind: the events this reader holds for
        ``eid``, its journal's records, and whether a fresh reader of the whole topic finds
        the event on the broker (the worker produced it; this reader missed it) or not."""
        seen = [e.get("event") for e in self.events_of(eid)]
        try:
            kinds = [type(r).__name__ for r in Journal.read(self.checkpoint_dir, eid).records]
        except JournalError as exc:
            kinds = [f"unreadable: {exc}"]
        try:
            fresh = TopicReader(self.settings.kafka_bootstrap, self.settings.events_topic)
            try:
                fresh.drain(30)
                on_broker = [e.get("event") for e in fresh.by_eid.get(eid, [])]
            finally:
                fresh.close()
        except Exception as exc:  # diagnostics only: never hide the original failure
            on_broker = [f"could not read the topic again: {exc!r}"]
        return (
            f"events this reader has for it: {seen}; its journal: {kinds}; "
            f"events on {self.settings.events_topic} read again from offset 0: {on_broker}"
        )

    def logs_of(self, eid: str) -> list[dict[str, Any]]:
        self.logs.pump()
        return self.logs.by_eid.get(eid, [])

    def calls(self) -> list[dict[str, Any]]:
        return [orjson.loads(raw) for raw in self.redis.lrange(self.call_key, 0, -1)]

    def committed(self, partition: int) -> int:
        """The worker group's committed offset on a control partition (-1001: none)."""
        s = self.settings
        return kafka.committed(s.kafka_bootstrap, s.group_id, s.control_topic, [partition])[
            partition
        ]

    def end_offsets(self) -> dict[int, int]:
        """Each control partition's end offset (high watermark), read by a fresh consumer."""
        return kafka.high_watermarks(self.settings.kafka_bootstrap, self.settings.control_topic)

    def lag(self) -> int:
        """Control-topic messages the worker group has not committed past (queued + running)."""
        s = self.settings
        return kafka.lag(s.kafka_bootstrap, s.group_id, s.control_topic)

    def caught_up(self) -> bool:
        """The worker group has committed every non-empty control partition to its end."""
        s = self.settings
        return kafka.caught_up(s.kafka_bootstrap, s.group_id, s.control_topic)

    def lease_holders(self, eids: Iterable[str]) -> dict[str, str]:
        """execution id -> worker id holding its lease now."""
        ids = list(eids)
        if not ids:
            return {}
        values = self.redis.mget([f"jarvis:lease:{e}" for e in ids])
        return {
            e: orjson.loads(v)["worker"] for e, v in zip(ids, values, strict=True) if v is not None
        }

    def stop_workers(self) -> None:
        """SIGTERM every live worker and wait: afterwards journals can be read safely."""
        for worker in self.workers:
            if worker.alive():
                worker.signal(signal.SIGCONT)
                worker.signal(signal.SIGTERM)
        for worker in self.workers:
            worker.stop()

    def close(self) -> None:
        self.stop_workers()
        for stream in (self.events, self.logs, self.dlq):
            with contextlib.suppress(Exception):
                stream.close()
        with contextlib.suppress(redis.RedisError):
            self.redis.delete(self.call_key)
        self.delete_topics()

    def delete_topics(self) -> None:
        delete_topics(self.settings.kafka_bootstrap, f"f{self.uid}.")


# --- checking the guarantees ---


@dataclass
class Audit:
    """What the guarantees of DESIGN.md §2 look like after a run; ``problems`` must stay empty."""

    executions: int = 0
    completed: int = 0
    terminal_events: int = 0
    duplicate_terminal: int = 0
    conflicting_outcomes: int = 0
    wrong_or_missing: int = 0
    resumed_events: int = 0
    book_calls: int = 0
    repeated_calls: int = 0  # calls beyond the first for one idempotency key
    repeated_keys: int = 0
    journaled_repeated: int = 0  # calls made although the journal held their result: must be 0
    key_mismatch: int = 0  # one logical call seen under two keys, or one key for two calls
    unjournaled_calls: int = 0  # calls of finished executions whose key is not in the journal
    result_mismatch: int = 0  # journaled result differs from what the Book returned
    missing_log_seqs: int = 0
    corrupt_journals: int = 0
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        if len(self.problems) < 50:
            self.problems.append(text)

    def rows(self) -> list[tuple[str, object]]:
        return [
            ("executions", self.executions),
            ("completed (right result)", self.completed),
            ("terminal events", self.terminal_events),
            ("duplicate terminal events (same outcome)", self.duplicate_terminal),
            ("conflicting terminal outcomes (must be 0)", self.conflicting_outcomes),
            ("wrong or missing outcome (must be 0)", self.wrong_or_missing),
            ("resumed events", self.resumed_events),
            ("Book calls made", self.book_calls),
            ("repeated Book calls (same key)", self.repeated_calls),
            ("keys called more than once", self.repeated_keys),
            ("journaled calls repeated (must be 0)", self.journaled_repeated),
            ("calls under a different key (must be 0)", self.key_mismatch),
            ("calls missing from journals (must be 0)", self.unjournaled_calls),
            ("journal/Book result mismatches (must be 0)", self.result_mismatch),
            ("missing log seqs (must be 0)", self.missing_log_seqs),
            ("corrupt journals (must be 0)", self.corrupt_journals),
        ]


def audit(
    cluster: Cluster, expected: dict[str, Any], book_executions: Iterable[str] | None = None
) -> Audit:
    """Check every execution in ``expected`` (id -> right result) once everything is quiet.

    Reads every topic to its end, the whole call log and every journal (``Journal.read``:
    stop the workers first, so that what it reads is final).
    """
    cluster.events.drain()
    cluster.logs.drain()
    a = Audit(executions=len(expected))
    calls = cluster.calls()
    a.book_calls = len(calls)
    by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_logical: dict[tuple[str, int], set[str]] = defaultdict(set)
    for c in calls:
        by_key[c["key"]].append(c)
        by_logical[(c["eid"], c["i"])].add(c["key"])
        if c["journaled"]:
            a.journaled_repeated += 1
            a.problem(f"{c['key']}: called by {c['worker']} although its result was journaled")
    for key, entries in by_key.items():
        if len(entries) > 1:
            a.repeated_keys += 1
            a.repeated_calls += len(entries) - 1
        if len({(e["eid"], e["i"], e["x"]) for e in entries}) > 1:
            a.key_mismatch += 1
            a.problem(f"{key}: one idempotency key for different calls: {entries}")
    for (eid, i), keys in by_logical.items():
        if len(keys) > 1:
            a.key_mismatch += 1
            a.problem(f"{eid} call #{i} made under several keys: {sorted(keys)}")

    with_books = set(expected if book_executions is None else book_executions)
    for eid, want in expected.items():
        events = cluster.events.by_eid.get(eid, [])
        terminals = [
            e for e in events if e["event"] in ("completed", "failed", "rejected", "stopped")
        ]
        a.resumed_events += sum(1 for e in events if e["event"] == "resumed")
        a.terminal_events += len(terminals)
        a.duplicate_terminal += max(0, len(terminals) - 1)
        outcomes = {(e["event"], orjson.dumps(e.get("result"))) for e in terminals}
        if len(outcomes) > 1:
            a.conflicting_outcomes += 1
            a.problem(f"{eid}: conflicting terminal events {sorted(outcomes)}")
        final = terminals[0] if terminals else None
        if final is None or final["event"] != "completed" or final.get("result") != want:
            a.wrong_or_missing += 1
            a.problem(
                f"{eid}: expected completed with {want!r}, got {final and (final['event'], final.get('result'), final.get('error'))}"
            )
        else:
            a.completed += 1
            seqs = {r["seq"] for r in cluster.logs.by_eid.get(eid, [])}
            missing = set(range(final["log_records"])) - seqs
            if missing:
                a.missing_log_seqs += len(missing)
                a.problem(f"{eid}: log seqs missing: {sorted(missing)[:10]}")
        try:
            journal = Journal.read(cluster.checkpoint_dir, eid)
        except JournalError as exc:
            a.corrupt_journals += 1
            a.problem(f"{eid}: {exc}")
            continue
        if final is not None and final["event"] == "completed" and journal.end is None:
            a.corrupt_journals += 1
            a.problem(f"{eid}: completed but its journal has no end record")
        if eid not in with_books or final is None or final["event"] != "completed":
            continue
        journaled = {f"{eid}:{r.seq}": r for r in journal.effects if r.name == "book"}
        for key, rec in journaled.items():
            for entry in by_key.get(key, []):
                if rec.result != next_value(entry["i"], entry["x"]):
                    a.result_mismatch += 1
                    a.problem(f"{key}: journal has {rec.result!r}, the call returned another value")
        for key in {c["key"] for c in calls if c["eid"] == eid}:
            if key not in journaled:
                a.unjournaled_calls += 1
                a.problem(f"{key}: called but not in the finished journal")
    return a


@dataclass
class ResumeSample:
    execution_id: str
    killed: str
    to_assigned_s: float | None
    to_resumed_s: float | None
    to_first_log_s: float | None
    to_new_progress_s: float | None


def resume_samples(
    cluster: Cluster, kills: list[tuple[float, str, dict[str, int]]]
) -> list[ResumeSample]:
    """For each (kill time, killed worker, {running execution: last seq seen}) find when
    another worker took the execution over: partition assigned (from worker logs), its
    ``resumed`` event, its first log record after the kill, its first *new* record."""
    assigned = _assignments(cluster)
    out = []
    for killed_at, worker_id, victims in kills:
        for eid, last_seq in victims.items():
            partition = cluster.sent[eid][0].partition if cluster.sent.get(eid) else None
            t_assign = min(
                (
                    t
                    for t, w, parts in assigned
                    if t > killed_at and w != worker_id and partition in parts
                ),
                default=None,
            )
            resumed = [
                _ts(e["at"])
                for e in cluster.events.by_eid.get(eid, [])
                if e["event"] == "resumed" and e["worker"] != worker_id and _ts(e["at"]) > killed_at
            ]
            records = [(_ts(r["at"]), r["seq"]) for r in cluster.logs.by_eid.get(eid, [])]
            after = [t for t, _ in records if t > killed_at]
            new = [t for t, seq in records if t > killed_at and seq > last_seq]
            if not after:
                continue  # it had finished (only re-announced), or was handed over before the kill
            out.append(
                ResumeSample(
                    eid,
                    worker_id,
                    None if t_assign is None else t_assign - killed_at,
                    min(resumed) - killed_at if resumed else None,
                    min(after) - killed_at,
                    min(new) - killed_at if new else None,
                )
            )
    return out


def _ts(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()


_ASSIGNED = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO jarvis\.worker assigned \[(.*)\]$", re.M
)


def _assignments(cluster: Cluster) -> list[tuple[float, str, set[int]]]:
    """(wall time, worker, partitions) of every assignment logged by any worker."""
    out = []
    for worker in cluster.workers:
        for stamp, parts in _ASSIGNED.findall(worker.log()):
            t = time.mktime(time.strptime(stamp[:19], "%Y-%m-%d %H:%M:%S")) + int(stamp[20:]) / 1000
            nums = {int(p) for p in re.findall(r", (\d+)\)", parts)}
            out.append((t, worker.worker_id, nums))
    return out


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]
