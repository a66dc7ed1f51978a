"""kill -9 chaos: run many executions with Book calls while SIGKILLing workers at random.

    python -m tests.fault.chaos [--executions 1000] [--kills 100] [--workers 3] ...
    scripts/chaos ...            (the same, after making sure the local stack is up)

Each execution is ``CHAIN_PROGRAM``: a chain of ``counter.bump`` Book calls (each held a
moment, so kills land mid-call) with ``sleep`` between them. Executions are submitted at an
even pace, ``executions / kills`` per kill interval (random in ``--kill-every``); at the end
of each interval the runner SIGKILLs a
random worker that holds leases (so every kill interrupts running work) and restarts a
replacement after a random delay. When everything has a terminal event the workers are
stopped and ``audit`` checks the guarantees; the table printed at the end says how it went.
Exit status 0 when every "must be 0" row is 0 and every execution completed rightly.

Resume time: for every execution whose lease the killed worker held, from the moment the
worker was dead to the first log record of that execution produced afterwards (necessarily
by another worker); split into partition reassignment (worker logs), the ``resumed`` event,
the first record, and the first record past what had been logged before the kill.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from tests.fault.books import expected_total
from tests.fault.cluster import (
    Audit,
    Cluster,
    ResumeSample,
    WorkerProc,
    percentile,
    resume_samples,
)
from tests.helpers.stack import service_env


@dataclass
class ChaosConfig:
    executions: int = 1000
    kills: int = 100
    workers: int = 3
    # Longer than the consumer session timeout (10 s, loop.py) on average per worker, so the
    # group settles between most kills and resume times mean something.
    kill_every_s: tuple[float, float] = (4.0, 8.0)
    restart_after_s: tuple[float, float] = (0.0, 2.0)
    calls: tuple[int, int] = (4, 10)  # Book calls per execution
    hold_s: float = 0.15  # each Book call stays in flight this long (kills land mid-call)
    sleep_s: float = (
        0.2  # SPy sleep() between calls: ~3 s per execution, so kills find work running
    )
    max_concurrency: int = 4
    lease_ttl_s: float = 3.0
    finish_timeout_s: float = 600.0
    seed: int | None = None
    root: Path | None = None


@dataclass
class ChaosResult:
    config: ChaosConfig
    audit: Audit
    kills: list[tuple[float, str, dict[str, int]]]
    resume: list[ResumeSample]
    duration_s: float
    workers_started: int
    logs_dir: Path
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        a = self.audit
        return (
            not a.problems and a.completed == a.executions and len(self.kills) >= self.config.kills
        )

    def table(self) -> str:
        a = self.audit
        first = [s.to_first_log_s for s in self.resume if s.to_first_log_s is not None]
        rows: list[tuple[str, object]] = [("kills (SIGKILL)", len(self.kills)), *a.rows()]
        rows.insert(1, ("worker processes started", self.workers_started))
        rows += [
            ("resume samples (executions running on a killed worker)", len(self.resume)),
            ("median resume time, kill -> next log record (s)", _fmt(percentile(first, 50))),
            ("p95 resume time (s)", _fmt(percentile(first, 95))),
            ("wall time (s)", f"{self.duration_s:.1f}"),
        ]
        width = max(len(k) for k, _ in rows)
        lines = [f"{k.ljust(width)}  {v}" for k, v in rows]
        parts = [
            ("kill -> partition reassigned", [s.to_assigned_s for s in self.resume]),
            ("kill -> `resumed` event", [s.to_resumed_s for s in self.resume]),
            ("kill -> first log record", [s.to_first_log_s for s in self.resume]),
            ("kill -> first new log record", [s.to_new_progress_s for s in self.resume]),
        ]
        lines.append("")
        lines.append(
            f"{'resume make-up (s)'.ljust(width)}  {'median':>7} {'p95':>7} {'max':>7}   n"
        )
        for name, vals in parts:
            v = [x for x in vals if x is not None]
            lines.append(
                f"{name.ljust(width)}  {_fmt(percentile(v, 50)):>7} {_fmt(percentile(v, 95)):>7} "
                f"{_fmt(max(v) if v else None):>7}   {len(v)}"
            )
        if a.problems:
            lines.append("")
            lines.append("problems:")
            lines += [f"  - {p}" for p in a.problems]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def run(cfg: ChaosConfig, say: Callable[[str], None] = print) -> ChaosResult:
    rng = random.Random(cfg.seed)
    root = cfg.root or Path(tempfile.mkdtemp(prefix="jarvis-chaos-"))
    cluster = Cluster(
        root,
        service_env(),
        JARVIS_MAX_CONCURRENCY=cfg.max_concurrency,
        JARVIS_LEASE_TTL_S=cfg.lease_ttl_s,
    )
    began = time.monotonic()
    kills: list[tuple[float, str, dict[str, int]]] = []
    expected: dict[str, int] = {}
    finished: set[str] = set()
    notes: list[str] = []
    try:
        say(
            f"chaos {cluster.uid}: {cfg.executions} executions, {cfg.kills} kills, {cfg.workers} workers; logs in {root}"
        )
        for _ in range(cfg.workers):
            cluster.start_worker(wait=False)
        for w in cluster.workers:
            w.wait_consuming()
        pending: list[str] = []
        chunk = max(1, math.ceil(cfg.executions / max(1, cfg.kills)))
        restarts: list[float] = []  # when to start a replacement worker

        def submit(n: int) -> None:
            waits = []
            for _ in range(min(n, cfg.executions - len(expected))):
                eid = f"chaos-{cluster.uid}-{len(expected):05d}"
                n_calls, seed = rng.randint(*cfg.calls), rng.randrange(1_000_000)
                expected[eid] = expected_total(seed, n_calls)
                pending.append(eid)
                waits.append(
                    cluster.start(
                        eid,
                        inputs={
                            "n": n_calls,
                            "seed": seed,
                            "hold_s": cfg.hold_s,
                            "sleep_s": cfg.sleep_s,
                        },
                        wait=False,
                    )
                )
            cluster.flush()
            for w in waits:
                w()

        def tend(until: float) -> None:
            """Keep reading output and restarting workers until ``until`` (monotonic), or
            until nothing is pending once every execution has been submitted."""
            while True:
                cluster.events.pump(0.2)
                for eid in list(pending):
                    if any(
                        e["event"] in ("completed", "failed", "rejected", "stopped")
                        for e in cluster.events.by_eid.get(eid, [])
                    ):
                        pending.remove(eid)
                        finished.add(eid)
                now = time.monotonic()
                for due in [d for d in restarts if d <= now]:
                    restarts.remove(due)
                    cluster.start_worker(wait=False)
                if now >= until or (not pending and len(expected) == cfg.executions):
                    return
                time.sleep(min(0.05, until - now))

        last_report = time.monotonic()
        for _k in range(cfg.kills):
            # Trickle this kill's share of executions over the interval, so that work is
            # always running (and queued) when the kill comes.
            interval = rng.uniform(*cfg.kill_every_s)
            for _ in range(chunk):
                submit(1)
                tend(time.monotonic() + interval / chunk)
            live = cluster.live_workers()
            if not live:
                continue
            holders = cluster.lease_holders(pending)
            busy = [w for w in live if w.worker_id in holders.values()]
            victim: WorkerProc = rng.choice(busy or live)
            cluster.logs.pump(0.5)
            running = {
                eid: max((r["seq"] for r in cluster.logs.by_eid.get(eid, [])), default=-1)
                for eid, holder in holders.items()
                if holder == victim.worker_id
            }
            killed_at = victim.kill()
            kills.append((killed_at, victim.worker_id, running))
            restarts.append(time.monotonic() + rng.uniform(*cfg.restart_after_s))
            if time.monotonic() - last_report > 10:
                last_report = time.monotonic()
                say(
                    f"  {time.monotonic() - began:6.1f}s  kills {len(kills)}/{cfg.kills}  "
                    f"finished {len(finished)}/{len(expected)}  live workers {len(cluster.live_workers())}"
                )
        submit(cfg.executions)
        deadline = time.monotonic() + cfg.finish_timeout_s
        while pending and time.monotonic() < deadline:
            tend(time.monotonic() + 5)
            if not cluster.live_workers() and not restarts:
                cluster.start_worker(wait=False)
            say(
                f"  {time.monotonic() - began:6.1f}s  kills {len(kills)}  finished {len(finished)}/{len(expected)}"
            )
        if pending:
            notes.append(
                f"{len(pending)} executions had no terminal event after {cfg.finish_timeout_s:.0f} s"
            )
        duration = time.monotonic() - began
        cluster.stop_workers()
        result = audit_run(cluster, cfg, expected, kills, duration, notes)
        result.logs_dir = root / "logs"
        (root / "kills.json").write_bytes(orjson.dumps(kills))
        (root / "resume.json").write_bytes(orjson.dumps(result.resume))
        return result
    finally:
        cluster.close()


def audit_run(
    cluster: Cluster,
    cfg: ChaosConfig,
    expected: dict[str, int],
    kills: list[tuple[float, str, dict[str, int]]],
    duration: float,
    notes: list[str],
) -> ChaosResult:
    from tests.fault.cluster import audit

    a = audit(cluster, expected)
    resume = resume_samples(cluster, kills)
    crashed = [w.worker_id for w in cluster.workers if "Traceback" in w.log()]
    if crashed:
        notes.append(f"workers with a Python traceback in their log: {crashed}")
    return ChaosResult(
        cfg, a, kills, resume, duration, len(cluster.workers), cluster.root / "logs", notes
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="scripts/chaos", description=__doc__.split("\n\n")[0])
    p.add_argument("--executions", type=int, default=1000)
    p.add_argument("--kills", type=int, default=100)
    p.add_argument("--workers", type=int, default=3)
    p.add_argument(
        "--kill-every", type=float, nargs=2, default=(4.0, 8.0), metavar=("MIN_S", "MAX_S")
    )
    p.add_argument(
        "--restart-after", type=float, nargs=2, default=(0.0, 2.0), metavar=("MIN_S", "MAX_S")
    )
    p.add_argument(
        "--calls",
        type=int,
        nargs=2,
        default=(4, 10),
        metavar=("MIN", "MAX"),
        help="Book calls per execution",
    )
    p.add_argument(
        "--hold", type=float, default=0.15, help="seconds each Book call stays in flight"
    )
    p.add_argument("--sleep", type=float, default=0.2, help="SPy sleep() between Book calls")
    p.add_argument("--max-concurrency", type=int, default=4)
    p.add_argument("--lease-ttl", type=float, default=3.0, help="JARVIS_LEASE_TTL_S of the workers")
    p.add_argument("--finish-timeout", type=float, default=600.0)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--dir", type=Path, default=None, help="scratch dir (journals, worker logs)")
    args = p.parse_args(argv)
    cfg = ChaosConfig(
        executions=args.executions,
        kills=args.kills,
        workers=args.workers,
        kill_every_s=tuple(args.kill_every),
        restart_after_s=tuple(args.restart_after),
        calls=tuple(args.calls),
        hold_s=args.hold,
        sleep_s=args.sleep,
        max_concurrency=args.max_concurrency,
        lease_ttl_s=args.lease_ttl,
        finish_timeout_s=args.finish_timeout,
        seed=args.seed,
        root=args.dir,
    )
    result = run(cfg, say=lambda s: print(s, flush=True))
    print()
    print(result.table())
    print(f"\n{'PASS' if result.ok else 'FAIL'}; worker logs in {result.logs_dir}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
