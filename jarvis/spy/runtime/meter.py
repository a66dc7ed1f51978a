"""The meter: enforces the cheap limits of one run (steps, time, depth, memory, stops).

A program that hits a limit fails with ``jarvis.errors.RunLimitExceeded`` (``spy_type``
``"LimitExceeded"``) and a SPy traceback pointing at the offending line. A program can
never catch it: ``except`` filters out every exception that is not the program's own
(see ``exceptions.py``), and the meter is *sticky*: once a limit tripped, every later
tick raises it again, and ``run_program`` raises it even if the program swallowed it
with ``finally: return``.

Steps, wall time, stop requests and call depth are checked by one tick per loop
iteration and per function call. The tick is ``next(chain)`` on an
``itertools.chain.from_iterable`` over ``itertools.repeat(None, n)`` chunks, so the
common tick runs no Python code at all; once per chunk the chain asks the meter's
generator for the next chunk, which is where the real checks run (``Meter.refill``).
Measured on CPython 3.11: ~10 ns per tick against ~17 ns for the cheapest Python-level
``host.check()`` call (which the first SPy called every iteration).
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from operator import length_hint
from types import CodeType, FrameType

from jarvis.errors import RunLimitExceeded, SpyFrame
from jarvis.spy.limits import Limits, MiB
from jarvis.spy.runtime.memory import Builders, building, held_bytes
from jarvis.spy.runtime.positions import spy_frame
from jarvis.spy.source import SourceText

# -- the meter ---------------------------------------------------------------------

#: Largest chunk of ticks between two real checks.
_MAX_CHUNK = 4096
#: First chunk: small, so a program whose every step is slow is noticed quickly.
_FIRST_CHUNK = 64
#: Aim for this long between two real checks (stop latency, wall-clock precision).
_TARGET_INTERVAL_S = 0.002
#: The first refills hand out one tick each: a stop (or limit) already due when the
#: run starts is honoured at once; the chunk then grows with the measured speed.
_WARMUP_REFILLS = 64
#: Refills closer than this to the last full check skip it (see ``Meter.checks``).
_RECHECK_S = 0.0005
#: How often to measure the process's resident memory (see ``resident_bytes``).
_MEMORY_PROBE_S = 0.001
#: Resident growth between two heap walks, as a share of ``max_memory_bytes`` (bounded):
#: how far the process may grow past a walk that found the program holding little before
#: the next walk looks again. Bounds how far past the limit a growing program gets. Also
#: the bytes the guards let through between two probes of straight-line code.
_MEMORY_STEP_SHARE = 8
_MEMORY_STEP_MIN = 1 * MiB
_MEMORY_STEP_MAX = 32 * MiB
#: Growth past the limit the meter charges to the program without the walk's
#: confirmation while one of its comprehensions is building a value (which no walk can
#: see): half the limit, at least 16 MiB (interpreter noise), at most 64 MiB (the OS
#: address-space cap of a sandbox is the limit plus 512 MiB).
_MEMORY_MARGIN_MIN = 16 * MiB
_MEMORY_MARGIN_MAX = 64 * MiB
#: A walk that found nothing wrong is not repeated, at the same resident size, before
#: this many times its own duration has passed: walks take at most ~5% of the run.
_WALK_SPACING = 20
#: Frames pushed per call tick: a SPy call is one frame and one tick, a comprehension
#: one frame and one tick (when it is created); a Python-level SPy builtin between two
#: SPy calls (``sorted(key=f)``) makes two frames per tick. While that bound holds the
#: recursion limit trips at exactly the first call deeper than ``max_recursion``;
#: stranger paths (several helpers deep) may overshoot a little before it trips.
_FRAMES_PER_TICK = 2


class _Raise:
    """Iterator that raises the meter's failure on every ``next``: the sticky state."""

    __slots__ = ("meter",)

    def __init__(self, meter: Meter) -> None:
        self.meter = meter

    def __iter__(self) -> _Raise:
        return self

    def __next__(self) -> None:
        failure = self.meter.failure
        assert failure is not None
        raise failure


