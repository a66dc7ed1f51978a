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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
    OffsetSpec,
)

from jarvis.errors import JarvisError
from jarvis.kafka.reach import connect, unavailable
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
    """Create missing topics, set declared configs that differ, report partition drift;
    ``ServiceUnavailable`` within about
    ``timeout_s`` when the broker does not answer."""
    specs = specs if specs is not None else load_specs(settings)
    admin, meta = connect(settings, timeout_s)
    existing: dict[str, Any] = dict(meta.topics)
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
            request_timeout=timeout_s,
        )
        for s in missing:
            try:
                futures[s.name].result()
                reports.append(TopicReport(s.name, "created", f"{s.partitions} partitions"))
            except KafkaException as exc:
                # Metadata lagged behind, or a concurrent apply won: check it like any other.
                if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":
                    raise JarvisError(
                        f"could not create topic {s.name}: {exc.args[0].str()}"
                    ) from exc
                raced.add(s.name)
    if raced:
        existing = _wait_visible(admin, raced, timeout_s)
    present = [s for s in specs if s.name in existing and (s.name in raced or s not in missing)]
    actual = _configs(settings, admin, [s.name for s in present], timeout_s)
    for s in present:
        have = actual[s.name]
        differ = {k: want for k, want in s.config.items() if have.get(k) != want}
        changed: list[str] = []
        problems: list[str] = []
        if differ and alter_configs:
            error = _alter(admin, s.name, differ, timeout_s)
            if error is None:
                changed = [f"{k} {have.get(k)} -> {want}" for k, want in differ.items()]
                have = {**have, **differ}
            else:
                problems.append(f"could not set configs: {error}")
        problems += drift(s, len(existing[s.name].partitions), have)
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


def drift(spec: TopicSpec, partitions: int, config: dict[str, str | None]) -> list[str]:
    """How a topic as the broker has it differs from its declaration (empty: it matches)."""
    problems = []
    if partitions < spec.partitions:
        problems.append(
            f"{partitions} partitions, {spec.partitions} declared (left as is: adding partitions "
            "moves keys; do it deliberately with kafka-topics --alter)"
        )
    elif partitions > spec.partitions:
        problems.append(f"{partitions} partitions, more than the {spec.partitions} declared")
    for key, want in spec.config.items():
        got = config.get(key)
        if got != want:
            problems.append(f"{key}={got}, declared {want}")
    return problems


def _configs(
    settings: Settings, admin: AdminClient, names: list[str], timeout_s: float
) -> dict[str, dict[str, str | None]]:
    if not names:
        return {}
    futures = admin.describe_configs(
        [ConfigResource(ConfigResource.Type.TOPIC, n) for n in names], request_timeout=timeout_s
    )
    out: dict[str, dict[str, str | None]] = {}
    for res, fut in futures.items():
        try:
            entries = fut.result(timeout_s + 1)
        except (KafkaException, TimeoutError) as exc:
            raise unavailable(
                settings, f"cannot read the config of topic {res.name}", exc, None
            ) from exc
        out[res.name] = {k: e.value for k, e in entries.items()}
    return out


@dataclass(frozen=True)
class PartitionState:
    partition: int
    earliest: int
    end: int
    committed: int | None = None
    """The worker group's committed offset (control topic only; None: nothing committed)."""
    lag: int | None = None
    """end - committed (or - earliest when nothing is committed): queued + running work."""


@dataclass(frozen=True)
class TopicState:
    role: str
    topic: str
    present: bool
    declared_partitions: int
    partitions: int = 0
    replication: int = 0
    drift: tuple[str, ...] = ()
    offsets: tuple[PartitionState, ...] = ()
    group: str | None = None

    @property
    def lag(self) -> int | None:
        lags = [p.lag for p in self.offsets if p.lag is not None]
        return sum(lags) if lags else None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "lag": self.lag}


