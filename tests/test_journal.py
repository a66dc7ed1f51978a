from __future__ import annotations

import pytest

from jarvis.errors import JournalError
from jarvis.journal import Journal


def test_roundtrip(tmp_path) -> None:
    j = Journal.open(tmp_path, "e1")
    j.append({"t": "start", "digest": "d"})
    j.append({"t": "effect", "seq": 0, "name": "now", "req": "r", "result": 1.5})
    j.close()
    again = Journal.open(tmp_path, "e1")
    assert again.start == {"t": "start", "digest": "d"}
    assert [e["result"] for e in again.effects] == [1.5]
    assert again.end is None


@pytest.mark.parametrize("tail", [b"0000", b"deadbeef {\"t\":", b"deadbeef {\"t\":\"effect\"}\n"])
def test_torn_last_record_is_ignored_and_trimmed(tmp_path, tail: bytes) -> None:
    j = Journal.open(tmp_path, "e1")
    j.append({"t": "start", "digest": "d"})
    j.close()
    with open(j.path, "ab") as fh:
        fh.write(tail)
    again = Journal.open(tmp_path, "e1")
    assert again.records == [{"t": "start", "digest": "d"}]
    again.append({"t": "end", "event": {}})
    again.close()
    assert Journal.open(tmp_path, "e1").records == [{"t": "start", "digest": "d"}, {"t": "end", "event": {}}]


def test_corruption_before_the_tail_is_an_error(tmp_path) -> None:
    j = Journal.open(tmp_path, "e1")
    j.append({"t": "start", "digest": "d"})
    j.append({"t": "end", "event": {}})
    j.close()
    data = bytearray(j.path.read_bytes())
    data[12] ^= 0x01  # flip a bit inside the first record
    j.path.write_bytes(bytes(data))
    with pytest.raises(JournalError, match="corrupt at line 1"):
        Journal.open(tmp_path, "e1")


def test_unwritable_volume_is_a_clear_error(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(JournalError, match="checkpoint volume"):
        Journal.open(blocker, "e1").append({"t": "start"})
