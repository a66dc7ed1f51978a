"""Running one execution: journal, host, outcome. Shared by the worker and `jarvis run`."""

from jarvis.execution.runner import Outcome, run_execution
from jarvis.execution.sinks import ListSink, Sink

__all__ = ["ListSink", "Outcome", "Sink", "run_execution"]
