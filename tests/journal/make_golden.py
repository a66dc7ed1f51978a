"""Write the golden journals of the current format: ``python -m tests.journal.make_golden``.

Run it once per format version, when that version is new. Regenerating the files of an
existing version is a format break in disguise: the point of these files is that a journal
written by an earlier release still replays, so they must stay as that release wrote them.
A format change bumps ``jarvis.journal.records.FORMAT_VERSION`` and adds a ``v<N>/``
directory next to the old ones. ``--force`` overwrites an existing version (only while
that version is unreleased).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

from jarvis.artifacts import LocalArtifactStore
from jarvis.books import BookRegistry
from jarvis.contract import StartCommand
from jarvis.execution import ListSink, RunConfig, run_execution
from jarvis.execution.host import ExecutionHost
from jarvis.execution.offline import ReplayReport
from jarvis.journal import Crash, Effect, Journal
from jarvis.journal.journal import JOURNAL_FILE
from jarvis.journal.records import FORMAT_VERSION
from tests.journal.golden import GOLDEN, calc, comparable_log, replay_case, report_json


class Lease:
    """A fence that never lapses: the fencing token of one owner."""

    def __init__(self, token: int) -> None:
        self.token = token

    def check(self) -> None:
        pass


class Crashed(BaseException):
    """A simulated pod death (unwinds without writing anything more)."""


CASES: dict[str, dict[str, Any]] = {
    "no_effects": {"program": "x = 6 * 7\nprint(x)\nresult = {'x': x, 'ok': True}\n"},
    "book_calls": {
        "program": (
            "total = calc.add(inputs['n'], 1)\n"
            "try:\n    calc.refuse('no')\nexcept BookError as e:\n    why = str(e)\n"
            "result = {'total': calc.add(total, 2), 'why': why}\n"
        ),
        "inputs": {"n": 40},
        "books": ["calc"],
    },
    "clock_random_uuid_sleep": {
        "program": (
            "t = now()\nr = random()\nn = randint(1, 6)\nu = uuid()\nsleep(0.01)\n"
            "print(t > 0, 0 <= r < 1, 1 <= n <= 6, len(u))\nresult = [t, r, n, u]\n"
        ),
    },
    "artifact": {"program": "ref = artifact('hello.txt', 'hi there')\nresult = ref\n"},
    "failure": {"program": "t = now()\nitems = [1, 2]\nprint(items[5])\n"},
    "cancel": {"program": "a = now()\nsleep(2)\nresult = a\n", "stop": "cancel"},
    "suspend": {"program": "a = now()\nsleep(2)\nresult = a\n", "stop": "suspend"},
    "resumed_by_second_owner": {
        "program": "xs = []\nfor i in range(4):\n    xs.append(calc.add(i, 10))\nresult = xs\n",
        "books": ["calc"],
        "owners": 2,
    },
}


def _command(name: str, spec: dict[str, Any]) -> StartCommand:
    return StartCommand.model_validate(
        {
            "execution_id": f"golden-{name.replace('_', '-')}",
            "program": {"source": spec["program"], "filename": f"{name}.spy"},
            "inputs": spec.get("inputs", {}),
            "books": spec.get("books", []),
        }
    )


def _config(tmp: Path, registry: BookRegistry, command: StartCommand, **kw: Any) -> RunConfig:
    return RunConfig(
        journal_root=tmp / "journals",
        worker_id="golden",
        artifacts=LocalArtifactStore(tmp / "artifacts"),
        books=registry,
        procedures=registry.procedures(command.books),
        **kw,
    )


def _live(tmp: Path, name: str, spec: dict[str, Any]) -> tuple[Any, ListSink, StartCommand]:
    registry = BookRegistry()
    registry.register(calc)
    command = _command(name, spec)
    sink = ListSink()
    if "stop" in spec:
        hosts: list[ExecutionHost] = []

        def stop_at(phase: str, seq: int) -> None:
            if phase == "effect_journaled" and seq == 1:  # the sleep is journaled: stop it
                hosts[-1].stop_requested = spec["stop"]

        config = _config(tmp, registry, command, fence=Lease(1), fault=stop_at)
        return run_execution(command, spec["program"], config, sink, hosts.append), sink, command
    if spec.get("owners") == 2:
        return _two_owners(tmp, registry, command, spec, sink)
    config = _config(tmp, registry, command, fence=Lease(1))
    return run_execution(command, spec["program"], config, sink), sink, command


def _two_owners(
    tmp: Path, registry: BookRegistry, command: StartCommand, spec: dict[str, Any], sink: ListSink
) -> tuple[Any, ListSink, StartCommand]:
    def die(phase: str, seq: int) -> None:
        if phase == "effect_journaled" and seq == 1:
            raise Crashed()

    first = _config(tmp, registry, command, fence=Lease(1), fault=die)
    with contextlib.suppress(Crashed):
        run_execution(command, spec["program"], first, ListSink())
    eid = command.execution_id
    stale = Journal.open(tmp / "journals", eid, fence=Lease(1))  # the first owner, still up
    stale.append(Crash("SIGKILL", 1, None))  # its sandbox died, it said so...

    def late_write(phase: str, seq: int) -> None:
        # ...and it appends once more after the second owner took over: fenced off on read.
        if phase == "effect_started" and seq == 2:
            stale.append(Effect(2, "book", "stale-request", 999, None, {}, 1))

    config = _config(tmp, registry, command, fence=Lease(2), fault=late_write)
    outcome = run_execution(command, spec["program"], config, sink)
    stale.close()
    return outcome, sink, command


def write_case(root: Path, name: str, spec: dict[str, Any]) -> None:
    case = root / name
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        outcome, sink, command = _live(tmp, name, spec)
        case.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp / "journals" / command.execution_id / JOURNAL_FILE, case / JOURNAL_FILE)
    (case / "program.spy").write_text(spec["program"])
    registry = BookRegistry()
    registry.register(calc)
    spec_json = {
        "command": command.model_dump(mode="json", exclude_defaults=True),
        "procedures": registry.procedures(command.books),
    }
    (case / "case.json").write_bytes(orjson.dumps(spec_json, option=orjson.OPT_INDENT_2) + b"\n")
    report = write_expected(case)
    if "stop" not in spec:  # a replay reproduces the live run (a stopped one: up to the stop)
        assert comparable_log(report.log) == comparable_log(sink.records), name
        assert report.outcome["event"] == outcome.event.event, name


def write_expected(case: Path) -> ReplayReport:
    """The outcome and log a replay of the case's journal gives now (the journal untouched)."""
    report = replay_case(case)
    assert report.ok, (case.name, report.divergence)
    (case / "outcome.json").write_bytes(
        orjson.dumps(report_json(report), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    )
    (case / "log.jsonl").write_bytes(
        b"".join(
            orjson.dumps(r, option=orjson.OPT_SORT_KEYS) + b"\n" for r in comparable_log(report.log)
        )
    )
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--force", action="store_true", help="overwrite the current version's files")
    p.add_argument(
        "--expected",
        action="store_true",
        help="rewrite only every version's expected outcome.json and log.jsonl from its journals\n"
        "(when the message contract changed, not the journal format; review the diff)",
    )
    args = p.parse_args(argv)
    if args.expected:
        for case in sorted(GOLDEN.glob("v*/*/")):
            write_expected(case)
            print(f"rewrote the expected outcome and log of {case}")
        return 0
    root = GOLDEN / f"v{FORMAT_VERSION}"
    if root.exists() and any(root.iterdir()) and not args.force:
        print(f"{root} exists: regenerating a released version is a format break (see --help)")
        return 1
    for name, spec in CASES.items():
        write_case(root, name, spec)
        print(f"wrote {root / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
