"""jarvis/topics/asyncapi.json: a valid AsyncAPI 3.0 document of the four topics whose payloads are
the contract models' JSON Schemas, and whose dead-letter headers are the ones the worker sets.

Validated by the AsyncAPI initiative's own tools from the npm registry, fetched and cached
by scripts/: the 3.0.0 specification's JSON Schema (@asyncapi/specs) and the reference parser
(@asyncapi/parser, the schema plus semantic rules; no maintained AsyncAPI 3 validator is on
PyPI). Plus what those do not check: every $ref resolves, payloads equal the models'
schemas, channels are the declared topics, dead-letter headers are the worker's.
"""

from __future__ import annotations

import copy
import json
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import TypeAdapter

from jarvis.contract import asyncapi, schemas
from jarvis.contract.messages import (
    ControlCommand,
    LifecycleEvent,
    LogRecord,
    StartCommand,
    StopCommand,
)
from jarvis.settings import Settings
from jarvis.worker import deadletter
from tests.helpers import ROOT

DOC_PATH = ROOT / "jarvis" / "topics" / "asyncapi.json"
MODELS = {
    "StartCommand": StartCommand,
    "StopCommand": StopCommand,
    "LifecycleEvent": LifecycleEvent,
    "LogRecord": LogRecord,
}


@pytest.fixture(scope="module")
def spec_validator() -> jsonschema.Draft7Validator:
    out = _script("asyncapi-specs", "install")
    spec = json.loads(Path(out.stdout.strip().splitlines()[-1]).read_text())
    return jsonschema.Draft7Validator(spec)


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return json.loads(DOC_PATH.read_text())


