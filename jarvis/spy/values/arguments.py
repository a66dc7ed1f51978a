"""CPython's own words for a builtin called with the wrong arguments.

SPy implements many builtins and methods in Python (they know the run's limits). Left to
Python, a wrong call would be reported by the *Python* function: ``Environment.sorted_()
takes 2 positional arguments but 3 were given`` names a host class, counts ``self`` and
shows an internal parameter name. These helpers check the arguments first and raise the
``TypeError`` CPython's C builtin raises, word for word, so a program (and a case file
comparing SPy with CPython) sees the same text. Each mirrors one of CPython 3.11's
argument parsers:

- ``positional``: ``_PyArg_CheckPositional`` ("sorted expected 1 argument, got 2");
- ``no_keywords``: ``_PyArg_NoKeywords`` ("list() takes no keyword arguments");
- ``exactly_one`` / ``no_arguments``: ``METH_O`` / ``METH_NOARGS`` methods;
- ``clinic``: Argument Clinic's ``_PyArg_UnpackKeywords`` and ``PyArg_ParseTupleAndKeywords``
  ("pow() missing required argument 'exp' (pos 2)", "'foo' is an invalid keyword
  argument for str()").
"""

from __future__ import annotations

from typing import Any

from jarvis.spy.values.names import spy_type_name

#: A parameter the call did not pass (``None`` is a value).
MISSING: Any = type("missing", (), {"__repr__": lambda self: "<missing>"})()


def positional(name: str, args: tuple[Any, ...], lo: int, hi: int) -> None:
    """``name expected [at least|at most] N argument(s), got M``."""
    n = len(args)
    if n < lo:
        bound, count = ("" if lo == hi else "at least "), lo
    elif n > hi:
        bound, count = ("" if lo == hi else "at most "), hi
    else:
        return
    raise TypeError(f"{name} expected {bound}{count} argument{'' if count == 1 else 's'}, got {n}")


def no_keywords(name: str, kwargs: dict[str, Any]) -> None:
    if kwargs:
        raise TypeError(f"{name}() takes no keyword arguments")


def exactly_one(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The argument of a ``METH_O`` function or method (``name`` as CPython shows it)."""
    if kwargs:
        raise TypeError(f"{name}() takes no keyword arguments")
    if len(args) != 1:
        raise TypeError(f"{name}() takes exactly one argument ({len(args)} given)")
    return args[0]


def no_arguments(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if kwargs:
        raise TypeError(f"{name}() takes no keyword arguments")
    if args:
        raise TypeError(f"{name}() takes no arguments ({len(args)} given)")


def clinic(
    fname: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    params: tuple[str, ...],
    *,
    required: int = 0,
    posonly: int = 0,
    kwonly: int = 0,
) -> list[Any]:
    """Bind ``args``/``kwargs`` to ``params`` like Argument Clinic; ``MISSING`` for the rest.

    ``params`` are all the parameters in order, the first ``posonly`` positional-only, the
    first ``required`` required, the last ``kwonly`` keyword-only. Raises CPython's
    messages, in CPython's order.
    """
    nargs, nkw = len(args), len(kwargs)
    maxargs = len(params)
    maxpos = maxargs - kwonly
    if nargs + nkw > maxargs:
        raise TypeError(
            f"{fname}() takes at most {maxargs} {'keyword ' if nargs == 0 else ''}"
            f"argument{'' if maxargs == 1 else 's'} ({nargs + nkw} given)"
        )
    if nargs > maxpos:
        if maxpos == 0:
            raise TypeError(f"{fname}() takes no positional arguments")
        raise TypeError(
            f"{fname}() takes {'at most' if required < maxpos else 'exactly'} {maxpos} "
            f"positional argument{'' if maxpos == 1 else 's'} ({nargs} given)"
        )
    if nargs < posonly and nargs < required:
        need = min(posonly, required)
        raise TypeError(
            f"{fname}() takes {'at least' if need < maxpos else 'exactly'} {need} positional "
            f"argument{'' if need == 1 else 's'} ({nargs} given)"
        )
    values = [*args, *[MISSING] * (maxargs - nargs)]
    left = dict(kwargs)
    for i in range(max(nargs, posonly), maxargs):
        name = params[i]
        if name in left:
            values[i] = left.pop(name)
        elif i < required:
            raise TypeError(f"{fname}() missing required argument '{name}' (pos {i + 1})")
    if left:
        for i in range(posonly, nargs):
            if params[i] in left:
                raise TypeError(
                    f"argument for {fname}() given by name ('{params[i]}') and position ({i + 1})"
                )
        raise TypeError(invalid_keyword(fname, next(iter(left))))
    return values


def _invalid_keyword_template() -> str:
    """Argument Clinic's message for an unknown keyword, as the running CPython words it
    ("'k' is an invalid keyword argument for f()" up to 3.12, "f() got an unexpected
    keyword argument 'k'" from 3.13): asked of ``sum``, one of its functions."""
    try:
        sum((), spy_probe=0)  # type: ignore[call-overload]
    except TypeError as exc:
        return str(exc).replace("sum()", "{fname}()").replace("'spy_probe'", "'{key}'")
    raise AssertionError("sum() accepted an unknown keyword argument")  # pragma: no cover


_INVALID_KEYWORD = _invalid_keyword_template()


def invalid_keyword(fname: str, key: str) -> str:
    """CPython's message for keyword argument ``key`` that ``fname()`` does not take."""
    return _INVALID_KEYWORD.format(fname=fname, key=key)


def must_be_str(fname: str, param: str, value: object, none: str = "None") -> None:
    """``fname() argument 'param' must be str, not int`` (a ``str`` parameter's check).

    ``none`` is how the message names ``None`` (CPython says "NoneType" on some paths).
    """
    if type(value) is not str:
        name = none if value is None else _type_name(value)
        raise TypeError(f"{fname}() argument '{param}' must be str, not {name}")


def _type_name(value: object) -> str:
    return "None" if value is None else spy_type_name(value)


def _cpython_error(fn: Any, *args: object) -> str:
    try:
        fn(*args)
    except TypeError as exc:
        return str(exc)
    raise AssertionError(f"{fn.__name__}{args!r} raised no TypeError")  # pragma: no cover


# ``int(...)`` and ``str(...)`` called with positional arguments only: CPython 3.13 checks
# those on a fast path of its own, worded apart from Argument Clinic's ("int expected at
# most 2 arguments, got 3"; "must be str, not NoneType"). Asked of the running CPython.
_TOO_MANY: dict[str, tuple[str, int]] = {
    typ.__name__: (_cpython_error(typ, *[None] * (most + 1)), most + 1)
    for typ, most in ((int, 2), (str, 3))
}
STR_POSITIONAL_NONE = _cpython_error(str, b"", None).rpartition("not ")[2]
"""How ``str(b, None)`` names ``None``: "None" up to 3.12, "NoneType" from 3.13."""


def too_many_positional(fname: str, given: int) -> str:
    """CPython's message for ``int()``/``str()`` with too many positional arguments only."""
    text, probe = _TOO_MANY[fname]
    head, _, tail = text.rpartition(str(probe))
    return f"{head}{given}{tail}"
