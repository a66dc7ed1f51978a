from __future__ import annotations

from confluent_kafka import KafkaException
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
)

from jarvis.kafka.topics import apply, load_specs
from jarvis.settings import Settings
from tests.helpers import wait_for
from tests.helpers.kafka import kafka_retry, partitions


def test_apply_is_idempotent(settings: Settings) -> None:
    # The fixture applied once already: a second and third apply change nothing.
    for _ in range(2):
        reports = kafka_retry(lambda: apply(settings), "apply")
        assert [(r.topic, r.action) for r in reports] == [
            (settings.control_topic, "ok"),
            (settings.events_topic, "ok"),
            (settings.logs_topic, "ok"),
            (settings.dlq_topic, "ok"),
        ]
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    for spec in load_specs(settings):
        assert len(partitions(admin, spec.name)) == spec.partitions


def _small_control_topic(settings: Settings) -> tuple[Settings, AdminClient]:
    """A control topic made by hand with 2 partitions and a 1 s retention."""
    drifted = settings.model_copy(
        update={
            "control_topic": settings.control_topic + ".small",
            "logs_topic": settings.logs_topic + ".new",
        }
    )
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    topic = NewTopic(
        drifted.control_topic,
        num_partitions=2,
        replication_factor=1,
        config={"retention.ms": "1000", "max.message.bytes": "4096"},
    )
    kafka_retry(
        lambda: admin.create_topics([topic])[drifted.control_topic].result(),
        f"creating {drifted.control_topic}",
    )
    return drifted, admin


def _configs(admin: AdminClient, topic: str, *keys: str) -> dict[str, str]:
    """These configs as the broker describes them ({} while it does not know the topic yet)."""
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    try:
        actual = admin.describe_configs([resource])[resource].result()
    except KafkaException:
        return {}
    return {k: actual[k].value for k in keys}


def _set(admin: AdminClient, topic: str, key: str, value: str) -> None:
    """Set one config and wait until the broker describes it (KRaft applies it to the
    broker's metadata a moment after the controller accepts it)."""
    resource = ConfigResource(
        ConfigResource.Type.TOPIC,
        topic,
        incremental_configs=[ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET)],
    )

    def alter() -> None:  # a topic created moments ago can still be unknown to the broker
        for future in admin.incremental_alter_configs([resource]).values():
            future.result()

    kafka_retry(alter, f"setting {topic} {key}")
    wait_for(lambda: _configs(admin, topic, key) == {key: value}, 30, f"{topic} {key}={value}")


def test_report_only_creates_missing_and_reports_drift_without_changing_anything(
    settings: Settings,
) -> None:
    drifted, admin = _small_control_topic(settings)

    reports = {
        r.topic: r for r in kafka_retry(lambda: apply(drifted, alter_configs=False), "apply")
    }
    assert reports[drifted.logs_topic].action == "created"
    small = reports[drifted.control_topic]
    assert small.action == "drift"
    assert "2 partitions, 12 declared" in small.detail
    assert "retention.ms=1000, declared 604800000" in small.detail
    # nothing was altered
    assert len(partitions(admin, drifted.control_topic)) == 2
    assert _configs(admin, drifted.control_topic, "retention.ms", "max.message.bytes") == {
        "retention.ms": "1000",
        "max.message.bytes": "4096",
    }


def test_apply_sets_declared_configs_and_leaves_partitions_alone(settings: Settings) -> None:
    drifted, admin = _small_control_topic(settings)
    # A config the declarations don't mention stays as the operator set it.
    _set(admin, drifted.control_topic, "segment.ms", "3600000")

    small = {r.topic: r for r in kafka_retry(lambda: apply(drifted), "apply")}[
        drifted.control_topic
    ]
    assert small.action == "drift"  # the partition count still differs: only reported
    assert "retention.ms 1000 -> 604800000" in small.detail
    assert "max.message.bytes 4096 -> 1048576" in small.detail
    assert "2 partitions, 12 declared" in small.detail
    assert len(partitions(admin, drifted.control_topic)) == 2
    wanted = {"retention.ms": "604800000", "max.message.bytes": "1048576", "segment.ms": "3600000"}
    wait_for(lambda: _configs(admin, drifted.control_topic, *wanted) == wanted, 30, "configs set")
    # A second apply finds only the partitions to report.
    again = {r.topic: r for r in kafka_retry(lambda: apply(drifted), "apply")}[
        drifted.control_topic
    ]
    assert (
        again.detail
        == "2 partitions, 12 declared (left as is: adding partitions moves keys; do it deliberately with kafka-topics --alter)"
    )


def test_apply_updates_a_config_only_drift_and_reports_it(settings: Settings) -> None:
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    _set(admin, settings.events_topic, "compression.type", "zstd")
    reports = {r.topic: r for r in kafka_retry(lambda: apply(settings), "apply")}
    assert reports[settings.events_topic].action == "updated"
    assert reports[settings.events_topic].detail == "compression.type zstd -> producer"
    wait_for(
        lambda: (
            _configs(admin, settings.events_topic, "compression.type")
            == {"compression.type": "producer"}
        ),
        30,
        "compression.type=producer",
    )
    assert {r.action for t, r in reports.items() if t != settings.events_topic} == {"ok"}
