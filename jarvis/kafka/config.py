"""librdkafka configuration built from Settings, in one place."""

from __future__ import annotations

from typing import Any

from jarvis.errors import JarvisError
from jarvis.settings import Settings

# murmur2_random is the Java client's partitioner: a key lands on the same partition
# whichever client (Python, kcat, Java) produced it, so an execution's messages stay ordered.
PARTITIONER = "murmur2_random"


def base_config(settings: Settings) -> dict[str, Any]:
    return {
        "bootstrap.servers": settings.kafka_bootstrap,
        "socket.nagle.disable": True,
        **settings.kafka_security,
        **credentials(settings),
    }


def credentials(settings: Settings) -> dict[str, str]:
    """The librdkafka settings given as their own (file-readable) Jarvis settings.

    One place per value: a key set both ways is refused rather than silently picking one.
    """
    given = {
        "sasl.username": settings.kafka_sasl_username,
        "sasl.password": settings.kafka_sasl_password,
        "ssl.key.password": settings.kafka_ssl_key_password,
    }
    out: dict[str, str] = {}
    for key, value in given.items():
        if value is None:
            continue
        if key in settings.kafka_security:
            setting = "JARVIS_KAFKA_" + key.replace(".", "_").upper()
            raise JarvisError(
                f"{key} is given twice: in JARVIS_KAFKA_SECURITY and as {setting}; keep one"
            )
        out[key] = value if isinstance(value, str) else value.get_secret_value()
    return out


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
