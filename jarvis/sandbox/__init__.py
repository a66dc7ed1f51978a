"""Where a program runs: a sandbox process apart from the worker (DESIGN.md §1b).

``SandboxPool`` keeps warm sandboxes forked from a single-threaded zygote;
``run_attempt`` supervises one execution attempt in one of them (OS limits, deadlines,
kill, crash causes). The execution side (journal, effects, records) plugs in as a
``Handler``; see ``jarvis.execution.runner``.
"""

from __future__ import annotations

import atexit
import os
import threading

from jarvis.sandbox.pool import SandboxPool, SandboxProcess
from jarvis.sandbox.supervisor import (
    Abort,
    AttemptEnd,
    Handler,
    ProtocolViolation,
    SandboxPolicy,
    run_attempt,
)

__all__ = [
    "Abort",
    "AttemptEnd",
    "Handler",
    "ProtocolViolation",
    "SandboxPolicy",
    "SandboxPool",
    "SandboxProcess",
    "default_pool",
    "run_attempt",
]

_default: SandboxPool | None = None
_default_lock = threading.Lock()


def default_pool() -> SandboxPool:
    """A process-wide pool (``os.cpu_count()`` sandboxes), made on first use, closed at exit.

    For ``jarvis run`` and embedding; the worker makes its own, sized to its concurrency.
    """
    global _default
    with _default_lock:
        if _default is None:
            _default = SandboxPool(max(1, os.cpu_count() or 1))
            atexit.register(_default.close)
        return _default
