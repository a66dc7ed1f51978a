"""A Book: a named collection of typed procedures a SPy program may call.

The SPy program sees a Book as a namespace (``kv.get("k")``). Arguments arrive as plain
values from the program and are validated against the procedure's signature with pydantic
before the procedure runs; the result is validated against the return annotation and turned
into plain JSON data, because it is journaled and replayed to the program later.
"""

from __future__ import annotations

import asyncio
import inspect
import keyword
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, overload

import pydantic
from pydantic import TypeAdapter
from pydantic_settings import BaseSettings

from jarvis.bdk.context import BookContext
from jarvis.bdk.retries import RetryPolicy
from jarvis.errors import ProgramError

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_TIMEOUT_S = 30.0
"""Per-attempt time budget when a procedure names none: generous for a remote API call,
short enough that a hung dependency shows up as retried ``Timeout`` attempts, not a stuck
execution."""


def _check_name(kind: str, name: str) -> str:
    # Names become SPy attribute names (``kv.get``): they must be plain public identifiers.
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        raise ValueError(
            f"{kind} name {name!r} must be a Python identifier that is not a keyword and does "
            "not start with '_' (SPy programs write it as an attribute)"
        )
    return name


class Procedure:
    """One procedure of a Book, with the validators built from its signature."""

    def __init__(
        self,
        book: str,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        timeout_s: float | None = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        description: str | None = None,
    ) -> None:
        self.book = book
        self.fn = fn
        self.name = _check_name("procedure", name or str(getattr(fn, "__name__", fn)))
        if timeout_s is not None and timeout_s <= 0:
            raise ValueError(
                f"{self.qualname}: timeout_s must be positive or None, not {timeout_s}"
            )
        self.timeout_s = timeout_s
        self.retry = retry
        self.description = description if description is not None else _first_paragraph(fn.__doc__)
        self.is_async = inspect.iscoroutinefunction(fn)

        sig = inspect.signature(fn)
        try:
            # A callable object's annotations live on its __call__.
            annotated = fn if inspect.isroutine(fn) else type(fn).__call__
            hints = typing.get_type_hints(annotated, include_extras=True)
        except Exception as exc:  # NameError for annotations only imported under TYPE_CHECKING
            raise TypeError(f"{self.qualname}: cannot resolve its type annotations: {exc}") from exc
        params = list(sig.parameters.values())
        if not params or params[0].kind not in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        ):
            raise TypeError(
                f"{self.qualname}: the first parameter must be the context (ctx: BookContext)"
            )
        self._params: dict[str, TypeAdapter[Any]] = {}
        for p in params[1:]:
            if p.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
                # Named parameters only, so an argument error can always name its parameter.
                raise TypeError(f"{self.qualname}: *args/**kwargs parameters are not supported")
            self._params[p.name] = TypeAdapter(hints.get(p.name, Any))
        self.signature = sig.replace(parameters=params[1:])
        self._result: TypeAdapter[Any] = TypeAdapter(hints.get("return", Any))

    @property
    def qualname(self) -> str:
        return f"{self.book}.{self.name}"

    def bind(self, args: Sequence[object], kwargs: Mapping[str, object]) -> inspect.BoundArguments:
        """Match and validate a program's arguments; a mismatch is a SPy ``TypeError``."""
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise ProgramError("TypeError", f"{self.qualname}() {exc}") from None
        problems: list[str] = []
        for pname, value in bound.arguments.items():
            try:
                bound.arguments[pname] = self._params[pname].validate_python(value)
            except pydantic.ValidationError as exc:
                problems.extend(_describe(pname, exc))
        if problems:
            raise ProgramError("TypeError", f"{self.qualname}() " + "; ".join(problems))
        bound.apply_defaults()
        return bound

    def invoke(self, ctx: BookContext[Any], bound: inspect.BoundArguments) -> Any:
        """Run the procedure on the calling thread (the registry calls it on a worker thread)."""
        if self.is_async:
            return asyncio.run(self.fn(ctx, *bound.args, **bound.kwargs))
        return self.fn(ctx, *bound.args, **bound.kwargs)

    def dump_result(self, value: object) -> object:
        """Validate the result against the return annotation and make it plain JSON data."""
        return self._result.dump_python(self._result.validate_python(value), mode="json")


def _describe(pname: str, exc: pydantic.ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        # loc holds dict keys, list indexes and, for unions, the member tried: show it as a
        # dotted path, e.g. "argument 'headers' [Accept]: Input should be a valid string".
        where = ".".join(str(part) for part in err["loc"])
        at = f" [{where}]" if where else ""
        out.append(f"argument {pname!r}{at}: {err['msg']}")
    return out


def _first_paragraph(doc: str | None) -> str:
    return inspect.cleandoc(doc).split("\n\n", 1)[0].replace("\n", " ") if doc else ""


class Book:
    """A named collection of procedures; point a ``jarvis.books`` entry point at an instance.

    ``name`` is the namespace SPy programs use and the capability a start command lists.
    ``config`` is a pydantic-settings class read from the environment once, when the Book is
    resolved for an execution; each procedure gets the instance as ``ctx.config``.
    """

    def __init__(
        self,
        name: str,
        description: str = "",
        config: type[BaseSettings] | None = None,
    ) -> None:
        self.name = _check_name("Book", name)
        self.description = description
        self.config = config
        self.procedures: dict[str, Procedure] = {}

    def __repr__(self) -> str:
        return f"Book({self.name!r}, procedures={sorted(self.procedures)})"

    @overload
    def procedure(self, fn: F, /) -> F: ...

    @overload
    def procedure(
        self,
        *,
        name: str | None = None,
        timeout_s: float | None = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        description: str | None = None,
    ) -> Callable[[F], F]: ...

    def procedure(
        self,
        fn: Callable[..., Any] | None = None,
        *,
        name: str | None = None,
        timeout_s: float | None = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        description: str | None = None,
    ) -> Any:
        """Register a function as a procedure: ``@book.procedure`` or ``@book.procedure(...)``.

        The function takes the context first, then typed parameters: ``def get(ctx:
        BookContext, key: str, default: int | None = None) -> str | None``. ``timeout_s``
        bounds each attempt (None: no limit); ``retry`` lays fields over the global default
        policy (None: the default policy as is). The function is returned unchanged, so it
        stays callable (and testable) as plain Python.
        """

        def register(f: F) -> F:
            proc = Procedure(
                self.name, f, name=name, timeout_s=timeout_s, retry=retry, description=description
            )
            if proc.name in self.procedures:
                raise ValueError(f"Book {self.name!r} already has a procedure {proc.name!r}")
            self.procedures[proc.name] = proc
            return f

        return register(fn) if fn is not None else register

    def load_config(self) -> BaseSettings | None:
        """Read this Book's settings from the environment (``None`` without a config class)."""
        return self.config() if self.config is not None else None
