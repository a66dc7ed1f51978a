"""Client API for orchestrators: start, stop and follow SPy executions over Kafka."""

from jarvis.client.client import JarvisClient, Update
from jarvis.contract.messages import LifecycleEvent, LogRecord, StopMode

__all__ = ["JarvisClient", "LifecycleEvent", "LogRecord", "StopMode", "Update"]
