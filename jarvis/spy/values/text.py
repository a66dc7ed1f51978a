"""How SPy values look: deterministic ``str``/``repr`` and JSON-safe rendering for logs.

Determinism matters because a program's text can flow into an effect (an artifact's
content, a Book call's argument) and replay compares effect requests with the journal
(DESIGN §1). CPython's default reprs of functions, bound methods and iterators embed a
memory address, which differs on every run; SPy renders those without it.

``spy_str``/``spy_repr`` take an optional size budget (characters): the per-run
builtins pass the run's memory limit, so ``str([s] * 1000)`` fails with
``ValueTooLarge`` part-way through instead of building a gigantic string.
"""

from __future__ import annotations

import re
from types import BuiltinFunctionType, FunctionType, MethodType, ModuleType
from typing import Any

from jarvis.spy.values.containers import (
    DictItems,
    DictKeys,
    SpyFrozenSet,
    SpyRange,
    SpySet,
    use_repr,
)
from jarvis.spy.values.names import is_spy_builtin, spy_type_name

NoneType = type(None)

#: Types whose CPython ``str``/``repr``/``format`` is already deterministic: the fast path.
SIMPLE_TYPES: frozenset[type] = frozenset({str, int, float, bool, NoneType, bytes})

#: Types whose formatted text is short whatever the value (ints are capped by CPython's
#: 4300-digit limit): f-strings format them without any size check.
SMALL_TYPES: frozenset[type] = frozenset({int, float, bool, NoneType})

_DICT_VIEW_TYPES: tuple[type, ...] = (
    type({}.keys()), type({}.values()), type({}.items()), DictKeys, DictItems,
)  # fmt: skip
#: Rendered as JSON arrays: sequences, sets and dict views.
_ARRAY_TYPES: frozenset[type] = frozenset({list, tuple, SpySet, SpyFrozenSet, *_DICT_VIEW_TYPES})


class ValueTooLarge(Exception):
    """A text SPy was building would pass its size budget (turned into LimitExceeded)."""

    def __init__(self, what: str, size: int) -> None:
        self.what = what
        self.size = size
        super().__init__(f"{what} of more than {size:,} characters")


class _Budget:
    """Characters a str()/repr() may still produce (``None`` budget: unlimited)."""

    __slots__ = ("cycles", "left", "limit", "memo")

    def __init__(self, limit: int) -> None:
        self.left = limit
        self.limit = limit
        # Shared substructure (``a = [a, a]`` forty times): a container's text is made once
        # and reused, each use spending its length, so the budget trips after a few dozen
        # steps instead of walking 2**40 paths. Containers under a cycle marker ("[...]")
        # are not reused: their text depends on the path.
        self.memo: dict[int, tuple[object, str]] = {}
        self.cycles = 0

    def spend(self, text: str) -> str:
        self.left -= len(text)
        if self.left < 0:
            raise ValueTooLarge("a str()/repr() result", self.limit)
        return text


#: Bytes that ``repr(bytes)`` shows as themselves (the rest: ``\n``, ``\x00``...).
_PRINTABLE_BYTES = bytes(range(0x20, 0x7F))


def repr_size(value: str | bytes) -> int:
    """Upper bound of ``len(repr(value))``, without building it (C-speed scans only).

    Exact for printable text; otherwise every character counts as its longest escape:
    ``\\x00`` (4) for ASCII and bytes, ``\\U0001f600`` (10) for the rest of str.
    """
    n = len(value)
    if isinstance(value, bytes):
        b = value
        if n < 64:
            return 4 * n + 3
        plain = n - len(b.translate(None, _PRINTABLE_BYTES))
        return 3 + plain + b.count(b"\\") + b.count(b"'") + 4 * (n - plain)
    s = value
    if n < 64:
        return 10 * n + 2
    if s.isprintable():
        return n + 2 + s.count("\\") + s.count("'")
    return n * (4 if s.isascii() else 10) + 2


def spy_str(value: object, budget: int | None = None) -> str:
    """``str(value)`` without memory addresses."""
    t = type(value)
    if t is str:
        return value  # type: ignore[return-value]
    if t in SMALL_TYPES or (budget is None and t is bytes):
        return str(value)
    b = _Budget(budget) if budget is not None else None
    if isinstance(value, BaseException):
        return _exc_str(value, b)
    return _repr(value, set(), b)


def spy_repr(value: object, budget: int | None = None) -> str:
    """``repr(value)`` without memory addresses."""
    t = type(value)
    if t in SMALL_TYPES or (budget is None and t in SIMPLE_TYPES):
        return repr(value)
    return _repr(value, set(), _Budget(budget) if budget is not None else None)


def spy_ascii(value: object, budget: int | None = None) -> str:
    """``ascii(value)``: ``spy_repr`` with non-ASCII characters escaped, as CPython does."""
    text = spy_repr(value, budget)
    if text.isascii():
        return text
    if budget is not None and len(text) * 10 > budget:
        _Budget(budget).spend(text * 10)  # a bound: \U0001f600 is 10 characters
    return text.encode("ascii", "backslashreplace").decode("ascii")


