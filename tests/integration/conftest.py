from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import orjson
import pytest
import redis
from confluent_kafka import Consumer, TopicPartition

from jarvis.contract.messages import LifecycleEvent
from jarvis.kafka.topics import apply
from jarvis.settings import Settings
from jarvis.worker.loop import Worker
from tests.conftest import ROOT, delete_topics, wait_for

pytestmark = pytest.mark.integration


def fresh_settings(
    stack_env: dict[str, str], checkpoint_dir: Path, uid: str, **overrides: Any
) -> Settings:
    """Settings on the local stack with topics, group, S3 prefix and worker id of their own
    (named after ``uid``); ``overrides`` replace any field."""
    fields: dict[str, Any] = {
        "kafka_bootstrap": stack_env["JARVIS_KAFKA_BOOTSTRAP"],
        "redis_url": stack_env["JARVIS_REDIS_URL"],
        "s3_endpoint_url": stack_env["JARVIS_S3_ENDPOINT_URL"],
        "s3_bucket": stack_env["JARVIS_S3_BUCKET"],
        "s3_prefix": f"test-{uid}",
        "control_topic": f"t{uid}.spy_control",
        "events_topic": f"t{uid}.spy_events",
        "logs_topic": f"t{uid}.spy_logs",
        "dlq_topic": f"t{uid}.spy_control.dlq",
        "group_id": f"t{uid}-workers",
        "checkpoint_dir": checkpoint_dir,
        "worker_id": f"test-worker-{uid}",
        "stop_check_interval_s": 0.05,
        "health_port": 0,  # any free port: several workers share this host
    }
    return Settings(**{**fields, **overrides})


def cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a `jarvis` process run against ``settings`` (no inherited
    JARVIS_* variable; no health server unless ``extra`` asks for one)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JARVIS_")}
    return {
        **env,
        "PYTHONPATH": str(ROOT),
        "JARVIS_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "JARVIS_REDIS_URL": settings.redis_url,
        "JARVIS_S3_ENDPOINT_URL": settings.s3_endpoint_url or "",
        "JARVIS_S3_BUCKET": settings.s3_bucket,
        "JARVIS_S3_PREFIX": settings.s3_prefix,
        "JARVIS_CONTROL_TOPIC": settings.control_topic,
        "JARVIS_EVENTS_TOPIC": settings.events_topic,
        "JARVIS_LOGS_TOPIC": settings.logs_topic,
        "JARVIS_DLQ_TOPIC": settings.dlq_topic,
        "JARVIS_GROUP_ID": settings.group_id,
        "JARVIS_CHECKPOINT_DIR": str(settings.checkpoint_dir),
        "JARVIS_HEALTH_PORT": "-1",
        **extra,
    }


@pytest.fixture
def settings(stack_env: dict[str, str], tmp_path: Path) -> Iterator[Settings]:
    """Settings with fresh topics, group and checkpoint directory for one test."""
    uid = uuid.uuid4().hex[:8]
    s = fresh_settings(stack_env, tmp_path / "checkpoints", uid)
    apply(s)
    yield s
    delete_topics(s.kafka_bootstrap, f"t{uid}.")


class TopicReader:
    """Reads a topic from the beginning, accumulating decoded messages."""

    def __init__(self, settings: Settings, topic: str) -> None:
        self.topic = topic
        self.consumer = Consumer(
            {
                "bootstrap.servers": settings.kafka_bootstrap,
                "group.id": f"reader-{uuid.uuid4().hex}",
                "enable.auto.commit": False,
                # A fetch at offset 0 of a topic created moments ago can come back out of
                # range (its log not yet ready); librdkafka's default reset ("latest") then
                # skips to the end, past every message the test waits for.
                "auto.offset.reset": "earliest",
            }
        )

        # Moments after `jarvis topics apply`, a new client's metadata can still say
        # UNKNOWN_TOPIC_OR_PART with no partitions: assigning those would read nothing, ever.
        def partitions() -> list[int]:
            meta = self.consumer.list_topics(topic, timeout=10).topics.get(topic)
            return [] if meta is None or meta.error is not None else list(meta.partitions)

        found = wait_for(partitions, 30, f"partitions of {topic}")
        self.consumer.assign([TopicPartition(topic, p, 0) for p in found])
        self.messages: list[Any] = []

    def poll(self) -> list[Any]:
        while True:
            msg = self.consumer.poll(0.05)
            if msg is None:
                return self.messages
            if msg.error() is None:
                self.messages.append(msg)

    def values(self) -> list[Any]:
        return [orjson.loads(m.value()) for m in self.poll()]

    def close(self) -> None:
        self.consumer.close()


class Harness:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.events = TopicReader(settings, settings.events_topic)
        self.logs = TopicReader(settings, settings.logs_topic)
        self.dlq = TopicReader(settings, settings.dlq_topic)
        self.workers: list[tuple[Worker, threading.Thread]] = []

    def start_worker(self, **overrides: Any) -> Worker:
        s = self.settings.model_copy(update=overrides) if overrides else self.settings
        worker = Worker(s)
        thread = threading.Thread(
            target=worker.run, name=f"worker-{len(self.workers)}", daemon=True
        )
        thread.start()
        self.workers.append((worker, thread))
        return worker

    def events_for(self, eid: str) -> list[LifecycleEvent]:
        return [
            LifecycleEvent.model_validate(v)
            for v in self.events.values()
            if v["execution_id"] == eid
        ]

    def logs_for(self, eid: str) -> list[dict[str, Any]]:
        return [v for v in self.logs.values() if v["execution_id"] == eid]

    def terminal(self, eid: str, timeout_s: float = 60.0) -> LifecycleEvent:
        def find() -> LifecycleEvent | None:
            return next((e for e in self.events_for(eid) if e.terminal), None)

        return wait_for(find, timeout_s, f"terminal event of {eid}")

    def close(self) -> None:
        for worker, _ in self.workers:
            worker.request_shutdown()
        for _, thread in self.workers:
            thread.join(30)
        for reader in (self.events, self.logs, self.dlq):
            reader.close()


@pytest.fixture
def harness(settings: Settings) -> Iterator[Harness]:
    h = Harness(settings)
    yield h
    h.close()


@pytest.fixture
def s3(settings: Settings) -> Any:
    return boto3.client("s3", endpoint_url=settings.s3_endpoint_url)


@pytest.fixture
def redis_client(settings: Settings) -> redis.Redis:
    return redis.Redis.from_url(settings.redis_url)


@pytest.fixture
def client(settings: Settings) -> Iterator[Any]:
    from jarvis.client import JarvisClient

    c = JarvisClient(settings)
    yield c
    c.close()
