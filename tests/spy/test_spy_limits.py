"""Each limit ends a run with LimitExceeded: quickly, exactly where documented, cheaply."""

from __future__ import annotations

import dataclasses
import resource

import pytest

from jarvis.errors import RunLimitExceeded, SpyRuntimeError
from jarvis.spy import Limits, compile_program, run_program

from ._host import RecordingHost


def run(source: str, limits: Limits, host: RecordingHost | None = None) -> object:
    return run_program(compile_program(source), {}, host or RecordingHost(), limits=limits)


def fail(source: str, limits: Limits, host: RecordingHost | None = None) -> RunLimitExceeded:
    with pytest.raises(RunLimitExceeded) as info:
        run(source, limits, host)
    assert info.value.spy_type == "LimitExceeded"
    assert isinstance(info.value, SpyRuntimeError)
    return info.value


def test_defaults_are_documented_and_validated() -> None:
    limits = Limits()
    assert dataclasses.asdict(limits) == {
        "max_steps": 100_000_000,
        "max_wall_s": 600.0,
        "max_memory_bytes": 256 * 2**20,
        "max_int_bits": 1_000_000,
        "max_recursion": 400,
        "max_output_bytes": 10 * 2**20,
        "max_program_bytes": 256 * 2**10,
        "max_artifacts": 1000,
        "max_artifact_bytes": 2**30,
        "max_stored_log_bytes": 256 * 2**20,
        "max_result_bytes": 64 * 2**20,
    }
    for field in dataclasses.fields(Limits):
        with pytest.raises(ValueError):
            Limits(**{field.name: 0})
    with pytest.raises(dataclasses.FrozenInstanceError):
        limits.max_steps = 1  # type: ignore[misc]


def test_steps_count_loop_iterations_and_calls_exactly() -> None:
    src = "def f():\n    pass\nfor i in range(10):\n    f()\n"  # 10 iterations + 10 calls
    assert run(src, Limits(max_steps=20)) is None
    err = fail(src, Limits(max_steps=19))
    assert "max_steps" in err.message
    assert (err.line, err.frames[-1].function) == (1, "f")  # the 20th step: the 10th call


def test_step_limit_trips_at_the_same_place_every_run() -> None:
    src = "n = 0\nwhile True:\n    n += 1\n    if n % 7 == 0:\n        print(n)\n"
    outputs = set()
    for _ in range(3):
        host = RecordingHost()
        fail(src, Limits(max_steps=50_000), host)
        outputs.add(host.output)
    assert len(outputs) == 1


def test_builtins_consuming_big_ranges_count_steps() -> None:
    err = fail("x = sum(range(10 ** 15))", Limits(max_steps=1_000_000))
    assert "max_steps" in err.message


def test_wall_clock() -> None:
    err = fail("while True:\n    pass\n", Limits(max_wall_s=0.2, max_steps=10**15))
    assert "max_wall_s" in err.message and err.line == 1  # a loop's tick is at its header


def test_recursion_limit_is_exact_and_far_from_pythons() -> None:
    src = "def f(n):\n    return f(n + 1)\nf(0)\n"
    err = fail(src, Limits(max_recursion=50))
    assert "max_recursion" in err.message
    assert len(err.frames) == 1 + 51
    catching = "def f():\n    try:\n        f()\n    except RecursionError:\n        f()\nf()\n"
    assert "max_recursion" in fail(catching, Limits(max_recursion=50)).message


def test_recursion_through_comprehensions_and_lambdas() -> None:
    for src in [
        "def f(n):\n    return [f(n + 1) for _ in range(1)]\nf(0)\n",
        "f = lambda n: f(n + 1)\nf(0)\n",
        "def f(n):\n    return sorted([1], key=lambda v: f(n + 1))\nf(0)\n",
    ]:
        assert "max_recursion" in fail(src, Limits(max_recursion=60)).message


@pytest.mark.parametrize(
    "source",
    [
        "x = 'a' * 10 ** 12",
        "x = [0] * 10 ** 12",
        "x = 10 ** 12 * b'x'",
        "x = 2 ** 10 ** 10",
        "x = 1 << 10 ** 10",
        "x = 7 ** (3 * 10 ** 7)",
        "x = pow(10, 10 ** 9)",
        "x = list(range(10 ** 12))",
        "x = tuple(range(10 ** 12))",
        "x = sorted(range(10 ** 12))",
        "x = [*range(10 ** 12)]",
        "x = 'x'.ljust(10 ** 12)",
        "x = '1'.zfill(10 ** 12)",
        "x = 'a'.center(10 ** 12)",
        "x = '\\t'.expandtabs(10 ** 12)",
        "x = ('ab' * 1000).replace('', 'x' * 10 ** 6)",
        "x = ('x' * 10 ** 5).join(['a'] * 10 ** 5)",
        "x = f'{1:>999999999999}'",
        "w = 10 ** 12\nx = f\"{'a':>{w}}\"",
        "x = '%999999999999d' % 1",
        "x = '%*d' % (10 ** 12, 1)",
        "x = format(1, '>999999999999')",
        "x = bytes(10 ** 12)",
        "x = math.factorial(10 ** 7)",
        "x = math.prod([10 ** 5000] * 1000)",
        "x = json.dumps([[[1]]], indent=10 ** 9)",
        "s = 'ab'\nwhile True:\n    s = s + s",
        "s = 'ab'\nwhile True:\n    s += s",
        "s = 'ab'\nwhile True:\n    s = f'{s}{s}'",
        "s = 'ab'\nwhile True:\n    s = s * 2",
        "x = [0]\nwhile True:\n    x.extend(x)",
        "x = [0]\nwhile True:\n    x += x",
        "x = [0]\nwhile True:\n    x = [*x, *x]",
        "x = 3\nwhile True:\n    x = x * x",
        "x = ['a' * 10 ** 6] * 1000\ny = str(x)",
        "x = sum([[0] * 1000] * 10 ** 6, [])",
    ],
)
def test_memory_guards_refuse_before_allocating(source: str) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    err = fail(source, Limits(max_memory_bytes=64 * 2**20, max_int_bits=1_000_000, max_steps=10**9))
    assert "memory" in err.message or "int too large" in err.message or "pow" in err.message
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 400 * 1024  # never the terabytes asked for (peak RSS, KiB)


