"""Shared fixtures. Integration tests talk to the real local stack (scripts/stack).

Service addresses come from the environment (JARVIS_KAFKA_BOOTSTRAP, JARVIS_REDIS_URL,
JARVIS_S3_ENDPOINT_URL); when they are absent the session starts the stack itself.
Each test gets fresh topic names and a fresh consumer group. Helpers (no fixtures) live
in ``tests/helpers``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# Re-exported for code written before tests/helpers existed; import from tests.helpers.
from tests.helpers import ROOT as ROOT
from tests.helpers import new_id as new_id
from tests.helpers import wait_for as wait_for
from tests.helpers.stack import service_env

if TYPE_CHECKING:
    from tests.fault.cluster import Cluster


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "disruptive: restarts or breaks a shared stack service; never run concurrently"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that reaches the stack (through ``stack_env``, directly or by a fixture it
    uses) is marked ``integration``: ``-m "not integration"`` selects the tests that need
    no service, which scripts/test runs beside the others (and beside ``disruptive`` ones)."""
    for item in items:
        if "stack_env" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def stack_env() -> dict[str, str]:
    """Environment pointing at a running Kafka, Redis and S3 server."""
    return service_env()


@pytest.fixture
def cluster(stack_env: dict[str, str], tmp_path: Path) -> Iterator[Cluster]:
    """Worker processes on fresh topics (the fault suite's ``Cluster``), closed after the test."""
    from tests.fault.cluster import Cluster

    c = Cluster(tmp_path, stack_env)
    try:
        yield c
    finally:
        c.close()
