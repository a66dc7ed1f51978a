"""The end record's sync: in place with fsync-per-journal, deferred to the worker's barrier
before offset commits with group commit (``Durability.defers_end``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jarvis.artifacts import LocalArtifactStore
from jarvis.books import BookRegistry
from jarvis.contract import StartCommand
from jarvis.execution import ListSink, RunConfig, run_execution
from jarvis.journal import Journal
from jarvis.journal.durability import FsyncEach, GroupCommit


class Recording:
    def __init__(self, defers_end: bool) -> None:
        self.defers_end = defers_end
        self.syncs: list[tuple[int, str | None]] = []
        self.barriers: list[str] = []

    def sync(self, fd: int, new_dir: str | None) -> None:
        self.syncs.append((fd, new_dir))

    def barrier(self, root: str) -> None:
        self.barriers.append(root)


def run(tmp: Path, durability: Recording, source: str = "result = 6 * 7\n") -> str:
    command = StartCommand.model_validate({"execution_id": "e-1", "program": {"source": source}})
    config = RunConfig(
        journal_root=tmp / "journals",
        worker_id="t",
        artifacts=LocalArtifactStore(tmp / "artifacts"),
        books=BookRegistry(),
        procedures={},
        durability=durability,
    )
    return run_execution(command, source, config, ListSink()).event.event


@pytest.mark.parametrize("defers", [True, False])
def test_the_end_is_synced_in_place_unless_the_durability_defers_it(
    tmp_path: Path, defers: bool
) -> None:
    durability = Recording(defers_end=defers)
    assert run(tmp_path, durability) == "completed"
    journal = Journal.open(tmp_path / "journals", "e-1")
    assert journal.end is not None and journal.end.event["event"] == "completed"
    # A program without effects has nothing else to sync: the end is the only candidate.
    assert len(durability.syncs) == (0 if defers else 1)
    assert durability.barriers == []  # the barrier is the worker's, before it commits


def test_a_deferred_end_is_durable_after_the_barrier(tmp_path: Path) -> None:
    group = GroupCommit()
    (tmp_path / "journals").mkdir()
    rounds = group.stats.rounds
    group.barrier(str(tmp_path / "journals"))
    assert group.stats.rounds == rounds + 1
    assert group.defers_end is True and FsyncEach.defers_end is False
    FsyncEach().barrier(str(tmp_path))  # nothing to do: its ends were synced in place


def test_a_barrier_on_a_missing_directory_raises(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        GroupCommit().barrier(str(tmp_path / "nowhere"))
