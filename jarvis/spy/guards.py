"""Memory and int-size guards: refuse an operation *before* it allocates something huge.

The compiler inlines a cheap type test for ``*``, ``+``, ``**``, ``<<`` and f-string
parts (numbers never explode: ``int + int`` grows by one bit, ``int * 3`` by two) and
calls these helpers only for the rest: sequences (``'a' * n``, ``s + s``), big ints,
non-constant shifts. Builtins and methods that can grow a value (``str.join``,
``s.ljust(n)``, ``list(range(n))``, ``lst.extend(...)``...) are wrapped here too.

Each guard estimates the size of the result from its operands and raises the run's
``LimitExceeded`` (sticky, uncatchable) when it would pass ``Limits.max_memory_bytes``
(or ``max_int_bits`` for ints). Estimates are upper bounds where that is cheap (a
``str`` counts 1 byte per character when ASCII, else 4).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any

from jarvis.errors import LimitExceeded
from jarvis.spy.containers import DictItems, DictKeys, SpyFrozenSet, SpyRange, SpySet
from jarvis.spy.values import (
    SIMPLE_TYPES,
    SMALL_TYPES,
    ValueTooLarge,
    spy_ascii,
    spy_percent,
    spy_repr,
    spy_str,
    spy_type_name,
)

if TYPE_CHECKING:
    from jarvis.spy.limits import Limits, Meter

NUMBER_TYPES: frozenset[type] = frozenset({int, float, bool})
_SEQ_TYPES: frozenset[type] = frozenset({str, bytes, list, tuple})
_SIZED_TYPES: frozenset[type] = frozenset(
    {list, tuple, str, bytes, dict, SpySet, SpyFrozenSet, DictKeys, DictItems, SpyRange,
     type({}.values())}
)  # fmt: skip
_POINTER = 8
#: Size estimate of one element a builtin materialises from an iterator (a pointer plus
#: a small object); ``[0] * n`` is cheaper, a list of big strings dearer.
_ELEMENT = 40
ELEMENT_BYTES = _ELEMENT
_BATCH = 4096
# Widths and precisions in a format spec: "{x:>10}", "{x:08.3f}", "{x:,}".
_SPEC_NUMBERS = re.compile(r"\d+")
#: Format specs whose numbers add up to at most this much are not checked at run time.
STATIC_SPEC_OK = 10_000
#: Upper bound of ``bits(exponent) * bits(modulus)`` for 3-argument ``pow``
#: (~0.3 s for a 4096-bit modulus and a 8192-bit exponent).
_POW_MOD_COST = 1 << 25


def itemsize(value: object) -> int:
    """Bytes per element of a str/bytes/list/tuple (upper bound for str)."""
    t = type(value)
    if t is str:
        return 1 if value.isascii() else 4  # type: ignore[attr-defined]
    if t is bytes:
        return 1
    return _POINTER


class Guards:
    """The per-run guards (they know the run's limits and raise through its meter)."""

    def __init__(self, limits: Limits, meter: Meter) -> None:
        self.cap = limits.max_memory_bytes
        self.int_bits = limits.max_int_bits
        self.meter = meter
        self.fstring_part = max(1, self.cap // 64)

    # -- failing --------------------------------------------------------------------

    def too_big(self, what: str, size: int | None = None) -> LimitExceeded:
        detail = f" (~{size:,} bytes)" if size is not None else ""
        return self.meter.limit(
            f"memory limit exceeded: {what}{detail} would be larger than "
            f"{self.cap:,} bytes (max_memory_bytes)"
        )

    def need(self, size: int, what: str) -> None:
        if size > self.cap:
            raise self.too_big(what, size)
        if size > 4096:  # memory probes for code without ticks; small ones wait for a tick
            self.meter.allocating(size)

    def int_too_big(self, bits: int) -> LimitExceeded:
        return self.meter.limit(
            f"int too large: the result would have ~{bits:,} bits, more than "
            f"{self.int_bits:,} (max_int_bits)"
        )

    def text(self, fn: Callable[..., str], *args: Any) -> str:
        """Run a budgeted str()/repr()/%-format, turning ValueTooLarge into the limit."""
        try:
            return fn(*args)
        except ValueTooLarge as exc:
            raise self.too_big(exc.what) from None

    # -- operators (slow paths of the compiler's inline tests) ---------------------------

    def mul(self, left: Any, right: Any) -> Any:
        tl, tr = type(left), type(right)
        if tl in _SEQ_TYPES and (tr is int or tr is bool):
            self.need(len(left) * right * itemsize(left), f"{tl.__name__} * int")
        elif tr in _SEQ_TYPES and (tl is int or tl is bool):
            self.need(len(right) * left * itemsize(right), f"int * {tr.__name__}")
        elif tl is int and tr is int:
            bits = left.bit_length() + right.bit_length()
            if bits > self.int_bits:
                raise self.int_too_big(bits)
        return left * right

    def imul(self, left: Any, right: Any) -> Any:
        self.mul_check(left, right)
        left *= right
        return left

    def mul_check(self, left: Any, right: Any) -> None:
        tl, tr = type(left), type(right)
        if tl in _SEQ_TYPES and (tr is int or tr is bool):
            self.need(len(left) * right * itemsize(left), f"{tl.__name__} * int")
        elif tl is int and tr is int:
            bits = left.bit_length() + right.bit_length()
            if bits > self.int_bits:
                raise self.int_too_big(bits)

    def add(self, left: Any, right: Any) -> Any:
        tl = type(left)
        if tl in _SEQ_TYPES and type(right) is tl:
            self.need(
                (len(left) + len(right)) * max(itemsize(left), itemsize(right)),
                f"{tl.__name__} + {tl.__name__}",
            )
        return left + right

    def iadd(self, left: Any, right: Any) -> Any:
        tl = type(left)
        if tl is list:
            if type(right) in _SIZED_TYPES:
                self.need((len(left) + len(right)) * _POINTER, "list += ...")
            else:
                right = self.materialize(right, len(left))
        elif tl in _SEQ_TYPES and type(right) is tl:
            self.need(
                (len(left) + len(right)) * max(itemsize(left), itemsize(right)),
                f"{tl.__name__} += {tl.__name__}",
            )
        left += right
        return left

    def pow(self, base: Any, exp: Any, mod: Any = None) -> Any:
        if type(base) is int or type(base) is bool:
            if mod is None:
                if (type(exp) is int or type(exp) is bool) and exp > 0 and abs(base) > 1:
                    bits = int(exp * math.log2(abs(base))) + 1 if exp < 1 << 62 else exp
                    if bits > self.int_bits:
                        raise self.int_too_big(bits)
            elif type(exp) is int and type(mod) is int:
                if max(exp.bit_length(), 1) * max(mod.bit_length(), 1) > _POW_MOD_COST:
                    raise self.meter.limit(
                        "pow(base, exp, mod) too expensive: exp and mod have "
                        f"{exp.bit_length():,} and {mod.bit_length():,} bits (max_int_bits)"
                    )
                return pow(base, exp, mod)
        if mod is None:
            return base**exp
        return pow(base, exp, mod)

    def lshift(self, left: Any, right: Any) -> Any:
        if (
            (type(left) is int or type(left) is bool)
            and (type(right) is int)
            and left
            and right > 0
        ):
            bits = left.bit_length() + right
            if bits > self.int_bits:
                raise self.int_too_big(bits)
        return left << right

    def mod(self, left: Any, right: Any) -> Any:
        """``left % right`` (``str % args`` formats deterministically and within budget)."""
        if type(left) is str:
            return self.text(spy_percent, left, right, self.cap)
        return left % right

    def percent(self, fmt: str, args: object) -> str:
        return self.text(spy_percent, fmt, args, self.cap)

    # -- text -------------------------------------------------------------------------

    def str_(self, value: object) -> str:
        if type(value) is str:
            return value
        return self.text(spy_str, value, self.cap)

    def repr_(self, value: object) -> str:
        return self.text(spy_repr, value, self.cap)

    def ascii_(self, value: object) -> str:
        return self.text(spy_ascii, value, self.cap)

    def fpart(self, value: object, parts: int) -> object:
        """One formatted value of an f-string with ``parts`` of them (each gets a share)."""
        budget = max(1, self.cap // max(parts, 64))
        t = type(value)
        if t in SMALL_TYPES:
            return value
        if isinstance(value, str):
            if len(value) > budget:
                raise self.too_big("an f-string", len(value) * parts)
            return value
        return self.text(spy_str, value, budget)

    def fconv(self, value: object, conversion: str, parts: int) -> str:
        budget = max(1, self.cap // max(parts, 64)) if parts > 1 else self.cap
        fn = spy_repr if conversion == "r" else spy_ascii if conversion == "a" else spy_str
        return self.text(fn, value, budget)

    def format_(self, value: object, spec: object = "") -> str:
        """``format(value, spec)``: the spec's widths are checked, the value deterministic."""
        if type(spec) is not str:
            raise TypeError(f"format() argument 2 must be str, not {spy_type_name(spec)}")
        if spec:
            numbers = _SPEC_NUMBERS.findall(spec)
            if numbers and sum(int(n) if len(n) < 12 else self.cap + 1 for n in numbers) > self.cap:
                raise self.too_big(f"format spec {spec[:40]!r}")
        if type(value) not in SIMPLE_TYPES:
            value = self.text(spy_str, value, self.cap)
        elif isinstance(value, str) and spec:
            self.need(len(value) * itemsize(value), "a formatted str")
        return format(value, spec)

    # -- materialising iterables ---------------------------------------------------------

    def materialize(self, iterable: Iterable[Any], already: int = 0) -> list[Any]:
        """``list(iterable)``, refusing (before or while building it) anything too big.

        Sized inputs are checked up front (a copy costs a pointer per element; a range's
        ints ~40 bytes each); iterators are consumed in batches, each charged to the
        step meter and checked against the memory limit.
        """
        t = type(iterable)
        if t in _SIZED_TYPES:
            n = len(iterable)  # type: ignore[arg-type]
            per = _ELEMENT if t is SpyRange else _POINTER
            if t is str and not iterable.isascii():  # type: ignore[attr-defined]
                per = _ELEMENT + 40  # non-Latin-1 characters are separate objects
            self.need((already + n) * per, f"a list of {n:,} elements")
            return list(iterable)
        it: Iterator[Any] = iter(iterable)
        out: list[Any] = []
        limit = max(1, self.cap // _ELEMENT) - already
        charge = self.meter.charge
        while True:
            batch = list(islice(it, _BATCH))
            out += batch
            if len(out) > limit:
                raise self.too_big(
                    "a collection built from an iterator", (len(out) + already) * _ELEMENT
                )
            if len(batch) < _BATCH:
                return out
            charge(len(batch))

    def star(self, iterable: Any, already: int = 0) -> Any:
        """The operand of ``*x`` (calls, literals, targets) or of a method that copies an
        iterable (``lst.extend(x)``): size-checked, materialised unless it is sized."""
        t = type(iterable)
        if t in _SIZED_TYPES:
            n = len(iterable)
            per = _ELEMENT if t is SpyRange else _POINTER
            self.need((already + n) * per, f"a collection of {already + n:,} elements")
            return iterable
        try:
            it = iter(iterable)
        except TypeError:
            return iterable  # not iterable: CPython raises its own message where it is used
        return self.materialize(it, already)
