from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import redis

from jarvis.settings import Settings
from tests.helpers import new_uid
from tests.helpers.harness import Harness
from tests.helpers.kafka import create_topics
from tests.helpers.stack import delete_topics, fresh_settings


@pytest.fixture
def settings(stack_env: dict[str, str], tmp_path: Path) -> Iterator[Settings]:
    """Settings with fresh topics, group and checkpoint directory for one test."""
    uid = new_uid()
    s = fresh_settings(stack_env, tmp_path / "checkpoints", uid)
    create_topics(s)
    yield s
    delete_topics(s.kafka_bootstrap, f"t{uid}.")


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
