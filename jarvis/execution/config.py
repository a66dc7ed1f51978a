"""What one run needs besides its start command, resolved once from Settings."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from jarvis.artifacts import ArtifactStore, LocalArtifactStore
from jarvis.contract.messages import LimitOverrides, StartCommand
from jarvis.execution.host import BookCaller, Fault, LogPolicy
from jarvis.journal import Fence
from jarvis.journal.durability import DIRECT, Durability
from jarvis.sandbox import SandboxPolicy, SandboxPool
from jarvis.settings import Settings
from jarvis.spy import Limits


class Procedures(Protocol):
    """What RunConfig needs from the Books registry: the procedures of the named Books."""

    def procedures(self, names: Iterable[str]) -> dict[str, list[str]]: ...


_DEFAULT_LIMITS = Limits(max_program_bytes=Settings.model_fields["max_program_bytes"].default)
"""A RunConfig built without ``for_command`` (tests, embedding) still takes its program-size
default from the settings (``JARVIS_MAX_PROGRAM_BYTES``), not from SPy's own."""

MAX_LIMIT_MEMO = 1024
"""Distinct limit requests whose effective limits a memo keeps (a handful in practice)."""


@dataclass(frozen=True)
class RunConfig:
    """What one run needs besides its start command. Build it with ``for_command``: the
    worker and ``jarvis run`` then read every setting the same way."""

    journal_root: Path
    worker_id: str
    artifacts: ArtifactStore
    books: BookCaller | None = None
    procedures: dict[str, list[str]] = field(default_factory=dict)  # allowed Book -> procedures
    limits: Limits = field(default_factory=lambda: _DEFAULT_LIMITS)  # max_program_bytes included
    log_policy: LogPolicy = field(default_factory=LogPolicy)
    storage_deadline_s: float = 300.0  # how long an artifact upload waits out an S3 outage
    fence: Fence | None = None  # the worker's lease on this execution (None: local run)
    fault: Fault | None = None  # tests only
    sandboxes: SandboxPool | None = None  # None: the process-wide jarvis.sandbox.default_pool()
    sandbox_policy: SandboxPolicy = field(default_factory=SandboxPolicy)
    max_sandbox_crashes: int = 2  # sandbox deaths after which the execution fails for good
    max_inline_result_bytes: int = 256 * 1024  # larger results are stored as result.json
    durability: Durability = (
        DIRECT  # how journal appends become durable (group commit in the worker)
    )
    live_effects: bool = True  # False: offline replay, an effect past the journal ends it

    @property
    def max_program_bytes(self) -> int:
        return self.limits.max_program_bytes

    @classmethod
    def for_command(
        cls,
        settings: Settings,
        command: StartCommand,
        *,
        artifacts: ArtifactStore,
        books: Procedures,
        caller: BookCaller | None,
        journal_root: Path | None = None,
        worker_id: str | None = None,
        fence: Fence | None = None,
        sandboxes: SandboxPool | None = None,
        durability: Durability = DIRECT,
        memo: dict[LimitOverrides, tuple[Limits, LogPolicy]] | None = None,
    ) -> RunConfig:
        """The run of ``command`` under ``settings``: the one place settings become a RunConfig.

        ``books`` resolves the command's Books to their procedures; ``caller`` makes the
        calls (the registry itself, or the worker's fenced wrapper of it). ``journal_root`` and ``worker_id``
        default to ``JARVIS_CHECKPOINT_DIR`` and ``JARVIS_WORKER_ID``. ``memo`` keeps the
        effective limits per distinct request (the worker's, across executions)."""
        requested = command.options.limits
        limits = None if memo is None else memo.get(requested)
        if limits is None:
            limits = effective_limits(requested, settings)
            if memo is not None and len(memo) < MAX_LIMIT_MEMO:
                memo[requested] = limits
        return cls(
            journal_root=settings.checkpoint_dir if journal_root is None else journal_root,
            worker_id=settings.worker_id if worker_id is None else worker_id,
            artifacts=artifacts,
            books=caller,
            procedures=books.procedures(command.books),
            limits=limits[0],
            log_policy=limits[1],
            storage_deadline_s=settings.artifact_deadline_s,
            fence=fence,
            sandboxes=sandboxes,
            sandbox_policy=sandbox_policy(settings),
            max_sandbox_crashes=settings.max_sandbox_crashes,
            max_inline_result_bytes=settings.max_inline_result_bytes,
            durability=durability,
        )

    @classmethod
    def local(
        cls,
        settings: Settings,
        command: StartCommand,
        directory: Path,
        books: Procedures,
        caller: BookCaller | None,
        worker_id: str = "local",
    ) -> RunConfig:
        """A run with no services (``jarvis run``, offline replay): its journal and artifacts
        under ``directory``, a sandbox pool of one of its own (the caller closes it)."""
        return cls.for_command(
            settings,
            command,
            artifacts=LocalArtifactStore(directory / "artifacts"),
            books=books,
            caller=caller,
            journal_root=directory / "journals",
            worker_id=worker_id,
            sandboxes=SandboxPool(1),
        )


