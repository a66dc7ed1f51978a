"""End-to-end benchmark of Jarvis on the local stack: real worker processes, real Kafka.

Run with ``scripts/bench-e2e`` (prints a table; asserts nothing, never part of the test
suite: this 2-core machine is shared and noisy, compare ratios rather than times). Every
section has a time cap and reports what it got within it (``--cap SECTION=SECONDS``).

Sections (``--only a,b`` / ``--skip a,b``):

- ``bare``: the ceiling, measured in the same run. A bare confluent-kafka loop in its own
  process doing the least work the path needs: consume a start from a 12-partition
  control topic, produce one event and one log record, store the offset; per batch flush
  the producer (output before offsets, DESIGN.md §2) and commit. Messages/s over a
  backlog of ``--bare-n`` starts.
- ``throughput``: ``--n`` trivial starts (``x = inputs['i']; result = x + 1``, level full)
  backlogged, then 1 ``jarvis worker`` process (default settings), then (fresh backlog)
  2 processes: executions/s from first to last ``completed`` event (the events' ``at``),
  as a fraction of the bare loop. Then a CPU-bound program with JARVIS_MAX_CONCURRENCY=1
  vs 2 in one worker (target: 2 sandboxes >= 1.7x of 1).
- ``latency``: open-loop paced starts at 10/50/90% of the 1-worker capacity measured by
  ``throughput`` (or ``--capacity``, or a short measurement): publish -> ``started`` event
  (``accepted`` when the worker emits no ``started``; the table says which) and publish ->
  first log record, both as *received* by a reader of the output topics; p50/p95/p99.
  The bare loop's publish -> event at the middle rate is the floor.
- ``logs``: a log-heavy program (a loop at level full): log records/s received from
  ``spy_logs`` and bytes per record (key + value of the consumed messages, uncompressed);
  beside it, a bare producer sending the same records.
- ``journal``: in-process ``Journal.append(sync=True)`` p50/p99 with 1..N threads (one
  journal each) on the checkpoint directory's filesystem, beside bare ``write`` + ``fsync``;
  a group-commit API, if one exists (detected), is reported.
- ``takeover``: 2 workers running long CPU-bound programs that print regularly; SIGKILL
  the one running the most, measure SIGKILL -> the next log record of each of its
  executions (necessarily from the other worker), over ``--kills`` kills; make-up from
  ``tests.fault.cluster.resume_samples`` (partition reassigned, ``resumed`` event, first
  record, first new record) beside the lease TTL.
- ``scale``: ``--scale-workers`` (32) workers over a ``--scale-partitions`` (64) control
  topic: time for the group to settle from cold, throughput, and settle time when
  ``--scale-step`` (8) join or leave (SIGTERM). Settled = the broker reports the group
  Stable with every member expected, every partition assigned once, each member holding
  one or more, unchanged for ``--settle-quiet`` s. Memory (PSS of workers + sandboxes).

``--json PATH`` saves every figure. The code under test is whatever ``jarvis`` this file's
checkout imports: worker processes run ``python -m jarvis.cli worker`` with the checkout as
working directory (``tests/fault/cluster.py``); the header says which ``jarvis`` they load.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition  # noqa: E402

SECTIONS = ("bare", "throughput", "latency", "logs", "journal", "takeover", "scale")
CAPS = {  # seconds per measured run (see --cap)
    "bare": 60.0,
    "throughput": 90.0,  # each of: 1 worker, 2 workers
    "cpu": 60.0,  # each of: concurrency 1, 2
    "latency": 30.0,  # each rate's drain after pacing (pacing itself: --latency-s)
    "logs": 60.0,
    "journal": 15.0,  # each thread count
    "takeover": 240.0,
    "scale": 360.0,
    "startup": 90.0,  # a worker (or group) joining
}
TRIVIAL = "x = inputs['i']\nresult = x + 1\n"
CPU_PROGRAM = "total = 0\nfor i in range(inputs['n']):\n    total = total + i\nresult = total\n"
LOG_PROGRAM = "total = 0\nfor i in range(inputs['n']):\n    total = total + i\nresult = total\n"
# Runs until cancelled; prints every `every` iterations (the only records at level effects).
TAKEOVER_PROGRAM = """\
i = 0
total = 0
every = inputs['every']
while i < inputs['n']:
    total = (total + i * 7) % 1000003
    i += 1
    if i % every == 0:
        print(i)
result = total
"""
TERMINAL = ("completed", "failed", "rejected", "stopped")


def say(text: str) -> None:
    print(f"[bench-e2e {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def ts(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def rate(times: list[float]) -> float | None:
    """Events per second from the first to the last of ``times``."""
    if len(times) < 2:
        return None
    span = max(times) - min(times)
    return (len(times) - 1) / span if span > 0 else None


def fmt(value: float | None, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "-"
    if abs(value) >= 10_000:
        return f"{value:,.0f}{unit}"
    return f"{value:.{digits}f}{unit}"


def ms(value: float | None) -> str:
    """A duration in the unit that fits: µs, ms or s."""
    if value is None:
        return "-"
    if value < 0.001:
        return f"{value * 1e6:.0f} µs"
    if value < 1:
        return f"{value * 1000:.0f} ms" if value >= 0.01 else f"{value * 1000:.1f} ms"
    return f"{value:.2f} s"


# --- memory -----------------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = defaultdict(list)
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            out[int(stat.rsplit(")", 1)[1].split()[1])].append(int(d))
    return out


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_pss_mb(pids: Iterable[int]) -> tuple[float, int]:
    """PSS (MiB) of these processes and all their descendants, and how many processes."""
    kids = _children()
    seen: set[int] = set()
    stack = list(pids)
    total = 0
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        total += _pss_kb(p)
        stack.extend(kids.get(p, []))
    return total / 1024, len(seen)


def mem_available_mb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- CPU per execution -------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_snapshot(workers: Iterable[int]) -> dict[str, float]:
    """CPU seconds used so far, by role: the workers, their sandboxes (descendants), the
    broker (java), Redis, this benchmark (its taps and producers) and everything else; and
    the box's idle and stolen seconds (``/proc/stat``)."""
    kids = _children()
    roles: dict[int, str] = {}
    for root in workers:
        roles[root] = "worker"
        stack = list(kids.get(root, []))
        while stack:
            p = stack.pop()
            roles[p] = "sandboxes"
            stack.extend(kids.get(p, []))
    out: dict[str, float] = defaultdict(float)
    me = os.getpid()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        pid = int(d)
        role = roles.get(pid) or (
            "bench" if pid == me else "broker" if name == "java" else
            "redis" if name == "redis-server" else "other"
        )  # fmt: skip
        out[role] += (int(fields[11]) + int(fields[12])) / _TICK
    line = Path("/proc/stat").read_text().splitlines()[0].split()
    out["box idle"] = int(line[4]) / _TICK
    out["box steal"] = int(line[8]) / _TICK
    return dict(out)


