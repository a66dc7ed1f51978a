"""``max_memory_bytes`` over many steps: the meter catches what a program holds, wherever.

Each attack runs in a forked child with an address-space cap a few hundred MiB above
its start (the sandbox's backstop) and a small limit: it must end with LimitExceeded
naming ``max_memory_bytes`` (not MemoryError from the cap, not completion, not a crash)
and the child's peak resident size, read from the OS, must stay within a few times the
limit. Programs that churn through far more than the limit while holding little must
complete. No test asserts a duration: the child's timeout only detects a hang.
"""

from __future__ import annotations

import multiprocessing
import resource
import sys
import time
import traceback
from typing import Any

import pytest

from jarvis.errors import RunLimitExceeded, SpyRuntimeError
from jarvis.spy import Limits, compile_program, run_program
from jarvis.spy.runtime.memory import held_bytes

MIB = 2**20
CAP = 64 * MIB
"""The limit of the child runs: small, so attacks are judged quickly."""
ADDRESS_SPACE = 512 * MIB
"""Address space a child may add to its start size (RLIMIT_AS): a sandbox's backstop."""
PEAK_BOUND = ADDRESS_SPACE
"""Peak resident growth allowed: under the child's address-space cap, as the backstop
promises (typically 1.0-1.6x the limit). The outcome (LimitExceeded, not MemoryError) is
what proves the meter won. Children are spawned: forked from a long pytest run, they reused
its inherited heap and resident growth read 4.6-9x the limit without saying anything about
the program."""
"""A run's peak resident growth must stay below this many times the limit."""
HANG_S = 120.0
"""Hang detector only: an attack that still runs after this is reported, never timed."""

LIMITS: dict[str, Any] = {"max_memory_bytes": CAP, "max_steps": 10**12, "max_wall_s": 100.0}


class NullHost:
    """Effects do nothing, except ``sleep``, which really waits (a host wait)."""

    def emit(self, site: object, value: object) -> None:
        pass

    def effect(self, name: str, args: tuple[object, ...]) -> object:
        if name == "sleep":
            time.sleep(float(args[0]))  # type: ignore[arg-type]
        return None

    def check(self) -> None:
        pass


class HoardingHost(NullHost):
    """Keeps 100 kB per record: the process grows, the program holds nothing."""

    def __init__(self) -> None:
        self.kept: list[bytes] = []

    def emit(self, site: object, value: object) -> None:
        self.kept.append(bytes(100_000))


def _status(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} in /proc/self/status")


def _child(conn: Any, source: str, limits: dict[str, Any], hoard: bool) -> None:
    try:
        program = compile_program(source)
        host = HoardingHost() if hoard else NullHost()
        cap = _status("VmSize") + ADDRESS_SPACE
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        base = _status("VmRSS")
        report: dict[str, Any]
        try:
            run_program(program, {}, host, limits=Limits(**limits))
        except RunLimitExceeded as exc:
            report = {"outcome": "LimitExceeded", "message": exc.message}
        except SpyRuntimeError as exc:
            report = {"outcome": f"SpyRuntimeError {exc.spy_type}", "message": exc.message}
        except BaseException as exc:
            report = {"outcome": type(exc).__name__, "message": str(exc)[:500]}
        else:
            report = {"outcome": "completed", "message": ""}
        report["peak_growth"] = _status("VmHWM") - base
        conn.send(report)
    except BaseException:
        conn.send({"outcome": "harness-error", "message": traceback.format_exc()[-3000:]})
    finally:
        conn.close()


