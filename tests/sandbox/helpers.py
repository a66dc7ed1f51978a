"""Finding and poking sandbox processes from a test (Linux /proc)."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (all its threads)."""
    out: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                out += [int(c) for c in (task / "children").read_text().split()]
    return out


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid`` (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "?"


def sandboxes_of_zygote(zygote_pid: int) -> list[int]:
    return children(zygote_pid)


def sandboxes_of_worker(worker_pid: int) -> list[int]:
    """Sandboxes of a worker process: the children of its zygote (its only child)."""
    return [s for z in children(worker_pid) for s in children(z)]


class Killer:
    """A thread that signals each sandbox that burns more than ``busy_s`` of CPU, ``times``
    times (a new attempt runs in a new sandbox): how a test delivers a crash mid-run."""

    def __init__(
        self,
        find: Callable[[], list[int]],
        sig: int = signal.SIGSEGV,
        times: int = 1,
        busy_s: float = 0.3,
    ) -> None:
        self.find = find
        self.sig = sig
        self.times = times
        self.busy_s = busy_s
        self.signalled: list[int] = []
        self.halt = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Killer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.halt.set()
        self.thread.join(5)

    def _run(self) -> None:
        while not self.halt.is_set() and len(self.signalled) < self.times:
            for pid in self.find():
                if pid not in self.signalled and cpu_s(pid) >= self.busy_s:
                    with contextlib.suppress(OSError):
                        os.kill(pid, self.sig)
                    self.signalled.append(pid)
                    break
            self.halt.wait(0.02)


def run_spec(
    source: str,
    limits: dict[str, object] | None = None,
    inputs: dict[str, object] | None = None,
    books: dict[str, list[str]] | None = None,
    level: str = "full",
) -> dict[str, object]:
    """A ``run`` frame for ``jarvis.sandbox.run_attempt`` (what the runner builds)."""
    import dataclasses

    from jarvis.spy import Limits

    return {
        "source": source,
        "filename": "<program>",
        "log_level": level,
        "inputs": inputs or {},
        "books": books or {},
        "limits": dataclasses.asdict(Limits(**(limits or {}))),  # type: ignore[arg-type]
        "max_program_bytes": 1 << 20,
        "max_records": 100_000,
        "max_value_bytes": 16384,
        "memory_cap_bytes": 2 << 30,
        "cpu_s": 600.0,
        "max_runs": 1000,
        "recycle_bytes": 1 << 30,
    }
