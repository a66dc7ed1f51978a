"""SPy's builtins and the attribute gate.

Threat model: the program must never reach a Python object that leads out of the
sandbox (``__class__``, ``__globals__``, ``__self__`` of a builtin is the ``builtins``
module, ``str.format`` reads attributes by name...). Three layers stop it:

1. the checker rejects every name and attribute starting with ``__`` (attributes: ``_``)
   and the reflective builtins (``getattr``, ``type``...), before anything runs;
2. the program's ``__builtins__`` holds only what is listed here, so any other builtin
   is a ``NameError``;
3. every attribute read goes through the gate: it is allowed only when the value's
   *exact* runtime type is one of ``METHODS``' types and the name is in its whitelist.
   Functions, builtins, bound methods and type objects have no attributes at all.

Builtins that are safe CPython objects (``len``, ``abs``, ``int``...) are handed out as
they are: with the gate in place nothing can be reached *from* them, and they stay
fast. Builtins that could build something huge, take a big range, or reach the host
are SPy functions made per run (they know the run's limits and host).
"""

from __future__ import annotations

import builtins as _py
import functools
import itertools
import math
import time
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

from jarvis.errors import ProgramError
from jarvis.spy import _names
from jarvis.spy.arguments import (
    MISSING,
    clinic,
    exactly_one,
    must_be_str,
    no_arguments,
    no_keywords,
    positional,
)
from jarvis.spy.books import BookNamespace, make_book_caller, validate_books
from jarvis.spy.containers import (
    FROZENSET_METHODS,
    RANGE_ATTRS,
    SET_METHODS,
    SET_TYPES,
    VIEW_METHODS,
    DictItems,
    DictKeys,
    SpyFrozenSet,
    SpyRange,
    SpySet,
    _SetBase,
)
from jarvis.spy.exceptions import EXCEPTION_TYPES, make_catch, program_error
from jarvis.spy.guards import (
    BIG_INT,
    ELEMENT_BYTES,
    IN_INLINE_LEN,
    NUMBER_TYPES,
    Guards,
    itemsize,
)
from jarvis.spy.namespaces import (
    JSON_NAMES,
    MATH_NAMES,
    JsonNamespace,
    MathNamespace,
    make_json,
    make_math,
)
from jarvis.spy.values import (
    SIMPLE_TYPES,
    SMALL_TYPES,
    mark_builtin,
    mark_type,
    spy_repr,
    spy_type_name,
)

if TYPE_CHECKING:
    from jarvis.spy.compiler import Program
    from jarvis.spy.limits import Limits, Meter

# -- the attribute whitelist ----------------------------------------------------------

# Deliberately absent: str.format / str.format_map (a format string can walk attributes:
# "{0.__class__}"), str.translate/maketrans (a table can map one character to a huge
# string), dict.fromkeys, anything reaching a type object.
_STR_METHODS = frozenset(
    {
        "capitalize", "casefold", "center", "count", "encode", "endswith", "expandtabs",
        "find", "index", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit",
        "isidentifier", "islower", "isnumeric", "isprintable", "isspace", "istitle",
        "isupper", "join", "ljust", "lower", "lstrip", "partition", "removeprefix",
        "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit",
        "rstrip", "split", "splitlines", "startswith", "strip", "swapcase", "title",
        "upper", "zfill",
    }
)  # fmt: skip
_BYTES_METHODS = frozenset(
    {
        "capitalize", "center", "count", "decode", "endswith", "expandtabs", "find", "hex",
        "index", "isalnum", "isalpha", "isascii", "isdigit", "islower", "isspace",
        "istitle", "isupper", "join", "ljust", "lower", "lstrip", "partition",
        "removeprefix", "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition",
        "rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "swapcase",
        "title", "upper", "zfill",
    }
)  # fmt: skip
_LIST_METHODS = frozenset(
    {"append", "clear", "copy", "count", "extend", "index", "insert", "pop", "remove",
     "reverse", "sort"}
)  # fmt: skip
_DICT_METHODS = frozenset(
    {"clear", "copy", "get", "items", "keys", "pop", "popitem", "setdefault", "update",
     "values"}
)  # fmt: skip
_TUPLE_METHODS = frozenset({"count", "index"})
_INT_METHODS = frozenset({"bit_length", "bit_count"})
_FLOAT_METHODS = frozenset({"is_integer"})

