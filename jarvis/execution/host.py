"""The SPy host of one execution: journaled effects with replay, log records, stop checks.

Effects follow DESIGN.md §1: the ``seq``-th effect is answered from the journal when the
journal has it (replay), after checking the request matches; otherwise it runs live and
its result is appended and fsynced *before* the program sees it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson

from jarvis.artifacts import ArtifactStore
from jarvis.contract.messages import ArtifactRef
from jarvis.errors import JarvisError, NonDeterminismError, Stopped
from jarvis.execution.sinks import Sink
from jarvis.journal import Journal
from jarvis.spy import Site, render_value

EffectHandler = Callable[[tuple[Any, ...], str], tuple[Any, dict[str, Any]]]
"""(args, idempotency_key) -> (result the program sees, metadata kept in the journal)."""


def request_digest(name: str, args: tuple[Any, ...]) -> str:
    body = orjson.dumps([name, list(args)], default=repr, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(body).hexdigest()[:32]


class ExecutionHost:
    def __init__(
        self,
        execution_id: str,
        journal: Journal,
        sink: Sink,
        artifacts: ArtifactStore,
    ) -> None:
        self.execution_id = execution_id
        self.journal = journal
        self.sink = sink
        self.artifact_store = artifacts
        self.seq = 0
        self.effect_seq = 0
        self._recorded = journal.effects
        self.replaying = bool(self._recorded)
        self.artifacts: list[ArtifactRef] = []
        # Set from another thread (the worker's stop watcher); read at every check().
        self.stop_requested: str | None = None
        # A host-side failure the program must not be able to swallow or rewrap.
        self.fatal: JarvisError | None = None
        self._handlers: dict[str, EffectHandler] = {"artifact": self._artifact}

    # --- Host protocol (called by the running program) ---

    def emit(self, site: Site, value: object) -> None:
        data, type_name = render_value(value)
        self.sink.log(
            self.execution_id,
            {
                "version": 1,
                "execution_id": self.execution_id,
                "seq": self.seq,
                "kind": site.kind,
                "line": site.line,
                "col": site.col,
                "end_line": site.end_line,
                "end_col": site.end_col,
                "source": site.source,
                "value": data,
                "type": type_name,
                "at": datetime.now(UTC).isoformat(),
            },
        )
        self.seq += 1

    def check(self) -> None:
        if self.stop_requested is not None:
            raise Stopped(self.stop_requested)

    def effect(self, name: str, args: tuple[object, ...]) -> object:
        seq = self.effect_seq
        self.effect_seq += 1
        digest = request_digest(name, args)
        if seq < len(self._recorded):
            rec = self._recorded[seq]
            if rec["name"] != name or rec["req"] != digest:
                self.fatal = NonDeterminismError(
                    self.execution_id, seq, f"{rec['name']}#{rec['req'][:8]}", f"{name}#{digest[:8]}"
                )
                raise self.fatal
            self._after(name, rec["result"], rec.get("meta", {}))
            if seq == len(self._recorded) - 1:
                self.replaying = False
            return rec["result"]
        self.replaying = False
        handler = self._handlers.get(name)
        if handler is None:
            raise NameError(f"effect {name!r} is not available to this program")
        result, meta = handler(args, f"{self.execution_id}:{seq}")
        try:
            self.journal.append(
                {"t": "effect", "seq": seq, "name": name, "req": digest, "result": result, "meta": meta}
            )
        except JarvisError as exc:
            self.fatal = exc
            raise
        self._after(name, result, meta)
        return result

    # --- effects ---

    def _artifact(self, args: tuple[Any, ...], idempotency_key: str) -> tuple[Any, dict[str, Any]]:
        name, content = args
        data = content.encode() if isinstance(content, str) else bytes(content)
        try:
            stored = self.artifact_store.put(self.execution_id, name, data)
        except JarvisError as exc:
            self.fatal = exc
            raise
        return stored.uri, {"size": stored.size, "name": stored.name}

    def _after(self, name: str, result: Any, meta: dict[str, Any]) -> None:
        if name == "artifact":
            self.artifacts.append(ArtifactRef(name=meta["name"], uri=result, size=meta["size"]))
