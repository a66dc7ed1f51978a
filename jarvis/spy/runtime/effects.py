"""What a program does to the world: host effects, Book effects and ``print``.

``Effects.effect`` is the one wrapper around ``host.effect``: the meter's checks first
(a stop or a deadline is honoured before the host acts), a ``ProgramError`` becomes the
SPy exception it names, any other host failure is made sticky (the program may not
outlive it), and the result is copied into plain SPy data. The effect builtins
(``artifact``, ``now``, ``random``, ``randint``, ``uuid``, ``sleep``) check their
arguments and the run's artifact limits, then go through it; ``print`` emits a record
within the output limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from jarvis.errors import ProgramError
from jarvis.spy.limits import Limits
from jarvis.spy.runtime.exceptions import program_error
from jarvis.spy.runtime.guards import Guards
from jarvis.spy.runtime.meter import Meter
from jarvis.spy.values.arguments import invalid_keyword
from jarvis.spy.values.names import mark_builtin, spy_type_name
from jarvis.spy.whitelist import MAX_ARTIFACT_NAME_BYTES


class Effects:
    """The host effects of one run, and the builtins that make them."""

    def __init__(
        self,
        host_emit: Callable[[Any, object], None],
        host_effect: Callable[[str, tuple[object, ...]], object],
        meter: Meter,
        limits: Limits,
        guards: Guards,
        copy_result: Callable[[object], object],
    ) -> None:
        self.emit = host_emit
        self.host_effect = host_effect
        self.meter = meter
        self.limits = limits
        self.guards = guards
        self.copy_result = copy_result
        self.output_left = limits.max_output_bytes
        self.artifacts_left = limits.max_artifacts
        self.artifact_bytes_left = limits.max_artifact_bytes

    # -- the host ---------------------------------------------------------------------

    def effect(self, name: str, args: tuple[object, ...]) -> object:
        """``host.effect`` for the program: checks first, maps ProgramError, stays sticky."""
        meter = self.meter
        meter.check_now()
        failed: ProgramError | None = None
        try:
            result = self.host_effect(name, args)
        except ProgramError as exc:
            failed = exc
        except BaseException as exc:  # a host failure: the program may not outlive it
            meter.fail(exc)
            raise
        if failed is not None:
            raise program_error(failed)  # outside the handler: no host context attached
        return self.copy_result(result)

    def for_books(self, name: str, args: tuple[object, ...]) -> object:
        """``host.effect`` for the Book caller: a ``ProgramError`` passes through (the
        caller records it, then maps it); any other failure is sticky."""
        try:
            return self.host_effect(name, args)
        except ProgramError:
            raise
        except BaseException as exc:
            self.meter.fail(exc)
            raise

    # -- print --------------------------------------------------------------------------

    def make_print(self) -> Callable[..., None]:
        """``print(site, *args, sep=, end=)``: one "print" record per call.

        A closure over locals rather than a method: it runs once per print statement.
        """
        emit = self.emit
        str_ = self.guards.str_
        effects = self

        def print_(site: object, /, *args: object, **kwargs: object) -> None:
            sep, end = _print_options(kwargs) if kwargs else (" ", "\n")
            text = sep.join([a if type(a) is str else str_(a) for a in args]) + end
            size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
            effects.output_left -= size
            if effects.output_left < 0:
                raise effects.meter.limit(
                    f"output limit exceeded: more than {effects.limits.max_output_bytes:,} "
                    "bytes printed (max_output_bytes)"
                )
            emit(site, text[:-1] if text.endswith("\n") else text)

        return mark_builtin(print_, "print")  # type: ignore[no-any-return]

    # -- the effect builtins ------------------------------------------------------------

    def builtins(self) -> dict[str, object]:
        """The effect builtins of this run, by name."""
        return {
            fn.__name__: mark_builtin(fn, fn.__name__)
            for fn in (self.artifact, self.now, self.random, self.randint, self.uuid, self.sleep)
        }

    def artifact(self, name: object, text: object) -> object:
        size = _artifact_size(name, text)
        self.artifacts_left -= 1
        if self.artifacts_left < 0:
            raise self.meter.limit(
                f"artifact limit exceeded: more than {self.limits.max_artifacts:,} "
                "artifacts stored (max_artifacts)"
            )
        self.artifact_bytes_left -= size
        if self.artifact_bytes_left < 0:
            raise self.meter.limit(
                f"artifact limit exceeded: more than {self.limits.max_artifact_bytes:,} "
                "bytes of artifacts stored (max_artifact_bytes)"
            )
        return self.effect("artifact", (name, text))

    def now(self) -> object:
        return self.effect("now", ())

    def random(self) -> object:
        return self.effect("random", ())

    def randint(self, a: object, b: object) -> object:
        for arg in (a, b):
            if type(arg) is not int and type(arg) is not bool:
                raise TypeError(f"randint() arguments must be int, not {spy_type_name(arg)}")
        if a > b:  # type: ignore[operator]
            raise ValueError(f"empty range for randint({a}, {b})")
        return self.effect("randint", (int(a), int(b)))  # type: ignore[call-overload]

    def uuid(self) -> object:
        return self.effect("uuid", ())

    def sleep(self, seconds: object) -> None:
        if type(seconds) not in (int, float) or seconds != seconds:
            raise TypeError(
                f"sleep() argument must be a finite int or float, not {spy_type_name(seconds)}"
            )
        if seconds < 0 or seconds == float("inf"):  # type: ignore[operator]
            raise ValueError("sleep length must be non-negative and finite")
        # A durable timer still counts against the run's wall clock: refuse, at the
        # call, a sleep that would end past it (rather than sleeping, then failing).
        if seconds > self.meter.deadline - time.monotonic():  # type: ignore[operator]
            raise self.meter.limit(
                f"time limit exceeded: sleep({float(seconds):g}) would end after the "  # type: ignore[arg-type]
                f"program's {self.limits.max_wall_s:g} s (max_wall_s)"
            )
        self.effect("sleep", (float(seconds),))  # type: ignore[arg-type]


def _print_options(kwargs: dict[str, object]) -> tuple[str, str]:
    """``print``'s ``sep`` and ``end`` (``file`` refused, ``flush`` ignored)."""
    sep: object = " "
    end: object = "\n"
    for key, value in kwargs.items():
        if key == "sep":
            sep = value
        elif key == "end":
            end = value
        elif key == "file":  # CPython's print() takes file=; SPy has no files
            raise TypeError("print() got an unexpected keyword argument 'file'")
        elif key != "flush":
            raise TypeError(invalid_keyword("print", key))
    return _print_text(sep, "sep", " "), _print_text(end, "end", "\n")


