"""The Kafka contract as an AsyncAPI 3.0 document, generated from the same pydantic models as
the JSON Schemas (``jarvis/topics/asyncapi.json``; ``jarvis contract export`` writes it, and the
drift test checks it with the schemas).

The document describes an orchestrator: it *sends* commands to ``spy_control`` and
*receives* lifecycle events, log records and dead letters. Every payload schema lives under
``components/schemas`` (pydantic's ``$defs``, re-pointed there), so a message's payload,
dereferenced, is exactly its model's JSON Schema. Channel bindings come from
``topics/topics.toml`` (partitions, cleanup policy, retention, size limit).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from jarvis import __version__
from jarvis.contract.messages import (
    CONTRACT_VERSION,
    EXECUTION_ID_PATTERN,
    LifecycleEvent,
    LogRecord,
    StartCommand,
    StopCommand,
)
from jarvis.settings import Settings

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
REF_TEMPLATE = "#/components/schemas/{model}"

ORIGINAL_HEADER_PREFIX = "original."
"""A dead letter carries the refused message's own headers renamed ``original.<name>``."""

DEAD_LETTER_HEADERS: dict[str, tuple[bool, str]] = {
    "jarvis.error.reason": (
        True,
        "Why the message was refused: one short line (at most 300 characters).",
    ),
    "jarvis.error.field": (
        True,
        "The offending field as a dotted JSON path (`program.source`, `inputs.a.0`), `key` for "
        "the Kafka key, empty for the message as a whole (at most 200 characters).",
    ),
    "jarvis.source.topic": (True, "Topic the refused message was read from."),
    "jarvis.source.partition": (True, "Its partition (decimal)."),
    "jarvis.source.offset": (True, "Its offset (decimal)."),
    "jarvis.dead_lettered_at": (True, "When the worker refused it (ISO 8601, UTC)."),
    "jarvis.worker": (True, "The worker that refused it."),
    "jarvis.value.truncated": (
        False,
        "`true` when the value is a prefix of the original (larger than JARVIS_MAX_DEAD_LETTER_BYTES).",
    ),
    "jarvis.value.original_bytes": (False, "With `jarvis.value.truncated`: the original's size."),
    "jarvis.value.ref": (
        False,
        "With `jarvis.value.truncated`: where the whole original is stored (s3://...), when the "
        "worker could store it.",
    ),
    "jarvis.key.truncated": (False, "`true` when the key was cut to 1 KiB."),
    "jarvis.key.original_bytes": (False, "With `jarvis.key.truncated`: the original key's size."),
    "jarvis.headers.dropped": (False, "How many original headers were left out to fit."),
}
"""Every header the worker sets on a dead letter: name -> (always present, meaning).
jarvis/worker/deadletter.py writes them; a test keeps the two in step."""


TRACE_HEADERS: dict[str, str] = {
    "traceparent": "W3C trace context (https://www.w3.org/TR/trace-context/): "
    "`00-<32 hex trace id>-<16 hex parent span id>-<2 hex flags>`.",
    "tracestate": "W3C trace context: vendor-specific trace state, at most 512 characters; "
    "only meaningful with `traceparent`.",
}
"""The trace-context headers (jarvis/telemetry/tracing.py reads and writes them)."""


def _trace_headers(description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "properties": {
            name: {"type": "string", "description": text} for name, text in TRACE_HEADERS.items()
        },
    }


START_TRACE = (
    "Optional. The orchestrator's trace context (`JarvisClient.start` sets it from the current "
    "OpenTelemetry context): the parent of the execution's span when the workers trace "
    "(JARVIS_TRACING), and copied onto the execution's events and log records either way. An "
    "invalid `traceparent` is ignored, as W3C trace context asks; the command still runs."
)
OUTPUT_TRACE = (
    "Present when the start command had a valid `traceparent`: the same trace. With tracing "
    "on (JARVIS_TRACING) the parent span is the execution attempt's span (`accepted` still "
    "carries the start's); with tracing off both headers are the start's, unchanged. An "
    "execution resumed from its journal (take-over) keeps its start's trace."
)


def _topic_defaults() -> dict[str, str]:
    fields = Settings.model_fields
    return {
        role: str(fields[f"{role}_topic"].default) for role in ("control", "events", "logs", "dlq")
    }


def _declared_topics() -> dict[str, dict[str, Any]]:
    path = Path(str(Settings.model_fields["topics_file"].default))
    topics: dict[str, dict[str, Any]] = tomllib.loads(path.read_text())["topics"]
    return topics


def _channel_binding(declared: dict[str, Any], address: str) -> dict[str, Any]:
    return {
        "kafka": {
            "topic": address,
            "partitions": declared["partitions"],
            "topicConfiguration": {
                "cleanup.policy": [p.strip() for p in str(declared["cleanup_policy"]).split(",")],
                "retention.ms": declared["retention_ms"],
                "max.message.bytes": declared["max_message_bytes"],
            },
            "bindingVersion": KAFKA_BINDING_VERSION,
        }
    }


def _key_binding(description: str) -> dict[str, Any]:
    return {
        "kafka": {
            "key": {"type": "string", "pattern": EXECUTION_ID_PATTERN, "description": description},
            "bindingVersion": KAFKA_BINDING_VERSION,
        }
    }


def model_schemas() -> tuple[dict[str, str], dict[str, Any]]:
    """Model name -> its ``$ref`` in the document, and ``components/schemas`` itself."""
    models = (StartCommand, StopCommand, LifecycleEvent, LogRecord)
    refs, defs = models_json_schema([(m, "validation") for m in models], ref_template=REF_TEMPLATE)
    by_name = {m.__name__: refs[(m, "validation")]["$ref"] for m in models}
    return by_name, dict(sorted(defs["$defs"].items()))


