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
from types import GeneratorType
from typing import Any, TypeVar

from jarvis.errors import RunLimitExceeded
from jarvis.spy.limits import Limits
from jarvis.spy.runtime.meter import Meter
from jarvis.spy.values.containers import DictItems, DictKeys, SpyFrozenSet, SpyRange, SpySet
from jarvis.spy.values.names import spy_type_name
from jarvis.spy.values.text import (
    SIMPLE_TYPES,
    SMALL_TYPES,
    ValueTooLarge,
    spy_ascii,
    spy_percent,
    spy_repr,
    spy_str,
)

_T = TypeVar("_T")

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
#: Quadratic int operations (``//``, ``%``, ``divmod``, ``round``, ``math.gcd``...) are
#: charged one step per this many "bit products" (bits of one operand times bits of the
#: other): CPython divides at ~200 Gbit²/s and a step is ~50 ns of SPy time, so a charged
#: operation costs about what the same time spent in a loop would. Dividing two ints of
#: ``max_int_bits`` (1M and 500k bits: ~1 s in one C call) charges ~60M steps.
DIV_BITS2_PER_STEP = 8192
#: Multiplication is Karatsuba (1M x 1M bits in ~0.2 s): a cheaper rate.
_MUL_BITS2_PER_STEP = 1 << 17
#: Operations below this many bit products (~20 µs) are not charged at all.
_FREE_BITS2 = 1 << 22
#: Bytes of equal prefixes compared per charged step (``x in lst``, sorting, ``max``
#: of long strings: every comparison may run a memcmp over the whole string).
CMP_BYTES_PER_STEP = 256
#: Sequences shorter than this are searched, sorted and compared without any estimate.
_SMALL_SEQ = 4096
#: ``a // b`` and ``a % b`` run inline when ``-BIG_INT < a < BIG_INT``: dividing an int of
#: at most 2048 bits is at most ~4M bit products (~20 µs), below ``_FREE_BITS2`` anyway.
BIG_INT = 1 << 2048
#: ``x in seq`` with ``len(seq)`` below this runs inline (see the compiler).
IN_INLINE_LEN = 256
#: The lazy iterators that wrap another iterator and pull from it in C: nesting them is a
#: C-level recursion CPython does not check (``map(f, map(f, ...))`` a million deep is a
#: SIGSEGV on the first ``next``); SPy refuses a nesting deeper than half ``max_recursion``.
WRAPPER_TYPES: frozenset[type] = frozenset({map, filter, zip, enumerate, GeneratorType})


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
        # Lazy iterators nested in one another and SPy calls share CPython's stack.
        self.max_recursion = limits.max_recursion
        self.max_nesting = max(1, limits.max_recursion // 2)

    # -- failing --------------------------------------------------------------------

    def too_big(self, what: str, size: int | None = None) -> RunLimitExceeded:
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

    def int_too_big(self, bits: int) -> RunLimitExceeded:
        return self.meter.limit(
            f"int too large: the result would have ~{bits:,} bits, more than "
            f"{self.int_bits:,} (max_int_bits)"
        )

    def text(self, fn: Callable[..., _T], *args: Any) -> _T:
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
            self._int_product(left, right)
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
            self._int_product(left, right)

    def _int_product(self, left: int, right: int) -> None:
        """An int product's size bound, and its quadratic cost charged in steps."""
        bl, br = left.bit_length(), right.bit_length()
        if bl + br > self.int_bits:
            raise self.int_too_big(bl + br)
        if bl * br > _FREE_BITS2:
            self.meter.charge(bl * br // _MUL_BITS2_PER_STEP)

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
        """``left % right``: ``str``/``bytes % args`` formats deterministically and within
        budget; big ints are charged for the division."""
        tl = type(left)
        if tl is str or tl is bytes:
            return self.text(spy_percent, left, right, self.cap)
        if tl is int and type(right) is int:
            self.div_cost(left, right)
        return left % right

    def floordiv(self, left: Any, right: Any) -> Any:
        """``left // right`` when the compiler's inline test sees a big int."""
        if type(left) is int and type(right) is int:
            self.div_cost(left, right)
        return left // right

    def divmod_(self, left: Any, right: Any) -> Any:
        if type(left) is int and type(right) is int:
            self.div_cost(left, right)
        return divmod(left, right)

    def div_cost(self, left: int, right: int) -> None:
        """Charge a long division: ~(bits(left) - bits(right)) * bits(right) bit products."""
        bl, br = left.bit_length(), right.bit_length()
        if bl >= br:
            work = (bl - br + 1) * br
            if work > _FREE_BITS2:
                self.meter.charge(work // DIV_BITS2_PER_STEP)

    def quadratic_cost(self, work: int) -> None:
        """Charge ``work`` bit products of a quadratic int operation (gcd, isqrt...)."""
        if work > _FREE_BITS2:
            self.meter.charge(work // DIV_BITS2_PER_STEP)

    def percent(self, fmt: str | bytes, args: object) -> str | bytes:
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
        t = type(value)
        if t not in SIMPLE_TYPES or (t is bytes and not spec):
            value = self.text(spy_str, value, self.cap)  # format(b"x") is str(b"x")
        elif t is str and spec:
            self.need(len(value) * itemsize(value), "a formatted str")  # type: ignore[arg-type]
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

    # -- lazy iterators nested in C ----------------------------------------------------

    def nested(self, made: object, *sources: object) -> Any:
        """``made`` (a new map/filter/zip/enumerate over ``sources``), once its nesting
        depth is known to stay within ``max_recursion``; else the limit."""
        for source in sources:
            if type(source) in WRAPPER_TYPES:
                self.iter_depth(sources)
                break
        return made

    def nest(self, source: Any) -> Any:
        """The first iterable of a generator expression (same check as ``nested``)."""
        if type(source) in WRAPPER_TYPES:
            self.iter_depth((source,))
        return source

    def iter_depth(self, sources: Iterable[object]) -> int:
        """1 + the deepest chain of lazy iterators below ``sources`` (refused past the bound).

        Walks the chain (``__reduce__`` of the C iterators, the ``.0`` source of a
        generator expression): the depth is not stored anywhere, so every new wrapper of a
        deep chain walks it again; the walk is charged one step per iterator visited.
        """
        bound = self.max_nesting
        best = 0
        depth_seen: dict[int, int] = {}
        todo = [(s, 1) for s in sources if type(s) in WRAPPER_TYPES]
        visited = 0
        while todo:
            obj, depth = todo.pop()
            if depth >= bound:
                raise self.meter.limit(
                    f"iterator nesting limit exceeded: more than {bound} lazy iterators "
                    "(map, filter, zip, enumerate, generator expressions) wrapped in one "
                    f"another, half of the {self.max_recursion} nested calls allowed "
                    "(max_recursion)"
                )
            key = id(obj)
            if depth_seen.get(key, 0) >= depth:
                continue
            depth_seen[key] = depth
            visited += 1
            if depth > best:
                best = depth
            for inner in _iter_sources(obj):
                if type(inner) in WRAPPER_TYPES:
                    todo.append((inner, depth + 1))
        if visited > 16:
            self.meter.charge(visited)
        return best + 1

    # -- comparisons of long sequences -----------------------------------------------------

    def contains(self, needle: object, haystack: Any) -> bool:
        """``needle in haystack`` for a long list/tuple: charged when every element may
        cost a comparison of a long str/bytes (``s in [t] * 10**6`` with equal prefixes)."""
        n = len(haystack)
        self.compare_cost(needle, n)
        return needle in haystack

    def compare_cost(self, needle: object, comparisons: int) -> None:
        """Charge ``comparisons`` equality tests of ``needle`` against other values."""
        t = type(needle)
        if t is str or t is bytes:
            size = len(needle)  # type: ignore[arg-type]
        elif t is tuple or t is list:
            size = len(needle)  # type: ignore[arg-type]
            for item in needle[:_SMALL_SEQ]:  # type: ignore[index]
                ti = type(item)
                if ti is str or ti is bytes:
                    size += len(item)
        else:
            return
        work = comparisons * size
        if work > _SMALL_SEQ * CMP_BYTES_PER_STEP:
            self.meter.charge(work // CMP_BYTES_PER_STEP)

    def sort_cost(self, items: list[Any]) -> None:
        """Charge sorting ``items``: ~n log2 n comparisons, each a memcmp when they are
        long strings (timsort compares strings without an identity shortcut: ``[s] * n``
        costs n comparisons of ``len(s)`` bytes). ``max``/``min`` need no charge: they
        compare equal objects in O(1) and distinct ones are bounded by memory."""
        n = len(items)
        if n <= _SMALL_SEQ:
            return
        self.meter.charge(n * n.bit_length() * self.per_comparison(items) // 4)

    def per_comparison(self, items: Any) -> int:
        types = set(map(type, items))
        if types == {str} or types == {bytes}:
            return 1 + max(map(len, items)) // CMP_BYTES_PER_STEP
        return 1

    # -- slice assignment -----------------------------------------------------------------

    def sliced(self, target: Any) -> Any:
        """The object of ``target[i:j] = value``: a list gets a stand-in that checks the
        size of ``value`` (a range, a str, an iterator...) before the list copies it."""
        if type(target) is list:
            return _SliceTarget(self, target)
        return target

    def slice_value(self, target: list[Any], value: Any) -> Any:
        t = type(value)
        if t not in _SIZED_TYPES and not hasattr(value, "__iter__"):
            return value  # not iterable: CPython's own "can only assign an iterable"
        if t is list or t is tuple:
            self.need((len(target) + len(value)) * _POINTER, "a list slice assignment")
            return value
        if t is str and not value.isascii():
            per = _ELEMENT + 40  # each character becomes an object of its own
            self.need((len(target) + len(value)) * per, "a list slice assignment")
        return self.materialize(value, len(target))


class _SliceTarget:
    """Stands in for a list in ``lst[i:j] = value`` (never visible to the program)."""

    __slots__ = ("_guards", "_target")

    def __init__(self, guards: Guards, target: list[Any]) -> None:
        self._guards = guards
        self._target = target

    def __setitem__(self, key: Any, value: Any) -> None:
        if type(key) is slice:
            value = self._guards.slice_value(self._target, value)
        self._target[key] = value


def _iter_sources(obj: Any) -> tuple[object, ...]:
    """The iterators a lazy iterator pulls from (from ``__reduce__``; ``.0`` of a genexp)."""
    t = type(obj)
    if t is GeneratorType:
        frame = obj.gi_frame
        if frame is None or obj.gi_code.co_name != "<genexpr>":
            return ()
        source = frame.f_locals.get(".0")
        return () if source is None else (source,)
    try:
        reduced = obj.__reduce__()
    except Exception:  # an exhausted or unpicklable iterator: nothing below it
        return ()
    args = reduced[1]
    if t is map or t is filter:
        return tuple(args[1:])
    if t is enumerate:
        return (args[0],)
    return tuple(args)  # zip
