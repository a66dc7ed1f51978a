"""JSON Schemas of the contract, generated from the models into ``jarvis/topics/schemas/``, and
the AsyncAPI document of the topics (``jarvis/topics/asyncapi.json``, ``jarvis.contract.asyncapi``).

They are package data: they ship in the wheel, so an installed Jarvis can check them against
its models (``jarvis contract export --check``) and hand them out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from jarvis.contract import asyncapi
from jarvis.contract.messages import ControlCommand, LifecycleEvent, LogRecord

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "topics" / "schemas"
ASYNCAPI_NAME = "asyncapi.json"
"""Written beside ``schemas/`` (``jarvis/topics/asyncapi.json``; with ``jarvis contract
export --dir DIR``, in DIR's parent)."""


def schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema for each topic's payload."""
    control = TypeAdapter(ControlCommand).json_schema()
    control["title"] = "spy_control command (start | stop)"
    return {
        "spy_control.schema.json": control,
        "spy_events.schema.json": LifecycleEvent.model_json_schema(),
        "spy_logs.schema.json": LogRecord.model_json_schema(),
    }


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def documents(directory: Path = SCHEMA_DIR) -> dict[Path, str]:
    """Every generated file (path -> text): the schemas in ``directory``, the AsyncAPI
    document beside it (``directory``'s parent)."""
    out = {directory / name: render(schema) for name, schema in schemas().items()}
    out[directory.parent / ASYNCAPI_NAME] = render(asyncapi.document())
    return out


def export(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write every schema and the AsyncAPI document; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for path, text in documents(directory).items():
        path.write_text(text)
        written.append(path)
    return written


def drift(directory: Path = SCHEMA_DIR) -> list[str]:
    """Names of checked-in files that differ from the models (or are missing)."""
    out = []
    for path, text in documents(directory).items():
        if not path.exists() or path.read_text() != text:
            out.append(path.name)
    return out
