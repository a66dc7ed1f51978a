"""Fixtures of the telemetry tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.telemetry.spans import Spans, in_memory


@pytest.fixture
def spans() -> Iterator[Spans]:
    """Tracing on for the test, into memory."""
    with in_memory() as found:
        yield found
