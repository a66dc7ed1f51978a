"""The append-only execution journal on the checkpoint volume (DESIGN.md §1).

One directory per execution id holding ``journal.log``: one record per line,
``<crc32 as 8 hex digits> <JSON>\\n``. A record is valid only when its line is complete
and its checksum matches, so a write torn by a crash (the last line) is ignored on read;
a bad checksum anywhere *before* the last line is corruption and raises JournalError.

Only plain ``open``/``write``/``fsync`` are used (no mmap, no locks, no renames racing
other pods): the same code is safe on NFS/EFS. Effects are written ahead: appended and
fsynced before the program, or anything outside the pod, sees their result.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from jarvis.errors import JournalError
from jarvis.journal.durability import DIRECT, Durability
from jarvis.journal.records import (
    Crash,
    Effect,
    End,
    FenceMark,
    Record,
    Start,
    decode,
    encode,
    with_token,
)
from jarvis.telemetry import metrics

JOURNAL_FILE = "journal.log"


class Fence(Protocol):
    """The writer's lease: its fencing token, and a check that it still holds the lease.

    A fence may also have ``before_end()``, called before an ``end`` record is appended
    (see ``Journal.append``); it may raise to keep the end from being written.
    """

    @property
    def token(self) -> int: ...

    def check(self) -> None:
        """Raise (``Stopped("handoff")``) when the lease is lost: the pod must stop writing."""


def _drop_fenced(records: list[Record]) -> list[Record]:
    """Ignore records a stale owner appended after a newer owner took over.

    Each writer stamps its records with its lease's fencing token ``k`` (increasing per
    execution). Two pods can briefly both believe they own an execution (a rebalance
    race, a paused VM); whatever the older one wrote after the newer one's first record
    is not part of the execution's history.
    """
    out = []
    highest = -1
    for record in records:
        k = record.k
        if k is not None:
            if k < highest:
                continue
            highest = k
        out.append(record)
    return out


def parse(data: bytes, path: Path) -> tuple[list[Record], int]:
    """Every whole record in a journal file's bytes (stale owners' included), and how many
    bytes they take: less than ``len(data)`` when the last line is torn."""
    lines = data.split(b"\n")
    # The last element is b"" after a complete final line, or a torn fragment.
    complete, tail = lines[:-1], lines[-1]
    records = []
    valid_bytes = 0
    for number, line in enumerate(complete, start=1):
        try:
            record = decode(line)
        except JournalError as exc:
            raise JournalError(f"journal {path} line {number}: {exc}") from None
        if record is None:
            if number == len(complete) and not tail:
                break  # torn last record whose newline made it to disk: ignore it
            raise JournalError(
                f"journal {path} is corrupt at line {number} (checksum mismatch); "
                "the execution cannot be resumed safely"
            )
        records.append(record)
        valid_bytes += len(line) + 1
    return records, valid_bytes


def _read_bytes(path: Path) -> bytes | None:
    try:
        with open(path, "rb", buffering=0) as fh:  # one open, fstat, read(s) and close
            return fh.readall()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise JournalError(
            f"cannot read journal {path}: {exc.strerror or exc}; check the checkpoint volume"
        ) from exc


class _Views:
    """What a journal says, from its records (fenced-off records already dropped)."""

    records: list[Record]

    @property
    def start(self) -> Start | None:
        return next((r for r in self.records if type(r) is Start), None)

    @property
    def effects(self) -> list[Effect]:
        return [r for r in self.records if type(r) is Effect]

    @property
    def crashes(self) -> list[Crash]:
        return [r for r in self.records if type(r) is Crash]

    @property
    def writers(self) -> int:
        """How many owners took the journal over (fence marks)."""
        return sum(1 for r in self.records if type(r) is FenceMark)

    def _first_mark(self) -> FenceMark | None:
        return next((r for r in self.records if type(r) is FenceMark and r.command), None)

    @property
    def command(self) -> dict[str, Any] | None:
        """The start command the first writer marked (``take_over(command)``), if any."""
        mark = self._first_mark()
        return None if mark is None else mark.command

    @property
    def trace(self) -> dict[str, str] | None:
        """The start's W3C trace headers, kept beside its command (``take_over(command, trace)``),
        so an execution resumed from here stays in its orchestrator's trace."""
        mark = self._first_mark()
        return None if mark is None else mark.trace

    @property
    def end(self) -> End | None:
        return next((r for r in reversed(self.records) if type(r) is End), None)

    @property
    def exists(self) -> bool:
        return bool(self.records)


