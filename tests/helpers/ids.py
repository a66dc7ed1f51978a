"""Fresh names: Redis (stop flags, leases) and Kafka (topics, groups) outlive a test run."""

from __future__ import annotations

import uuid


def new_uid() -> str:
    """A short random suffix for topic, group and prefix names of one test."""
    return uuid.uuid4().hex[:8]


def new_id(prefix: str) -> str:
    """A fresh execution id: ids must not repeat across runs."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"