def run_in_child(
    source: str, limits: dict[str, Any] = LIMITS, hoard: bool = False
) -> dict[str, Any]:
    """Run ``source`` in a forked, address-space-capped child; return its report."""
    # spawn, not fork: a forked child of a long pytest run inherits a heap of hundreds of MiB
    # whose free pages the program reuses, and resident growth then says nothing about it.
    ctx = multiprocessing.get_context("spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(sender, source, limits, hoard), daemon=True)
    proc.start()
    sender.close()
    try:
        if not receiver.poll(HANG_S):
            return {"outcome": "hang", "message": f"still running after {HANG_S} s"}
        try:
            return dict(receiver.recv())
        except EOFError:
            proc.join(10)
            return {"outcome": "crashed", "message": f"exit code {proc.exitcode}"}
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(10)
        receiver.close()


def _lines(*lines: str) -> str:
    return "\n".join(lines) + "\n"


BIG = '"x" * 10 ** 7 + str(i)'  # a distinct 10 MB string per iteration

ATTACKS = [
    pytest.param(
        "x = [[i for i in range(1000)] for j in range(100000)]", id="nested-comprehension"
    ),
    pytest.param(f"x = [({BIG}) for i in range(1000)]", id="comprehension-of-big-strings"),
    pytest.param(f"x = {{i: ({BIG}) for i in range(1000)}}", id="dict-comprehension"),
    pytest.param(
        'x = list(("x" * 10 ** 6 + str(i)) for i in range(10000))', id="list-of-generator"
    ),
    pytest.param(
        _lines("ms = []", "for i in range(1000):", f"    ms.append(({BIG}).upper)"),
        id="bound-methods",
    ),
    pytest.param(
        _lines("ms = []", "for i in range(1000):", f"    ms.append(({BIG}).join)"),
        id="guarded-bound-methods",
    ),
    pytest.param(
        _lines(
            "def f(i):",
            f"    big = {BIG}",
            "    raise ValueError(i)",
            "errs = []",
            "for i in range(1000):",
            "    try:",
            "        f(i)",
            "    except ValueError as e:",
            "        errs.append(e)",
        ),
        id="caught-exceptions",
    ),
    pytest.param(
        _lines(
            "def f(i):",
            f"    big = {BIG}",
            "    raise ValueError(i)",
            "def g(i):",
            "    try:",
            "        f(i)",
            "    except ValueError:",
            "        raise KeyError(i)",
            "errs = []",
            "for i in range(1000):",
            "    try:",
            "        g(i)",
            "    except KeyError as e:",
            "        errs.append(e)",
        ),
        id="exception-contexts",
    ),
    pytest.param(
        _lines(
            "its = []",
            "for i in range(1000):",
            '    d = {j: "x" * 1000 + str(j) for j in range(10000)}',
            "    its.append(iter(d))",
            "d = None",
        ),
        id="dict-iterators",
    ),
    pytest.param(
        _lines(
            "its = []",
            "for i in range(1000):",
            '    d = {j: "x" * 1000 + str(j) for j in range(10000)}',
            "    its.append(reversed(d.items()))",
            "d = None",
        ),
        id="dict-reverse-iterators",
    ),
    pytest.param(
        _lines(
            "its = []",
            "for i in range(1000):",
            f"    its.append(enumerate(map(len, [{BIG}])))",
        ),
        id="iterator-chains",
    ),
    pytest.param(
        _lines(
            "def mk(i):",
            f"    big = {BIG}",
            "    return lambda: len(big)",
            "fs = []",
            "for i in range(1000):",
            "    fs.append(mk(i))",
        ),
        id="closures",
    ),
    pytest.param(
        _lines(
            "fs = []",
            "for i in range(1000):",
            f"    fs.append(lambda big={BIG}: len(big))",
        ),
        id="defaults",
    ),
    pytest.param(
        _lines(
            "def mk(i):",
            f"    big = {BIG}",
            "    return (len(c) + j for c in [big] for j in range(3))",
            "gs = []",
            "for i in range(1000):",
            "    g = mk(i)",
            "    next(g)",
            "    gs.append(g)",
        ),
        id="suspended-generators",
    ),
    pytest.param(
        _lines("gs = []", "for i in range(1000):", f"    gs.append((c for c in [{BIG}]))"),
        id="unstarted-generators",
    ),
    pytest.param(
        _lines(
            "def deep(n, acc):",
            "    if n == 0:",
            "        return len(acc)",
            f"    big = {BIG.replace('i)', 'n)')}",
            "    return deep(n - 1, acc + [big])",
            "result = deep(300, [])",
        ),
        id="frame-locals",
    ),
    pytest.param(
        _lines("ms = []", "for i in range(1000):", f"    ms.append({BIG})", "    sleep(0.02)"),
        id="waiting-on-the-host",
    ),
    pytest.param("".join(f'a{i} = "x" * 10 ** 6\n' for i in range(2000)), id="straight-line"),
    pytest.param(
        "".join(f'a{i} = ["x" * 10 ** 6, "y" * 10 ** 6]\n' for i in range(1000)),
        id="straight-line-lists",
    ),
]


@pytest.mark.parametrize("source", ATTACKS)
def test_memory_attack_ends_with_the_limit(source: str) -> None:
    report = run_in_child(source)
    assert report["outcome"] == "LimitExceeded", report
    assert "max_memory_bytes" in report["message"], report
    assert report["peak_growth"] < PEAK_BOUND, report


HARMLESS = [
    pytest.param(
        _lines(
            "n = 0", "for i in range(640):", '    s = "x" * 10 ** 6 + str(i)', "    n += len(s)"
        ),
        id="big-strings-one-at-a-time",
    ),
    pytest.param(
        _lines(
            "n = 0",
            "for i in range(100):",
            "    x = [str(j) for j in range(100000)]",
            "    n += len(x)",
        ),
        id="small-objects-one-list-at-a-time",
    ),
    pytest.param(
        _lines(
            "n = 0",
            "for i in range(50):",
            "    x = list(range(i * 10 ** 6, i * 10 ** 6 + 400000))",
            "    n += len(x)",
        ),
        id="int-lists-one-at-a-time",
    ),
    pytest.param(
        _lines(
            'keep = ["y" * 1000 + str(i) for i in range(25000)]',
            "n = 0",
            "for i in range(400):",
            "    d = {j: str(j) for j in range(10000)}",
            "    n += len(d)",
        ),
        id="holding-half-while-churning",
    ),
]


@pytest.mark.parametrize("source", HARMLESS)
def test_programs_holding_little_complete(source: str) -> None:
    report = run_in_child(source)
    assert report["outcome"] == "completed", report


# The host keeps 100 kB per record, ~300 MB in all (more than four limits), so the
# process grows past the limit again and again and each step is judged by a walk,
# which must count exactly what the program holds.
AMID_HOST_GROWTH = [
    pytest.param(_lines("for i in range(1500):", "    x = i"), id="holding-nothing"),
    pytest.param(
        _lines(
            "x = list(range(10 ** 6, 10 ** 6 + 1200000))",  # 1.2M distinct ints, ~45 MB
            "for i in range(1500):",
            "    y = i",
        ),
        id="holding-two-thirds-in-small-objects",
    ),
    pytest.param(
        _lines(
            's = "x" * (20 * 2 ** 20)',
            "ref = [s] * 1000000",  # 20 MiB + 8 MB of pointers, not 20 TB
            "d = {i: s for i in range(100000)}",
            "for i in range(1500):",
            "    y = i",
        ),
        id="shared-values-counted-once",
    ),
    pytest.param(
        _lines(
            "def f(big, n):",
            "    for i in range(n):",
            "        y = i",
            "    return len(big)",
            'result = f("x" * (40 * 2 ** 20), 1500)',
        ),
        id="holding-in-a-live-frame",
    ),
]


@pytest.mark.parametrize("source", AMID_HOST_GROWTH)
def test_host_memory_is_not_the_programs(source: str) -> None:
    report = run_in_child(source, hoard=True)
    assert report["outcome"] == "completed", report


# -- the walk itself ------------------------------------------------------------------

UNLIMITED = 1 << 60
NO_CODE: frozenset[Any] = frozenset()


def held(*roots: object, code: frozenset[Any] = NO_CODE) -> int:
    return held_bytes(list(roots), UNLIMITED, code, None, None)


def _big(n: int = 10**6) -> str:
    return "x" * n + str(time.monotonic_ns())  # distinct, never interned


def test_walk_counts_shared_values_once() -> None:
    s = _big()
    got = held([s] * 1000, (s, s), {1: s, 2: s})
    assert sys.getsizeof(s) < got < sys.getsizeof(s) + 20_000


def test_walk_counts_distinct_values_each() -> None:
    values = [_big(1000) + str(i) for i in range(1000)]
    expected = sys.getsizeof(values) + sum(map(sys.getsizeof, values))
    assert held(values) == expected


def test_walk_follows_bound_methods_iterators_and_views() -> None:
    s = _big()
    d = {1: _big()}
    size = sys.getsizeof(s)
    assert held(s.upper) > size
    assert held(iter([s])) > size
    assert held(reversed(d.items())) > size
    assert held(iter(d.values())) > size
    assert held(enumerate(map(len, [s]))) > size
    assert held(d.keys()) > sys.getsizeof(d[1])


def test_walk_follows_exceptions_to_the_frames_of_program_code() -> None:
    def fails() -> None:
        big = _big()
        assert big
        raise ValueError("boom")

    try:
        fails()
    except ValueError as exc:
        err = exc
    assert held(err, code=frozenset({fails.__code__})) > 10**6
    # Frames of code that is not the program's count their own size only.
    assert held(err) < 10**5


def test_walk_follows_program_closures_and_defaults_only() -> None:
    big = _big()

    def closure() -> int:
        return len(big)

    def default(x: str = big) -> int:
        return len(x)

    code = frozenset({closure.__code__, default.__code__})
    assert held(closure, code=code) > 10**6
    assert held(default, code=code) > 10**6
    assert held(closure) < 10**5  # SPy's own functions: never followed


def test_walk_sees_a_suspended_generators_stack() -> None:
    def gen() -> Any:
        yield from (len(c) for c in [_big()])

    g = (len(c) + j for c in [_big()] for j in range(3))
    next(g)
    assert held(g) > 10**6
    assert held(gen()) < 10**5  # not started: holds nothing yet


def test_walk_of_live_frames_counts_a_captured_local_once() -> None:
    big = _big()

    def inner() -> int:
        return len(big)

    here = sys._getframe()
    code = frozenset({inner.__code__, here.f_code})
    got = held_bytes([inner], UNLIMITED, code, here, here.f_back)
    assert sys.getsizeof(big) < got < sys.getsizeof(big) + 10**5


def test_walk_skips_the_frames_of_the_host_and_what_it_calls() -> None:
    mine = _big()  # a program frame's local: counted
    here = sys._getframe()

    def host_render() -> int:
        buffer = [_big() for _ in range(10)]  # the host's: not the program's
        got = held_bytes([], UNLIMITED, frozenset({here.f_code}), sys._getframe(), here.f_back)
        return got + 0 * len(buffer)

    got = host_render()
    assert sys.getsizeof(mine) < got < 2 * sys.getsizeof(mine)


def test_walk_stops_at_its_budget() -> None:
    values = [[str(i) * 100] for i in range(50000)]
    full = held(values)
    assert 10**6 < held_bytes([values], 10**6, NO_CODE, None, None) < full // 4
