"""The attribute gate: every attribute a program reads, and the guarded methods it hands out.

The compiler inlines the gate's fast path (``type(obj) in T_name``: a method no guard
needs, read directly); everything else comes here (``Gate.attr``). A method that could
grow a value, take a big iterable or must return a SPy object is handed out wrapped
(``Gate.guarded_method``): the wrapper estimates the cost with the run's guards first.
The tables it enforces are ``whitelist.py``'s.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from jarvis.spy.runtime.books import BookNamespace
from jarvis.spy.runtime.guards import Guards, itemsize
from jarvis.spy.values.arguments import (
    MISSING,
    clinic,
    exactly_one,
    must_be_str,
    no_arguments,
    no_keywords,
    positional,
)
from jarvis.spy.values.containers import SET_TYPES, DictItems, DictKeys, _SetBase
from jarvis.spy.values.names import mark_method, spy_type_name
from jarvis.spy.values.text import spy_repr
from jarvis.spy.whitelist import (
    ERROR_HANDLERS,
    GUARDED,
    METHODS,
    REFERENCE_TYPES,
    TEXT_ENCODINGS,
    TYPES_BY_METHOD,
)

_SET_ONE_ARG = (
    ".issubset", ".issuperset", ".isdisjoint", ".symmetric_difference",
    ".symmetric_difference_update",
)  # fmt: skip


def codec(encoding: object, errors: object) -> tuple[str, str]:
    """Only well-known text encodings: a codec name can import arbitrary modules."""
    if type(encoding) is not str:
        raise TypeError(f"encoding must be str, not {spy_type_name(encoding)}")
    if type(errors) is not str:
        raise TypeError(f"errors must be str, not {spy_type_name(errors)}")
    if encoding.lower() not in TEXT_ENCODINGS:
        raise LookupError(
            f"unknown encoding: {encoding} (SPy supports {', '.join(sorted(TEXT_ENCODINGS))})"
        )
    if errors not in ERROR_HANDLERS:
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


class Gate:
    """The per-run attribute gate: reads attributes through ``whitelist.METHODS``."""

    def __init__(self, guards: Guards) -> None:
        self.guards = guards

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
        ref = REFERENCE_TYPES.get(t, t)
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
        estimate = _TEXT_ESTIMATES.get(name)
        if estimate is not None:
            size, args, kwargs = estimate(self.guards, s, name, args, kwargs)
            if size is not None:
                tname = "str" if type(s) is str else "bytes"
                self.guards.need(size, f"{tname}.{name}()")
        return method(*args, **kwargs)


Args = tuple[Any, ...]
Kwargs = dict[str, Any]
#: ``(guards, s, name, args, kwargs) -> (size or None, args, kwargs)``: the bytes a text
#: method's result may take (None: a call shape CPython refuses by itself), and the
#: arguments to call it with.
Estimate = Callable[[Guards, Any, str, Args, Kwargs], tuple[int | None, Args, Kwargs]]


def _padded(
    g: Guards, s: Any, name: str, args: Args, kwargs: Kwargs
) -> tuple[int | None, Args, Kwargs]:
    width = args[0] if args else 0
    if type(width) is not int and type(width) is not bool:
        return None, args, kwargs
    per = _char_width(s)
    if len(args) > 1 and type(args[1]) is type(s):
        per = max(per, _char_width(args[1]))  # a wide fill widens the result
    return max(int(width), len(s)) * per, args, kwargs


def _expanded(
    g: Guards, s: Any, name: str, args: Args, kwargs: Kwargs
) -> tuple[int | None, Args, Kwargs]:
    tab = args[0] if args else kwargs.get("tabsize", 8)
    if type(tab) is not int or tab <= 0:
        return None, args, kwargs
    return (len(s) + s.count("\t" if type(s) is str else b"\t") * tab) * itemsize(s), args, kwargs


def _replaced(
    g: Guards, s: Any, name: str, args: Args, kwargs: Kwargs
) -> tuple[int | None, Args, Kwargs]:
    if len(args) < 2 or type(args[0]) is not type(s) or type(args[1]) is not type(s):
        return None, args, kwargs
    n = len(s)
    old, new = args[0], args[1]
    count = args[2] if len(args) > 2 else -1
    hits = (n + 1) if not old else s.count(old)
    if type(count) is int and count >= 0:
        hits = min(hits, count)
    return (n + hits * max(len(new) - len(old), 0)) * max(itemsize(s), itemsize(new)), args, kwargs


def _joined(
    g: Guards, s: Any, name: str, args: Args, kwargs: Kwargs
) -> tuple[int | None, Args, Kwargs]:
    tname = "str" if type(s) is str else "bytes"
    parts = g.star(exactly_one(f"{tname}.join", args, kwargs))
    if not hasattr(parts, "__len__") or len(parts) <= 1:
        return None, (parts,), {}  # not iterable: CPython's "can only join an iterable"
    try:
        total = sum(map(len, parts))  # C speed; CPython checks the types itself
    except TypeError:
        total = 0  # some part has no len(): join raises before allocating
    size = total + len(s) * (len(parts) - 1)
    if size * 4 > g.cap and type(s) is str:
        # Close to the limit: count 4 bytes per character of non-ASCII parts.
        wide = not s.isascii() or not all(p.isascii() for p in parts if type(p) is str)
        size *= 4 if wide else 1
    return size, (parts,), {}


def _split(
    g: Guards, s: Any, name: str, args: Args, kwargs: Kwargs
) -> tuple[int | None, Args, Kwargs]:
    n = len(s)
    sep = args[0] if args and name != "splitlines" else kwargs.get("sep")
    pieces = n + 1 if sep is None or type(sep) is not type(s) or not sep else s.count(sep) + 1
    return min(pieces, n + 1) * 64 + n, args, kwargs


def _coded(
    g: Guards, s: Any, name: str, args: Args, kwargs: Kwargs
) -> tuple[int | None, Args, Kwargs]:
    encoding, errors = clinic(name, args, kwargs, ("encoding", "errors"))
    encoding = "utf-8" if encoding is MISSING else encoding
    errors = "strict" if errors is MISSING else errors
    must_be_str(name, "encoding", encoding)
    must_be_str(name, "errors", errors)
    encoding, errors = codec(encoding, errors)
    size = encoded_size(s, encoding, errors) if name == "encode" else decoded_size(s, errors)
    return size, (encoding, errors), {}


def _hexed(
    g: Guards, s: Any, name: str, args: Args, kwargs: Kwargs
) -> tuple[int | None, Args, Kwargs]:
    return len(s) * 3, args, kwargs


_TEXT_ESTIMATES: dict[str, Estimate] = {
    **dict.fromkeys(("center", "ljust", "rjust", "zfill"), _padded),
    "expandtabs": _expanded,
    "replace": _replaced,
    "join": _joined,
    **dict.fromkeys(("split", "rsplit", "splitlines"), _split),
    **dict.fromkeys(("encode", "decode"), _coded),
    "hex": _hexed,
}


def _char_width(text: str | bytes) -> int:
    """Bytes per character of ``text`` in CPython's representation (1, 2 or 4)."""
    if type(text) is bytes or text.isascii():
        return 1
    widest = max(text)
    return 1 if widest < "\u0100" else 2 if widest < "\U00010000" else 4  # type: ignore[operator]


def _view(cls: Any, d: dict[Any, Any], qualname: str, /, *args: Any, **kwargs: Any) -> Any:
    no_arguments(qualname, args, kwargs)
    return cls(d)
