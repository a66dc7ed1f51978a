"""The Kafka message contract: one pydantic model per message, the single source of truth.

JSON Schemas in ``jarvis/topics/schemas/`` are generated from these models
(``jarvis contract export``); a test fails when they drift. Every message carries
``version``; unknown *newer* fields are ignored, so producers can add optional fields
without breaking older workers. A version this code does not know is rejected.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Final, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    Strict,
    field_validator,
    model_validator,
)

ContractVersion = Literal[1, 2]
"""The schema versions this release reads. They have the same fields; they differ in one
meaning: since version 2 every column in the contract is 0-based (``ErrorInfo.col`` and
``TraceFrame.col`` were 1-based in version 1; log records' columns were 0-based in both)."""

READ_VERSIONS: tuple[int, ...] = get_args(ContractVersion)
READ_VERSIONS_TEXT = " or ".join(str(v) for v in READ_VERSIONS)

CONTRACT_VERSION: Final = 2
"""The schema version this release writes (and the newest it reads)."""

COLUMNS = (
    "0-based: characters from the start of the line (Python's ast counts UTF-8 bytes; "
    "Jarvis counts characters), as the code counts them; rendered text (tracebacks, "
    "`file:line:col`) shows it plus 1, as editors do."
)
"""The one column convention of the contract, quoted in every column's description."""

MAX_JSON_DEPTH = 64
"""How deeply a JSON value in a control message may nest (``inputs`` values, unknown
fields): ``{"a": [[1]]}`` as an input value ``a`` nests 2 levels. Deeper values are refused
when the message arrives, naming the field: the host copies and re-serialises inputs and
results (orjson stops at 255 levels, Python's recursion limit near 1000), and no program
needs its inputs nested deeper than this. JSON Schema cannot say it; the parser does."""

MAX_INT = 2**63 - 1
"""Largest per-execution limit a start command may ask for (a 64-bit integer)."""

MAX_WALL_S_REQUEST = 30 * 24 * 3600.0
"""Largest ``max_wall_s`` a start command may ask for (30 days); the operator's cap
(``JARVIS_LIMIT_MAX_WALL_S``, 24 h by default) usually clamps it further."""

PROGRAM_REF_PATTERN = r"^s3://[^/]+/.+$"
"""``program.ref``: an ``s3://bucket/key`` URI with a bucket and a key."""

# Unicode category Cc: C0 controls, DEL and C1 controls. A NUL or newline in a file name
# breaks tracebacks and the compiler, which would report it as the program's syntax error.
_CONTROL_CHAR = re.compile("[\x00-\x1f\x7f-\x9f]")

EXECUTION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
"""Execution ids become Kafka keys, Redis keys and directory names: keep them path-safe."""

ExecutionId = Annotated[
    str,
    Field(
        pattern=EXECUTION_ID_PATTERN,
        description="Caller-chosen id, unique per execution; letters, digits and . _ : - (max 128).",
        examples=["order-42", "nightly.2026-11-23"],
    ),
]

LogLevel = Literal["full", "statements", "effects"]

StopMode = Literal["cancel", "suspend"]
"""How a stop ends an execution: ``cancel`` ends it for good (a ``stopped`` event, its
journal closed); ``suspend`` keeps its journal, so a later start of the same execution id
resumes it. The ``mode`` of a stop command and the ``stop_mode`` of a ``stopped`` event."""

STOP_MODES: tuple[StopMode, ...] = get_args(StopMode)


class _Message(BaseModel):
    # Unknown newer fields are tolerated (ignored), per DESIGN.md §3.
    model_config = ConfigDict(extra="ignore", frozen=True)

    version: ContractVersion = Field(
        default=CONTRACT_VERSION,
        description="Schema version of this message: this release writes 2 and reads 1 and 2 "
        "(the same fields; in version 1, errors' `col` were 1-based).",
    )

    @field_validator("version", mode="before")
    @classmethod
    def _integer_version(cls, value: object) -> object:
        # Literal[1, 2] alone takes true and 1.0 (they equal 1); JSON Schema's enum does not.
        if type(value) is not int:
            raise ValueError(f"version must be the integer {READ_VERSIONS_TEXT}")
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- spy_control ----------------------------------------------------------------------


class ProgramSpec(BaseModel):
    """The program to run: its source inline, or a reference to it in object storage."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    source: str | None = Field(default=None, description="SPy source text.")
    ref: str | None = Field(
        default=None,
        description="s3://bucket/key of the SPy source, read with the worker's object-store "
        "credentials; the bucket must be one the worker allows (JARVIS_PROGRAM_REF_BUCKETS).",
        json_schema_extra={"pattern": PROGRAM_REF_PATTERN},
    )
    filename: str = Field(
        default="program.spy",
        min_length=1,
        max_length=256,
        description="Name shown in tracebacks and logs; no control characters.",
        json_schema_extra={"pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"},
    )

    @field_validator("filename")
    @classmethod
    def _printable(cls, value: str) -> str:
        found = _CONTROL_CHAR.search(value)
        if found is not None:
            raise ValueError(
                f"control character U+{ord(found.group()):04X} at position {found.start()}: "
                "use a printable file name"
            )
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> ProgramSpec:
        if (self.source is None) == (self.ref is None):
            raise ValueError("give exactly one of program.source or program.ref")
        if self.ref is not None and re.fullmatch(PROGRAM_REF_PATTERN, self.ref) is None:
            raise ValueError("program.ref must be an s3://bucket/key URI")
        return self


# Limits are numbers, never strings or booleans ("1000000", true): strict, so that what the
# schema says (type integer / number) is what the worker accepts.
Count = Annotated[int, Strict(), Field(gt=0, le=MAX_INT)]
Seconds = Annotated[float, Strict(), Field(gt=0, le=MAX_WALL_S_REQUEST, allow_inf_nan=False)]


class LimitOverrides(BaseModel):
    """Per-execution limits. Unset fields take the worker's defaults; every value is
    capped by the operator's maximum (``JARVIS_LIMIT_MAX_*``)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    max_steps: Count | None = Field(default=None, description="Loop iterations + function calls.")
    max_wall_s: Seconds | None = Field(
        default=None, description="Wall-clock time of the run, seconds (finite, at most 30 days)."
    )
    max_memory_bytes: Count | None = Field(
        default=None, description="Largest value a single operation may build."
    )
    max_recursion: Count | None = Field(default=None, description="SPy call depth.")
    max_output_bytes: Count | None = Field(default=None, description="Total printed text.")
    max_log_records: Count | None = Field(
        default=None,
        description="Record budget: past it the log says so once and continues at level `effects`.",
    )
    max_artifacts: Count | None = Field(default=None, description="Artifacts the run may store.")
    max_artifact_bytes: Count | None = Field(
        default=None, description="Total bytes of the run's artifacts."
    )
    max_stored_log_bytes: Count | None = Field(
        default=None, description="Total bytes of oversized log values stored whole as artifacts."
    )
    max_result_bytes: Count | None = Field(
        default=None,
        description="Largest result (JSON bytes); results above the inline limit are stored as `result.json`.",
    )


class ExecutionOptions(BaseModel):
    """Per-execution options; operators cap them in the worker's settings."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    log_level: LogLevel = Field(
        default="full",
        description="full: assignments, expression statements, prints, Book calls and branches "
        "taken; statements: the same without branches; effects: Book calls and prints only.",
    )
    limits: LimitOverrides = Field(default_factory=LimitOverrides)


class StartCommand(_Message):
    """Start (or, for a suspended execution, resume) a program run."""

    type: Literal["start"] = "start"
    execution_id: ExecutionId
    program: ProgramSpec
    inputs: dict[str, JsonValue] = Field(
        default_factory=dict,
        description="Plain JSON data, visible to the program as `inputs`. Each value nests at most "
        "64 levels; integers fit in 64 bits (send bigger ones as strings).",
    )
    books: list[str] = Field(
        default_factory=list, description="Book names the program may call (its capabilities)."
    )
    options: ExecutionOptions = Field(default_factory=ExecutionOptions)
    labels: dict[str, str] = Field(
        default_factory=dict, description="Free-form tags copied onto every lifecycle event."
    )


class StopCommand(_Message):
    """Stop an execution wherever it runs."""

    type: Literal["stop"] = "stop"
    execution_id: ExecutionId
    mode: StopMode = Field(
        default="cancel",
        description="cancel: terminal; suspend: keep the journal so a later start resumes it.",
    )
    reason: str | None = Field(default=None, max_length=1000)


ControlCommand = Annotated[StartCommand | StopCommand, Field(discriminator="type")]


# --- spy_events ------------------------------------------------------------------------

EventType = Literal["accepted", "started", "resumed", "completed", "failed", "rejected", "stopped"]
TERMINAL_EVENTS: frozenset[str] = frozenset({"completed", "failed", "rejected", "stopped"})


class TraceFrame(BaseModel):
    model_config = ConfigDict(frozen=True)

    function: str
    line: int
    col: int = Field(description=f"Column of the failing operation. {COLUMNS}")
    source_line: str


class ErrorInfo(BaseModel):
    """Why an execution failed or was rejected: a SPy traceback, never host frames."""

    model_config = ConfigDict(frozen=True)

    type: str = Field(description="SPy error type, e.g. ZeroDivisionError, SpySyntaxError.")
    message: str
    line: int | None = None
    col: int | None = Field(
        default=None, description=f"Column of the error (the innermost frame's). {COLUMNS}"
    )
    frames: list[TraceFrame] = Field(default_factory=list)
    traceback: str = Field(description="Rendered, human-readable traceback.")


class ArtifactRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    uri: str = Field(description="s3://bucket/key (worker) or file:// URI (jarvis run).")
    size: int
    url: str | None = Field(
        default=None,
        description="Worker: a SigV4 presigned GET URL of the artifact (the endpoint's scheme, "
        "https on AWS), usable without credentials until `url_expires_at`; signed when the "
        "event is published. Absent (null) for a local store (jarvis run) or when signing failed.",
    )
    url_expires_at: datetime | None = Field(
        default=None,
        description="When `url` stops working (UTC): the configured expiry "
        "(JARVIS_ARTIFACT_URL_EXPIRY_S), or earlier when the worker's temporary credentials "
        "(IRSA) expire first.",
    )


class LifecycleEvent(_Message):
    """One step of an execution's lifecycle, keyed by execution id on ``spy_events``."""

    execution_id: ExecutionId
    event: EventType
    at: datetime = Field(default_factory=utcnow)
    worker: str = Field(description="Worker (pod) that emitted the event.")
    program_digest: str | None = Field(default=None, description="sha256 of the program source.")
    result: JsonValue = Field(default=None, description="completed: the program's `result`.")
    result_type: str | None = None
    result_ref: str | None = Field(
        default=None,
        description="completed: where the result is stored (`result.json`) when its JSON is larger "
        "than the event's inline limit; `result` is then null.",
    )
    result_bytes: int | None = Field(
        default=None, description="completed: size of the result as JSON."
    )
    result_url: str | None = Field(
        default=None,
        description="completed with `result_ref`: a presigned GET URL of `result.json` "
        "(as artifacts' `url`).",
    )
    result_url_expires_at: datetime | None = Field(
        default=None, description="When `result_url` stops working (UTC)."
    )
    error: ErrorInfo | None = Field(default=None, description="failed / rejected: why.")
    stop_mode: StopMode | None = Field(default=None, description="stopped: how.")
    log_records: int | None = Field(
        default=None, description="Terminal events: number of log records (seq 0..n-1) emitted."
    )
    artifacts: list[ArtifactRef] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)

    @property
    def terminal(self) -> bool:
        return self.event in TERMINAL_EVENTS


