"""How much memory a running program holds: the second opinion behind ``max_memory_bytes``.

Single operations are refused before they allocate (``guards.py``). What they cannot
see is growth over many steps (``while True: lst.append([0] * 10000)``). The meter
(``meter.py``) watches the process's resident size cheaply; once it has grown by more
than the limit since the run started, this module measures what the program actually
holds, so that memory CPython keeps after frees (pymalloc arenas, free lists, malloc's
heap) is never blamed on a program that holds little.

``held_bytes`` walks the objects reachable from the program's globals and from the
locals of the live frames of the program and of SPy's builtins (never the host's, nor
what the host calls), following what program values can hold: containers and their
iterators, dict views, bound methods' ``__self__`` (``("x" * 10**7).upper``), the
program's functions' defaults and closures, suspended generators (their frame, value
stack included), exceptions' args, tracebacks, causes and contexts, and through
tracebacks the finished frames of the program's functions with their locals. It never
follows into the host, the builtins, SPy's own functions or a Book: those count their
own size only.

What no walk can see: values on the value stack of a *running* frame, above all the
list a comprehension is building (CPython keeps it on the stack until the comprehension
returns), and the batch ``Guards.materialize`` builds in C. ``building`` tells the
meter when such a frame is live; the meter then charges resident growth to the program
without the walk's confirmation (``Meter.probe_memory``).

Cheap by construction:

- It stops as soon as the total passes the budget (the limit): a program holding a few
  huge values is judged after visiting a few objects.
- Objects are visited in batches with C-level ``map``/``compress``/``sum``; Python code
  runs once per batch and once per container, not once per element.
- An object whose reference count says it is referenced exactly once (by the container
  being read) cannot be reached twice: it is counted without entering the ``seen`` set.
  Walking a list of a million distinct ints keeps no million-entry set, which would
  cost more memory than the ints just when memory is short. (A cell's value is the one
  exception: a live frame's ``f_locals`` shows it without a reference of its own, so
  cells' values always go through ``seen``.) Big containers are read in chunks.
"""

from __future__ import annotations

import contextlib
import dis
import gc
import itertools
import os
import sys
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import accumulate, compress, repeat
from operator import is_, not_
from types import (
    BuiltinMethodType,
    CellType,
    CodeType,
    FrameType,
    FunctionType,
    GeneratorType,
    ModuleType,
    TracebackType,
)
from typing import Any

from jarvis.spy._names import SPY_DIR
from jarvis.spy.values.containers import DictItems, DictKeys, SpyFrozenSet, SpySet
from jarvis.spy.values.names import BoundWrapper

_ITERATOR_SAMPLES: tuple[object, ...] = (
    iter([]), iter(()), iter({}), iter({}.values()), iter({}.items()), iter(""),
    iter("\u20ac"), iter(b""), iter(range(1)), iter(range(2**70)), iter(set()),
    reversed([]), reversed(()), reversed(range(1)), reversed(range(2**70)),
    reversed({}), reversed({}.values()), reversed({}.items()), reversed("ab"),
    map(len, ()), filter(None, ()), zip(), enumerate(()), iter(int, 1),
    itertools.chain(), itertools.islice((), 0), {}.keys(), {}.values(), {}.items(),
)  # fmt: skip
#: Types whose every referent (``gc.get_referents``) is a program value, or an object
#: the walk judges by its type in turn: iterators, views, tracebacks, the SPy views.
_BY_REFERENTS: frozenset[type] = frozenset(
    {*map(type, _ITERATOR_SAMPLES), TracebackType, DictKeys, DictItems}
)
#: Containers whose referents are their items (dicts: keys and values; sets: elements,
#: ``None`` and their type).
_CONTAINERS: frozenset[type] = frozenset({list, tuple, dict, SpySet, SpyFrozenSet})
#: Never followed (a ``str`` refers to nothing): their size is all there is.
_ATOMS: frozenset[type] = frozenset({int, float, bool, complex, str, bytes, type(None)})
#: Code names of the frames that build their result on CPython's value stack.
BUILDERS: frozenset[str] = frozenset({"<listcomp>", "<dictcomp>", "<setcomp>"})
#: Objects per batch: a container with more items is read in chunks of this many, so
#: the walk's own lists stay small (the walk runs when memory is short).
_CHUNK = 1 << 14
#: Small containers are read together through ``gc.get_referents`` until their items
#: reach ``_CHUNK``; other objects (iterators, frames...) this many at a time.
_GROUP_OBJECTS = 1 << 10
_CO_OPTIMIZED = 0x0001
#: SPy's modules whose functions run for the program (builtins, guards, containers):
#: their live frames' locals are the program's values in the making.
_HELPER_FILES: frozenset[str] = frozenset(
    os.path.join(SPY_DIR, *name.split("/"))
    for name in (
        "runtime/environment.py", "runtime/gate.py", "runtime/guards.py",
        "runtime/namespaces.py", "values/containers.py", "values/text.py",
    )
)  # fmt: skip


