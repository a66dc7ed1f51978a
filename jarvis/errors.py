"""One root error, one class per phase.

Every error carries the offending input (execution id, line/col, message field) and its
message says what to do about it. Only the worker loop turns an error into a Kafka
outcome (a ``failed`` event, a dead letter); inner code just raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Interruption = Literal["cancel", "suspend", "handoff"]
"""Why a running program must stop now, as ``Stopped.mode`` carries it: a stop command's
``StopMode`` (``jarvis.contract.messages``: ``cancel``, ``suspend``), or ``handoff``, which is
the worker's own and never on the wire (the partition moved, the lease was lost or the
worker is leaving: the journal stays open and the next owner resumes the execution).
Spelt out here because this module is the lowest layer; a test keeps it equal to
``StopMode`` plus ``handoff``."""


class JarvisError(Exception):
    """Root of every error Jarvis raises on purpose."""


@dataclass(frozen=True)
class SourceLocation:
    """A place in a SPy program: 1-based line, 0-based column (as Python's ``ast``)."""

    line: int
    col: int
    end_line: int | None = None
    end_col: int | None = None


class SpySyntaxError(JarvisError):
    """The program was rejected before running: bad syntax or a construct SPy does not allow."""

    def __init__(
        self,
        message: str,
        line: int,
        col: int,
        source_line: str = "",
        hint: str | None = None,
        filename: str = "<program>",
    ) -> None:
        self.message = message
        self.line = line
        self.col = col
        self.source_line = source_line
        self.hint = hint
        self.filename = filename
        super().__init__(self.render())

    def render(self) -> str:
        text = f"{self.filename}:{self.line}:{self.col + 1}: {self.message}"
        if self.source_line:
            text += f"\n    {self.source_line}\n    {' ' * self.col}^"
        if self.hint:
            text += f"\nhint: {self.hint}"
        return text


@dataclass(frozen=True)
class SpyFrame:
    """One frame of a SPy traceback: program coordinates only, never host frames."""

    function: str
    line: int
    col: int
    source_line: str


class SpyRuntimeError(JarvisError):
    """The program raised (or hit) an exception while running.

    ``spy_type`` is the SPy exception type name (``ZeroDivisionError``...),
    ``frames`` the SPy traceback, innermost last.
    """

    def __init__(
        self,
        spy_type: str,
        message: str,
        frames: list[SpyFrame] | None = None,
        filename: str = "<program>",
    ) -> None:
        self.spy_type = spy_type
        self.message = message
        self.frames = list(frames or [])
        self.filename = filename
        super().__init__(self.render())

    @property
    def line(self) -> int | None:
        return self.frames[-1].line if self.frames else None

    @property
    def col(self) -> int | None:
        return self.frames[-1].col if self.frames else None

    def render(self) -> str:
        lines = ["SPy traceback (most recent call last):"]
        for fr in self.frames:
            lines.append(
                f'  File "{self.filename}", line {fr.line}, col {fr.col + 1}, in {fr.function}'
            )
            if fr.source_line:
                lines.append(f"    {fr.source_line.strip()}")
        lines.append(f"{self.spy_type}: {self.message}")
        return "\n".join(lines)


class RunLimitExceeded(SpyRuntimeError):
    """One of the run's ``Limits`` (steps, time, memory, recursion, log records...) was hit.

    A host class no program can name or catch; its ``spy_type`` (what the traceback and the
    outcome show) is ``"LimitExceeded"``. Not the SPy-visible ``LimitExceeded`` a Book may
    raise in a program (``jarvis.spy.runtime.exceptions``), which programs catch.
    """


class NonDeterminismError(JarvisError):
    """Replay asked for a different effect than the journal recorded at that sequence."""

    def __init__(self, execution_id: str, effect_seq: int, expected: str, got: str) -> None:
        self.execution_id = execution_id
        self.effect_seq = effect_seq
        self.expected = expected
        self.got = got
        super().__init__(
            f"execution {execution_id}: effect #{effect_seq} replayed as {got!r} but the journal "
            f"recorded {expected!r}; the program or its inputs changed since the journal was "
            "written. Start it under a new execution id."
        )


MAX_REASON_CHARS = 300
"""A dead letter's reason is one short line: longer texts (a value's repr, a long Book
list) are clipped with an ellipsis, so headers, logs and dashboards stay readable."""

MAX_FIELD_CHARS = 200
"""A field path longer than this (deeply nested inputs, a huge dict key) is clipped."""


def clip_counted(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how many more there were."""
    return (
        text
        if len(text) <= limit
        else text[:limit] + f"... [{len(text) - limit:,} more characters]"
    )


def clip(text: str, limit: int) -> str:
    """``text`` on one line and at most ``limit`` characters, ending in an ellipsis if cut."""
    if "\n" in text or "\r" in text:
        text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


class ControlMessageError(JarvisError):
    """A control message could not be parsed or validated; it goes to the dead-letter topic.

    ``field`` is the offending JSON field as a dotted path (``program.source``,
    ``inputs.a.0``), ``key`` for the Kafka message key, or None for the message as a whole.
    Both the reason and the field are clipped to one short line (``MAX_REASON_CHARS``,
    ``MAX_FIELD_CHARS``).
    """

    def __init__(self, reason: str, field: str | None = None) -> None:
        self.reason = clip(reason, MAX_REASON_CHARS)
        self.field = None if field is None else clip(field, MAX_FIELD_CHARS)
        super().__init__(f"{self.field}: {self.reason}" if self.field else self.reason)


class JournalError(JarvisError):
    """The journal on the checkpoint volume is unreadable or cannot be written."""


class ArtifactError(JarvisError):
    """An artifact could not be stored."""


class Stopped(JarvisError):
    """Raised inside a running program when a stop (cancel or suspend) arrives."""

    def __init__(self, mode: Interruption) -> None:
        self.mode: Interruption = mode
        super().__init__(f"execution stopped ({mode})")


class ProgramError(Exception):
    """Raised by host code (a Book call, an effect) to raise a *SPy* exception in the program.

    Deliberately not a JarvisError: SPy turns it into the SPy exception named by
    ``spy_type`` (``BookError``, ``TypeError``, ``ValueError``...) at the call site, so the
    program can catch it with ``except``; uncaught, it fails the execution with a SPy
    traceback like any other program error.
    """

    def __init__(self, spy_type: str, message: str) -> None:
        self.spy_type = spy_type
        self.message = message
        super().__init__(message)


class BookUnavailable(JarvisError):
    """A Book cannot be used: unknown name, broken entry point, invalid configuration.

    Host-side: raised when a start command's Books are resolved, before the program runs,
    so the execution fails with this reason. (A Book *call* that fails at run time is the
    SPy-visible ``BookError`` instead, raised as ``ProgramError("BookError", ...)`` so
    programs can catch it: two concepts, two names.)
    """

    def __init__(self, message: str, book: str | None = None) -> None:
        self.book = book
        super().__init__(message)


class SandboxCrashed(JarvisError):
    """The sandbox process running an execution died: a signal, the OS memory cap, the CPU
    time limit, or the supervisor killed it past its wall-clock deadline.

    ``cause`` names it (``"SIGSEGV"``, ``"memory cap"``, ``"cpu time"``, ``"wall deadline"``);
    ``attempt`` of ``max_attempts``: the execution is retried (by replay, in a fresh sandbox)
    until it has crashed ``max_attempts`` times (``JARVIS_MAX_SANDBOX_CRASHES``), then fails
    for good on every pod. ``peak_rss_bytes`` is the sandbox's peak resident memory, as the
    OS reported it when it was reaped (None when unknown).
    """

    def __init__(
        self,
        cause: str,
        attempt: int = 1,
        max_attempts: int = 1,
        peak_rss_bytes: int | None = None,
    ) -> None:
        self.cause = cause
        self.attempt = attempt
        self.max_attempts = max_attempts
        self.peak_rss_bytes = peak_rss_bytes
        super().__init__(
            f"the sandbox running the program died ({cause}) on attempt {attempt} of "
            f"{max_attempts}; the program itself crashed its process or passed an OS limit "
            "(see docs/spy.md, threat model)"
        )


class InternalError(JarvisError):
    """A bug of Jarvis's own surfaced inside an execution (not the program's doing).

    The event says only this; the host traceback is in the worker's own log, under the
    execution id. The execution fails for good: retrying a host bug repeats it.
    """


class ServiceUnavailable(JarvisError):
    """A service Jarvis needs (Kafka, Redis, the object store) did not answer in time or
    refused: the message names the cause and ``address``, ``hint`` says what to check."""

    def __init__(self, cause: str, address: str, hint: str | None = None) -> None:
        self.cause = cause
        self.address = address
        self.hint = hint
        super().__init__(f"{cause} ({address})")
