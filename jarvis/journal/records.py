"""The journal's records: one type per kind, and the one encoder and decoder of the format.

A journal line is ``<crc32 of the JSON as 8 hex digits> <JSON object>\\n``; the object's
``t`` names its kind and ``k`` is the fencing token of the writer that appended it (absent
for an unfenced writer: ``jarvis run``). The kinds:

=========  =====================================================================
``fence``  a writer took the execution over (the first one carries the start command)
``start``  the program compiled: its digest, inputs and Books (``format``: FORMAT_VERSION)
``effect`` one effect's outcome (result or SPy error), written ahead of the program
``crash``  the sandbox died on an attempt (counted towards ``max_sandbox_crashes``)
``end``    the terminal (or cancel) lifecycle event, as its JSON
=========  =====================================================================

**Versioning.** ``FORMAT_VERSION`` is written in every start record. A change that an older
release could not read (a new kind, a renamed or retyped field) bumps it, and adds golden
journals under ``tests/journal/golden/v<N>/`` while the older versions' files stay: every
release replays journals written by the previous one (rolling upgrades, DESIGN.md §1).
Optional fields that older releases ignore are not a break. Reading is lenient the way
format 1 needs: fields added during format 1 (``ns``, ``meta``, ``format``) may be absent.

Records are ``NamedTuple``s: immutable, typed, and as cheap to build as the dicts they
replace (a frozen dataclass costs 3x more per record, and effects are on the hot path).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any, NamedTuple

import orjson

from jarvis.errors import JournalError

FORMAT_VERSION = 1
"""The journal format this release writes (and the newest it reads)."""

_dumps = orjson.dumps
_crc32 = zlib.crc32

_EMPTY: Mapping[str, Any] = {}


class FenceMark(NamedTuple):
    """A writer's first record: from here on a lower ``k`` is a stale owner's, ignored."""

    command: dict[str, Any] | None = None  # the start command (first writer of a new journal)
    trace: dict[str, str] | None = None  # the start's W3C trace headers, beside the command
    k: int | None = None


class Start(NamedTuple):
    """The program compiled: what the execution is (a replay must compile the same digest)."""

    digest: str
    filename: str
    inputs: dict[str, Any]
    books: list[str]
    at: str | None = None  # ISO-8601 UTC, microseconds
    ns: int | None = None  # the first anchor of the log timestamps (absent in early journals)
    format: int = FORMAT_VERSION
    k: int | None = None


class EffectError(NamedTuple):
    """The SPy error an effect raised (a Book call that failed for good)."""

    type: str
    message: str


class Effect(NamedTuple):
    """Effect ``seq``'s outcome: its request digest, then its result or its error."""

    seq: int
    name: str
    req: str  # jarvis.execution.replay.request_digest of the request
    result: Any = None
    error: EffectError | None = None
    meta: Mapping[str, Any] = _EMPTY  # e.g. a sleep's ``until``, a Book call's failed attempts
    ns: int | None = None  # when it was journaled (the log timestamps' anchor)
    k: int | None = None


class Crash(NamedTuple):
    """The sandbox died on attempt ``attempt``."""

    cause: str | None
    attempt: int
    peak_rss: int | None = None
    k: int | None = None


class End(NamedTuple):
    """The execution's outcome: a ``LifecycleEvent`` as JSON (validated by whoever reads it)."""

    event: dict[str, Any]
    k: int | None = None


Record = FenceMark | Start | Effect | Crash | End

KINDS: dict[type[Record], str] = {
    FenceMark: "fence",
    Start: "start",
    Effect: "effect",
    Crash: "crash",
    End: "end",
}
"""Each record type and its ``t`` on disk."""


def kind_of(record: Record) -> str:
    return KINDS[type(record)]


def with_token(record: Record, k: int) -> Record:
    """``record`` stamped with a writer's fencing token."""
    return record if record.k == k else record._replace(k=k)


