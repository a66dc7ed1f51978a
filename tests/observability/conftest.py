"""Fixtures of the observability suite: InfluxDB and Telegraf, started by the project's scripts.

``scripts/tools/influxdb up`` installs InfluxDB 1.x from Debian's package when missing and
starts it on loopback; ``scripts/tools/telegraf`` builds Telegraf from its Go module with
only the plugins charts/telegraf/telegraf.conf uses (cached; minutes cold, instant after).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fault.cluster import Cluster
from tests.helpers import tool
from tests.helpers.telegraf import Influx


@pytest.fixture(scope="session")
def influxdb_url() -> str:
    return tool("influxdb", "up", timeout_s=600)


@pytest.fixture(scope="session")
def telegraf_bin() -> Path:
    path = Path(tool("telegraf", timeout_s=3600))
    assert path.is_file() and os.access(path, os.X_OK), path
    return path


@pytest.fixture
def influx(influxdb_url: str, cluster: Cluster) -> Iterator[Influx]:
    db = Influx(influxdb_url, f"jarvis_{cluster.uid}")
    try:
        yield db
    finally:
        db.drop()
