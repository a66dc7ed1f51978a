"""The execution host: journaled effects and replay, record budget, value truncation."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import orjson
import pytest

from jarvis.artifacts import LocalArtifactStore
from jarvis.contract import LogRecord, StartCommand
from jarvis.execution import ListSink, LogPolicy, RunConfig, run_execution
from jarvis.execution.host import ExecutionHost
from jarvis.journal import Journal


def _run(tmp_path: Path, source: str, eid: str = "e1", **config: object) -> tuple[object, ListSink]:
    command = StartCommand.model_validate(
        {
            "execution_id": eid,
            "program": {"source": source},
            "options": {"log_level": config.pop("log_level", "full")},
        }
    )
    sink = ListSink()
    cfg = RunConfig(
        journal_root=tmp_path / "j",
        worker_id="t",
        artifacts=LocalArtifactStore(tmp_path / "a"),
        **config,
    )  # type: ignore[arg-type]
    outcome = run_execution(command, source, cfg, sink)
    return outcome, sink


def test_records_validate_against_the_contract(tmp_path: Path) -> None:
    outcome, sink = _run(tmp_path, "x = [1, 2]\ny = {'a': x}\nprint(y)\nresult = len(x)\n")
    assert outcome.event.event == "completed" and outcome.event.result == 2
    records = [LogRecord.model_validate(r) for r in sink.records]
    assert [r.seq for r in records] == list(range(len(records)))
    assert [r.kind for r in records] == ["assign", "assign", "print", "assign"]
    assert records[1].value == {"a": [1, 2]} and records[1].type == "dict"


def test_effects_are_journaled_and_replayed_not_rerun(tmp_path: Path) -> None:
    src = "a = now()\nb = random()\nc = uuid()\nd = randint(1, 6)\nresult = [a, b, c, d]\n"
    first, _ = _run(tmp_path, src, eid="fx")
    journal = Journal.open(tmp_path / "j", "fx")
    assert [e.name for e in journal.effects] == ["now", "random", "uuid", "randint"]
    # Drop the end record: the next start resumes by replay and must see the same values.
    lines = journal.path.read_bytes().splitlines(keepends=True)
    journal.path.write_bytes(b"".join(lines[:-1]))
    second, sink = _run(tmp_path, src, eid="fx")
    assert second.event.event == "completed"
    assert second.event.result == first.event.result
    assert [r["value"] for r in sink.records][:4] == first.event.result


def test_sleep_is_a_durable_timer(tmp_path: Path) -> None:
    outcome, _ = _run(tmp_path, "sleep(0.05)\nresult = 1\n", eid="nap")
    assert outcome.event.event == "completed"
    (rec,) = Journal.open(tmp_path / "j", "nap").effects
    assert rec.name == "sleep" and rec.meta["until"] > 0


def test_changed_program_is_non_determinism(tmp_path: Path) -> None:
    _run(tmp_path, "a = now()\nresult = a\n", eid="nd")
    journal = Journal.open(tmp_path / "j", "nd")
    lines = journal.path.read_bytes().splitlines(keepends=True)
    journal.path.write_bytes(b"".join(lines[:-1]))  # resumable
    outcome, _ = _run(tmp_path, "a = now()\nb = 2\nresult = a\n", eid="nd")
    assert outcome.event.event == "failed"
    assert outcome.event.error is not None and outcome.event.error.type == "NonDeterminismError"


def test_record_budget_says_so_once_and_continues_at_effects(tmp_path: Path) -> None:
    src = "for i in range(10):\n    x = i\n    print(i)\nresult = 1\n"
    outcome, sink = _run(tmp_path, src, log_policy=LogPolicy(max_records=5), log_level="statements")
    kinds = [r["kind"] for r in sink.records]
    assert kinds[:5] == ["assign", "print", "assign", "print", "assign"]
    assert kinds[5] == "budget" and kinds.count("budget") == 1
    assert set(kinds[6:]) == {"print"} and len(kinds[6:]) == 8  # the prints of i = 2..9
    assert outcome.event.log_records == len(kinds)


def test_oversized_values_are_truncated_and_stored_whole(tmp_path: Path) -> None:
    _, sink = _run(
        tmp_path,
        "big = 'x' * 5000\nxs = list(range(3000))\nresult = 1\n",
        eid="big",
        log_policy=LogPolicy(max_value_bytes=1000),
    )
    big, xs = sink.records[0], sink.records[1]
    for rec in (big, xs):
        assert rec["truncated"] is True
        assert len(rec["value"].encode()) <= 1000
        stored = Path(rec["value_ref"].removeprefix("file://")).read_bytes()
        assert orjson.loads(stored) in ("x" * 5000, list(range(3000)))
        LogRecord.model_validate(rec)


@pytest.mark.parametrize(
    "level,kinds",
    [
        ("full", {"assign", "print", "branch"}),
        ("statements", {"assign", "print"}),
        ("effects", {"print"}),
    ],
)
def test_log_levels(tmp_path: Path, level: str, kinds: set[str]) -> None:
    src = "x = 1\nif x > 0:\n    print('pos')\nelse:\n    print('neg')\nresult = x\n"
    outcome, sink = _run(tmp_path, src, log_level=level)
    assert outcome.event.event == "completed"
    assert {r["kind"] for r in sink.records} == kinds


def test_group_commit_shares_fsyncs_between_effects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jarvis.journal.journal as journal_module

    calls = []
    real_fsync = journal_module.os.fsync
    monkeypatch.setattr(
        journal_module.os, "fsync", lambda fd: (calls.append(fd), real_fsync(fd))[1]
    )
    src = "t = 0\nfor i in range(100):\n    t += now() + random()\nprint(t > 0)\nresult = 1\n"
    outcome, sink = _run(tmp_path, src, eid="gc1", log_level="effects")
    assert outcome.event.event == "completed"
    effects = Journal.open(tmp_path / "j", "gc1").effects
    assert len(effects) == 200
    # start + one before the print record + end (+ the directory entry): not one per effect
    assert len(calls) <= 5, len(calls)
    assert [r["kind"] for r in sink.records] == ["print"]


def test_a_host_is_freed_without_the_cyclic_collector(tmp_path: Path) -> None:
    """Measured in the worker: the host's table of bound effect methods made every host a
    reference cycle (with all an execution holds), left for the cyclic collector, whose full
    collections of 150-400 ms every few thousand executions were the worker's p99. With the
    collector off, a host dies with its last reference."""
    journal = Journal.open(tmp_path, "e-1")
    gc.collect()
    gc.disable()
    try:
        host = ExecutionHost("e-1", journal, ListSink(), LocalArtifactStore(tmp_path / "a"))
        assert host.effect("now", ()) is not None  # a pure effect, through the module's table
        gone = weakref.ref(host)
        del host
        assert gone() is None
    finally:
        gc.enable()