def _errors(validator: jsonschema.Draft7Validator, document: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def _pointer(document: Any, ref: str) -> Any:
    assert ref.startswith("#/"), f"not a local reference: {ref}"
    node = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{ref}: no {part!r}"
        node = node[part]
    return node


def _refs(node: Any, path: str = "#") -> list[tuple[str, str]]:
    if isinstance(node, dict):
        found = [(path, node["$ref"])] if isinstance(node.get("$ref"), str) else []
        for key, value in node.items():
            found += _refs(value, f"{path}/{key}")
        return found
    if isinstance(node, list):
        return [r for i, item in enumerate(node) for r in _refs(item, f"{path}/{i}")]
    return []


def _inline(node: Any, root: Any, seen: tuple[str, ...] = ()) -> Any:
    """``node`` with every local $ref replaced by what it points at (cycles kept as refs)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref not in seen:
            target = _inline(_pointer(root, ref), root, (*seen, ref))
            rest = {k: _inline(v, root, seen) for k, v in node.items() if k != "$ref"}
            return {**target, **rest} if rest else target
        return {k: _inline(v, root, seen) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, root, seen) for v in node]
    return node


# --- the specification's own schema ----------------------------------------------------


def test_document_is_valid_asyncapi_3(
    spec_validator: jsonschema.Draft7Validator, doc: dict[str, Any]
) -> None:
    assert doc["asyncapi"] == "3.0.0"
    assert {"asyncapi", "info", "channels", "operations", "components"} <= set(doc)
    assert doc["info"]["title"] and doc["info"]["version"]
    assert _errors(spec_validator, doc) == []


def test_the_validator_refuses_broken_documents(
    spec_validator: jsonschema.Draft7Validator, doc: dict[str, Any]
) -> None:
    # Not a vacuous check: what AsyncAPI 3 forbids is reported.
    no_info = {k: v for k, v in doc.items() if k != "info"}
    assert any("'info' is a required property" in e for e in _errors(spec_validator, no_info))
    publish = copy.deepcopy(doc)
    publish["operations"]["sendCommands"]["action"] = "publish"  # AsyncAPI 2's verb
    assert _errors(spec_validator, publish)
    bad_binding = copy.deepcopy(doc)
    bad_binding["channels"]["events"]["bindings"]["kafka"]["partitions"] = "twelve"
    assert _errors(spec_validator, bad_binding)


def test_checked_in_document_is_the_generated_one(doc: dict[str, Any]) -> None:
    assert doc == asyncapi.document()
    assert "asyncapi.json" not in schemas.drift(), "run `jarvis contract export`"


def test_drift_test_sees_a_changed_document(tmp_path: Path) -> None:
    schema_dir = tmp_path / "schemas"
    schemas.export(schema_dir)
    assert schemas.drift(schema_dir) == []
    path = tmp_path / "asyncapi.json"
    path.write_text(path.read_text().replace('"spy_events"', '"spy_events_old"'))
    assert schemas.drift(schema_dir) == ["asyncapi.json"]


# --- what a JSON Schema cannot check ---------------------------------------------------


def test_every_ref_resolves(doc: dict[str, Any]) -> None:
    refs = _refs(doc)
    assert len(refs) > 20
    for where, ref in refs:
        try:
            _pointer(doc, ref)
        except AssertionError as exc:
            raise AssertionError(f"{where}: {exc}") from None


def test_each_payload_is_its_model_s_json_schema(doc: dict[str, Any]) -> None:
    for name, model in MODELS.items():
        message = doc["components"]["messages"][name]
        payload = _inline(message["payload"], doc)
        expected = model.model_json_schema()
        assert payload == _inline(expected, expected), name
        assert message["contentType"] == "application/json"


def test_control_messages_are_the_control_schema_s_alternatives(doc: dict[str, Any]) -> None:
    union = TypeAdapter(ControlCommand).json_schema()
    alternatives = [_inline(alt, union) for alt in union["oneOf"]]
    sent = [_inline(m, doc)["payload"] for m in doc["channels"]["control"]["messages"].values()]
    assert sorted(sent, key=lambda s: s["title"]) == sorted(alternatives, key=lambda s: s["title"])
    # The JSON Schemas on disk say the same.
    on_disk = json.loads(
        (ROOT / "jarvis" / "topics" / "schemas" / "spy_events.schema.json").read_text()
    )
    assert _inline(doc["components"]["messages"]["LifecycleEvent"]["payload"], doc) == _inline(
        on_disk, on_disk
    )


def test_channels_are_the_default_topics_with_their_declarations(doc: dict[str, Any]) -> None:
    declared = tomllib.loads((ROOT / "jarvis" / "topics" / "topics.toml").read_text())["topics"]
    defaults = Settings.model_fields
    for role in ("control", "events", "logs", "dlq"):
        channel = doc["channels"][role]
        assert channel["address"] == defaults[f"{role}_topic"].default == declared[role]["name"]
        kafka = channel["bindings"]["kafka"]
        assert kafka["topic"] == channel["address"]
        assert kafka["partitions"] == declared[role]["partitions"]
        assert kafka["topicConfiguration"]["retention.ms"] == declared[role]["retention_ms"]
        assert (
            kafka["topicConfiguration"]["max.message.bytes"] == declared[role]["max_message_bytes"]
        )
    assert {m["payload"]["$ref"] for m in [doc["components"]["messages"]["LifecycleEvent"]]} == {
        "#/components/schemas/LifecycleEvent"
    }


def test_the_orchestrator_sends_control_and_receives_the_rest(doc: dict[str, Any]) -> None:
    actions = {
        op["channel"]["$ref"].removeprefix("#/channels/"): op["action"]
        for op in doc["operations"].values()
    }
    assert actions == {"control": "send", "events": "receive", "logs": "receive", "dlq": "receive"}
    for name, op in doc["operations"].items():
        channel = op["channel"]["$ref"]
        assert op["messages"], name
        for message in op["messages"]:
            # AsyncAPI 3: an operation's messages are its channel's.
            assert message["$ref"].startswith(f"{channel}/messages/"), (name, message)


def test_keys_are_execution_ids(doc: dict[str, Any]) -> None:
    from jarvis.contract.messages import EXECUTION_ID_PATTERN

    for name in MODELS:
        key = doc["components"]["messages"][name]["bindings"]["kafka"]["key"]
        assert key["type"] == "string" and key["pattern"] == EXECUTION_ID_PATTERN


# --- dead letters: the headers the worker really sets -----------------------------------


def _letter(**fields: Any) -> deadletter.DeadLetter:
    source = deadletter.Source(
        topic="spy_control",
        partition=3,
        offset=41,
        key=b"order-42",
        value=b'{"version": 1, "type": "st',
        headers=[("traceparent", b"00-abc-def-01"), ("x-team", b"billing")],
        reason="invalid JSON",
        field=None,
        worker="w-1",
        at="2026-12-01T12:00:00+00:00",
    )
    import dataclasses

    return deadletter.build(dataclasses.replace(source, **fields), 4096, value_ref="s3://b/dlq/x")


def test_dead_letter_headers_are_the_documented_ones(doc: dict[str, Any]) -> None:
    schema = doc["components"]["messages"]["DeadLetter"]["headers"]
    documented = set(schema["properties"])
    plain = _letter()
    oversized = _letter(
        key=b"k" * 2000, value=b"v" * 10_000, headers=[(f"h{i}", b"x" * 200) for i in range(40)]
    )
    for letter in (plain, oversized):
        names = [n for n, _ in letter.headers]
        ours = {n for n in names if n.startswith("jarvis.")}
        assert ours <= documented, ours - documented
        assert all(n.startswith("jarvis.") or n.startswith("original.") for n in names)
        as_json = {n: v.decode() for n, v in letter.headers}
        assert list(jsonschema.Draft7Validator(schema).iter_errors(as_json)) == []
    # Every optional header appears in the oversized case, every required one in both.
    assert {n for n, _ in oversized.headers if n.startswith("jarvis.")} == documented
    assert set(schema["required"]) <= {n for n, _ in plain.headers}
    assert "original.traceparent" in {n for n, _ in plain.headers}
    # A dead letter without the worker's headers does not pass.
    assert list(jsonschema.Draft7Validator(schema).iter_errors({"original.x": "y"}))


# --- the AsyncAPI initiative's own parser ------------------------------------------------


def _parse(path: Path) -> dict[str, Any]:
    out = _script("asyncapi-validate", str(path))
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_the_reference_parser_accepts_the_document() -> None:
    result = _parse(DOC_PATH)
    assert result["parsed"] is True
    # Spectral severities: 0 error, 1 warning, 2 information, 3 hint.
    serious = [d for d in result["diagnostics"] if d["severity"] <= 1]
    assert serious == []


def test_the_reference_parser_refuses_an_operation_sending_another_channel_s_message(
    doc: dict[str, Any], tmp_path: Path
) -> None:
    broken = copy.deepcopy(doc)
    broken["operations"]["sendCommands"]["messages"] = [
        {"$ref": "#/channels/events/messages/lifecycleEvent"}
    ]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    result = _parse(path)
    errors = [d for d in result["diagnostics"] if d["severity"] == 0]
    assert errors and any("operations/sendCommands/messages" in d["path"] for d in errors), result


def _script(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run one of the project's cached AsyncAPI tool scripts; fail the test if it fails."""
    out = subprocess.run(
        [str(ROOT / "scripts" / name), *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return out


def test_trace_headers_are_documented_where_the_worker_reads_and_writes_them(
    doc: dict[str, Any],
) -> None:
    from jarvis.contract.asyncapi import TRACE_HEADERS
    from jarvis.telemetry import tracing

    assert set(TRACE_HEADERS) == {tracing.TRACEPARENT, tracing.TRACESTATE}
    messages = doc["components"]["messages"]
    for name in ("StartCommand", "LifecycleEvent", "LogRecord"):
        assert set(messages[name]["headers"]["properties"]) == set(TRACE_HEADERS), name
    assert "headers" not in messages["StopCommand"]  # the worker reads none there