def _simple_args(exc: BaseException) -> bool:
    return all(type(a) in SIMPLE_TYPES for a in exc.args)


def _exc_str(exc: BaseException, b: _Budget | None) -> str:
    if _simple_args(exc):
        text = str(exc)
        return b.spend(text) if b is not None else text
    args = exc.args
    if len(args) == 1:
        if isinstance(exc, KeyError):
            return _repr(args[0], set(), b)
        return _str_in(args[0], set(), b)
    return _repr(args, set(), b) if args else ""


def _str_in(value: object, active: set[int], b: _Budget | None) -> str:
    if isinstance(value, str):
        return b.spend(value) if b is not None else value
    if isinstance(value, BaseException):
        return _exc_str(value, b)
    return _repr(value, active, b)


def _exc_repr(exc: BaseException, active: set[int], b: _Budget | None) -> str:
    name = type(exc).__name__
    if _simple_args(exc):
        text = name + repr(exc.args) if len(exc.args) != 1 else f"{name}({exc.args[0]!r})"
        return b.spend(text) if b is not None else text
    if len(exc.args) == 1:
        return f"{name}({_repr(exc.args[0], active, b)})"
    return name + _repr(exc.args, active, b)


class _Shown:
    """Stand-in for a non-scalar ``%``-format argument: formats via SPy's str/repr.

    Each program type gets its own subclass named like it (``_shown_class``), so that
    CPython's own messages about the argument (``%d format: a real number is required,
    not list``) name the program's type, not this class.
    """

    __slots__ = ("budget", "value")

    def __init__(self, value: object, budget: int | None) -> None:
        self.value = value
        self.budget = budget

    def __str__(self) -> str:
        return spy_str(self.value, self.budget)

    def __repr__(self) -> str:
        return spy_repr(self.value, self.budget)


class _ShownMapping(_Shown):
    """A ``%``-format argument CPython treats as a mapping (a dict, a list, a range: what
    has ``__getitem__``): ``%(k)s`` reads ``value[k]`` through ``_shown``, and ``%s`` of
    the whole argument (CPython formats the object itself then) shows SPy's repr."""

    __slots__ = ()

    def __getitem__(self, key: object) -> object:
        return _shown(self.value[key], self.budget)  # type: ignore[index]


_SHOWN_CLASSES: dict[tuple[str, bool], type[_Shown]] = {}
#: Program types CPython's %-formatting takes for a mapping (``PyMapping_Check``).
_MAPPING_TYPES: frozenset[type] = frozenset({dict, list, SpyRange})


def _shown_class(name: str, mapping: bool) -> type[_Shown]:
    cls = _SHOWN_CLASSES.get((name, mapping))
    if cls is None:
        cls = type(name, (_ShownMapping if mapping else _Shown,), {"__slots__": ()})
        cls.__qualname__ = name
        cls.__module__ = "builtins"
        cls = _SHOWN_CLASSES.setdefault((name, mapping), cls)
    return cls


def _shown(value: object, budget: int | None) -> object:
    t = type(value)
    if t in SIMPLE_TYPES:
        return value
    return _shown_class(spy_type_name(value), t in _MAPPING_TYPES)(value, budget)


# Numbers inside %-conversion specs: widths and precisions ("%-10.3f", "%(k)08d").
_PCT_SPEC = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(\*|\d*)(?:\.(\*|\d*))?[hlL]?([a-zA-Z%]?)")
_PCT_SPEC_BYTES = re.compile(rb"%(?:\([^)]*\))?[-+ #0]*(\*|\d*)(?:\.(\*|\d*))?[hlL]?([a-zA-Z%]?)")


def spy_percent(fmt: str | bytes, args: object, budget: int | None = None) -> str | bytes:
    """``fmt % args`` where ``%s``/``%r`` of functions and the like carry no address.

    ``fmt`` is a str or bytes (``b"%r" % (f,)`` shows SPy's repr too). With a ``budget``,
    the result's size is bounded before formatting: the format's length, plus every width
    and precision (``%*d`` ones come from ``args``), plus the text of every argument (each
    formatted against the same budget).
    """
    t = type(args)
    if budget is not None:
        _check_percent(fmt, args, budget)
    if t is tuple:
        args = tuple([_shown(v, budget) for v in args])  # type: ignore[attr-defined]
    elif t not in SIMPLE_TYPES:  # "%(name)s" % mapping -- and "%s" % mapping shows it
        args = _shown(args, budget)
    return fmt % args


