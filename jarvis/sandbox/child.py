"""The sandbox's own loop: run programs against the channel, one at a time.

A sandbox is a process forked from the zygote (``zygote.py``). It holds no service client,
no journal, no credentials: only the SPy runtime and one socket to its supervisor. For
each ``run`` frame it sets its OS limits for that run, compiles the program (cached by
digest: a sandbox serves many executions), runs it with a ``SandboxHost`` whose effects
are requests over the channel, and reports the outcome. It exits when told, when its
supervisor goes away, or after a run that leaves it unfit to serve another (it ran out
of memory, or grew past its recycle size).

The supervisor decides everything durable (journal, fencing, Book calls, artifacts);
nothing a program does here can reach them except through the frames of ``channel.py``.
"""

from __future__ import annotations

import faulthandler
import gc
import json
import os
import resource
import sys
import time
import traceback
from collections.abc import Collection, Mapping
from multiprocessing.connection import Connection
from typing import Any, cast

from jarvis.errors import (
    Interruption,
    JarvisError,
    ProgramError,
    RunLimitExceeded,
    SpyRuntimeError,
    SpySyntaxError,
    Stopped,
)
from jarvis.sandbox.channel import decode, encode, pack, unpack
from jarvis.spy import Limits, Program, Site, compile_program, run_program
from jarvis.spy.values.data import TooLarge, plain, render, utf8_safe
from jarvis.spy.values.names import spy_type_name

EXIT_MEMORY = 86
"""Exit status of a sandbox whose program ran into the OS memory cap (MemoryError)."""
EXIT_PROTOCOL = 87
"""Exit status of a sandbox that received a frame it cannot understand."""

BATCH_ENTRIES = 3 * 4096
"""Record entries buffered before a frame is sent (also sent at every meter check, every few ms)."""

FLUSH_MS = 10
_JOINED_MAX = 16384
"""Two frames are joined in one write up to this size together (as ``Connection`` joins a
frame and its length prefix): larger ones go as they are."""
"""Buffered records go out at least this often while the program runs."""

SPIN_POLLS = 200
"""Polls (each followed by sched_yield) for an effect's answer before blocking."""

MAX_STORED_VALUE_BYTES = 16 * 1024 * 1024
"""Largest single log value stored whole (as JSON); a larger one is logged as a "too large"
placeholder. Rendering costs host CPU per record: this bounds it per record, and the run's
``max_stored_log_bytes`` bounds it in total."""

INLINE_STR = 1024
"""Longest string a record carries inside the frame's JSON; longer ones go as blobs."""

BLOB_BYTES = 64 * 1024
"""Values whose JSON is larger travel as blobs (raw bytes after the frame header), encoded
by the standard library's json. Not orjson: under the sandbox's address-space cap
``orjson.dumps`` of a string of a few MiB reserves many times its size and, when that
allocation fails, crashes the process (SIGSEGV) instead of raising MemoryError."""

BRANCH = 16
"""Type codes from here on are branch records: ``code - BRANCH`` is the line taken to."""

EFFECT_KINDS = frozenset({"print", "book", "book_attempt", "budget", "storage_wait"})
"""Kinds kept past the record budget (the supervisor's ExecutionHost has the same rule)."""

_PROGRAM_CACHE = 64
_INT64 = 2**63
_SCALAR_CODES: dict[type, int] = {str: 1, bool: 2, int: 3, type(None): 4}


class HostFailed(JarvisError):
    """The supervisor failed an effect (journal error, lost lease, non-determinism, stop
    during a host wait). It knows why; the program only has to end."""


