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
        raise TypeError(f"'{next(iter(left))}' is an invalid keyword argument for {fname}()")
    return values


def must_be_str(fname: str, param: str, value: object) -> None:
    """``fname() argument 'param' must be str, not int`` (a ``str`` parameter's check)."""
    if type(value) is not str:
        raise TypeError(f"{fname}() argument '{param}' must be str, not {_type_name(value)}")


def _type_name(value: object) -> str:
    from jarvis.spy.values.names import spy_type_name

    return "None" if value is None else spy_type_name(value)
