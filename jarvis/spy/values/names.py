"""How SPy names its values' types, and the marks that make SPy's own builtins look built in.

The bottom of ``values/``: argument checks, the containers and the text of values all
name types in their messages (``spy_type_name``) and nothing here needs them.
"""

from __future__ import annotations

from collections.abc import Callable
from types import FunctionType, MethodType
from typing import Any


def mark_builtin(fn: Any, name: str) -> Any:
    """Make a Python-level SPy builtin look and render like a built-in function ``name``.

    A bound method (a per-run builtin) is marked through its function, once for all runs.
    """
    target: Any = fn.__func__ if type(fn) is MethodType else fn
    target.__name__ = name
    target.__qualname__ = name
    # CPython names a function in some messages by module and qualname
    # ("jarvis.spy.runtime.environment.sorted() got multiple values for keyword argument 'key'");
    # for the builtins module it shows the bare name, as for its own builtins.
    target.__module__ = "builtins"
    target._spy_builtin = True
    return fn


def mark_type(fn: Any, typ: type, name: str | None = None) -> Any:
    """Make a SPy builtin that stands for a type (``list``, ``str``...) render as one."""
    mark_builtin(fn, name or typ.__name__)
    target: Any = fn.__func__ if type(fn) is MethodType else fn
    target._spy_type = typ
    return fn


def is_spy_builtin(value: object) -> bool:
    """True for builtins SPy implements in Python (``print``, ``str``, ``artifact``...)."""
    t = type(value)
    if t is MethodType:
        value = value.__func__  # type: ignore[attr-defined]
        t = type(value)
    return t is FunctionType and getattr(value, "_spy_builtin", False) is True


def spy_type_name(value: object) -> str:
    """The type name SPy shows for ``value`` (in errors and next to rendered values)."""
    if is_spy_builtin(value):
        if getattr(value, "_spy_type", None) is not None:
            return "type"
        return "builtin_function_or_method"
    if type(value) is MethodType:
        return "builtin_function_or_method"
    return type(value).__name__


def mark_method(fn: Any, name: str, owner: object) -> Any:
    """A wrapper standing in for ``owner.name``: renders as the built-in method."""
    return BoundWrapper(fn, name, owner)


class BoundWrapper:
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


BoundWrapper.__name__ = BoundWrapper.__qualname__ = "builtin_function_or_method"
