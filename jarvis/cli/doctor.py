"""``jarvis doctor``: every dependency a worker needs, checked from here with its address.

Each check is bounded: the checks run concurrently, each in a daemon thread of its own, and
one that has not answered within the timeout counts as failing (and is left behind, never
waited for). The Redis, checkpoint-volume and object-store checks are the worker's own
readiness checks (jarvis/worker/readiness.py), with more beside them: the topics as declared,
the consumer group, writing to the bucket, free space on the volume, the Books.
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jarvis.errors import JarvisError, ServiceUnavailable
from jarvis.settings import Settings

MIN_FREE_BYTES = 256 * 1024**2
"""Free space on the checkpoint volume below which doctor fails: journals are small, but a
volume this full is about to stop every execution's writes."""


@dataclass(frozen=True)
class Result:
    check: str
    address: str
    ok: bool
    detail: str = ""
    hint: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Failed(Exception):
    """A check's failure: what is wrong and how to fix it."""

    def __init__(self, detail: str, hint: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.hint = hint


def redis_address(url: str) -> str:
    """The Redis URL without its credentials."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def run(settings: Settings, timeout_s: float) -> list[Result]:
    """Every check, in a fixed order; never longer than about ``timeout_s`` plus a second."""
    from jarvis.kafka.topics import load_specs

    kafka = settings.kafka_bootstrap
    store = f"{settings.s3_endpoint_url or 'AWS S3'} s3://{settings.s3_bucket}/{settings.s3_prefix}"
    plans: list[tuple[str, str, Callable[[], list[Result] | str]]] = [
        ("kafka", kafka, lambda: _kafka(settings, timeout_s)),
        ("redis", redis_address(settings.redis_url), lambda: _redis(settings, timeout_s)),
        ("object store", store, lambda: _object_store(settings, timeout_s)),
        ("checkpoint volume", str(settings.checkpoint_dir), lambda: _volume(settings)),
        ("books", "jarvis.books entry points + JARVIS_EXTRA_BOOKS", lambda: _books(settings)),
    ]
    try:
        declared = len(load_specs(settings))
    except JarvisError:
        declared = 0
    outcomes: dict[int, list[Result] | str | Failed] = {}
    threads = []
    for i, (_name, _addr, fn) in enumerate(plans):
        thread = threading.Thread(target=_capture, args=(fn, outcomes, i), daemon=True)
        thread.start()
        threads.append(thread)
    end = time.monotonic() + timeout_s + 1.0
    for thread in threads:
        thread.join(max(0.0, end - time.monotonic()))
    results: list[Result] = []
    for i, (name, addr, _fn) in enumerate(plans):
        got = outcomes.get(i)
        if got is None:
            results.append(
                Result(name, addr, False, f"no answer within {timeout_s:g} s", _HINTS.get(name))
            )
            if name == "kafka":
                results += _topics_unchecked(settings, declared)
        elif isinstance(got, Failed):
            results.append(Result(name, addr, False, got.detail, got.hint or _HINTS.get(name)))
            if name == "kafka":
                results += _topics_unchecked(settings, declared)
        elif isinstance(got, str):
            results.append(Result(name, addr, True, got))
        else:
            results += got
    return results


_HINTS = {
    "kafka": "is the broker up and reachable from here? check JARVIS_KAFKA_BOOTSTRAP "
    "(and JARVIS_KAFKA_SECURITY for TLS/SASL)",
    "redis": "check JARVIS_REDIS_URL (and JARVIS_REDIS_PASSWORD when the URL carries none)",
    "object store": "check JARVIS_S3_ENDPOINT_URL, JARVIS_S3_BUCKET and the AWS credentials "
    "(the worker needs s3:GetObject and s3:PutObject on the prefix)",
    "checkpoint volume": "check JARVIS_CHECKPOINT_DIR: it must be a writable directory "
    "(a ReadWriteMany volume in Kubernetes)",
    "books": "check JARVIS_EXTRA_BOOKS and that the Books' packages are installed",
}


def _capture(
    fn: Callable[[], list[Result] | str], into: dict[int, list[Result] | str | Failed], i: int
) -> None:
    try:
        into[i] = fn()
    except Failed as exc:
        into[i] = exc
    except ServiceUnavailable as exc:
        into[i] = Failed(exc.cause)  # doctor's own hint (the error's says "run doctor")
    except Exception as exc:
        into[i] = Failed(f"{type(exc).__name__}: {exc}")


def _topics_unchecked(settings: Settings, declared: int) -> list[Result]:
    return [
        Result(
            "topics",
            settings.kafka_bootstrap,
            False,
            f"not checked ({declared} declared): Kafka did not answer",
            "fix the kafka check first",
        )
    ]


def _kafka(settings: Settings, timeout_s: float) -> list[Result]:
    from confluent_kafka import KafkaException

    from jarvis.kafka.reach import connect
    from jarvis.kafka.topics import describe

    admin, meta = connect(settings, timeout_s)
    results = [
        Result(
            "kafka",
            settings.kafka_bootstrap,
            True,
            f"{len(meta.brokers)} broker(s), cluster {meta.cluster_id}",
        )
    ]
    for state in describe(settings, timeout_s=timeout_s):
        name = f"topic {state.role}"
        if not state.present:
            results.append(Result(name, state.topic, False, "missing", "run `jarvis topics apply`"))
        elif state.drift:
            results.append(
                Result(
                    name,
                    state.topic,
                    False,
                    "; ".join(state.drift),
                    "fix the topic (kafka-configs --alter) or its declaration "
                    "(JARVIS_TOPICS_FILE); `jarvis topics apply` reports drift, never changes it",
                )
            )
        else:
            results.append(
                Result(
                    name,
                    state.topic,
                    True,
                    f"{state.partitions} partitions, replication {state.replication}",
                )
            )
    group = settings.group_id
    try:
        described = admin.describe_consumer_groups([group], request_timeout=timeout_s)[
            group
        ].result(timeout_s + 1)
    except (KafkaException, TimeoutError) as exc:
        err = exc.args[0] if exc.args else exc
        text = err.str() if hasattr(err, "str") else str(err)
        results.append(
            Result(
                "consumer group",
                group,
                False,
                f"cannot describe it: {text}",
                "check JARVIS_GROUP_ID and the principal's ACLs (Describe, Read on the group)",
            )
        )
    else:
        group_state = str(getattr(described.state, "name", described.state)).lower()
        members = len(described.members)
        detail = f"{group_state}, {members} member(s)"
        if group_state in ("dead", "unknown") and not members:
            detail = "no worker has joined yet (it appears when the first one does)"
        results.append(Result("consumer group", group, True, detail))
    return results


def _redis(settings: Settings, timeout_s: float) -> str:
    import redis

    client = redis.Redis.from_url(
        settings.redis_url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        password=settings.redis_password.get_secret_value() if settings.redis_password else None,
    )
    try:
        _readiness(settings, redis_client=client)["redis"]()
        info = client.info("server")
    except redis.AuthenticationError as exc:
        raise Failed(
            f"authentication failed: {exc}",
            "set the password in JARVIS_REDIS_URL or JARVIS_REDIS_PASSWORD(_FILE)",
        ) from exc
    except redis.RedisError as exc:
        raise Failed(f"{type(exc).__name__}: {exc}") from exc
    finally:
        client.close()
    return f"PING ok, Redis {info.get('redis_version', '?')}"


def _object_store(settings: Settings, timeout_s: float) -> str:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    from jarvis.artifacts import S3ArtifactStore

    client = boto3.session.Session().client(
        "s3",
        endpoint_url=settings.s3_endpoint_url or None,
        region_name=settings.s3_region or None,
        config=Config(
            signature_version="s3v4",
            retries={"max_attempts": 1, "mode": "standard"},
            connect_timeout=timeout_s,
            read_timeout=timeout_s,
        ),
    )
    store = S3ArtifactStore(
        settings.s3_bucket, settings.s3_prefix, settings.s3_endpoint_url, client=client
    )
    key = (
        f"{store.prefix}/.jarvis-doctor/{uuid.uuid4().hex}"
        if store.prefix
        else (f".jarvis-doctor/{uuid.uuid4().hex}")
    )
    step = "HEAD bucket"
    try:
        _readiness(settings, artifacts=store)["object_store"]()
        step = "PUT"
        client.put_object(Bucket=store.bucket, Key=key, Body=b"jarvis doctor")
        step = "GET"
        body = client.get_object(Bucket=store.bucket, Key=key)["Body"].read()
        step = "DELETE"
        client.delete_object(Bucket=store.bucket, Key=key)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise Failed(
            f"{step} {'s3://' + store.bucket + '/' + key if step != 'HEAD bucket' else ''}"
            f" failed: {error.get('Code', '?')} {error.get('Message', '')}".replace("  ", " ")
        ) from exc
    except BotoCoreError as exc:
        raise Failed(f"{step} failed: {exc}") from exc
    if body != b"jarvis doctor":
        raise Failed(f"GET s3://{store.bucket}/{key} returned other bytes than were PUT")
    return "bucket readable and writable (PUT, GET, DELETE of a probe object)"


def _volume(settings: Settings) -> str:
    root: Path = settings.checkpoint_dir
    try:
        root.mkdir(parents=True, exist_ok=True)  # as the worker does when it starts
        _readiness(settings)["checkpoint_volume"]()
    except OSError as exc:
        raise Failed(f"not writable: {exc.strerror or exc} ({exc.filename or root})") from exc
    free = shutil.disk_usage(root).free
    if free < MIN_FREE_BYTES:
        raise Failed(
            f"only {free / 1024**2:.0f} MiB free (below {MIN_FREE_BYTES // 1024**2} MiB)",
            "grow the volume, or remove old journals: `jarvis journals gc`",
        )
    return f"writable (write + fsync of a probe file), {free / 1024**3:.1f} GiB free"


def _books(settings: Settings) -> str:
    import importlib.metadata

    from jarvis.books.loading import load_books
    from jarvis.books.registry import ENTRY_POINT_GROUP

    try:
        registry = load_books(settings)
        # Every installed one, broken ones included; resolving validates their configuration.
        installed = [ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)]
        registry.resolve([*installed, *registry.names])
    except JarvisError as exc:
        raise Failed(str(exc)) from exc
    names = registry.names
    return f"{len(names)} loadable: {', '.join(names)}" if names else "none installed"


def _readiness(
    settings: Settings, redis_client: Any = None, artifacts: Any = None
) -> dict[str, Callable[[], None]]:
    """The worker's own readiness checks (only the one asked for is called)."""
    from jarvis.artifacts import LocalArtifactStore
    from jarvis.worker.readiness import checks

    return checks(
        settings.model_copy(update={"worker_id": f"doctor-{uuid.uuid4().hex[:8]}"}),
        None,  # type: ignore[arg-type]  # the kafka check is doctor's own
        redis_client,
        artifacts if artifacts is not None else LocalArtifactStore(settings.checkpoint_dir),
    )