#: Exact type -> names a program may read on values of that type.
METHODS: dict[type, frozenset[str]] = {
    str: _STR_METHODS,
    bytes: _BYTES_METHODS,
    list: _LIST_METHODS,
    dict: _DICT_METHODS,
    tuple: _TUPLE_METHODS,
    int: _INT_METHODS,
    bool: _INT_METHODS,
    float: _FLOAT_METHODS,
    SpySet: SET_METHODS,
    SpyFrozenSet: FROZENSET_METHODS,
    DictKeys: VIEW_METHODS,
    DictItems: VIEW_METHODS,
    SpyRange: RANGE_ATTRS,
    MathNamespace: MATH_NAMES,
    JsonNamespace: JSON_NAMES,
}

# Methods that can grow a value, take a big iterable or must return a SPy object: the
# gate hands out a per-run wrapper instead of the method itself.
_TEXT_GROWING = frozenset(
    {"center", "ljust", "rjust", "zfill", "expandtabs", "replace", "join", "split",
     "rsplit", "splitlines", "encode", "decode", "hex"}
)  # fmt: skip
_SET_ITERABLE = frozenset(
    {"update", "union", "intersection", "difference", "symmetric_difference",
     "intersection_update", "difference_update", "symmetric_difference_update",
     "issubset", "issuperset", "isdisjoint"}
)  # fmt: skip
GUARDED: frozenset[tuple[type, str]] = frozenset(
    {
        *((str, m) for m in _TEXT_GROWING & _STR_METHODS),
        *((bytes, m) for m in _TEXT_GROWING & _BYTES_METHODS),
        (list, "extend"),
        # Searching and sorting long lists: charged for their comparisons (a long str
        # compared with each element), and list.index's message shows SPy's repr.
        (list, "sort"),
        (list, "index"),
        (list, "count"),
        (list, "remove"),
        (tuple, "index"),
        (tuple, "count"),
        (dict, "keys"),
        (dict, "items"),
        (dict, "update"),
        *((SpySet, m) for m in _SET_ITERABLE & SET_METHODS),
        *((SpyFrozenSet, m) for m in _SET_ITERABLE & FROZENSET_METHODS),
        (DictKeys, "isdisjoint"),
        (DictItems, "isdisjoint"),
    }
)

#: What Python itself calls these types (for "not available in SPy" messages).
_REFERENCE_TYPES: dict[type, type] = {
    SpySet: set, SpyFrozenSet: frozenset, SpyRange: range,
    DictKeys: type({}.keys()), DictItems: type({}.items()),
}  # fmt: skip


def _types_by_method() -> dict[str, frozenset[type]]:
    out: dict[str, set[type]] = {}
    for typ, names in METHODS.items():
        for name in names:
            if (typ, name) not in GUARDED:
                out.setdefault(name, set()).add(typ)
    return {name: frozenset(types) for name, types in out.items()}


#: Method name -> exact types on which the compiler's inline gate reads it directly
#: (no Python-level call on the fast path); everything else goes to the per-run gate.
TYPES_BY_METHOD: dict[str, frozenset[type]] = _types_by_method()

# -- names ------------------------------------------------------------------------------

#: Builtins that are CPython objects, safe to share between runs.
_STATIC_BUILTINS: dict[str, object] = {
    "abs": abs,
    "all": all,
    "any": any,
    "bin": bin,
    "bool": bool,
    "callable": callable,
    "chr": chr,
    "float": float,
    "hex": hex,
    "len": len,
    "max": max,
    "min": min,
    "next": next,
    "oct": oct,
    "ord": ord,
    "reversed": reversed,
    **EXCEPTION_TYPES,
}

