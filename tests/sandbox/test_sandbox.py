"""Executions in sandbox processes: reuse, crashes, OS caps, deadlines, stops, host crossings.

Real processes (the zygote and its sandboxes), a real journal on disk, no services. Every
test asserts an outcome (event type, error type, crash cause, bytes, journal records),
never a duration: timings only decide *whether* a deadline fired, and the deadlines
here are either far away or the only thing that can end the run.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jarvis.artifacts import LocalArtifactStore
from jarvis.bdk import Book, BookContext
from jarvis.books import BookRegistry
from jarvis.contract import StartCommand
from jarvis.execution import ListSink, RunConfig, run_execution
from jarvis.execution.runner import Outcome
from jarvis.journal import Crash, Journal
from jarvis.sandbox import SandboxPolicy, SandboxPool
from jarvis.sandbox.child import Sandbox
from jarvis.spy import Limits, compile_program
from jarvis.spy._names import SPY_DIR
from jarvis.spy.compiler.pipeline import CODE_FILENAME
from tests.helpers import wait_for

from .helpers import Killer, sandboxes_of_zygote, state

MiB = 1024 * 1024
LOOP = "i = 0\nwhile True:\n    i += 1\n"


@pytest.fixture
def pool() -> Iterator[SandboxPool]:
    p = SandboxPool(1)
    assert p.wait_warm(60)
    yield p
    p.close()


def book_registry() -> BookRegistry:
    book = Book("echo")

    @book.procedure(timeout_s=5)
    def say(ctx: BookContext[Any], value: Any = None) -> Any:
        return value

    registry = BookRegistry()
    registry.register(book)
    return registry


def run(
    tmp: Path,
    pool: SandboxPool,
    source: str,
    eid: str = "x",
    inputs: dict[str, Any] | None = None,
    books: list[str] | None = None,
    on_host: Any = None,
    **config: Any,
) -> tuple[Outcome, ListSink]:
    filename = config.pop("filename", None)
    command = StartCommand.model_validate(
        {
            "execution_id": eid,
            "program": {"source": source, **({"filename": filename} if filename else {})},
            "inputs": inputs or {},
            "books": books or [],
            "options": {"log_level": config.pop("log_level", "full")},
        }
    )
    registry = book_registry()
    cfg = RunConfig(
        journal_root=tmp / "journals",
        worker_id="t",
        artifacts=LocalArtifactStore(tmp / "artifacts"),
        books=registry,
        procedures=registry.procedures(books or []),
        sandboxes=pool,
        **config,
    )
    sink = ListSink()
    return run_execution(command, source, cfg, sink, on_host=on_host), sink


def zygote_sandboxes(pool: SandboxPool) -> list[int]:
    return sandboxes_of_zygote(pool.zygote.proc.pid)


# --- reuse ---------------------------------------------------------------------------------


def test_a_sandbox_serves_runs_one_after_another_without_state_leaking(
    tmp_path: Path, pool: SandboxPool
) -> None:
    pids = set()
    for i in range(3):
        out, _ = run(
            tmp_path, pool, "x = inputs['i']\nresult = x * 2", eid=f"r{i}", inputs={"i": i}
        )
        assert out.event.event == "completed" and out.event.result == i * 2
        pids |= set(zygote_sandboxes(pool))
    assert len(pids) == 1, "one warm sandbox served all three runs"
    # Globals of an earlier run are not there in the next one.
    out, _ = run(tmp_path, pool, "result = x", eid="leak")
    assert out.event.event == "failed" and out.event.error is not None
    assert out.event.error.type == "NameError"
    assert pool.stats.forked == 1


def test_one_compiled_program_serves_starts_under_different_file_names() -> None:
    # Starts often name a file per execution ("<id>.spy"): the sandbox's cache of compiled
    # programs is keyed by source, so those runs do not compile again (bench-e2e: the compile
    # was 40 % of a sandbox's CPU per trivial execution); each copy keeps its own name.
    sandbox = Sandbox.__new__(Sandbox)
    sandbox.programs = {}
    spec = {"source": "result = 1 // inputs['n']", "log_level": "full", "max_program_bytes": 2**16}
    a = sandbox._compile({**spec, "filename": "a.spy"}, Limits())
    b = sandbox._compile({**spec, "filename": "b.spy"}, Limits())
    again = sandbox._compile({**spec, "filename": "a.spy"}, Limits())
    assert len(sandbox.programs) == 1
    assert a.code is b.code is again.code
    assert (a.filename, b.filename, again.filename) == ("a.spy", "b.spy", "a.spy")
    assert a.code.co_filename == CODE_FILENAME


def test_an_error_names_its_own_start_s_file_under_a_shared_compiled_program(
    tmp_path: Path, pool: SandboxPool
) -> None:
    source = "x = inputs['n']\nresult = 10 // x"
    names = []
    for i, filename in enumerate(["first.spy", "second.spy", "first.spy"]):
        out, _ = run(tmp_path, pool, source, eid=f"f{i}", inputs={"n": 0}, filename=filename)
        assert out.event.event == "failed" and out.event.error is not None
        assert out.event.error.type == "ZeroDivisionError"
        names.append([n for n in ("first.spy", "second.spy") if n in out.event.error.traceback])
    assert names == [["first.spy"], ["second.spy"], ["first.spy"]]
    assert pool.stats.forked == 1


def test_a_program_s_file_name_cannot_pass_for_spy_s_own_files() -> None:
    # Runtime checks tell the program's frames from SPy's by co_filename (memory walks,
    # range iteration): a start naming its file after one of SPy's must not change that.
    program = compile_program("result = 1", filename=SPY_DIR + "runtime/memory.py")
    assert program.filename == SPY_DIR + "runtime/memory.py"
    assert all(code.co_filename == CODE_FILENAME for code in program.code_objects)


def test_the_program_never_runs_in_the_calling_process(tmp_path: Path, pool: SandboxPool) -> None:
    # A run that takes a sandbox's whole address space must leave this process unharmed.
    out, _ = run(tmp_path, pool, "result = 1", eid="where")
    assert out.event.event == "completed"
    (sandbox,) = zygote_sandboxes(pool)
    assert sandbox != os.getpid() and pool.zygote.proc.pid != os.getpid()


# --- crashes --------------------------------------------------------------------------------


def test_a_sandbox_killed_by_a_signal_fails_that_execution_after_k_attempts(
    tmp_path: Path, pool: SandboxPool
) -> None:
    with Killer(lambda: zygote_sandboxes(pool), signal.SIGSEGV, times=2) as killer:
        out, _ = run(tmp_path, pool, LOOP, eid="segv", log_level="effects", max_sandbox_crashes=2)
    assert len(killer.signalled) == 2
    ev = out.event
    assert ev.event == "failed" and ev.error is not None
    assert ev.error.type == "SandboxCrashed"
    assert "SIGSEGV" in ev.error.message and "attempt 2 of 2" in ev.error.message
    crashes = Journal.read(tmp_path / "journals", "segv").crashes
    assert [c.attempt for c in crashes] == [1, 2] and all(c.cause == "SIGSEGV" for c in crashes)
    # The pool replaced the dead sandboxes and serves the next execution.
    out, _ = run(tmp_path, pool, "result = 'fine'", eid="after")
    assert out.event.event == "completed" and out.event.result == "fine"


def test_one_crash_then_a_clean_attempt_resumes_by_replay(
    tmp_path: Path, pool: SandboxPool
) -> None:
    # The first attempt dies mid-run; the second replays the journaled effects (same values).
    src = "a = uuid()\ni = 0\nwhile i < 3_000_000:\n    i += 1\nresult = [a, uuid()]"
    with Killer(lambda: zygote_sandboxes(pool), signal.SIGKILL, times=1, busy_s=0.05) as killer:
        out, _ = run(tmp_path, pool, src, eid="once", log_level="effects", max_sandbox_crashes=3)
    assert len(killer.signalled) == 1
    assert out.event.event == "completed", out.event.error
    journal = Journal.open(tmp_path / "journals", "once")
    first = journal.effects[0].result
    assert out.event.result == [first, journal.effects[1].result]
    assert len(journal.crashes) == 1


def test_an_execution_that_crashed_k_times_fails_for_good_without_running(
    tmp_path: Path, pool: SandboxPool
) -> None:
    journal = Journal.open(tmp_path / "journals", "poison")
    for n in (1, 2):
        journal.append(Crash("SIGSEGV", n, None))
    journal.close()
    handed = pool.stats.handed_out
    out, _ = run(tmp_path, pool, LOOP, eid="poison", max_sandbox_crashes=2)
    assert out.event.event == "failed" and out.event.error is not None
    assert out.event.error.type == "SandboxCrashed"
    assert pool.stats.handed_out == handed, "no sandbox was even handed out"
    assert Journal.open(tmp_path / "journals", "poison").end is not None


def test_the_os_memory_cap_ends_the_run_as_a_sandbox_crash(
    tmp_path: Path, pool: SandboxPool
) -> None:
    cap = 96 * MiB
    src = "x = []\nwhile True:\n    x.append([len(x)] * 1000)\n"
    out, _ = run(
        tmp_path,
        pool,
        src,
        eid="oom",
        log_level="effects",
        max_sandbox_crashes=1,
        # The precise meter would say LimitExceeded at 4 GiB: the OS cap (96 MiB) comes first.
        limits=Limits(max_memory_bytes=4096 * MiB),
        sandbox_policy=SandboxPolicy(memory_cap_bytes=cap),
    )
    ev = out.event
    assert ev.event == "failed" and ev.error is not None and ev.error.type == "SandboxCrashed"
    assert "memory cap" in ev.error.message
    (crash,) = Journal.read(tmp_path / "journals", "oom").crashes
    peak = crash.peak_rss
    # Peak resident memory, as the OS reported it when the sandbox was reaped: under the cap
    # (plus what the sandbox had mapped before the run, a few tens of MiB).
    assert peak is not None and 0 < peak < cap + 128 * MiB


# --- deadlines and stops -------------------------------------------------------------------


def _stop_sandbox_when_running(pool: SandboxPool) -> threading.Thread:
    """SIGSTOP the sandbox once it is busy: from then on it answers nothing, like a program
    stuck in one long C-level operation."""

    def freeze() -> None:
        with Killer(lambda: zygote_sandboxes(pool), signal.SIGSTOP, times=1, busy_s=0.05) as k:
            k.thread.join(60)

    t = threading.Thread(target=freeze, daemon=True)
    t.start()
    return t


def test_a_sandbox_that_stops_answering_is_killed_at_its_wall_deadline(
    tmp_path: Path, pool: SandboxPool
) -> None:
    _stop_sandbox_when_running(pool)
    out, _ = run(
        tmp_path,
        pool,
        LOOP,
        eid="wall",
        log_level="effects",
        max_sandbox_crashes=1,
        limits=Limits(max_wall_s=1.0),
        sandbox_policy=SandboxPolicy(wall_grace_s=0.5),
    )
    ev = out.event
    assert ev.event == "failed" and ev.error is not None and ev.error.type == "SandboxCrashed"
    assert "wall deadline" in ev.error.message


def test_a_stop_reaches_a_sandbox_that_cannot_answer(tmp_path: Path, pool: SandboxPool) -> None:
    freezer = _stop_sandbox_when_running(pool)
    hosts: list[Any] = []

    def stop_once_frozen() -> None:
        freezer.join(60)
        hosts[0].stop_requested = "cancel"

    threading.Thread(target=stop_once_frozen, daemon=True).start()
    out, _ = run(
        tmp_path,
        pool,
        LOOP,
        eid="stopfrozen",
        log_level="effects",
        on_host=hosts.append,
        limits=Limits(max_wall_s=600),
    )  # only the stop can end this run
    assert out.event.event == "stopped" and out.event.stop_mode == "cancel"
    assert all(state(p) != "T" for p in zygote_sandboxes(pool)), "the frozen sandbox is gone"


def test_a_stop_of_a_responsive_sandbox_keeps_the_sandbox(
    tmp_path: Path, pool: SandboxPool
) -> None:
    hosts: list[Any] = []

    def stop_soon() -> None:
        Killer(lambda: zygote_sandboxes(pool), 0, times=1, busy_s=0.05)._run()  # wait until busy
        hosts[0].stop_requested = "cancel"

    threading.Thread(target=stop_soon, daemon=True).start()
    before = set(zygote_sandboxes(pool))
    out, _ = run(tmp_path, pool, LOOP, eid="stopok", log_level="effects", on_host=hosts.append)
    assert out.event.event == "stopped" and out.event.stop_mode == "cancel"
    assert set(zygote_sandboxes(pool)) == before, "honoured in time: the sandbox is reused"


# --- host crossings: a value that cannot cross is a SPy error at the program's line -------------


@pytest.mark.parametrize(
    ("source", "error_type", "needle"),
    [
        ("r = echo.say({1: 'a'})", "TypeError", "dict keys must be str"),
        ("r = echo.say(value=[2**70])", "ValueError", "64-bit"),
        ("r = echo.say(float('nan'))", "ValueError", "finite"),
        ("r = randint(0, 2**100)", "ValueError", "64-bit"),
        (
            "a = []\nfor i in range(150):\n    a = [a]\nr = echo.say(a)",
            "ValueError",
            "nested more than",
        ),
    ],
    ids=["int-keys", "big-int", "nan", "randint-big", "deep"],
)
def test_book_and_effect_arguments_that_cannot_cross(
    tmp_path: Path, pool: SandboxPool, source: str, error_type: str, needle: str
) -> None:
    out, _ = run(tmp_path, pool, source, eid="cross", books=["echo"])
    ev = out.event
    assert ev.event == "failed" and ev.error is not None, ev
    assert ev.error.type == error_type and needle in ev.error.message
    assert ev.error.line is not None and ev.error.line >= 1  # at the program's line


def test_arguments_that_cannot_cross_can_be_caught(tmp_path: Path, pool: SandboxPool) -> None:
    src = "try:\n    echo.say({1: 2})\n    r = 'sent'\nexcept TypeError as e:\n    r = 'refused'\nresult = r"
    out, _ = run(tmp_path, pool, src, eid="catch", books=["echo"])
    assert out.event.event == "completed" and out.event.result == "refused"


DAG = "a = [1]\nfor i in range(40):\n    a = [a, a]\n"


@pytest.mark.parametrize(
    ("tail", "outcome"),
    [
        ("result = a", "failed"),  # the result: more than max_result_bytes as JSON
        ("b = a\nresult = 1", "completed"),  # a log record: rendered as "too large", run goes on
        ("r = echo.say(a)\nresult = 1", "failed"),  # a Book argument: refused
        ("print(a)", "failed"),  # print, str(), f-strings, artifacts: the str() budget
        ("s = str(a)", "failed"),
        ("s = f'{a!r}'", "failed"),
        ("artifact('x', str(a))", "failed"),
        ("b = [a] * 3\nresult = a == a", "completed"),
    ],
    ids=["result", "log-value", "book-arg", "print", "str", "fstring", "artifact", "compare"],
)
def test_shared_substructure_is_measured_not_expanded(
    tmp_path: Path, pool: SandboxPool, tail: str, outcome: str
) -> None:
    out, sink = run(
        tmp_path,
        pool,
        DAG + tail,
        eid="dag",
        books=["echo"],
        limits=Limits(max_stored_log_bytes=MiB, max_result_bytes=MiB),
    )
    ev = out.event
    assert ev.event == outcome, ev.error
    if outcome == "failed":
        assert ev.error is not None and ev.error.type in ("LimitExceeded", "ValueError")
        assert "bytes" in ev.error.message
    elif tail.startswith("b = a\n"):
        big = next(r for r in sink.records if r["source"] == "b = a")
        assert big["truncated"] is True and big["value_ref"] is None
        assert "too large to log" in big["value"]


def test_a_deeply_nested_result_renders_instead_of_crashing_the_host(
    tmp_path: Path, pool: SandboxPool
) -> None:
    out, _ = run(
        tmp_path,
        pool,
        "a = []\nfor i in range(5000):\n    a = [a]\nresult = a",
        eid="deep",
        log_level="effects",
    )
    assert out.event.event == "completed"
    depth, value = 0, out.event.result
    while isinstance(value, list) and value:
        value, depth = value[0], depth + 1
    assert value == "..." and depth == 100  # cut off at the render depth


def test_a_large_result_is_stored_and_referenced(tmp_path: Path, pool: SandboxPool) -> None:
    out, _ = run(
        tmp_path,
        pool,
        "result = 'x' * 100_000",
        eid="bigres",
        max_inline_result_bytes=1000,
        log_level="effects",
    )
    ev = out.event
    assert ev.event == "completed" and ev.result is None and ev.result_ref is not None
    assert ev.result_bytes == 100_002
    stored = tmp_path / "artifacts" / "bigres" / "artifacts" / "result.json"
    assert stored.read_bytes() == b'"' + b"x" * 100_000 + b'"'


def test_a_result_past_max_result_bytes_is_a_limit(tmp_path: Path, pool: SandboxPool) -> None:
    out, _ = run(
        tmp_path,
        pool,
        "result = 'x' * 100_000",
        eid="toobig",
        log_level="effects",
        limits=Limits(max_result_bytes=50_000),
    )
    ev = out.event
    assert ev.event == "failed" and ev.error is not None and ev.error.type == "LimitExceeded"
    assert "max_result_bytes" in ev.error.message


def test_stored_log_values_stop_at_their_budget(tmp_path: Path, pool: SandboxPool) -> None:
    src = "for i in range(6):\n    v = [i] * 20_000\nresult = 1"
    out, sink = run(
        tmp_path, pool, src, eid="logbudget", limits=Limits(max_stored_log_bytes=300_000)
    )
    assert out.event.event == "completed"
    big = [r for r in sink.records if r["source"] == "v = [i] * 20_000"]
    assert len(big) == 6 and all(r.get("truncated") for r in big)
    stored = [r for r in big if r.get("value_ref")]
    assert 1 <= len(stored) < 6, "stored until the budget was spent, then only truncated"


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        ("for i in range(5):\n    artifact(f'a{i}', 'x')", "max_artifacts"),
        ("for i in range(5):\n    artifact(f'a{i}', 'x' * 1000)", "max_artifact_bytes"),
        ("sleep(30)", "max_wall_s"),
        ("artifact('n' * 300, 'x')", "longer than"),
    ],
    ids=["count", "bytes", "sleep-past-wall", "name-too-long"],
)
def test_effect_limits(tmp_path: Path, pool: SandboxPool, source: str, needle: str) -> None:
    out, _ = run(
        tmp_path,
        pool,
        source,
        eid="effl",
        log_level="effects",
        limits=Limits(max_artifacts=3, max_artifact_bytes=2500, max_wall_s=10),
    )
    ev = out.event
    assert ev.event == "failed" and ev.error is not None
    assert needle in ev.error.message, ev.error.message
    assert ev.error.type in ("LimitExceeded", "ValueError")


def test_a_host_bug_is_an_internal_error_with_a_terminal_event(
    tmp_path: Path, pool: SandboxPool
) -> None:
    def fault(where: str, seq: int) -> None:
        if where == "effect_started":
            raise RuntimeError("a bug in the host")

    out, _ = run(tmp_path, pool, "x = now()\nresult = x", eid="bug", fault=fault)
    ev = out.event
    assert ev.event == "failed" and ev.error is not None and ev.error.type == "InternalError"
    assert "a bug in the host" not in (
        ev.error.message + (ev.error.traceback or "")
    )  # stays in our log
    assert Journal.open(tmp_path / "journals", "bug").end is not None  # terminal: offset can move


def test_inputs_that_cannot_cross_reject_the_start(tmp_path: Path, pool: SandboxPool) -> None:
    out, _ = run(tmp_path, pool, "result = inputs", eid="badin", inputs={"n": 2**80})
    assert out.event.event == "rejected" and out.event.error is not None
    assert "64-bit" in out.event.error.message


def test_a_huge_error_message_is_clipped_in_the_event(tmp_path: Path, pool: SandboxPool) -> None:
    out, _ = run(tmp_path, pool, "raise ValueError('x' * 90_000)", eid="bigerr")
    ev = out.event
    assert ev.event == "failed" and ev.error is not None
    assert len(ev.error.message) < 10_000 and "more characters" in ev.error.message
    assert len(ev.model_dump_json()) < 100_000


def test_policy_is_passed_to_the_sandbox(tmp_path: Path, pool: SandboxPool) -> None:
    policy = dataclasses.replace(SandboxPolicy(), max_runs=1)
    first = set(zygote_sandboxes(pool))
    out, _ = run(tmp_path, pool, "result = 1", eid="once1", sandbox_policy=policy)
    assert out.event.event == "completed"
    assert pool.wait_warm(30)
    # Retired: killed, and gone once the zygote reaps it (which may come after the refill).
    wait_for(
        lambda: set(zygote_sandboxes(pool)).isdisjoint(first),
        30,
        "the sandbox retired after max_runs=1",
    )
    assert len(zygote_sandboxes(pool)) == 1  # and replaced


# --- found by scripts/attack-census ------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "event", "check"),
    [
        ("r = artifact('s.txt', 'bad \\udc80')\nresult = 1", "completed", None),
        ("raise ValueError('bad \\ud800')", "failed", "ValueError"),
        (DAG + "e = ValueError(a)\nresult = 1", "completed", None),
        ("r = echo.say('y' * 60_000_000)\nresult = len(r)", "completed", 60_000_000),
        ("r = artifact('\\udc80', 'x')", "failed", "ValueError"),
    ],
    ids=[
        "artifact-surrogate",
        "error-surrogate",
        "dag-exception-logged",
        "book-arg-60MB",
        "name-surrogate",
    ],
)
def test_census_findings(
    tmp_path: Path, pool: SandboxPool, source: str, event: str, check: Any
) -> None:
    out, _ = run(tmp_path, pool, source, eid="census", books=["echo"], max_sandbox_crashes=1)
    ev = out.event
    assert ev.event == event, ev.error
    if event == "failed":
        assert ev.error is not None and ev.error.type == check
    elif check is not None:
        assert ev.result == check


def test_errors_and_log_records_count_columns_alike(tmp_path: Path, pool: SandboxPool) -> None:
    # One convention in the contract: 0-based character columns; rendered text shows col + 1.
    source = "x = 1\nprint(x); é = 1 // 0\n"
    line = source.splitlines()[1]
    out, sink = run(tmp_path, pool, source, eid="cols")
    error = out.event.error
    printed = next(r for r in sink.records if r["kind"] == "print")
    assert (printed["line"], printed["col"], printed["end_col"]) == (2, 0, len("print(x)"))
    assert error is not None and (error.line, error.col) == (2, line.index("1 // 0"))
    assert error.frames[-1].col == error.col
    assert f"line 2, col {error.col + 1}," in error.traceback
