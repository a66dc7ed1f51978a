"""Run a compiled program against a host; map its exceptions to SPy errors.

The host is the only way out of a program: it receives log records (``emit``), performs
journaled effects (``effect``) and gets a chance to stop the program (``check``). The
runtime binds ``host.emit`` straight into the program's globals, with no wrapper,
because it runs once per statement; ``host.check`` is called by the meter once per
chunk of ticks (a few milliseconds at most, see ``meter.py``).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Collection, Mapping
from types import FunctionType
from typing import Protocol

from jarvis.errors import JarvisError, RunLimitExceeded, SpyFrame, SpyRuntimeError
from jarvis.spy import _names
from jarvis.spy.limits import Limits
from jarvis.spy.program import Program, Site
from jarvis.spy.runtime.books import BookNamespace
from jarvis.spy.runtime.environment import Environment
from jarvis.spy.runtime.exceptions import passes_through_host
from jarvis.spy.runtime.guards import Guards
from jarvis.spy.runtime.meter import Meter
from jarvis.spy.runtime.positions import spy_frame
from jarvis.spy.values.data import copy_in
from jarvis.spy.values.text import spy_str

# CPython's messages embed reprs ("<function f at 0x7f...> is not in list"); the address
# differs on every run, and an execution's outcome must not.
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+>")

_NO_BOOKS: Mapping[str, Collection[str]] = {}
_DEFAULT_LIMITS = Limits()


class Host(Protocol):
    """What a running program talks to (the worker's execution, or a test double)."""

    def emit(self, site: Site, value: object) -> None:
        """A raw log record. ``value`` is the live object: render it before it changes."""

    def effect(self, name: str, args: tuple[object, ...]) -> object:
        """A journaled side effect, e.g. ``("artifact", (name, text))`` -> a URI string.

        May raise ``jarvis.errors.ProgramError(spy_type, message)`` to raise that SPy
        exception in the program at the call (e.g. a failed Book call: ``BookError``).
        """

    def check(self) -> None:
        """Called every few milliseconds of running, and before every effect; may raise ``Stopped``."""


def run_program(
    program: Program,
    inputs: Mapping[str, object],
    host: Host,
    *,
    books: Mapping[str, Collection[str]] = _NO_BOOKS,
    limits: Limits = _DEFAULT_LIMITS,
    on_meter: Callable[[Meter], None] | None = None,
) -> object:
    """Run ``program`` with ``inputs``; return the final value of its global ``result``.

    ``books`` maps each Book the program may call to its allowed procedure names; each
    becomes a global namespace (``kv.get(...)``). ``limits`` bound steps, time, memory,
    call depth and printed output (``LimitExceeded``).

    Raises ``SpyRuntimeError`` for any exception the program raises (SPy frames only),
    ``LimitExceeded`` when a limit is hit. Exceptions raised by the host (``Stopped``,
    any other ``JarvisError``, or any exception whose traceback passes through host
    code) propagate unchanged: they are not the program's doing and must not be
    reported as if they were. ``TypeError`` if ``inputs`` holds something that is not
    plain data, ``ValueError`` for a bad Book name.
    """
    if len(program.source) * 4 > limits.max_program_bytes:
        size = len(program.source.encode("utf-8", "surrogatepass"))
        if size > limits.max_program_bytes:
            raise RunLimitExceeded(
                "LimitExceeded",
                f"the program is {size:,} bytes, more than {limits.max_program_bytes:,} (max_program_bytes)",
                [],
                program.filename,
            )
    base_frame = sys._getframe()
    # Guards.materialize builds ``list(islice(it, n))`` in C: no walk sees that list either.
    builders = {**program.builders, Guards.materialize.__code__: None}
    meter = Meter(limits, host.check, program.code_objects, program.text, base_frame, builders)
    if on_meter is not None:  # a host that converts values itself ticks the same meter
        on_meter(meter)
    env_builder = Environment(program, host.emit, host.effect, meter, limits, books, copy_result)
    env: dict[str, object] = {
        "__builtins__": env_builder.builtins(),
        # Functions take their __module__ from it: CPython's messages then read
        # "__main__.f() got multiple values...", as for a script. Unreadable by programs.
        "__name__": "__main__",
        "inputs": copy_in(inputs, "inputs"),
        _names.EMIT: host.emit,
        _names.TICK: meter.loop_chain,
        _names.CALL: meter.call_chain,
        _names.NEXT: next,
        _names.PRINT: env_builder.effects.make_print(),
    }
    env.update(program.constants)
    env.update(env_builder.globals())
    meter.roots = lambda: program_roots(env)
    main = FunctionType(program.code, env, "<module>")
    try:
        main()
    except BaseException as exc:
        failure = meter.failure
        if failure is not None:
            # A limit, a stop or a host failure happened: it is the outcome, whatever
            # the program did afterwards (a `finally` may have raised something else).
            raise failure.with_traceback(meter.failure_tb) from None  # type: ignore[arg-type]
        if isinstance(exc, JarvisError) or not isinstance(exc, Exception):
            raise
        tb = exc.__traceback__
        # Running out of stack or memory is the program's doing even when the last
        # straw was a host call (deep recursion trips the limit inside host.emit).
        if not isinstance(exc, RecursionError | MemoryError) and passes_through_host(
            tb, program.code_objects
        ):
            raise
        raise SpyRuntimeError(
            type(exc).__name__,
            _ADDRESS.sub(">", _message(exc)),
            spy_frames(tb, program),
            program.filename,
        ) from None
    if meter.failure is not None:
        # The program swallowed it (`finally: return`) and went on: it still ends here.
        raise meter.failure.with_traceback(meter.failure_tb)  # type: ignore[arg-type]
    return env.get("result")


def _message(exc: BaseException) -> str:
    try:
        return spy_str(exc, 100_000)
    except Exception:  # a message that cannot be shown is not worth a second failure
        return f"<{type(exc).__name__} with an unprintable message>"


def program_roots(env: Mapping[str, object]) -> list[object]:
    """The program's own globals (not SPy's ``__spy_*`` helpers, builtins or Books)."""
    return [v for k, v in env.items() if not k.startswith("__") and type(v) is not BookNamespace]


def copy_result(value: object) -> object:
    """An effect's result, copied into plain SPy data (a host bug if it is not data)."""
    return copy_in(value, "effect results")


def spy_frames(tb: object, program: Program) -> list[SpyFrame]:
    """The SPy traceback: one frame per traceback entry running the program's own code."""
    frames: list[SpyFrame] = []
    while tb is not None:
        frame = tb.tb_frame  # type: ignore[attr-defined]
        code = frame.f_code
        if code in program.code_objects:
            lineno = tb.tb_lineno or 0  # type: ignore[attr-defined]
            frames.append(spy_frame(code, tb.tb_lasti, lineno, program.text))  # type: ignore[attr-defined]
        tb = tb.tb_next  # type: ignore[attr-defined]
    return frames
