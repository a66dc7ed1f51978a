"""The static sandbox tables: what a program may name, read and call.

Threat model (the gate that uses these tables is ``runtime/gate.py``): the program must
never reach a Python object that leads out of the sandbox (``__class__``,
``__globals__``, ``__self__`` of a builtin is the ``builtins`` module, ``str.format``
reads attributes by name...). Three layers stop it:

1. the checker rejects every name and attribute starting with ``__`` (attributes: ``_``)
   and the reflective builtins (``getattr``, ``type``...), before anything runs;
2. the program's ``__builtins__`` holds only what is listed here (``BUILTIN_NAMES``), so
   any other builtin is a ``NameError``;
3. every attribute read goes through the gate: it is allowed only when the value's
   *exact* runtime type is one of ``METHODS``' types and the name is in its whitelist.
   Functions, builtins, bound methods and type objects have no attributes at all.

Plain tables, the same for every run: the compiler reads them (names, the inline gate's
``TYPES_BY_METHOD``), the runtime's gate and environment read them per run.
"""

from __future__ import annotations

from jarvis.spy.runtime.exceptions import EXCEPTION_TYPES
from jarvis.spy.runtime.namespaces import JSON_NAMES, MATH_NAMES, JsonNamespace, MathNamespace
from jarvis.spy.values.containers import (
    FROZENSET_METHODS,
    RANGE_ATTRS,
    SET_METHODS,
    VIEW_METHODS,
    DictItems,
    DictKeys,
    SpyFrozenSet,
    SpyRange,
    SpySet,
)

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
REFERENCE_TYPES: dict[type, type] = {
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
STATIC_BUILTINS: dict[str, object] = {
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
RUN_BUILTINS = (
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
    {*STATIC_BUILTINS, *RUN_BUILTINS, *EFFECT_BUILTINS, "print"}
)

#: Globals every run defines besides the builtins.
GLOBAL_NAMES: frozenset[str] = frozenset({"inputs"})

TEXT_ENCODINGS = frozenset(
    {"utf-8", "utf8", "utf_8", "ascii", "us-ascii", "latin-1", "latin1", "latin_1",
     "iso-8859-1", "iso8859-1", "utf-16", "utf16", "utf-16-le", "utf-16-be", "utf-32",
     "utf32", "utf-32-le", "utf-32-be", "cp1252", "windows-1252"}
)  # fmt: skip
ERROR_HANDLERS = frozenset(
    {"strict", "ignore", "replace", "backslashreplace", "surrogateescape", "surrogatepass",
     "xmlcharrefreplace"}
)  # fmt: skip