def _dead_letter_headers() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "Header values are UTF-8 text. The refused message's own headers follow "
        f"the worker's, each renamed `{ORIGINAL_HEADER_PREFIX}<name>` (e.g. "
        "`original.traceparent`), so no producer can forge a `jarvis.*` header.",
        "required": [name for name, (always, _) in DEAD_LETTER_HEADERS.items() if always],
        "properties": {
            name: {"type": "string", "description": text}
            for name, (_, text) in DEAD_LETTER_HEADERS.items()
        },
        "patternProperties": {
            "^original\\.": {"type": "string", "description": "A header of the refused message."}
        },
    }


def document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the four topics, as default-configured."""
    names = _topic_defaults()
    declared = _declared_topics()
    refs, schemas = model_schemas()
    key_doc = "The execution id: every message of one execution is on one partition, in order."

    def model_message(
        model: str, name: str, title: str, summary: str, trace: str | None = None
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "name": name,
            "title": title,
            "summary": summary,
            "contentType": "application/json",
        }
        if trace is not None:
            message["headers"] = _trace_headers(trace)
        message["payload"] = {"$ref": refs[model]}
        message["bindings"] = _key_binding(key_doc)
        return message

    messages = {
        "StartCommand": model_message(
            "StartCommand",
            "start",
            "Start command",
            "Start (or resume) an execution.",
            START_TRACE,
        ),
        "StopCommand": model_message(
            "StopCommand", "stop", "Stop command", "Stop an execution wherever it runs."
        ),
        "LifecycleEvent": model_message(
            "LifecycleEvent",
            "lifecycleEvent",
            "Lifecycle event",
            "accepted, started, resumed, then one terminal completed / failed / rejected / "
            "stopped; artifacts carry presigned URLs.",
            OUTPUT_TRACE,
        ),
        "LogRecord": model_message(
            "LogRecord",
            "logRecord",
            "Log record",
            "One raw execution log record; identity (execution_id, seq).",
            OUTPUT_TRACE,
        ),
        "DeadLetter": {
            "name": "deadLetter",
            "title": "Dead letter",
            "summary": "A refused control message: its original bytes and key, with headers "
            "saying why and where from.",
            "contentType": "application/octet-stream",
            "headers": _dead_letter_headers(),
            "payload": {
                "type": "string",
                "format": "binary",
                "description": "The refused message's value, byte for byte (not necessarily "
                "JSON), or a prefix of it when `jarvis.value.truncated` is `true`.",
            },
            "bindings": {
                "kafka": {
                    "key": {
                        "type": "string",
                        "description": "The refused message's key, unchanged (cut to 1 KiB "
                        "when `jarvis.key.truncated`); absent when it had none.",
                    },
                    "bindingVersion": KAFKA_BINDING_VERSION,
                }
            },
        },
    }

    def channel(role: str, summary: str, msgs: dict[str, str]) -> dict[str, Any]:
        address = names[role]
        return {
            "address": address,
            "title": address,
            "description": f"{summary} Topic name from JARVIS_{role.upper()}_TOPIC "
            f"(default `{address}`); declared in topics/topics.toml.",
            "messages": {k: {"$ref": f"#/components/messages/{v}"} for k, v in msgs.items()},
            "bindings": _channel_binding(declared[role], address),
        }

    channels = {
        "control": channel(
            "control",
            "Commands to the workers, keyed by execution id.",
            {"start": "StartCommand", "stop": "StopCommand"},
        ),
        "events": channel(
            "events",
            "Lifecycle events, keyed by execution id.",
            {"lifecycleEvent": "LifecycleEvent"},
        ),
        "logs": channel(
            "logs", "Raw execution log records, keyed by execution id.", {"logRecord": "LogRecord"}
        ),
        "dlq": channel(
            "dlq",
            "Control messages the workers refused (dead letters).",
            {"deadLetter": "DeadLetter"},
        ),
    }

    def operation(action: str, chan: str, summary: str) -> dict[str, Any]:
        return {
            "action": action,
            "channel": {"$ref": f"#/channels/{chan}"},
            "summary": summary,
            "messages": [
                {"$ref": f"#/channels/{chan}/messages/{m}"} for m in channels[chan]["messages"]
            ],
        }

    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": "urn:jarvis:contract",
        "info": {
            "title": "Jarvis Kafka contract",
            "version": f"{__version__} (contract v{CONTRACT_VERSION})",
            "description": "How an orchestrator drives Jarvis: it sends start and stop commands "
            "to the control topic and receives lifecycle events, raw log records and dead "
            "letters. Payloads are JSON with a `version` (this release writes 2, reads 1 and "
            "2; unknown newer fields are ignored); columns are 0-based everywhere; "
            "the key is the execution id on every topic. Generated from jarvis/contract by "
            "`jarvis contract export`; do not edit.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {
                "host": str(Settings.model_fields["kafka_bootstrap"].default),
                "protocol": "kafka",
                "description": "The local stack's broker (JARVIS_KAFKA_BOOTSTRAP in a deployment).",
            }
        },
        "channels": channels,
        "operations": {
            "sendCommands": operation(
                "send", "control", "Start or stop executions (key: the execution id)."
            ),
            "receiveEvents": operation("receive", "events", "Follow executions' lifecycles."),
            "receiveLogs": operation("receive", "logs", "Read raw execution logs."),
            "receiveDeadLetters": operation(
                "receive", "dlq", "See which commands were refused and why."
            ),
        },
        "components": {"schemas": schemas, "messages": messages},
    }
