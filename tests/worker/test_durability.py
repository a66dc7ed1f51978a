"""Journal durability strategies: FsyncEach, and GroupCommit's rounds under many threads."""

from __future__ import annotations

import ctypes
import errno
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from jarvis.journal import durability as durability_module
from jarvis.journal.durability import FsyncEach, GroupCommit, durability, fsync_dir
from tests.helpers import wait_for

HANG_S = 20.0  # only a hang detector: nothing asserts on time

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="syncfs(2) is Linux-only"
)


@pytest.fixture
def open_file(tmp_path: Path) -> Iterator[Callable[[str], int]]:
    fds: list[int] = []

    def make(name: str) -> int:
        fd = os.open(tmp_path / name, os.O_CREAT | os.O_WRONLY | os.O_APPEND)
        fds.append(fd)
        return fd

    yield make
    for fd in fds:
        os.close(fd)


def run_threads(target: Callable[[int], None], count: int) -> list[threading.Thread]:
    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    return threads


def join_all(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(HANG_S)
    assert not any(t.is_alive() for t in threads), "a sync() never returned"


class FakeSyncfs:
    """Stands in for libc's syncfs: counts rounds, can hold the first one until released,
    fail chosen calls with EIO, and checks that rounds never overlap."""

    def __init__(
        self, gate_first: bool = False, fail: frozenset[int] = frozenset(), pause_s: float = 0.0
    ) -> None:
        self.gate = threading.Event()
        if not gate_first:
            self.gate.set()
        self.fail = fail
        self.pause_s = pause_s
        self.started = 0
        self.finished = 0
        self.overlaps = 0
        self._lock = threading.Lock()
        self._active = 0

    def __call__(self, fd: int) -> int:
        with self._lock:
            self.started += 1
            number = self.started
            self._active += 1
            self.overlaps += self._active > 1
        try:
            if number == 1:
                assert self.gate.wait(HANG_S)
            if self.pause_s:
                time.sleep(self.pause_s)  # makes contention likely; no assertion depends on it
            if number in self.fail:
                ctypes.set_errno(errno.EIO)
                return -1
            return 0
        finally:
            with self._lock:
                self._active -= 1
                self.finished += 1


# --- FsyncEach ---


def test_fsync_each_fsyncs_the_file_and_a_new_directory(
    tmp_path: Path, open_file: Callable[[str], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    fd = open_file("journal.log")
    os.write(fd, b"record\n")
    synced: list[int] = []
    real_fsync = os.fsync

    def recording_fsync(target: int) -> None:
        synced.append(target)
        real_fsync(target)

    monkeypatch.setattr(durability_module.os, "fsync", recording_fsync)
    FsyncEach().sync(fd, None)
    assert synced == [fd]
    FsyncEach().sync(fd, str(tmp_path))
    assert len(synced) == 3
    assert synced[1] == fd
    assert synced[2] != fd  # the directory's own descriptor


def test_fsync_each_raises_when_the_file_cannot_be_synced(tmp_path: Path) -> None:
    fd = os.open(tmp_path / "f", os.O_CREAT | os.O_WRONLY)
    os.close(fd)
    with pytest.raises(OSError) as err:
        FsyncEach().sync(fd, None)
    assert err.value.errno == errno.EBADF


def test_fsync_dir_of_a_missing_directory_is_quiet(tmp_path: Path) -> None:
    assert fsync_dir(str(tmp_path / "gone")) is None
    assert fsync_dir(str(tmp_path)) is None


# --- choosing a strategy ---


def test_fsync_mode_gives_fsync_each() -> None:
    assert isinstance(durability("fsync"), FsyncEach)


@linux_only
def test_group_mode_gives_group_commit_on_linux() -> None:
    chosen = durability("group")
    assert isinstance(chosen, GroupCommit)
    assert chosen.stats.requests == 0
    assert chosen.stats.rounds == 0


def test_group_mode_falls_back_to_fsync_without_syncfs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(durability_module, "_syncfs", lambda: None)
    with pytest.raises(OSError, match="syncfs"):
        GroupCommit()
    assert isinstance(durability("group"), FsyncEach)


# --- GroupCommit ---


@linux_only
def test_group_commit_with_real_syncfs_serves_every_caller(open_file: Callable[[str], int]) -> None:
    group = GroupCommit()
    fds = [open_file(f"journal-{i}.log") for i in range(16)]
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for n in range(50):
                os.write(fds[i], b"record %d\n" % n)
                group.sync(fds[i], None)
        except BaseException as exc:
            errors.append(exc)

    join_all(run_threads(work, 16))
    assert errors == []
    assert group.stats.requests == 16 * 50
    assert 1 <= group.stats.rounds <= group.stats.requests


@linux_only
def test_group_commit_batches_callers_that_wait_for_a_round(
    open_file: Callable[[str], int],
) -> None:
    group = GroupCommit()
    fake = FakeSyncfs(gate_first=True, pause_s=0.002)
    group._syncfs = fake
    fds = [open_file(f"journal-{i}.log") for i in range(16)]
    errors: list[BaseException] = []
    uncovered: list[tuple[int, int]] = []

    def work(i: int) -> None:
        try:
            for n in range(50):
                os.write(fds[i], b"record %d\n" % n)
                begun = fake.started  # rounds begun before this write (at most)
                group.sync(fds[i], None)
                if fake.finished < begun + 1:  # no round begun after the write has finished
                    uncovered.append((begun, fake.finished))
        except BaseException as exc:
            errors.append(exc)

    first = run_threads(work, 1)
    wait_for(lambda: fake.started == 1, timeout_s=HANG_S, what="the first round to begin")
    others = run_threads(lambda i: work(i + 1), 15)
    # Every thread's first sync is now waiting: thread 0 in round 1, the 15 others for round 2.
    wait_for(lambda: group.stats.requests == 16, timeout_s=HANG_S, what="16 waiting callers")
    assert fake.finished == 0
    fake.gate.set()
    join_all(first + others)
    assert errors == []
    assert uncovered == []
    assert fake.overlaps == 0
    assert group.stats.requests == 16 * 50
    assert group.stats.rounds == fake.started == fake.finished
    # The 15 first calls that waited during round 1 shared round 2.
    assert group.stats.rounds <= group.stats.requests - 14


@linux_only
def test_a_caller_arriving_during_a_round_waits_for_the_next(
    open_file: Callable[[str], int],
) -> None:
    group = GroupCommit()
    fake = FakeSyncfs(gate_first=True)
    group._syncfs = fake
    fd = open_file("journal.log")
    seen: list[int] = []
    first = run_threads(lambda i: group.sync(fd, None), 1)
    wait_for(lambda: fake.started == 1, timeout_s=HANG_S, what="the first round to begin")
    second = run_threads(lambda i: (group.sync(fd, None), seen.append(fake.finished)), 1)
    wait_for(lambda: group.stats.requests == 2, timeout_s=HANG_S, what="the second caller")
    fake.gate.set()
    join_all(first + second)
    # Round 1 may have begun before the second caller's write: it returned after round 2.
    assert seen == [2]
    assert group.stats.rounds == 2


@linux_only
def test_a_failed_round_raises_in_each_of_its_waiters_and_later_rounds_succeed(
    open_file: Callable[[str], int],
) -> None:
    group = GroupCommit()
    fake = FakeSyncfs(gate_first=True, fail=frozenset({2}))
    group._syncfs = fake
    fd = open_file("journal.log")
    outcomes: dict[int, BaseException | None] = {}

    def work(i: int) -> None:
        try:
            group.sync(fd, None)
            outcomes[i] = None
        except BaseException as exc:
            outcomes[i] = exc

    first = run_threads(work, 1)
    wait_for(lambda: fake.started == 1, timeout_s=HANG_S, what="the first round to begin")
    waiters = run_threads(lambda i: work(i + 1), 5)
    wait_for(
        lambda: group.stats.requests == 6, timeout_s=HANG_S, what="5 callers waiting for round 2"
    )
    fake.gate.set()
    join_all(first + waiters)
    assert outcomes[0] is None  # round 1 succeeded
    failed = [outcomes[i] for i in range(1, 6)]
    assert all(isinstance(exc, OSError) for exc in failed), failed
    assert {exc.errno for exc in failed if isinstance(exc, OSError)} == {errno.EIO}
    assert {exc.strerror for exc in failed if isinstance(exc, OSError)} == {os.strerror(errno.EIO)}
    assert group.stats.rounds == 2
    group.sync(fd, None)  # round 3: fine again
    group.sync(fd, None)
    assert group.stats.rounds == 4
    assert fake.finished == 4


@linux_only
def test_a_failed_round_alone(open_file: Callable[[str], int]) -> None:
    group = GroupCommit()
    group._syncfs = FakeSyncfs(fail=frozenset({1}))
    fd = open_file("journal.log")
    with pytest.raises(OSError) as err:
        group.sync(fd, None)
    assert err.value.errno == errno.EIO
    group.sync(fd, None)
    assert group.stats.requests == 2
    assert group.stats.rounds == 2
