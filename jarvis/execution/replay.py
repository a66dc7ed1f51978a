"""Replay: answering a resumed execution's effects from its journal (DESIGN.md §1).

A resumed execution re-runs its program from the start. While the journal has effects,
the ``seq``-th effect the program asks for is answered from the ``seq``-th effect record,
once its request (name + arguments digest) matches what was journaled; the program itself
must compile to the journaled digest. Any mismatch means the program, its inputs or the
interpreter changed since the journal was written: a ``NonDeterminismError`` that fails the
execution loudly, never a silent divergence.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson

from jarvis.errors import JarvisError, NonDeterminismError
from jarvis.journal import Effect, Start


def request_digest(name: str, args: tuple[Any, ...]) -> str:
    """The digest of an effect request that a replay must reproduce (``Effect.req``)."""
    try:
        body = orjson.dumps([name, list(args)], default=repr, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # artifact text with lone surrogates: not UTF-8, so not orjson's
        body = json.dumps([name, list(args)], default=repr, sort_keys=True).encode()
    return hashlib.sha256(body).hexdigest()[:32]


def check_program(execution_id: str, start: Start | None, digest: str) -> None:
    """Raise ``NonDeterminismError`` (effect ``-1``) when a resumed journal's program is not
    the one that compiled now."""
    if start is not None and start.digest != digest:
        raise NonDeterminismError(
            execution_id, -1, f"program {start.digest[:12]}", f"program {digest[:12]}"
        )


class Replay:
    """The journaled effects of one attempt, answered in order."""

    __slots__ = ("execution_id", "recorded")

    def __init__(self, execution_id: str, recorded: list[Effect]) -> None:
        self.execution_id = execution_id
        self.recorded = recorded

    def __len__(self) -> int:
        return len(self.recorded)

    def answer(self, seq: int, name: str, digest: str) -> Effect | None:
        """The journaled outcome of effect ``seq`` (None past the journal: run it live);
        raises ``NonDeterminismError`` when the request differs from the journaled one."""
        if seq >= len(self.recorded):
            return None
        rec = self.recorded[seq]
        if rec.name != name or rec.req != digest:
            raise NonDeterminismError(
                self.execution_id, seq, f"{rec.name}#{rec.req[:8]}", f"{name}#{digest[:8]}"
            )
        return rec


class JournalExhausted(JarvisError):
    """An offline replay (``jarvis journals replay``) reached an effect the journal does not
    have: from here the execution would run live, which a replay never does."""

    def __init__(self, execution_id: str, effect_seq: int, name: str) -> None:
        self.execution_id = execution_id
        self.effect_seq = effect_seq
        self.name = name
        super().__init__(
            f"execution {execution_id}: the journal ends before effect #{effect_seq} ({name}); "
            "a live run would go on from here"
        )
