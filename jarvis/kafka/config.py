"""librdkafka configuration built from Settings, in one place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jarvis.errors import JarvisError
from jarvis.kafka.logs import ROUTER
from jarvis.settings import Settings

# murmur2_random is the Java client's partitioner: a key lands on the same partition
# whichever client (Python, kcat, Java) produced it, so an execution's messages stay ordered.
PARTITIONER = "murmur2_random"


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 hash (the Java client's ``Utils.murmur2``), as a signed 32-bit int."""
    m, r, mask = 0x5BD1E995, 24, 0xFFFFFFFF
    length = len(data)
    h = (0x9747B28C ^ length) & mask
    whole = length - length % 4
    for i in range(0, whole, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * m) & mask
        k ^= k >> r
        k = (k * m) & mask
        h = ((h * m) & mask) ^ k
    tail = data[whole:]
    if len(tail) == 3:
        h ^= tail[2] << 16
    if len(tail) >= 2:
        h ^= tail[1] << 8
    if tail:
        h ^= tail[0]
        h = (h * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def partition_for(key: str | bytes, partitions: int) -> int:
    """The partition ``PARTITIONER`` puts a (non-empty) key on: where an execution's
    messages are, so a reader of one execution reads one partition of each topic."""
    raw = key.encode() if isinstance(key, str) else key
    return (murmur2(raw) & 0x7FFFFFFF) % partitions


def base_config(settings: Settings) -> dict[str, Any]:
    return {
        "bootstrap.servers": settings.kafka_bootstrap,
        "socket.nagle.disable": True,
        # librdkafka's log lines go through Python logging, rate-limited (jarvis.kafka.logs).
        "logger": ROUTER,
        **settings.kafka_security,
        **credentials(settings),
        **msk_iam(settings),
    }


MSK_IAM_KEYS = ("security.protocol", "sasl.mechanism", "sasl.mechanisms", "sasl.oauthbearer.method")


def msk_iam(settings: Settings) -> dict[str, Any]:
    """SASL/OAUTHBEARER with AWS-signed tokens for Amazon MSK's IAM access control
    (``JARVIS_KAFKA_MSK_IAM_REGION``); nothing when unset.

    librdkafka calls ``oauth_cb`` for a token before the first connection and again before
    the token expires (15 minutes); the token is a SigV4-presigned ``kafka-cluster:Connect``
    request signed with whatever credentials boto3 finds (IRSA's web identity on EKS).
    """
    region = settings.kafka_msk_iam_region
    if not region:
        return {}
    wanted = {"security.protocol": "SASL_SSL", "sasl.mechanism": "OAUTHBEARER"}
    clash = [
        k
        for k in MSK_IAM_KEYS
        if k in settings.kafka_security and settings.kafka_security[k] != wanted.get(k)
    ]
    if clash:
        raise JarvisError(
            f"JARVIS_KAFKA_MSK_IAM_REGION sets {', '.join(clash)} itself; "
            "remove them from JARVIS_KAFKA_SECURITY"
        )
    return {**wanted, "oauth_cb": msk_iam_token(region)}


def msk_iam_token(region: str) -> Callable[[str], tuple[str, float]]:
    """The ``oauth_cb`` for MSK IAM: (token, expiry in seconds since the epoch)."""
    from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

    def token(_config: str) -> tuple[str, float]:
        value, expiry_ms = MSKAuthTokenProvider.generate_auth_token(region)
        return str(value), int(expiry_ms) / 1000.0

    return token


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
        # lz4, not zstd: executions produce many small batches, and zstd's per-batch cost
        # dominated both this process's librdkafka threads and the broker (topics.toml).
        "compression.type": "lz4",
        **extra,
    }