def test_growth_over_many_steps_is_measured() -> None:
    err = fail(
        "x = []\nwhile True:\n    x.append([0] * 10000)\n",
        Limits(max_memory_bytes=64 * 2**20, max_steps=10**9),
    )
    assert "holds more than" in err.message


def test_memory_held_by_the_host_is_not_the_programs() -> None:
    class HoardingHost(RecordingHost):
        def emit(self, site: object, value: object) -> None:
            self.records.append(bytes(100_000))  # type: ignore[arg-type]

    host = HoardingHost()
    run("for i in range(1500):\n    x = i\n", Limits(max_memory_bytes=32 * 2**20), host)
    assert len(host.records) == 3001  # ~300 MB held by the host, none by the program


def test_ordinary_programs_fit_small_limits() -> None:
    src = (
        "s = 'a' * 1000\nparts = [s] * 100\nt = ''.join(parts)\nd = {i: str(i) for i in range(1000)}\n"
        "result = [len(t), len(d), 2 ** 100, f'{3.5:>10}', '%5d' % 3]\n"
    )
    assert run(src, Limits(max_memory_bytes=2**20)) == [
        100_000,
        1000,
        2**100,
        "       3.5",
        "    3",
    ]


def test_output_limit_counts_utf8_bytes() -> None:
    assert run("print('é' * 5)", Limits(max_output_bytes=11)) is None  # 10 bytes + newline
    err = fail("print('é' * 6)", Limits(max_output_bytes=11))
    assert "max_output_bytes" in err.message


def test_output_limit_is_checked_before_the_record() -> None:
    host = RecordingHost()
    fail("print('ok')\nprint('x' * 100)\n", Limits(max_output_bytes=50), host)
    assert host.output == "ok\n"


def test_program_size_limit_before_parsing_and_at_run() -> None:
    source = "x = 1\n" * 1000
    with pytest.raises(RunLimitExceeded) as info:
        compile_program(source, max_program_bytes=1000)
    assert "max_program_bytes" in info.value.message
    program = compile_program(source)
    with pytest.raises(RunLimitExceeded):
        run_program(program, {}, RecordingHost(), limits=Limits(max_program_bytes=1000))


def test_int_limit_leaves_everyday_big_ints_alone() -> None:
    assert run("result = [2 ** 4000 > 0, 3 ** 1000 % 7, pow(3, 10 ** 6, 97)]", Limits()) == [
        True,
        3**1000 % 7,
        pow(3, 10**6, 97),
    ]


def test_runs_in_threads_are_isolated() -> None:
    # A worker runs executions on a thread pool: one hitting its limits (memory, steps)
    # must not fail, slow down for long, or be confused with a well-behaved neighbour.
    import threading

    outcomes: dict[str, object] = {}

    def go(name: str, source: str, limits: Limits) -> None:
        try:
            program = compile_program(source, log_level="effects")
            outcomes[name] = run_program(program, {}, RecordingHost(), limits=limits)
        except RunLimitExceeded as err:
            outcomes[name] = err.message.split(":")[0]

    hog = "x = []\nwhile True:\n    x.append([0] * 10000)\n"
    spin = "while True:\n    pass\n"
    good = "t = 0\nfor i in range(300000):\n    t += i\nresult = t\n"
    threads = [
        threading.Thread(target=go, args=("hog", hog, Limits(max_memory_bytes=64 * 2**20))),
        threading.Thread(target=go, args=("spin", spin, Limits(max_steps=2_000_000))),
        threading.Thread(target=go, args=("good", good, Limits(max_memory_bytes=64 * 2**20))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert outcomes == {
        "hog": "memory limit exceeded",
        "spin": "step limit exceeded",
        "good": sum(range(300000)),
    }


@pytest.mark.parametrize(
    "source",
    [
        "t = 0\nfor i in range(10 ** 6):\n    t += 1\nresult = t",
        "result = len([i for i in range(10 ** 6)])",
        "result = len({i: 0 for i in range(10 ** 6)})",
    ],
    ids=["for-loop", "list-comprehension", "dict-comprehension"],
)
def test_a_loop_over_a_big_range_counts_one_step_per_iteration(source: str) -> None:
    """A ``for`` loop or comprehension ticks by itself, so the range must not charge its
    elements again: ``SpyRange.__iter__`` tells it by the caller's ``GET_ITER`` (looked
    up by name: its opcode is 68 on CPython 3.11 and 3.12, 19 on 3.13)."""
    assert run(source, Limits(max_steps=1_100_000)) == 10**6
    # Consumed by a builtin instead, the same range is charged element by element.
    fail("x = list(range(10 ** 6))\ny = list(range(10 ** 6))", Limits(max_steps=1_100_000))