class SandboxHost:
    """The ``jarvis.spy.Host`` of a program running in a sandbox: frames instead of calls."""

    def __init__(
        self, conn: Connection, limits: Limits, max_records: int, max_value_bytes: int
    ) -> None:
        self.conn = conn
        self.limits = limits
        # Records, flat: three entries each (see channel.py); starts with the first time mark.
        self.now_ms = int(time.time() * 1000)
        self.sent_ms = self.now_ms  # when the last frame went out
        self.recs: list[Any] = [-1, self.now_ms, 0]
        self.new_sites: list[list[Any]] = []
        self.site_ids: dict[int, int] = {}
        self._sites: list[Site] = []  # keeps every numbered site alive (ids must not be reused)
        self.max_records = max_records
        self.dropped = 0  # records not sent: past the record budget
        self.max_value_bytes = max_value_bytes
        self.stored_left = limits.max_stored_log_bytes
        self.blobs: list[bytes] = []  # big values of the next frame, sent raw after its header
        self.held: bytes | None = None  # an encoded frame that goes out with the next (hold)
        self.pending_stop: Interruption | None = None
        self.check_now: Any = None  # the meter's check_now, set once the run has a meter
        self.emit = self._make_emit()

    # -- Host protocol ------------------------------------------------------------------

    def _make_emit(self) -> Any:
        # Hot path: one call per record (~1M/s at level full), so a closure over locals
        # rather than a method reading attributes. Timestamps are milliseconds, refreshed at
        # every meter check and frame (a few ms apart at most), not per record.
        recs = self.recs  # never replaced: frames are encoded from it, then it is cleared
        ids = self.site_ids
        new_site = self._site
        render = self._render
        text = self._text
        inline = INLINE_STR
        host = self
        codes = _SCALAR_CODES
        effect_kinds = EFFECT_KINDS
        lo, hi = -_INT64, _INT64
        left = self.max_records

        def emit(site: Site, value: Any) -> None:
            nonlocal left, recs
            kind = site.kind
            if left <= 0 and kind not in effect_kinds:
                host.dropped += 1  # reported with the outcome (jarvis_log_records_dropped)
                return  # the supervisor would drop it too: past the budget only effects are kept
            sid = ids.get(id(site))
            if sid is None:
                sid = new_site(site)
            t = type(value)
            if t is str:
                if len(value) <= inline and value.isascii():
                    recs += (sid, value, 1)
                else:
                    recs += text(sid, value)
            elif t is bool or value is None or (t is int and lo <= value < hi):
                recs += (sid, value, codes[t])
            elif kind == "branch":  # {"taken": str, "line": int}, built by the compiler
                recs += (sid, value["taken"], BRANCH + value["line"])
            else:
                recs += render(sid, value)
            left -= 1
            if len(recs) >= BATCH_ENTRIES:
                host.flush()

        return emit

    def _render(self, sid: int, value: object) -> tuple[Any, ...]:
        budget = max(self.max_value_bytes, min(self.stored_left, MAX_STORED_VALUE_BYTES))
        try:
            data, type_name, size = render(value, budget, self.check_now, "a log value")
        except TooLarge:
            type_name = spy_type_name(value)
            data = f"<{type_name} too large to log: more than {budget:,} bytes as JSON>"
            return (sid, data, "!" + type_name)
        if size > self.max_value_bytes:
            self.stored_left -= size
        if size > BLOB_BYTES:  # never a big value through orjson here (see BLOB_BYTES)
            return (sid, self._blob(json_bytes(data)), "=" + type_name)
        return (sid, data, type_name)

    def _text(self, sid: int, value: str) -> tuple[Any, ...]:
        """A string that is long or not ASCII: made valid UTF-8, long ones as a blob."""
        value = utf8_safe(value)
        if len(value) <= INLINE_STR:
            return (sid, value, 1)
        return (sid, self._blob(value.encode("utf-8")), 5)

    def _send_held(self) -> None:
        held, self.held = self.held, None
        if held is not None:
            self.conn.send_bytes(held)

    def _blob(self, data: bytes) -> int:
        self.blobs.append(data)
        return len(self.blobs) - 1

    def check(self) -> None:
        # Records stream out at least every FLUSH_MS (and with every effect request, which
        # carries what is buffered): not at every check, which would add a frame to each
        # Book call's round trip.
        ms = int(time.time() * 1000)
        if ms != self.now_ms:
            self._send_held()
            if self.recs and ms - self.sent_ms >= FLUSH_MS:
                self.flush()
            self.now_ms = ms
            self.recs += (-1, ms, 0)
        if self.pending_stop is None and self.conn.poll(0):
            self._control(decode(self.conn.recv_bytes())[0])
        if self.pending_stop is not None:
            raise Stopped(self.pending_stop)

    def effect(self, name: str, args: tuple[object, ...]) -> object:
        wire, wire_blob = self._wire_args(name, args)
        conn = self.conn
        self._send(self._frame("effect", name, wire, wire_blob))
        # A few polls before blocking, yielding the CPU between them (the supervisor may
        # need this very core): a trivial effect's answer comes back within microseconds,
        # and a blocked process's wake-up costs tens of them.
        for _ in range(SPIN_POLLS):
            if conn.poll(0):
                break
            os.sched_yield()
        while True:
            header, payload = decode(conn.recv_bytes())
            kind = header[0]
            if kind == "ok":
                return unpack(header[1])
            if kind == "okb":  # a big result, as JSON in the payload (see BLOB_BYTES)
                return unpack(json.loads(payload))
            if kind == "err":
                raise ProgramError(str(header[1]), str(header[2]))
            if kind == "fatal":
                raise HostFailed("the host failed this effect")
            self._control(header)

    def _wire_args(self, name: str, args: tuple[object, ...]) -> tuple[Any, int]:
        """An effect's arguments as the frame carries them, and the index of the blob that
        holds them instead (-1: none)."""
        if name == "artifact":
            art_name, content = args
            content = cast(Any, content)
            if type(content) is str:
                return [art_name, "str", self._blob(content.encode("utf-8", "surrogatepass"))], -1
            return [art_name, "bytes", self._blob(bytes(content))], -1
        if name == "book":  # the Book caller already made its arguments plain (books.py)
            wire = pack(list(args))
            if big(wire):  # large arguments travel as a JSON blob
                return None, self._blob(json_bytes(wire))
            return wire, -1
        try:
            data = plain(
                list(args),
                f"the arguments of {name}()",
                self.limits.max_memory_bytes,
                self.check_now,
            )
        except (TypeError, ValueError) as exc:
            raise ProgramError(type(exc).__name__, str(exc)) from None
        return pack(data), -1

    # -- internals ----------------------------------------------------------------------

    def _control(self, header: list[Any]) -> None:
        if header[0] == "stop":
            self.pending_stop = cast(Interruption, str(header[1]))  # from the supervisor
        else:
            raise ProtocolError(f"unexpected frame {header[0]!r} while running")

    def _site(self, site: Site) -> int:
        sid = self.site_ids.get(id(site))
        if sid is None:
            sid = self.site_ids[id(site)] = len(self._sites)
            self._sites.append(site)
            self.new_sites.append(
                [sid, site.kind, site.line, site.col, site.end_line, site.end_col, site.source]
            )
        return sid

    def _frame(self, kind: str, *fields: Any) -> bytes:
        blobs = self.blobs
        self.sent_ms = self.now_ms
        frame = encode(
            [kind, self.recs, self.new_sites, [len(b) for b in blobs], *fields], b"".join(blobs)
        )
        self.recs.clear()
        self.new_sites.clear()
        blobs.clear()
        return frame

    def flush(self) -> None:
        self._send(self._frame("recs"))

    def send(self, kind: str, *fields: Any) -> None:
        self._send(self._frame(kind, *fields))

    def hold(self, kind: str, *fields: Any) -> None:
        """Encode a frame now and send it with the next one, or alone at the first meter
        check in a later millisecond (``check``): a short run's ``compiled`` and ``done``
        then reach the supervisor in one write, read with one wake-up of its thread,
        instead of two. The frame order is unchanged, so it still precedes every record,
        effect request and outcome; ``started`` comes at most a few ms later."""
        self.held = self._frame(kind, *fields)

    def _send(self, frame: bytes) -> None:
        held, self.held = self.held, None
        if held is None:
            self.conn.send_bytes(frame)
        elif len(held) + len(frame) <= _JOINED_MAX:
            # Connection's framing (a 4-byte length before each), both in one write.
            self.conn._send(  # type: ignore[attr-defined]  # the private writer; framing above
                len(held).to_bytes(4, "big") + held + len(frame).to_bytes(4, "big") + frame
            )
        else:
            self.conn.send_bytes(held)
            self.conn.send_bytes(frame)


