"""How journal appends become durable: one fsync per journal, or group commit across journals.

Every execution has its own journal file, so a plain ``fsync`` serves one execution. With
many executions in flight, ``GroupCommit`` makes one call serve all of them: a caller that
needs durability joins the next *round*; the first caller of a round (the leader) makes
the whole checkpoint filesystem durable with one ``syncfs(2)``, which covers every file and
directory entry written before the round started, and wakes everyone who joined it. While
it runs, newcomers gather for the round after (the classic database group commit, here
across files). ``syncfs`` reports write-back errors since Linux 5.8, and on NFS/EFS it
commits the mount's dirty pages like ``fsync`` does.

``syncfs`` is Linux-only; elsewhere (or with ``JARVIS_JOURNAL_SYNC=fsync``) each journal
fsyncs its own file, and the directory of a new journal once.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Literal, Protocol

from jarvis.telemetry import metrics

SyncMode = Literal["group", "fsync"]


class Durability(Protocol):
    """Makes what was written to ``fd`` (and, if ``new_dir`` is given, that directory's new
    entry) durable before returning; raises ``OSError`` when the volume cannot.

    ``defers_end``: an execution's ``end`` record need not be synced when it is written;
    the worker calls ``barrier(root)`` before it commits offsets, which makes every journal
    under ``root`` durable at once. Until then a crash of the *machine* (not of the process:
    the page cache survives that) can lose an end whose offset is not committed yet, and the
    redelivered start re-runs the execution from its journal, whose effects were synced when
    they were made: the same outcome, announced again, as after a crash just after the end.
    """

    defers_end: bool

    def sync(self, fd: int, new_dir: str | None) -> None: ...

    def barrier(self, root: str) -> None: ...


class FsyncEach:
    """One fsync per call (plus the directory of a journal created since the last one)."""

    defers_end = False  # without syncfs there is no one call for every journal

    def sync(self, fd: int, new_dir: str | None) -> None:
        started = time.perf_counter()
        os.fsync(fd)
        if new_dir is not None:
            fsync_dir(new_dir)
        metrics.journal_sync("fsync", time.perf_counter() - started)

    def barrier(self, root: str) -> None:
        """Nothing to do: every end was synced when it was written."""


def fsync_dir(path: str) -> None:
    """Make a directory's entries durable (some NFS servers refuse: nothing to do then)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _syncfs() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        func = libc.syncfs
    except (OSError, AttributeError):
        return None
    func.argtypes = [ctypes.c_int]
    func.restype = ctypes.c_int
    return func


@dataclass
class GroupStats:
    requests: int = 0  # sync() calls
    rounds: int = 0  # syncfs calls made for them


class GroupCommit:
    """Group commit over one filesystem with ``syncfs`` (see the module docstring)."""

    def __init__(self) -> None:
        func = _syncfs()
        if func is None:
            raise OSError("syncfs(2) is not available on this platform")
        self._syncfs = func
        self._cond = threading.Condition()
        self._started = 0  # rounds begun
        self._done = 0  # rounds finished
        self._running = False
        self._errors: dict[int, OSError] = {}  # round -> its failure (kept briefly)
        self.stats = GroupStats()

    defers_end = True

    def barrier(self, root: str) -> None:
        """Make everything written under ``root`` so far durable (a round of its own)."""
        started = time.perf_counter()
        fd = os.open(root, os.O_RDONLY)
        try:
            self._join(fd)
        finally:
            os.close(fd)
            metrics.journal_sync("barrier", time.perf_counter() - started)

    def sync(self, fd: int, new_dir: str | None) -> None:
        started = time.perf_counter()
        try:
            self._join(fd)
        finally:
            metrics.journal_sync("group_commit", time.perf_counter() - started)

    def _join(self, fd: int) -> None:
        """Join the next round (leading it when none runs); raise its failure."""
        with self._cond:
            self.stats.requests += 1
            # A round already running may have started before our write: we need the next.
            target = self._started + 1
            while self._done < target:
                if self._running:
                    self._cond.wait()
                    continue
                self._running = True
                self._started += 1
                current = self._started
                self.stats.rounds += 1
                self._cond.release()
                error: OSError | None = None
                began = time.perf_counter()
                try:
                    if self._syncfs(fd) != 0:
                        err = ctypes.get_errno()
                        error = OSError(err, os.strerror(err))
                finally:
                    metrics.journal_sync("syncfs", time.perf_counter() - began)
                    self._cond.acquire()
                    self._running = False
                    self._done = current
                    if error is not None:
                        self._errors[current] = error
                    for old in [r for r in self._errors if r < current - 64]:
                        del self._errors[old]
                    self._cond.notify_all()
            failed = self._errors.get(target)
        if failed is not None:
            raise OSError(failed.errno, failed.strerror)


def durability(mode: SyncMode) -> Durability:
    """The durability strategy for ``JARVIS_JOURNAL_SYNC`` (group falls back to fsync)."""
    if mode == "group":
        try:
            return GroupCommit()
        except OSError:
            pass
    return FsyncEach()


DIRECT: Durability = FsyncEach()
"""The default for journals opened without one: ``jarvis run``, tests, tools."""
