"""Validate a start on arrival: what must hold before it takes a place in the ready queue.

A start asking for a Book this worker lacks never runs here, nor on any pod of the same
deployment (they load the same Books): it ends at once as ``rejected``, with its offset
committed like any other.
"""

from __future__ import annotations

from jarvis.books import BookRegistry
from jarvis.contract.messages import ErrorInfo, LifecycleEvent, StartCommand
from jarvis.errors import ControlMessageError, JarvisError, clip_counted
from jarvis.settings import Settings
from jarvis.worker.dispatch import Reject

MAX_REASON = 2000
"""Longest rejection reason an event carries (a start can list thousands of Books)."""


def clip(text: str, limit: int = MAX_REASON) -> str:
    return clip_counted(text, limit)


def rejected(command: StartCommand, worker_id: str, error_type: str, message: str) -> Reject:
    message = clip(message)
    return Reject(
        command,
        LifecycleEvent(
            execution_id=command.execution_id,
            event="rejected",
            worker=worker_id,
            log_records=0,
            error=ErrorInfo(type=error_type, message=message, traceback=f"{error_type}: {message}"),
            labels=command.labels,
        ),
    )


def admit(command: StartCommand, books: BookRegistry, worker_id: str) -> Reject | None:
    """None when ``command`` may run; else its rejection."""
    try:
        books.resolve(command.books)
    except JarvisError as exc:
        return rejected(command, worker_id, "UnknownBook", str(exc))
    return None


def allowed_ref_buckets(settings: Settings) -> frozenset[str]:
    """Buckets ``program.ref`` may name: ``JARVIS_PROGRAM_REF_BUCKETS``, else the artifact bucket."""
    if settings.program_ref_buckets is None:
        return frozenset({settings.s3_bucket})
    return frozenset(settings.program_ref_buckets)


def check_program_ref(ref: str | None, settings: Settings) -> None:
    """Refuse a ``program.ref`` outside the allowed buckets (ControlMessageError, field
    ``program.ref``): the worker reads it with its own object-store credentials, which may
    reach buckets the sender should not read through a program's error messages.

    ``ref`` is None for an inline program (nothing to check). The URI's form
    (``s3://bucket/key``) was already checked by the schema.
    """
    if ref is None:
        return
    allowed = allowed_ref_buckets(settings)
    if "*" in allowed:
        return
    bucket = ref.removeprefix("s3://").partition("/")[0]
    if bucket not in allowed:
        shown = bucket if len(bucket) <= 64 else bucket[:63] + "\u2026"
        names = ", ".join(sorted(allowed)[:5]) + (" ..." if len(allowed) > 5 else "")
        raise ControlMessageError(
            f"bucket {shown!r} is not allowed for programs (allowed: {names}; "
            "JARVIS_PROGRAM_REF_BUCKETS)",
            field="program.ref",
        )
