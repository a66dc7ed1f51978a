"""librdkafka configuration built from Settings, in one place."""

from __future__ import annotations

from collections.abc import Callable
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
