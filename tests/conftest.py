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


# --- which tests scripts/check runs --------------------------------------------------------
# `scripts/check` runs the fast tests: `pytest -m "not integration and not slow"`, no stack.
# Both markers are given here, in one place, rather than in each module:
# - integration: every test that uses the `stack_env` fixture, directly or through another
#   fixture (workers, clusters, settings on the stack): it talks to Kafka, Redis or S3.
# - slow: needs no service but takes seconds or fetches a tool, so it waits for
#   `scripts/test`. Keys are node-id prefixes: a directory, a file, or `file::test_name`
#   (every test whose name starts so). A file here that no longer exists fails the
#   collection, so moving a test file cannot quietly put it back into the fast run.
SLOW = {
    "tests/chart": "builds helm and psa-check (scripts/tools/k8s), renders the chart",
    "tests/keda": "builds KEDA's parser (scripts/keda-tools)",
    "tests/observability": "builds Telegraf, starts InfluxDB",
    "tests/metrics/test_dashboard.py": "builds the Grafana checkers",
    "tests/test_image.py": "builds the wheel and installs it",
    "tests/test_cli.py": "a jarvis process per test",
    "tests/sandbox/test_determinism.py": "every case in two sandboxes, resource programs included",
    "tests/sandbox/test_sandbox.py": "kills sandboxes and waits for their replacements",
    "tests/spy/test_spy_limits.py": "programs that run into their wall and step limits",
    "tests/spy/test_spy_memory.py": "programs that build values up to the memory limit",
    "tests/spy/test_sandbox_attacks.py": "hostile programs against the OS caps",
    "tests/test_asyncapi.py::test_the_reference_parser": "@asyncapi/parser (npm), node per test",
    "tests/test_asyncapi.py::test_document_is_valid_asyncapi_3": "the AsyncAPI spec (npm)",
    "tests/test_asyncapi.py::test_the_validator_refuses_broken_documents": "the spec (npm)",
}


def _slow(node_id: str) -> bool:
    """Whether a test (its node id, ``tests/x.py::test_y[param]``) falls under SLOW."""
    for prefix in SLOW:
        if "::" in prefix:
            if node_id.startswith(prefix):
                return True
        elif node_id == prefix or node_id.startswith((prefix + "/", prefix + "::")):
            return True
    return False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that reaches the stack (through ``stack_env``, directly or by a fixture it
    uses) is marked ``integration``: ``-m "not integration"`` selects the tests that need
    no service, which scripts/test runs beside the others (and beside ``disruptive`` ones);
    SLOW's are marked ``slow`` (``scripts/check`` runs neither)."""
    missing = sorted(p for p in SLOW if not (ROOT / p.partition("::")[0]).exists())
    if missing:
        raise pytest.UsageError(f"tests/conftest.py SLOW names paths that do not exist: {missing}")
    for item in items:
        if "stack_env" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)
        if _slow(item.nodeid):
            item.add_marker(pytest.mark.slow)


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
