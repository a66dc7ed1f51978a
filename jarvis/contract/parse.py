"""Turning bytes from ``spy_control`` into a command, or a ControlMessageError naming why.

Strict where JSON parsers are lenient, and cheap on the common path (the worker reads
thousands of messages a second; a typical 300-byte start costs a few µs more than
orjson + pydantic alone):

- orjson parses; one walk over the result counts its keys and enforces ``MAX_JSON_DEPTH``.
- Duplicate keys: orjson keeps the last value silently (``{"type": "stop", ...,
  "type": "start"}`` would run a start). A key ends in ``"`` then ``:`` in the text, so when
  the text has no more such tokens than the parsed objects have keys, no key was repeated.
  Otherwise (a repeated key, or a string that merely contains ``":``) the message is
  parsed again with ``json.loads(object_pairs_hook=...)``, which sees every pair.
- Integers beyond 64 bits: orjson turns them into floats (``10**25 + 7`` becomes
  ``1e+25``). Such a float is at least 2**63 in magnitude, so when the walk meets one the
  message is parsed again with ``json.loads`` (exact ints) and a too-large integer is
  refused, naming its field: SPy values cross the host as JSON, where Jarvis keeps
  integers to 64 bits.

Measured on a typical 300-byte start: orjson + pydantic ~12 µs; the walk and the token
count add ~3 µs; a message that needs the exact second parse costs ~15 µs more.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError

from jarvis.contract.messages import (
    CONTRACT_VERSION,
    MAX_JSON_DEPTH,
    READ_VERSIONS,
    READ_VERSIONS_TEXT,
    ControlCommand,
    StartCommand,
    StopCommand,
)
from jarvis.errors import ControlMessageError

_control: TypeAdapter[StartCommand | StopCommand] = TypeAdapter(ControlCommand)

_MESSAGE_DEPTH = MAX_JSON_DEPTH + 2
"""The message object, then ``inputs``, then an input value nesting MAX_JSON_DEPTH levels."""

_SPACED_KEY_END = re.compile(rb'"[ \t\r\n]+:')
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1  # what orjson reads and writes as an integer
_BIG = 9.2e18  # below 2**63: a float this large may be an integer orjson could not hold


class _TooDeep(Exception):
    pass


class _Inexact(Exception):
    """A float that may stand for an integer beyond 64 bits."""


def _keys(node: dict[str, Any] | list[Any], depth: int) -> int:
    """Number of object keys in ``node`` and below; raises _TooDeep past _MESSAGE_DEPTH and
    _Inexact at a float that may be a big integer."""
    if depth > _MESSAGE_DEPTH:
        raise _TooDeep
    if type(node) is dict:
        n = len(node)
        children: Any = node.values()
    else:
        n = 0
        children = node
    for child in children:
        t = type(child)
        if t is dict or t is list:
            n += _keys(child, depth + 1)
        elif t is float and (child >= _BIG or child <= -_BIG):
            raise _Inexact
    return n


def _path(parts: list[str | int]) -> str:
    return ".".join(str(p) for p in parts)


def _deep_path(node: Any, parts: list[str | int], depth: int) -> list[str | int] | None:
    """The path to the first container nested deeper than _MESSAGE_DEPTH."""
    if depth > _MESSAGE_DEPTH:
        return parts
    items = node.items() if type(node) is dict else enumerate(node)
    for k, child in items:
        if type(child) is dict or type(child) is list:
            found = _deep_path(child, [*parts, k], depth + 1)
            if found is not None:
                return found
    return None


class _Repeated(dict[str, Any]):
    """An object in which ``repeated`` appeared more than once."""

    repeated: str


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    out = _Repeated(obj)
    for k, _ in pairs:
        if k in seen:
            out.repeated = k
            break
        seen.add(k)
    return out


def _exact_problem(node: Any, parts: list[str | int], depth: int) -> ControlMessageError | None:
    """The first repeated key, out-of-range integer or too deep container in a
    ``json.loads`` result."""
    if depth > _MESSAGE_DEPTH:
        return _too_deep(parts)
    if isinstance(node, _Repeated):
        return ControlMessageError(
            f"duplicate key {node.repeated[:40]!r}: a JSON object may name each key once",
            field=_path([*parts, node.repeated]),
        )
    if type(node) is int and not _INT_MIN <= node <= _INT_MAX:
        return ControlMessageError(
            f"integer {str(node)[:24]}… ({len(str(abs(node)))} digits) does not fit in 64 bits; "
            "send it as a string",
            field=_path(parts) or None,
        )
    if type(node) is dict:
        items: Any = node.items()
    elif type(node) is list:
        items = enumerate(node)
    else:
        return None
    for k, child in items:
        if type(child) in _SCALARS and (type(child) is not int or _INT_MIN <= child <= _INT_MAX):
            continue
        problem = _exact_problem(child, [*parts, k], depth + 1)
        if problem is not None:
            return problem
    return None


_SCALARS = (str, int, float, bool, type(None))


def _too_deep(parts: list[str | int]) -> ControlMessageError:
    return ControlMessageError(
        f"nested deeper than {MAX_JSON_DEPTH} levels: flatten the value", field=_path(parts) or None
    )


def _exact(value: bytes) -> dict[str, Any]:
    """Parse again with every key pair and exact integers; raise on what orjson hid."""
    try:
        exact = json.loads(value, object_pairs_hook=_pairs)
    except RecursionError:
        raise ControlMessageError(
            f"message is nested too deeply (JSON values may nest at most {MAX_JSON_DEPTH} levels)"
        ) from None
    problem = _exact_problem(exact, [], 1)
    if problem is not None:
        raise problem
    return dict(exact)


def _json_error(value: bytes, exc: orjson.JSONDecodeError) -> ControlMessageError:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError as bad:
        return ControlMessageError(f"message is not UTF-8 text (bad byte at offset {bad.start})")
    if "depth limit" in str(exc) or "recursion" in str(exc):
        return ControlMessageError(
            f"message is nested deeper than 1024 levels (JSON values may nest at most {MAX_JSON_DEPTH})"
        )
    if not value.strip():
        return ControlMessageError("empty message: a control message needs a JSON object")
    return ControlMessageError(f"message is not valid JSON: {exc}")


def _show(value: object) -> str:
    """A short repr of a JSON value, for a reason text."""
    if value is None or type(value) in (bool, int, float):
        return repr(value)[:40]
    if type(value) is str:
        return repr(value[:40]) + ("…" if len(value) > 40 else "")
    return f"a JSON {'array' if type(value) is list else 'object'}"


def _check_version(version: object) -> None:
    if type(version) is int and version in READ_VERSIONS:
        return
    if type(version) is int and version > CONTRACT_VERSION:
        raise ControlMessageError(
            f"unsupported version {version}: this worker reads version {READ_VERSIONS_TEXT}; "
            "upgrade the workers before producing newer messages",
            field="version",
        )
    raise ControlMessageError(
        f"version must be the integer {READ_VERSIONS_TEXT}, got {_show(version)}", field="version"
    )


def parse_control(value: bytes | None, key: bytes | None) -> StartCommand | StopCommand:
    """Validate one control message and its Kafka key; raise ControlMessageError naming the
    offending field (a dotted path, ``key`` for the message key)."""
    raw = _object(value)
    _check_version(raw.get("version", CONTRACT_VERSION))
    kind = raw.get("type")
    if kind not in ("start", "stop"):
        raise ControlMessageError(
            f"unknown command {_show(kind)}: expected 'start' or 'stop'", field="type"
        )
    try:
        command = _control.validate_python(raw)
    except ValidationError as exc:
        raise _invalid(exc, kind) from exc
    _check_key(key, command.execution_id)
    return command


def _object(value: bytes | None) -> dict[str, Any]:
    """The message's JSON object, parsed exactly (see the module's docstring)."""
    if value is None:
        raise ControlMessageError("empty message (tombstone): a control message needs a JSON body")
    try:
        raw = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise _json_error(value, exc) from exc
    if type(raw) is not dict:
        raise ControlMessageError(f"message must be a JSON object, got {type(raw).__name__}")
    try:
        keys = _keys(raw, 1)
    except _TooDeep:
        raise _too_deep(_deep_path(raw, [], 1) or []) from None
    except _Inexact:
        return _exact(value)
    tokens = value.count(b'":')  # with the next line, an upper bound of the keys in the text
    if tokens <= keys:
        tokens += len(_SPACED_KEY_END.findall(value))
    return _exact(value) if tokens > keys else raw


def _invalid(exc: ValidationError, kind: str) -> ControlMessageError:
    """pydantic's first error, located by its field."""
    errors = exc.errors()
    first = errors[0]
    # Drop the discriminator tag pydantic puts first in the location.
    loc = [str(p)[:64] for p in first["loc"]]
    if loc and loc[0] == kind:
        loc = loc[1:]
    detail = first["msg"].removeprefix("Value error, ")
    if len(errors) > 1:
        detail += f" (and {len(errors) - 1} more error{'s' if len(errors) > 2 else ''})"
    return ControlMessageError(detail, field=".".join(loc) or None)


def _check_key(key: bytes | None, execution_id: str) -> None:
    if key is None:
        raise ControlMessageError(
            f"message has no key: key control messages by execution id ({execution_id!r}) "
            "so an execution's commands stay ordered",
            field="key",
        )
    if key != execution_id.encode():
        shown = key[:40].decode("utf-8", "replace")
        raise ControlMessageError(
            f"message key {shown!r}{'…' if len(key) > 40 else ''} differs from execution_id "
            f"{execution_id!r}: key control messages by execution id",
            field="execution_id",
        )
