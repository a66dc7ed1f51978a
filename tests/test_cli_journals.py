"""`jarvis journals show` and `jarvis journals replay`: read only, offline, no services."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson

from tests.conftest import ROOT
from tests.journal.golden import GOLDEN
from tests.test_cli import _run

CASE = GOLDEN / "v1" / "resumed_by_second_owner"  # two owners, a stale record, a crash, Books
BOOKS = {"JARVIS_EXTRA_BOOKS": '["tests.journal.golden:calc"]'}


def _checkpoint(tmp_path: Path, case: Path = CASE) -> Path:
    """The golden journal, as a worker's checkpoint dir holds it."""
    eid = orjson.loads((case / "case.json").read_bytes())["command"]["execution_id"]
    target = tmp_path / "checkpoints" / eid
    target.mkdir(parents=True)
    shutil.copy(case / "journal.log", target / "journal.log")
    return target


def test_show_lists_every_record_and_marks_the_stale_owner(tmp_path: Path) -> None:
    directory = _checkpoint(tmp_path)
    proc = _run(["journals", "show", directory.name], tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 10
    assert lines[0].split()[:3] == ["#0", "k=1", "fence"]
    assert "crash" in lines[4] and "SIGKILL" in lines[4]
    assert "stale owner: ignored" in lines[6] and "stale" not in lines[7]
    assert lines[9].split()[2:4] == ["end", "completed"]
    assert "10 records, 4 effects, 2 owner(s), ended (completed)" in proc.stderr


def test_show_json_is_one_record_per_line_with_its_index(tmp_path: Path) -> None:
    directory = _checkpoint(tmp_path)
    proc = _run(["journals", "show", "--path", str(directory), "--json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = [orjson.loads(line) for line in proc.stdout.splitlines()]
    assert [r["index"] for r in rows] == list(range(10))
    assert [r["t"] for r in rows] == [
        "fence",
        "start",
        "effect",
        "effect",
        "crash",
        "fence",
        "effect",
        "effect",
        "effect",
        "end",
    ]
    assert [r["stale"] for r in rows].count(True) == 1 and rows[6]["result"] == 999


def test_show_never_repairs_a_torn_tail(tmp_path: Path) -> None:
    directory = _checkpoint(tmp_path)
    with open(directory / "journal.log", "ab") as fh:
        fh.write(b'0123abcd {"t":')
    size = (directory / "journal.log").stat().st_size
    proc = _run(["journals", "show", directory.name], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "a torn last line of 14 bytes" in proc.stderr
    assert (directory / "journal.log").stat().st_size == size


def test_show_of_a_missing_journal_is_one_error_line_and_a_hint(tmp_path: Path) -> None:
    proc = _run(["journals", "show", "nope"], tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: no journal at ")
    assert "hint: " in proc.stderr and "Traceback" not in proc.stderr
    proc = _run(["journals", "show"], tmp_path)
    assert proc.returncode == 2 and proc.stderr.startswith("error: give an execution id or --path")


def test_replay_agrees_with_the_journal_offline(tmp_path: Path) -> None:
    directory = _checkpoint(tmp_path)
    proc = _run(["journals", "replay", str(directory)], tmp_path, **BOOKS)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == (
        "replayed 4 of 4 effects of golden-resumed-by-second-owner: completed "
        "(matches the journal's end)"
    )


def test_replay_of_a_changed_program_reports_the_divergence(tmp_path: Path) -> None:
    directory = _checkpoint(tmp_path)
    changed = tmp_path / "changed.spy"
    changed.write_text((CASE / "program.spy").read_text().replace("i, 10", "i, 11"))
    proc = _run(
        ["journals", "replay", str(directory), "--program", str(changed)], tmp_path, **BOOKS
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: divergence at record #1 (effect #-1): ")
    assert "but the journal recorded 'program " in proc.stderr
    assert "hint: `jarvis journals show --path" in proc.stderr
    proc = _run(
        ["journals", "replay", str(directory), "--program", str(changed), "--json"],
        tmp_path,
        **BOOKS,
    )
    assert proc.returncode == 1
    report = orjson.loads(proc.stdout)
    assert report["ok"] is False and report["divergence"]["record_index"] == 1
    assert report["divergence"]["effect_seq"] == -1


def test_replay_of_a_local_run_needs_the_program(tmp_path: Path) -> None:
    program = ROOT / "examples" / "hello.spy"
    proc = _run(["run", str(program), "-i", "name=Ada", "-i", "n=6", "--id", "h1"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    journal = tmp_path / ".jarvis" / "local" / "journals" / "h1"
    proc = _run(["journals", "replay", str(journal)], tmp_path)
    assert proc.returncode == 2
    assert "does not hold the program's source" in proc.stderr and "--program FILE" in proc.stderr
    proc = _run(["journals", "replay", str(journal), "--program", str(program)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "completed (matches the journal's end)" in proc.stdout
