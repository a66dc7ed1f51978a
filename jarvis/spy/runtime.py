"""Run a compiled program against a host; map its exceptions to SPy errors.

The host is the only way out of a program: it receives log records (``emit``), performs
journaled effects (``effect``) and gets a chance to stop the program (``check``). The
runtime binds ``host.emit`` and ``host.check`` straight into the program's globals, with
no wrapper, because they run once per statement / loop iteration.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from types import TracebackType
from typing import Protocol

from jarvis.errors import JarvisError, SpyFrame, SpyRuntimeError
from jarvis.spy import _names
from jarvis.spy.builtins import make_print, make_run_builtins
from jarvis.spy.compiler import Program, Site

#: Frames from files under this directory belong to SPy itself (builtins, helpers):
#: an exception raised there is the program's fault, like one raised by a C builtin.
_SPY_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep

# CPython's messages embed reprs ("<function f at 0x7f...> is not in list"); the address
# differs on every run, and an execution's outcome must not.
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+>")


class Host(Protocol):
    """What a running program talks to (the worker's execution, or a test double)."""

    def emit(self, site: Site, value: object) -> None:
        """A raw log record. ``value`` is the live object: render it before it changes."""

    def effect(self, name: str, args: tuple[object, ...]) -> object:
        """A journaled side effect, e.g. ``("artifact", (name, text))`` -> a URI string."""

    def check(self) -> None:
        """Called at every loop iteration and SPy function call; may raise ``Stopped``."""


def run_program(program: Program, inputs: Mapping[str, object], host: Host) -> object:
    """Run ``program`` with ``inputs``; return the final value of its global ``result``.

    Raises ``SpyRuntimeError`` for any exception the program raises (SPy frames only).
    Exceptions raised by the host (``Stopped``, ``LimitExceeded``, any other
    ``JarvisError``, or any exception whose traceback passes through host code) propagate
    unchanged: they are not the program's doing and must not be reported as if they were.
    ``TypeError`` if ``inputs`` holds something that is not plain data.
    """
    env: dict[str, object] = {
        "__builtins__": make_run_builtins(host.effect),
        "inputs": copy_data(inputs),
        _names.EMIT: host.emit,
        _names.CHECK: host.check,
        _names.PRINT: make_print(host.emit),
    }
    env.update(program.site_globals)
    try:
        exec(program.code, env)
    except JarvisError:
        raise
    except Exception as exc:
        tb = exc.__traceback__
        # Running out of stack or memory is the program's doing even when the last
        # straw was a host call (deep recursion trips the limit inside host.emit).
        if not isinstance(exc, RecursionError | MemoryError) and _passes_through_host(tb, program):
            raise
        raise SpyRuntimeError(
            type(exc).__name__,
            _ADDRESS.sub(">", str(exc)),
            spy_frames(tb, program),
            program.filename,
        ) from None
    return env.get("result")


def copy_data(value: object, _depth: int = 0) -> object:
    """Deep-copy host data into plain SPy values (exact ``dict``/``list``/``str``... types).

    The program must never hold a host object: a ``str`` subclass or a mapping type
    would bring its own methods past the attribute gate, which checks exact types.
    """
    if _depth > 200:
        raise TypeError("inputs are nested more than 200 levels deep")
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, str):
        return str.__str__(value)  # exact str, without calling an overridden __str__
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, Mapping):
        return {copy_data(k, _depth + 1): copy_data(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_data(v, _depth + 1) for v in value]
    if isinstance(value, tuple):
        return tuple(copy_data(v, _depth + 1) for v in value)
    raise TypeError(
        f"inputs may only hold None, bool, int, float, str, list, tuple and dict; "
        f"got {type(value).__name__}"
    )


def _passes_through_host(tb: TracebackType | None, program: Program) -> bool:
    """True if the exception was raised in (or below) host code rather than by the program."""
    while tb is not None:
        code = tb.tb_frame.f_code
        if code not in program.code_objects and not code.co_filename.startswith(_SPY_DIR):
            return True
        tb = tb.tb_next
    return False


def spy_frames(tb: TracebackType | None, program: Program) -> list[SpyFrame]:
    """The SPy traceback: one frame per traceback entry running the program's own code."""
    frames: list[SpyFrame] = []
    while tb is not None:
        code = tb.tb_frame.f_code
        if code in program.code_objects:
            line = tb.tb_lineno or 0
            col = 0
            if tb.tb_lasti >= 0:
                # Same lookup as traceback._get_code_position: one position per code unit.
                for i, pos in enumerate(code.co_positions()):
                    if i == tb.tb_lasti // 2:
                        if pos[0] is not None:
                            line = pos[0]
                        if pos[2] is not None:
                            col = program.text.char_col(line, pos[2])
                        break
            frames.append(SpyFrame(code.co_name, line, col, program.text.line(line)))
        tb = tb.tb_next
    return frames