def _flags(batch: list[object], unshared: int) -> list[bool]:
    """For each object of ``batch``: is its reference count exactly ``unshared``?"""
    return list(map(unshared.__eq__, map(sys.getrefcount, batch)))


def _calibrate() -> int:
    """The count ``_flags`` sees for an object referenced once besides by the batch (a
    list the walk made): CPython 3.11 counts that reference, the batch's slot and the
    iterator's temporary. 0 (every object then goes through ``seen``) unless one more
    reference shows."""
    holder = [object()]
    batch = list(holder)
    count = next(map(sys.getrefcount, batch))
    once = _flags(batch, count)
    another = list(holder)
    twice = _flags(batch, count)
    del another
    return count if once == [True] and twice == [False] else 0


_UNSHARED = _calibrate()
#: ``sys.getsizeof`` adds the cycle collector's header to a container's ``__sizeof__``.
_GC_HEADER = sys.getsizeof([]) - [].__sizeof__()
#: ``__sizeof__`` of the commonest types, called directly: ``sys.getsizeof`` looks the
#: method up on every call, ~5x slower. The value is what to add per object.
_SIZEOF: dict[type, tuple[object, int]] = {
    int: (int.__sizeof__, 0), float: (float.__sizeof__, 0), str: (str.__sizeof__, 0),
    bytes: (bytes.__sizeof__, 0), list: (list.__sizeof__, _GC_HEADER),
    tuple: (tuple.__sizeof__, _GC_HEADER), dict: (dict.__sizeof__, _GC_HEADER),
}  # fmt: skip


