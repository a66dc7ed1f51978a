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
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import orjson

from jarvis.errors import JournalError
from jarvis.journal.durability import DIRECT, Durability
from jarvis.telemetry import metrics

FORMAT_VERSION = 1
JOURNAL_FILE = "journal.log"


def _encode(record: dict[str, Any]) -> bytes:
    body = orjson.dumps(record)
    return b"%08x %s\n" % (zlib.crc32(body), body)


def _decode(line: bytes) -> dict[str, Any] | None:
    """The record in one complete line, or None when its checksum does not match."""
    crc, sep, body = line.partition(b" ")
    if not sep or len(crc) != 8:
        return None
    try:
        if int(crc, 16) != zlib.crc32(body):
            return None
        record = orjson.loads(body)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


class Fence(Protocol):
    """The writer's lease: its fencing token, and a check that it still holds the lease.

    A fence may also have ``before_end()``, called before an ``end`` record is appended
    (see ``Journal.append``); it may raise to keep the end from being written.
    """

    @property
    def token(self) -> int: ...

    def check(self) -> None:
        """Raise (``Stopped("handoff")``) when the lease is lost: the pod must stop writing."""


def _drop_fenced(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ignore records a stale owner appended after a newer owner took over.

    Each writer stamps its records with its lease's fencing token ``k`` (increasing per
    execution). Two pods can briefly both believe they own an execution (a rebalance
    race, a paused VM); whatever the older one wrote after the newer one's first record
    is not part of the execution's history.
    """
    out = []
    highest = -1
    for record in records:
        k = record.get("k")
        if k is not None:
            if k < highest:
                continue
            highest = k
        out.append(record)
    return out


@dataclass
class Journal:
    """An execution's journal: what is on disk, plus appends."""

    execution_id: str
    directory: Path
    records: list[dict[str, Any]] = field(default_factory=list)
    fence: Fence | None = None
    dirty: bool = False
    broken: bool = False  # a write failed: the file may end in a fragment; reopen to go on
    durability: Durability = DIRECT
    _fh: Any = None
    _new_dir: bool = False  # created by this writer: its entry is durable at the next sync
    _size_at_open: int = 0
    _written: int = 0

    @classmethod
    def open(
        cls,
        root: Path,
        execution_id: str,
        fence: Fence | None = None,
        durability: Durability = DIRECT,
    ) -> Journal:
        directory = root / execution_id
        journal = cls(
            execution_id=execution_id, directory=directory, fence=fence, durability=durability
        )
        journal.records = journal._read()
        return journal

    @functools.cached_property
    def path(self) -> Path:
        return self.directory / JOURNAL_FILE

    def _read(self) -> list[dict[str, Any]]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            self._size_at_open = 0
            return []
        except OSError as exc:
            raise JournalError(
                f"cannot read journal {self.path}: {exc.strerror or exc}; check the checkpoint volume"
            ) from exc
        lines = data.split(b"\n")
        # The last element is b"" after a complete final line, or a torn fragment.
        complete, tail = lines[:-1], lines[-1]
        records = []
        valid_bytes = 0
        for number, line in enumerate(complete, start=1):
            record = _decode(line)
            if record is None:
                if number == len(complete) and not tail:
                    break  # torn last record whose newline made it to disk: ignore it
                raise JournalError(
                    f"journal {self.path} is corrupt at line {number} (checksum mismatch); "
                    "the execution cannot be resumed safely"
                )
            records.append(record)
            valid_bytes += len(line) + 1
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

    # --- views ---

    @property
    def start(self) -> dict[str, Any] | None:
        return next((r for r in self.records if r["t"] == "start"), None)

    @property
    def effects(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r["t"] == "effect"]

    @property
    def command(self) -> dict[str, Any] | None:
        """The start command the first writer marked (``take_over(command)``), if any."""
        return next(
            (r["command"] for r in self.records if r["t"] == "fence" and "command" in r), None
        )

    @property
    def trace(self) -> dict[str, str] | None:
        """The start's W3C trace headers, kept beside its command (``take_over(command, trace)``),
        so an execution resumed from here stays in its orchestrator's trace."""
        return next(
            (
                r["trace"]
                for r in self.records
                if r["t"] == "fence" and "command" in r and "trace" in r
            ),
            None,
        )

    @property
    def end(self) -> dict[str, Any] | None:
        return next((r for r in reversed(self.records) if r["t"] == "end"), None)

    @property
    def exists(self) -> bool:
        return bool(self.records)

    # --- writing ---

    def append(self, record: dict[str, Any], sync: bool = True, lazy: bool = False) -> None:
        """Append one record; with ``sync`` it is durable (fsync) when this returns.

        Without ``sync`` the record is written but may be lost in a crash until ``sync()``:
        group commit, for records nothing outside the pod depends on yet (``dirty`` says
        that some are waiting). ``lazy`` records (the fence mark, the start) need no sync
        of their own at all: losing one in a crash only means the re-run writes it again;
        whatever sync comes next (an effect's, the end's) makes them durable with it.
        """
        if self.fence is not None:
            self.fence.check()  # raises if this pod lost the execution's lease
            if record.get("t") == "end":
                # Fault-suite fix (scripts/chaos found log records lost for good): once the
                # end is journaled, a redelivered start only re-announces the outcome and no
                # replay re-emits the log. So the writer's output must be on the broker
                # *before* the end: a fence may offer ``before_end()`` to deliver it (or
                # raise, leaving the journal open for a replay that re-emits everything).
                before_end = getattr(self.fence, "before_end", None)
                if before_end is not None:
                    before_end()
            record = {**record, "k": self.fence.token}
        started = time.perf_counter()
        if self.broken:
            # Fault-suite fix: after a failed write the file may end in a fragment of that
            # record. Appending after it would turn the fragment into a corrupt line in the
            # middle of the journal; reopening (``Journal.open``) drops it as a torn tail.
            raise JournalError(
                f"journal {self.path} had a failed write; reopen it before appending again"
            )
        try:
            if self._fh is None:
                new = not self.directory.exists()
                self.directory.mkdir(parents=True, exist_ok=True)
                # Unbuffered (fault-suite fix): a buffered file kept the unwritten part of a
                # record that failed with ENOSPC and wrote it at some later flush, or raised
                # the old error again from close(). Now a write either lands or fails here.
                self._fh = open(self.path, "ab", buffering=0)  # noqa: SIM115 - held open for appends until close()
                self._new_dir = self._new_dir or new
            line = _encode(record)
            data = memoryview(line)
            while data:  # a raw write may be short (a full disk fills up mid-record)
                data = data[self._fh.write(data) :]
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
        mark: dict[str, Any] = {"t": "fence"}
        if command is not None and not self.records:
            mark["command"] = command
            if trace:  # the start's traceparent/tracestate headers (jarvis.telemetry.tracing)
                mark["trace"] = trace
        self.append(mark, lazy=True)
        if (
            self._fh is not None
            and os.fstat(self._fh.fileno()).st_size == self._size_at_open + self._written
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
        self.durability.sync(
            self._fh.fileno(), str(self.directory.parent) if self._new_dir else None
        )
        self._new_dir = False
        self.dirty = False

    def close(self) -> None:
        if self._fh is not None:
            fh, self._fh = self._fh, None
            # Never raise from here (it runs in ``finally`` blocks, where an exception would
            # replace the execution's outcome): unbuffered, there is nothing left to write,
            # and a failure to sync was already reported by append() or sync().
            with contextlib.suppress(OSError):
                fh.close()

    def remove(self) -> None:
        self.close()
        shutil.rmtree(self.directory, ignore_errors=True)