def _capped(requested: float | None, default: float, cap: float) -> float:
    value = default if requested is None else requested
    return min(value, cap)


def effective_limits(requested: LimitOverrides, settings: Settings) -> tuple[Limits, LogPolicy]:
    """The limits a run gets: what it asked for (else the default), clamped to the operator's
    cap (``JARVIS_LIMIT_MAX_*``, each with a finite default): a request above a cap runs with
    the cap, and a cap below SPy's default lowers the default."""
    base = Limits()
    limits = dataclasses.replace(
        base,
        max_steps=int(_capped(requested.max_steps, base.max_steps, settings.limit_max_steps)),
        max_wall_s=_capped(requested.max_wall_s, base.max_wall_s, settings.limit_max_wall_s),
        max_memory_bytes=int(
            _capped(
                requested.max_memory_bytes, base.max_memory_bytes, settings.limit_max_memory_bytes
            )
        ),
        max_recursion=int(
            _capped(requested.max_recursion, base.max_recursion, settings.limit_max_recursion)
        ),
        max_output_bytes=int(
            _capped(
                requested.max_output_bytes, base.max_output_bytes, settings.limit_max_output_bytes
            )
        ),
        max_program_bytes=settings.max_program_bytes,
        max_artifacts=int(
            _capped(requested.max_artifacts, base.max_artifacts, settings.limit_max_artifacts)
        ),
        max_artifact_bytes=int(
            _capped(
                requested.max_artifact_bytes,
                base.max_artifact_bytes,
                settings.limit_max_artifact_bytes,
            )
        ),
        max_stored_log_bytes=int(
            _capped(
                requested.max_stored_log_bytes,
                base.max_stored_log_bytes,
                settings.limit_max_stored_log_bytes,
            )
        ),
        max_result_bytes=int(
            _capped(
                requested.max_result_bytes, base.max_result_bytes, settings.limit_max_result_bytes
            )
        ),
    )
    policy = LogPolicy(
        max_records=int(
            _capped(
                requested.max_log_records,
                settings.default_log_records,
                settings.limit_max_log_records,
            )
        ),
        max_value_bytes=settings.max_log_value_bytes,
    )
    return limits, policy


def sandbox_policy(settings: Settings) -> SandboxPolicy:
    """The sandboxes' OS limits and deadlines, from ``JARVIS_SANDBOX_*``."""
    return SandboxPolicy(
        memory_cap_bytes=settings.sandbox_memory_cap_bytes,
        memory_overhead_bytes=settings.sandbox_memory_overhead_bytes,
        wall_grace_s=settings.sandbox_wall_grace_s,
        stop_grace_s=settings.sandbox_stop_grace_s,
        max_runs=settings.sandbox_max_runs,
        recycle_bytes=settings.sandbox_recycle_bytes,
    )
