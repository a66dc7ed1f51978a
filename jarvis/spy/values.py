"""How SPy values look: deterministic ``str``/``repr`` and JSON-safe rendering for logs.

Determinism matters because a program's text can flow into an effect (an artifact's
content, a Book call's argument) and replay compares effect requests with the journal
(DESIGN §1). CPython's default reprs of functions, bound methods and iterators embed a
memory address, which differs on every run; SPy renders those without it.
"""

from __future__ import annotations

import math
from types import BuiltinFunctionType, FunctionType, ModuleType
from typing import Any

NoneType = type(None)

#: Types whose CPython ``str``/``repr``/``format`` is already deterministic: the fast path.
SIMPLE_TYPES: frozenset[type] = frozenset({str, int, float, bool, NoneType})

#: Containers deeper than this are cut off with ``"..."`` when rendered for a log record,
#: so rendering can never blow the host's stack (orjson itself refuses depth > 255).
MAX_RENDER_DEPTH = 100

# JSON consumers (orjson, JavaScript, InfluxDB) only take 64-bit integers; bigger ones
# are rendered as decimal strings.
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1

_DICT_VIEW_TYPES: tuple[type, ...] = (type({}.keys()), type({}.values()), type({}.items()))


def mark_builtin(fn: Any, name: str) -> Any:
    """Make a Python-level SPy builtin look and render like a built-in function ``name``."""
    fn.__name__ = name
    fn.__qualname__ = name
    fn._spy_builtin = True
    return fn


def is_spy_builtin(value: object) -> bool:
    """True for builtins SPy implements in Python (``print``, ``str``, ``artifact``...)."""
    return type(value) is FunctionType and getattr(value, "_spy_builtin", False) is True


def spy_type_name(value: object) -> str:
    """The type name SPy shows for ``value`` (in errors and next to rendered values)."""
    if is_spy_builtin(value):
        return "builtin_function_or_method"
    return type(value).__name__


def spy_str(value: object) -> str:
    """``str(value)`` without memory addresses."""
    t = type(value)
    if t is str:
        return value  # type: ignore[return-value]
    if t in SIMPLE_TYPES:
        return str(value)
    return _repr(value, set())


def spy_repr(value: object) -> str:
    """``repr(value)`` without memory addresses."""
    if type(value) in SIMPLE_TYPES:
        return repr(value)
    return _repr(value, set())


def spy_ascii(value: object) -> str:
    """``ascii(value)``: ``spy_repr`` with non-ASCII characters escaped, as CPython does."""
    return spy_repr(value).encode("ascii", "backslashreplace").decode("ascii")


class _Shown:
    """Stand-in for a non-scalar ``%``-format argument: formats via SPy's str/repr."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __str__(self) -> str:
        return spy_str(self.value)

    def __repr__(self) -> str:
        return spy_repr(self.value)


def _shown(value: object) -> object:
    return value if type(value) in SIMPLE_TYPES else _Shown(value)


def spy_percent(fmt: str, args: object) -> str:
    """``fmt % args`` where ``%s``/``%r`` of functions and the like carry no address."""
    t = type(args)
    if t is tuple:
        args = tuple([_shown(v) for v in args])  # type: ignore[attr-defined]
    elif t is dict:  # "%(name)s" % mapping -- and "%s" % mapping prints the dict
        args = {k: _shown(v) for k, v in args.items()}  # type: ignore[attr-defined]
    elif t not in SIMPLE_TYPES:
        args = _Shown(args)
    return fmt % args


def spy_mod(left: Any, right: Any) -> Any:
    """``left % right``: the out-of-line form of the compiler's inlined ``%``."""
    if type(left) is str:
        return spy_percent(left, right)
    return left % right


