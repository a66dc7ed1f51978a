"""Book namespaces: ``kv.get("a", default=1)`` becomes one journaled host effect.

``run_program(..., books={"kv": ["get", "put"]})`` gives the program a global ``kv``
whose attributes are exactly those procedures (read through the attribute gate, like
every attribute). Calling one:

1. copies the arguments into plain data (``None``/``bool``/``int``/``float``/``str``/
   ``bytes``/``list``/``tuple``/``dict``; anything else is a ``TypeError``), so the host
   never holds a program object and the program cannot change what was journaled;
2. ``result = host.effect("book", (book, procedure, args_list, kwargs_dict))``; a
   ``ProgramError(spy_type, message)`` from the host is raised in the program as that
   SPy exception, at the call;
3. emits a ``"book"`` record at the call's site with value
   ``{"book", "procedure", "args", "kwargs", "result"}`` (or ``"error": {"type",
   "message"}`` instead of ``"result"`` when the host raised a ``ProgramError``);
4. returns the result copied into plain SPy data.

Sites: the compiler gives every call ``name.attr(...)`` whose ``name`` the program never
binds (a Book, or a NameError) a ``"book"`` site. A procedure called another way
(``get = kv.get; get(1)``, ``def f(db): db.get(1)``) gets a site built from the calling
frame's position on first use (``id`` ``-1``, cached per program and position).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Mapping
from types import CodeType, FrameType
from typing import Any

from jarvis.errors import ProgramError
from jarvis.spy.program import Program, Site
from jarvis.spy.runtime.exceptions import program_error
from jarvis.spy.runtime.positions import code_position
from jarvis.spy.values.data import plain

#: Nesting depth of Book arguments and results (deeper data is a TypeError).


class BookNamespace:
    """A Book as the program sees it: a name and its allowed procedures."""

    __slots__ = ("_cache", "_call", "_name", "_procedures")

    def __init__(self, name: str, procedures: frozenset[str], call: Callable[..., Any]) -> None:
        self._name = name
        self._procedures = procedures
        self._call = call
        self._cache: dict[tuple[str, object], BookProcedure] = {}

    @staticmethod
    def _spy_repr_name(value: object) -> str:
        return f"<book '{value._name}'>"  # type: ignore[attr-defined]

    def procedure(self, name: str, site: Site | None) -> BookProcedure:
        proc = self._cache.get((name, site))
        if proc is None:
            if name not in self._procedures:
                raise AttributeError(f"Book '{self._name}' has no procedure '{name}'")
            proc = self._cache[(name, site)] = BookProcedure(self._name, name, site, self._call)
        return proc


class BookProcedure:
    """A callable Book procedure (``kv.get``), bound to the site where it was read."""

    __slots__ = ("_book", "_call", "_procedure", "_site")

    def __init__(
        self, book: str, procedure: str, site: Site | None, call: Callable[..., Any]
    ) -> None:
        self._book = book
        self._procedure = procedure
        self._site = site
        self._call = call

    @staticmethod
    def _spy_repr_name(value: object) -> str:
        return f"<book procedure {value._book}.{value._procedure}>"  # type: ignore[attr-defined]

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:  # kv.get(self=1) is a kwarg
        return self._call(self, args, kwargs)


for _cls, _n in ((BookNamespace, "book"), (BookProcedure, "book_procedure")):
    _cls.__name__ = _cls.__qualname__ = _n


def validate_books(
    books: Mapping[str, Collection[str]], reserved: Collection[str]
) -> dict[str, frozenset[str]]:
    """Check Book and procedure names (host input: a ValueError names the bad one)."""
    out: dict[str, frozenset[str]] = {}
    for name, procedures in books.items():
        if type(name) is not str or not name.isidentifier() or name.startswith("_"):
            raise ValueError(f"Book name {name!r} must be an identifier not starting with '_'")
        if name in reserved:
            raise ValueError(f"Book name {name!r} would hide the SPy builtin of that name")
        if isinstance(procedures, str):
            raise ValueError(f"Book {name!r}: procedures must be a collection of names, not a str")
        procs = frozenset(procedures)
        for proc in procs:
            if type(proc) is not str or not proc.isidentifier() or proc.startswith("_"):
                raise ValueError(
                    f"Book {name!r}: procedure name {proc!r} must be an identifier not starting with '_'"
                )
        out[name] = procs
    return out


MAX_BOOK_ARGUMENT_BYTES = 256 * 1024 * 1024
"""Largest JSON the arguments of one Book call may make (they are journaled and logged)."""


def make_book_caller(
    effect: Callable[[str, tuple[object, ...]], object],
    emit: Callable[[Any, object], None],
    copy_result: Callable[[object], object],
    program: Program,
    check_now: Callable[[], None],
) -> Callable[[BookProcedure, tuple[Any, ...], dict[str, Any]], Any]:
    """The function every BookProcedure of one run calls."""

    def call(proc: BookProcedure, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        check_now()  # a stop or a limit is honoured before the effect, not after
        site = proc._site or dynamic_site(program, sys._getframe(2))
        # The one guarded converter (values/data.py): sizes, depth and shared substructure are
        # budgeted; what cannot cross is a TypeError/ValueError at the call.
        data_args: list[Any] = plain(
            list(args), "Book arguments", MAX_BOOK_ARGUMENT_BYTES, check_now
        )  # type: ignore[assignment]
        data_kwargs: dict[str, Any] = (
            plain(dict(kwargs), "Book arguments", MAX_BOOK_ARGUMENT_BYTES, check_now)
            if kwargs
            else {}  # type: ignore[assignment]
        )
        record: dict[str, object] = {
            "book": proc._book,
            "procedure": proc._procedure,
            "args": data_args,
            "kwargs": data_kwargs,
        }
        failed: ProgramError | None = None
        try:
            raw = effect("book", (proc._book, proc._procedure, list(data_args), dict(data_kwargs)))
        except ProgramError as exc:
            failed = exc
        if failed is not None:
            # Raised outside the handler: the SPy exception has no host context.
            record["error"] = {"type": failed.spy_type, "message": failed.message}
            emit(site, record)
            raise program_error(failed)
        result = copy_result(raw)
        record["result"] = result
        emit(site, record)
        return result

    return call


def dynamic_site(program: Program, frame: FrameType) -> Site:
    """The "book" site of a call made through an alias (``db = kv; db.get(1)``)."""
    # Find the program frame that made the call (skip SPy's own helper frames).
    f: FrameType | None = frame
    while f is not None and f.f_code not in program.code_objects:
        f = f.f_back
    if f is None:
        return Site(-1, "book", 0, 0, 0, 0, "")
    key = (f.f_code, f.f_lasti)
    site = program.dynamic_sites.get(key)
    if site is None:
        site = _site_at(program, f.f_code, f.f_lasti)
        program.dynamic_sites.setdefault(key, site)
    return site


def _site_at(program: Program, code: CodeType, lasti: int) -> Site:
    text = program.text
    line, end_line, col, end_col = code_position(code, lasti)
    if line is not None:
        end_line = end_line or line
        c = text.char_col(line, col or 0)
        ec = text.char_col(end_line, end_col or 0)
        if line == end_line:
            source = text.line(line)[c:ec]
        else:
            source = "\n".join(
                [
                    text.line(line)[c:],
                    *(text.line(n) for n in range(line + 1, end_line)),
                    text.line(end_line)[:ec],
                ]
            )
        return Site(-1, "book", line, c, end_line, ec, source)
    return Site(-1, "book", code.co_firstlineno, 0, code.co_firstlineno, 0, "")
