"""The local stack (scripts/stack) from tests: its addresses, per-test settings and a
``jarvis`` process's environment on it, and topic clean-up."""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path
from typing import Any

from jarvis.settings import Settings
from tests.helpers.tools import ROOT

SERVICE_VARS = (
    "JARVIS_KAFKA_BOOTSTRAP",
    "JARVIS_REDIS_URL",
    "JARVIS_S3_ENDPOINT_URL",
    "JARVIS_S3_BUCKET",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
)


def service_env() -> dict[str, str]:
    """Addresses (and S3 credentials) of a running Kafka, Redis and S3 server: from the
    environment, else ``scripts/stack up`` then ``scripts/stack env`` (exported here too)."""
    if not os.environ.get("JARVIS_KAFKA_BOOTSTRAP"):
        stack = str(ROOT / "scripts" / "stack")
        subprocess.run([stack, "up"], check=True)
        out = subprocess.run([stack, "env"], check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            os.environ.setdefault(key, value.strip("'\""))
    env = {k: os.environ[k] for k in SERVICE_VARS if k in os.environ}
    env.setdefault("AWS_ACCESS_KEY_ID", "testing")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return env


def fresh_settings(
    stack_env: dict[str, str], checkpoint_dir: Path, uid: str, **overrides: Any
) -> Settings:
    """Settings on the local stack with topics, group, S3 prefix and worker id of their own
    (named after ``uid``: topics ``t<uid>.*``); ``overrides`` replace any field."""
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


def delete_topics(bootstrap: str, prefix: str) -> None:
    """Best effort: delete every topic whose name starts with ``prefix``. Thousands of leftover
    test partitions make every broker start slower (``scripts/stack up`` then times out)."""
    from confluent_kafka.admin import AdminClient

    with contextlib.suppress(Exception):
        admin = AdminClient({"bootstrap.servers": bootstrap})
        names = [t for t in admin.list_topics(timeout=10).topics if t.startswith(prefix)]
        if names:
            for future in admin.delete_topics(names, operation_timeout=30).values():
                with contextlib.suppress(Exception):
                    future.result(30)