def _print_text(value: object, what: str, default: str) -> str:
    if value is None:
        return default
    if type(value) is not str:
        raise TypeError(f"{what} must be None or a string, not {spy_type_name(value)}")
    return value


def _artifact_size(name: object, text: object) -> int:
    """The UTF-8 bytes of ``text``, once ``artifact(name, text)``'s arguments are checked:
    a plain, UTF-8 file name and a str or bytes."""
    if type(name) is not str:
        raise TypeError(f"artifact() name must be a str, not {spy_type_name(name)}")
    if not name:
        raise ValueError("artifact() name must not be empty")
    if "/" in name or "\\" in name or "\0" in name or name in (".", ".."):
        raise ValueError(
            f"artifact() name {name!r} must be a plain file name "
            "(no '/', '\\', NUL, and not '.' or '..')"
        )
    if type(text) is not str and type(text) is not bytes:
        raise TypeError(f"artifact() text must be a str or bytes, not {spy_type_name(text)}")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("artifact() name must be valid UTF-8 (no lone surrogates)") from None
    if len(name.encode("utf-8", "surrogatepass")) > MAX_ARTIFACT_NAME_BYTES:
        raise ValueError(f"artifact() name is longer than {MAX_ARTIFACT_NAME_BYTES} bytes")
    if isinstance(text, bytes) or text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))
