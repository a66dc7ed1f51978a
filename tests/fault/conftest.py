"""Fixtures of the fault-injection suite: a ``Cluster`` of worker processes per test.

Everything is real: the local stack's Kafka, Redis and S3 server, worker processes started
as ``python -m jarvis.cli worker``, journals on the filesystem. Tests marked ``disruptive``
restart a shared service (Kafka, Redis, the S3 server); pytest runs this suite serially.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fault.cluster import Cluster


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "disruptive: restarts or breaks a shared stack service; never run concurrently"
    )


@pytest.fixture
def cluster(stack_env: dict[str, str], tmp_path: Path) -> Iterator[Cluster]:
    from tests.fault.cluster import service_env

    c = Cluster(tmp_path, service_env())
    try:
        yield c
    finally:
        c.close()