def _repr(value: object, active: set[int]) -> str:
    # ``active`` holds the ids of the containers being printed, so a list that contains
    # itself prints as ``[...]`` exactly as CPython's Py_ReprEnter does.
    t = type(value)
    if t in SIMPLE_TYPES:
        return repr(value)
    if t is list or t is tuple or t is dict:
        key = id(value)
        if key in active:
            return "[...]" if t is list else "(...)" if t is tuple else "{...}"
        active.add(key)
        try:
            if t is list:
                return "[" + ", ".join([_repr(v, active) for v in value]) + "]"  # type: ignore[attr-defined]
            if t is tuple:
                items = [_repr(v, active) for v in value]  # type: ignore[attr-defined]
                return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"
            return (
                "{"
                + ", ".join(
                    [_repr(k, active) + ": " + _repr(v, active) for k, v in value.items()]  # type: ignore[attr-defined]
                )
                + "}"
            )
        finally:
            active.discard(key)
    if t is FunctionType:
        if is_spy_builtin(value):
            return f"<built-in function {value.__name__}>"  # type: ignore[attr-defined]
        return f"<function {value.__qualname__}>"  # type: ignore[attr-defined]
    if t is BuiltinFunctionType:
        owner = value.__self__  # type: ignore[attr-defined]
        if owner is None or isinstance(owner, ModuleType):
            return f"<built-in function {value.__name__}>"  # type: ignore[attr-defined]
        return f"<built-in method {value.__name__} of {type(owner).__name__} object>"  # type: ignore[attr-defined]
    if t is type or t is range:
        return repr(value)
    if t in _DICT_VIEW_TYPES:
        return f"{t.__name__}({_repr(list(value), active)})"  # type: ignore[call-overload]
    return f"<{t.__name__} object>"


def render_value(value: object) -> tuple[object, str]:
    """Render a SPy value for a log record: ``(JSON-safe data, SPy type name)``.

    - ``None``/``bool``/``str`` as themselves; ``int`` as itself inside the signed 64-bit
      range, else as its decimal string (type stays ``"int"``); non-finite floats as
      ``"nan"``/``"inf"``/``"-inf"``.
    - ``list`` and ``tuple`` as JSON arrays (a tuple's type name says ``"tuple"``).
    - ``dict`` as a JSON object when every key is a ``str``; otherwise as a list of
      ``[key, value]`` pairs (lossless: ``1`` and ``"1"`` stay distinct). The type name is
      ``"dict"`` in both cases; consumers tell them apart by object vs array.
    - dict views (``d.keys()``...) as arrays of their items.
    - functions, builtins, ranges, iterators and anything else as their deterministic repr
      string, e.g. ``"<function f>"``. Rendering never consumes an iterator.
    - a container met again inside itself renders as ``"[...]"``/``"(...)"``/``"{...}"``;
      nesting deeper than ``MAX_RENDER_DEPTH`` is cut off as ``"..."``.
    """
    return _data(value, 0, set()), spy_type_name(value)


def _data(value: object, depth: int, active: set[int]) -> object:
    t = type(value)
    if t is str or t is bool or value is None:
        return value
    if t is int:
        if _INT64_MIN <= value <= _INT64_MAX:  # type: ignore[operator]
            return value
        try:
            return str(value)
        except ValueError:  # more digits than sys.get_int_max_str_digits()
            return f"<int with {value.bit_length()} bits>"  # type: ignore[attr-defined]
    if t is float:
        return value if math.isfinite(value) else str(value)  # type: ignore[arg-type]
    if t is list or t is tuple or t is dict or t in _DICT_VIEW_TYPES:
        if depth >= MAX_RENDER_DEPTH:
            return "..."
        key = id(value)
        if key in active:
            return "[...]" if t is list else "(...)" if t is tuple else "{...}"
        active.add(key)
        try:
            if t is dict:
                items: dict[Any, Any] = value  # type: ignore[assignment]
                if all(type(k) is str for k in items):
                    return {k: _data(v, depth + 1, active) for k, v in items.items()}
                return [
                    [_data(k, depth + 1, active), _data(v, depth + 1, active)]
                    for k, v in items.items()
                ]
            return [_data(v, depth + 1, active) for v in value]  # type: ignore[attr-defined]
        finally:
            active.discard(key)
    return spy_repr(value)
