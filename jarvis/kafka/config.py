"""librdkafka configuration built from Settings, in one place."""

from __future__ import annotations

from typing import Any

from jarvis.settings import Settings

# murmur2_random is the Java client's partitioner: a key lands on the same partition
# whichever client (Python, kcat, Java) produced it, so an execution's messages stay ordered.
PARTITIONER = "murmur2_random"


def base_config(settings: Settings) -> dict[str, Any]:
    return {
        "bootstrap.servers": settings.kafka_bootstrap,
        "socket.nagle.disable": True,
        **settings.kafka_security,
    }


def producer_config(settings: Settings, **extra: Any) -> dict[str, Any]:
    return {
        **base_config(settings),
        "partitioner": PARTITIONER,
        # Idempotence keeps per-partition order across retries (log records must stay in seq order).
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "compression.type": "zstd",
        **extra,
    }