#: Builtins made per run (they close over its limits, meter or host). ``map``, ``filter``,
#: ``zip`` and ``enumerate`` check how deeply lazy iterators nest; ``int``, ``divmod`` and
#: ``round`` what a big int costs.
_RUN_BUILTINS = (
    "ascii", "bytes", "dict", "divmod", "enumerate", "filter", "format", "frozenset", "int",
    "isinstance", "iter", "json", "list", "map", "math", "pow", "range", "repr", "round",
    "set", "sorted", "str", "sum", "tuple", "zip",
)  # fmt: skip

#: The effect builtins (they reach the host; every call is journaled by it).
MAX_ARTIFACT_NAME_BYTES = 200
"""Longest artifact name (UTF-8 bytes): object keys and file names must take it (255 is
the usual file-name limit; the store adds a prefix and the execution id)."""

EFFECT_BUILTINS = ("artifact", "now", "random", "randint", "sleep", "uuid")

#: Every name a program can use without defining it (documented in docs/spy.md).
BUILTIN_NAMES: frozenset[str] = frozenset(
    {*_STATIC_BUILTINS, *_RUN_BUILTINS, *EFFECT_BUILTINS, "print"}
)

#: Globals every run defines besides the builtins.
GLOBAL_NAMES: frozenset[str] = frozenset({"inputs"})

_TEXT_ENCODINGS = frozenset(
    {"utf-8", "utf8", "utf_8", "ascii", "us-ascii", "latin-1", "latin1", "latin_1",
     "iso-8859-1", "iso8859-1", "utf-16", "utf16", "utf-16-le", "utf-16-be", "utf-32",
     "utf32", "utf-32-le", "utf-32-be", "cp1252", "windows-1252"}
)  # fmt: skip
_ERROR_HANDLERS = frozenset(
    {"strict", "ignore", "replace", "backslashreplace", "surrogateescape", "surrogatepass",
     "xmlcharrefreplace"}
)  # fmt: skip


def _codec(encoding: object, errors: object) -> tuple[str, str]:
    """Only well-known text encodings: a codec name can import arbitrary modules."""
    if type(encoding) is not str:
        raise TypeError(f"encoding must be str, not {spy_type_name(encoding)}")
    if type(errors) is not str:
        raise TypeError(f"errors must be str, not {spy_type_name(errors)}")
    if encoding.lower() not in _TEXT_ENCODINGS:
        raise LookupError(
            f"unknown encoding: {encoding} (SPy supports {', '.join(sorted(_TEXT_ENCODINGS))})"
        )
    if errors not in _ERROR_HANDLERS:
        raise LookupError(f"unknown error handler name '{errors}'")
    return encoding, errors


def encoded_size(text: str, encoding: str, errors: str) -> int:
    """Upper bound of ``len(text.encode(encoding, errors))`` (a byte-order mark included)."""
    enc = encoding.lower().replace("_", "-")
    ascii_text = text.isascii()
    if enc.startswith(("utf-32", "utf32")):
        per = 4
    elif enc.startswith(("utf-16", "utf16")):
        per = 2 if ascii_text else 4
    elif enc in ("utf-8", "utf8"):
        per = 1 if ascii_text else 4
    else:
        per = 1  # the single-byte codecs
    if not ascii_text and errors in ("xmlcharrefreplace", "backslashreplace"):
        per = max(per, 10)  # "&#1114111;", "\\U0010ffff"
    return len(text) * per + 4


