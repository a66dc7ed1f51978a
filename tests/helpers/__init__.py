"""Helpers shared by the test suites (plain Python: importable from tests, conftest files,
``scripts/chaos`` and the benchmarks alike; fixtures stay in conftest files).

- ``waiting``: ``wait_for``, the one polling helper (a condition and a deadline, no sleeps).
- ``ids``: fresh execution ids and name suffixes (Redis and Kafka outlive a test run).
- ``tools``: the repository root and the runner of ``scripts/tools/*``.
- ``stack``: the local stack's addresses, per-test ``Settings``, a ``jarvis`` process's
  environment, topic clean-up.
- ``kafka``: admin and metadata calls retried on retriable Kafka errors, topic readers,
  watermarks and committed offsets.
- ``harness``: in-process workers on fresh topics (the integration suite's ``Harness``).
  (Worker *processes* on fresh topics are the fault suite's ``Cluster``, tests/fault/cluster.py.)
- ``books``: a recorder of Book call attempts and a call shortcut.
- ``metrics``: scraping a worker's ``/metrics``.
- ``helm``: rendering and linting the chart with a real Helm.
- ``telegraf``: InfluxDB's query API and a Telegraf process.
"""

from tests.helpers.ids import new_id, new_uid
from tests.helpers.tools import ROOT, built_tool, tool
from tests.helpers.waiting import wait_for

__all__ = ["ROOT", "built_tool", "new_id", "new_uid", "tool", "wait_for"]
