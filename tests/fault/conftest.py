"""Fixtures of the fault-injection suite (the ``cluster`` fixture, worker processes on fresh
topics, is in tests/conftest.py: the metrics, observability and KEDA suites use it too).

Everything is real: the local stack's Kafka, Redis and S3 server, worker processes started
as ``python -m jarvis.cli worker``, journals on the filesystem. Tests marked ``disruptive``
restart a shared service (Kafka, Redis, the S3 server); pytest runs this suite serially.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "disruptive: restarts or breaks a shared stack service; never run concurrently"
    )
