"""JSON Schemas of the contract, generated from the models into ``jarvis/topics/schemas/``.

The schemas are package data: they ship in the wheel, so an installed Jarvis can check them
against its models (``jarvis contract export --check``) and hand them out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from jarvis.contract.messages import ControlCommand, LifecycleEvent, LogRecord

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "topics" / "schemas"


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


def export(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write every schema; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schemas().items():
        path = directory / name
        path.write_text(render(schema))
        written.append(path)
    return written


def drift(directory: Path = SCHEMA_DIR) -> list[str]:
    """Names of checked-in schemas that differ from the models (or are missing)."""
    out = []
    for name, schema in schemas().items():
        path = directory / name
        if not path.exists() or path.read_text() != render(schema):
            out.append(name)
    return out
