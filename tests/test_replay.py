"""Replay: a program with Book calls, killed at every effect boundary in turn, resumes from
its journal to the same result and log sequence, and never calls a journaled Book again.

A "kill" is a BaseException raised from the host's fault hook: like SIGKILL it unwinds
everything without writing anything more (no end record, no cleanup in SPy code).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jarvis.artifacts import LocalArtifactStore
from jarvis.bdk import Book, BookContext
from jarvis.books import BookRegistry
from jarvis.contract import StartCommand
from jarvis.execution import ListSink, RunConfig, run_execution
from jarvis.journal import Journal

PROGRAM = """
total = 0
for i in range(3):
    n = counter.hit(i)
    total += n
stamp = now()
coin = random()
tag = uuid()
report = artifact("total.txt", f"{total}")
try:
    counter.fail("boom")
except BookError as e:
    failure = str(e)
last = counter.hit(total)
result = {"total": total, "last": last, "stamp": stamp, "coin": coin, "tag": tag, "failure": failure}
"""
EFFECTS = 3 + 3 + 1 + 1 + 1  # hits, now/random/uuid, artifact, fail, last hit
PHASES = ("effect_started", "effect_returned", "effect_journaled")


class Crash(BaseException):
    pass


def make_registry(calls: list[tuple[str, str, Any]]) -> BookRegistry:
    book = Book("counter")

    @book.procedure(timeout_s=5)
    def hit(ctx: BookContext[Any], n: int) -> int:
        calls.append(("hit", ctx.idempotency_key, n))
        return n * 10

    @book.procedure(timeout_s=5)
    def fail(ctx: BookContext[Any], why: str) -> int:
        from jarvis.bdk import InvalidInput

        calls.append(("fail", ctx.idempotency_key, why))
        raise InvalidInput(why)

    registry = BookRegistry()
    registry.register(book)
    return registry


def run(tmp: Path, registry: BookRegistry, fault: Any = None) -> tuple[Any, ListSink]:
    command = StartCommand.model_validate(
        {"execution_id": "replay", "program": {"source": PROGRAM}, "books": ["counter"]}
    )
    sink = ListSink()
    config = RunConfig(
        journal_root=tmp / "journals",
        worker_id="t",
        artifacts=LocalArtifactStore(tmp / "artifacts"),
        books=registry,
        procedures=registry.procedures(["counter"]),
        fault=fault,
    )
    return run_execution(command, PROGRAM, config, sink), sink


def strip(records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(r["seq"], r["kind"], r["line"], r["source"], repr(r["value"])) for r in records]


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("boundary", range(EFFECTS))
def test_kill_at_every_effect_boundary_then_resume(
    tmp_path: Path, boundary: int, phase: str
) -> None:
    calls: list[tuple[str, str, Any]] = []
    registry = make_registry(calls)

    def fault(where: str, seq: int) -> None:
        if (where, seq) == (phase, boundary):
            raise Crash()

    with pytest.raises(Crash):
        run(tmp_path, registry, fault)
    journal = Journal.open(tmp_path / "journals", "replay")
    assert journal.end is None
    journaled_before = len(journal.effects)
    calls_before = list(calls)

    outcome, sink = run(tmp_path, registry)
    event = outcome.event
    assert event.event == "completed", event.error
    result = event.result
    assert isinstance(result, dict)
    assert result["total"] == 0 + 10 + 20 and result["last"] == 300
    assert result["failure"].startswith("counter.fail failed after 1 attempt")
    # The resumed run's values are the journaled ones.
    effects = Journal.open(tmp_path / "journals", "replay").effects
    assert len(effects) == EFFECTS
    assert [e.seq for e in effects] == list(range(EFFECTS))
    assert result["stamp"] == effects[3].result and result["tag"] == effects[5].result

    # No journaled Book call ran again; a call in flight at the kill ran again with the same key.
    resumed_calls = calls[len(calls_before) :]
    keys_before = {key for _, key, _ in calls_before}
    journaled_keys = {f"replay:{e.seq}" for e in effects[:journaled_before]}
    for _, key, _ in resumed_calls:
        assert key not in journaled_keys, f"journaled call {key} ran again"
    repeats = [key for _, key, _ in resumed_calls if key in keys_before]
    if phase == "effect_returned" and effects[boundary].name == "book":
        assert repeats == [f"replay:{boundary}"]
    else:
        assert repeats == []

    # Same log sequence as an uninterrupted run (values compared where deterministic).
    clean_calls: list[tuple[str, str, Any]] = []
    clean, clean_sink = run(tmp_path / "clean", make_registry(clean_calls))
    assert [r[:4] for r in strip(sink.records)] == [r[:4] for r in strip(clean_sink.records)]
    assert [r["seq"] for r in sink.records] == list(range(len(sink.records)))
    assert event.log_records == clean.event.log_records
