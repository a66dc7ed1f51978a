"""Supervise one execution attempt in a sandbox: frames in, replies out, deadlines, kill.

The supervisor runs on the execution's thread in the worker. It hands the sandbox a
``run`` frame, then serves its frames through a ``Handler`` (the execution side: journal,
effects, log records) until the sandbox reports the outcome, or dies, or has to be
killed:

- past its **wall deadline** (``max_wall_s`` plus ``wall_grace_s``, counted while the
  sandbox runs, not while the host serves one of its effects) whatever it is doing,
  a single C-level operation included: the attempt ends as crashed, cause ``wall deadline``;
- past a **stop's deadline**: a stop is first sent as a frame (the program stops at its
  next meter check, within milliseconds); if the sandbox has not ended ``stop_grace_s``
  later it is killed and the attempt ends as stopped all the same;
- when a frame is malformed or too large (``protocol violation``): the sandbox is
  treated as compromised and killed.

A sandbox that dies on its own (a signal, the OS memory cap, the CPU-time limit) ends the
attempt as crashed with the cause read from its exit status. Only the caller decides what
a crash means for the execution (retry by replay, or fail for good): see
``jarvis.execution.runner``.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from jarvis.errors import Interruption
from jarvis.sandbox.channel import decode, encode
from jarvis.sandbox.child import EXIT_MEMORY, EXIT_PROTOCOL, big, json_bytes
from jarvis.sandbox.pool import SandboxPool, SandboxProcess

MiB = 1024 * 1024


@dataclass(frozen=True)
class SandboxPolicy:
    """OS limits and deadlines of sandboxes (from Settings: ``JARVIS_SANDBOX_*``)."""

    memory_cap_bytes: int | None = None
    """Address space a run may add to its sandbox (RLIMIT_AS, from the run's start). None:
    the run's ``max_memory_bytes`` plus ``memory_overhead_bytes``."""
    memory_overhead_bytes: int = 512 * MiB
    """Headroom above ``max_memory_bytes`` for the interpreter, the copy a value makes while
    it crosses to the host, and allocator slack: the meter (precise) trips first, the cap
    is the backstop."""
    wall_grace_s: float = 2.0
    """How long past ``max_wall_s`` a sandbox may run before it is killed (the meter's own
    wall-clock check raises ``LimitExceeded`` at ``max_wall_s`` when it can)."""
    stop_grace_s: float = 0.3
    """How long a sandbox may take to honour a stop frame before it is killed (the stop
    guarantee is 1 s, and the stop flag takes up to ``stop_check_interval_s`` to arrive)."""
    max_runs: int = 1000
    """Runs one sandbox serves before it is retired."""
    recycle_bytes: int = 256 * MiB
    """Resident growth after which a sandbox is retired once its run ends."""

    def memory_cap(self, max_memory_bytes: int) -> int:
        if self.memory_cap_bytes is not None:
            return self.memory_cap_bytes
        return max_memory_bytes + self.memory_overhead_bytes


class Abort(Exception):
    """Raised by a handler to end the attempt at once (the sandbox is killed)."""


class ProtocolViolation(Exception):
    """A frame from the sandbox that does not follow ``channel.py``: it is killed."""


class Handler(Protocol):
    def compiled(self, digest: str) -> None:
        """The program compiled to ``digest`` and is about to run (may raise ``Abort``)."""

    def records(self, recs: list[Any], sites: list[Any], blobs: list[bytes]) -> None:
        """Log records (may raise ``Abort``, or ``ProtocolViolation`` for unusable data)."""

    def effect(self, name: str, args: Any, blobs: list[bytes]) -> list[Any]:
        """Serve an effect request; return the reply frame header."""

    def stop_requested(self) -> Interruption | None:
        """The stop mode to honour now, if any."""


@dataclass
class AttemptEnd:
    """How an attempt ended.

    ``status``: ``rejected`` (``data["error"]``), ``completed`` / ``error`` / ``stopped`` /
    ``host`` / ``internal`` (the sandbox's outcome in ``data``), ``crashed`` (``cause``),
    ``killed_for_stop`` (``data["mode"]``), ``aborted`` (a handler raised ``Abort``).
    """

    status: str
    data: dict[str, Any] = field(default_factory=dict)
    cause: str | None = None
    peak_rss_bytes: int | None = None


_KINDS = {"compiled": 5, "rejected": 5, "recs": 4, "effect": 7, "done": 5}


def run_attempt(
    pool: SandboxPool,
    spec: dict[str, Any],
    handler: Handler,
    policy: SandboxPolicy,
    max_frame_bytes: int,
) -> AttemptEnd:
    """Run ``spec`` (the ``run`` frame of ``child.py``) in a sandbox from ``pool``.

    Waits for a free sandbox while every one is busy; a stop that arrives meanwhile ends
    the attempt before it starts (``stopped``)."""
    while True:
        sandbox = pool.acquire(timeout_s=0.05)
        if sandbox is not None:
            break
        mode = handler.stop_requested()
        if mode is not None:
            return AttemptEnd("stopped", {"mode": mode})
    reusable = False
    reason = "crashed"
    try:
        end, reusable, reason = _supervise(sandbox, spec, handler, policy, max_frame_bytes)
        return end
    finally:
        pool.release(sandbox, reusable, reason)


Ended = tuple[AttemptEnd, bool, str]
"""An attempt's end, whether its sandbox may serve another run, and the reason it is
released (``SandboxPool.release``)."""


def _supervise(
    sandbox: SandboxProcess,
    spec: dict[str, Any],
    handler: Handler,
    policy: SandboxPolicy,
    max_frame_bytes: int,
) -> Ended:
    try:
        sandbox.conn.send_bytes(encode(["run", spec]))
    except OSError:
        return _crashed(sandbox), False, "crashed"
    attempt = _Attempt(sandbox, handler, policy, float(spec["limits"]["max_wall_s"]))
    _ACTIVE[0] += 1
    try:
        return attempt.serve(max_frame_bytes)
    except ProtocolViolation:
        sandbox.kill("protocol violation")
        return _crashed(sandbox), False, "protocol violation"
    except Abort:
        sandbox.kill("aborted")
        _reap(sandbox)
        return AttemptEnd("aborted"), False, "aborted"
    except BaseException:
        sandbox.kill("host error")
        _reap(sandbox)
        raise
    finally:
        _ACTIVE[0] -= 1


class _Attempt:
    """One run's frames, served on the execution's thread until the run ends: the wall
    deadline, a stop and its kill deadline, and the reply to each frame."""

    def __init__(
        self, sandbox: SandboxProcess, handler: Handler, policy: SandboxPolicy, max_wall_s: float
    ) -> None:
        self.sandbox = sandbox
        self.conn = sandbox.conn
        self.reader = sandbox.reader
        self.handler = handler
        self.policy = policy
        self.deadline = time.monotonic() + max_wall_s + policy.wall_grace_s
        self.stop_mode: Interruption | None = None
        self.kill_at = 0.0
        # A poll object per attempt: ``Connection.poll`` builds a selector on every call,
        # which holds the GIL for microseconds each time, a cost every other thread of the
        # worker pays.
        self.poller = select.poll()
        self.poller.register(self.conn.fileno(), select.POLLIN | select.POLLHUP | select.POLLERR)

    def serve(self, max_frame_bytes: int) -> Ended:
        while True:
            if self.stop_mode is None:
                self._check_stop()
            if self._frame_ready():
                try:
                    frame = self.reader.recv(max_frame_bytes)
                except EOFError:
                    if self.stop_mode is not None:  # it ended while stopping: a stop all the same
                        self.sandbox.dead = True
                        return self._stopped(), False, "stopped"
                    return _crashed(self.sandbox), False, "crashed"
                except OSError as exc:  # too large, or the socket broke
                    if "length" in str(exc):
                        self.sandbox.kill("protocol violation")
                    return _crashed(self.sandbox), False, "crashed"
                end = self._frame(frame)
            else:
                end = self._past_deadline()
            if end is not None:
                return end

    def _check_stop(self) -> None:
        mode = self.handler.stop_requested()
        if mode is not None:
            self.stop_mode = mode
            self.kill_at = time.monotonic() + self.policy.stop_grace_s
            with contextlib.suppress(OSError):  # it died: the next read says how
                self.conn.send_bytes(encode(["stop", mode]))

    def _frame_ready(self) -> bool:
        if self.reader.buffered():
            return True
        if _ACTIVE[0] <= 1 and _spin(self.poller):
            return True
        wait = min(self.deadline, self.kill_at) if self.stop_mode is not None else self.deadline
        timeout_s = min(wait - time.monotonic(), 0.05)
        return bool(self.poller.poll(max(0, int(timeout_s * 1000))))

    def _stopped(self) -> AttemptEnd:
        return AttemptEnd("killed_for_stop", {"mode": self.stop_mode})

    def _past_deadline(self) -> Ended | None:
        now = time.monotonic()
        if self.stop_mode is not None and now >= self.kill_at:
            self.sandbox.kill("stop deadline")
            _reap(self.sandbox)
            return self._stopped(), False, "stop deadline"
        if now >= self.deadline:
            self.sandbox.kill("wall deadline")
            return _crashed(self.sandbox), False, "wall deadline"
        return None

    def _frame(self, frame: bytes) -> Ended | None:
        header, blobs = _parse(frame)
        kind = header[0]
        self.handler.records(header[1], header[2], blobs)
        if kind == "compiled":
            self.handler.compiled(_str(header[4]))
        elif kind == "rejected":
            return AttemptEnd("rejected", {"error": _dict(header[4])}), True, ""
        elif kind == "effect":
            return self._effect(header, blobs)
        elif kind == "done":
            return _done(_dict(header[4]), blobs)
        return None

    def _effect(self, header: list[Any], blobs: list[bytes]) -> Ended | None:
        args = header[5]
        if header[6] != -1:  # large arguments came as a JSON blob
            args = _blob_json(blobs, header[6])
        reply = self.handler.effect(_str(header[4]), args, blobs)
        try:
            if reply[0] == "ok" and big(reply[1]):
                # The sandbox decodes a big answer with the standard library's json: orjson
                # fails to allocate under its address-space cap.
                self.conn.send_bytes(encode(["okb"], json_bytes(reply[1])))
            else:
                self.conn.send_bytes(encode(reply))
        except OSError:
            return _crashed(self.sandbox), False, "crashed"
        # Host time is not the program's: its deadline restarts its grace.
        self.deadline = max(self.deadline, time.monotonic() + self.policy.wall_grace_s)
        return None


def _done(outcome: dict[str, Any], blobs: list[bytes]) -> Ended:
    """The end the sandbox reported in its ``done`` frame."""
    if "result_blob" in outcome:
        outcome["result_json"] = _blob(blobs, outcome.pop("result_blob"))
    status = outcome.get("status")
    if status not in ("completed", "error", "stopped", "host", "internal"):
        raise ProtocolViolation(f"unknown outcome {status!r}")
    recycle = bool(outcome.get("recycle"))
    peak = outcome.get("peak_rss")
    end = AttemptEnd(str(status), outcome, peak_rss_bytes=peak if type(peak) is int else None)
    ok = status in ("completed", "error", "stopped") and not recycle
    return end, ok, "recycled" if recycle else str(status)


SPIN_POLLS = 200
"""Polls (each followed by sched_yield) for the sandbox's next frame before blocking: a
program making many quick effects sends its next request within microseconds, and a
blocked thread's wake-up costs tens of them; yielding leaves the core to whoever needs it
(the sandbox itself, on a busy pod). Only while a single attempt runs: with several, the
spinning threads would take turns holding the GIL that the others need."""

_ACTIVE = [0]
"""Attempts being supervised in this process (approximate: updated without a lock)."""


def _spin(poller: select.poll) -> bool:
    for _ in range(SPIN_POLLS):
        if poller.poll(0):
            return True
        os.sched_yield()
    return False


def _parse(frame: bytes) -> tuple[list[Any], list[bytes]]:
    """A frame's header and its blobs (``header[3]`` lists their sizes)."""
    try:
        header, payload = decode(frame)
    except ValueError as exc:
        raise ProtocolViolation(str(exc)) from None
    n = _KINDS.get(header[0])
    if (
        n is None
        or len(header) != n
        or type(header[1]) is not list
        or type(header[2]) is not list
        or type(header[3]) is not list
    ):
        raise ProtocolViolation(f"malformed {header[0]!r} frame")
    blobs: list[bytes] = []
    at = 0
    view = memoryview(payload)
    for size in header[3]:
        if type(size) is not int or size < 0 or at + size > len(payload):
            raise ProtocolViolation("malformed blob sizes")
        blobs.append(bytes(view[at : at + size]))
        at += size
    if at != len(payload):
        raise ProtocolViolation("payload longer than its blobs")
    return header, blobs


def _blob(blobs: list[bytes], index: Any) -> bytes:
    if type(index) is not int or not 0 <= index < len(blobs):
        raise ProtocolViolation("no such blob")
    return blobs[index]


def _blob_json(blobs: list[bytes], index: Any) -> Any:
    try:
        return orjson.loads(_blob(blobs, index))
    except ValueError as exc:
        raise ProtocolViolation(f"malformed blob: {exc}") from None


def _str(value: Any) -> str:
    if type(value) is not str:
        raise ProtocolViolation("expected a string")
    return value


def _dict(value: Any) -> dict[str, Any]:
    if type(value) is not dict:
        raise ProtocolViolation("expected an object")
    return value


def _reap(sandbox: SandboxProcess) -> None:
    sandbox.dead = True
    sandbox.exit_status(2.0)


def _crashed(sandbox: SandboxProcess) -> AttemptEnd:
    """The attempt's end after the sandbox died (or was killed): its cause and peak RSS."""
    sandbox.dead = True
    status = sandbox.exit_status(5.0)
    peak = status[1] if status is not None else None
    if sandbox.killed_because is not None:
        cause = sandbox.killed_because
    elif status is None:
        cause = "unknown (its exit status was not reported)"
    else:
        cause = describe_exit(status[0])
    return AttemptEnd("crashed", cause=cause, peak_rss_bytes=peak)


def describe_exit(status: int) -> str:
    """A sandbox's wait status as a crash cause."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU:
            return "cpu time"
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        if sig == signal.SIGKILL:
            return f"{name} (killed from outside: the kernel's OOM killer?)"
        return name
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
    if code == EXIT_MEMORY:
        return "memory cap"
    if code == EXIT_PROTOCOL:
        return "protocol violation"
    return f"exit status {code}"
