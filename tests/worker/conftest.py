"""Shared fixtures of the worker's unit tests."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No JARVIS_* setting from the environment (or an env file) leaks into a test."""
    monkeypatch.setenv("JARVIS_CONFIG", "/dev/null")
    for name in list(os.environ):
        if name.startswith("JARVIS_") and name != "JARVIS_CONFIG":
            monkeypatch.delenv(name)
