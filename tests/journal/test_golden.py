"""Golden journals (tests/journal/golden/v<N>/, written once by make_golden.py): every
journal of every format version replays to the recorded outcome and log; a changed program
or input over one is a divergence (NonDeterminismError); every record kind is covered."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from jarvis.journal import Journal
from jarvis.journal.records import FORMAT_VERSION, KINDS, kind_of
from tests.journal.golden import cases, comparable_log, replay_case, report_json

CASES = cases()


def test_there_are_golden_journals_for_the_current_format() -> None:
    names = {case.name for case in cases(FORMAT_VERSION)}
    assert {"no_effects", "book_calls", "resumed_by_second_owner", "cancel", "failure"} <= names


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.parent.name}/{c.name}")
def test_a_golden_journal_replays_to_its_outcome_and_log(case: Path) -> None:
    report = replay_case(case)
    assert report.ok, report.divergence
    assert report_json(report) == orjson.loads((case / "outcome.json").read_bytes())
    expected = [orjson.loads(line) for line in (case / "log.jsonl").read_bytes().splitlines()]
    assert comparable_log(report.log) == expected


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.parent.name}/{c.name}")
def test_a_changed_program_over_a_golden_journal_is_non_determinism(case: Path) -> None:
    source = (case / "program.spy").read_text() + "changed = 1\n"
    report = replay_case(case, source=source)
    assert report.divergence is not None
    assert report.divergence.effect_seq == -1  # the program itself
    assert "NonDeterminismError" in report.outcome["error"]["type"]
    history = Journal.read(case)
    assert report.divergence.record_index == history.index(history.start)  # type: ignore[arg-type]


def test_a_changed_input_diverges_at_the_effect_it_feeds() -> None:
    case = next(c for c in cases(FORMAT_VERSION) if c.name == "book_calls")
    report = replay_case(case, inputs={"n": 1})
    assert report.divergence is not None and report.divergence.effect_seq == 0
    assert report.outcome["error"]["type"] == "NonDeterminismError"
    history = Journal.read(case)
    assert report.divergence.record_index == history.index(history.effects[0])


def test_every_record_kind_is_in_some_golden_journal() -> None:
    seen = {kind_of(r) for case in CASES for r in Journal.read(case).lines}
    assert seen >= set(KINDS.values())
    stale = [
        case.name
        for case in CASES
        if any(map(Journal.read(case).is_stale, range(len(Journal.read(case).lines))))
    ]
    assert stale, "some golden journal has a stale owner's record"
