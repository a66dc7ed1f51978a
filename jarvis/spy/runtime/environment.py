"""The environment of one run: the builtins and globals a program sees.

What is allowed is ``whitelist.py``'s tables (the threat model is written there); the
attribute gate is ``gate.py``, the host effects ``effects.py``. Builtins that are safe
CPython objects (``len``, ``abs``, ``int``...) are handed out as they are: with the gate
in place nothing can be reached *from* them, and they stay fast. Builtins that could
build something huge, take a big range, or reach the host are SPy functions made per
run (they know the run's limits and host): the ``Environment``'s methods below.
"""

from __future__ import annotations

import builtins as _py
import itertools
import math
from collections.abc import Callable, Collection, Mapping
from typing import Any

from jarvis.spy import _names
from jarvis.spy.limits import Limits
from jarvis.spy.program import Program
from jarvis.spy.runtime.books import BookNamespace, make_book_caller, validate_books
from jarvis.spy.runtime.effects import Effects
from jarvis.spy.runtime.exceptions import make_catch
from jarvis.spy.runtime.gate import Gate, codec, decoded_size, encoded_size
from jarvis.spy.runtime.guards import (
    BIG_INT,
    ELEMENT_BYTES,
    IN_INLINE_LEN,
    NUMBER_TYPES,
    Guards,
)
from jarvis.spy.runtime.meter import Meter
from jarvis.spy.runtime.namespaces import (
    make_json,
    make_math,
)
from jarvis.spy.values.arguments import (
    MISSING,
    STR_POSITIONAL_NONE,
    clinic,
    exactly_one,
    must_be_str,
    no_keywords,
    positional,
    too_many_positional,
)
from jarvis.spy.values.containers import (
    DictKeys,
    SpyFrozenSet,
    SpyRange,
    SpySet,
    _SetBase,
)
from jarvis.spy.values.names import mark_builtin, mark_type, spy_type_name
from jarvis.spy.values.text import SIMPLE_TYPES, SMALL_TYPES
from jarvis.spy.whitelist import (
    BUILTIN_NAMES,
    GLOBAL_NAMES,
    STATIC_BUILTINS,
    TYPES_BY_METHOD,
)

_bit_length = int.bit_length
_SUM_CHUNK = 4096
#: Bits of additions a chunk of ``sum`` may touch uncharged, and bits per charged step
#: (adding two ints is linear: ~30 bits per ns).
_SUM_FREE_BITS = _SUM_CHUNK * 256
_SUM_BITS_PER_STEP = 1024
_LOG2_10 = 3.3219280948873626
_IN_SEQ = frozenset({list, tuple})
#: f-string values formatted by CPython's format() directly: bytes are not (their str is
#: their repr, up to 4 characters per byte, and needs the size check).
_FSTRING_SIMPLE = SIMPLE_TYPES - {bytes}


