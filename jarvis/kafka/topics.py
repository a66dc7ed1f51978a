"""Topics as code: read ``jarvis/topics/topics.toml`` and make the cluster match, without data loss.

The declarations are package data (they ship in the wheel); ``JARVIS_TOPICS_FILE`` points
at another file. ``load_specs`` reads them without a broker (``jarvis topics plan``).

``apply`` creates missing topics, sets each declared config that differs on an existing
topic (reported as ``updated``, with the old and new values: configs such as retention and
compression change nothing already stored), and reports partition counts that differ as
drift. It never deletes a topic, shrinks one, or adds partitions to an existing one (that
would move keys between partitions and break per-execution order). With
``alter_configs=False`` (``jarvis topics apply --report-only``) config differences are only
reported.
"""

from __future__ import annotations

import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
)

from jarvis.errors import JarvisError
from jarvis.kafka.config import base_config
from jarvis.settings import Settings

ROLES = ("control", "events", "logs", "dlq")


@dataclass(frozen=True)
class TopicSpec:
    role: str
    name: str
    partitions: int
    config: dict[str, str]


@dataclass(frozen=True)
class TopicReport:
    topic: str
    action: str  # created | ok | updated | drift
    detail: str = ""


_FIELDS = {
    # toml key -> topic config name
    "cleanup_policy": "cleanup.policy",
    "retention_ms": "retention.ms",
    "compression_type": "compression.type",
    "max_message_bytes": "max.message.bytes",
}


def load_specs(settings: Settings, path: Path | None = None) -> list[TopicSpec]:
    path = path or settings.topics_file
    try:
        declared = tomllib.loads(path.read_text())["topics"]
    except (OSError, UnicodeDecodeError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise JarvisError(f"cannot read topic declarations from {path}: {exc}") from exc
    if not isinstance(declared, dict):
        raise JarvisError(f"{path}: [topics] must be a table, not {type(declared).__name__}")
    names = {
        "control": settings.control_topic,
        "events": settings.events_topic,
        "logs": settings.logs_topic,
        "dlq": settings.dlq_topic,
    }
    specs = []
    for role in ROLES:
        if role not in declared:
            raise JarvisError(f"{path}: [topics.{role}] is missing")
        d = declared[role]
        if not isinstance(d, dict):
            raise JarvisError(f"{path}: [topics.{role}] must be a table")
        missing = [k for k in ("partitions", *_FIELDS) if k not in d]
        if missing:
            raise JarvisError(f"{path}: [topics.{role}] is missing {', '.join(missing)}")
        partitions = d["partitions"]
        if isinstance(partitions, bool) or not isinstance(partitions, int) or partitions < 1:
            raise JarvisError(
                f"{path}: [topics.{role}] partitions must be a positive integer, not {partitions!r}"
            )
        specs.append(
            TopicSpec(
                role=role,
                name=names[role],
                partitions=partitions,
                config={name: str(d[key]) for key, name in _FIELDS.items()},
            )
        )
    return specs


def apply(
    settings: Settings,
    specs: list[TopicSpec] | None = None,
    timeout_s: float = 30.0,
    alter_configs: bool = True,
) -> list[TopicReport]:
    specs = specs if specs is not None else load_specs(settings)
    admin = AdminClient(base_config(settings))
    existing = admin.list_topics(timeout=timeout_s).topics
    reports: list[TopicReport] = []
    missing = [s for s in specs if s.name not in existing]
    raced: set[str] = set()
    if missing:
        futures = admin.create_topics(
            [
                NewTopic(
                    s.name,
                    num_partitions=s.partitions,
                    replication_factor=settings.topic_replication,
                    config=s.config,
                )
                for s in missing
            ],
            operation_timeout=timeout_s,
        )
        for s in missing:
            try:
                futures[s.name].result()
                reports.append(TopicReport(s.name, "created", f"{s.partitions} partitions"))
            except KafkaException as exc:
                # Metadata lagged behind, or a concurrent apply won: check it like any other.
                if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":
                    raise JarvisError(f"could not create topic {s.name}: {exc}") from exc
                raced.add(s.name)
    if raced:
        existing = _wait_visible(admin, raced, timeout_s)
    present = [s for s in specs if s.name in existing and (s.name in raced or s not in missing)]
    if present:
        configs = admin.describe_configs(
            [ConfigResource(ConfigResource.Type.TOPIC, s.name) for s in present]
        )
        by_name = {res.name: fut for res, fut in configs.items()}
        for s in present:
            problems = []
            have = len(existing[s.name].partitions)
            if have < s.partitions:
                problems.append(
                    f"{have} partitions, {s.partitions} declared (left as is: adding partitions "
                    "moves keys; do it deliberately with kafka-topics --alter)"
                )
            elif have > s.partitions:
                problems.append(f"{have} partitions, more than the {s.partitions} declared")
            actual = by_name[s.name].result()
            differ = {
                key: (actual[key].value if key in actual else None, want)
                for key, want in s.config.items()
                if (actual[key].value if key in actual else None) != want
            }
            changed: list[str] = []
            if differ and alter_configs:
                error = _alter(admin, s.name, {k: new for k, (_, new) in differ.items()}, timeout_s)
                if error is None:
                    changed = [f"{k} {old} -> {new}" for k, (old, new) in differ.items()]
                    differ = {}
                else:
                    problems.append(f"could not set configs: {error}")
            problems += [f"{k}={old}, declared {new}" for k, (old, new) in differ.items()]
            action = "drift" if problems else "updated" if changed else "ok"
            reports.append(TopicReport(s.name, action, "; ".join(changed + problems)))
    return reports


def _alter(admin: AdminClient, topic: str, values: dict[str, str], timeout_s: float) -> str | None:
    """Set ``values`` on ``topic`` (incrementally: other configs stay); the error, if any."""
    resource = ConfigResource(
        ConfigResource.Type.TOPIC,
        topic,
        incremental_configs=[
            ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET)
            for k, v in values.items()
        ],
    )
    try:
        for future in admin.incremental_alter_configs(
            [resource], request_timeout=timeout_s
        ).values():
            future.result()
    except KafkaException as exc:
        return str(exc.args[0].str() if exc.args else exc)
    return None


def _wait_visible(admin: AdminClient, names: set[str], timeout_s: float) -> dict[str, Any]:
    """Topic metadata once every name in ``names`` is visible with its partitions."""
    deadline = time.monotonic() + timeout_s
    while True:
        topics = admin.list_topics(timeout=timeout_s).topics
        if all(n in topics and topics[n].partitions for n in names) or time.monotonic() > deadline:
            return dict(topics)
        time.sleep(0.1)