class _Walk:
    """One measurement: batches to visit, the ids of shared objects seen, a total."""

    __slots__ = ("budget", "code_objects", "judges", "seen", "sources", "todo", "total")

    def __init__(self, budget: int, code_objects: frozenset[CodeType]) -> None:
        self.budget = budget
        self.code_objects = code_objects
        self.judges: dict[type, Callable[[Any], bool]] = {
            FunctionType: self.function,
            CellType: self.cell,
            GeneratorType: self.generator,
            FrameType: self.frame,
            BuiltinMethodType: self.builtin_method,
            BoundWrapper: self.bound_wrapper,  # a guarded method (``s.join``): its ``_owner``
        }
        self.seen: set[int] = set()
        # (batch, True if every object must go through ``seen``)
        self.todo: list[tuple[list[object], bool]] = []
        self.sources: list[Iterator[list[object]]] = []  # big containers, chunk by chunk
        self.total = 0

    def run(self) -> int:
        todo = self.todo
        sources = self.sources
        while self.total <= self.budget:
            if todo:
                batch, shared_only = todo.pop()
                self.visit(batch, shared_only)
            elif sources:
                chunk = next(sources[-1], None)
                if chunk is None:
                    sources.pop()
                else:
                    self.visit(chunk, False)
            else:
                break
        return self.total

    def visit(self, batch: list[object], shared_only: bool) -> None:
        """Count the objects of ``batch`` not counted yet; queue what they hold.

        ``batch`` is a list the walk made, so it holds one reference to each object; an
        object with exactly one more is referenced only by the container the batch was
        read from, and reached only through it: no need to remember it in ``seen``.
        """
        holders: list[object] = []
        if len(batch) > 1 and all(map(is_, batch, repeat(batch[0]))):
            batch, shared_only = batch[:1], True  # [x] * n: one object, shared
        shared = batch
        if _UNSHARED and not shared_only:
            flags = _flags(batch, _UNSHARED)
            if all(flags):
                single, shared = batch, []
            elif any(flags):
                single = list(compress(batch, flags))
                shared = list(compress(batch, map(not_, flags)))
            else:
                single = []
            if single:
                holders = self.count(single)
        if shared:
            by_id = dict(zip(map(id, shared), shared, strict=True))
            new = by_id.keys() - self.seen
            if new:
                self.seen |= new
                holders += self.count(list(map(by_id.__getitem__, new)))
        if holders and self.total <= self.budget:
            self.follow(holders)

    def count(self, objs: list[object]) -> list[object]:
        """Add the sizes of ``objs`` to the total; return those that hold others."""
        types = list(map(type, objs))
        first = types[0]
        if types.count(first) == len(types):  # one type, as in most containers
            sizeof, header = _SIZEOF.get(first, (sys.getsizeof, 0))
            self.total += sum(map(sizeof, objs)) + header * len(objs)  # type: ignore[call-overload]
            return [] if first in _ATOMS else objs
        self.total += sum(map(sys.getsizeof, objs))
        return list(compress(objs, map(not_, map(_ATOMS.__contains__, types))))

    def follow(self, holders: list[object]) -> None:
        """Queue what each object of ``holders`` (no atoms) holds."""
        plain = list(map(_CONTAINERS.__contains__, map(type, holders)))
        containers = list(compress(holders, plain))
        if containers:
            self.containers(containers)
        if len(containers) < len(holders):
            self.others(compress(holders, map(not_, plain)))

    def containers(self, containers: list[object]) -> None:
        """Lists, tuples, dicts and sets, the bulk of a heap, with no Python loop per
        container: big ones are read in chunks, small ones through ``gc.get_referents``
        (items; a dict's keys and values; a set's elements, ``None``s and type) about
        ``_CHUNK`` items at a time."""
        sizes = list(map(len, containers))  # type: ignore[arg-type]
        big = list(map(_CHUNK.__lt__, sizes))
        for obj in compress(containers, big):
            t = type(obj)
            if t is list or t is tuple:
                self.sources.append(_slices(obj))  # type: ignore[arg-type]
            else:
                self.sources.append(_chunks(dict.keys(obj)))  # type: ignore[arg-type]
                if t is dict:
                    self.sources.append(_chunks(dict.values(obj)))  # type: ignore[arg-type]
        small = list(compress(containers, map(not_, big)))
        ends = list(accumulate(compress(sizes, map(not_, big))))
        start, done, n = 0, 0, len(small)
        todo = self.todo
        while start < n:
            stop = max(bisect_right(ends, done + _CHUNK, start), start + 1)
            todo.append((gc.get_referents(*small[start:stop]), False))
            done = ends[stop - 1]
            start = stop

    def others(self, holders: Iterable[object]) -> None:
        """Everything but the plain containers: judged one by one, by type."""
        group: list[object] = []
        todo = self.todo
        judges = self.judges
        for obj in holders:
            t = type(obj)
            if t not in _BY_REFERENTS:
                judge = judges.get(t)
                if not (isinstance(obj, BaseException) if judge is None else judge(obj)):
                    continue  # handled, or (types, Books, SPy internals) its own size only
            group.append(obj)  # exceptions: args, traceback, cause, context
            if len(group) >= _GROUP_OBJECTS:
                todo.append((gc.get_referents(*group), False))
                group = []
        if group:
            todo.append((gc.get_referents(*group), False))

    # Judges: True if the walk reads the object's referents, False if it is done with it
    # (having queued what the object holds, if anything).

    def function(self, obj: FunctionType) -> bool:
        if obj.__code__ in self.code_objects:
            self.todo.append((_function_parts(obj), False))
        return False  # SPy's own functions: their size only

    def cell(self, obj: CellType) -> bool:
        # A cell's value is also what a live frame's f_locals shows for it: the two paths
        # are one reference, so both go through ``seen``.
        with contextlib.suppress(ValueError):  # an empty cell
            self.todo.append(([obj.cell_contents], True))
        return False

    @staticmethod
    def generator(obj: GeneratorType) -> bool:  # type: ignore[type-arg]
        # Running: its frame is live, walked with the stack, not twice. Suspended: its
        # frame's locals and value stack.
        return not obj.gi_running

    def frame(self, obj: FrameType) -> bool:
        # A finished frame: its locals and stack; a live one: f_back only. Not the
        # program's (run_program's frame, a guard's): its size only.
        return obj.f_code in self.code_objects

    def builtin_method(self, obj: BuiltinMethodType) -> bool:
        owner = obj.__self__
        if owner is not None and type(owner) is not ModuleType:
            self.todo.append(([owner], False))
        return False

    def bound_wrapper(self, obj: BoundWrapper) -> bool:
        self.todo.append(([obj._owner], False))
        return False


def _slices(seq: list[object] | tuple[object, ...]) -> Iterator[list[object]]:
    """A big list or tuple, ``_CHUNK`` items at a time, each chunk a list of its own."""
    for i in range(0, len(seq), _CHUNK):
        chunk = seq[i : i + _CHUNK]
        yield chunk if type(chunk) is list else list(chunk)


def _chunks(view: Iterable[object]) -> Iterator[list[object]]:
    """A big dict's keys or values, ``_CHUNK`` at a time."""
    it = iter(view)
    while chunk := list(itertools.islice(it, _CHUNK)):
        yield chunk


def _function_parts(fn: FunctionType) -> list[object]:
    """What a program function holds: its defaults and its closure (a tuple of cells)."""
    return [p for p in (fn.__defaults__, fn.__kwdefaults__, fn.__closure__) if p]


