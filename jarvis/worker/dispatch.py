"""What to do with one consumed control message: a value, computed without side effects.

``decide`` turns a message (its value, key, and the worker's view of what it runs) into a
``Decision``; the consumer loop carries it out. Keeping the choice apart from the doing is
what lets the choices be unit-tested in milliseconds, with no broker (tests/worker/).
"""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass

from jarvis.contract.messages import LifecycleEvent, StartCommand, StopCommand
from jarvis.contract.parse import parse_control
from jarvis.errors import ControlMessageError


@dataclass(frozen=True)
class DeadLetter:
    """Not a valid command: forward it to the dead-letter topic with the reason."""

    reason: str
    field: str | None


@dataclass(frozen=True)
class Run:
    """A start to admit: validated, queued for a sandbox."""

    command: StartCommand


@dataclass(frozen=True)
class Reject:
    """A valid start that cannot run here or anywhere (unknown Book, forbidden program.ref):
    publish ``event`` (type ``rejected``) and move on."""

    command: StartCommand
    event: LifecycleEvent


@dataclass(frozen=True)
class Absorb:
    """A duplicate start of an execution this worker already runs: nothing to do."""

    execution_id: str


@dataclass(frozen=True)
class Stop:
    command: StopCommand


Decision = DeadLetter | Run | Reject | Absorb | Stop

Admit = Callable[[StartCommand], Reject | None]
"""Admission check of a start (``jarvis.worker.admission``): a rejection, or None to run it."""


Check = Callable[[StartCommand], None]
"""A check of a parsed start that raises ControlMessageError (e.g. ``check_program_ref``)."""


def decide(
    value: bytes | None,
    key: bytes | None,
    running: Container[str],
    admit: Admit,
    check: Check | None = None,
) -> Decision:
    """The decision for one control message. ``running``: execution ids this worker holds
    (queued or running); ``admit``: the admission check; ``check``: what makes a start a
    dead letter besides its parse."""
    try:
        command = parse_control(value, key)
        if check is not None and isinstance(command, StartCommand):
            check(command)
    except ControlMessageError as exc:
        return DeadLetter(exc.reason, exc.field)
    if isinstance(command, StopCommand):
        return Stop(command)
    if command.execution_id in running:
        return Absorb(command.execution_id)
    rejected = admit(command)
    return rejected if rejected is not None else Run(command)
