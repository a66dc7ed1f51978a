"""The ``json`` and ``math`` namespaces: SPy objects whose attribute reads go through the gate.

A namespace is an instance of its own class (so the gate can whitelist its exact type)
holding SPy builtins in its ``__dict__``; a program reads ``math.sqrt`` exactly as it
reads ``"a".upper`` and can reach nothing else (``math.__dict__`` is rejected before
running). Functions that could create huge ints or strings (``math.factorial``,
``math.prod``, ``json.dumps(..., indent=10**9)``) check the run's limits first.
"""

from __future__ import annotations

import json
import math
from typing import Any

from jarvis.spy.runtime.guards import Guards
from jarvis.spy.values.arguments import MISSING, clinic, exactly_one, no_keywords, positional
from jarvis.spy.values.names import mark_builtin, spy_type_name

# math functions that only ever return floats/bools or small ints: handed out as they are.
_MATH_SAFE = (
    "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "cbrt", "ceil", "copysign",
    "cos", "cosh", "degrees", "dist", "erf", "erfc", "exp", "exp2", "expm1", "fabs",
    "floor", "fmod", "frexp", "fsum", "gamma", "hypot", "isclose", "isfinite",
    "isinf", "isnan", "ldexp", "lgamma", "log", "log10", "log1p", "log2", "modf",
    "nextafter", "pow", "radians", "remainder", "sin", "sinh", "sqrt", "tan", "tanh",
    "trunc", "ulp",
)  # fmt: skip
_MATH_CONSTANTS = ("e", "inf", "nan", "pi", "tau")
_MATH_GUARDED = ("comb", "factorial", "gcd", "isqrt", "lcm", "perm", "prod")
MATH_NAMES: frozenset[str] = frozenset(
    {*(n for n in _MATH_SAFE if hasattr(math, n)), *_MATH_CONSTANTS, *_MATH_GUARDED}
)
JSON_NAMES: frozenset[str] = frozenset({"dumps", "loads"})


class MathNamespace:
    """The type of SPy's ``math``."""

    @staticmethod
    def _spy_repr_name(value: object) -> str:
        return "<module 'math'>"


class JsonNamespace:
    """The type of SPy's ``json``."""

    @staticmethod
    def _spy_repr_name(value: object) -> str:
        return "<module 'json'>"


for _cls, _name in ((MathNamespace, "module"), (JsonNamespace, "module")):
    _cls.__name__ = _cls.__qualname__ = _name


def _log2_factorial(n: float) -> float:
    return math.lgamma(n + 1) / math.log(2) if n > 0 else 0.0


def make_math(guards: Guards) -> MathNamespace:
    ns = MathNamespace()
    for name in _MATH_SAFE:
        if hasattr(math, name):
            setattr(ns, name, getattr(math, name))
    for name in _MATH_CONSTANTS:
        setattr(ns, name, getattr(math, name))
    guarded = _GuardedMath(guards)
    for name in _MATH_GUARDED:
        setattr(ns, name, mark_builtin(getattr(guarded, name), name))
    return ns


def _int(value: object) -> int:
    if isinstance(value, int):  # int or bool: SPy has no other int subclasses
        return int(value)
    raise TypeError(f"'{spy_type_name(value)}' object cannot be interpreted as an integer")


