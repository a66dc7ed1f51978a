"""The metric wiring without services: each layer moves exactly its metrics, on the default
registry (jarvis.telemetry.metrics). Values are read before and after: the registry is the
process's, shared with whatever else this test process ran."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from jarvis.artifacts import LocalArtifactStore
from jarvis.bdk import Book, BookContext, NotFound, RetryPolicy, Unavailable
from jarvis.books import BookRegistry
from jarvis.contract import StartCommand
from jarvis.contract.messages import CONTRACT_VERSION
from jarvis.contract.parse import parse_control
from jarvis.errors import ControlMessageError
from jarvis.execution import ListSink, LogPolicy, RunConfig, run_execution
from jarvis.journal import Effect, Journal
from jarvis.journal.durability import FsyncEach, GroupCommit
from jarvis.telemetry import metrics
from jarvis.worker.health import Metrics
from jarvis.worker.hooks import HookList, WorkerHooks


def value(name: str, **labels: str) -> float:
    return metrics.sample(name, labels)


class Delta:
    """Samples read at construction; ``moved()`` gives how much each one moved since."""

    def __init__(self, *samples: tuple[str, dict[str, str]]) -> None:
        self.samples = samples
        self.before = [value(n, **lb) for n, lb in samples]

    def moved(self) -> list[float]:
        return [value(n, **lb) - b for (n, lb), b in zip(self.samples, self.before, strict=True)]


def test_build_info_names_version_contract_and_python() -> None:
    import platform

    import jarvis

    assert int(metrics.CONTRACT_VERSION) == CONTRACT_VERSION
    assert (
        value(
            "jarvis_build_info",
            version=jarvis.__version__,
            contract_version=str(CONTRACT_VERSION),
            python=platform.python_version(),
        )
        == 1
    )
    names = set(metrics.names())
    # The default registry's collectors come with it.
    assert {"process_cpu_seconds", "python_info", "python_gc_objects_collected"} <= names


def test_bounded_labels_keep_identifiers_and_cap_the_rest() -> None:
    assert metrics.bounded("t_ident", None) == ""
    assert metrics.bounded("t_ident", "ZeroDivisionError") == "ZeroDivisionError"
    assert metrics.bounded("t_ident", "no spaces allowed") == "other"
    assert metrics.bounded("t_ident", "x" * 65) == "other"
    for i in range(metrics.MAX_LABEL_VALUES):
        metrics.bounded("t_cap", f"v{i}")
    assert metrics.bounded("t_cap", "v0") == "v0"  # kept
    assert metrics.bounded("t_cap", "one_too_many") == "other"


@pytest.mark.parametrize(
    ("value_", "key", "reason"),
    [
        (b"\xff\xfe", b"k", "not_utf8"),
        (b"{not json", b"k", "invalid_json"),
        (b"", b"k", "empty"),
        (b"[1]", b"k", "not_an_object"),
        (b'{"version": 9, "type": "start"}', b"k", "unsupported_version"),
        (b'{"version": 1, "type": "go"}', b"k", "unknown_command"),
        (b'{"version": 1, "type": "stop", "execution_id": "e1"}', None, "no_key"),
        (b'{"version": 1, "type": "stop", "execution_id": "e1"}', b"e2", "key_mismatch"),
        (b'{"version": 1, "type": "start", "execution_id": "e1"}', b"e1", "invalid_command"),
    ],
)
def test_dead_letter_reasons_are_classes_not_free_text(
    value_: bytes, key: bytes | None, reason: str
) -> None:
    with pytest.raises(ControlMessageError) as caught:
        parse_control(value_, key)
    assert metrics.dead_letter_reason(caught.value.reason) == reason


def test_worker_hooks_count_outcomes_with_error_types_and_queue_wait() -> None:
    hook = Metrics()
    hooks = HookList([hook])
    d = Delta(
        ("jarvis_executions_total", {"outcome": "failed", "error_type": "ZeroDivisionError"}),
        ("jarvis_executions_total", {"outcome": "completed", "error_type": ""}),
        ("jarvis_execution_duration_seconds_count", {"outcome": "failed"}),
        ("jarvis_execution_duration_seconds_sum", {"outcome": "failed"}),
        ("jarvis_execution_queue_wait_duration_seconds_count", {}),
        ("jarvis_executions_accepted_total", {}),
        ("jarvis_dead_letters_total", {"reason": "no_key"}),
        ("jarvis_executions_handed_off_total", {}),
    )
    hooks.accepted("a")
    hooks.accepted("b")
    hooks.started("a")
    hooks.started("a")  # a second attempt's started event: waited once
    hooks.outcome("a", "failed", "ZeroDivisionError", 1.5)
    hooks.finished("b", "completed", 0.25)  # a caller of the old hook: no error type
    hooks.dead_lettered("message has no key: key control messages by execution id ('x')")
    hooks.handed_off("c")
    assert d.moved() == [1, 1, 1, 1.5, 1, 2, 1, 1]
    assert hook._admitted == {}  # nothing left behind once each has an outcome
    hooks.load(3, 8)
    hooks.rebalanced(4)
    assert value("jarvis_executions_in_flight") == 3
    assert value("jarvis_executions_capacity") == 8
    assert value("jarvis_partitions_assigned") == 4


def test_a_hook_that_only_knows_finished_still_hears_outcomes() -> None:
    heard: list[tuple[str, str, float]] = []

    class Old(WorkerHooks):
        def finished(self, execution_id: str, event: str, duration_s: float) -> None:
            heard.append((execution_id, event, duration_s))

    HookList([Old()]).outcome("e", "failed", "TypeError", 2.0)
    assert heard == [("e", "failed", 2.0)]


def test_consumer_lag_from_librdkafka_statistics() -> None:
    lag = metrics.ConsumerLag()
    stats = {
        "topics": {
            "t.spy_control": {
                "partitions": {
                    "0": {"desired": True, "hi_offset": 10, "consumer_lag": 3},
                    # Nothing committed yet: lag from the low watermark.
                    "1": {
                        "desired": True,
                        "hi_offset": 7,
                        "lo_offset": 2,
                        "consumer_lag": -1,
                        "committed_offset": -1001,
                    },
                    "2": {"desired": False, "hi_offset": 50, "consumer_lag": 50},  # not ours
                    "-1": {"desired": False, "hi_offset": -1, "consumer_lag": -1},
                }
            }
        }
    }
    lag.update(orjson.dumps(stats))
    assert lag.lag == {("t.spy_control", 0): 3, ("t.spy_control", 1): 5}
    (family, updated) = list(lag.collect())
    assert [(s.labels, s.value) for s in family.samples] == [
        ({"topic": "t.spy_control", "partition": "0"}, 3),
        ({"topic": "t.spy_control", "partition": "1"}, 5),
    ]
    assert updated.samples[0].value > 0
    lag.forget([("t.spy_control", 0)])
    assert lag.lag == {("t.spy_control", 1): 5}


def test_the_worker_consumer_reports_statistics_only_when_asked() -> None:
    from jarvis.settings import Settings
    from jarvis.worker.loop import consumer_config

    on = consumer_config(Settings(_env_file=None, metrics_lag_interval_s=2.5))  # type: ignore[call-arg]
    assert on["statistics.interval.ms"] == 2500 and on["stats_cb"] == metrics.LAG.update
    off = consumer_config(Settings(_env_file=None, metrics_lag_interval_s=0))  # type: ignore[call-arg]
    assert "statistics.interval.ms" not in off and "stats_cb" not in off


def _flaky_registry() -> BookRegistry:
    book = Book("mflaky", description="fails its first attempt")

    @book.procedure(retry=RetryPolicy(max_attempts=3, base_s=0.0, cap_s=0.0))
    def once(ctx: BookContext[Any], x: int) -> int:
        if ctx.attempt == 1:
            raise Unavailable("first attempt fails")
        return x + 1

    @book.procedure()
    def missing(ctx: BookContext[Any], key: str) -> int:
        raise NotFound(f"no {key}")

    registry = BookRegistry()
    registry.register(book)
    return registry


def test_book_calls_and_attempts_by_outcome_and_error_type() -> None:
    registry = _flaky_registry()
    d = Delta(
        (
            "jarvis_book_call_duration_seconds_count",
            {"book": "mflaky", "procedure": "once", "error_type": ""},
        ),
        (
            "jarvis_book_attempt_duration_seconds_count",
            {
                "book": "mflaky",
                "procedure": "once",
                "outcome": "retry",
                "error_type": "Unavailable",
            },
        ),
        (
            "jarvis_book_attempt_duration_seconds_count",
            {"book": "mflaky", "procedure": "once", "outcome": "ok", "error_type": ""},
        ),
        (
            "jarvis_book_call_duration_seconds_count",
            {"book": "mflaky", "procedure": "missing", "error_type": "BookError"},
        ),
        (
            "jarvis_book_attempt_duration_seconds_count",
            {
                "book": "mflaky",
                "procedure": "missing",
                "outcome": "error",
                "error_type": "NotFound",
            },
        ),
    )
    kw: dict[str, Any] = {"execution_id": "e", "idempotency_key": "e:0", "sleep": lambda _s: None}
    assert registry.call("mflaky", "once", [1], {}, **kw) == 2
    with pytest.raises(Exception, match="NotFound"):
        registry.call("mflaky", "missing", ["k"], {}, **kw)
    # A procedure the Book does not have is no label: the program chose its name.
    with pytest.raises(Exception, match="has no procedure"):
        registry.call("mflaky", "made_up_name", [], {}, **kw)
    assert d.moved() == [1, 1, 1, 1, 1]
    assert (
        value(
            "jarvis_book_call_duration_seconds_count",
            book="mflaky",
            procedure="made_up_name",
            error_type="AttributeError",
        )
        == 0
    )


def test_journal_appends_and_fsyncs(tmp_path: Path) -> None:
    d = Delta(
        ("jarvis_journal_append_duration_seconds_count", {}),
        ("jarvis_journal_fsync_duration_seconds_count", {"operation": "fsync"}),
    )
    journal = Journal.open(tmp_path, "e1", durability=FsyncEach())
    journal.append(Effect(0, "now", "r", 1))
    journal.append(Effect(1, "now", "r", 2), sync=False)
    journal.sync()
    journal.close()
    assert d.moved() == [2, 2]  # two appends; the first one's fsync, then sync()'s


def test_group_commit_rounds_and_the_barrier(tmp_path: Path) -> None:
    group = GroupCommit()
    d = Delta(
        ("jarvis_journal_fsync_duration_seconds_count", {"operation": "group_commit"}),
        ("jarvis_journal_fsync_duration_seconds_count", {"operation": "syncfs"}),
        ("jarvis_journal_fsync_duration_seconds_count", {"operation": "barrier"}),
    )
    journal = Journal.open(tmp_path, "e1", durability=group)
    journal.append(Effect(0, "now", "r", 1))
    journal.close()
    group.barrier(str(tmp_path))
    # One caller's wait and the barrier's: each led its own round (nobody else was waiting).
    assert d.moved() == [1, 2, 1]


def _run(tmp_path: Path, source: str, eid: str, **config: Any) -> Any:
    command = StartCommand.model_validate({"execution_id": eid, "program": {"source": source}})
    cfg = RunConfig(
        journal_root=tmp_path / "j",
        worker_id="t",
        artifacts=LocalArtifactStore(tmp_path / "a"),
        **config,
    )
    return run_execution(command, source, cfg, ListSink())


def measure(fn: Callable[[], Any], *samples: tuple[str, dict[str, str]]) -> tuple[Any, list[float]]:
    d = Delta(*samples)
    out = fn()
    return out, d.moved()


LOGS = (
    ("jarvis_log_records_total", {}),
    ("jarvis_log_records_dropped_total", {"reason": "budget"}),
    ("jarvis_replayed_effects_total", {}),
    ("jarvis_executions_resumed_total", {}),
)


def test_log_records_produced_and_dropped_by_budget(tmp_path: Path) -> None:
    # Level full: 14 records unlimited (assignments, branches, the print). Against a budget
    # of 4: 4 records, the budget notice, the print (an effect kind, always kept): 9 dropped.
    src = "i = 0\nwhile i < 5:\n    i += 1\nprint('done')\nresult = i\n"
    whole, moved = measure(lambda: _run(tmp_path, src, "unlimited"), *LOGS)
    assert whole.event.log_records == 14 and moved == [14, 0, 0, 0]
    cut, moved = measure(
        lambda: _run(tmp_path, src, "budget", log_policy=LogPolicy(max_records=4)), *LOGS
    )
    assert cut.event.event == "completed" and cut.event.log_records == 6
    assert moved == [6, 14 - (6 - 1), 0, 0]


def test_a_resume_replays_its_effects(tmp_path: Path) -> None:
    src = "a = now()\nb = random()\nresult = [a, b]\n"
    _run(tmp_path, src, "again")
    journal = Journal.open(tmp_path / "j", "again")
    lines = journal.path.read_bytes().splitlines(keepends=True)
    journal.path.write_bytes(b"".join(lines[:-1]))  # drop the end: the next start resumes
    outcome, moved = measure(lambda: _run(tmp_path, src, "again"), *LOGS)
    assert outcome.event.event == "completed"
    assert moved == [outcome.event.log_records, 0, 2, 1]


def test_sandbox_starts_and_recycles(tmp_path: Path) -> None:
    from jarvis.sandbox import SandboxPool

    d = Delta(
        ("jarvis_sandbox_starts_total", {}),
        ("jarvis_sandbox_recycles_total", {"reason": "crashed"}),
        ("jarvis_sandbox_crashes_total", {}),
    )
    pool = SandboxPool(1, warm=False)
    try:
        sandbox = pool.acquire(5)
        assert sandbox is not None
        pool.release(sandbox, reusable=False, reason="crashed")
        assert pool.stats.forked >= 1
        forked = pool.stats.forked
    finally:
        pool.close()
    moved = d.moved()
    assert moved[0] == forked and moved[1] == 1 and moved[2] == 0
