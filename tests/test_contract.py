"""The checked-in JSON Schemas must match the models; parsing names the bad field."""

from __future__ import annotations

from typing import get_args

import orjson
import pytest
from pydantic import ValidationError

from jarvis.contract import StartCommand, StopCommand, parse, parse_control, schemas
from jarvis.contract.messages import (
    CONTRACT_VERSION,
    MAX_JSON_DEPTH,
    MAX_WALL_S_REQUEST,
    STOP_MODES,
)
from jarvis.errors import MAX_FIELD_CHARS, MAX_REASON_CHARS, ControlMessageError, Interruption


def test_checked_in_schemas_match_the_models() -> None:
    drifted = schemas.drift()
    assert drifted == [], (
        f"schemas drifted from the models: {drifted}; run `jarvis contract export`"
    )


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
        orjson.dumps(
            {
                "type": "start",
                "execution_id": "a-1",
                "program": {"source": "x=1"},
                "shiny_new": True,
            }
        ),
        key=b"a-1",
    )
    assert isinstance(cmd, StartCommand) and cmd.version == 2 and cmd.program.source == "x=1"


def test_stop_modes_are_one_type_in_the_schemas_and_the_interruptions() -> None:
    control = schemas.schemas()["spy_control.schema.json"]
    events = schemas.schemas()["spy_events.schema.json"]
    stop_mode = events["properties"]["stop_mode"]["anyOf"][0]
    assert control["$defs"]["StopCommand"]["properties"]["mode"]["enum"] == list(STOP_MODES)
    assert stop_mode["enum"] == list(STOP_MODES)
    # jarvis.errors (the lowest layer) spells the modes out again, plus the worker's own.
    assert get_args(Interruption) == (*STOP_MODES, "handoff")


def test_parse_stop_defaults_to_cancel() -> None:
    cmd = parse_control(b'{"type":"stop","execution_id":"a-1"}', b"a-1")
    assert isinstance(cmd, StopCommand) and cmd.mode == "cancel"


@pytest.mark.parametrize(
    ("payload", "field", "needle"),
    [
        (
            b'{"type":"start","execution_id":"a/b","program":{"source":"x"}}',
            "execution_id",
            "pattern",
        ),
        (
            b'{"type":"start","execution_id":"a","program":{"source":"x","ref":"s3://b/k"}}',
            "program",
            "exactly one",
        ),
        (b'{"type":"start","execution_id":"a","program":{"ref":"http://x"}}', "program", "s3://"),
        (
            b'{"type":"start","execution_id":"a","program":{"source":"x"},"inputs":[]}',
            "inputs",
            "dictionary",
        ),
        (b'{"type":"stop","execution_id":"a","mode":"pause"}', "mode", "cancel"),
        (
            b'{"type":"start","execution_id":"a","program":{"source":"x"},"options":{"log_level":"loud"}}',
            "options.log_level",
            "full",
        ),
    ],
)
def test_parse_errors_name_the_field(payload: bytes, field: str, needle: str) -> None:
    with pytest.raises(ControlMessageError) as info:
        parse_control(payload, b"a")
    assert info.value.field == field
    assert needle in str(info.value)


# --- strict parsing: what the schema says, and nothing a lenient JSON parser lets through ---


def _start(**over: object) -> dict[str, object]:
    msg: dict[str, object] = {
        "version": 1,
        "type": "start",
        "execution_id": "e",
        "program": {"source": "x = 1"},
    }
    msg.update(over)
    return msg


def _refused(payload: bytes, key: bytes | None = b"e") -> ControlMessageError:
    with pytest.raises(ControlMessageError) as info:
        parse_control(payload, key)
    err = info.value
    # One short line, whatever the input (DLQ headers, logs and dashboards show it).
    assert "\n" not in err.reason and len(err.reason) <= MAX_REASON_CHARS
    assert err.field is None or len(err.field) <= MAX_FIELD_CHARS
    return err


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (b'{"type":"stop","execution_id":"e","type":"start","program":{"source":"x"}}', "type"),
        (
            b'{"type":"start","execution_id":"e","program":{"source":"x","source":"y"}}',
            "program.source",
        ),
        (
            b'{"type":"start","execution_id":"e","program":{"source":"x"},"inputs":{"a":[{"b":1,"b":2}]}}',
            "inputs.a.0.b",
        ),
        (
            b'{"type" : "start", "execution_id" : "e", "program" : {"source" : "x"}, "labels" : {"t" : "1", "t" : "2"}}',
            "labels.t",
        ),
        (
            b'{"type":"start","execution_id":"e","execution_id":"e","program":{"source":"x"}}',
            "execution_id",
        ),
    ],
)
def test_duplicate_keys_are_refused_at_any_depth(payload: bytes, field: str) -> None:
    err = _refused(payload)
    assert err.field == field and "duplicate key" in err.reason


