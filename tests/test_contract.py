"""The checked-in JSON Schemas must match the models; parsing names the bad field."""

from __future__ import annotations

import orjson
import pytest

from jarvis.contract import StartCommand, StopCommand, parse_control, schemas
from jarvis.errors import ControlMessageError


def test_checked_in_schemas_match_the_models() -> None:
    drifted = schemas.drift()
    assert drifted == [], f"schemas drifted from the models: {drifted}; run `jarvis contract export`"


def test_drift_is_detected(tmp_path) -> None:
    schemas.export(tmp_path)
    assert schemas.drift(tmp_path) == []
    (tmp_path / "spy_logs.schema.json").write_text("{}\n")
    assert schemas.drift(tmp_path) == ["spy_logs.schema.json"]


def test_every_message_has_a_version() -> None:
    for name, schema in schemas.schemas().items():
        text = orjson.dumps(schema).decode()
        assert '"version"' in text, name


def test_parse_start_tolerates_unknown_newer_fields() -> None:
    cmd = parse_control(
        orjson.dumps({"type": "start", "execution_id": "a-1", "program": {"source": "x=1"}, "shiny_new": True}),
        key=b"a-1",
    )
    assert isinstance(cmd, StartCommand) and cmd.version == 1 and cmd.program.source == "x=1"


def test_parse_stop_defaults_to_cancel() -> None:
    cmd = parse_control(b'{"type":"stop","execution_id":"a-1"}')
    assert isinstance(cmd, StopCommand) and cmd.mode == "cancel"


@pytest.mark.parametrize(
    ("payload", "field", "needle"),
    [
        (b'{"type":"start","execution_id":"a/b","program":{"source":"x"}}', "execution_id", "pattern"),
        (b'{"type":"start","execution_id":"a","program":{"source":"x","ref":"s3://b/k"}}', "program", "exactly one"),
        (b'{"type":"start","execution_id":"a","program":{"ref":"http://x"}}', "program", "s3://"),
        (b'{"type":"start","execution_id":"a","program":{"source":"x"},"inputs":[]}', "inputs", "dictionary"),
        (b'{"type":"stop","execution_id":"a","mode":"pause"}', "mode", "cancel"),
        (b'{"type":"start","execution_id":"a","program":{"source":"x"},"options":{"log_level":"loud"}}', "options.log_level", "full"),
    ],
)
def test_parse_errors_name_the_field(payload: bytes, field: str, needle: str) -> None:
    with pytest.raises(ControlMessageError) as info:
        parse_control(payload)
    assert info.value.field == field
    assert needle in str(info.value)