def _effect_json(record: Effect) -> dict[str, Any]:
    seq, name, req, result, error, meta, ns, k = record  # unpacking: cheaper than 8 lookups
    if error is None:
        out = {"t": "effect", "seq": seq, "name": name, "req": req, "result": result, "meta": meta}
    else:
        err = {"type": error.type, "message": error.message}
        out = {"t": "effect", "seq": seq, "name": name, "req": req, "error": err, "meta": meta}
    if ns is not None:
        out["ns"] = ns
    if k is not None:
        out["k"] = k
    return out


def to_json(record: Record) -> dict[str, Any]:
    """The record as its JSON object (the shape on disk)."""
    if type(record) is Effect:  # the hot path first
        return _effect_json(record)
    if type(record) is Start:
        out: dict[str, Any] = {
            "t": "start",
            "format": record.format,
            "digest": record.digest,
            "filename": record.filename,
            "inputs": record.inputs,
            "books": record.books,
            "at": record.at,
            "ns": record.ns,
        }
    elif type(record) is FenceMark:
        out = {"t": "fence"}
        if record.command is not None:
            out["command"] = record.command
        if record.trace:
            out["trace"] = record.trace
    elif type(record) is End:
        out = {"t": "end", "event": record.event}
    elif type(record) is Crash:
        out = {"t": "crash", "cause": record.cause, "attempt": record.attempt}
        out["peak_rss"] = record.peak_rss
    else:
        raise TypeError(f"not a journal record: {type(record).__name__}")
    if record.k is not None:
        out["k"] = record.k
    return out


def encode(record: Record) -> bytes:
    """One journal line, newline included."""
    body = _dumps(_effect_json(record) if type(record) is Effect else to_json(record))
    return b"%08x %s\n" % (_crc32(body), body)


def _int_or_none(value: Any) -> int | None:
    return value if type(value) is int else None


def _effect(d: dict[str, Any]) -> Effect:
    error = d.get("error")
    return Effect(
        seq=d["seq"],
        name=d["name"],
        req=d["req"],
        result=d.get("result"),
        error=None if error is None else EffectError(str(error["type"]), str(error["message"])),
        meta=d.get("meta") or _EMPTY,
        ns=_int_or_none(d.get("ns")),
        k=d.get("k"),
    )


def _start(d: dict[str, Any]) -> Start:
    version = d.get("format", 1)
    if type(version) is not int or version > FORMAT_VERSION:
        raise JournalError(
            f"journal format {version!r} is newer than this release reads ({FORMAT_VERSION}); "
            "resume the execution on a worker of the release that wrote it"
        )
    return Start(
        digest=d["digest"],
        filename=d.get("filename", "<program>"),
        inputs=d.get("inputs") or {},
        books=list(d.get("books") or ()),
        at=d.get("at"),
        ns=_int_or_none(d.get("ns")),
        format=version,
        k=d.get("k"),
    )


def from_json(d: dict[str, Any]) -> Record:
    kind = d.get("t")
    if kind == "effect":
        return _effect(d)
    if kind == "start":
        return _start(d)
    if kind == "fence":
        return FenceMark(d.get("command"), d.get("trace"), d.get("k"))
    if kind == "end":
        return End(d["event"], d.get("k"))
    if kind == "crash":
        return Crash(d.get("cause"), d.get("attempt", 0), d.get("peak_rss"), d.get("k"))
    raise JournalError(
        f"unknown journal record kind {kind!r}: written by a newer Jarvis than this one "
        f"(format {FORMAT_VERSION})"
    )


def decode(line: bytes) -> Record | None:
    """The record in one complete line (without its newline), or None when the line is not
    a whole record (bad checksum, not JSON: a torn write). Raises ``JournalError`` for a
    whole record this release cannot read (a newer format, a missing field)."""
    crc, sep, body = line.partition(b" ")
    if not sep or len(crc) != 8:
        return None
    try:
        if int(crc, 16) != zlib.crc32(body):
            return None
        data = orjson.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    try:
        return from_json(data)
    except (KeyError, TypeError) as exc:
        raise JournalError(f"journal record {data.get('t')!r} lacks a field: {exc}") from None
