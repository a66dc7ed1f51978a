"""Turning bytes from ``spy_control`` into a command, or a ControlMessageError naming why."""

from __future__ import annotations

import orjson
from pydantic import TypeAdapter, ValidationError

from jarvis.contract.messages import CONTRACT_VERSION, ControlCommand, StartCommand, StopCommand
from jarvis.errors import ControlMessageError

_control: TypeAdapter[StartCommand | StopCommand] = TypeAdapter(ControlCommand)


def parse_control(value: bytes | None, key: bytes | None = None) -> StartCommand | StopCommand:
    """Validate one control message; raise ControlMessageError with the offending field."""
    if value is None:
        raise ControlMessageError("empty message (tombstone): a control message needs a JSON body")
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ControlMessageError(f"message is not UTF-8 text (bad byte at offset {exc.start})") from exc
    try:
        raw = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ControlMessageError(f"message is not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise ControlMessageError(f"message must be a JSON object, got {type(raw).__name__}")
    version = raw.get("version", CONTRACT_VERSION)
    if version != CONTRACT_VERSION:
        raise ControlMessageError(
            f"unsupported version {version!r}: this worker reads version {CONTRACT_VERSION}; "
            "upgrade the workers before producing newer messages",
            field="version",
        )
    kind = raw.get("type")
    if kind not in ("start", "stop"):
        raise ControlMessageError(
            f"unknown command {kind!r}: expected 'start' or 'stop'", field="type"
        )
    try:
        command = _control.validate_python(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        # Drop the discriminator tag pydantic puts first in the location.
        loc = [str(p) for p in first["loc"]]
        if loc and loc[0] == kind:
            loc = loc[1:]
        field = ".".join(loc) or None
        detail = first["msg"]
        more = len(exc.errors()) - 1
        if more:
            detail += f" (and {more} more error{'s' if more > 1 else ''})"
        raise ControlMessageError(detail, field=field) from exc
    if key is not None and key.decode("utf-8", "replace") != command.execution_id:
        raise ControlMessageError(
            f"message key {key.decode('utf-8', 'replace')!r} differs from execution_id "
            f"{command.execution_id!r}: key control messages by execution id so an "
            "execution's commands stay ordered",
            field="execution_id",
        )
    return command
