"""SPy speed, against CPython on the same source and against the peers that can run it.

Run with ``scripts/bench-spy`` (prints a table; asserts nothing: machines here are noisy).
Every ratio is measured in this one process, best of ``--repeat`` runs:

- compute benchmarks at log level ``effects``: SPy / CPython (target <= 2x), and
  pydantic-monty / RestrictedPython on the same source where they can run it;
- a trivial Book call: SPy's per-call overhead over a plain Python call (target < 10 µs);
- log records per second at level ``full`` (target >= 500k/s per core), with a trivial
  host, and with Jarvis's real execution host (render + record dict) into a list sink.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from jarvis.spy import Limits, compile_program, run_program

BENCHMARKS: dict[str, str] = {
    "fib(25) recursive": """
def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)
result = fib(25)
""",
    "1M-iteration loop + branch": """
total = 0
for i in range(1000000):
    if i % 3 == 0:
        total += i * 2
    else:
        total -= 1
result = total
""",
    "100k string building, f-strings": """
parts = []
for i in range(100000):
    s = f"item-{i}:{i * 3 % 7:>3}"
    parts.append(s.upper())
text = ",".join(parts)
result = len(text)
""",
    "100k dict/list, sort, comprehensions": """
d = {}
for i in range(100000):
    d[f"k{i}"] = (i * 7919) % 100003
items = sorted(d.items(), key=lambda kv: kv[1])
squares = [v * v for k, v in items if v % 2 == 0]
inverse = {v: k for k, v in items}
result = len(squares) + len(inverse) + items[0][1]
""",
    "10k trivial Book calls": """
total = 0
for i in range(10000):
    total += bench.noop(i)
result = total
""",
}
BOOK_BENCH = "10k trivial Book calls"
BOOK_CALLS = 10_000

RECORDS_SOURCE = """
x = 0
for i in range(100000):
    x = i + 1
    y = x * 2
"""
RECORDS_PER_RUN = 200_000


class TrivialHost:
    """The cheapest possible host: what SPy itself costs, without Jarvis's journal/Kafka."""

    def __init__(self) -> None:
        self.records: list[Any] = []
        self.emit = self._emit  # bound once

    def _emit(self, site: Any, value: object) -> None:
        self.records.append((site, value))

    def effect(self, name: str, args: tuple[Any, ...]) -> object:
        if name == "book":
            return args[2][0]
        raise NotImplementedError(name)

    def check(self) -> None:
        pass


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def run_cpython(source: str) -> object:
    env: dict[str, Any] = {"bench": SimpleNamespace(noop=lambda i: i)}
    exec(compile(source, "<bench>", "exec"), env)
    return env["result"]


def run_spy(source: str, level: str = "effects") -> object:
    program = compile_program(source, "<bench>", log_level=level)
    return run_program(
        program,
        {},
        TrivialHost(),
        books={"bench": ["noop"]},
        limits=Limits(max_steps=10**9, max_wall_s=600),
    )


def restricted_runner() -> Callable[[str], object] | None:
    try:
        from RestrictedPython import compile_restricted, safe_globals
        from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
        from RestrictedPython.Guards import guarded_iter_unpack_sequence, safer_getattr
    except ImportError:
        return None
    import operator

    ops = {"+=": operator.iadd, "-=": operator.isub, "*=": operator.imul}

    def run(source: str) -> object:
        env: dict[str, Any] = dict(safe_globals)
        env["__builtins__"] = {
            **safe_globals["__builtins__"],
            "sorted": sorted,
            "len": len,
            "range": range,
        }
        env.update(
            _getattr_=safer_getattr,
            _getitem_=default_guarded_getitem,
            _getiter_=default_guarded_getiter,
            _iter_unpack_sequence_=guarded_iter_unpack_sequence,
            _write_=lambda o: o,
            _inplacevar_=lambda op, x, y: ops[op](x, y),
            bench=SimpleNamespace(noop=lambda i: i),
        )
        exec(compile_restricted(source, "<bench>", "exec"), env)
        return env["result"]

    return run


