"""Messages on Jarvis's Kafka topics: models, parsing and their JSON Schemas."""

from jarvis.contract.messages import (
    CONTRACT_VERSION,
    STOP_MODES,
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
    StopMode,
    TraceFrame,
    dump,
)
from jarvis.contract.parse import parse_control

__all__ = [
    "CONTRACT_VERSION",
    "STOP_MODES",
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
    "StopMode",
    "TraceFrame",
    "dump",
    "parse_control",
]