def cpu_per_execution(
    before: tuple[float, int, dict[str, float]], after: tuple[float, int, dict[str, float]]
) -> dict[str, float]:
    """ms of CPU per completed execution between two (time, completed, snapshot) points;
    the box's idle and steal as cores."""
    (t0, n0, a), (t1, n1, b) = before, after
    n, elapsed = max(1, n1 - n0), max(1e-9, t1 - t0)
    out = {k: (b.get(k, 0.0) - a.get(k, 0.0)) * 1000 / n for k in b if not k.startswith("box")}
    out["total"] = sum(out.values())
    out["idle cores"] = (b["box idle"] - a["box idle"]) / elapsed
    out["steal cores"] = (b["box steal"] - a["box steal"]) / elapsed
    out["executions"] = float(n)
    return out


# --- reading the output topics on a thread ------------------------------------------------


class Tap(threading.Thread):
    """Reads one output topic from the beginning on its own thread, stamping receive times.

    Events are decoded (few); log records are only measured (key = execution id).
    """

    def __init__(
        self, bootstrap: str, topic: str, logs: bool = False, keep_samples: int = 0
    ) -> None:
        super().__init__(daemon=True, name=f"tap-{topic}")
        self.topic = topic
        self.logs = logs
        self.keep_samples = keep_samples
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"bench-tap-{uuid.uuid4().hex}",
                "enable.auto.commit": False,
                "enable.partition.eof": False,
                "fetch.wait.max.ms": 10,
                "socket.nagle.disable": True,
            }
        )
        from tests.helpers.kafka import partitions  # retried: a new topic's metadata lags

        self.consumer.assign(
            [TopicPartition(topic, p, 0) for p in partitions(self.consumer, topic)]
        )
        self.halt = threading.Event()
        self.lock = threading.Lock()
        self.first: dict[tuple[str, str], float] = {}  # (eid, event type | "log") -> received
        self.events: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.kinds: dict[str, int] = defaultdict(int)
        self.records = 0
        self.bytes = 0
        self.first_at: float | None = None
        self.last_at: float | None = None
        self.samples: list[tuple[bytes, bytes]] = []
        self.start()

    def run(self) -> None:
        while not self.halt.is_set():
            try:
                # poll() returns as soon as one message is there; consume(n, t) would wait
                # out t for n of them, and that wait (up to 50 ms) counted as latency.
                first = self.consumer.poll(0.05)
                if first is None:
                    continue
                batch = [first, *self.consumer.consume(1000, timeout=0)]
            except KafkaException:
                continue
            now = time.time()
            with self.lock:
                for msg in batch:
                    if msg.error() is not None:
                        continue
                    key = msg.key() or b""
                    value = msg.value() or b""
                    if self.first_at is None:
                        self.first_at = now
                    self.last_at = now
                    if self.logs:
                        eid = key.decode(errors="replace")
                        self.records += 1
                        self.bytes += len(key) + len(value)
                        self.first.setdefault((eid, "log"), now)
                        if len(self.samples) < self.keep_samples:
                            self.samples.append((key, value))
                        continue
                    try:
                        event = orjson.loads(value)
                    except orjson.JSONDecodeError:
                        continue
                    eid = str(event.get("execution_id"))
                    kind = str(event.get("event"))
                    event["_received"] = now
                    self.events[eid].append(event)
                    self.kinds[kind] += 1
                    self.first.setdefault((eid, kind), now)

    def terminal(self, eid: str) -> dict[str, Any] | None:
        with self.lock:
            return next((e for e in self.events.get(eid, []) if e.get("event") in TERMINAL), None)

    def close(self) -> None:
        self.halt.set()
        self.join(5)
        with contextlib.suppress(Exception):
            self.consumer.close()


# --- the bare loop (a child process) ----------------------------------------------------------


def bare_loop(cfg: dict[str, Any]) -> dict[str, Any]:
    """Consume starts, produce an event and a log record each, store offsets, commit per batch."""
    consumer = Consumer(
        {
            "bootstrap.servers": cfg["bootstrap"],
            "group.id": cfg["group"],
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "partition.assignment.strategy": "cooperative-sticky",
            "session.timeout.ms": 10000,
            "heartbeat.interval.ms": 1000,
            "socket.nagle.disable": True,
        }
    )
    producer = Producer(cfg["producer"])
    ready = threading.Event()

    def on_assign(_c: Any, parts: list[TopicPartition]) -> None:
        if parts and not ready.is_set():
            ready.set()
            print("ready", flush=True)

    consumer.subscribe([cfg["control"]], on_assign=on_assign)
    target = int(cfg.get("n") or 0)
    deadline = time.monotonic() + float(cfg["cap_s"])
    n = 0
    first: float | None = None
    last: float | None = None
    batches = 0
    while time.monotonic() < deadline and (target == 0 or n < target):
        head = consumer.poll(0.05)  # as the worker does: one as soon as it is there, then
        if head is None:  # whatever else is already fetched (consume(n, t) waits out t)
            continue
        msgs = [head, *consumer.consume(499, timeout=0)]
        for msg in msgs:
            if msg.error() is not None:
                continue
            if first is None:
                first = time.time()
            key = msg.key()
            command = orjson.loads(msg.value() or b"{}")
            eid = command.get("execution_id")
            at = datetime.now().astimezone().isoformat()
            event = {
                "version": 1,
                "execution_id": eid,
                "event": "completed",
                "at": at,
                "worker": "bare",
                "result": 1,
                "result_type": "int",
                "log_records": 1,
            }
            record = {
                "version": 1,
                "execution_id": eid,
                "seq": 0,
                "kind": "assign",
                "line": 1,
                "col": 0,
                "end_line": 1,
                "end_col": 14,
                "source": "x = inputs['i']",
                "value": 1,
                "type": "int",
                "truncated": False,
                "value_ref": None,
                "at": at,
            }
            for topic, value in ((cfg["events"], event), (cfg["logs"], record)):
                while True:
                    try:
                        producer.produce(topic, key=key, value=orjson.dumps(value))
                        break
                    except BufferError:
                        producer.poll(0.01)
            producer.poll(0)
            consumer.store_offsets(msg)
            n += 1
        producer.flush(30)  # output on the broker before the offset moves
        consumer.commit(asynchronous=False)
        batches += 1
        last = time.time()
    consumer.close()
    span = (last - first) if first and last else None
    return {
        "n": n,
        "first": first,
        "last": last,
        "batches": batches,
        "rate": n / span if span else None,
    }


