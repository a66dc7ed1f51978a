"""Is the broker there? One bounded metadata request, and an error that says why not.

librdkafka retries a broker that is down for as long as a request's timeout allows and then
reports only ``Local: Broker transport failure``; the actual cause ("Connection refused",
a name that does not resolve, a TLS or SASL failure) is in its log lines, which
``ProblemRecorder`` keeps for the error message.
"""

from __future__ import annotations

import re
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, ClusterMetadata  # type: ignore[attr-defined]

from jarvis.errors import ServiceUnavailable
from jarvis.kafka.config import base_config
from jarvis.kafka.logs import ROUTER, ProblemRecorder
from jarvis.settings import Settings

HINT = (
    "is the broker up and reachable from here? check JARVIS_KAFKA_BOOTSTRAP "
    "(and JARVIS_KAFKA_SECURITY for TLS/SASL); `jarvis doctor` checks every dependency"
)


def address(settings: Settings) -> str:
    return f"JARVIS_KAFKA_BOOTSTRAP={settings.kafka_bootstrap}"


def unavailable(
    settings: Settings, what: str, exc: BaseException | KafkaError | None, last: str | None
) -> ServiceUnavailable:
    """The error for a failed request ``what``: librdkafka's error and its last log line."""
    # The log line names the cause ("Connection refused"); librdkafka's error often only
    # says "Local: Broker transport failure".
    detail = _tidy(last) if last else _error_text(exc) if exc is not None else None
    cause = f"{what}: {detail}" if detail else what
    return ServiceUnavailable(cause, address(settings), HINT)


def connect(
    settings: Settings, timeout_s: float, topic: str | None = None
) -> tuple[AdminClient, ClusterMetadata]:
    """An admin client and the cluster's metadata, or ``ServiceUnavailable`` within about
    ``timeout_s``."""
    recorder = ProblemRecorder(ROUTER)
    config: dict[str, Any] = {**base_config(settings), "logger": recorder}
    admin = AdminClient(config)
    try:
        meta = admin.list_topics(topic, timeout=timeout_s)
    except KafkaException as exc:
        admin.poll(0)  # hands the queued log lines (the real cause) to the recorder
        raise unavailable(
            settings, f"cannot reach Kafka within {timeout_s:g} s", exc, recorder.last
        ) from exc
    return admin, meta


def _error_text(exc: BaseException | KafkaError) -> str:
    err = exc.args[0] if isinstance(exc, KafkaException) and exc.args else exc
    if isinstance(err, KafkaError):
        return str(err.str())
    return str(err)


def _tidy(line: str) -> str:
    # "127.0.0.1:9/bootstrap: Connect to ipv4#127.0.0.1:9 failed: Connection refused
    # (after 0ms in state CONNECT)" -> "Connect to ipv4#127.0.0.1:9 failed: Connection refused"
    line = re.sub(r"^\[thrd:[^\]]*\]: ", "", line)
    line = re.sub(r"^\S+/(bootstrap|\d+): ", "", line)
    return re.sub(r" \(after \d+ms in state \w+\)$", "", line).strip()
