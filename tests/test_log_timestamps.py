"""Log-record timestamps (``ts``, DESIGN.md §2): strictly increasing per execution at
nanosecond resolution, and the same for a record however often it is replayed.

``ts = max(previous ts + 1, anchor)``, the anchor being the latest journaled time at or
before the record (the start, each effect, a sleep's wake-up): a function of the journal
and the record's position, so a replay of the journal cut anywhere reproduces it.
"""

from __future__ import annotations

import itertools
import zlib
from pathlib import Path
from typing import Any

import orjson
import pytest

from jarvis.artifacts import LocalArtifactStore
from jarvis.books import BookRegistry
from jarvis.contract import LogRecord, StartCommand
from jarvis.execution import ListSink, RunConfig, run_execution
from jarvis.execution.host import anchor_ns
from jarvis.journal import Effect, Journal, Start
from jarvis.journal.journal import JOURNAL_FILE
from jarvis.journal.records import decode, from_json, to_json
from tests.test_replay import make_registry

PROGRAM = """
total = 0
for i in range(300):
    total += i
n = counter.hit(1)
stamp = now()
for j in range(200):
    total += j * n
sleep(0.02)
coin = random()
tag = uuid()
for k in range(100):
    total -= k
try:
    counter.fail("boom")
except BookError as e:
    failure = str(e)
last = counter.hit(2)
tail = [x for x in range(50)]
for m in range(100):
    total += m
result = total
"""
EFFECTS = 7  # hit, now, sleep, random, uuid, fail, hit


def _config(tmp: Path, registry: BookRegistry | None, fault: Any = None) -> RunConfig:
    return RunConfig(
        journal_root=tmp / "journals",
        worker_id="t",
        artifacts=LocalArtifactStore(tmp / "artifacts"),
        books=registry,
        procedures=registry.procedures(["counter"]) if registry else {},
        fault=fault,
    )


def _run(
    tmp: Path,
    source: str,
    eid: str,
    registry: BookRegistry | None = None,
    on_host: Any = None,
    fault: Any = None,
) -> tuple[Any, ListSink]:
    command = StartCommand.model_validate(
        {
            "execution_id": eid,
            "program": {"source": source},
            "books": ["counter"] if registry else [],
        }
    )
    sink = ListSink()
    return run_execution(command, source, _config(tmp, registry, fault), sink, on_host), sink


def _stamps(sink: ListSink) -> list[tuple[int, int]]:
    return [(r["seq"], r["ts"]) for r in sink.records]


def _journal_lines(tmp: Path, eid: str) -> list[dict[str, Any]]:
    lines = (tmp / "journals" / eid / JOURNAL_FILE).read_bytes().splitlines()
    records = [decode(line) for line in lines]
    assert all(r is not None for r in records)
    return [to_json(r) for r in records if r is not None]


def _write_journal(tmp: Path, eid: str, records: list[dict[str, Any]]) -> None:
    directory = tmp / "journals" / eid
    directory.mkdir(parents=True, exist_ok=True)
    # Raw lines, as any release wrote them (some of these records predate fields).
    bodies = [orjson.dumps(r) for r in records]
    (directory / JOURNAL_FILE).write_bytes(
        b"".join(b"%08x %s\n" % (zlib.crc32(b), b) for b in bodies)
    )


def _assert_strictly_increasing(sink: ListSink) -> None:
    stamps = [r["ts"] for r in sink.records]
    assert all(type(ts) is int for ts in stamps), stamps[:5]
    bad = [(i, a, b) for i, (a, b) in enumerate(itertools.pairwise(stamps)) if b <= a]
    assert not bad, f"ts not strictly increasing at {bad[:5]}"
    assert [r["seq"] for r in sink.records] == list(range(len(sink.records)))


def test_tight_loop_of_10000_records_has_strictly_increasing_ns_stamps(tmp_path: Path) -> None:
    source = "total = 0\nfor i in range(5000):\n    total += i\nresult = total\n"
    outcome, sink = _run(tmp_path, source, "tight")
    assert outcome.event.event == "completed", outcome.event
    assert len(sink.records) >= 10_000  # an assign per iteration, and the loop's own records
    _assert_strictly_increasing(sink)
    # Millisecond `at` marks repeat (thousands of records share one); `ts` never does.
    assert len({r["at"] for r in sink.records}) < len(sink.records)
    assert len({r["ts"] for r in sink.records}) == len(sink.records)
    start = next(r for r in _journal_lines(tmp_path, "tight") if r["t"] == "start")
    assert sink.records[0]["ts"] == start["ns"]  # the first record sits on the start's anchor
    # The contract model takes what the host emits, ts included.
    assert LogRecord.model_validate(sink.records[-1]).ts == sink.records[-1]["ts"]


def test_every_effect_is_journaled_with_its_time(tmp_path: Path) -> None:
    outcome, sink = _run(tmp_path, PROGRAM, "times", make_registry([]))
    assert outcome.event.event == "completed", outcome.event
    records = _journal_lines(tmp_path, "times")
    effects = [r for r in records if r["t"] == "effect"]
    assert len(effects) == EFFECTS
    assert all(type(r["ns"]) is int for r in effects)
    start = next(r for r in records if r["t"] == "start")
    stamps = [start["ns"]] + [r["ns"] for r in effects]
    assert stamps == sorted(stamps)
    # A sleep anchors at its wake-up: the records after it are stamped no earlier.
    sleep = next(r for r in effects if r["name"] == "sleep")
    wake = int(sleep["meta"]["until"] * 1e9)
    assert anchor_ns(from_json(sleep)) == max(sleep["ns"], wake)  # type: ignore[arg-type]
    after = [r for r in sink.records if r["source"].startswith("coin =")]
    assert after and after[0]["ts"] >= wake
    _assert_strictly_increasing(sink)