def run_bare(
    cluster: Any, n: int, cap_s: float, paced: Callable[[], None] | None = None
) -> dict[str, Any]:
    """The bare loop as a child process on ``cluster``'s topics, with its own group.

    ``n``: stop after n messages (a backlog); with ``paced``, run it once the child has
    joined (the child then runs for ``cap_s``)."""
    s = cluster.settings
    from jarvis.kafka.config import producer_config

    cfg = {
        "bootstrap": s.kafka_bootstrap,
        "group": f"{s.group_id}-bare-{uuid.uuid4().hex[:6]}",
        "control": s.control_topic,
        "events": s.events_topic,
        "logs": s.logs_topic,
        # The worker's producer settings, minus the Python log router (the child is another
        # process; librdkafka's own logging is fine there).
        "producer": {k: v for k, v in producer_config(s).items() if k != "logger"},
        "n": n,
        "cap_s": cap_s,
    }
    child = subprocess.Popen(
        [sys.executable, __file__, "--_bare", orjson.dumps(cfg).decode()],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert child.stdout is not None
    try:
        line = child.stdout.readline()
        if line.strip() == "ready" and paced is not None:
            paced()
        out, _ = child.communicate(timeout=cap_s + 60)
        last = [x for x in out.splitlines() if x.startswith("{")]
        return orjson.loads(last[-1]) if last else {"n": 0, "rate": None}
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


# --- the world ---------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        from tests.helpers.stack import service_env

        self.args = args
        self.services = service_env()
        self.root = Path(args.root or tempfile.mkdtemp(prefix="jarvis-bench-e2e-"))
        self.caps = dict(CAPS)
        for item in args.cap or []:
            key, _, value = item.partition("=")
            if key not in self.caps:
                raise SystemExit(f"--cap: unknown key {key!r} (one of {', '.join(self.caps)})")
            self.caps[key] = float(value)
        self.rows: list[tuple[str, str, str, str, str]] = []
        self.figures: dict[str, dict[str, Any]] = defaultdict(dict)
        self.notes: list[str] = []
        self.clusters: list[Any] = []
        self.taps: list[Tap] = []
        self.bare_rate: float | None = None
        self.capacity: float | None = args.capacity
        self.worker_pss: list[float] = []
        self.last_cpu: dict[str, float] | None = None  # wait_terminals' CPU per execution
        self.started_event = "started"

    # --- plumbing ---

    def cluster(self, tag: str, **env: Any) -> Any:
        from tests.fault.cluster import Cluster

        cluster = Cluster(self.root / f"{tag}-{len(self.clusters)}", self.services, **env)
        self.clusters.append(cluster)
        return cluster

    def tap(self, cluster: Any, logs: bool = False, keep_samples: int = 0) -> Tap:
        s = cluster.settings
        tap = Tap(s.kafka_bootstrap, s.logs_topic if logs else s.events_topic, logs, keep_samples)
        self.taps.append(tap)
        return tap

    def done(self, cluster: Any) -> None:
        for tap in list(self.taps):
            if tap.topic in (cluster.settings.events_topic, cluster.settings.logs_topic):
                tap.close()
                self.taps.remove(tap)
        with contextlib.suppress(Exception):
            cluster.close()
        with contextlib.suppress(ValueError):
            self.clusters.remove(cluster)

    def close(self) -> None:
        for tap in self.taps:
            tap.close()
        for cluster in list(self.clusters):
            self.done(cluster)

    def row(self, section: str, figure: str, value: str, bare: str = "", note: str = "") -> None:
        self.rows.append((section, figure, value, bare, note))
        say(f"{section}: {figure}: {value}  {bare}  {note}".rstrip())

    def vs_bare(self, value: float | None) -> str:
        if value is None or not self.bare_rate:
            return ""
        return (
            f"{value / self.bare_rate:.4f}x of bare"
            if value / self.bare_rate < 0.01
            else (f"{value / self.bare_rate:.2f}x of bare")
        )

    @staticmethod
    def command(
        eid: str,
        source: str,
        inputs: dict[str, Any],
        log_level: str = "full",
        limits: dict[str, Any] | None = None,
    ) -> bytes:
        from jarvis.contract.messages import StartCommand, dump

        return dump(
            StartCommand.model_validate(
                {
                    "execution_id": eid,
                    "program": {"source": source, "filename": f"{eid}.spy"},
                    "inputs": inputs,
                    "options": {"log_level": log_level, "limits": limits or {}},
                }
            )
        )

    @staticmethod
    def produce(cluster: Any, eid: str, value: bytes) -> None:
        while True:
            try:
                cluster.producer.produce(cluster.settings.control_topic, key=eid, value=value)
                cluster.producer.poll(0)
                return
            except BufferError:
                cluster.producer.poll(0.05)

    def backlog(
        self,
        cluster: Any,
        prefix: str,
        n: int,
        source: str = TRIVIAL,
        inputs: Callable[[int], dict[str, Any]] = lambda i: {"i": i},
        log_level: str = "full",
        limits: dict[str, Any] | None = None,
    ) -> list[str]:
        eids = [f"{prefix}-{cluster.uid}-{i:06d}" for i in range(n)]
        for i, eid in enumerate(eids):
            self.produce(cluster, eid, self.command(eid, source, inputs(i), log_level, limits))
        cluster.flush()
        return eids

    def workers(self, cluster: Any, k: int, **env: Any) -> list[Any]:
        return [cluster.start_worker(wait=False, **env) for _ in range(k)]

    def note_memory(self, workers: list[Any]) -> None:
        live = [w.pid for w in workers if w.alive()]
        if live:
            pss, _procs = tree_pss_mb(live)
            self.worker_pss.append(pss / len(live))

    def wait_terminals(
        self, tap: Tap, eids: list[str], cap_s: float, workers: list[Any] | None = None
    ) -> tuple[list[dict[str, Any]], bool]:
        """Terminal events of ``eids`` received within ``cap_s`` (and whether all came)."""
        deadline = time.monotonic() + cap_s
        pending = set(eids)
        got: list[dict[str, Any]] = []
        sampled = False
        # CPU over the steady middle of the run (20 % -> 80 % done): no boot, no tail.
        marks = [len(eids) // 5, len(eids) * 4 // 5]
        cpu: list[tuple[float, int, dict[str, float]]] = []
        while pending and time.monotonic() < deadline:
            for eid in list(pending):
                event = tap.terminal(eid)
                if event is not None:
                    got.append(event)
                    pending.discard(eid)
            if workers and not sampled and len(got) > len(eids) // 2:
                self.note_memory(workers)
                sampled = True
            if workers and len(cpu) < 2 and len(got) >= marks[len(cpu)]:
                cpu.append((time.monotonic(), len(got), cpu_snapshot(w.pid for w in workers)))
                if len(cpu) == 2:
                    self.last_cpu = cpu_per_execution(cpu[0], cpu[1])
            if workers and not any(w.alive() for w in workers):
                say("every worker exited: " + workers[0].log()[-2000:])
                break
            time.sleep(0.1)
        return got, not pending

    # --- sections ---

    def bare(self) -> None:
        n = self.args.bare_n or self.args.n
        cluster = self.cluster("bare")
        try:
            self.backlog(cluster, "bare", n)
            result = run_bare(cluster, n, self.caps["bare"])
        finally:
            self.done(cluster)
        self.bare_rate = result.get("rate")
        self.figures["bare"] = {**result, "backlog": n}
        self.row(
            "bare loop",
            f"consume+produce 2+commit/batch, {result['n']}/{n} msgs",
            f"{fmt(self.bare_rate)} msg/s",
            "",
            f"{result.get('batches')} batches",
        )

    def throughput(self) -> None:
        n = self.args.n
        for k in (1, 2):
            cluster = self.cluster(f"tput{k}")
            try:
                tap = self.tap(cluster)
                eids = self.backlog(cluster, f"t{k}", n)
                spawned = time.time()
                workers = self.workers(cluster, k)
                self.last_cpu = None
                got, complete = self.wait_terminals(
                    tap, eids, self.caps["throughput"] + 20, workers
                )
                cpu = self.last_cpu
                done = [ts(e["at"]) for e in got if e["event"] == "completed"]
                bad = len(got) - len(done)
                r = rate(done)
                first = min(done) - spawned if done else None
                kinds = dict(tap.kinds)
            finally:
                self.done(cluster)
            if k == 1:
                self.capacity = self.capacity or r
                self.started_event = "started" if kinds.get("started") else "accepted"
                self.figures["meta"]["event_kinds"] = kinds
            self.figures["throughput"][f"workers_{k}"] = {
                "rate": r,
                "completed": len(done),
                "other_terminal": bad,
                "backlog": n,
                "all_done": complete,
                "spawn_to_first_completed_s": first,
            }
            note = "" if complete else f"cap: {len(done)}/{n} done"
            if bad:
                note += f" {bad} not completed"
            self.row(
                "throughput",
                f"{k} worker{'s' if k > 1 else ''}, trivial, level full",
                f"{fmt(r)} exec/s",
                self.vs_bare(r),
                note.strip(),
            )
            self.figures["throughput"][f"workers_{k}"]["cpu_ms_per_execution"] = cpu
            if cpu is not None:
                self.row(
                    "throughput",
                    f"{k} worker{'s' if k > 1 else ''}: CPU ms per execution",
                    " ".join(
                        f"{role} {cpu[role]:.2f}"
                        for role in ("worker", "sandboxes", "broker", "redis", "bench", "other")
                        if role in cpu
                    )
                    + f" = {cpu['total']:.2f}",
                    note=f"box idle {cpu['idle cores']:.2f} cores, stolen {cpu['steal cores']:.2f}",
                )
            if k == 1:
                self.row("throughput", "1 worker: spawn -> first completed", ms(first))
        r1 = self.figures["throughput"]["workers_1"]["rate"]
        r2 = self.figures["throughput"]["workers_2"]["rate"]
        if r1 and r2:
            self.row("throughput", "2 workers / 1 worker", f"{r2 / r1:.2f}x")
        if self.worker_pss:
            self.row(
                "throughput",
                "memory per worker (PSS, + its sandboxes)",
                f"{statistics.median(self.worker_pss):.0f} MiB",
            )
        self.cpu()

    def cpu(self) -> None:
        m, loop = self.args.cpu_n, self.args.cpu_loop
        rates = {}
        for conc in (1, 2):
            cluster = self.cluster(f"cpu{conc}", JARVIS_MAX_CONCURRENCY=conc)
            try:
                tap = self.tap(cluster)
                eids = self.backlog(
                    cluster,
                    f"c{conc}",
                    m,
                    CPU_PROGRAM,
                    lambda i: {"n": loop},
                    "effects",
                    {"max_steps": 10 * loop + 1000},
                )
                workers = self.workers(cluster, 1)
                got, complete = self.wait_terminals(tap, eids, self.caps["cpu"] + 20, workers)
                done = [ts(e["at"]) for e in got if e["event"] == "completed"]
            finally:
                self.done(cluster)
            rates[conc] = rate(done)
            self.figures["throughput"][f"cpu_concurrency_{conc}"] = {
                "rate": rates[conc],
                "completed": len(done),
                "executions": m,
                "loop": loop,
                "all_done": complete,
                "failed": len(got) - len(done),
            }
            self.row(
                "throughput",
                f"CPU-bound ({loop:,}-iteration loop), MAX_CONCURRENCY={conc}",
                f"{fmt(rates[conc], digits=2)} exec/s",
                "",
                "" if complete else f"cap: {len(done)}/{m} done",
            )
        if rates[1] and rates[2]:
            ratio = rates[2] / rates[1]
            self.figures["throughput"]["cpu_ratio"] = ratio
            self.row(
                "throughput",
                "CPU-bound: 2 sandboxes / 1",
                f"{ratio:.2f}x",
                "",
                "target >= 1.7x " + ("(met)" if ratio >= 1.7 else "(missed)"),
            )

    def _capacity(self) -> float:
        if self.capacity:
            return self.capacity
        say("latency: no capacity known; measuring 1 worker briefly")
        cluster = self.cluster("cap")
        try:
            tap = self.tap(cluster)
            eids = self.backlog(cluster, "cap", min(self.args.n, 300))
            workers = self.workers(cluster, 1)
            got, _ = self.wait_terminals(tap, eids, 45, workers)
            self.started_event = "started" if tap.kinds.get("started") else "accepted"
        finally:
            self.done(cluster)
        self.capacity = rate([ts(e["at"]) for e in got if e["event"] == "completed"]) or 1.0
        return self.capacity

    def _pace(
        self, cluster: Any, prefix: str, r: float, duration_s: float, cap_n: int
    ) -> dict[str, float]:
        """Open loop: start i goes out at t0 + i / r whatever happened to the others."""
        n = max(1, min(cap_n, int(r * duration_s)))
        sent: dict[str, float] = {}
        payloads = [(f"{prefix}-{cluster.uid}-{i:06d}", i) for i in range(n)]
        values = {eid: self.command(eid, TRIVIAL, {"i": i}) for eid, i in payloads}
        t0 = time.monotonic() + 0.2
        for i, (eid, _) in enumerate(payloads):
            due = t0 + i / r
            while (wait := due - time.monotonic()) > 0:
                cluster.producer.poll(min(wait, 0.005))
            sent[eid] = time.time()
            self.produce(cluster, eid, values[eid])
        cluster.flush()
        return sent

    def latency(self) -> None:
        capacity = self._capacity()
        fractions = [float(f) for f in self.args.latency_fractions.split(",")]
        cluster = self.cluster("lat")
        try:
            tap = self.tap(cluster)
            logs = self.tap(cluster, logs=True)
            workers = self.workers(cluster, 1)
            warm = self.backlog(cluster, "warm", 10)
            _got, ok = self.wait_terminals(tap, warm, self.caps["startup"], workers)
            if not ok:
                self.row(
                    "latency",
                    "warm-up",
                    "worker did not finish 10 executions",
                    "",
                    "section skipped",
                )
                return
            kind = "started" if tap.kinds.get("started") else "accepted"
            self.started_event = kind
            for frac in fractions:
                r = max(0.2, frac * capacity)
                sent = self._pace(
                    cluster, f"l{int(frac * 100)}", r, self.args.latency_s, self.args.latency_max
                )
                deadline = time.monotonic() + self.caps["latency"]
                while time.monotonic() < deadline and not all(
                    (eid, kind) in tap.first and (eid, "log") in logs.first for eid in sent
                ):
                    time.sleep(0.1)
                to_start = [
                    tap.first[(e, kind)] - t for e, t in sent.items() if (e, kind) in tap.first
                ]
                to_log = [
                    logs.first[(e, "log")] - t for e, t in sent.items() if (e, "log") in logs.first
                ]
                to_acc = [
                    tap.first[(e, "accepted")] - t
                    for e, t in sent.items()
                    if (e, "accepted") in tap.first
                ]
                key = f"{int(frac * 100)}pct"
                self.figures["latency"][key] = {
                    "rate": r,
                    "sent": len(sent),
                    "event": kind,
                    **{f"{kind}_p{q}": pct(to_start, q) for q in (50, 95, 99)},
                    **{f"log_p{q}": pct(to_log, q) for q in (50, 95, 99)},
                    **{f"accepted_p{q}": pct(to_acc, q) for q in (50, 95, 99)},
                    "missing_event": len(sent) - len(to_start),
                    "missing_log": len(sent) - len(to_log),
                }
                miss = len(sent) - min(len(to_start), len(to_log))
                note = f"{len(sent)} sent at {r:.1f}/s" + (
                    f", {miss} not seen within cap" if miss else ""
                )
                self.row(
                    "latency",
                    f"{int(frac * 100)}% of capacity: publish -> `{kind}` p50/p95/p99",
                    "/".join(ms(pct(to_start, q)) for q in (50, 95, 99)),
                    "",
                    note,
                )
                self.row(
                    "latency",
                    f"{int(frac * 100)}% of capacity: publish -> first log p50/p95/p99",
                    "/".join(ms(pct(to_log, q)) for q in (50, 95, 99)),
                )
                if kind != "accepted" and to_acc:
                    self.row(
                        "latency",
                        f"{int(frac * 100)}% of capacity: publish -> `accepted` p50/p95/p99",
                        "/".join(ms(pct(to_acc, q)) for q in (50, 95, 99)),
                    )
            if kind == "accepted":
                self.notes.append(
                    "latency: the worker emits no `started` event; `accepted` is reported instead"
                )
        finally:
            self.done(cluster)
        # The floor: the bare loop under the middle rate, same reader.
        mid = fractions[len(fractions) // 2]
        r = max(0.2, mid * capacity)
        cluster = self.cluster("latbare")
        try:
            tap = self.tap(cluster)
            box: dict[str, dict[str, float]] = {}

            def paced() -> None:
                box["sent"] = self._pace(
                    cluster, "lb", r, min(10.0, self.args.latency_s), self.args.latency_max
                )
                time.sleep(1.0)

            run_bare(cluster, 0, min(10.0, self.args.latency_s) + 3, paced)
            sent = box.get("sent", {})
            lat = [
                tap.first[(e, "completed")] - t
                for e, t in sent.items()
                if (e, "completed") in tap.first
            ]
        finally:
            self.done(cluster)
        self.figures["latency"]["bare"] = {
            "rate": r,
            "sent": len(sent),
            **{f"p{q}": pct(lat, q) for q in (50, 95, 99)},
        }
        self.row(
            "latency",
            f"bare loop at {r:.1f}/s: publish -> event p50/p95/p99",
            "/".join(ms(pct(lat, q)) for q in (50, 95, 99)),
            "(floor)",
        )

    def logs(self) -> None:
        m, iters = self.args.log_executions, self.args.log_iterations
        cluster = self.cluster("logs")
        try:
            tap = self.tap(cluster)
            logs = self.tap(cluster, logs=True, keep_samples=2000)
            eids = self.backlog(
                cluster,
                "lg",
                m,
                LOG_PROGRAM,
                lambda i: {"n": iters},
                "full",
                {"max_log_records": 4 * iters + 100, "max_steps": 10 * iters + 1000},
            )
            workers = self.workers(cluster, 1)
            got, complete = self.wait_terminals(tap, eids, self.caps["logs"] + 20, workers)
            expected = sum(int(e.get("log_records") or 0) for e in got if e["event"] == "completed")
            deadline = time.monotonic() + 20
            while logs.records < expected and time.monotonic() < deadline:
                time.sleep(0.1)
            logs.halt.set()
            logs.join(5)
            records, nbytes = logs.records, logs.bytes
            span = (logs.last_at or 0) - (logs.first_at or 0)
            r = records / span if span > 0 else None
            per = nbytes / records if records else None
            samples = list(logs.samples)
            # The bare producer: the same records, as fast as librdkafka takes them.
            bare = None
            if samples:
                from jarvis.kafka.config import producer_config

                producer = Producer(producer_config(cluster.settings))
                total = min(records or 1, 200_000)
                t = time.perf_counter()
                for i in range(total):
                    key, value = samples[i % len(samples)]
                    while True:
                        try:
                            producer.produce(cluster.settings.logs_topic, key=key, value=value)
                            break
                        except BufferError:
                            producer.poll(0.01)
                producer.flush(60)
                bare = total / (time.perf_counter() - t)
        finally:
            self.done(cluster)
        self.figures["logs"] = {
            "records": records,
            "expected": expected,
            "rate": r,
            "bytes_per_record": per,
            "bare_producer_rate": bare,
            "executions": m,
            "iterations": iters,
            "all_done": complete,
        }
        note = "" if complete else f"cap: {len(got)}/{m} executions done"
        self.row(
            "logs",
            f"log records/s received ({m} x {iters:,}-iteration loop, level full)",
            f"{fmt(r)} rec/s",
            f"bare producer {fmt(bare)} rec/s" if bare else "",
            "; ".join(x for x in (f"{r / bare:.2f}x of bare" if r and bare else "", note) if x),
        )
        self.row(
            "logs",
            "bytes per record (key + value, uncompressed)",
            fmt(per, " B"),
            "",
            f"{records:,} records",
        )

    def journal(self) -> None:
        from jarvis.journal import Effect, Journal
        from jarvis.journal.records import to_json

        directory = self.root / "journal-bench"
        directory.mkdir(parents=True, exist_ok=True)
        record = Effect(0, "book", "0" * 32, {"value": 12345, "pad": "x" * 100})
        threads_list = [int(x) for x in self.args.journal_threads.split(",")]
        n = self.args.journal_appends

        def measure(
            append_factory: Callable[[int], Callable[[int], None]], threads: int
        ) -> dict[str, Any]:
            lat: list[list[float]] = [[] for _ in range(threads)]
            deadline = time.monotonic() + self.caps["journal"]
            barrier = threading.Barrier(threads)

            errors: list[BaseException] = []

            def body(t: int) -> None:
                append = append_factory(t)
                barrier.wait()
                try:
                    for i in range(n):
                        a = time.perf_counter()
                        append(i)
                        lat[t].append(time.perf_counter() - a)
                        if time.monotonic() > deadline:
                            return
                except Exception as exc:  # say it: a silent thread reads as "0 appends"
                    errors.append(exc)

            pool = [threading.Thread(target=body, args=(t,)) for t in range(threads)]
            t0 = time.perf_counter()
            for th in pool:
                th.start()
            for th in pool:
                th.join()
            elapsed = time.perf_counter() - t0
            if errors:
                say(f"journal: {len(errors)} thread(s) failed: {errors[0]!r}")
            flat = [x for per in lat for x in per]
            return {
                "appends": len(flat),
                "per_s": len(flat) / elapsed,
                "p50": pct(flat, 50),
                "p99": pct(flat, 99),
            }

        def jarvis_append(t: int) -> Callable[[int], None]:
            j = Journal.open(directory, f"j{t}-{uuid.uuid4().hex[:8]}")

            def append(i: int) -> None:
                j.append(record._replace(seq=i), sync=True)

            return append

        def bare_append(t: int) -> Callable[[int], None]:
            path = directory / f"bare-{t}-{uuid.uuid4().hex[:8]}.log"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            line = b"%08x %s\n" % (0, orjson.dumps(to_json(record)))

            def append(i: int) -> None:
                os.write(fd, line)
                os.fsync(fd)

            return append

        group: Any = None
        with contextlib.suppress(ImportError):
            from jarvis.journal.durability import GroupCommit

            with contextlib.suppress(OSError):
                group = GroupCommit()

        def grouped_append(t: int) -> Callable[[int], None]:
            j = Journal.open(directory, f"g{t}-{uuid.uuid4().hex[:8]}", durability=group)

            def append(i: int) -> None:
                j.append(record._replace(seq=i), sync=True)

            return append

        for threads in threads_list:
            jr = measure(jarvis_append, threads)
            br = measure(bare_append, threads)
            self.figures["journal"][f"threads_{threads}"] = {"jarvis": jr, "bare_fsync": br}
            self.row(
                "journal",
                f"Journal.append(sync=True), {threads} thread(s): p50/p99",
                f"{ms(jr['p50'])}/{ms(jr['p99'])}",
                f"bare write+fsync {ms(br['p50'])}/{ms(br['p99'])}",
                f"{jr['per_s']:,.0f}/s vs {br['per_s']:,.0f}/s",
            )
            if group is not None:
                before = (group.stats.requests, group.stats.rounds)
                gr = measure(grouped_append, threads)
                requests = group.stats.requests - before[0]
                rounds = group.stats.rounds - before[1]
                gr["syncs_per_append"] = rounds / max(1, requests)
                self.figures["journal"][f"threads_{threads}"]["group_commit"] = gr
                self.row(
                    "journal",
                    f"  with group commit (syncfs), {threads} thread(s): p50/p99",
                    f"{ms(gr['p50'])}/{ms(gr['p99'])}",
                    f"bare write+fsync {ms(br['p50'])}/{ms(br['p99'])}",
                    f"{gr['per_s']:,.0f}/s; {rounds:,} syncs for {requests:,} appends",
                )

    def takeover(self) -> None:
        from tests.fault.cluster import resume_samples

        ttl = self.args.takeover_lease_ttl
        env: dict[str, Any] = {} if ttl is None else {"JARVIS_LEASE_TTL_S": ttl}
        cluster = self.cluster("takeover", **env)
        kills: list[tuple[float, str, dict[str, int]]] = []
        began = time.monotonic()
        cap = self.caps["takeover"]
        round_eids: list[str] = []
        try:
            self.workers(cluster, 2)
            if self._wait_group(cluster, 2, self.caps["startup"]) is None:
                self.notes.append(
                    "takeover: the 2 workers' group did not settle before the first round"
                )
            limits = {"max_steps": 10**12, "max_wall_s": 3600}
            inputs = {"n": 10**12, "every": self.args.takeover_every}
            for k in range(self.args.kills):
                if time.monotonic() - began > cap:
                    self.notes.append(f"takeover: time cap reached after {k} kills")
                    break
                round_eids = [
                    f"to{k}-{cluster.uid}-{i}" for i in range(self.args.takeover_executions)
                ]
                # Through Cluster._produce (start() takes no limits): resume_samples needs cluster.sent.
                waits = [
                    cluster._produce(
                        eid, self.command(eid, TAKEOVER_PROGRAM, inputs, "effects", limits), eid
                    )
                    for eid in round_eids
                ]
                cluster.flush()
                for wait in waits:
                    wait()

                # Running = a log record seen; wait for all (bounded), then a little progress.
                deadline = time.monotonic() + self.caps["startup"]
                while time.monotonic() < deadline and not all(
                    cluster.logs_of(e) for e in round_eids
                ):
                    time.sleep(0.2)
                time.sleep(2.0)  # some progress to lose
                holders = self._holders(cluster, round_eids)
                live = {w.worker_id: w for w in cluster.live_workers()}
                counts: dict[str, int] = defaultdict(int)
                for w in holders.values():
                    if w in live:
                        counts[w] += 1
                if not counts:
                    self.notes.append(f"takeover: round {k}: no execution running on a live worker")
                    continue
                victim = live[max(counts, key=lambda w: counts[w])]
                cluster.logs.pump(0.5)
                running = {
                    eid: max((r["seq"] for r in cluster.logs.by_eid.get(eid, [])), default=-1)
                    for eid, w in holders.items()
                    if w == victim.worker_id
                }
                killed_at = victim.kill()
                kills.append((killed_at, victim.worker_id, running))
                say(f"takeover: killed {victim.worker_id} running {len(running)}")
                # Until each victim made new progress (a record past what it had logged).
                deadline = time.monotonic() + min(90.0, max(10.0, cap - (time.monotonic() - began)))
                while time.monotonic() < deadline and not all(
                    any(r["seq"] > last for r in cluster.logs_of(e)) for e, last in running.items()
                ):
                    time.sleep(0.1)
                for eid in round_eids:  # stop this round's programs: CPU for the next one
                    with contextlib.suppress(Exception):
                        cluster.stop(eid)
                replacement = cluster.start_worker(wait=False)
                with contextlib.suppress(Exception):
                    self._wait_group(cluster, len(cluster.live_workers()), self.caps["startup"])
                _ = replacement
            cluster.events.drain(30)
            cluster.logs.drain(30)
            samples = resume_samples(cluster, kills)
        finally:
            self.done(cluster)
        first = [s.to_first_log_s for s in samples if s.to_first_log_s is not None]
        parts = {
            "kill -> partition reassigned": [s.to_assigned_s for s in samples],
            "kill -> `resumed` event": [s.to_resumed_s for s in samples],
            "kill -> first log record": [s.to_first_log_s for s in samples],
            "kill -> first new log record": [s.to_new_progress_s for s in samples],
        }
        victims = sum(len(v) for _, _, v in kills)
        self.figures["takeover"] = {
            "kills": len(kills),
            "victims": victims,
            "samples": len(samples),
            "lease_ttl_s": ttl
            if ttl is not None
            else float(cluster.worker_env.get("JARVIS_LEASE_TTL_S", 3)),
            **{
                name: {
                    "median": pct([x for x in v if x is not None], 50),
                    "p95": pct([x for x in v if x is not None], 95),
                    "n": len([x for x in v if x is not None]),
                }
                for name, v in parts.items()
            },
        }
        ttl_used = self.figures["takeover"]["lease_ttl_s"]
        self.row(
            "takeover",
            f"SIGKILL -> next log record from the other worker, median/p95 ({len(kills)} kills)",
            f"{ms(pct(first, 50))}/{ms(pct(first, 95))}",
            "",
            f"{len(first)} of {victims} killed executions resumed; lease TTL {ttl_used} s, "
            "session.timeout 10 s; target p99 <= 5 s",
        )
        for name, v in parts.items():
            vals = [x for x in v if x is not None]
            self.row(
                "takeover",
                f"  make-up: {name} median/p95",
                f"{ms(pct(vals, 50))}/{ms(pct(vals, 95))}",
                "",
                f"n={len(vals)}",
            )

    @staticmethod
    def _holders(cluster: Any, eids: list[str]) -> dict[str, str]:
        """execution -> worker running it: its lease in Redis, else its last start event."""
        holders: dict[str, str] = {}
        with contextlib.suppress(Exception):
            holders = cluster.lease_holders(eids)
        for eid in eids:
            if eid not in holders:
                marks = [
                    e
                    for e in cluster.events_of(eid)
                    if e["event"] in ("started", "resumed", "accepted")
                ]
                if marks and not cluster.terminals_of(eid):
                    holders[eid] = marks[-1]["worker"]
        return holders

    # --- the consumer group, from the broker's side ---

    @staticmethod
    def _group(cluster: Any) -> tuple[str, dict[str, tuple[int, ...]]]:
        from confluent_kafka.admin import AdminClient

        admin = getattr(cluster, "_bench_admin", None)
        if admin is None:
            admin = AdminClient({"bootstrap.servers": cluster.settings.kafka_bootstrap})
            cluster._bench_admin = admin
        gid = cluster.settings.group_id
        desc = admin.describe_consumer_groups([gid], request_timeout=10)[gid].result()
        topic = cluster.settings.control_topic
        members = {}
        for m in desc.members:
            tps = m.assignment.topic_partitions if m.assignment is not None else []
            members[m.member_id] = tuple(sorted(tp.partition for tp in tps if tp.topic == topic))
        return getattr(desc.state, "name", str(desc.state)), members

    def _wait_group(
        self,
        cluster: Any,
        expected: int,
        cap_s: float,
        partitions: int | None = None,
        since: float | None = None,
    ) -> float | None:
        """Seconds from ``since`` until the group settled (see the module doc), or None at the cap."""
        since = since or time.monotonic()
        if partitions is None:
            meta = cluster.producer.list_topics(cluster.settings.control_topic, timeout=10)
            partitions = len(meta.topics[cluster.settings.control_topic].partitions)
        quiet = self.args.settle_quiet
        deadline = time.monotonic() + cap_s
        good_since: float | None = None
        good_snapshot = None
        while time.monotonic() < deadline:
            now = time.monotonic()
            try:
                state, members = self._group(cluster)
            except Exception:
                time.sleep(0.25)
                continue
            owned = [p for parts in members.values() for p in parts]
            good = (
                state.upper().endswith("STABLE")
                and len(members) == expected
                and sorted(owned) == list(range(partitions))
                and (partitions < expected or all(members.values()))
            )
            snapshot = tuple(sorted(members.items())) if good else None
            if good and snapshot == good_snapshot:
                if good_since is not None and now - good_since >= quiet:
                    return good_since - since
            else:
                good_since = now if good else None
                good_snapshot = snapshot
            time.sleep(0.25)
        return None

    def scale(self) -> None:
        from confluent_kafka.admin import AdminClient, NewPartitions

        k, step, parts = self.args.scale_workers, self.args.scale_step, self.args.scale_partitions
        conc = self.args.scale_concurrency
        per = statistics.median(self.worker_pss) if self.worker_pss else 250.0
        avail = mem_available_mb()
        if (k + step) * per > 0.75 * avail:
            fit = max(2, int(0.75 * avail / per) - step)
            self.notes.append(
                f"scale: {k}+{step} workers x {per:.0f} MiB exceed 75% of {avail:.0f} MiB; using {fit}"
            )
            k = fit
        cap = self.caps["scale"]
        began = time.monotonic()
        cluster = self.cluster("scale", JARVIS_MAX_CONCURRENCY=conc)
        try:
            topic = cluster.settings.control_topic
            admin = AdminClient({"bootstrap.servers": cluster.settings.kafka_bootstrap})
            if parts > 12:  # the topic is fresh and empty: no key moves
                for fut in admin.create_partitions([NewPartitions(topic, parts)]).values():
                    fut.result(30)
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    meta = cluster.producer.list_topics(topic, timeout=10)
                    if len(meta.topics[topic].partitions) >= parts:
                        break
                    time.sleep(0.2)
            tap = self.tap(cluster)
            t = time.monotonic()
            workers = self.workers(cluster, k)
            cold = self._wait_group(cluster, k, min(cap, self.caps["startup"] * 3), parts, since=t)
            fig = self.figures["scale"]
            fig.update(
                {"workers": k, "partitions": parts, "concurrency": conc, "settle_cold_s": cold}
            )
            self.row(
                "scale",
                f"{k} workers joining from cold -> group settled",
                ms(cold),
                "",
                f"{parts} partitions, MAX_CONCURRENCY={conc}",
            )
            pss, nproc = tree_pss_mb(w.pid for w in workers if w.alive())
            fig["pss_mib"] = pss
            self.row(
                "scale",
                f"memory of {k} workers + sandboxes (PSS)",
                f"{pss:,.0f} MiB",
                "",
                f"{nproc} processes, {pss / max(1, k):.0f} MiB per worker",
            )
            if cold is None:
                self.notes.append(
                    "scale: the group never settled within the cap; figures below may be off"
                )
            left = cap - (time.monotonic() - began)
            eids = self.backlog(cluster, "s", self.args.scale_n or self.args.n)
            got, complete = self.wait_terminals(
                tap, eids, max(10.0, min(self.caps["throughput"], left - 60)), workers
            )
            done = [ts(e["at"]) for e in got if e["event"] == "completed"]
            r = rate(done)
            fig.update(
                {"rate": r, "completed": len(done), "backlog": len(eids), "all_done": complete}
            )
            self.row(
                "scale",
                f"throughput, {k} workers, trivial, level full",
                f"{fmt(r)} exec/s",
                self.vs_bare(r),
                "" if complete else f"cap: {len(done)}/{len(eids)} done",
            )
            left = cap - (time.monotonic() - began)
            if left < 20:
                self.notes.append("scale: time cap reached before join/leave")
                return
            t = time.monotonic()
            joiners = self.workers(cluster, step)
            join = self._wait_group(cluster, k + step, max(10.0, left / 2), parts, since=t)
            fig["settle_join_s"] = join
            self.row("scale", f"{step} join ({k} -> {k + step}) -> group settled", ms(join))
            left = cap - (time.monotonic() - began)
            t = time.monotonic()
            for w in joiners:
                w.signal(signal.SIGTERM)
            leave = self._wait_group(cluster, k, max(10.0, left), parts, since=t)
            fig["settle_leave_s"] = leave
            self.row(
                "scale", f"{step} leave, SIGTERM ({k + step} -> {k}) -> group settled", ms(leave)
            )
        finally:
            self.done(cluster)

    # --- output ---

    def table(self, header: str) -> str:
        cols = ("section", "figure", "Jarvis", "bare loop (same run)", "note")
        widths = [
            max(len(c), *(len(r[i]) for r in self.rows)) if self.rows else len(c)
            for i, c in enumerate(cols)
        ]
        widths[1] = min(widths[1], 72)
        lines = [header, ""]
        lines.append("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip())
        lines.append("  ".join("-" * w for w in widths))
        last = ""
        for r in self.rows:
            cells = ("" if r[0] == last else r[0], *r[1:])
            last = r[0]
            lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
        lines += ["", *(f"note: {n}" for n in self.notes)]
        return "\n".join(lines)


def code_origin() -> dict[str, Any]:
    """Which jarvis a worker process spawned by Cluster imports, and this checkout's commit."""
    from tests.fault import cluster as cluster_mod

    out = subprocess.run(
        [sys.executable, "-c", "import jarvis, sys; print(jarvis.__file__)"],
        cwd=cluster_mod.ROOT,
        capture_output=True,
        text=True,
        env={**os.environ},
    ).stdout.strip()
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--", "jarvis"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "worker_jarvis": out,
        "checkout": str(ROOT),
        "commit": commit,
        "jarvis_dirty": bool(dirty),
        "cpus": os.cpu_count(),
    }


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--_bare":
        print(orjson.dumps(bare_loop(orjson.loads(sys.argv[2]))).decode(), flush=True)
        return
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--only", help=f"comma-separated sections: {','.join(SECTIONS)}")
    p.add_argument("--skip", help="comma-separated sections to leave out")
    p.add_argument("--json", type=Path, help="save every figure to this file")
    p.add_argument(
        "--root", help="directory for checkpoints and worker logs (default: a new temp dir)"
    )
    p.add_argument(
        "--cap",
        action="append",
        metavar="KEY=SECONDS",
        help=f"time caps; keys and defaults: {', '.join(f'{k}={v:g}' for k, v in CAPS.items())}",
    )
    p.add_argument("--n", type=int, default=2000, help="trivial starts per throughput run (2000)")
    p.add_argument("--bare-n", type=int, help="backlog of the bare loop (default: --n)")
    p.add_argument(
        "--cpu-n", type=int, default=40, help="CPU-bound executions per concurrency (40)"
    )
    p.add_argument(
        "--cpu-loop", type=int, default=1_000_000, help="iterations of the CPU-bound loop (1M)"
    )
    p.add_argument("--capacity", type=float, help="executions/s the latency rates are fractions of")
    p.add_argument("--latency-fractions", default="0.1,0.5,0.9")
    p.add_argument("--latency-s", type=float, default=20.0, help="pacing time per rate (20 s)")
    p.add_argument("--latency-max", type=int, default=3000, help="most starts per rate (3000)")
    p.add_argument("--log-executions", type=int, default=4)
    p.add_argument(
        "--log-iterations", type=int, default=50_000, help="loop iterations (2 records each)"
    )
    p.add_argument("--journal-threads", default="1,4,16")
    p.add_argument("--journal-appends", type=int, default=500, help="appends per thread (500)")
    p.add_argument("--kills", type=int, default=4)
    p.add_argument(
        "--takeover-executions", type=int, default=4, help="long programs per kill round (4)"
    )
    p.add_argument(
        "--takeover-every", type=int, default=50_000, help="iterations between prints (50k)"
    )
    p.add_argument(
        "--takeover-lease-ttl", type=float, help="JARVIS_LEASE_TTL_S (default: Cluster's, 3 s)"
    )
    p.add_argument("--scale-workers", type=int, default=32)
    p.add_argument("--scale-partitions", type=int, default=64)
    p.add_argument("--scale-step", type=int, default=8)
    p.add_argument("--scale-concurrency", type=int, default=1)
    p.add_argument("--scale-n", type=int, help="starts for the scale throughput (default: --n)")
    p.add_argument(
        "--settle-quiet", type=float, default=3.0, help="seconds unchanged = settled (3)"
    )
    args = p.parse_args()
    chosen = [s.strip() for s in (args.only.split(",") if args.only else SECTIONS) if s.strip()]
    skip = {s.strip() for s in (args.skip or "").split(",") if s.strip()}
    unknown = [s for s in [*chosen, *skip] if s not in SECTIONS]
    if unknown:
        raise SystemExit(f"unknown sections {unknown}; choose from {', '.join(SECTIONS)}")
    chosen = [s for s in SECTIONS if s in chosen and s not in skip]

    bench = Bench(args)
    origin = code_origin()
    bench.figures["meta"] = {
        **origin,
        "sections": chosen,
        "caps": bench.caps,
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    say(f"workers import {origin['worker_jarvis']} (commit {origin['commit']}); root {bench.root}")
    began = time.monotonic()
    try:
        for section in chosen:
            t = time.monotonic()
            say(f"--- {section}")
            try:
                getattr(bench, section)()
            except Exception as exc:  # report and go on: one broken section keeps the others
                bench.row(section, "ERROR", f"{type(exc).__name__}: {exc}"[:200])
                import traceback

                traceback.print_exc()
            bench.figures.setdefault("durations_s", {})[section] = time.monotonic() - t
    except KeyboardInterrupt:
        bench.notes.append("interrupted")
    finally:
        bench.close()
    header = (
        f"bench-e2e: commit {origin['commit']}{' (+ uncommitted jarvis/ changes)' if origin['jarvis_dirty'] else ''}, "
        f"workers import {origin['worker_jarvis']}, {origin['cpus']} CPUs, "
        f"{time.monotonic() - began:.0f} s, {time.strftime('%Y-%m-%d %H:%M')}"
    )
    text = bench.table(header)
    print(text)
    if args.json:
        args.json.write_text(orjson.dumps(bench.figures, option=orjson.OPT_INDENT_2).decode())
        say(f"figures saved to {args.json}")


if __name__ == "__main__":
    main()