def describe(
    settings: Settings, specs: list[TopicSpec] | None = None, timeout_s: float = 30.0
) -> list[TopicState]:
    """Each declared topic as the broker has it: partitions, replication, drift from its
    declaration, earliest and end offsets per partition and, for the control topic, the
    worker group's committed offsets and lag. Changes nothing."""
    specs = specs if specs is not None else load_specs(settings)
    admin, meta = connect(settings, timeout_s)
    present = [s for s in specs if s.name in meta.topics and meta.topics[s.name].error is None]
    configs = _configs(settings, admin, [s.name for s in present], timeout_s)
    wanted = [
        TopicPartition(s.name, p) for s in present for p in sorted(meta.topics[s.name].partitions)
    ]
    earliest = _offsets(settings, admin, wanted, OffsetSpec.earliest(), timeout_s)  # type: ignore[no-untyped-call]
    latest = _offsets(settings, admin, wanted, OffsetSpec.latest(), timeout_s)  # type: ignore[no-untyped-call]
    committed = _committed(
        settings,
        admin,
        settings.group_id,
        [tp for tp in wanted if tp.topic == settings.control_topic],
        timeout_s,
    )
    states = []
    for s in specs:
        if s not in present:
            states.append(TopicState(s.role, s.name, False, s.partitions))
            continue
        topic = meta.topics[s.name]
        offsets = []
        for p in sorted(topic.partitions):
            low, end = earliest[(s.name, p)], latest[(s.name, p)]
            done = committed.get((s.name, p)) if s.name == settings.control_topic else None
            lag = None
            if s.name == settings.control_topic:
                lag = max(0, end - (done if done is not None else low))
            offsets.append(PartitionState(p, low, end, done, lag))
        replication = min((len(part.replicas) for part in topic.partitions.values()), default=0)
        states.append(
            TopicState(
                s.role,
                s.name,
                True,
                s.partitions,
                partitions=len(topic.partitions),
                replication=replication,
                drift=tuple(drift(s, len(topic.partitions), configs[s.name])),
                offsets=tuple(offsets),
                group=settings.group_id if s.name == settings.control_topic else None,
            )
        )
    return states


def _offsets(
    settings: Settings,
    admin: AdminClient,
    partitions: list[TopicPartition],
    spec: OffsetSpec,
    timeout_s: float,
) -> dict[tuple[str, int], int]:
    if not partitions:
        return {}
    futures = admin.list_offsets({tp: spec for tp in partitions}, request_timeout=timeout_s)
    out = {}
    for tp, fut in futures.items():
        try:
            out[(tp.topic, tp.partition)] = int(fut.result(timeout_s + 1).offset)
        except (KafkaException, TimeoutError) as exc:
            raise unavailable(
                settings, f"cannot list offsets of {tp.topic} [{tp.partition}]", exc, None
            ) from exc
    return out


def _committed(
    settings: Settings,
    admin: AdminClient,
    group: str,
    partitions: list[TopicPartition],
    timeout_s: float,
) -> dict[tuple[str, int], int]:
    """The group's committed offsets (a partition it never committed is left out)."""
    if not partitions:
        return {}
    futures = admin.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(group, partitions)], request_timeout=timeout_s
    )
    try:
        result = futures[group].result(timeout_s + 1)
    except (KafkaException, TimeoutError) as exc:
        raise unavailable(
            settings, f"cannot read the committed offsets of group {group}", exc, None
        ) from exc
    return {
        (tp.topic, tp.partition): int(tp.offset)
        for tp in result.topic_partitions
        if tp.offset >= 0 and tp.error is None
    }


def _wait_visible(admin: AdminClient, names: set[str], timeout_s: float) -> dict[str, Any]:
    """Topic metadata once every name in ``names`` is visible with its partitions."""
    deadline = time.monotonic() + timeout_s
    while True:
        topics = admin.list_topics(timeout=timeout_s).topics
        if all(n in topics and topics[n].partitions for n in names) or time.monotonic() > deadline:
            return dict(topics)
        time.sleep(0.1)
