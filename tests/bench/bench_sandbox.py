"""The sandbox boundary's cost, measured against running in-process, in the same run.

Run with ``scripts/bench-sandbox`` (prints figures; asserts nothing: machines here are
noisy). Best of ``--repeat`` runs of each:

- a trivial execution: SPy in-process vs through a warm sandbox (hand-out, ``run`` frame,
  compile cache, outcome) -> the boundary's cost per execution (target <= 1 ms), for both
  pool policies: long-lived sandboxes (the default) and a fresh fork per execution;
- log records per second at level ``full`` through the boundary into Jarvis's execution
  host (target >= 500k/s), against SPy with a trivial in-process host;
- a trivial Book call's round trip over the channel (target <= 50 µs), against the call
  in-process.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from jarvis.artifacts import LocalArtifactStore
from jarvis.contract import StartCommand
from jarvis.execution.bridge import SandboxBridge
from jarvis.execution.host import ExecutionHost, LogPolicy
from jarvis.journal import Journal
from jarvis.sandbox import SandboxPolicy, SandboxPool, run_attempt
from jarvis.spy import Limits, compile_program, run_program

TRIVIAL = "x = inputs['i']\nresult = x + 1\n"
RECORDS = 500_000
RECORDS_SOURCE = (
    f"total = 0\nfor i in range({RECORDS // 2}):\n    total = total + i\n"  # assign + branch
)
BOOK_CALLS = 10_000
BOOK_SOURCE = f"for i in range({BOOK_CALLS}):\n    bench.noop(i)\nresult = 1\n"
LIMITS = Limits(max_steps=10**9, max_wall_s=600)


class TrivialHost:
    def __init__(self) -> None:
        self.n = 0

    def emit(self, site: Any, value: object) -> None:
        self.n += 1

    def effect(self, name: str, args: tuple[Any, ...]) -> object:
        return None

    def check(self) -> None:
        pass


class CountingSink:
    def __init__(self) -> None:
        self.records = 0

    def log(self, execution_id: str, record: dict[str, Any]) -> None:
        self.records += 1

    def event(self, event: Any) -> None:
        pass


class MinimalHandler:
    """The least a supervisor does per frame: count records, answer effects."""

    def __init__(self) -> None:
        self.n = 0

    def compiled(self, digest: str) -> None:
        pass

    def records(self, recs: list[Any], sites: list[Any], blobs: list[bytes]) -> None:
        self.n += len(recs)

    def effect(self, name: str, args: Any, blobs: list[bytes]) -> list[Any]:
        return ["ok", None]

    def stop_requested(self) -> str | None:
        return None


def spec(
    source: str,
    level: str,
    inputs: dict[str, Any],
    books: dict[str, list[str]] | None = None,
    max_runs: int = 1000,
) -> dict[str, Any]:
    return {
        "source": source,
        "filename": "<bench>",
        "log_level": level,
        "inputs": inputs,
        "books": books or {},
        "limits": dataclasses.asdict(LIMITS),
        "max_program_bytes": 1 << 20,
        "max_records": 10**9,
        "max_value_bytes": 16384,
        "memory_cap_bytes": 2 << 30,
        "cpu_s": 600.0,
        "max_runs": max_runs,
        "recycle_bytes": 1 << 30,
    }


def best(fn: Callable[[], float], repeat: int) -> float:
    return min(fn() for _ in range(repeat))


def per_execution_in_process(n: int) -> float:
    program = compile_program(TRIVIAL, "<bench>", log_level="full")
    t = time.perf_counter()
    for i in range(n):
        run_program(program, {"i": i}, TrivialHost(), limits=LIMITS)
    return (time.perf_counter() - t) / n


def per_execution_sandboxed(pool: SandboxPool, n: int, max_runs: int = 1000) -> float:
    policy = SandboxPolicy()
    t = time.perf_counter()
    for i in range(n):
        end = run_attempt(
            pool,
            spec(TRIVIAL, "full", {"i": i}, max_runs=max_runs),
            MinimalHandler(),
            policy,
            1 << 26,
        )
        assert end.status == "completed", end
    return (time.perf_counter() - t) / n


def records_in_process() -> float:
    program = compile_program(RECORDS_SOURCE, "<bench>", log_level="full")
    host = TrivialHost()
    t = time.perf_counter()
    run_program(program, {}, host, limits=LIMITS)
    assert host.n >= RECORDS
    return host.n / (time.perf_counter() - t)


def records_sandboxed(pool: SandboxPool, tmp: Path) -> float:
    command = StartCommand.model_validate(
        {"execution_id": "bench", "program": {"source": RECORDS_SOURCE}}
    )
    sink = CountingSink()
    journal = Journal.open(tmp, f"bench-{time.monotonic_ns()}")
    host = ExecutionHost(
        "bench", journal, sink, LocalArtifactStore(tmp), log_policy=LogPolicy(max_records=10**9)
    )
    bridge = SandboxBridge(host, journal, command, sink, lambda *a, **k: None)  # type: ignore[arg-type, return-value]
    bridge.compiled = lambda digest: None  # type: ignore[method-assign]  # no journal start: records only
    t = time.perf_counter()
    end = run_attempt(pool, spec(RECORDS_SOURCE, "full", {}), bridge, SandboxPolicy(), 1 << 28)
    elapsed = time.perf_counter() - t
    assert end.status == "completed", end
    assert sink.records >= RECORDS, sink.records
    return sink.records / elapsed


def book_in_process() -> float:
    program = compile_program(BOOK_SOURCE, "<bench>", log_level="effects")
    t = time.perf_counter()
    run_program(program, {}, TrivialHost(), books={"bench": ["noop"]}, limits=LIMITS)
    return (time.perf_counter() - t) / BOOK_CALLS


def book_sandboxed(pool: SandboxPool) -> float:
    handler = MinimalHandler()
    t = time.perf_counter()
    end = run_attempt(
        pool,
        spec(BOOK_SOURCE, "effects", {}, {"bench": ["noop"]}),
        handler,
        SandboxPolicy(),
        1 << 26,
    )
    elapsed = time.perf_counter() - t
    assert end.status == "completed", end
    return elapsed / BOOK_CALLS


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--executions", type=int, default=2000)
    args = parser.parse_args()
    n = args.executions
    pool = SandboxPool(1)
    pool.wait_warm(60)
    tmp = Path(tempfile.mkdtemp())
    try:
        per_execution_sandboxed(pool, 50)  # warm the compile cache and the code paths
        inproc = best(lambda: per_execution_in_process(n), args.repeat)
        boxed = best(lambda: per_execution_sandboxed(pool, n), args.repeat)
        forked = best(
            lambda: per_execution_sandboxed(pool, max(50, n // 10), max_runs=1), args.repeat
        )
        print(f"trivial execution, in-process SPy:            {inproc * 1e6:8.1f} µs")
        print(
            f"trivial execution, warm long-lived sandbox:   {boxed * 1e6:8.1f} µs  "
            f"-> boundary {max(0.0, boxed - inproc) * 1e6:.1f} µs per execution (target <= 1000)"
        )
        print(
            f"trivial execution, fresh fork per execution:  {forked * 1e6:8.1f} µs  "
            f"-> boundary {max(0.0, forked - inproc) * 1e6:.1f} µs per execution"
        )
        rin = best(lambda: -records_in_process(), args.repeat) * -1
        rbox = best(lambda: -records_sandboxed(pool, tmp), args.repeat) * -1
        print(f"log records/s at level full, in-process SPy (trivial host):        {rin:12,.0f}")
        print(
            f"log records/s at level full, through the sandbox into the host:    {rbox:12,.0f}  "
            f"({rbox / rin:.2f}x of in-process; target >= 500,000)"
        )
        bin_ = best(book_in_process, args.repeat)
        bbox = best(lambda: book_sandboxed(pool), args.repeat)
        print(f"trivial Book call, in-process:       {bin_ * 1e6:8.2f} µs")
        print(
            f"trivial Book call, over the channel: {bbox * 1e6:8.2f} µs  "
            f"-> round trip {max(0.0, bbox - bin_) * 1e6:.1f} µs (target <= 50)"
        )
        print(
            f"pool: forked {pool.stats.forked}, retired {pool.stats.retired}; cpus {os.cpu_count()}"
        )
    finally:
        pool.close()


if __name__ == "__main__":
    main()
