"""The journal file: typed records, the pure reader, opening for append (repair, fence)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jarvis.errors import JournalError
from jarvis.journal import Effect, EffectError, End, FenceMark, Journal, Start
from jarvis.journal.records import FORMAT_VERSION, decode, encode, to_json

START = Start(digest="d", filename="p.spy", inputs={"n": 1}, books=[], at=None, ns=5)


class Lease:
    def __init__(self, token: int) -> None:
        self.token = token

    def check(self) -> None:
        pass


def test_roundtrip(tmp_path: Path) -> None:
    j = Journal.open(tmp_path, "e1")
    j.append(START)
    j.append(Effect(0, "now", "r", 1.5, ns=7))
    j.append(Effect(1, "book", "q", error=EffectError("BookError", "no")))
    j.close()
    again = Journal.open(tmp_path, "e1")
    assert again.start == START
    assert [e.result for e in again.effects] == [1.5, None]
    assert again.effects[1].error == EffectError("BookError", "no")
    assert again.end is None


def test_format_1_lines_are_byte_for_byte_what_the_dict_writer_wrote() -> None:
    # The shape written before records were typed (format 1): key order and optional keys.
    line = encode(Effect(3, "now", "r", 2.5, None, {}, 9, 4))
    assert line.split(b" ", 1)[1] == (
        b'{"t":"effect","seq":3,"name":"now","req":"r","result":2.5,"meta":{},"ns":9,"k":4}\n'
    )
    start = to_json(START)
    assert list(start) == ["t", "format", "digest", "filename", "inputs", "books", "at", "ns"]
    assert start["format"] == FORMAT_VERSION == 1
    assert to_json(FenceMark()) == {"t": "fence"}
    assert "result" not in to_json(Effect(0, "x", "r", error=EffectError("E", "m")))


def test_old_format_1_records_without_later_fields_decode() -> None:
    # Early format-1 journals: no ns, no meta, no format.
    body = b'{"t":"start","digest":"d","filename":"p","inputs":{},"books":[],"at":"x"}'
    import zlib

    start = decode(b"%08x %s" % (zlib.crc32(body), body))
    assert start == Start("d", "p", {}, [], "x", None, 1, None)
    body = b'{"t":"effect","seq":0,"name":"now","req":"r","result":1}'
    effect = decode(b"%08x %s" % (zlib.crc32(body), body))
    assert isinstance(effect, Effect) and effect.meta == {} and effect.ns is None


def test_a_newer_format_or_kind_is_a_clear_error() -> None:
    import zlib

    for body in (b'{"t":"start","digest":"d","format":99}', b'{"t":"snapshot"}'):
        with pytest.raises(JournalError, match="newer"):
            decode(b"%08x %s" % (zlib.crc32(body), body))


@pytest.mark.parametrize("tail", [b"0000", b'deadbeef {"t":', b'deadbeef {"t":"effect"}\n'])
def test_torn_last_record_is_ignored_and_trimmed(tmp_path: Path, tail: bytes) -> None:
    j = Journal.open(tmp_path, "e1")
    j.append(START)
    j.close()
    with open(j.path, "ab") as fh:
        fh.write(tail)
    again = Journal.open(tmp_path, "e1")
    assert again.records == [START]
    again.append(End({}))
    again.close()
    assert Journal.open(tmp_path, "e1").records == [START, End({})]


def test_read_never_repairs(tmp_path: Path) -> None:
    j = Journal.open(tmp_path, "e1")
    j.append(START)
    j.close()
    with open(j.path, "ab") as fh:
        fh.write(b"0000")
    size = j.path.stat().st_size
    history = Journal.read(tmp_path, "e1")
    assert history.records == [START] and history.torn_bytes == 4
    assert j.path.stat().st_size == size  # the torn tail is still there
    assert Journal.read(j.path).records == [START] == Journal.read(j.directory).records
    assert Journal.read(tmp_path, "missing").records == []


def test_a_stale_owners_records_are_dropped_and_indexed(tmp_path: Path) -> None:
    old = Journal.open(tmp_path, "e1", fence=Lease(1))
    old.take_over({"execution_id": "e1"})
    old.append(START)
    new = Journal.open(tmp_path, "e1", fence=Lease(2))
    new.take_over()
    old.append(Effect(0, "now", "r", 1.0))  # the old owner did not notice: fenced off
    new.append(Effect(0, "now", "r", 2.0))
    old.close()
    new.close()
    history = Journal.read(tmp_path, "e1")
    assert [type(r).__name__ for r in history.lines] == [
        "FenceMark",
        "Start",
        "FenceMark",
        "Effect",
        "Effect",
    ]
    assert [e.result for e in history.effects] == [2.0]
    assert [history.is_stale(i) for i in range(5)] == [False, False, False, True, False]
    assert history.index(history.effects[0]) == 4
    assert history.writers == 2 and history.command == {"execution_id": "e1"}
    assert history.effects[0].k == 2


def test_corruption_before_the_tail_is_an_error(tmp_path: Path) -> None:
    j = Journal.open(tmp_path, "e1")
    j.append(START)
    j.append(End({}))
    j.close()
    data = bytearray(j.path.read_bytes())
    data[12] ^= 0x01  # flip a bit inside the first record
    j.path.write_bytes(bytes(data))
    with pytest.raises(JournalError, match="corrupt at line 1"):
        Journal.open(tmp_path, "e1")
    with pytest.raises(JournalError, match="corrupt at line 1"):
        Journal.read(tmp_path, "e1")


def test_unwritable_volume_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(JournalError, match="checkpoint volume"):
        Journal.open(blocker, "e1").append(START)