def test_key_text_inside_strings_is_not_a_duplicate() -> None:
    # `":` inside a string makes the cheap check suspicious; the exact parse clears it.
    cmd = parse_control(
        orjson.dumps(_start(program={"source": 'd = {"a": 1, "a": 2}'}, inputs={"s": '"x": "y"'})),
        b"e",
    )
    assert isinstance(cmd, StartCommand) and cmd.inputs == {"s": '"x": "y"'}


@pytest.mark.parametrize("version", [True, False, 1.0, "1", None, 0, -1, [1], {"v": 1}])
def test_version_must_be_the_integer_1_or_2(version: object) -> None:
    err = _refused(orjson.dumps(_start(version=version)))
    assert err.field == "version" and "must be the integer 1 or 2" in err.reason
    assert "upgrade" not in err.reason  # only a newer version means "upgrade the workers"


@pytest.mark.parametrize("version", [1, 2])
def test_commands_of_versions_1_and_2_are_read(version: int) -> None:
    # Version 2 changed only what workers write (error columns): older producers go on.
    cmd = parse_control(orjson.dumps(_start(version=version)), b"e")
    assert cmd.version == version


def test_new_messages_are_version_2() -> None:
    assert CONTRACT_VERSION == 2 and StopCommand(execution_id="e").version == 2


def test_only_a_newer_version_says_upgrade() -> None:
    err = _refused(orjson.dumps(_start(version=3)))
    assert err.field == "version" and "upgrade the workers" in err.reason


def test_version_true_is_refused_by_the_model_too() -> None:
    with pytest.raises(ValidationError):
        StartCommand.model_validate(_start(version=True))


@pytest.mark.parametrize(
    "payload",
    [orjson.dumps(_start()), b'{"version":1,"type":"stop","execution_id":"e","mode":"suspend"}'],
)
def test_the_message_key_is_required(payload: bytes) -> None:
    err = _refused(payload, key=None)
    assert err.field == "key" and "no key" in err.reason


def test_a_long_wrong_key_is_clipped() -> None:
    err = _refused(orjson.dumps(_start()), key=b"k" * 100_000)
    assert err.field == "execution_id" and "differs from execution_id" in err.reason


@pytest.mark.parametrize(
    ("number", "field"),
    [
        (b"100000000000000000000000007", "inputs.n"),
        (b"-9223372036854775809", "inputs.n"),
        (b"[1, 18446744073709551616]", "inputs.n.1"),
    ],
)
def test_integers_beyond_64_bits_are_refused_naming_the_field(number: bytes, field: str) -> None:
    payload = (
        b'{"type":"start","execution_id":"e","program":{"source":"x"},"inputs":{"n":'
        + number
        + b"}}"
    )
    err = _refused(payload)
    assert err.field == field and "does not fit in 64 bits" in err.reason


@pytest.mark.parametrize("n", [2**63 - 1, -(2**63), 2**64 - 1, 1e19, 1.5e300])
def test_64_bit_integers_and_big_floats_pass_exactly(n: float) -> None:
    cmd = parse_control(orjson.dumps(_start(inputs={"n": n})), b"e")
    assert (
        isinstance(cmd, StartCommand) and cmd.inputs["n"] == n and type(cmd.inputs["n"]) is type(n)
    )


@pytest.mark.parametrize(
    ("limits", "field"),
    [
        ({"max_steps": "1000000"}, "options.limits.max_steps"),
        ({"max_steps": True}, "options.limits.max_steps"),
        ({"max_steps": 1000.0}, "options.limits.max_steps"),
        ({"max_memory_bytes": 2**63}, "options.limits.max_memory_bytes"),
        ({"max_wall_s": "inf"}, "options.limits.max_wall_s"),
        ({"max_wall_s": "10"}, "options.limits.max_wall_s"),
        ({"max_wall_s": True}, "options.limits.max_wall_s"),
        ({"max_wall_s": 1e308}, "options.limits.max_wall_s"),
        ({"max_wall_s": 0}, "options.limits.max_wall_s"),
    ],
)
def test_limits_are_numbers_in_range(limits: dict[str, object], field: str) -> None:
    err = _refused(orjson.dumps(_start(options={"limits": limits})))
    assert err.field == field


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"1e400"])
def test_non_finite_wall_limits_are_not_json(literal: bytes) -> None:
    payload = (
        b'{"type":"start","execution_id":"e","program":{"source":"x"},"options":{"limits":{"max_wall_s":'
        + literal
        + b"}}}"
    )
    assert _refused(payload).field is None


