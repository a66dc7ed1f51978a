"""An execution's objects are freed by reference counting, never left to the cyclic GC.

Measured in the worker: each finished execution left ~54 objects in reference cycles (the
host's table of bound effect methods; the run's lease callback and fence holding the run),
so every few thousand executions a full collection of 150-400 ms stopped the whole
process: the p99 of publish -> started. These tests run with the collector off and check
that the objects die as soon as the last reference goes.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jarvis.artifacts import LocalArtifactStore
from jarvis.execution.host import ExecutionHost
from jarvis.execution.runner import Outcome
from jarvis.execution.sinks import ListSink
from jarvis.journal import Journal
from jarvis.worker import executions as executions_module
from jarvis.worker.executions import Executions
from tests.worker.test_offset_moves_executions import (  # the fixtures too
    TOPIC,
    FakeLeases,
    completed,
    finished,
    lease,
    make,
    publisher,
    start,
    stops,
)

__all__ = ["finished", "make", "publisher", "stops"]  # fixtures this module uses


@pytest.fixture
def no_gc() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_a_host_is_freed_without_the_cyclic_collector(tmp_path: Path, no_gc: None) -> None:
    journal = Journal.open(tmp_path, "e-1")
    host = ExecutionHost("e-1", journal, ListSink(), LocalArtifactStore(tmp_path / "a"))
    assert host.effect("now", ()) is not None  # a pure effect, through the module's table
    gone = weakref.ref(host)
    del host
    assert gone() is None


def test_a_finished_run_lets_go_of_its_host_and_lease_callbacks(
    make: Callable[..., Executions], monkeypatch: pytest.MonkeyPatch
) -> None:
    attached: list[Any] = []

    class Host:
        stop_requested = None

    def fake_run(command: Any, source: str, config: Any, sink: Any, on_host: Any = None) -> Outcome:
        host = Host()
        on_host(host)
        attached.append(host)
        return Outcome(completed(command.execution_id))

    monkeypatch.setattr(executions_module, "run_execution", fake_run)
    leases = FakeLeases(lambda eid: lease(eid))
    ex = make(leases)
    run = ex.new(start("e-2"), TOPIC, 0, 1)
    ex._execute(run)
    assert len(attached) == 1 and run.host is None  # detached once its program is over
    assert leases.released and all(not held.on_lost for held in leases.released)
    assert ex.running_ids() == []
