"""The resource limits of one SPy run: the documented value object ``Limits``.

A program that hits a limit fails with ``LimitExceeded`` and a SPy traceback pointing at
the offending line; the runtime's meter (``runtime/meter.py``) and guards enforce them.
"""

from __future__ import annotations

from dataclasses import dataclass

KiB = 1024
MiB = 1024 * KiB


@dataclass(frozen=True)
class Limits:
    """Per-run resource limits. Every default is chosen for a worker pod that runs a few
    executions side by side in one process; the reason is next to each field."""

    max_steps: int = 100_000_000
    """Loop iterations + function calls (+ elements of big ranges consumed by builtins).
    SPy runs ~10-30M steps/s, so this is seconds of pure computation: a runaway loop
    fails quickly and *deterministically* (the same step on every replay), long before
    the wall-clock limit."""

    max_wall_s: float = 600.0
    """Wall-clock seconds for one ``run_program`` call, time spent in effects (Book calls,
    ``sleep``) included. Generous because programs wait on Books; it is the backstop for
    what steps do not count (a slow host, one huge builtin operation)."""

    max_memory_bytes: int = 256 * MiB
    """Largest value one operation may create (``'a' * n``, ``[0] * n``, ``2 ** n``,
    ``s.ljust(n)``, ``str.join``, f-string widths, ``list(range(n))``...), estimated
    *before* allocating, and what the program may hold over many steps (resident growth
    judged by a heap walk). Each execution runs alone in its sandbox process, whose OS
    address-space cap (this plus ``JARVIS_SANDBOX_MEMORY_OVERHEAD_BYTES``) is the backstop;
    256 MiB keeps a pod of a few sandboxes well inside a typical pod's memory."""

    max_int_bits: int = 1_000_000
    """Largest int (in bits) that ``*``, ``**``, ``<<``, ``pow`` and ``math`` may create.
    CPython's int division is quadratic: dividing two 1M-bit ints already takes ~1 s
    of uninterruptible, GIL-holding time; bigger ints would stall every execution in
    the process. (Printing is capped far below anyway: 4300 digits.)"""

    max_recursion: int = 400
    """SPy call depth (Python frames above ``run_program``, helpers included). CPython's
    own limit is 1000 frames for the whole thread, and the host needs headroom below
    the program (``render_value`` recurses up to 100 levels, the worker and the sink
    add ~50): 400 keeps every host call far from CPython's RecursionError."""

    max_output_bytes: int = 10 * MiB
    """Total text printed (UTF-8 bytes). Print records go to Kafka and to people's
    screens; 10 MiB is far more than anyone reads and bounds what one run can push."""

    max_program_bytes: int = 256 * KiB
    """Size of the source (UTF-8 bytes), checked before parsing. Compiling costs ~50 µs
    per statement, so 256 KiB (~8k statements) compiles in a quarter of a second. The
    worker's default too (``JARVIS_MAX_PROGRAM_BYTES``; a test keeps the two equal)."""

    max_artifacts: int = 1000
    """Artifacts one run may store (``artifact()`` calls; a replay overwrites the same
    objects). Each is an object-store write and a journal record; a thousand is far more
    than a report-producing program needs and bounds what a loop of uploads can cost."""

    max_artifact_bytes: int = 1024 * MiB
    """Total bytes of the artifacts one run stores. One artifact is also bounded by
    ``max_memory_bytes`` (it is a value first); 1 GiB bounds the object-store bill of a
    loop of large uploads."""

    max_stored_log_bytes: int = 256 * MiB
    """Total bytes of oversized log values stored whole as artifacts (a record keeps a
    prefix and a ``value_ref``). Past it, records are still truncated but no longer
    stored (``value_ref`` is null): logging never fails a program, but one cannot fill
    the object store by assigning big values in a loop."""

    max_result_bytes: int = 64 * MiB
    """Size of the result as JSON. A result larger than the inline limit of the
    lifecycle event (``JARVIS_MAX_INLINE_RESULT_BYTES``) is stored as the artifact
    ``result.json`` and referenced; past this limit the run fails with LimitExceeded
    instead of storing it."""

    def __post_init__(self) -> None:
        for name in (
            "max_steps", "max_memory_bytes", "max_int_bits", "max_recursion",
            "max_output_bytes", "max_program_bytes", "max_artifacts", "max_artifact_bytes",
            "max_stored_log_bytes", "max_result_bytes",
        ):  # fmt: skip
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise ValueError(f"Limits.{name} must be a positive int, got {value!r}")
        if not (isinstance(self.max_wall_s, int | float) and self.max_wall_s > 0):
            raise ValueError(
                f"Limits.max_wall_s must be a positive number, got {self.max_wall_s!r}"
            )
