"""Warm sandboxes, handed out one per execution attempt and recycled by policy.

Measured on this project's 2-core machine (``scripts/bench-sandbox``): forking a sandbox
from the warmed zygote costs about a millisecond of the zygote's CPU plus the first run's
page faults in the child, while handing out an idle sandbox that already served a run
costs nothing but a list pop. So sandboxes are long-lived: one serves executions one
after another (the program's globals, compiled code cache and meters are per run; no
state a program can reach survives it) until a policy retires it: ``max_runs`` runs, its
resident memory grown past ``recycle_bytes``, or any abnormal end (a crash, a kill, a run
that hit the OS memory cap, a protocol error). A retired sandbox is replaced in the
background, so the pool stays warm.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

import orjson

from jarvis.sandbox.channel import FrameReader, encode
from jarvis.telemetry import metrics

log = logging.getLogger("jarvis.sandbox")


@dataclass(eq=False)
class SandboxProcess:
    """A live sandbox: its pid, its channel and a pidfd to kill it by."""

    pid: int
    conn: Connection
    pidfd: int
    zygote: Zygote
    killed_because: str | None = None
    dead: bool = False
    reader: FrameReader = field(init=False, repr=False)  # what the sandbox sends, buffered

    def __post_init__(self) -> None:
        self.reader = FrameReader(self.conn.fileno())

    def kill(self, because: str) -> None:
        """SIGKILL it (idempotent); ``because`` is remembered as the cause of its death."""
        if self.killed_because is None:
            self.killed_because = because
        with contextlib.suppress(OSError):
            if self.pidfd >= 0:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.close()
        if self.pidfd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.pidfd)
            self.pidfd = -1

    def exit_status(self, timeout_s: float = 5.0) -> tuple[int, int] | None:
        """(wait status, peak RSS bytes) once the zygote reaped it, or None on timeout."""
        return self.zygote.wait_exit(self.pid, timeout_s)


class Zygote:
    """The worker's handle on the zygote process (``zygote.py``)."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = dict(os.environ)
        # The zygote must import the same jarvis as this process.
        env["PYTHONPATH"] = os.pathsep.join(
            [p for p in sys.path if p] + [env.get("PYTHONPATH", "")]
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jarvis.sandbox.zygote", str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
        theirs.close()
        self.sock = ours
        self._forked: queue.Queue[tuple[int, int, int] | None] = queue.Queue()
        self._exits: dict[int, tuple[int, int]] = {}
        self._cond = threading.Condition()
        self._fork_lock = threading.Lock()
        self.closed = False
        self._reader = threading.Thread(target=self._read, name="jarvis-zygote", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                msg, fds, _flags, _addr = socket.recv_fds(self.sock, 4096, 2)
            except OSError:
                msg, fds = b"", []
            if not msg:
                with self._cond:
                    self.closed = True
                    self._cond.notify_all()
                self._forked.put(None)
                return
            try:
                data = orjson.loads(msg)
            except ValueError:
                continue
            if data[0] == "forked" and len(fds) >= 1:
                self._forked.put((int(data[1]), fds[0], fds[1] if len(fds) > 1 else -1))
            elif data[0] == "exit":
                with self._cond:
                    self._exits[int(data[1])] = (int(data[2]), int(data[3]))
                    if len(self._exits) > 10_000:  # exits nobody asked about
                        self._exits.pop(next(iter(self._exits)))
                    self._cond.notify_all()

    def fork(self, timeout_s: float = 30.0) -> SandboxProcess:
        with self._fork_lock:
            if self.closed:
                raise OSError("the sandbox zygote is gone")
            self.sock.send(b"fork")
            try:
                got = self._forked.get(timeout=timeout_s)
            except queue.Empty:
                raise OSError(f"the sandbox zygote did not fork within {timeout_s:g} s") from None
        if got is None:
            raise OSError("the sandbox zygote is gone")
        pid, fd, pidfd = got
        return SandboxProcess(pid, Connection(fd), pidfd, self)

    def wait_exit(self, pid: int, timeout_s: float) -> tuple[int, int] | None:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while pid not in self._exits:
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    return None
                self._cond.wait(left)
            return self._exits.pop(pid)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.sock.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    @property
    def alive(self) -> bool:
        return not self.closed and self.proc.poll() is None


@dataclass
class PoolStats:
    forked: int = 0
    retired: int = 0
    handed_out: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


class SandboxPool:
    """``size`` warm sandboxes (one per concurrent execution), refilled in the background.

    At most ``size`` are handed out at once: ``acquire`` waits for a free one, so an
    execution's other work (waiting for its output to be delivered, journaling its end)
    can overlap other executions' programs without more processes than the pod sized.
    """

    def __init__(self, size: int, warm: bool = True) -> None:
        self.size = size
        self._slots = threading.Semaphore(size)
        self.stats = PoolStats()
        self._idle: list[SandboxProcess] = []
        self._busy = 0
        self._lock = threading.Lock()
        self._wanted = threading.Event()
        self._closed = False
        self.zygote = Zygote()
        self._refiller = threading.Thread(
            target=self._refill, name="jarvis-sandbox-pool", daemon=True
        )
        self._refiller.start()
        if warm:
            self._wanted.set()

    def acquire(self, timeout_s: float | None = None) -> SandboxProcess | None:
        """An idle sandbox (forking one if none is idle) once fewer than ``size`` are handed
        out; None if none freed up within ``timeout_s``."""
        if not self._slots.acquire(timeout=timeout_s):
            return None
        with self._lock:
            if self._closed:
                self._slots.release()
                raise OSError("the sandbox pool is closed")
            sandbox = self._idle.pop() if self._idle else None
            self.stats.handed_out += 1
            self._busy += 1
        self._wanted.set()
        if sandbox is None:
            try:
                sandbox = self._fork()
            except BaseException:
                with self._lock:
                    self._busy -= 1
                self._slots.release()
                raise
        return sandbox

    def release(self, sandbox: SandboxProcess, reusable: bool, reason: str = "") -> None:
        """Back to the pool when ``reusable``, else killed and replaced."""
        try:
            with self._lock:
                self._busy -= 1
                if (
                    reusable
                    and not sandbox.dead
                    and not self._closed
                    and len(self._idle) < self.size
                ):
                    self._idle.append(sandbox)
                    return
            self.retire(sandbox, reason or "retired")
        finally:
            self._slots.release()

    def retire(self, sandbox: SandboxProcess, reason: str) -> None:
        if not sandbox.dead:
            with contextlib.suppress(OSError, ValueError):
                sandbox.conn.send_bytes(encode(["exit"]))
            sandbox.kill(reason)
        sandbox.close()
        with self._lock:
            self.stats.retired += 1
            self.stats.reasons[reason] = self.stats.reasons.get(reason, 0) + 1
        metrics.sandbox_retired(reason)
        self._wanted.set()

    def _fork(self) -> SandboxProcess:
        if not self.zygote.alive:
            log.warning("sandbox zygote gone; starting a new one")
            with contextlib.suppress(Exception):
                self.zygote.close()
            self.zygote = Zygote()
        sandbox = self.zygote.fork()
        with self._lock:
            self.stats.forked += 1
        metrics.sandbox_started()
        return sandbox

    def _refill(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            while True:
                with self._lock:
                    if self._closed or len(self._idle) + self._busy >= self.size:
                        break
                try:
                    sandbox = self._fork()
                except OSError as exc:
                    if self._closed:
                        return
                    log.error("cannot fork a sandbox: %s (retrying in 1 s)", exc)
                    time.sleep(1.0)
                    continue
                with self._lock:
                    if self._closed:
                        sandbox.kill("pool closed")
                        sandbox.close()
                        return
                    self._idle.append(sandbox)
            if self._closed:
                return

    def idle(self) -> int:
        with self._lock:
            return len(self._idle)

    def wait_warm(self, timeout_s: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while self.idle() < self.size:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        self._wanted.set()
        for sandbox in idle:
            sandbox.kill("pool closed")
            sandbox.close()
        self.zygote.close()
