"""Offline replay: re-run a program against a journal, with no services (``jarvis journals
replay``, the golden-journal tests).

The journal is copied (its end and crash records left out) into a scratch directory and the
program runs there with ``live_effects=False``: every effect is answered from the journal,
after the same request check as a resume (``jarvis.execution.replay``), and an effect past
the journal ends the run instead of happening. Nothing is called, uploaded or published;
the original journal is only read.

The report says where the replay went: a divergence (the program or an input changed: the
effect and the journal record where it happened), or the outcome the replay reached, checked
against the journal's end when it has one.
"""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jarvis.contract.messages import LifecycleEvent, StartCommand
from jarvis.errors import NonDeterminismError
from jarvis.execution.config import Procedures, RunConfig
from jarvis.execution.host import ExecutionHost
from jarvis.execution.replay import JournalExhausted
from jarvis.execution.runner import run_execution
from jarvis.execution.sinks import ListSink
from jarvis.journal import Crash, End, History
from jarvis.journal.journal import JOURNAL_FILE
from jarvis.journal.records import encode
from jarvis.settings import Settings

OUTCOME_FIELDS = (
    "event",
    "stop_mode",
    "program_digest",
    "result",
    "result_type",
    "result_bytes",
    "error",
    "log_records",
    "artifacts",
)
"""The parts of an outcome a replay must reproduce (not its time, worker or URLs)."""


def outcome_of(event: dict[str, Any]) -> dict[str, Any]:
    """The comparable part of a lifecycle event's JSON (``OUTCOME_FIELDS``; an error by its
    type and message)."""
    out = {name: event.get(name) for name in OUTCOME_FIELDS}
    error = out["error"]
    if isinstance(error, dict):
        out["error"] = {"type": error.get("type"), "message": error.get("message")}
    return out


@dataclass(frozen=True)
class Divergence:
    """Where a replay left the journal."""

    record_index: int  # 0-based line of the journal file it concerns
    effect_seq: int | None  # the effect (-1: the program itself), None: the outcome
    message: str


@dataclass(frozen=True)
class ReplayReport:
    execution_id: str
    outcome: dict[str, Any]  # outcome_of(the event the replay reached)
    journaled: dict[str, Any] | None  # outcome_of(the journal's end), if it has one
    effects: int  # effects in the journal
    replayed: int  # effects answered from it
    caught_up: bool  # the journal ended first: a live run would go on from there
    divergence: Divergence | None = None
    log: list[dict[str, Any]] = field(default_factory=list)  # the log records emitted

    @property
    def ok(self) -> bool:
        return self.divergence is None

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["ok"] = self.ok
        del data["log"]
        return data


def command_of(history: History, execution_id: str | None = None) -> StartCommand:
    """The start command a journal holds (its first fence mark), else one rebuilt from its
    start record (``jarvis run`` journals have no fence mark): program text not included."""
    if history.command is not None:
        return StartCommand.model_validate(history.command)
    start = history.start
    eid = execution_id or history.path.parent.name
    return StartCommand.model_validate(
        {
            "execution_id": eid,
            "program": {"source": "", "filename": start.filename if start else "<program>"},
            "inputs": start.inputs if start else {},
            "books": start.books if start else [],
        }
    )


def replay(
    history: History,
    source: str,
    settings: Settings,
    procedures: Procedures,
    command: StartCommand | None = None,
) -> ReplayReport:
    """Re-run ``source`` against ``history`` offline (module docstring)."""
    command = command or command_of(history)
    with tempfile.TemporaryDirectory(prefix="jarvis-replay-") as tmp:
        root = Path(tmp)
        directory = root / "journals" / command.execution_id
        directory.mkdir(parents=True)
        kept = [r for r in history.records if type(r) not in (End, Crash)]
        (directory / JOURNAL_FILE).write_bytes(b"".join(encode(r) for r in kept))
        config = RunConfig.local(settings, command, root, procedures, None, worker_id="replay")
        config = dataclasses.replace(config, live_effects=False)
        hosts: list[ExecutionHost] = []
        sink = ListSink()
        try:
            outcome = run_execution(command, source, config, sink, on_host=hosts.append)
        finally:
            assert config.sandboxes is not None
            config.sandboxes.close()
    return _report(history, command.execution_id, outcome.event, hosts, sink)


def _report(
    history: History,
    eid: str,
    event: LifecycleEvent,
    hosts: list[ExecutionHost],
    sink: ListSink,
) -> ReplayReport:
    effects = history.effects
    host = hosts[-1] if hosts else None
    fatal = host.fatal if host is not None else None
    end = history.end
    journaled = outcome_of(end.event) if end is not None else None
    reached = outcome_of(event.model_dump(mode="json"))
    report = ReplayReport(
        execution_id=eid,
        outcome=reached,
        journaled=journaled,
        effects=len(effects),
        replayed=host.replayed if host is not None else 0,
        caught_up=isinstance(fatal, JournalExhausted),
        log=sink.records,
    )
    divergence = _divergence(history, fatal, report, host)
    return dataclasses.replace(report, divergence=divergence) if divergence else report


def _divergence(
    history: History,
    fatal: Exception | None,
    report: ReplayReport,
    host: ExecutionHost | None,
) -> Divergence | None:
    if isinstance(fatal, NonDeterminismError):
        seq = fatal.effect_seq
        target: Any = history.start if seq < 0 else history.effects[seq]
        return Divergence(history.index(target), seq, str(fatal))
    end = history.end
    stopped = end is not None and end.event.get("event") == "stopped"
    if report.caught_up:
        if end is None or stopped:
            return None  # the execution was still going (or was stopped): nothing diverged
        seq = fatal.effect_seq if isinstance(fatal, JournalExhausted) else report.effects
        return Divergence(
            history.index(end),
            seq,
            f"the program asks for effect #{seq} but the journal ended with its outcome there",
        )
    asked = host.effect_seq if host is not None else 0
    if asked < report.effects:
        index = history.index(history.effects[asked])
        return Divergence(
            index,
            asked,
            f"the program ended after {asked} effect(s); the journal has {report.effects}",
        )
    if end is not None and not stopped and report.outcome != report.journaled:
        return Divergence(
            history.index(end), None, "the replay reached another outcome than the journal's end"
        )
    return None


__all__ = ["Divergence", "ReplayReport", "command_of", "outcome_of", "replay"]
