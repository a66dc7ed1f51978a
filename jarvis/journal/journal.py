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

import os
import shutil
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from jarvis.errors import JournalError

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


@dataclass
class Journal:
    """An execution's journal: what is on disk, plus appends."""

    execution_id: str
    directory: Path
    records: list[dict[str, Any]] = field(default_factory=list)
    _fh: Any = None

    @classmethod
    def open(cls, root: Path, execution_id: str) -> Journal:
        directory = root / execution_id
        journal = cls(execution_id=execution_id, directory=directory)
        journal.records = journal._read()
        return journal

    @property
    def path(self) -> Path:
        return self.directory / JOURNAL_FILE

    def _read(self) -> list[dict[str, Any]]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise JournalError(
                f"cannot read journal {self.path}: {exc.strerror or exc}; check the checkpoint volume"
            ) from exc
        lines = data.split(b"\n")
        # The last element is b"" after a complete final line, or a torn fragment.
        complete, tail = lines[:-1], lines[-1]
        records = []
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
        if tail or (complete and len(records) < len(complete)):
            self._truncate_to(records)
        return records

    def _truncate_to(self, records: list[dict[str, Any]]) -> None:
        # Drop the torn tail so later appends start on a clean line.
        size = sum(len(_encode(r)) for r in records)
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
    def end(self) -> dict[str, Any] | None:
        return next((r for r in reversed(self.records) if r["t"] == "end"), None)

    @property
    def exists(self) -> bool:
        return bool(self.records)

    # --- writing ---

    def append(self, record: dict[str, Any], sync: bool = True) -> None:
        """Append one record; with ``sync`` it is durable (fsync) when this returns."""
        try:
            if self._fh is None:
                new = not self.directory.exists()
                self.directory.mkdir(parents=True, exist_ok=True)
                self._fh = open(self.path, "ab")  # noqa: SIM115 - held open for appends until close()
                if new:
                    _fsync_dir(self.directory.parent)
            self._fh.write(_encode(record))
            self._fh.flush()
            if sync:
                os.fsync(self._fh.fileno())
        except OSError as exc:
            raise JournalError(
                f"cannot write journal {self.path}: {exc.strerror or exc}; "
                "check the checkpoint volume is mounted, writable and not full"
            ) from exc
        self.records.append(record)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def remove(self) -> None:
        self.close()
        shutil.rmtree(self.directory, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    # Make the new execution directory's entry durable too (a no-op error on some NFS).
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