def decoded_size(data: bytes, errors: str) -> int:
    """Upper bound of the bytes of ``data.decode(...)``: at most one character per byte
    (four with ``backslashreplace``), four bytes per character."""
    return len(data) * (16 if errors == "backslashreplace" else 4)


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
        self.copy_result = copy_result
        self.output_left = limits.max_output_bytes
        self.artifacts_left = limits.max_artifacts
        self.artifact_bytes_left = limits.max_artifact_bytes
        self.book_specs = validate_books(books, BUILTIN_NAMES | GLOBAL_NAMES)

    # -- the host ---------------------------------------------------------------------

    def effect(self, name: str, args: tuple[object, ...]) -> object:
        """``host.effect`` for the program: checks first, maps ProgramError, stays sticky."""
        meter = self.meter
        meter.check_now()
        failed: ProgramError | None = None
        try:
            result = self.host_effect(name, args)
        except ProgramError as exc:
            failed = exc
        except BaseException as exc:  # a host failure: the program may not outlive it
            meter.fail(exc)
            raise
        if failed is not None:
            raise program_error(failed)  # outside the handler: no host context attached
        return self.copy_result(result)

    # -- building the environment ----------------------------------------------------------

    def builtins(self) -> dict[str, object]:
        g = self.guards
        b: dict[str, object] = dict(_STATIC_BUILTINS)
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
        b.update(self.effect_builtins())
        # Helpers only generated code can name (every ``__spy_*`` name is unspellable).
        b.update(
            {
                _names.ATTR: self.gate_attr,
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
                _names.BOOK: self.book_attr,
                _names.FPART_MAX: g.fstring_part,
                **{_names.method_types_name(m): types for m, types in TYPES_BY_METHOD.items()},
            }
        )
        return b

    def globals(self) -> dict[str, object]:
        """Book namespaces (one global per allowed Book)."""
        caller = make_book_caller(
            self.effect_for_books, self.emit, self.copy_result, self.program, self.meter.check_now
        )
        return {name: BookNamespace(name, procs, caller) for name, procs in self.book_specs.items()}

    def effect_for_books(self, name: str, args: tuple[object, ...]) -> object:
        # ProgramError passes through (the Book caller records it, then maps it).
        try:
            return self.host_effect(name, args)
        except ProgramError:
            raise
        except BaseException as exc:
            self.meter.fail(exc)
            raise

    # -- print --------------------------------------------------------------------------

    def make_print(self) -> Callable[..., None]:
        emit = self.emit
        g = self.guards
        env = self

        def print_(site: object, /, *args: object, **kwargs: object) -> None:
            sep: object = " "
            end: object = "\n"
            if kwargs:
                for key, value in kwargs.items():
                    if key == "sep":
                        sep = value
                    elif key == "end":
                        end = value
                    elif key == "file":  # CPython's print() takes file=; SPy has no files
                        raise TypeError("print() got an unexpected keyword argument 'file'")
                    elif key != "flush":
                        raise TypeError(f"'{key}' is an invalid keyword argument for print()")
            if sep is None:
                sep = " "
            elif type(sep) is not str:
                raise TypeError(f"sep must be None or a string, not {spy_type_name(sep)}")
            if end is None:
                end = "\n"
            elif type(end) is not str:
                raise TypeError(f"end must be None or a string, not {spy_type_name(end)}")
            text = sep.join([a if type(a) is str else g.str_(a) for a in args]) + end
            size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
            env.output_left -= size
            if env.output_left < 0:
                raise env.meter.limit(
                    f"output limit exceeded: more than {env.limits.max_output_bytes:,} bytes printed (max_output_bytes)"
                )
            emit(site, text[:-1] if text.endswith("\n") else text)

        return mark_builtin(print_, "print")  # type: ignore[no-any-return]

    # -- effects ------------------------------------------------------------------------

    def effect_builtins(self) -> dict[str, object]:
        effect = self.effect
        env = self

        def artifact(name: object, text: object) -> object:
            if type(name) is not str:
                raise TypeError(f"artifact() name must be a str, not {spy_type_name(name)}")
            if not name:
                raise ValueError("artifact() name must not be empty")
            if "/" in name or "\\" in name or "\0" in name or name in (".", ".."):
                raise ValueError(
                    f"artifact() name {name!r} must be a plain file name "
                    "(no '/', '\\', NUL, and not '.' or '..')"
                )
            if type(text) is not str and type(text) is not bytes:
                raise TypeError(
                    f"artifact() text must be a str or bytes, not {spy_type_name(text)}"
                )
            try:
                name.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(
                    "artifact() name must be valid UTF-8 (no lone surrogates)"
                ) from None
            if len(name.encode("utf-8", "surrogatepass")) > MAX_ARTIFACT_NAME_BYTES:
                raise ValueError(f"artifact() name is longer than {MAX_ARTIFACT_NAME_BYTES} bytes")
            size = (
                len(text)
                if type(text) is bytes or text.isascii()
                else len(text.encode("utf-8", "surrogatepass"))  # type: ignore[union-attr]
            )
            env.artifacts_left -= 1
            if env.artifacts_left < 0:
                raise env.meter.limit(
                    f"artifact limit exceeded: more than {env.limits.max_artifacts:,} "
                    "artifacts stored (max_artifacts)"
                )
            env.artifact_bytes_left -= size
            if env.artifact_bytes_left < 0:
                raise env.meter.limit(
                    f"artifact limit exceeded: more than {env.limits.max_artifact_bytes:,} "
                    "bytes of artifacts stored (max_artifact_bytes)"
                )
            return effect("artifact", (name, text))

        def now() -> object:
            return effect("now", ())

        def random() -> object:
            return effect("random", ())

        def randint(a: object, b: object) -> object:
            for arg in (a, b):
                if type(arg) is not int and type(arg) is not bool:
                    raise TypeError(f"randint() arguments must be int, not {spy_type_name(arg)}")
            if a > b:  # type: ignore[operator]
                raise ValueError(f"empty range for randint({a}, {b})")
            return effect("randint", (int(a), int(b)))  # type: ignore[call-overload]

        def uuid() -> object:
            return effect("uuid", ())

        def sleep(seconds: object) -> None:
            if type(seconds) not in (int, float) or seconds != seconds:
                raise TypeError(
                    f"sleep() argument must be a finite int or float, not {spy_type_name(seconds)}"
                )
            if seconds < 0 or seconds == float("inf"):  # type: ignore[operator]
                raise ValueError("sleep length must be non-negative and finite")
            # A durable timer still counts against the run's wall clock: refuse, at the
            # call, a sleep that would end past it (rather than sleeping, then failing).
            if seconds > env.meter.deadline - time.monotonic():  # type: ignore[operator]
                raise env.meter.limit(
                    f"time limit exceeded: sleep({float(seconds):g}) would end after the "  # type: ignore[arg-type]
                    f"program's {env.limits.max_wall_s:g} s (max_wall_s)"
                )
            effect("sleep", (float(seconds),))  # type: ignore[arg-type]

        return {
            fn.__name__: mark_builtin(fn, fn.__name__)
            for fn in (artifact, now, random, randint, uuid, sleep)
        }

    # -- the attribute gate ---------------------------------------------------------------

    def gate_attr(self, obj: object, name: str) -> Any:
        """Read attribute ``name`` of ``obj`` if SPy allows it, else raise AttributeError.

        The compiler inlines the fast path (``type(obj) in T_name``); this is the rest:
        names no type allows, guarded methods, Books and exception attributes.
        """
        t = type(obj)
        if t is BookNamespace:
            return obj.procedure(name, None)  # type: ignore[attr-defined]
        allowed = METHODS.get(t)
        if allowed is not None and name in allowed:
            if (t, name) in GUARDED:
                return self.guarded_method(obj, name)
            return getattr(obj, name)
        if name == "args" and isinstance(obj, BaseException):
            return obj.args
        tname = spy_type_name(obj)
        ref = _REFERENCE_TYPES.get(t, t)
        # Say "not available in SPy" only when Python has it; hasattr on one of the builtin
        # types in METHODS runs no program or host code.
        if allowed is None or not hasattr(ref, name):
            raise AttributeError(f"'{tname}' object has no attribute '{name}'")
        raise AttributeError(f"'{tname}' object has no attribute '{name}' (not available in SPy)")

    def book_attr(self, site: object, obj: object, name: str) -> Any:
        """``book.procedure`` at a compile-time "book" site (or a normal gate read)."""
        if type(obj) is BookNamespace:
            return obj.procedure(name, site)  # type: ignore[arg-type]
        types = TYPES_BY_METHOD.get(name)
        if types is not None and type(obj) in types:
            return getattr(obj, name)
        return self.gate_attr(obj, name)

    def guarded_method(self, obj: Any, name: str) -> Any:
        t = type(obj)
        method = getattr(obj, name)
        if t is dict:
            if name == "keys":
                return mark_method(functools.partial(_view, DictKeys, obj, "dict.keys"), name, obj)
            if name == "items":
                return mark_method(
                    functools.partial(_view, DictItems, obj, "dict.items"), name, obj
                )
            if name == "update":
                return mark_method(functools.partial(self.dict_update, obj), "update", obj)
        if t is list or t is tuple:
            return mark_method(functools.partial(self.seq_method, obj, name, method), name, obj)
        if t in SET_TYPES or t is DictKeys or t is DictItems:
            qualname = f"{spy_type_name(obj)}.{name}"
            return mark_method(functools.partial(self.set_method, qualname, method), name, obj)
        return mark_method(functools.partial(self.text_method, obj, name, method), name, obj)

    def set_method(
        self, qualname: str, method: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> Any:
        """A set (or dict view) method taking iterables: each is size-checked first."""
        g = self.guards
        if qualname.endswith(_SET_ONE_ARG):
            return method(g.star(exactly_one(qualname, args, kwargs)))
        no_keywords(qualname, kwargs)
        return method(*[g.star(o) for o in args])

    def seq_method(
        self, seq: Any, name: str, method: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> Any:
        """list/tuple methods that copy an iterable, search or sort: checked, charged."""
        g = self.guards
        tname = "list" if type(seq) is list else "tuple"
        if name == "extend":
            return method(g.star(exactly_one("list.extend", args, kwargs), len(seq)))
        if name == "sort":
            if args:
                raise TypeError("sort() takes no positional arguments")
            clinic("sort", (), kwargs, ("key", "reverse"))
            g.sort_cost(seq)
            return method(**kwargs)
        if name == "index":
            no_keywords(f"{tname}.index", kwargs)
            positional("index", args, 1, 3)
            g.compare_cost(args[0], len(seq))
            try:
                return method(*args)
            except ValueError:
                if tname == "tuple":
                    raise
                value = spy_repr(args[0], g.cap)
            raise ValueError(f"{value} is not in list")  # CPython's, with SPy's repr
        # count, remove
        value = exactly_one(f"{tname}.{name}", args, kwargs)
        g.compare_cost(value, len(seq))
        return method(value)

    def dict_update(self, d: dict[Any, Any], /, *args: Any, **kwargs: Any) -> None:
        positional("update", args, 0, 1)
        if args:
            other = args[0]
            if type(other) is not dict:
                if isinstance(other, _SetBase):
                    other = list(other)
                other = self.guards.star(other)
            d.update(other, **kwargs)
        else:
            d.update(**kwargs)

    def text_method(
        self, s: Any, name: str, method: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> Any:
        """str/bytes methods whose result can outgrow their input: estimate, then run.

        Every call shape CPython accepts is estimated; any other shape is left to the
        method itself, which raises CPython's own TypeError before doing anything.
        """
        g = self.guards
        n = len(s)
        tname = "str" if type(s) is str else "bytes"
        size = None
        if name in ("center", "ljust", "rjust", "zfill"):
            width = args[0] if args else 0
            if type(width) is int or type(width) is bool:
                per = _char_width(s)
                if len(args) > 1 and type(args[1]) is type(s):
                    per = max(per, _char_width(args[1]))  # a wide fill widens the result
                size = max(int(width), n) * per
        elif name == "expandtabs":
            tab = args[0] if args else kwargs.get("tabsize", 8)
            if type(tab) is int and tab > 0:
                size = (n + s.count("\t" if type(s) is str else b"\t") * tab) * itemsize(s)
        elif name == "replace":
            if len(args) >= 2 and type(args[0]) is type(s) and type(args[1]) is type(s):
                old, new = args[0], args[1]
                count = args[2] if len(args) > 2 else -1
                hits = (n + 1) if not old else s.count(old)
                if type(count) is int and count >= 0:
                    hits = min(hits, count)
                size = (n + hits * max(len(new) - len(old), 0)) * max(itemsize(s), itemsize(new))
        elif name == "join":
            parts = g.star(exactly_one(f"{tname}.join", args, kwargs))
            if not hasattr(parts, "__len__"):
                return method(parts)  # not iterable: CPython's "can only join an iterable"
            if len(parts) > 1:
                try:
                    total = sum(map(len, parts))  # C speed; CPython checks the types itself
                except TypeError:
                    total = 0  # some part has no len(): join raises before allocating
                size = total + n * (len(parts) - 1)
                if size * 4 > g.cap and type(s) is str:
                    # Close to the limit: count 4 bytes per character of non-ASCII parts.
                    wide = not s.isascii() or not all(p.isascii() for p in parts if type(p) is str)
                    size *= 4 if wide else 1
            args = (parts,)
        elif name in ("split", "rsplit", "splitlines"):
            sep = args[0] if args and name != "splitlines" else kwargs.get("sep")
            pieces = (
                n + 1 if sep is None or type(sep) is not type(s) or not sep else s.count(sep) + 1
            )
            size = min(pieces, n + 1) * 64 + n
        elif name == "encode" or name == "decode":
            encoding, errors = clinic(name, args, kwargs, ("encoding", "errors"))
            encoding = "utf-8" if encoding is MISSING else encoding
            errors = "strict" if errors is MISSING else errors
            must_be_str(name, "encoding", encoding)
            must_be_str(name, "errors", errors)
            encoding, errors = _codec(encoding, errors)
            args, kwargs = (encoding, errors), {}
            size = (
                encoded_size(s, encoding, errors) if name == "encode" else decoded_size(s, errors)
            )
        elif name == "hex":
            size = n * 3
        if size is not None:
            g.need(size, f"{tname}.{name}()")
        return method(*args, **kwargs)

    # -- constructors and other builtins ------------------------------------------------------

    def str_(self, /, *args: Any, **kwargs: Any) -> str:
        if not kwargs:
            if len(args) == 1:
                return self.guards.str_(args[0])
            if not args:
                return ""
        value, encoding, errors = clinic("str", args, kwargs, ("object", "encoding", "errors"))
        if encoding is not MISSING:
            must_be_str("str", "encoding", encoding)
        if errors is not MISSING:
            must_be_str("str", "errors", errors)
        if value is MISSING:
            return ""
        if encoding is MISSING and errors is MISSING:
            return self.guards.str_(value)
        if type(value) is not bytes:
            raise TypeError(
                f"decoding to str: need a bytes-like object, {spy_type_name(value)} found"
            )
        encoding, errors = _codec(
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
            enc, err = _codec(encoding, "strict" if errors is MISSING else errors)
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
_SET_ONE_ARG = (
    ".issubset", ".issuperset", ".isdisjoint", ".symmetric_difference",
    ".symmetric_difference_update",
)  # fmt: skip
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


def _char_width(text: str | bytes) -> int:
    """Bytes per character of ``text`` in CPython's representation (1, 2 or 4)."""
    if type(text) is bytes or text.isascii():
        return 1
    widest = max(text)
    return 1 if widest < "\u0100" else 2 if widest < "\U00010000" else 4  # type: ignore[operator]


def _view(cls: Any, d: dict[Any, Any], qualname: str, /, *args: Any, **kwargs: Any) -> Any:
    no_arguments(qualname, args, kwargs)
    return cls(d)


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


def mark_method(fn: Any, name: str, owner: object) -> Any:
    """A wrapper standing in for ``owner.name``: renders as the built-in method."""
    return _BoundWrapper(fn, name, owner)


class _BoundWrapper:
    """A guarded method: calls ``fn``; renders like ``<built-in method join of str object>``."""

    __slots__ = ("_fn", "_name", "_owner")

    def __init__(self, fn: Callable[..., Any], name: str, owner: object) -> None:
        self._fn = fn
        self._name = name
        self._owner = owner

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        return self._fn(*args, **kwargs)

    @staticmethod
    def _spy_repr_name(value: Any) -> str:
        return f"<built-in method {value._name} of {spy_type_name(value._owner)} object>"


_BoundWrapper.__name__ = _BoundWrapper.__qualname__ = "builtin_function_or_method"


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
