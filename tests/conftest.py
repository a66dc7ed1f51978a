"""Shared fixtures. Integration tests talk to the real local stack (scripts/stack).

Service addresses come from the environment (JARVIS_KAFKA_BOOTSTRAP, JARVIS_REDIS_URL,
JARVIS_S3_ENDPOINT_URL); when they are absent the session starts the stack itself.
Each test gets fresh topic names and a fresh consumer group.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

ROOT = Path(__file__).resolve().parents[1]


def tool(*args: str, timeout_s: float) -> str:
    """Run ``scripts/tools/<args[0]> args[1:]`` (the project's cached installers and builders)
    and return the last line it printed: the path of what it built, or an address."""
    env = {**os.environ, "CI": os.environ.get("CI", "true")}
    done = subprocess.run(
        [str(ROOT / "scripts" / "tools" / args[0]), *args[1:]],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    assert done.returncode == 0, f"scripts/tools/{' '.join(args)} failed:\n{done.stderr[-4000:]}"
    return done.stdout.strip().splitlines()[-1]


def built_tool(*args: str, timeout_s: float) -> Path:
    """``tool`` for a builder: the path it printed, checked to be a file."""
    path = Path(tool(*args, timeout_s=timeout_s))
    assert path.is_file(), path
    return path


T = TypeVar("T")


def wait_for(
    check: Callable[[], T],
    timeout_s: float = 30.0,
    what: str = "condition",
    interval_s: float = 0.05,
) -> T:
    """Poll ``check`` until it returns something truthy; fail the test at the deadline."""
    deadline = time.monotonic() + timeout_s
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what} (last: {last!r})")


@pytest.fixture(scope="session")
def stack_env() -> dict[str, str]:
    """Environment pointing at a running Kafka, Redis and S3 server."""
    if not os.environ.get("JARVIS_KAFKA_BOOTSTRAP"):
        subprocess.run([str(ROOT / "scripts" / "stack"), "up"], check=True)
        out = subprocess.run(
            [str(ROOT / "scripts" / "stack"), "env"], check=True, capture_output=True, text=True
        ).stdout
        for line in out.splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            os.environ[key] = value.strip("'\"")
    keys = (
        "JARVIS_KAFKA_BOOTSTRAP",
        "JARVIS_REDIS_URL",
        "JARVIS_S3_ENDPOINT_URL",
        "JARVIS_S3_BUCKET",
    )
    return {k: os.environ[k] for k in keys}


def new_id(prefix: str) -> str:
    """A fresh execution id: Redis (stop flags) outlives a test run, so ids must not repeat."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def delete_topics(bootstrap: str, prefix: str) -> None:
    """Best effort: delete every topic whose name starts with ``prefix``. Thousands of leftover
    test partitions make every broker start slower (``scripts/stack up`` then times out)."""
    from confluent_kafka.admin import AdminClient

    with contextlib.suppress(Exception):
        admin = AdminClient({"bootstrap.servers": bootstrap})
        names = [t for t in admin.list_topics(timeout=10).topics if t.startswith(prefix)]
        if names:
            for future in admin.delete_topics(names, operation_timeout=30).values():
                with contextlib.suppress(Exception):
                    future.result(30)


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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = sorted(p for p in SLOW if not (ROOT / p.partition("::")[0]).exists())
    if missing:
        raise pytest.UsageError(f"tests/conftest.py SLOW names paths that do not exist: {missing}")
    for item in items:
        if "stack_env" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)
        if _slow(item.nodeid):
            item.add_marker(pytest.mark.slow)