@dataclass(frozen=True)
class History(_Views):
    """A journal as read by ``Journal.read``: nothing repaired, fenced, synced or locked."""

    path: Path
    records: list[Record]  # the execution's history: stale owners' records left out
    lines: list[Record]  # every whole record, in file order (line i+1 is lines[i])
    torn_bytes: int = 0  # a torn last line left as it is (Journal.open drops it)

    def index(self, record: Record) -> int:
        """The 0-based line of ``record`` (one of ``records``) in the file."""
        return next(i for i, r in enumerate(self.lines) if r is record)

    def is_stale(self, index: int) -> bool:
        """Whether line ``index`` is a stale owner's record (ignored)."""
        record = self.lines[index]
        return not any(r is record for r in self.records)


@dataclass
class Journal(_Views):
    """An execution's journal opened for appending: what is on disk, plus appends."""

    execution_id: str
    directory: Path
    records: list[Record] = field(default_factory=list)
    fence: Fence | None = None
    dirty: bool = False
    broken: bool = False  # a write failed: the file may end in a fragment; reopen to go on
    durability: Durability = DIRECT
    _fh: int | None = None  # the file descriptor appends go to
    _new_dir: bool = False  # created by this writer: its entry is durable at the next sync
    _size_at_open: int = 0
    _written: int = 0

    @staticmethod
    def read(root: Path, execution_id: str | None = None) -> History:
        """Read a journal without changing anything: ``root/execution_id/journal.log``, or
        ``root`` itself (a journal's directory or file) without an id. Safe while another
        process appends: a torn last line is ignored, not truncated; a missing journal
        reads as empty."""
        path = root / execution_id if execution_id is not None else root
        if path.is_dir() or execution_id is not None:
            path = path / JOURNAL_FILE
        data = _read_bytes(path)
        if data is None:
            return History(path, [], [])
        records, valid = parse(data, path)
        return History(path, _drop_fenced(records), records, len(data) - valid)

    @classmethod
    def open(
        cls,
        root: Path,
        execution_id: str,
        fence: Fence | None = None,
        durability: Durability = DIRECT,
    ) -> Journal:
        """Open for appending: read, and drop a torn last line so appends start on a clean
        line (only the execution's owner may do this; readers use ``read``)."""
        directory = root / execution_id
        journal = cls(
            execution_id=execution_id, directory=directory, fence=fence, durability=durability
        )
        journal.records = journal._read()
        return journal

    @functools.cached_property
    def path(self) -> Path:
        return self.directory / JOURNAL_FILE

    @property
    def token(self) -> int | None:
        """The fencing token this writer stamps its records with (None: unfenced)."""
        return None if self.fence is None else self.fence.token

    def _read(self) -> list[Record]:
        data = _read_bytes(self.path)
        if data is None:
            self._size_at_open = 0
            return []
        records, valid_bytes = parse(data, self.path)
        if valid_bytes < len(data):
            self._truncate_to(valid_bytes)
        self._size_at_open = valid_bytes
        self._written = 0
        return _drop_fenced(records)

    def _truncate_to(self, size: int) -> None:
        # Drop the torn tail so later appends start on a clean line.
        with open(self.path, "r+b") as fh:
            fh.truncate(size)
            fh.flush()
            os.fsync(fh.fileno())

    # --- writing ---

    def append(self, record: Record, sync: bool = True, lazy: bool = False) -> None:
        """Append one record; with ``sync`` it is durable (fsync) when this returns.

        Without ``sync`` the record is written but may be lost in a crash until ``sync()``:
        group commit, for records nothing outside the pod depends on yet (``dirty`` says
        that some are waiting). ``lazy`` records (the fence mark, the start) need no sync
        of their own at all: losing one in a crash only means the re-run writes it again;
        whatever sync comes next (an effect's, the end's) makes them durable with it.
        """
        if self.fence is not None:
            self.fence.check()  # raises if this pod lost the execution's lease
            if type(record) is End:
                # Fault-suite fix (scripts/chaos found log records lost for good): once the
                # end is journaled, a redelivered start only re-announces the outcome and no
                # replay re-emits the log. So the writer's output must be on the broker
                # *before* the end: a fence may offer ``before_end()`` to deliver it (or
                # raise, leaving the journal open for a replay that re-emits everything).
                before_end = getattr(self.fence, "before_end", None)
                if before_end is not None:
                    before_end()
            token = self.fence.token
            if record.k != token:  # the hot callers build their records with it already
                record = with_token(record, token)
        started = time.perf_counter()
        if self.broken:
            # Fault-suite fix: after a failed write the file may end in a fragment of that
            # record. Appending after it would turn the fragment into a corrupt line in the
            # middle of the journal; reopening (``Journal.open``) drops it as a torn tail.
            raise JournalError(
                f"journal {self.path} had a failed write; reopen it before appending again"
            )
        try:
            fd = self._open_for_append() if self._fh is None else self._fh
            line = encode(record)
            data = memoryview(line)
            while data:  # a raw write may be short (a full disk fills up mid-record)
                data = data[os.write(fd, data) :]
            self._written += len(line)
            if sync and not lazy:
                self._make_durable()
            elif not lazy:
                self.dirty = True
        except OSError as exc:
            self.broken = True
            raise JournalError(
                f"cannot write journal {self.path}: {exc.strerror or exc}; "
                "check the checkpoint volume is mounted, writable and not full"
            ) from exc
        self.records.append(record)
        metrics.journal_append(time.perf_counter() - started)

    def _open_for_append(self) -> int:
        """Create the directory if need be and open the file for appends: plain system calls
        (one ``mkdir``, one ``open``), each of which hands the GIL over in a busy worker.

        Unbuffered (fault-suite fix): a buffered file kept the unwritten part of a record
        that failed with ENOSPC and wrote it at some later flush, or raised the old error
        again from close(). Now a write either lands or fails in ``append``."""
        directory = str(self.directory)
        try:
            os.mkdir(directory)
            new = True
        except FileExistsError:
            new = False
        except FileNotFoundError:  # the checkpoint root itself is missing
            os.makedirs(directory, exist_ok=True)
            new = True
        self._fh = os.open(
            os.path.join(directory, JOURNAL_FILE),
            os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC,
            0o644,
        )
        self._new_dir = self._new_dir or new
        return self._fh

    def take_over(
        self, command: dict[str, Any] | None = None, trace: dict[str, str] | None = None
    ) -> None:
        """Mark this writer's fencing token in the journal, then re-read it.

        From this record on, anything a previous owner still appends carries a lower
        token and is ignored on read (``_drop_fenced``); re-reading after the mark means
        we see everything that previous owner wrote before it.
        """
        if self.fence is None:
            return
        # Not synced: nothing outside the pod depends on the mark until the next durable
        # record (an effect, the end), and that sync covers it. The first mark of a new
        # journal carries the start command (``command``): a live worker that takes the
        # execution over after this pod died resumes it from here, even before its start.
        first = command is not None and not self.records
        # trace: the start's traceparent/tracestate headers (jarvis.telemetry.tracing)
        mark = FenceMark(command, trace or None) if first else FenceMark()
        self.append(mark, lazy=True)
        if (
            self._fh is not None
            and os.fstat(self._fh).st_size == self._size_at_open + self._written
        ):
            # Nobody else wrote since we read (the common case, and always for a new
            # journal): what we hold is what is on disk, no need to read it again.
            return
        self.records = self._read()

    def sync(self) -> None:
        """Make every appended record durable (one fsync for all of them)."""
        if not self.dirty or self._fh is None:
            return
        try:
            self._make_durable()
        except OSError as exc:
            raise JournalError(
                f"cannot sync journal {self.path}: {exc.strerror or exc}; "
                "check the checkpoint volume is mounted, writable and not full"
            ) from exc

    def _make_durable(self) -> None:
        # The directory of a journal this writer created is made durable with its first sync
        # (a crash before then loses only records nothing outside the pod depended on).
        assert self._fh is not None
        self.durability.sync(self._fh, str(self.directory.parent) if self._new_dir else None)
        self._new_dir = False
        self.dirty = False

    def close(self) -> None:
        if self._fh is not None:
            fh, self._fh = self._fh, None
            # Never raise from here (it runs in ``finally`` blocks, where an exception would
            # replace the execution's outcome): unbuffered, there is nothing left to write,
            # and a failure to sync was already reported by append() or sync().
            with contextlib.suppress(OSError):
                os.close(fh)

    def remove(self) -> None:
        self.close()
        shutil.rmtree(self.directory, ignore_errors=True)
