"""Breaking and mending the shared local stack (scripts/stack) from tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.helpers import ROOT, wait_for

STACK = ROOT / "scripts" / "stack"
PIDS = Path(os.environ.get("JARVIS_STACK_DIR", ROOT / ".stack")) / "pids"


def stack(command: str, timeout_s: float = 240.0) -> float:
    """Run ``scripts/stack <command>``; returns how long it took."""
    t0 = time.monotonic()
    done = subprocess.run([str(STACK), command], capture_output=True, text=True, timeout=timeout_s)
    assert done.returncode == 0, f"scripts/stack {command} failed:\n{done.stdout}\n{done.stderr}"
    return time.monotonic() - t0


def pid_of(service: str) -> int:
    return int((PIDS / f"{service}.pid").read_text().strip())


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def stop_service(service: str, port: int, sig: int = signal.SIGTERM) -> None:
    """Stop one stack service by its pid file and wait until its port is closed."""
    pid = pid_of(service)
    os.kill(pid, sig)

    def gone() -> bool:
        return not _running(pid) and not port_open(port)

    wait_for(gone, 90, f"{service} (pid {pid}) to exit", interval_s=0.1)
    # As `scripts/stack` does: it checks liveness with `kill -0`, which a zombie passes
    # (whoever inherited the process may not have reaped it yet), and would not restart it.
    (PIDS / f"{service}.pid").unlink(missing_ok=True)


def _running(pid: int) -> bool:
    """Alive and not a zombie (whoever inherited the stack's processes may not reap them)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status
