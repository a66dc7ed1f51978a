"""Journal: lazy appends (fence, start) and take_over without a needless re-read."""

from __future__ import annotations

from pathlib import Path

import pytest

from jarvis.journal import Effect, End, FenceMark, Start
from jarvis.journal.journal import Journal
from jarvis.journal.records import kind_of

START = Start("d", "p.spy", {}, [])


class RecordingDurability:
    def __init__(self) -> None:
        self.calls: list[tuple[int, str | None]] = []

    def sync(self, fd: int, new_dir: str | None) -> None:
        self.calls.append((fd, new_dir))


class FakeFence:
    def __init__(self, token: int) -> None:
        self.token = token
        self.checks = 0

    def check(self) -> None:
        self.checks += 1


class CountingReads:
    def __init__(self, journal: Journal, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = journal._read

        def counting() -> list[dict[str, object]]:
            self.count += 1
            return real()

        monkeypatch.setattr(journal, "_read", counting)


def test_lazy_appends_are_not_dirty_and_not_synced(tmp_path: Path) -> None:
    dur = RecordingDurability()
    journal = Journal.open(tmp_path, "exec-1", durability=dur)
    journal.append(START, lazy=True)
    assert journal.dirty is False
    assert dur.calls == []
    journal.sync()  # nothing is waiting for a sync
    assert dur.calls == []
    assert journal.start == START
    journal.close()


def test_unsynced_append_is_dirty_until_sync(tmp_path: Path) -> None:
    dur = RecordingDurability()
    journal = Journal.open(tmp_path, "exec-1", durability=dur)
    journal.append(START, lazy=True)
    journal.append(Effect(0, "now", "r"), sync=False)
    assert journal.dirty is True
    assert dur.calls == []
    journal.sync()
    assert journal.dirty is False
    assert len(dur.calls) == 1
    journal.close()


def test_a_synced_append_makes_everything_before_it_durable(tmp_path: Path) -> None:
    dur = RecordingDurability()
    journal = Journal.open(tmp_path, "exec-1", durability=dur)
    journal.append(START, lazy=True)
    journal.append(Effect(0, "now", "r"), sync=False)
    assert journal.dirty is True
    journal.append(Effect(1, "now", "r"))
    assert journal.dirty is False
    # One sync, for the whole file, with the new journal's directory entry.
    assert dur.calls == [(journal._fh, str(tmp_path))]
    journal.append(End({"event": "completed"}))
    assert dur.calls[1] == (journal._fh, None)  # the directory only once
    journal.close()
    again = Journal.open(tmp_path, "exec-1")
    assert [kind_of(r) for r in again.records] == ["start", "effect", "effect", "end"]


def test_lazy_with_sync_true_is_still_lazy(tmp_path: Path) -> None:
    dur = RecordingDurability()
    journal = Journal.open(tmp_path, "exec-1", durability=dur)
    journal.append(START, sync=True, lazy=True)
    assert dur.calls == []
    assert journal.dirty is False
    journal.close()


def test_take_over_without_a_fence_does_nothing(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path, "exec-1")
    journal.take_over()
    assert journal.records == []
    assert not journal.path.exists()


def test_take_over_of_a_new_journal_marks_the_fence_lazily_without_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dur = RecordingDurability()
    fence = FakeFence(token=3)
    journal = Journal.open(tmp_path, "exec-1", fence=fence, durability=dur)
    reads = CountingReads(journal, monkeypatch)
    journal.take_over()
    assert journal.records == [FenceMark(k=3)]
    assert reads.count == 0
    assert fence.checks == 1
    assert journal.dirty is False
    assert dur.calls == []
    journal.close()
    assert Journal.open(tmp_path, "exec-1").records == [FenceMark(k=3)]


def test_take_over_of_an_untouched_journal_does_not_reread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = Journal.open(tmp_path, "exec-1", fence=FakeFence(token=1))
    old.append(START)
    old.append(Effect(0, "now", "r"))
    old.close()
    fence = FakeFence(token=2)
    journal = Journal.open(tmp_path, "exec-1", fence=fence)
    reads = CountingReads(journal, monkeypatch)
    journal.take_over()
    assert reads.count == 0
    assert journal.records == [
        START._replace(k=1),
        Effect(0, "now", "r", k=1),
        FenceMark(k=2),
    ]
    journal.close()


def test_take_over_rereads_when_another_writer_appended_since_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = Journal.open(tmp_path, "exec-1", fence=FakeFence(token=1))
    old.append(START)
    journal = Journal.open(tmp_path, "exec-1", fence=FakeFence(token=2))
    assert journal.records == [START._replace(k=1)]
    old.append(Effect(0, "now", "r"))  # the previous owner, still running
    reads = CountingReads(journal, monkeypatch)
    journal.take_over()
    assert reads.count == 1
    assert journal.records == [
        START._replace(k=1),
        Effect(0, "now", "r", k=1),
        FenceMark(k=2),
    ]
    # What the old owner writes after the mark is not part of the history.
    old.append(Effect(1, "now", "r"))
    old.close()
    journal.append(Effect(1, "now", "r", "new"))
    journal.close()
    assert Journal.open(tmp_path, "exec-1").effects == [
        Effect(0, "now", "r", k=1),
        Effect(1, "now", "r", "new", k=2),
    ]


def test_appends_after_a_reread_are_tracked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = Journal.open(tmp_path, "exec-1")
    old.append(START)
    journal = Journal.open(tmp_path, "exec-1", fence=FakeFence(token=5))
    old.append(Effect(0, "now", "r"))
    old.close()
    journal.take_over()  # re-reads
    journal.append(Effect(1, "now", "r"))
    reads = CountingReads(journal, monkeypatch)
    journal.take_over()  # nobody wrote since: no second re-read
    assert reads.count == 0
    assert [kind_of(r) for r in journal.records] == ["start", "effect", "fence", "effect", "fence"]
    journal.close()


def test_the_first_fence_mark_of_a_new_journal_carries_the_start_command(tmp_path: Path) -> None:
    class Fence:
        token = 3

        def check(self) -> None:
            pass

    first = Journal.open(tmp_path, "cmd", fence=Fence())
    first.take_over({"execution_id": "cmd", "program": {"source": "result = 1"}})
    first.close()
    again = Journal.open(tmp_path, "cmd", fence=Fence())
    again.take_over({"execution_id": "cmd", "program": {"source": "other"}})  # not a new journal
    again.close()
    journal = Journal.open(tmp_path, "cmd")
    assert journal.command == {"execution_id": "cmd", "program": {"source": "result = 1"}}
    assert [(r.command is not None) for r in journal.records]  # type: ignore[union-attr] == [True, False]
