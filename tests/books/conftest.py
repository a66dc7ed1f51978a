"""Fixtures of the Book tests (their helpers are in tests/helpers/books.py)."""

from __future__ import annotations

import pytest

from tests.helpers.books import Recorder


@pytest.fixture
def rec() -> Recorder:
    return Recorder()
