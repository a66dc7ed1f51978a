"""Book calls from tests: a recorder of attempts and sleeps, and a call shortcut."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jarvis.books import Attempt, BookRegistry


@dataclass
class Recorder:
    """Collects what a call reports, and stands in for ``time.sleep`` (no real sleeping)."""

    attempts: list[Attempt] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)

    def on_attempt(self, attempt: Attempt) -> None:
        self.attempts.append(attempt)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    @property
    def outcomes(self) -> list[str]:
        return [a.outcome for a in self.attempts]


def call(
    registry: BookRegistry,
    rec: Recorder,
    target: str,
    *args: Any,
    idem: str = "exec-1:0",
    **kwargs: Any,
) -> Any:
    """``call(reg, rec, "kv.get", "k")``: a registry call with the recorder's hooks."""
    book, _, procedure = target.partition(".")
    return registry.call(
        book,
        procedure,
        list(args),
        kwargs,
        execution_id=idem.split(":")[0],
        idempotency_key=idem,
        on_attempt=rec.on_attempt,
        sleep=rec.sleep,
    )