def test_limits_take_integers_for_seconds() -> None:
    cmd = parse_control(
        orjson.dumps(_start(options={"limits": {"max_wall_s": 5, "max_steps": 10}})), b"e"
    )
    assert isinstance(cmd, StartCommand) and cmd.options.limits.max_wall_s == 5.0


def _nested(levels: int) -> object:
    value: object = 1
    for _ in range(levels):
        value = [value]
    return value


def test_inputs_may_nest_max_json_depth_levels() -> None:
    cmd = parse_control(orjson.dumps(_start(inputs={"a": _nested(MAX_JSON_DEPTH)})), b"e")
    assert isinstance(cmd, StartCommand)


@pytest.mark.parametrize("levels", [MAX_JSON_DEPTH + 1, 250, 254, 255, 1000])
def test_deeper_inputs_are_refused_naming_the_field(levels: int) -> None:
    # Built as text: orjson itself cannot write JSON this deep.
    err = _refused(
        b'{"type":"start","execution_id":"e","program":{"source":"x"},"inputs":{"deep":'
        + b"[" * levels
        + b"1"
        + b"]" * levels
        + b"}}"
    )
    assert err.field is not None and err.field.startswith("inputs.deep.0.0")
    assert f"nested deeper than {MAX_JSON_DEPTH} levels" in err.reason


def test_json_deeper_than_the_parser_says_so() -> None:
    err = _refused(b"[" * 5000 + b"]" * 5000)
    assert "nested deeper than" in err.reason and "not valid JSON" not in err.reason


@pytest.mark.parametrize("name", ["a\x00b.spy", "line\nbreak", "tab\t", "del\x7f", "c1\x85", ""])
def test_filenames_are_printable(name: str) -> None:
    err = _refused(orjson.dumps(_start(program={"source": "x", "filename": name})))
    assert err.field == "program.filename"
    if name:
        assert "control character" in err.reason


@pytest.mark.parametrize("ref", ["s3://bucket", "s3:///key", "s3://bucket/", "S3://b/k"])
def test_program_ref_is_a_bucket_and_a_key(ref: str) -> None:
    assert _refused(orjson.dumps(_start(program={"ref": ref}))).field == "program"


def test_long_field_paths_and_reasons_are_clipped() -> None:
    err = _refused(orjson.dumps(_start(labels={"k" * 2000: 1})))
    assert (
        err.field is not None
        and err.field.startswith("labels.kkk")
        and len(err.field) <= MAX_FIELD_CHARS
    )
    err = _refused(orjson.dumps({"version": 1, "type": "x" * 100_000, "execution_id": "e"}))
    assert err.field == "type" and "…" in err.reason


def test_unknown_newer_fields_may_not_hide_deep_or_duplicate_json() -> None:
    assert _refused(orjson.dumps(_start(future={"x": _nested(200)}))).field.startswith("future.x")  # type: ignore[union-attr]
    assert (
        _refused(
            b'{"type":"start","execution_id":"e","program":{"source":"x"},"future":{"a":1,"a":2}}'
        ).field
        == "future.a"
    )


# --- cost: the strict checks must stay cheap (the worker reads thousands of messages/s) ---


def test_strict_checks_add_little_work() -> None:
    """Counted in operations, not seconds: a typical start is parsed once by orjson (no
    second, exact parse) and walked once."""
    typical = orjson.dumps(
        _start(
            execution_id="order-42",
            program={
                "source": "result = inputs['n'] * 2\nprint(result)\n",
                "filename": "double.spy",
            },
            inputs={"n": 21, "name": "Ada", "xs": [1, 2, 3]},
            books=["kv"],
            options={"log_level": "full", "limits": {"max_steps": 1000000}},
            labels={"team": "billing"},
        )
    )
    calls = []
    real = parse._exact
    parse._exact = lambda value: calls.append(value) or real(value)  # type: ignore[assignment]
    try:
        parse_control(typical, b"order-42")
    finally:
        parse._exact = real  # type: ignore[assignment]
    assert calls == []


def test_limit_schema_says_numbers_only() -> None:
    control = schemas.schemas()["spy_control.schema.json"]
    limits = control["$defs"]["LimitOverrides"]["properties"]
    for name, prop in limits.items():
        types = {branch.get("type") for branch in prop["anyOf"]}
        assert types == ({"number", "null"} if name == "max_wall_s" else {"integer", "null"}), name
    assert limits["max_wall_s"]["anyOf"][0]["maximum"] == MAX_WALL_S_REQUEST
