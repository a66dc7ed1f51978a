from __future__ import annotations

from confluent_kafka.admin import AdminClient, NewTopic

from jarvis.kafka.topics import apply, load_specs
from jarvis.settings import Settings


def test_apply_is_idempotent(settings: Settings) -> None:
    # The fixture applied once already: a second and third apply change nothing.
    for _ in range(2):
        reports = apply(settings)
        assert [(r.topic, r.action) for r in reports] == [
            (settings.control_topic, "ok"),
            (settings.events_topic, "ok"),
            (settings.logs_topic, "ok"),
            (settings.dlq_topic, "ok"),
        ]
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    topics = admin.list_topics(timeout=10).topics
    for spec in load_specs(settings):
        assert len(topics[spec.name].partitions) == spec.partitions


def test_apply_creates_missing_and_reports_drift_without_destroying(settings: Settings) -> None:
    drifted = settings.model_copy(update={"control_topic": settings.control_topic + ".small", "logs_topic": settings.logs_topic + ".new"})
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    admin.create_topics(
        [NewTopic(drifted.control_topic, num_partitions=2, replication_factor=1, config={"retention.ms": "1000"})]
    )[drifted.control_topic].result()

    reports = {r.topic: r for r in apply(drifted)}
    assert reports[drifted.logs_topic].action == "created"
    small = reports[drifted.control_topic]
    assert small.action == "drift"
    assert "2 partitions, 12 declared" in small.detail
    assert "retention.ms=1000, declared 604800000" in small.detail
    # nothing was altered
    assert len(admin.list_topics(timeout=10).topics[drifted.control_topic].partitions) == 2
