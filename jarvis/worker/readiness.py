"""The worker's dependency checks for ``/readyz``: each raises when its dependency is unusable."""

from __future__ import annotations

import os

import redis
from confluent_kafka.admin import AdminClient

from jarvis.artifacts import ArtifactStore, S3ArtifactStore
from jarvis.errors import JarvisError
from jarvis.settings import Settings
from jarvis.worker.health import Check


def checks(
    settings: Settings, admin: AdminClient, client: redis.Redis[bytes], artifacts: ArtifactStore
) -> dict[str, Check]:
    def kafka() -> None:
        meta = admin.list_topics(settings.control_topic, timeout=3)
        topic = meta.topics.get(settings.control_topic)
        if topic is None or topic.error is not None:
            raise JarvisError(f"topic {settings.control_topic} unavailable")

    def redis_ping() -> None:
        client.ping()

    def volume() -> None:
        probe = settings.checkpoint_dir / f".probe-{settings.worker_id}"
        with open(probe, "wb") as fh:
            fh.write(b"ok")
            fh.flush()
            os.fsync(fh.fileno())
        probe.unlink()

    def object_store() -> None:
        if isinstance(artifacts, S3ArtifactStore):
            artifacts.client.head_bucket(Bucket=artifacts.bucket)

    return {
        "kafka": kafka,
        "redis": redis_ping,
        "checkpoint_volume": volume,
        "object_store": object_store,
    }
