"""Running one execution: journal, host, outcome. Shared by the worker and `jarvis run`."""

from jarvis.execution.config import RunConfig, effective_limits
from jarvis.execution.host import LogPolicy
from jarvis.execution.runner import Outcome, run_execution
from jarvis.execution.sinks import ListSink, Sink

__all__ = [
    "ListSink",
    "LogPolicy",
    "Outcome",
    "RunConfig",
    "Sink",
    "effective_limits",
    "run_execution",
]
