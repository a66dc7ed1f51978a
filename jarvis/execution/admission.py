"""Checks a start command must pass on this worker before it is admitted (validate on
arrival): what depends on the deployment rather than on the message schema."""

from __future__ import annotations

from jarvis.errors import ControlMessageError
from jarvis.settings import Settings


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