def held_bytes(
    roots: Iterable[object],
    budget: int,
    code_objects: frozenset[CodeType],
    frame: FrameType | None,
    base: FrameType | None,
) -> int:
    """Bytes held by ``roots`` and by the live frames from ``frame`` down to ``base``.

    ``roots`` are the program's globals (``program_roots``). Of the frames above
    ``base`` (``run_program``'s), the locals count of the program's and of SPy's
    builtins and guards (a builtin materialising an iterator holds the list it is
    building in a local), but only below the oldest frame of anything else: the meter
    itself, or the host (a host rendering a value for a log record, whose buffers are
    not the program's, may call SPy's helpers too; the host never calls the program).
    Returns as soon as the total passes ``budget``; below it the total is exact for what
    the walk can see (``sys.getsizeof`` of each object reached, each counted once).
    """
    walk = _Walk(budget, code_objects)
    chain: list[FrameType] = []
    f = frame
    while f is not None and f is not base:
        code = f.f_code
        if code in code_objects or code.co_filename in _HELPER_FILES:
            chain.append(f)
        else:
            chain.clear()  # it and everything it called are not the program's doing
        f = f.f_back
    values: list[object] = list(roots)
    cells: list[object] = []
    for f in chain:
        _locals(f, values, cells)
    walk.todo.append((cells, True))
    walk.todo.append((values, False))
    return walk.run()


def _locals(frame: FrameType, values: list[object], cells: list[object]) -> None:
    """Add a live frame's local values to ``values``, its cells' values to ``cells``.

    Up to CPython 3.12, ``f_locals`` copies the fast locals into a dict the frame keeps,
    which would keep values alive after the program dropped them: it is cleared again
    (harmless for an optimised frame, whose fast locals are the truth; SPy runs no other
    kind). From 3.13 (PEP 667) it is a write-through proxy that keeps nothing: clearing
    it would delete the locals, so it is left alone.
    """
    snapshot = frame.f_locals
    code = frame.f_code
    if code.co_cellvars or code.co_freevars:
        shared = {*code.co_cellvars, *code.co_freevars}
        for name, value in snapshot.items():
            (cells if name in shared else values).append(value)
    else:
        values += snapshot.values()
    if code.co_flags & _CO_OPTIMIZED and type(snapshot) is dict:
        snapshot.clear()


Builders = Mapping[CodeType, tuple[tuple[int, int], ...] | None]
"""Code that builds a value where no walk sees it -> the byte ranges of its instructions
that do (``None``: all of them)."""

_BUILD_OPS = frozenset({"BUILD_LIST", "BUILD_MAP", "BUILD_SET"})


def building(frame: FrameType | None, base: FrameType | None, builders: Builders) -> bool:
    """Is a frame live below ``frame`` inside one of ``builders``' ranges?"""
    f = frame
    while f is not None and f is not base:
        code = f.f_code
        if code in builders:
            ranges = builders[code]
            if ranges is None or any(start <= f.f_lasti < end for start, end in ranges):
                return True
        f = f.f_back
    return False


def builder_codes(
    code_objects: Iterable[CodeType],
) -> dict[CodeType, tuple[tuple[int, int], ...] | None]:
    """The program's comprehensions, which build their result on CPython's value stack.

    Up to CPython 3.11 a comprehension is a code object of its own (``<listcomp>``...):
    all of it builds. From 3.12 (PEP 709) list, dict and set comprehensions are inlined
    in the enclosing code: ``LOAD_FAST_AND_CLEAR`` (saving the loop variables), ``SWAP``,
    ``BUILD_LIST``, ``SWAP``, ``FOR_ITER``; the value is on the stack from the build to
    the loop's end (``FOR_ITER``'s target). Read by instruction name, not opcode number.
    """
    out: dict[CodeType, tuple[tuple[int, int], ...] | None] = {}
    for code in code_objects:
        if code.co_name in BUILDERS:
            out[code] = None
            continue
        ranges = _inlined_builds(list(dis.get_instructions(code)))
        if ranges:
            out[code] = ranges
    return out


def _inlined_builds(ins: list[dis.Instruction]) -> tuple[tuple[int, int], ...]:
    names = [i.opname for i in ins]
    return tuple(
        (ins[k - 2].offset, int(ins[k].argval) + 2)
        for k in range(4, len(ins))
        if names[k] == "FOR_ITER"
        and names[k - 1] == "SWAP"
        and names[k - 2] in _BUILD_OPS
        and names[k - 3] == "SWAP"
        and names[k - 4] == "LOAD_FAST_AND_CLEAR"
    )
