"""SPy's own container types: insertion-ordered sets, dict views, and ranges.

Sets. CPython's ``set`` iterates in hash order, and ``str`` hashes are randomised per
process (PYTHONHASHSEED): ``print({"a", "b"})`` differs between two runs, which would
break replay (DESIGN §1). SPy's ``set``/``frozenset`` iterate in insertion order. They
subclass ``dict`` (elements are the keys, values are ``None``) so that ``x in s``,
``len(s)``, ``s.add(x)`` and iteration stay C calls; every ``dict`` behaviour that would
leak (``s[k]``, ``dict(s)``, ``{**s}``, ``d | s``, ``keys()``...) is overridden to
behave like CPython's sets. ``pop()`` removes the most recently added element (CPython:
an arbitrary one).

Dict views. ``d.keys() & other`` in CPython builds a real (hash-ordered) ``set``, so
``keys()`` and ``items()`` return SPy views whose set operations build SPy sets.
``values()`` (no set operations) stays CPython's.

Ranges. A big ``range`` consumed by a builtin (``sum(range(10**12))``, ``list(...)``)
would run one uninterruptible C loop; a SPy range hands such consumers its elements
in chunks and charges the meter between chunks (steps, wall clock, stop). ``for``
loops and comprehensions (which tick on their own) get CPython's fast iterator.
"""

from __future__ import annotations

import dis
import itertools
import sys
from collections.abc import Callable, Iterable, Iterator
from types import FunctionType
from typing import Any

from jarvis.spy._names import SPY_DIR
from jarvis.spy.values.arguments import exactly_one, no_arguments
from jarvis.spy.values.names import spy_type_name

#: The opcode of ``GET_ITER`` (68 on 3.11 and 3.12, 19 on 3.13): a ``for`` loop or a
#: comprehension asking for an iterator.
_GET_ITER = dis.opmap["GET_ITER"]
RANGE_CHUNK = 4096


#: SPy's repr of a value, for the containers' own ``__repr__`` and CPython-shaped messages.
#: ``values/text.py`` renders these containers (it sits above them) and installs its
#: ``spy_repr`` here when it is imported (``use_repr``), which ``values/__init__.py``
#: guarantees before any container exists. Until then: CPython's.
_repr: Callable[[object], str] = repr


def use_repr(spy_repr: Callable[[object], str]) -> None:
    """Make ``spy_repr`` the repr the containers show (called once, by ``values.text``)."""
    global _repr
    _repr = spy_repr


def _no_keys(self: object) -> Any:
    raise AttributeError(f"'{type(self).__name__}' object has no attribute 'keys'")


