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

The builtins that are CPython objects (``len``, ``int``, ``range``...) are handed out as
they are: with the gate in place nothing can be reached *from* them, and they stay fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jarvis.spy import _names
from jarvis.spy.values import (
    SIMPLE_TYPES,
    mark_builtin,
    spy_ascii,
    spy_mod,
    spy_percent,
    spy_repr,
    spy_str,
    spy_type_name,
)

# Methods a program may call (or read) per exact type. Deliberately absent:
# str.format / str.format_map (a format string can walk attributes: "{0.__class__}"),
# str.encode and friends (bytes are not a SPy type yet), anything mutating shared state.
_STR_METHODS = frozenset(
    {
        "capitalize", "casefold", "center", "count", "endswith", "expandtabs", "find",
        "index", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier",
        "islower", "isnumeric", "isprintable", "isspace", "istitle", "isupper", "join",
        "ljust", "lower", "lstrip", "partition", "removeprefix", "removesuffix", "replace",
        "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip", "split", "splitlines",
        "startswith", "strip", "swapcase", "title", "upper", "zfill",
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
_INT_METHODS = frozenset({"bit_length"})
_FLOAT_METHODS = frozenset({"is_integer"})

#: Exact type -> names a program may read on values of that type.
METHODS: dict[type, frozenset[str]] = {
    str: _STR_METHODS,
    list: _LIST_METHODS,
    dict: _DICT_METHODS,
    tuple: _TUPLE_METHODS,
    int: _INT_METHODS,
    bool: _INT_METHODS,
    float: _FLOAT_METHODS,
}


def _types_by_method() -> dict[str, frozenset[type]]:
    out: dict[str, set[type]] = {}
    for typ, names in METHODS.items():
        for name in names:
            out.setdefault(name, set()).add(typ)
    return {name: frozenset(types) for name, types in out.items()}


#: Method name -> exact types it is allowed on. The compiler inlines ``type(o) in T``
#: for these names (no Python-level call on the fast path); other names always go to
#: ``gate_attr``, which raises.
TYPES_BY_METHOD: dict[str, frozenset[type]] = _types_by_method()


def gate_attr(obj: object, name: str) -> Any:
    """Read attribute ``name`` of ``obj`` if SPy allows it, else raise AttributeError."""
    allowed = METHODS.get(type(obj))
    if allowed is not None and name in allowed:
        return getattr(obj, name)
    tname = spy_type_name(obj)
    # Say "not available in SPy" only when Python has it; hasattr on one of the builtin
    # types in METHODS runs no program or host code.
    if allowed is None or not hasattr(type(obj), name):
        raise AttributeError(f"'{tname}' object has no attribute '{name}'")
    raise AttributeError(f"'{tname}' object has no attribute '{name}' (not available in SPy)")


def _str(value: object = "") -> str:
    return spy_str(value)


def _repr(value: object) -> str:
    return spy_repr(value)


#: Builtins every run gets. ``print`` is not here: the compiler turns each ``print(...)``
#: call into a call of the per-run print helper, and the checker forbids using ``print``
#: any other way (so a print record always has a site).
SAFE_BUILTINS: dict[str, object] = {
    "abs": abs,
    "all": all,
    "any": any,
    "bool": bool,
    "dict": dict,
    "enumerate": enumerate,
    "float": float,
    "int": int,
    "len": len,
    "list": list,
    "max": max,
    "min": min,
    "range": range,  # lazy: range(10**9) costs nothing until iterated
    "repr": mark_builtin(_repr, "repr"),
    "reversed": reversed,
    "round": round,
    "sorted": sorted,
    "str": mark_builtin(_str, "str"),  # deterministic: no memory addresses
    "sum": sum,
    "tuple": tuple,
    "zip": zip,
}

#: Helpers only generated code can name (every ``__spy_*`` name is unspellable in SPy).
_STATIC_HELPERS: dict[str, object] = {
    _names.ATTR: gate_attr,
    _names.TYPE: type,
    _names.SIMPLE: SIMPLE_TYPES,
    _names.STR: spy_str,
    _names.REPR: spy_repr,
    _names.ASCII: spy_ascii,
    _names.SLICE: slice,
    _names.STR_TYPE: str,
    _names.PERCENT: spy_percent,
    _names.MOD: spy_mod,
    **{_names.method_types_name(m): types for m, types in TYPES_BY_METHOD.items()},
}

#: Names of the effect builtins (they reach the host; see ``make_run_builtins``).
EFFECT_BUILTINS = ("artifact",)

#: Every name a program can use without defining it (documented in docs/spy.md).
BUILTIN_NAMES: frozenset[str] = frozenset({*SAFE_BUILTINS, *EFFECT_BUILTINS, "print"})


def make_print(emit: Callable[[Any, object], None]) -> Callable[..., None]:
    """The per-run print helper: emits the printed line as a "print" record, writes nothing."""

    def print_(
        site: object, /, *args: object, sep: object = " ", end: object = "\n", flush: object = False
    ) -> None:
        if sep is None:
            sep = " "
        elif type(sep) is not str:
            raise TypeError(f"sep must be None or a string, not {spy_type_name(sep)}")
        if end is None:
            end = "\n"
        elif type(end) is not str:
            raise TypeError(f"end must be None or a string, not {spy_type_name(end)}")
        text = sep.join([spy_str(a) for a in args]) + end
        emit(site, text[:-1] if text.endswith("\n") else text)

    return mark_builtin(print_, "print")  # type: ignore[no-any-return]


def make_artifact(effect: Callable[[str, tuple[object, ...]], object]) -> Callable[..., object]:
    """The ``artifact(name, text)`` builtin: validated here, journaled by the host."""

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
            raise TypeError(f"artifact() text must be a str or bytes, not {spy_type_name(text)}")
        return effect("artifact", (name, text))

    return mark_builtin(artifact, "artifact")  # type: ignore[no-any-return]


def make_run_builtins(effect: Callable[[str, tuple[object, ...]], object]) -> dict[str, object]:
    """A fresh ``__builtins__`` dict for one run (effect builtins close over the host)."""
    builtins: dict[str, object] = {**SAFE_BUILTINS, **_STATIC_HELPERS}
    builtins["artifact"] = make_artifact(effect)
    return builtins
