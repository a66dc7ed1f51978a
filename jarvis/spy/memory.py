"""How much memory a running program holds: the judge behind ``max_memory_bytes``.

Single operations are refused before they allocate (``guards.py``). What they cannot
see is growth over many steps (``while True: lst.append([0] * 10000)``). The meter
watches the process's resident size cheaply (``limits.resident_bytes``); when the growth
attributed to the run passes the limit, this module measures what the program actually
holds: the objects reachable from its globals and from the locals of its live frames,
following only SPy values (containers, functions' defaults and closures, iterators,
exceptions' args), never into the host, the builtins or a Book. Only if *that* passes
the limit does the run fail: a host buffering records in the same thread, or another
execution's garbage, is never blamed on the program.

The walk is breadth-first and stops as soon as the total passes the budget, so a
program holding a few huge values is judged after visiting a few objects.
"""

from __future__ import annotations

import contextlib
import gc
import sys
from collections import deque
from collections.abc import Iterable, Mapping
from types import CodeType, FrameType, FunctionType, GeneratorType, MethodType
from typing import Any

from jarvis.spy.containers import DictItems, DictKeys, SpyFrozenSet, SpyRange, SpySet

# Objects whose every referent is a program value: CPython's containers and iterators.
_REFERENTS: frozenset[type] = frozenset(
    {
        list, tuple, dict, SpySet, SpyFrozenSet, map, filter, zip, enumerate, reversed,
        type(iter([])), type(iter(())), type(iter({})), type(iter({}.values())),
        type(iter({}.items())), type(iter("")), type(iter(b"")), type(iter(range(1))),
        type(reversed([])), type(iter(set())),
    }
)  # fmt: skip
_ATOMS: frozenset[type] = frozenset({int, float, bool, str, bytes, type(None)})


def held_bytes(
    roots: Iterable[object],
    budget: int,
    code_objects: frozenset[CodeType],
    frame: FrameType | None,
    base: FrameType | None,
) -> int:
    """Bytes held by ``roots`` and the program frames from ``frame`` down to ``base``.

    Returns as soon as the total passes ``budget`` (the exact total is not needed then).
    """
    seen: set[int] = set()
    todo: deque[object] = deque(roots)
    f = frame
    while f is not None and f is not base:
        if f.f_code in code_objects:
            todo.extend(f.f_locals.values())
        f = f.f_back
    total = 0
    getsizeof = sys.getsizeof
    while todo:
        obj = todo.popleft()
        key = id(obj)
        if key in seen:
            continue
        seen.add(key)
        t = type(obj)
        total += getsizeof(obj)
        if total > budget:
            return total
        if t in _ATOMS:
            continue
        if t in _REFERENTS:
            todo.extend(gc.get_referents(obj))
        elif t is DictKeys or t is DictItems:
            todo.append(obj._d)  # type: ignore[attr-defined]
        elif t is FunctionType:
            todo.extend(_function_parts(obj))  # type: ignore[arg-type]
        elif t is MethodType:
            todo.append(obj.__self__)  # type: ignore[attr-defined]
        elif t is GeneratorType:
            gen_frame = obj.gi_frame  # type: ignore[attr-defined]
            if gen_frame is not None:
                todo.extend(gen_frame.f_locals.values())
        elif isinstance(obj, BaseException):
            todo.extend(obj.args)
        elif t is SpyRange:
            continue  # a few ints; its meter hook is the runtime's
        # Anything else (builtins, types, Books, namespaces): its own size, not followed.
    return total


def _function_parts(fn: FunctionType) -> list[Any]:
    parts: list[Any] = list(fn.__defaults__ or ())
    if fn.__kwdefaults__:
        parts.extend(fn.__kwdefaults__.values())
    for cell in fn.__closure__ or ():
        with contextlib.suppress(ValueError):  # an empty cell
            parts.append(cell.cell_contents)
    return parts


def program_roots(env: Mapping[str, object]) -> list[object]:
    """The program's own globals (not SPy's ``__spy_*`` helpers, builtins or Books)."""
    from jarvis.spy.books import BookNamespace

    return [v for k, v in env.items() if not k.startswith("__") and type(v) is not BookNamespace]
