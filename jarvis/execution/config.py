"""What one run needs besides its start command, resolved once from Settings."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from jarvis.artifacts import ArtifactStore
from jarvis.contract.messages import LimitOverrides
from jarvis.execution.host import BookCaller, Fault, LogPolicy
from jarvis.journal import Fence
from jarvis.settings import Settings
from jarvis.spy import Limits


@dataclass(frozen=True)
class RunConfig:
    journal_root: Path
    worker_id: str
    artifacts: ArtifactStore
    books: BookCaller | None = None
    procedures: dict[str, list[str]] = field(default_factory=dict)  # allowed Book -> procedures
    limits: Limits = field(default_factory=Limits)
    log_policy: LogPolicy = field(default_factory=LogPolicy)
    max_program_bytes: int = 256 * 1024
    storage_deadline_s: float = 300.0  # how long an artifact upload waits out an S3 outage
    fence: Fence | None = None  # the worker's lease on this execution (None: local run)
    fault: Fault | None = None  # tests only


def _capped(requested: float | None, default: float, cap: float | None) -> float:
    value = default if requested is None else requested
    return value if cap is None else min(value, cap)


def effective_limits(requested: LimitOverrides, settings: Settings) -> tuple[Limits, LogPolicy]:
    """The limits a run gets: what it asked for (else the default), capped by the operator."""
    base = Limits()
    limits = dataclasses.replace(
        base,
        max_steps=int(_capped(requested.max_steps, base.max_steps, settings.limit_max_steps)),
        max_wall_s=_capped(requested.max_wall_s, base.max_wall_s, settings.limit_max_wall_s),
        max_memory_bytes=int(
            _capped(requested.max_memory_bytes, base.max_memory_bytes, settings.limit_max_memory_bytes)
        ),
        max_recursion=int(_capped(requested.max_recursion, base.max_recursion, settings.limit_max_recursion)),
        max_output_bytes=int(
            _capped(requested.max_output_bytes, base.max_output_bytes, settings.limit_max_output_bytes)
        ),
        max_program_bytes=settings.max_program_bytes,
    )
    policy = LogPolicy(
        max_records=int(
            _capped(requested.max_log_records, settings.default_log_records, settings.limit_max_log_records)
        ),
        max_value_bytes=settings.max_log_value_bytes,
    )
    return limits, policy
