"""Messages on Jarvis's Kafka topics: models, parsing and their JSON Schemas."""

from jarvis.contract.messages import (
    CONTRACT_VERSION,
    TERMINAL_EVENTS,
    ArtifactRef,
    ErrorInfo,
    ExecutionOptions,
    LifecycleEvent,
    LimitOverrides,
    LogRecord,
    ProgramSpec,
    StartCommand,
    StopCommand,
    TraceFrame,
    dump,
)
from jarvis.contract.parse import parse_control

__all__ = [
    "CONTRACT_VERSION",
    "TERMINAL_EVENTS",
    "ArtifactRef",
    "ErrorInfo",
    "ExecutionOptions",
    "LifecycleEvent",
    "LimitOverrides",
    "LogRecord",
    "ProgramSpec",
    "StartCommand",
    "StopCommand",
    "TraceFrame",
    "dump",
    "parse_control",
]