# --- spy_logs --------------------------------------------------------------------------


class LogRecord(_Message):
    """One raw execution log record, keyed by execution id on ``spy_logs``.

    ``(execution_id, seq)`` is its identity: seq runs 0..n-1 without gaps per execution.
    """

    execution_id: ExecutionId
    seq: int = Field(ge=0)
    kind: str = Field(
        description="assign | expr | print | book | branch (program records); "
        "book_attempt (a failed Book attempt); budget (the record budget was reached); "
        "storage_wait (an artifact upload is waiting out an object-store outage)"
    )
    line: int
    col: int = Field(description=f"Column of the statement's start. {COLUMNS}")
    end_line: int
    end_col: int = Field(
        description="Column just past the statement's end on `end_line` (exclusive), "
        "0-based like `col`."
    )
    source: str = Field(description="Exact program text of the statement.")
    value: JsonValue = Field(description="The value, rendered as JSON-safe data.")
    type: str = Field(description="SPy type name of the value.")
    truncated: bool = Field(
        default=False,
        description="The value was larger than the record size limit: `value` holds a prefix "
        "of its JSON text and `value_ref` the whole value.",
    )
    value_ref: str | None = Field(
        default=None, description="URI of the whole value when truncated."
    )
    at: datetime = Field(
        default_factory=utcnow,
        description="Wall time the record was made (millisecond marks; informative: not "
        "unique, and a replayed record carries a new one). Use `ts` as a time-series key.",
    )
    ts: int | None = Field(
        default=None,
        ge=0,
        description="Timestamp in nanoseconds since the Unix epoch, strictly increasing per "
        "execution and the same in every replay or redelivery of the record: "
        "max(previous ts + 1, anchor), the anchor being the latest journaled time (the "
        "start, each effect, a sleep's wake-up) at or before the record. Absent only in "
        "records from workers older than this field.",
    )


def dump(message: BaseModel) -> bytes:
    """Serialise a contract message to the JSON bytes put on Kafka."""
    return message.model_dump_json(exclude_none=False).encode()