class ProtocolError(Exception):
    """A frame the sandbox cannot understand: it exits (``EXIT_PROTOCOL``)."""


def error_data(exc: BaseException) -> dict[str, Any]:
    """A SPy error as frame data (the supervisor rebuilds the exception from it)."""
    if isinstance(exc, SpySyntaxError):
        return {
            "cls": "SpySyntaxError",
            "message": utf8_safe(exc.message),
            "line": exc.line,
            "col": exc.col,
            "source_line": utf8_safe(exc.source_line),
            "hint": exc.hint,
            "filename": exc.filename,
        }
    assert isinstance(exc, SpyRuntimeError)
    return {
        "cls": "LimitExceeded" if isinstance(exc, RunLimitExceeded) else "SpyRuntimeError",
        "spy_type": exc.spy_type,
        # Program text may hold lone surrogates (a message, a source line): the frame's JSON
        # cannot, so they are shown as U+FFFD.
        "message": utf8_safe(exc.message),
        "filename": utf8_safe(exc.filename),
        "frames": [[f.function, f.line, f.col, utf8_safe(f.source_line)] for f in exc.frames],
    }


class Sandbox:
    """One sandbox process's state across runs."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.programs: dict[tuple[str, str, int], Program] = {}
        self.runs = 0
        self.base_rss = _rss()

    def serve(self) -> None:
        """Run until told to exit or the supervisor goes away."""
        while True:
            try:
                header, _ = decode(self.conn.recv_bytes())
            except (EOFError, OSError):
                return
            if header[0] == "exit":
                return
            if header[0] == "stop":
                continue  # a stop for a run that already ended
            if header[0] != "run" or len(header) != 2 or not isinstance(header[1], dict):
                os._exit(EXIT_PROTOCOL)
            recycle = self.run(header[1])
            if recycle:
                return

    def run(self, spec: dict[str, Any]) -> bool:
        """One execution attempt; True when this sandbox should exit afterwards."""
        self.runs += 1
        limits = Limits(**spec["limits"])
        _set_limits(spec.get("memory_cap_bytes"), spec.get("cpu_s"))
        host = SandboxHost(
            self.conn, limits, int(spec["max_records"]), int(spec["max_value_bytes"])
        )
        try:
            program = self._compile(spec, limits)
        except (SpySyntaxError, SpyRuntimeError) as exc:
            host.send("rejected", error_data(exc))
            return False
        except MemoryError:
            os._exit(EXIT_MEMORY)
        host.hold("compiled", program.digest)
        outcome = _execute(program, spec, limits, host)
        host.check_now = None
        recycle = self._unfit(spec)
        outcome["recycle"] = recycle
        outcome["peak_rss"] = _peak_rss()
        if host.dropped:
            outcome["dropped"] = host.dropped
        try:
            try:
                host.send("done", outcome)
            except (TypeError, ValueError):  # an outcome that cannot be encoded: a bug of ours
                detail = traceback.format_exc(limit=20)[-8000:]
                host.send("done", {"status": "internal", "detail": detail, "recycle": True})
                return True
        except OSError:
            return True
        gc.collect(0)
        return recycle

    def _unfit(self, spec: dict[str, Any]) -> bool:
        """Whether this sandbox has served its runs or grown past its recycle size."""
        if self.runs >= int(spec.get("max_runs", 1000)):
            return True
        rss = _rss()
        return (
            rss is not None
            and self.base_rss is not None
            and rss - self.base_rss > int(spec.get("recycle_bytes", 256 * 2**20))
        )

    def _compile(self, spec: dict[str, Any], limits: Limits) -> Program:
        source = spec["source"]
        # Not the file name: starts often name a file per execution, and it only shows in
        # errors (Program.named); a syntax error is raised before anything is cached.
        key = (source, spec["log_level"], int(spec["max_program_bytes"]))
        program = self.programs.get(key)
        if program is None:
            program = compile_program(
                source,
                filename=spec["filename"],
                log_level=spec["log_level"],
                max_program_bytes=int(spec["max_program_bytes"]),
            )
            if len(self.programs) >= _PROGRAM_CACHE:
                self.programs.pop(next(iter(self.programs)))
            self.programs[key] = program
        return program.named(spec["filename"])


def _execute(
    program: Program, spec: dict[str, Any], limits: Limits, host: SandboxHost
) -> dict[str, Any]:
    """Run ``program``: the outcome of the ``done`` frame (without the sandbox's own data).
    Exits the process when it is not fit to go on (the OS memory cap, a protocol error)."""
    try:
        result = run_program(
            program,
            spec["inputs"],
            host,
            books=_books(spec["books"]),
            limits=limits,
            on_meter=lambda meter: setattr(host, "check_now", meter.check_now),
        )
        return _result_outcome(result, program, limits, host)
    except Stopped as exc:
        return {"status": "stopped", "mode": exc.mode}
    except HostFailed:
        return {"status": "host"}
    except SpyRuntimeError as exc:
        if exc.spy_type == "MemoryError":
            os._exit(EXIT_MEMORY)  # the OS cap: this process is not fit to go on
        return {"status": "error", "error": error_data(exc)}
    except MemoryError:
        os._exit(EXIT_MEMORY)
    except ProtocolError:
        os._exit(EXIT_PROTOCOL)
    except BaseException:  # a bug of ours: report it, never a traceback to the program
        return {"status": "internal", "detail": traceback.format_exc(limit=20)[-8000:]}


def _result_outcome(
    result: object, program: Program, limits: Limits, host: SandboxHost
) -> dict[str, Any]:
    """A completed run's outcome, or a ``RunLimitExceeded`` error when its result is too large."""
    try:
        data, type_name, size = render(result, limits.max_result_bytes, None, "the result")
    except TooLarge:
        too_big = RunLimitExceeded(
            "LimitExceeded",
            f"the result is more than {limits.max_result_bytes:,} bytes as JSON (max_result_bytes)",
            [],
            program.filename,
        )
        return {"status": "error", "error": error_data(too_big)}
    outcome: dict[str, Any] = {"status": "completed", "result": data, "type": type_name}
    if size > BLOB_BYTES:
        outcome["result"], outcome["result_blob"] = None, host._blob(json_bytes(data))
    return outcome


def _books(spec: Mapping[str, Collection[str]]) -> dict[str, list[str]]:
    return {str(k): [str(p) for p in v] for k, v in spec.items()}


def _set_limits(memory_cap_bytes: int | None, cpu_s: float | None) -> None:
    """This run's OS limits: address space (soft) and CPU seconds (soft), from now."""
    if memory_cap_bytes:
        vm = _vm_size()
        soft = (vm or 0) + int(memory_cap_bytes)
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    if cpu_s:
        used = resource.getrusage(resource.RUSAGE_SELF)
        soft_cpu = int(used.ru_utime + used.ru_stime + float(cpu_s)) + 1
        _, hard_cpu = resource.getrlimit(resource.RLIMIT_CPU)
        if hard_cpu != resource.RLIM_INFINITY:
            soft_cpu = min(soft_cpu, hard_cpu)
        resource.setrlimit(resource.RLIMIT_CPU, (soft_cpu, hard_cpu))


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _statm() -> tuple[int, int] | None:
    """(address space, resident) bytes of this process: ``/proc/self/statm`` is one short
    line of numbers, several times cheaper to read than ``/proc/self/status``."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            size, resident = fh.read().split()[:2]
        return int(size) * _PAGE, int(resident) * _PAGE
    except (OSError, ValueError):
        return None


def _vm_size() -> int | None:
    statm = _statm()
    return None if statm is None else statm[0]


def _rss() -> int | None:
    statm = _statm()
    return None if statm is None else statm[1]


def _peak_rss() -> int | None:
    # ru_maxrss is VmHWM, in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main(conn: Connection) -> None:
    """Entry point in a freshly forked sandbox."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    # A sandbox that dies of a signal writes its Python stack to the worker's log (stderr).
    faulthandler.enable(all_threads=False)
    try:
        Sandbox(conn).serve()
    finally:
        os._exit(0)


def json_bytes(data: Any) -> bytes:
    """Compact JSON of plain data, by the standard library (see ``BLOB_BYTES``)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode(
        "utf-8"
    )


def big(wire: Any) -> bool:
    """Whether packed effect arguments may be large (a cheap over-estimate)."""
    stack = [wire]
    total = 0
    while stack:
        v = stack.pop()
        t = type(v)
        if t is str:
            total += len(v)
        elif t is list:
            stack.extend(v)
            total += len(v)
        elif t is dict:
            stack.extend(v.values())
            total += sum(len(k) for k in v)
        if total > BLOB_BYTES:
            return True
    return False