class _Ticks:
    """One chain of ticks: the chunk it is consuming."""

    __slots__ = ("calls", "current")

    def __init__(self, calls: bool) -> None:
        self.current: Iterator[None] = iter(())
        self.calls = calls  # function-entry ticks: the only ones that deepen the stack


class Meter:
    """Counts steps, watches the clock, the call depth, memory and the host's stop flag.

    Two chains of ticks: ``tick`` for loop iterations (they never deepen the stack, so
    their chunks can be long) and ``call`` for function entries (their chunks stop
    before the call depth can pass ``max_recursion`` unseen). ``refill`` runs once per
    chunk; ``charge(n)`` accounts for ``n`` steps done inside a builtin; ``fail(exc)``
    makes a failure sticky.

    Steps are exact: ``allocated`` counts steps handed out (or charged), and a chunk's
    unused part can be taken back, so the step limit trips at exactly the same step on
    every run whatever the (timing-dependent) chunk sizes were.
    """

    def __init__(
        self,
        limits: Limits,
        host_check: Callable[[], None],
        code_objects: frozenset[CodeType],
        text: SourceText,
        base_frame: FrameType | None,
        builders: Builders | None = None,
    ) -> None:
        self.limits = limits
        self.host_check = host_check
        self.code_objects = code_objects
        self.text = text
        self.base_frame = base_frame
        self.failure: BaseException | None = None
        self.failure_tb: object = None
        self.allocated = 0  # steps handed out to chunks or charged
        self.loops = _Ticks(calls=False)
        self.calls = _Ticks(calls=True)
        self.chunk = _FIRST_CHUNK
        self.refills = 0
        self.started = time.monotonic()
        self.deadline = self.started + float(limits.max_wall_s)
        self.last = self.started
        self.last_cpu = time.thread_time()
        # Frames allowed above base_frame, counted from call_chunk: the module frame, the
        # program's calls, then the chain's generator, refill and call_chunk.
        self.max_depth = limits.max_recursion + 4
        self.base_total = 0  # frames from base_frame (included) down to the thread's root
        self.base_chain: set[int] = set()  # ids of those frames (alive for the whole run)
        frame = base_frame
        while frame is not None:
            self.base_total += 1
            self.base_chain.add(id(frame))
            frame = frame.f_back
        self.max_steps = limits.max_steps
        self.max_chunk_calls = max(1, self.max_depth // _FRAMES_PER_TICK)
        self.call_hint = self.max_chunk_calls
        # refill's sys._getframe(k) probe: k counted from refill, one frame below
        # call_chunk (where max_depth is counted from).
        self.probe_frames = self.base_total + self.max_depth - 1
        # Memory: the process's resident growth since now (see probe_memory).
        cap = limits.max_memory_bytes
        self.memory = resident_bytes()  # the baseline; None: no /proc, no probes
        self.memory_wall = self.started  # last probe
        self.memory_low = self.memory or 0  # lowest resident size since the last walk
        self.memory_due = 0.0  # no walk before this, unless the process grew a step
        self.memory_gap = 0  # growth past memory_low that calls for the next walk
        self.memory_step = max(_MEMORY_STEP_MIN, min(cap // _MEMORY_STEP_SHARE, _MEMORY_STEP_MAX))
        self.memory_margin = max(_MEMORY_MARGIN_MIN, min(cap // 2, _MEMORY_MARGIN_MAX))
        self.alloc_left = self.memory_step  # guarded bytes until the next probe (allocating)
        self.builders: Builders = builders or {}  # values no heap walk sees
        # The program's own values (its globals), set by run_program once they exist.
        self.roots: Callable[[], list[object]] = list
        self.loop_chain = itertools.chain.from_iterable(self._chunks(self.loops))
        self.call_chain = itertools.chain.from_iterable(self._chunks(self.calls))
        self.tick: Callable[[], None] = self.loop_chain.__next__
        self.call: Callable[[], None] = self.call_chain.__next__

    # -- the sticky failure ----------------------------------------------------------

    def fail(self, exc: BaseException) -> BaseException:
        """Record ``exc`` as the run's failure (the first one wins) and return it."""
        if self.failure is None:
            self.failure = exc
            self.failure_tb = exc.__traceback__
            self.refund(self.loops)  # the next tick of either chain raises it
            self.refund(self.calls)
        return self.failure

    def limit(self, message: str) -> RunLimitExceeded:
        """A ``LimitExceeded`` at the program's current position, made sticky."""
        exc = RunLimitExceeded("LimitExceeded", message, self.frames())
        self.fail(exc)
        return self.failure  # type: ignore[return-value]

    def frames(self) -> list[SpyFrame]:
        """The SPy traceback of the current position (program frames only)."""
        out: list[SpyFrame] = []
        frame: FrameType | None = sys._getframe(1)
        while frame is not None and frame is not self.base_frame:
            code = frame.f_code
            if code in self.code_objects:
                out.append(spy_frame(code, frame.f_lasti, frame.f_lineno or 0, self.text))
            frame = frame.f_back
        out.reverse()
        return out

    # -- ticks -----------------------------------------------------------------------

    def _chunks(self, ticks: _Ticks) -> Iterator[Iterator[None]]:
        while True:
            n = 0
            if self.failure is None:
                try:
                    n = self.refill(ticks)
                except BaseException as exc:  # Stopped, a limit, a host bug: all sticky
                    self.fail(exc)
            if self.failure is not None:
                ticks.current = iter(())
                yield _Raise(self)  # the chain keeps it active: every later tick raises
                continue
            ticks.current = itertools.repeat(None, n)
            yield ticks.current

    def refund(self, ticks: _Ticks) -> None:
        """Take back the unused part of a chain's chunk (its next tick refills)."""
        left = length_hint(ticks.current)
        if left:
            deque(ticks.current, maxlen=0)
            self.allocated -= left

    def charge(self, n: int) -> None:
        """Account for ``n`` steps done inside a builtin, then run the real checks."""
        if self.failure is not None:
            raise self.failure
        try:
            if self.allocated + n > self.max_steps:
                # ``allocated`` counts the chains' unused ticks too: take them back
                # (only this close to the limit) so the limit trips at the exact step.
                self.refund(self.loops)
                self.refund(self.calls)
                if self.allocated + n > self.max_steps:
                    raise self.steps_exceeded()
            self.allocated += n
            now = time.monotonic()
            if now - self.last >= _RECHECK_S or self.refills <= _WARMUP_REFILLS:
                self.checks(now)
        except BaseException as exc:
            raise self.fail(exc) from None

    def check_now(self) -> None:
        """The stop flag, wall clock and memory, right away (before an effect)."""
        if self.failure is not None:
            raise self.failure
        try:
            self.host_check()
            now = time.monotonic()
            if now > self.deadline:
                raise self.limit(
                    f"time limit exceeded: the program ran for more than "
                    f"{self.limits.max_wall_s:g} s (max_wall_s)"
                )
            if now - self.memory_wall >= _MEMORY_PROBE_S and self.memory is not None:
                self.probe_memory(now)
        except BaseException as exc:
            raise self.fail(exc) from None

    def allocating(self, size: int) -> None:
        """A guard lets an operation allocate about ``size`` bytes: probe every step.

        Straight-line code (``a1 = "x" * 10**6`` two thousand times) has no ticks, so no
        timed probe; its allocations pass the guards, which call this. Cheap: a
        subtraction until ``memory_step`` bytes have passed.
        """
        left = self.alloc_left - size
        if left > 0:
            self.alloc_left = left
            return
        self.alloc_left = self.memory_step
        if self.failure is not None:
            raise self.failure
        if self.memory is None:
            return
        try:
            self.probe_memory(time.monotonic())
        except BaseException as exc:
            raise self.fail(exc) from None

    def steps_exceeded(self) -> RunLimitExceeded:
        return self.limit(
            f"step limit exceeded: more than {self.limits.max_steps:,} loop iterations "
            "and calls (max_steps)"
        )

    def refill(self, ticks: _Ticks) -> int:
        """The real checks; returns the size of the next chunk of ``ticks``.

        A tick is waiting for this chunk (it is the chunk's first). Every limit trips at
        a deterministic point: the exact step for ``max_steps``, the first call deeper
        than ``max_recursion``; only the wall clock, memory and the stop flag depend on
        time. Runs once per chunk: kept lean.
        """
        free = self.max_steps - self.allocated
        if free < 1:
            self.refund(self.calls if ticks is self.loops else self.loops)
            free = self.max_steps - self.allocated
            if free < 1:
                raise self.steps_exceeded()
        now = time.monotonic()
        if now - self.last >= _RECHECK_S or self.refills <= _WARMUP_REFILLS:
            self.checks(now)
        elif self.chunk < _MAX_CHUNK:
            self.chunk *= 2  # checked less than _RECHECK_S ago: longer chunks
        chunk = self.chunk
        if chunk > free:
            chunk = free
        if ticks.calls:
            # Every call tick until the next check may add up to _FRAMES_PER_TICK
            # frames: the chunk ends before the depth can pass the limit unseen.
            # sys._getframe(k) (a C walk) fails iff the stack is shallow enough.
            # Safe iff the frame (max_depth - 1 - 2 * chunk) levels down from here is
            # run_program's frame or one of its callers (or there is none): one C walk
            # and a set lookup, no exception in the common case.
            if chunk > self.call_hint:
                chunk = self.call_hint
            try:
                frame = sys._getframe(self.max_depth - 1 - _FRAMES_PER_TICK * chunk)
            except ValueError:
                frame = None
            if frame is None or id(frame) in self.base_chain:
                self.call_hint = min(chunk + chunk // 8 + 1, self.max_chunk_calls)
            else:
                chunk = self.call_hint = self.call_chunk(chunk)
        if chunk < 1:
            chunk = 1
        self.allocated += chunk
        return chunk

    def checks(self, now: float) -> None:
        """The host's stop flag, the wall clock, memory; adapts the chunk size."""
        self.host_check()
        if now > self.deadline:
            raise self.limit(
                f"time limit exceeded: the program ran for more than "
                f"{self.limits.max_wall_s:g} s (max_wall_s)"
            )
        cpu = time.thread_time()
        if now - self.memory_wall >= _MEMORY_PROBE_S and self.memory is not None:
            self.probe_memory(now)
        # Aim for a few milliseconds of *this thread's* running between checks, whatever
        # one step costs (wall time would shrink the chunks whenever other executions
        # share the interpreter, and make every tick a check).
        elapsed = cpu - self.last_cpu
        self.last = now
        self.last_cpu = cpu
        self.refills += 1
        chunk = self.chunk
        if self.refills <= _WARMUP_REFILLS:
            chunk = 1
        elif elapsed < _TARGET_INTERVAL_S / 2:
            chunk = min(chunk * 2, _MAX_CHUNK)
        elif elapsed > _TARGET_INTERVAL_S * 2:
            chunk = max(1, int(chunk * _TARGET_INTERVAL_S / elapsed))
        self.chunk = chunk

    def probe_memory(self, now: float) -> None:
        """Fail if the program holds more than ``max_memory_bytes``.

        A run executes alone in its sandbox process, so the process's resident growth
        since the run started is the run's: the program's values, plus what CPython
        keeps after frees (pymalloc arenas, free lists, malloc's heap), plus the host's
        record batches (bounded, small). Below the limit nothing more is done (one
        ``pread``). Past it, the heap walk (``memory.held_bytes``) says what the program
        holds, and the run fails when *both* exceed the limit: memory kept after frees
        is never blamed on a program holding little, and nothing that program does can
        lower the resident size the next probe reads (there is no account to reset).

        The walk sees everything but values only C holds: the list a comprehension is
        building on CPython's value stack, the batch ``Guards.materialize`` is building
        (``list(generator)``). While one of those is live (``memory.building``), growth
        past the limit by more than ``memory_margin`` fails the run without the walk's
        confirmation. Only a program fragmenting the heap on purpose gets there early.

        Walks are spaced: after one that found the program holding ``held``, the next
        waits until the process has grown by ``max(memory_step, limit - held)`` more,
        or until ``_WALK_SPACING`` times that walk's duration has passed (the program
        may be refilling memory kept after frees, which the resident size does not
        show). A walk is therefore at most ~5% of a run, plus one per step of growth.
        """
        rss = resident_bytes()
        if rss is None or self.memory is None:
            return
        self.memory_wall = now
        if rss < self.memory_low:
            self.memory_low = rss
        cap = self.limits.max_memory_bytes
        grown = rss - self.memory
        if grown <= cap:
            return
        frame = sys._getframe()
        if grown > cap + self.memory_margin and building(frame, self.base_frame, self.builders):
            raise self.memory_exceeded()
        if rss < self.memory_low + self.memory_gap and now < self.memory_due:
            return  # judged at about this size already
        held = held_bytes(self.roots(), cap, self.code_objects, frame, self.base_frame)
        if held > cap:
            raise self.memory_exceeded()
        done = time.monotonic()
        self.memory_low = rss
        # To hold more than the limit the program must add (limit - held); unless it
        # reuses memory kept after frees (the spacing in time covers that), the process
        # grows by at least that much first.
        self.memory_gap = max(self.memory_step, cap - held)
        self.memory_due = done + _WALK_SPACING * (done - now)

    def memory_exceeded(self) -> RunLimitExceeded:
        return self.limit(
            f"memory limit exceeded: the program holds more than "
            f"{self.limits.max_memory_bytes:,} bytes (max_memory_bytes)"
        )

    def call_chunk(self, chunk: int) -> int:
        """The size of the next chunk of call ticks (or the recursion limit).

        Frames are counted from here down to ``run_program``'s frame: this function,
        ``refill``, the chain's generator, then the program (and SPy helper) frames.
        ``sys._getframe(k)`` (a C walk) fails iff fewer than ``k + 1`` frames remain,
        which answers "is the stack shallow enough for this chunk?" without a Python
        loop; only deep stacks are counted frame by frame.
        """
        want = chunk = max(1, min(chunk, self.max_chunk_calls))
        while chunk > 8:
            chunk = chunk * 2 // 3
            try:
                sys._getframe(self.base_total + self.max_depth - _FRAMES_PER_TICK * chunk)
            except ValueError:
                return chunk  # shallow enough: the whole chunk cannot reach the limit
        depth = 0
        frame: FrameType | None = sys._getframe()
        base = self.base_frame
        while frame is not None and frame is not base:
            depth += 1
            frame = frame.f_back
        if depth > self.max_depth:
            raise self.limit(
                f"recursion limit exceeded: more than {self.limits.max_recursion} "
                "nested calls (max_recursion)"
            )
        return max(1, min(want, (self.max_depth - depth) // _FRAMES_PER_TICK))


_statm_lock = threading.Lock()
_statm: tuple[int, int] | None = None  # (pid, fd): /proc/self resolves at open time
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes() -> int | None:
    """The process's resident set size (Linux ``/proc/self/statm``), or None."""
    global _statm
    pid = os.getpid()
    entry = _statm
    if entry is None or entry[0] != pid:  # first use, or a forked child
        with _statm_lock:
            try:
                fd = os.open("/proc/self/statm", os.O_RDONLY)
            except OSError:
                return None
            _statm = entry = (pid, fd)
    try:
        return int(os.pread(entry[1], 64, 0).split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None
