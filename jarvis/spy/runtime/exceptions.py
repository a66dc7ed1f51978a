"""SPy's exception types and the filter that keeps host failures out of ``except``.

SPy's exception types are CPython's own classes (a ``ValueError`` raised by ``int('x')``
must be caught by ``except ValueError``), plus ``BookError`` and ``LimitExceeded``,
which are SPy classes: a program may raise and catch those like any other. The
run's own limits end it with ``jarvis.errors.RunLimitExceeded``, a host class that no
program can name or catch (and the host's ``jarvis.errors.BookUnavailable``, a Book that
cannot be resolved at all, never reaches a program).

Every ``except`` clause compiles to ``except __spy_catch(<types>)``. CPython evaluates
that expression while the exception is already the one being handled, so the filter
can look at it and answer ``()`` -- which matches nothing -- when it is not the
program's own: a ``JarvisError`` (``Stopped``, a limit, a journal failure), any
exception raised inside host code (a host bug), anything raised while one of those was
propagating (a ``finally`` block cannot launder a limit into a ``ValueError``), and
``MemoryError``. The program never even binds such an exception to a name.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from types import CodeType, TracebackType

from jarvis.errors import JarvisError, ProgramError
from jarvis.spy._names import SPY_DIR


class BookError(Exception):
    """A Book procedure failed (raised by the host through ``ProgramError``)."""


class LimitExceeded(Exception):
    """A limit a *host* reports to the program (e.g. a Book's quota): catchable.

    Not the run's own limits (steps, time, memory...): those end the run with
    ``jarvis.errors.RunLimitExceeded``, which no program can name or catch, though its
    SPy traceback shows the same type name (``spy_type`` ``"LimitExceeded"``).
    """


for _cls, _name in ((BookError, "BookError"), (LimitExceeded, "LimitExceeded")):
    _cls.__name__ = _cls.__qualname__ = _name
    _cls.__module__ = "builtins"  # repr(BookError) == "<class 'BookError'>"

#: SPy name -> class, for the builtins and for ``ProgramError(spy_type, ...)``.
#: Every standard exception SPy itself, CPython or a host may raise in a program is
#: nameable, so ``except UnboundLocalError`` works. Naming is not catching: the filter
#: below never lets a program catch ``MemoryError``, and ``BaseException`` catches what
#: ``Exception`` does (a program cannot raise anything else: see ``environment.raise_``).
_SPY_EXCEPTIONS: tuple[type[BaseException], ...] = (
    BaseException, Exception, ValueError, TypeError, KeyError, IndexError,
    ZeroDivisionError, RuntimeError, AssertionError, ArithmeticError, LookupError,
    NameError, UnboundLocalError, AttributeError, StopIteration, NotImplementedError,
    OverflowError, RecursionError, MemoryError, UnicodeError, UnicodeDecodeError,
    UnicodeEncodeError, OSError, TimeoutError, ConnectionError, BookError,
    LimitExceeded,
)  # fmt: skip
EXCEPTION_TYPES: dict[str, type[BaseException]] = {cls.__name__: cls for cls in _SPY_EXCEPTIONS}

# CPython's own library (json's Python parts, the codecs): SPy calls into it, and an
# error raised there on the program's behalf is the program's (host code that calls the
# library has frames of its own on the way).
_STDLIB_DIR = os.path.dirname(os.path.abspath(os.__file__)) + os.sep
_SITE_PACKAGES = _STDLIB_DIR + "site-packages" + os.sep


def exception_class(spy_type: str) -> type[BaseException]:
    """The class a ``ProgramError(spy_type, ...)`` raises in the program.

    Unknown names get a fresh ``Exception`` subclass of that name (cached), so the SPy
    traceback and ``repr`` show the host's type name and ``except Exception`` catches it.
    """
    cls = EXCEPTION_TYPES.get(spy_type) or _DYNAMIC.get(spy_type)
    if cls is None:
        name = spy_type if spy_type.isidentifier() and not spy_type.startswith("_") else "Error"
        cls = type(name, (Exception,), {"__module__": "builtins"})
        _DYNAMIC.setdefault(spy_type, cls)
        cls = _DYNAMIC[spy_type]
    return cls


_DYNAMIC: dict[str, type[BaseException]] = {}


def program_error(exc: ProgramError) -> BaseException:
    """The SPy exception a host ``ProgramError`` becomes."""
    return exception_class(exc.spy_type)(exc.message)


def passes_through_host(tb: TracebackType | None, code_objects: frozenset[CodeType]) -> bool:
    """True if a traceback runs through code that is neither the program's nor SPy's."""
    while tb is not None:
        code = tb.tb_frame.f_code
        name = code.co_filename
        if (
            code not in code_objects
            and not name.startswith(SPY_DIR)
            and not (name.startswith(_STDLIB_DIR) and not name.startswith(_SITE_PACKAGES))
        ):
            return True
        tb = tb.tb_next
    return False


def is_program_exception(exc: BaseException | None, code_objects: frozenset[CodeType]) -> bool:
    """May a SPy ``except`` clause catch ``exc``?"""
    seen = 0
    while exc is not None and seen < 100:
        if isinstance(exc, JarvisError | ProgramError | MemoryError) or not isinstance(
            exc, Exception
        ):
            return False
        if passes_through_host(exc.__traceback__, code_objects):
            return False
        exc = exc.__context__  # raised while a host failure propagated: still not ours
        seen += 1
    return exc is None


def _valid_types(types: object) -> bool:
    """CPython 3.11's rule: an exception class or a *flat* tuple of them (a nested tuple is
    the same TypeError, and checking one never recurses)."""
    if isinstance(types, tuple):
        return all(isinstance(t, type) and issubclass(t, BaseException) for t in types)
    return isinstance(types, type) and issubclass(types, BaseException)


def make_catch(code_objects: frozenset[CodeType]) -> Callable[..., object]:
    """The per-run ``__spy_catch(types)`` helper (see the module docstring)."""

    def catch(types: object = Exception) -> object:
        exc = sys.exc_info()[1]
        if not is_program_exception(exc, code_objects):
            return ()
        if not _valid_types(types):
            raise TypeError(
                "catching classes that do not inherit from BaseException is not allowed"
            )
        return types

    return catch
