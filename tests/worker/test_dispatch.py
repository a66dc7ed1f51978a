"""dispatch.decide: one control message to one Decision, no broker."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from jarvis.contract.messages import LifecycleEvent, StartCommand
from jarvis.errors import ControlMessageError
from jarvis.worker.dispatch import Absorb, DeadLetter, Reject, Run, Stop, decide


def start(execution_id: str = "exec-1", **fields: Any) -> bytes:
    return orjson.dumps(
        {
            "type": "start",
            "execution_id": execution_id,
            "program": {"source": "result = 1"},
            **fields,
        }
    )


def stop(execution_id: str = "exec-1", **fields: Any) -> bytes:
    return orjson.dumps({"type": "stop", "execution_id": execution_id, **fields})


class Admission:
    """Records what it was asked; rejects the ids in ``refuse``."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.refuse = refuse
        self.asked: list[StartCommand] = []

    def __call__(self, command: StartCommand) -> Reject | None:
        self.asked.append(command)
        if command.execution_id in self.refuse:
            event = LifecycleEvent(execution_id=command.execution_id, event="rejected", worker="w")
            return Reject(command, event)
        return None


def test_a_valid_start_is_admitted_and_run() -> None:
    admission = Admission()
    decision = decide(
        start("exec-1", books=["kv"], labels={"team": "a"}), b"exec-1", set(), admission
    )
    assert isinstance(decision, Run)
    assert decision.command.execution_id == "exec-1"
    assert decision.command.books == ["kv"]
    assert decision.command.labels == {"team": "a"}
    assert [c.execution_id for c in admission.asked] == ["exec-1"]


def test_a_start_without_a_key_is_a_dead_letter_naming_the_key() -> None:
    # The key is the execution id on every topic: a keyless start would lose its ordering.
    decision = decide(start("exec-1"), None, set(), Admission())
    assert isinstance(decision, DeadLetter) and decision.field == "key"


def test_a_failing_check_makes_a_dead_letter_with_its_field() -> None:
    def refuse(_command: object) -> None:
        raise ControlMessageError("bucket not allowed", field="program.ref")

    decision = decide(start("exec-1"), b"exec-1", set(), Admission(), refuse)
    assert decision == DeadLetter("bucket not allowed", "program.ref")


def test_a_rejected_start_gives_the_admission_rejection_itself() -> None:
    admission = Admission(refuse=frozenset({"exec-1"}))
    decision = decide(start("exec-1"), b"exec-1", set(), admission)
    assert isinstance(decision, Reject)
    assert decision.command.execution_id == "exec-1"
    assert decision.event.event == "rejected"
    assert len(admission.asked) == 1


def test_a_duplicate_start_is_absorbed_without_asking_admission() -> None:
    admission = Admission(refuse=frozenset({"exec-1"}))
    decision = decide(start("exec-1"), b"exec-1", {"exec-1", "other"}, admission)
    assert decision == Absorb("exec-1")
    assert admission.asked == []


def test_running_other_ids_does_not_absorb() -> None:
    assert isinstance(decide(start("exec-1"), b"exec-1", {"exec-2"}, Admission()), Run)


@pytest.mark.parametrize("running", [set(), {"exec-1"}])
def test_a_stop_is_a_stop_whether_or_not_it_runs_here(running: set[str]) -> None:
    admission = Admission()
    decision = decide(
        stop("exec-1", mode="suspend", reason="deploy"), b"exec-1", running, admission
    )
    assert isinstance(decision, Stop)
    assert decision.command.execution_id == "exec-1"
    assert decision.command.mode == "suspend"
    assert decision.command.reason == "deploy"
    assert admission.asked == []


@pytest.mark.parametrize(
    ("value", "key", "field", "reason_part"),
    [
        (None, None, None, "tombstone"),
        (b"\xff\xfe", None, None, "not UTF-8"),
        (b"{not json", None, None, "not valid JSON"),
        (b"[1, 2]", None, None, "must be a JSON object, got list"),
        (orjson.dumps({"type": "start", "version": 3}), None, "version", "unsupported version 3"),
        (
            orjson.dumps({"type": "launch", "execution_id": "e"}),
            None,
            "type",
            "unknown command 'launch'",
        ),
        (orjson.dumps({"execution_id": "e"}), None, "type", "unknown command None"),
        (
            orjson.dumps({"type": "start", "program": {"source": "x"}}),
            None,
            "execution_id",
            "Field required",
        ),
        (start("has space"), None, "execution_id", "pattern"),
        (orjson.dumps({"type": "start", "execution_id": "e"}), None, "program", "Field required"),
        (start(program={}), None, "program", "exactly one of program.source or program.ref"),
        (stop(mode="pause"), None, "mode", "'cancel' or 'suspend'"),
        (start("exec-1"), b"exec-2", "execution_id", "message key 'exec-2' differs"),
        (stop("exec-1"), b"exec-2", "execution_id", "message key 'exec-2' differs"),
    ],
)
def test_invalid_messages_are_dead_lettered_naming_the_field(
    value: bytes | None, key: bytes | None, field: str | None, reason_part: str
) -> None:
    admission = Admission()
    decision = decide(value, key, {"exec-1", "e"}, admission)
    assert isinstance(decision, DeadLetter)
    assert decision.field == field
    assert reason_part in decision.reason
    assert admission.asked == []