class Environment:
    """Everything one run binds into the program's globals and builtins."""

    def __init__(
        self,
        program: Program,
        host_emit: Callable[[Any, object], None],
        host_effect: Callable[[str, tuple[object, ...]], object],
        meter: Meter,
        limits: Limits,
        books: Mapping[str, Collection[str]],
        copy_result: Callable[[object], object],
    ) -> None:
        self.program = program
        self.emit = host_emit
        self.host_effect = host_effect
        self.meter = meter
        self.limits = limits
        self.guards = Guards(limits, meter)
        self.gate = Gate(self.guards)
        self.copy_result = copy_result
        self.effects = Effects(host_emit, host_effect, meter, limits, self.guards, copy_result)
        self.book_specs = validate_books(books, BUILTIN_NAMES | GLOBAL_NAMES)

    # -- building the environment ----------------------------------------------------------

    def builtins(self) -> dict[str, object]:
        g = self.guards
        b: dict[str, object] = dict(STATIC_BUILTINS)
        b.update(
            {
                "ascii": mark_builtin(self.ascii_, "ascii"),
                "bytes": mark_type(self.bytes_, bytes),
                "dict": mark_type(self.dict_, dict),
                "divmod": mark_builtin(self.divmod_, "divmod"),
                "enumerate": mark_type(self.enumerate_, enumerate),
                "filter": mark_type(self.filter_, filter),
                "format": mark_builtin(self.format_, "format"),
                "frozenset": mark_type(self.frozenset_, SpyFrozenSet),
                "int": mark_type(self.int_, int),
                "isinstance": mark_builtin(self.isinstance_, "isinstance"),
                "iter": mark_builtin(self.iter_, "iter"),
                "json": make_json(g),
                "list": mark_type(self.list_, list),
                "map": mark_type(self.map_, map),
                "math": make_math(g),
                "pow": mark_builtin(self.pow_, "pow"),
                "range": mark_type(self.range_, SpyRange),
                "repr": mark_builtin(self.repr_, "repr"),
                "round": mark_builtin(self.round_, "round"),
                "set": mark_type(self.set_, SpySet),
                "sorted": mark_builtin(self.sorted_, "sorted"),
                "str": mark_type(self.str_, str),
                "sum": mark_builtin(self.sum_, "sum"),
                "tuple": mark_type(self.tuple_, tuple),
                "zip": mark_type(self.zip_, zip),
            }
        )
        b.update(self.effects.builtins())
        # Helpers only generated code can name (every ``__spy_*`` name is unspellable).
        b.update(
            {
                _names.ATTR: self.gate.gate_attr,
                _names.TYPE: type,
                _names.FLOAT: float,
                _names.INT: int,
                _names.LEN: len,
                _names.SENTINEL: _SENTINEL,
                _names.SIMPLE: SIMPLE_TYPES,
                _names.SMALL: SMALL_TYPES,
                _names.NUM: NUMBER_TYPES,
                _names.STR: g.str_,
                _names.REPR: g.repr_,
                _names.ASCII: g.ascii_,
                _names.FORMAT: g.format_,
                _names.FPART: g.fpart,
                _names.FCONV: g.fconv,
                _names.SLICE: slice,
                _names.STR_TYPE: str,
                _names.PERCENT: g.percent,
                _names.MOD: g.mod,
                _names.MUL: g.mul,
                _names.IMUL: g.imul,
                _names.ADD: g.add,
                _names.IADD: g.iadd,
                _names.POW: g.pow,
                _names.LSHIFT: g.lshift,
                _names.FLOORDIV: g.floordiv,
                _names.BIGINT: BIG_INT,
                _names.NEG_BIGINT: -BIG_INT,
                _names.IN: g.contains,
                _names.IN_SEQ: _IN_SEQ,
                _names.IN_LEN: IN_INLINE_LEN,
                _names.NEST: g.nest,
                _names.SLICED: g.sliced,
                _names.RAISE: raise_,
                _names.FSIMPLE: _FSTRING_SIMPLE,
                _names.STAR: g.star,
                _names.SET: SpySet,
                _names.CATCH: make_catch(self.program.code_objects),
                _names.BOOK: self.gate.book_attr,
                _names.FPART_MAX: g.fstring_part,
                **{_names.method_types_name(m): types for m, types in TYPES_BY_METHOD.items()},
            }
        )
        return b

    def globals(self) -> dict[str, object]:
        """Book namespaces (one global per allowed Book)."""
        caller = make_book_caller(
            self.effects.for_books, self.emit, self.copy_result, self.program, self.meter.check_now
        )
        return {name: BookNamespace(name, procs, caller) for name, procs in self.book_specs.items()}

    # -- constructors and other builtins ------------------------------------------------------

    def str_(self, /, *args: Any, **kwargs: Any) -> str:
        if not kwargs:
            if len(args) == 1:
                return self.guards.str_(args[0])
            if not args:
                return ""
        if not kwargs and len(args) > 3:
            raise TypeError(too_many_positional("str", len(args)))
        value, encoding, errors = clinic("str", args, kwargs, ("object", "encoding", "errors"))
        none = "None" if kwargs else STR_POSITIONAL_NONE
        if encoding is not MISSING:
            must_be_str("str", "encoding", encoding, none)
        if errors is not MISSING:
            must_be_str("str", "errors", errors, none)
        if value is MISSING:
            return ""
        if encoding is MISSING and errors is MISSING:
            return self.guards.str_(value)
        if type(value) is not bytes:
            raise TypeError(
                f"decoding to str: need a bytes-like object, {spy_type_name(value)} found"
            )
        encoding, errors = codec(
            "utf-8" if encoding is MISSING else encoding, "strict" if errors is MISSING else errors
        )
        self.guards.need(decoded_size(value, errors), "str(bytes)")
        return value.decode(encoding, errors)

    def bytes_(self, /, *args: Any, **kwargs: Any) -> bytes:
        g = self.guards
        source, encoding, errors = clinic("bytes", args, kwargs, ("source", "encoding", "errors"))
        if encoding is not MISSING:
            must_be_str("bytes", "encoding", encoding)
        if errors is not MISSING:
            must_be_str("bytes", "errors", errors)
        if source is MISSING:
            if encoding is not MISSING or errors is not MISSING:
                raise TypeError(
                    "encoding without a string argument"
                    if encoding is not MISSING
                    else "errors without a string argument"
                )
            return b""
        t = type(source)
        if t is str:
            if encoding is MISSING:
                raise TypeError("string argument without an encoding")
            enc, err = codec(encoding, "strict" if errors is MISSING else errors)
            g.need(encoded_size(source, enc, err), "bytes(str)")
            return source.encode(enc, err)  # type: ignore[no-any-return]
        if encoding is not MISSING:
            raise TypeError("encoding without a string argument")
        if errors is not MISSING:
            raise TypeError("errors without a string argument")
        if t is int or t is bool:
            g.need(int(source), f"bytes({source})")
            return bytes(source)
        if t is bytes:
            return source  # type: ignore[no-any-return]
        if t in SIMPLE_TYPES or (t is dict and not source):
            return bytes(source)  # the TypeError CPython gives
        return bytes(g.star(source))

    def list_(self, /, *args: Any, **kwargs: Any) -> list[Any]:
        no_keywords("list", kwargs)
        positional("list", args, 0, 1)
        return self.guards.materialize(args[0]) if args else []

    def tuple_(self, /, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        no_keywords("tuple", kwargs)
        positional("tuple", args, 0, 1)
        if not args:
            return ()
        iterable = args[0]
        if type(iterable) is tuple:
            return iterable
        return tuple(self.guards.materialize(iterable))

    def set_(self, /, *args: Any, **kwargs: Any) -> SpySet:
        no_keywords("set", kwargs)
        positional("set", args, 0, 1)
        if not args:
            return SpySet()
        return SpySet(self.guards.star(args[0]))

    def frozenset_(self, /, *args: Any, **kwargs: Any) -> SpyFrozenSet:
        no_keywords("frozenset", kwargs)
        positional("frozenset", args, 0, 1)
        if not args:
            return SpyFrozenSet()
        iterable = args[0]
        if type(iterable) is SpyFrozenSet:
            return iterable
        return SpyFrozenSet(self.guards.star(iterable))

    def dict_(self, /, *args: Any, **kwargs: Any) -> dict[Any, Any]:
        positional("dict", args, 0, 1)
        if not args:
            return dict(**kwargs)
        source = args[0]
        if type(source) is not dict:
            if isinstance(source, _SetBase):
                source = list(source)  # CPython treats a set as a sequence of pairs
            source = self.guards.star(source)
        return dict(source, **kwargs)

    def range_(self, /, *args: Any, **kwargs: Any) -> SpyRange:
        return SpyRange(range(*args, **kwargs), self.meter.charge)

    def sorted_(self, /, *args: Any, **kwargs: Any) -> list[Any]:
        positional("sorted", args, 1, 1)
        items = self.guards.materialize(args[0])
        clinic("sort", (), kwargs, ("key", "reverse"))
        self.guards.sort_cost(items)  # n log n comparisons no tick sees
        items.sort(**kwargs)
        return items

    def sum_(self, /, *args: Any, **kwargs: Any) -> Any:
        iterable, start = clinic("sum", args, kwargs, ("iterable", "start"), required=1, posonly=1)
        if start is MISSING:
            start = 0
        g = self.guards
        ts = type(start)
        if ts in NUMBER_TYPES:
            return self.sum_numbers(iterable, start)
        items = g.star(iterable)
        if ts is list or ts is tuple:
            # CPython adds one by one (quadratic); the result is the concatenation.
            size = len(start)
            for x in items:
                if type(x) is not ts:
                    return sum(items, start)  # CPython's TypeError, at the same element
                size += len(x)
            # Estimated like any collection built element by element (a pointer and an
            # object each): sum() is how a program flattens, not how it copies.
            g.need(size * ELEMENT_BYTES, f"sum() of {ts.__name__}s")
            out = list(start)
            for x in items:
                out.extend(x)
            return out if ts is list else tuple(out)
        return sum(items, start)

    def sum_numbers(self, iterable: Any, start: Any) -> Any:
        """``sum`` of numbers: big ints are charged for the bits their additions touch, and
        the total is kept within ``max_int_bits``.

        A list or tuple is measured in one C pass (``int.bit_length`` over it) before one
        C ``sum``; an iterator is summed in chunks, each measured before it is added.
        """
        t = type(iterable)
        if t is SpyRange or t is DictKeys:
            return sum(iterable, start)  # small ints (a range's are bounded by its ends)
        if t is list or t is tuple:
            self.charge_sum(iterable, start)
            return self.checked_sum(iterable, start)
        it = iter(iterable)
        total = start
        while True:
            chunk = list(itertools.islice(it, _SUM_CHUNK))
            if not chunk:
                return total
            self.charge_sum(chunk, total)
            total = self.checked_sum(chunk, total)
            if len(chunk) < _SUM_CHUNK:
                return total

    def charge_sum(self, items: Any, total: Any) -> None:
        try:
            bits = sum(map(_bit_length, items))  # C speed; a float (or else) stops it
        except TypeError:
            types = set(map(type, items))  # C speed too: floats alone cost nothing more
            if int not in types and bool not in types:
                bits = 0
            else:
                bits = sum(_bit_length(x) for x in items if type(x) is int or type(x) is bool)
        if type(total) is int:
            bits += len(items) * total.bit_length()
        if bits > _SUM_FREE_BITS:
            self.meter.charge(bits // _SUM_BITS_PER_STEP)

    def checked_sum(self, items: Any, total: Any) -> Any:
        total = sum(items, total)
        if type(total) is int and total.bit_length() > self.guards.int_bits:
            raise self.guards.int_too_big(total.bit_length())
        return total

    def iter_(self, /, *args: Any, **kwargs: Any) -> Any:
        no_keywords("iter", kwargs)
        positional("iter", args, 1, 2)
        obj = args[0]
        if len(args) == 1:
            return iter(obj)
        if not callable(obj):
            raise TypeError("iter(v, w): v must be callable")
        tick = self.meter.tick

        def call() -> Any:  # one step per call: iter(int, 1) must not loop forever in C
            tick()
            return obj()

        return iter(call, args[1])

    def map_(self, /, *args: Any, **kwargs: Any) -> Any:
        return self.guards.nested(map(*args, **kwargs), *args[1:])

    def filter_(self, /, *args: Any, **kwargs: Any) -> Any:
        return self.guards.nested(filter(*args, **kwargs), *args[1:])

    def zip_(self, /, *args: Any, **kwargs: Any) -> Any:
        return self.guards.nested(zip(*args, **kwargs), *args)  # noqa: B905 (CPython's zip)

    def enumerate_(self, /, *args: Any, **kwargs: Any) -> Any:
        made = enumerate(*args, **kwargs)
        return self.guards.nested(made, *args[:1], *kwargs.values())

    def repr_(self, /, *args: Any, **kwargs: Any) -> str:
        return self.guards.repr_(exactly_one("repr", args, kwargs))

    def ascii_(self, /, *args: Any, **kwargs: Any) -> str:
        return self.guards.ascii_(exactly_one("ascii", args, kwargs))

    def format_(self, /, *args: Any, **kwargs: Any) -> str:
        no_keywords("format", kwargs)
        positional("format", args, 1, 2)
        return self.guards.format_(*args)

    def isinstance_(self, /, *args: Any, **kwargs: Any) -> bool:
        no_keywords("isinstance", kwargs)
        positional("isinstance", args, 2, 2)
        return isinstance_(args[0], args[1])

    def pow_(self, /, *args: Any, **kwargs: Any) -> Any:
        base, exp, mod = clinic("pow", args, kwargs, ("base", "exp", "mod"), required=2)
        return self.guards.pow(base, exp, None if mod is MISSING else mod)

    def divmod_(self, /, *args: Any, **kwargs: Any) -> Any:
        no_keywords("divmod", kwargs)
        positional("divmod", args, 2, 2)
        return self.guards.divmod_(args[0], args[1])

    def int_(self, /, *args: Any, **kwargs: Any) -> int:
        if len(args) == 1 and not kwargs:
            return int(args[0])  # base 10 (CPython's 4300-digit limit), or a number
        if not kwargs and len(args) > 2:
            raise TypeError(too_many_positional("int", len(args)))
        x, base = clinic("int", args, kwargs, ("x", "base"), posonly=1)
        if x is MISSING:
            if base is not MISSING:
                raise TypeError("int() missing string argument")
            return 0
        if base is MISSING:
            return int(x)
        if (type(x) is str or type(x) is bytes) and (type(base) is int or type(base) is bool):
            bits = _parsed_int_bits(x, int(base))
            if bits > self.guards.int_bits:
                raise self.guards.int_too_big(bits)
        return int(x, base)

    def round_(self, /, *args: Any, **kwargs: Any) -> Any:
        number, ndigits = clinic("round", args, kwargs, ("number", "ndigits"), required=1)
        if ndigits is MISSING:
            return round(number)
        if (type(number) is int or type(number) is bool) and type(ndigits) is int and ndigits < 0:
            # CPython divides by 10 ** -ndigits: round(7, -10**8) would build a 330M-bit
            # power of ten first. When it exceeds twice |number| the answer is 0.
            if -ndigits * _LOG2_10 > number.bit_length() + 2:
                return 0
            g = self.guards
            g.quadratic_cost(number.bit_length() * int(-ndigits * _LOG2_10))
        return round(number, ndigits)


#: Set methods (and ``isdisjoint`` of dict views) that take exactly one iterable.
def _parsed_int_bits(text: str | bytes, base: int) -> int:
    """Upper bound of the bits of ``int(text, base)`` (CPython's own checks come after).

    Bases that are powers of two are exempt from CPython's 4300-digit limit, so
    ``int("1" * 10**8, 2)`` would build a 100M-bit int in one C call.
    """
    if isinstance(text, str):
        s = text.strip().lstrip("+-").lstrip("0_")
        count = len(s) - s.count("_")
    else:
        b = text.strip().lstrip(b"+-").lstrip(b"0_")
        count = len(b) - b.count(b"_")
    per = math.log2(base) if 2 <= base <= 36 else 4.0  # base 0: a prefix decides; 16 at most
    return int(count * per) + 1


def raise_(exc: Any) -> Any:
    """The exception of a ``raise`` statement: a ``BaseException`` that is not an
    ``Exception`` would leave the program as a host failure, so it is refused."""
    if isinstance(exc, type):
        if issubclass(exc, BaseException) and not issubclass(exc, Exception):
            raise TypeError(
                f"SPy programs can only raise Exception subclasses, not {exc.__name__} "
                "(BaseException is for `except` clauses)"
            )
    elif isinstance(exc, BaseException) and not isinstance(exc, Exception):
        raise TypeError(
            f"SPy programs can only raise Exception subclasses, not {type(exc).__name__} "
            "(BaseException is for `except` clauses)"
        )
    return exc


_SENTINEL = object()  # `a is not S is not b`: never a program value

# -- isinstance ---------------------------------------------------------------------------


def _resolve(classinfo: object) -> tuple[type, ...]:
    if isinstance(classinfo, tuple):
        out: list[type] = []
        for item in classinfo:
            out.extend(_resolve(item))
        return tuple(out)
    typ = getattr(classinfo, "_spy_type", None) if callable(classinfo) else None
    if typ is not None:
        return (typ,)
    if isinstance(classinfo, type) and (
        classinfo in (int, float, bool) or issubclass(classinfo, BaseException)
    ):
        return (classinfo,)
    raise TypeError("isinstance() arg 2 must be a type, a tuple of types, or a union")


def isinstance_(obj: object, classinfo: object, /) -> bool:
    types = _resolve(classinfo)
    if not _py.isinstance(obj, types):
        return False
    if _py.isinstance(obj, _SetBase):  # a SPy set is a dict only inside SPy's implementation
        return any(t is not dict and _py.isinstance(obj, t) for t in types)
    return True