class _GuardedMath:
    """The math functions that can make huge ints or take long: checked, charged first.

    Arguments are checked as CPython's math functions check them (same messages).
    """

    def __init__(self, guards: Guards) -> None:
        self.guards = guards

    def check_bits(self, bits: float) -> None:
        if bits > self.guards.int_bits:
            raise self.guards.int_too_big(int(bits))

    def pairwise_cost(self, ints: list[int]) -> None:
        # gcd (and so lcm) is quadratic: two 1M-bit ints take ~3 s in one C call.
        bits = [i.bit_length() for i in ints]
        widest = max(bits, default=0)
        self.guards.quadratic_cost(widest * (sum(bits) - widest))

    def factorial(self, *args: object, **kwargs: object) -> int:
        k = _int(exactly_one("math.factorial", args, kwargs))
        if k > 1:
            self.check_bits(_log2_factorial(k))
        return math.factorial(k)

    def comb(self, *args: object, **kwargs: object) -> int:
        no_keywords("math.comb", kwargs)
        positional("comb", args, 2, 2)
        a, b = _int(args[0]), _int(args[1])
        if 0 <= b <= a:
            self.check_bits(_log2_factorial(a) - _log2_factorial(b) - _log2_factorial(a - b))
        return math.comb(a, b)

    def perm(self, *args: object, **kwargs: object) -> int:
        no_keywords("math.perm", kwargs)
        positional("perm", args, 1, 2)
        a = _int(args[0])
        b = a if len(args) == 1 or args[1] is None else _int(args[1])
        if 0 <= b <= a:
            self.check_bits(_log2_factorial(a) - _log2_factorial(a - b))
        return math.perm(a, b)

    def lcm(self, *integers: object) -> int:
        ints = [_int(i) for i in integers]
        self.check_bits(sum(i.bit_length() for i in ints))
        self.pairwise_cost(ints)
        return math.lcm(*ints)

    def gcd(self, *integers: object) -> int:
        ints = [_int(i) for i in integers]
        self.pairwise_cost(ints)
        return math.gcd(*ints)

    def isqrt(self, *args: object, **kwargs: object) -> int:
        k = _int(exactly_one("math.isqrt", args, kwargs))
        self.guards.quadratic_cost(k.bit_length() ** 2 // 2)  # Newton's divisions
        return math.isqrt(k)

    def prod(self, *args: Any, **kwargs: Any) -> Any:
        iterable, start = clinic(
            "prod", args, kwargs, ("iterable", "start"), required=1, posonly=1, kwonly=1
        )
        acc = 1 if start is MISSING else start
        mul = self.guards.mul
        for value in iterable:
            acc = acc * value if type(acc) is float or type(value) is float else mul(acc, value)
        return acc


def make_json(guards: Guards) -> JsonNamespace:
    ns = JsonNamespace()

    def dumps(
        obj: object,
        *,
        indent: object = None,
        sort_keys: object = False,
        separators: object = None,
        ensure_ascii: object = True,
        allow_nan: object = True,
    ) -> str:
        if indent is not None and not isinstance(indent, int | str):
            raise TypeError(f"indent must be None, an int or a str, not {spy_type_name(indent)}")
        seps: tuple[str, str] | None = None
        if separators is not None:
            if (
                not isinstance(separators, tuple | list)
                or len(separators) != 2
                or not all(type(s) is str for s in separators)
            ):
                raise TypeError("separators must be a (item_separator, key_separator) pair of str")
            seps = (separators[0], separators[1])
        indent_width = (
            0 if indent is None else len(indent) if isinstance(indent, str) else max(int(indent), 0)
        )
        if indent_width > 1000:
            raise guards.too_big(f"json.dumps(indent={indent_width:,})")
        item_sep, key_sep = seps or ((", ", ": ") if indent is None else (",", ": "))
        size = _json_size(obj, indent_width, len(item_sep) + len(key_sep), bool(ensure_ascii))
        guards.need(size, "json.dumps()")
        return json.dumps(
            obj,
            indent=indent,
            sort_keys=bool(sort_keys),
            separators=seps,
            ensure_ascii=bool(ensure_ascii),
            allow_nan=bool(allow_nan),
        )

    def loads(s: object) -> Any:  # CPython: loads(s, *, ...): s may be a keyword
        if isinstance(s, bytes):
            s = s.decode("utf-8")
        if not isinstance(s, str):
            raise TypeError(f"the JSON object must be str or bytes, not {spy_type_name(s)}")
        # Every ',', ':', '[' and '{' can make one new object (~56 bytes at most).
        structure = s.count(",") + s.count(":") + s.count("[") + s.count("{")
        guards.need(len(s) * 2 + structure * 56, "json.loads()")
        return json.loads(s)

    ns.dumps = mark_builtin(dumps, "dumps")  # type: ignore[attr-defined]
    ns.loads = mark_builtin(loads, "loads")  # type: ignore[attr-defined]
    return ns


_JSON_SCALARS = (str, int, float, bool, type(None))


def _json_size(obj: object, indent: int, seps: int, ensure_ascii: bool) -> int:
    """Upper bound of ``len(json.dumps(obj, ...))``; raises like json.dumps on bad input.

    Shared sub-structures are measured once per depth (``[a, a]`` nested 60 times is
    measured in 60 steps, not 2**60); a structure met again inside itself is the
    ``ValueError`` json.dumps would raise.
    """
    return _JsonSize(indent, seps, ensure_ascii).size(obj, 0)


class _JsonSize:
    """One ``_json_size`` measurement: the memo of shared structures, the active ones."""

    def __init__(self, indent: int, seps: int, ensure_ascii: bool) -> None:
        self.indent = indent
        self.seps = seps
        self.ensure_ascii = ensure_ascii
        self.memo: dict[tuple[int, int], int] = {}
        self.active: set[int] = set()

    def size(self, value: object, depth: int) -> int:
        t = type(value)
        if t is str:
            s: str = value  # type: ignore[assignment]
            if s.isascii() and s.isprintable():
                return len(s) + 2 + s.count('"') + s.count("\\")
            return len(s) * (12 if self.ensure_ascii else 6) + 2
        if isinstance(value, int) and t is int:
            return value.bit_length() * 31 // 100 + 3
        if t is bool or t is float or value is None:
            return 24
        if t is list or t is tuple or t is dict:
            key = (id(value), depth)
            known = self.memo.get(key)
            if known is None:
                known = self.memo[key] = self.container(value, depth)  # type: ignore[arg-type]
            return known
        raise TypeError(f"Object of type {spy_type_name(value)} is not JSON serializable")

    def container(self, value: list[Any] | tuple[Any, ...] | dict[Any, Any], depth: int) -> int:
        if id(value) in self.active:
            raise ValueError("Circular reference detected")
        self.active.add(id(value))
        indent = self.indent
        total = 2 + len(value) * (self.seps + 1 + indent * (depth + 1)) + indent * depth
        if type(value) is dict:
            for k, v in value.items():
                if type(k) not in _JSON_SCALARS:
                    raise TypeError(
                        f"keys must be str, int, float, bool or None, not {spy_type_name(k)}"
                    )
                total += self.size(k if type(k) is str else str(k), depth + 1)
                total += self.size(v, depth + 1)
        else:
            for v in value:
                total += self.size(v, depth + 1)
        self.active.discard(id(value))
        return total