class _SetBase(dict):  # type: ignore[type-arg]
    """Shared by ``set`` and ``frozenset``: read-only operations."""

    __slots__ = ()

    # dict behaviour that must not show through (see the module docstring).
    keys = property(_no_keys)  # type: ignore[assignment,unused-ignore]
    __reversed__ = None  # type: ignore[assignment]

    def __init__(self, iterable: Iterable[object] = (), /) -> None:
        dict.__init__(self)
        if iterable:
            dict.update(self, dict.fromkeys(iterable))

    def __iter__(self) -> Iterator[Any]:
        # A Python-level __iter__ also makes CPython's dict fast paths (PyDict_Merge)
        # treat a set as an unknown mapping instead of copying its keys.
        return dict.__iter__(self)

    def __getitem__(self, key: object) -> Any:
        raise TypeError(f"'{type(self).__name__}' object is not subscriptable")

    def __setitem__(self, key: object, value: object) -> None:
        raise TypeError(f"'{type(self).__name__}' object does not support item assignment")

    def __delitem__(self, key: object) -> None:
        raise TypeError(f"'{type(self).__name__}' object doesn't support item deletion")

    def __repr__(self) -> str:
        return _repr(self)

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError(f"cannot pickle '{type(self).__name__}' object")

    # -- comparisons -----------------------------------------------------------------

    def __eq__(self, other: object) -> Any:
        if isinstance(other, _SetBase):
            return len(self) == len(other) and dict.keys(self) == dict.keys(other)
        if isinstance(other, dict):
            return False  # never let dict.__eq__ compare a set with a dict
        return NotImplemented

    def __ne__(self, other: object) -> Any:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __le__(self, other: object) -> Any:
        if isinstance(other, _SetBase):
            return dict.keys(self) <= dict.keys(other)
        return _unordered(self, other, "<=")

    def __lt__(self, other: object) -> Any:
        if isinstance(other, _SetBase):
            return dict.keys(self) < dict.keys(other)
        return _unordered(self, other, "<")

    def __ge__(self, other: object) -> Any:
        if isinstance(other, _SetBase):
            return dict.keys(self) >= dict.keys(other)
        return _unordered(self, other, ">=")

    def __gt__(self, other: object) -> Any:
        if isinstance(other, _SetBase):
            return dict.keys(self) > dict.keys(other)
        return _unordered(self, other, ">")

    # -- operators (result type: the left operand's) -----------------------------------

    def __or__(self, other: object) -> Any:
        if not isinstance(other, _SetBase):
            return _binop_other(self, other, "|")
        out = type(self)(self)
        dict.update(out, dict.fromkeys(other))
        return out

    def __and__(self, other: object) -> Any:
        if not isinstance(other, _SetBase):
            return _binop_other(self, other, "&")
        return type(self)([x for x in self if x in other])

    def __sub__(self, other: object) -> Any:
        if not isinstance(other, _SetBase):
            return _binop_other(self, other, "-")
        return type(self)([x for x in self if x not in other])

    def __xor__(self, other: object) -> Any:
        if not isinstance(other, _SetBase):
            return _binop_other(self, other, "^")
        out = type(self)([x for x in self if x not in other])
        dict.update(out, dict.fromkeys([x for x in other if x not in self]))
        return out

    def __ror__(self, other: object) -> Any:
        return _reflected(self, other, "|")

    def __rand__(self, other: object) -> Any:
        return _reflected(self, other, "&")

    def __rsub__(self, other: object) -> Any:
        return _reflected(self, other, "-")

    def __rxor__(self, other: object) -> Any:
        return _reflected(self, other, "^")

    # -- methods -------------------------------------------------------------------------
    # Methods a program calls directly check their arguments as CPython's do (the ones
    # taking iterables are reached through builtins.Environment.set_method, which does).

    def copy(self, /, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs:
            no_arguments(f"{type(self).__name__}.copy", args, kwargs)
        return type(self)(self)

    def union(self, *others: Iterable[object]) -> Any:
        out = type(self)(self)
        for other in others:
            dict.update(out, dict.fromkeys(other))
        return out

    def intersection(self, *others: Iterable[object]) -> Any:
        items = list(self)
        for other in others:
            keep = other if isinstance(other, _SetBase) else dict.fromkeys(other)
            items = [x for x in items if x in keep]
        return type(self)(items)

    def difference(self, *others: Iterable[object]) -> Any:
        items = list(self)
        for other in others:
            drop = other if isinstance(other, _SetBase) else dict.fromkeys(other)
            items = [x for x in items if x not in drop]
        return type(self)(items)

    def symmetric_difference(self, other: Iterable[object], /) -> Any:
        return self ^ (other if isinstance(other, _SetBase) else SpySet(other))

    def issubset(self, other: Iterable[object], /) -> bool:
        other_set = other if isinstance(other, _SetBase) else SpySet(other)
        return all(x in other_set for x in self)

    def issuperset(self, other: Iterable[object], /) -> bool:
        return all(x in self for x in other)

    def isdisjoint(self, other: Iterable[object], /) -> bool:
        return not any(x in self for x in other)


def _unordered(left: object, right: object, op: str) -> Any:
    if isinstance(right, dict):
        raise TypeError(
            f"'{op}' not supported between instances of '{spy_type_name(left)}' and '{spy_type_name(right)}'"
        )
    return NotImplemented


def _binop_other(left: object, right: object, op: str) -> Any:
    if isinstance(right, DictKeys | DictItems):
        return NotImplemented  # the view's reflected operator handles it
    if isinstance(right, dict):
        # A dict subclass's reflected operator would run dict.__or__ and merge them.
        raise TypeError(
            f"unsupported operand type(s) for {op}: '{spy_type_name(left)}' and '{spy_type_name(right)}'"
        )
    return NotImplemented


def _reflected(right: _SetBase, left: object, op: str) -> Any:
    if isinstance(left, dict):
        raise TypeError(
            f"unsupported operand type(s) for {op}: '{spy_type_name(left)}' and '{spy_type_name(right)}'"
        )
    return NotImplemented


class SpySet(_SetBase):
    """SPy's ``set``: insertion-ordered, mutable, unhashable."""

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]

    # ``add`` is dict.setdefault(elem): a C call that inserts elem -> None (a Python method
    # checking its arguments would double the cost of the commonest set operation; the
    # price: ``s.add(x, y)`` is accepted and ``s.add()`` reports setdefault's arity).
    add = dict.setdefault

    def clear(self, /, *args: Any, **kwargs: Any) -> None:
        if args or kwargs:
            no_arguments("set.clear", args, kwargs)
        dict.clear(self)

    def remove(self, /, *args: Any, **kwargs: Any) -> None:
        dict.pop(self, exactly_one("set.remove", args, kwargs))  # KeyError(elem), as CPython

    def discard(self, /, *args: Any, **kwargs: Any) -> None:
        dict.pop(self, exactly_one("set.discard", args, kwargs), None)

    def pop(self, /, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs:
            no_arguments("set.pop", args, kwargs)
        if not self:
            raise KeyError("pop from an empty set")
        return dict.popitem(self)[0]

    def update(self, *others: Iterable[object]) -> None:  # type: ignore[override]
        for other in others:
            dict.update(self, dict.fromkeys(other))

    def intersection_update(self, *others: Iterable[object]) -> None:
        keep = self.intersection(*others)
        dict.clear(self)
        dict.update(self, dict.fromkeys(keep))

    def difference_update(self, *others: Iterable[object]) -> None:
        for other in others:
            for x in list(other) if other is self else other:
                dict.pop(self, x, None)

    def symmetric_difference_update(self, other: Iterable[object], /) -> None:
        result = self.symmetric_difference(other)
        dict.clear(self)
        dict.update(self, dict.fromkeys(result))

    def __ior__(self, other: object) -> Any:
        if not isinstance(other, _SetBase):
            return _binop_other(self, other, "|=")
        dict.update(self, dict.fromkeys(other))
        return self

    def __iand__(self, other: object) -> Any:
        if not isinstance(other, _SetBase):
            return _binop_other(self, other, "&=")
        self.intersection_update(other)
        return self

    def __isub__(self, other: object) -> Any:
        if not isinstance(other, _SetBase):
            return _binop_other(self, other, "-=")
        self.difference_update(other)
        return self

    def __ixor__(self, other: object) -> Any:
        if not isinstance(other, _SetBase):
            return _binop_other(self, other, "^=")
        self.symmetric_difference_update(other)
        return self


class SpyFrozenSet(_SetBase):
    """SPy's ``frozenset``: insertion-ordered, immutable, hashable."""

    __slots__ = ("_hash",)
    _hash: int

    def __hash__(self) -> int:  # type: ignore[override]
        try:
            return self._hash
        except AttributeError:
            h = hash(frozenset(dict.__iter__(self)))
            object.__setattr__(self, "_hash", h)
            return h

    def copy(self, /, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs:
            no_arguments("frozenset.copy", args, kwargs)
        return self


for _cls, _n in ((SpySet, "set"), (SpyFrozenSet, "frozenset")):
    _cls.__name__ = _cls.__qualname__ = _n
    _cls.__module__ = "builtins"
    for _attr, _value in vars(_cls).items():
        if type(_value) is FunctionType and not _attr.startswith("_"):
            _value.__qualname__ = f"{_n}.{_attr}"  # binding errors name set.x, not SpySet

SET_TYPES: tuple[type, ...] = (SpySet, SpyFrozenSet)

#: Methods a program may call per set type (the attribute gate's whitelist).
FROZENSET_METHODS = frozenset(
    {"copy", "difference", "intersection", "isdisjoint", "issubset", "issuperset",
     "symmetric_difference", "union"}
)  # fmt: skip
SET_METHODS = FROZENSET_METHODS | {
    "add", "clear", "difference_update", "discard", "intersection_update", "pop", "remove",
    "symmetric_difference_update", "update",
}  # fmt: skip


# -- dict views ----------------------------------------------------------------------


class _View:
    __slots__ = ("_d",)

    def __init__(self, d: dict[Any, Any]) -> None:
        self._d = d

    def __len__(self) -> int:
        return len(self._d)

    def __repr__(self) -> str:
        return _repr(self)

    __hash__ = None  # type: ignore[assignment]

    def _set(self) -> SpySet:
        return SpySet(self)  # type: ignore[arg-type]  # subclasses define __iter__

    def __eq__(self, other: object) -> Any:
        if isinstance(other, _View | _SetBase):
            return self._set() == (other._set() if isinstance(other, _View) else other)
        return NotImplemented

    def __ne__(self, other: object) -> Any:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __le__(self, other: object) -> Any:
        return self._set() <= _as_set(other) if _setlike(other) else NotImplemented

    def __lt__(self, other: object) -> Any:
        return self._set() < _as_set(other) if _setlike(other) else NotImplemented

    def __ge__(self, other: object) -> Any:
        return self._set() >= _as_set(other) if _setlike(other) else NotImplemented

    def __gt__(self, other: object) -> Any:
        return self._set() > _as_set(other) if _setlike(other) else NotImplemented

    def __or__(self, other: object) -> Any:
        return self._set() | _iter_set(other)

    def __and__(self, other: object) -> Any:
        return self._set() & _iter_set(other)

    def __sub__(self, other: object) -> Any:
        return self._set() - _iter_set(other)

    def __xor__(self, other: object) -> Any:
        return self._set() ^ _iter_set(other)

    def __ror__(self, other: object) -> Any:
        return _iter_set(other) | self._set()

    def __rand__(self, other: object) -> Any:
        return _iter_set(other) & self._set()

    def __rsub__(self, other: object) -> Any:
        return _iter_set(other) - self._set()

    def __rxor__(self, other: object) -> Any:
        return _iter_set(other) ^ self._set()

    def isdisjoint(self, other: Iterable[object], /) -> bool:
        return self._set().isdisjoint(other)


def _setlike(value: object) -> bool:
    return isinstance(value, _View | _SetBase)


def _as_set(value: object) -> _SetBase:
    return value._set() if isinstance(value, _View) else value  # type: ignore[return-value]


def _iter_set(value: object) -> SpySet:
    if isinstance(value, _View):
        return value._set()
    if isinstance(value, SpySet):
        return value
    try:
        return SpySet(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"'{spy_type_name(value)}' object is not iterable") from None


class DictKeys(_View):
    """``d.keys()``: a live view whose set operations build SPy sets."""

    __slots__ = ()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._d)

    def __reversed__(self) -> Iterator[Any]:
        return iter(reversed(self._d))

    def __contains__(self, key: object) -> bool:
        return key in self._d


class DictItems(_View):
    """``d.items()``: a live view of ``(key, value)`` pairs."""

    __slots__ = ()

    def __iter__(self) -> Iterator[Any]:
        return iter(dict.items(self._d))

    def __reversed__(self) -> Iterator[Any]:
        return reversed(dict.items(self._d))

    def __contains__(self, item: object) -> bool:
        return item in dict.items(self._d)  # type: ignore[operator]


for _view, _n in ((DictKeys, "dict_keys"), (DictItems, "dict_items")):
    _view.__name__ = _view.__qualname__ = _n
    _view.__module__ = "builtins"

VIEW_METHODS = frozenset({"isdisjoint"})


# -- ranges ----------------------------------------------------------------------------


class SpyRange:
    """SPy's ``range``: CPython's, plus chunked iteration for builtins (module docstring)."""

    __slots__ = ("_charge", "_r")

    def __init__(self, r: range, charge: Callable[[int], None]) -> None:
        self._r = r
        self._charge = charge

    def __iter__(self) -> Iterator[int]:
        r = self._r
        if len(r) <= RANGE_CHUNK:
            return iter(r)
        caller = sys._getframe(1)
        if caller.f_code.co_code[
            caller.f_lasti
        ] == _GET_ITER and not caller.f_code.co_filename.startswith(SPY_DIR):
            return iter(r)  # a SPy for loop or comprehension: it ticks by itself
        return itertools.chain.from_iterable(self._chunks(r))

    def _chunks(self, r: range) -> Iterator[range]:
        charge = self._charge
        for start in range(0, len(r), RANGE_CHUNK):
            chunk = r[start : start + RANGE_CHUNK]
            charge(len(chunk))
            yield chunk

    def __reversed__(self) -> Iterator[int]:
        return iter(SpyRange(self._r[::-1], self._charge))

    def __len__(self) -> int:
        return len(self._r)

    def __contains__(self, value: object) -> bool:
        return value in self._r

    def __getitem__(self, key: Any) -> Any:
        if type(key) is slice:
            return SpyRange(self._r[key], self._charge)
        return self._r[key]

    def __eq__(self, other: object) -> Any:
        if type(other) is SpyRange:
            return self._r == other._r
        return NotImplemented

    def __ne__(self, other: object) -> Any:
        if type(other) is SpyRange:
            return self._r != other._r
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._r)

    def __bool__(self) -> bool:
        return bool(self._r)

    def __repr__(self) -> str:
        return repr(self._r)

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("cannot pickle 'range' object")

    @property
    def start(self) -> int:
        return self._r.start

    @property
    def stop(self) -> int:
        return self._r.stop

    @property
    def step(self) -> int:
        return self._r.step

    def count(self, /, *args: Any, **kwargs: Any) -> int:
        return self._r.count(exactly_one("range.count", args, kwargs))

    def index(self, /, *args: Any, **kwargs: Any) -> int:
        value = exactly_one("range.index", args, kwargs)
        try:
            return self._r.index(value)
        except ValueError:
            pass
        raise ValueError(f"{_repr(value)} is not in range")  # CPython's, with SPy's repr


SpyRange.__name__ = SpyRange.__qualname__ = "range"
SpyRange.__module__ = "builtins"
RANGE_ATTRS = frozenset({"count", "index", "start", "stop", "step"})