class MontyRunner:
    """pydantic-monty (a Rust interpreter in a worker subprocess) on the same source."""

    def __init__(self) -> None:
        import pydantic_monty

        self.pool = pydantic_monty.Monty()
        self.pool.__enter__()
        self.limits = {"max_suspensions": 10 * BOOK_CALLS, "max_feed_duration_secs": 600.0}

    def __call__(self, source: str) -> object:
        # Monty exposes host functions as plain names, so the Book call is `bench_noop(i)`.
        source = source.replace("bench.noop(", "bench_noop(") + "\nresult\n"
        with self.pool.checkout(limits=self.limits) as session:
            return session.feed_run(source, external_lookup={"bench_noop": lambda i: i})

    def close(self) -> None:
        self.pool.__exit__(None, None, None)


def records_per_second(repeat: int) -> tuple[float, float]:
    program = compile_program(RECORDS_SOURCE, "<bench>", log_level="full")

    def trivial() -> None:
        host = TrivialHost()
        run_program(program, {}, host, limits=Limits(max_steps=10**9, max_wall_s=600))
        assert len(host.records) >= RECORDS_PER_RUN

    from jarvis.artifacts import LocalArtifactStore
    from jarvis.execution.host import ExecutionHost
    from jarvis.execution.sinks import ListSink
    from jarvis.journal import Journal

    tmp = Path(tempfile.mkdtemp())

    def real() -> None:
        sink = ListSink()
        host = ExecutionHost(
            "bench",
            Journal.open(tmp, "bench"),
            sink,
            LocalArtifactStore(tmp),
        )
        host.budget_left = 10**9
        run_program(program, {}, host, limits=Limits(max_steps=10**9, max_wall_s=600))
        assert len(sink.records) >= RECORDS_PER_RUN

    return RECORDS_PER_RUN / best(trivial, repeat), RECORDS_PER_RUN / best(real, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--no-peers", action="store_true", help="skip pydantic-monty and RestrictedPython"
    )
    args = parser.parse_args()

    restricted = None if args.no_peers else restricted_runner()
    monty: MontyRunner | None = None
    if not args.no_peers:
        try:
            monty = MontyRunner()
        except Exception as exc:  # not installed, or its worker binary cannot start here
            print(f"pydantic-monty unavailable: {exc}", file=sys.stderr)

    print(
        f"SPy benchmark — Python {sys.version.split()[0]}, best of {args.repeat}, pid {os.getpid()}"
    )
    header = f"{'benchmark':<38} {'CPython':>9} {'SPy':>9} {'SPy/Py':>7} {'monty':>9} {'monty/SPy':>9} {'RPy':>9} {'RPy/SPy':>8}"
    print(header)
    print("-" * len(header))
    for name, source in BENCHMARKS.items():
        expected = run_cpython(source)
        got = run_spy(source)
        assert got == expected, f"{name}: SPy gave {got!r}, CPython {expected!r}"
        t_py = best(lambda s=source: run_cpython(s), args.repeat)
        t_spy = best(lambda s=source: run_spy(s), args.repeat)
        cells = [
            f"{name:<38}",
            f"{t_py * 1e3:>7.1f}ms",
            f"{t_spy * 1e3:>7.1f}ms",
            f"{t_spy / t_py:>6.2f}x",
        ]
        for runner in (monty, restricted):
            if runner is None:
                cells += [f"{'n/a':>9}", f"{'':>9}"]
                continue
            try:
                out = runner(source)
                if out != expected:
                    raise ValueError(f"wrong result {out!r}")
                t = best(lambda s=source, r=runner: r(s), args.repeat)
                cells += [f"{t * 1e3:>7.1f}ms", f"{t / t_spy:>8.2f}x"]
            except Exception as exc:
                cells += [f"{'fails':>9}", f"{type(exc).__name__[:9]:>9}"]
        print(" ".join(cells))
        if name == BOOK_BENCH:
            overhead_us = (t_spy - t_py) / BOOK_CALLS * 1e6
            book_line = f"trivial Book call: {t_spy / BOOK_CALLS * 1e6:.2f} µs per call in SPy, {overhead_us:.2f} µs over a plain Python call (target < 10 µs)"
    print()
    print(book_line)
    trivial_rps, real_rps = records_per_second(args.repeat)
    print(
        f"log records/s at level full: {trivial_rps:,.0f} (SPy, trivial host); {real_rps:,.0f} (with Jarvis's execution host: render + record) (target >= 500,000)"
    )
    if monty is not None:
        monty.close()


if __name__ == "__main__":
    main()