@pytest.mark.parametrize("cut", range(EFFECTS + 1))
def test_replay_of_the_journal_cut_after_each_effect_keeps_every_stamp(
    tmp_path: Path, cut: int
) -> None:
    """A crash after effect ``cut`` journaled: the resumed run re-emits every record up to
    the next live effect with the live run's (seq, ts); records after that follow from the
    new effects' times, still strictly increasing."""
    hosts: list[Any] = []
    before: dict[int, int] = {}  # effect seq -> records emitted before it started

    def fault(phase: str, effect_seq: int) -> None:
        if phase == "effect_started":
            before[effect_seq] = hosts[-1].seq

    outcome, live = _run(tmp_path, PROGRAM, "cut", make_registry([]), hosts.append, fault)
    assert outcome.event.event == "completed", outcome.event
    assert len(before) == EFFECTS
    journal = _journal_lines(tmp_path, "cut")

    kept = [r for r in journal if r["t"] == "start" or (r["t"] == "effect" and r["seq"] < cut)]
    assert len(kept) == 1 + cut
    _write_journal(tmp_path / "resume", "cut", kept)
    resumed, replay = _run(tmp_path / "resume", PROGRAM, "cut", make_registry([]))
    assert resumed.event.event == "completed", resumed.event
    assert resumed.event.result == outcome.event.result

    same = before[cut] if cut < EFFECTS else len(live.records)
    assert same > 0
    assert _stamps(replay)[:same] == _stamps(live)[:same]
    assert [r["value"] for r in replay.records[:same]] == [r["value"] for r in live.records[:same]]
    assert len(replay.records) == len(live.records)
    _assert_strictly_increasing(replay)
    if cut < EFFECTS:  # the effects after the cut ran live again, later: so are their records
        assert replay.records[-1]["ts"] > live.records[-1]["ts"]


def test_a_sandbox_crash_retry_re_emits_the_same_stamps(tmp_path: Path) -> None:
    """The resume paths share one rule: a re-run by replay after the journal's last effect
    (a crashed sandbox, a take-over: both call run_execution on the journal) stamps alike."""
    outcome, live = _run(tmp_path, PROGRAM, "again", make_registry([]))
    assert outcome.event.event == "completed"
    journal = [r for r in _journal_lines(tmp_path, "again") if r["t"] != "end"]
    _write_journal(tmp_path / "b", "again", journal)
    _write_journal(tmp_path / "c", "again", journal)
    _, first = _run(tmp_path / "b", PROGRAM, "again", make_registry([]))
    _, second = _run(tmp_path / "c", PROGRAM, "again", make_registry([]))
    assert _stamps(first) == _stamps(live) == _stamps(second)


def test_an_old_journal_without_times_still_replays(tmp_path: Path) -> None:
    """Journals written before effects carried ``ns`` (and starts only an ISO ``at``)."""
    outcome, live = _run(tmp_path, PROGRAM, "old", make_registry([]))
    assert outcome.event.event == "completed"
    old = []
    for record in _journal_lines(tmp_path, "old"):
        if record["t"] == "end":
            continue
        record.pop("ns", None)
        old.append(record)
    assert all("ns" not in r for r in old)
    _write_journal(tmp_path / "old", "old", old)
    start_at = next(r for r in old if r["t"] == "start")["at"]

    resumed, replay = _run(tmp_path / "old", PROGRAM, "old", make_registry([]))
    assert resumed.event.event == "completed", resumed.event
    assert resumed.event.result == outcome.event.result
    assert [r["value"] for r in replay.records] == [r["value"] for r in live.records]
    _assert_strictly_increasing(replay)
    # Anchored at the start's ISO time (microseconds), the same in every replay.
    assert replay.records[0]["ts"] == anchor_ns(Start("d", "p", {}, [], at=start_at))
    assert replay.records[0]["ts"] // 1000 == live.records[0]["ts"] // 1000
    _write_journal(tmp_path / "old2", "old", old)
    _, again = _run(tmp_path / "old2", PROGRAM, "old", make_registry([]))
    assert _stamps(again) == _stamps(replay)


def test_anchor_of_records_from_older_formats() -> None:
    def start(at: str) -> Start:
        return Start("d", "p", {}, [], at=at)

    assert anchor_ns(start("2026-11-23T17:20:01.123456+00:00")) == 1795454401123456000
    assert anchor_ns(start("not a time")) is None
    assert anchor_ns(start("2026-11-23T17:20:01")) is None  # naive: no anchor
    assert anchor_ns(Effect(0, "now", "r")) is None  # an effect without ns anchors nowhere
    assert anchor_ns(Effect(0, "now", "r", ns=5)) == 5
    assert anchor_ns(Effect(0, "sleep", "r", meta={"until": 2.5})) == 2_500_000_000
    assert anchor_ns(Effect(0, "sleep", "r", ns=3_000_000_000, meta={"until": 2.5})) == (
        3_000_000_000
    )


def test_journal_effect_records_round_trip_their_time(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path, "j")
    journal.append(Effect(0, "now", "x", 1.0, ns=2**62))
    journal.close()
    again = Journal.open(tmp_path, "j")
    assert again.effects[0].ns == 2**62
    assert to_json(again.effects[0])["ns"] == 2**62
