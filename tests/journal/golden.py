"""Golden journals: cases, the Book they call, and how a case is replayed and compared.

Each case is a directory under ``golden/v<FORMAT_VERSION>/<name>/``: ``program.spy``,
``case.json`` (the start command and the procedures of its Books), ``journal.log`` (written
by a real run, once), and what replaying it must give: ``outcome.json`` (the replay report:
outcome, journaled end, effects replayed, divergence) and ``log.jsonl`` (the log records,
without their wall-clock ``at``). ``make_golden.py`` writes them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from jarvis.bdk import Book, BookContext, InvalidInput
from jarvis.contract import StartCommand
from jarvis.execution.offline import ReplayReport, replay
from jarvis.journal import Journal
from jarvis.settings import Settings

GOLDEN = Path(__file__).parent / "golden"

calc = Book("calc", description="The golden journals' Book")


@calc.procedure(timeout_s=5)
def add(ctx: BookContext[Any], a: int, b: int) -> int:
    return a + b


@calc.procedure(timeout_s=5)
def refuse(ctx: BookContext[Any], why: str) -> int:
    raise InvalidInput(why)


class Procedures:
    """The procedures a case's Books had (what ``BookRegistry.procedures`` gave the run)."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table

    def procedures(self, names: Any) -> dict[str, list[str]]:
        return {name: self.table[name] for name in names}


def cases(version: int | None = None) -> list[Path]:
    roots = [GOLDEN / f"v{version}"] if version is not None else sorted(GOLDEN.glob("v*"))
    return sorted(case for root in roots for case in root.iterdir() if case.is_dir())


def replay_case(
    case: Path, source: str | None = None, inputs: dict[str, Any] | None = None
) -> ReplayReport:
    spec = orjson.loads((case / "case.json").read_bytes())
    command = StartCommand.model_validate(spec["command"])
    if inputs is not None:
        command = command.model_copy(update={"inputs": inputs})
    history = Journal.read(case)
    program = (case / "program.spy").read_text() if source is None else source
    return replay(history, program, Settings(), Procedures(spec["procedures"]), command)


def comparable_log(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "at"} for r in records]


def report_json(report: ReplayReport) -> dict[str, Any]:
    return orjson.loads(orjson.dumps(report.as_dict()))  # type: ignore[no-any-return]