def _check_percent(fmt: str | bytes, args: object, budget: int) -> None:
    size = len(fmt)
    stars = []
    reprs = False
    specs = _PCT_SPEC.findall(fmt) if type(fmt) is str else _PCT_SPEC_BYTES.findall(fmt)  # type: ignore[arg-type]
    for width, precision, conv in specs:
        for part in (width, precision):
            if part in ("*", b"*"):
                stars.append(part)
            elif part:
                size += int(part) if len(part) < 12 else budget + 1
        if conv in ("r", "a", b"r", b"a"):
            reprs = True
    if stars and isinstance(args, tuple):
        size += sum(min(abs(a), budget + 1) for a in args if type(a) is int)
    values: Any = (
        args.values() if isinstance(args, dict) else args if isinstance(args, tuple) else (args,)
    )
    for v in values:
        tv = type(v)
        if tv is str or tv is bytes:
            size += repr_size(v) if reprs or (tv is bytes and type(fmt) is str) else len(v)
            if size > budget:
                break
    if size > budget:
        raise ValueTooLarge("a %-formatted str", budget)


def spy_mod(left: Any, right: Any) -> Any:
    """``left % right``: the out-of-line form of the compiler's inlined ``%``."""
    if type(left) is str:
        return spy_percent(left, right)
    return left % right


def _repr(value: object, active: set[int], b: _Budget | None) -> str:
    # ``active`` holds the ids of the containers being printed, so a list that contains
    # itself prints as ``[...]`` exactly as CPython's Py_ReprEnter does.
    t = type(value)
    if t in SIMPLE_TYPES:
        return _repr_simple(value, b)
    if value is Ellipsis:
        return b.spend("Ellipsis") if b is not None else "Ellipsis"
    if t is list or t is tuple or t is dict:
        return _repr_container(value, active, b)  # type: ignore[arg-type]
    if t is SpySet or t is SpyFrozenSet:
        return _repr_set(value, active, b)  # type: ignore[arg-type]
    if t in _DICT_VIEW_TYPES:
        return f"{t.__name__}({_repr(list(value), active, b)})"  # type: ignore[call-overload]
    if isinstance(value, BaseException):
        return _exc_repr(value, active, b)
    return _repr_other(value)


def _repr_simple(value: Any, b: _Budget | None) -> str:
    if (
        b is not None
        and type(value) in (str, bytes)
        and (len(value) > b.left or repr_size(value) > b.left)
    ):
        raise ValueTooLarge("a str()/repr() result", b.limit)
    text = repr(value)
    return b.spend(text) if b is not None else text


def _repr_container(
    value: list[Any] | tuple[Any, ...] | dict[Any, Any], active: set[int], b: _Budget | None
) -> str:
    t = type(value)
    key = id(value)
    if b is not None:
        hit = b.memo.get(key)
        if hit is not None and hit[0] is value:
            return b.spend(hit[1])
    if key in active:
        if b is not None:
            b.cycles += 1
        return "[...]" if t is list else "(...)" if t is tuple else "{...}"
    active.add(key)
    cycles = b.cycles if b is not None else 0
    try:
        text = _repr_items(value, active, b)
    finally:
        active.discard(key)
    if b is not None and b.cycles == cycles and len(value) > 1:
        b.memo[key] = (value, text)
    return text


def _repr_items(
    value: list[Any] | tuple[Any, ...] | dict[Any, Any], active: set[int], b: _Budget | None
) -> str:
    if type(value) is dict:
        pairs = [_repr(k, active, b) + ": " + _repr(v, active, b) for k, v in value.items()]
        return "{" + ", ".join(pairs) + "}"
    items = [_repr(v, active, b) for v in value]
    if type(value) is list:
        return "[" + ", ".join(items) + "]"
    return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"


def _repr_set(value: SpySet | SpyFrozenSet, active: set[int], b: _Budget | None) -> str:
    t = type(value)
    key = id(value)
    if key in active:
        return f"{t.__name__}(...)"
    active.add(key)
    try:
        if not value:
            return f"{t.__name__}()"
        inner = "{" + ", ".join([_repr(v, active, b) for v in value]) + "}"
        return inner if t is SpySet else f"frozenset({inner})"
    finally:
        active.discard(key)


def _repr_other(value: Any) -> str:
    """Functions, methods, types, ranges, namespaces: never with a memory address."""
    t = type(value)
    if (t is FunctionType or t is MethodType) and is_spy_builtin(value):
        if getattr(value, "_spy_type", None) is not None:
            return f"<class '{value.__name__}'>"
        return f"<built-in function {value.__name__}>"
    if t is FunctionType:
        return f"<function {value.__qualname__}>"
    if t is MethodType:
        return (
            f"<built-in method {value.__func__.__name__} of {spy_type_name(value.__self__)} object>"
        )
    if t is BuiltinFunctionType:
        owner = value.__self__
        if owner is None or isinstance(owner, ModuleType):
            return f"<built-in function {value.__name__}>"
        return f"<built-in method {value.__name__} of {spy_type_name(owner)} object>"
    if t is type:
        return f"<class '{value.__name__}'>"
    if t is range or t is SpyRange:
        return repr(value)
    name = getattr(t, "_spy_repr_name", None)
    if name is not None:  # namespaces: <module 'math'>, Books: <book 'kv'>
        return name(value)  # type: ignore[no-any-return]
    return f"<{t.__name__} object>"


use_repr(spy_repr)
