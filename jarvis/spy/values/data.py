"""The one converter for every value that crosses between a program and the host.

Inward, host data a program receives (its inputs, effect and Book results) goes through
``copy_in``: a deep copy into exact SPy types. Outward, effect and Book arguments, log
values, the result: everything a program hands to the host goes through ``render``
(lossless-enough JSON data for the log and the result) or ``plain`` (exact data for
effect requests, their digests and the journal). All three share ``MAX_DEPTH``; the two
outward walks take the value once with three budgets:

- **size**: an estimate of the JSON bytes the value becomes, counted per occurrence, so a
  value with shared substructure (``a = [a, a]`` forty times: 2^40 paths) is measured
  without being expanded; past the budget the walk stops at once;
- **depth**: nesting deeper than ``MAX_DEPTH`` is cut off (``render``) or refused (``plain``);
- **work**: every node visited counts; every ``CHECK_EVERY`` nodes the meter's ``check_now``
  runs, so a stop or the wall clock interrupts a long conversion.

Shared substructure is memoised by identity: a list met twice is converted once and its
data object reused, so the work is linear in the number of distinct objects. (The output
may still share objects; ``orjson`` writes each occurrence, which is why the size budget
counts occurrences.)

``plain`` produces exactly what ``orjson`` (the digest, the journal, Kafka) accepts: ints in
the signed 64-bit range, finite floats, str keys. A value that cannot cross raises a plain
``TypeError``/``ValueError`` naming what is wrong: raised inside the program's builtin, it
becomes a SPy exception at the program's line, never a host exception.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any

from jarvis.spy.values.names import spy_type_name
from jarvis.spy.values.text import _ARRAY_TYPES, ValueTooLarge, spy_repr

MAX_DEPTH = 100
"""Deepest nesting that crosses: ``render`` cuts deeper values off as ``"..."``, ``plain``
and ``copy_in`` refuse them. Far below CPython's recursion limit, with headroom for the
host; above what the public contract lets inputs nest (``MAX_JSON_DEPTH``, 64)."""

CHECK_EVERY = 4096
"""Nodes converted between two calls of the meter's ``check_now`` (stops, wall clock)."""

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


_SURROGATE = re.compile("[\ud800-\udfff]")


def utf8_safe(text: str) -> str:
    """``text`` as UTF-8 can carry it: lone surrogates (valid in a Python str, not in JSON,
    the journal or Kafka) become U+FFFD. For rendered values only (log records, the
    result); ``plain`` refuses them instead."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


class TooLarge(ValueError):
    """The value's JSON would be larger than the budget (``size`` bytes at least)."""

    def __init__(self, what: str, budget: int) -> None:
        super().__init__(f"{what} would be more than {budget:,} bytes as JSON")
        self.budget = budget


class _Walk:
    __slots__ = ("budget", "check", "cycles", "memo", "nodes", "size", "what")

    def __init__(self, what: str, budget: int, check: Callable[[], None] | None) -> None:
        self.what = what
        self.budget = budget
        self.check = check
        self.size = 0
        self.nodes = 0
        self.cycles = 0  # cycle markers written: a container below one is not memoised
        # id -> (data, json size) of containers converted without meeting a cycle.
        self.memo: dict[int, tuple[object, int]] = {}

    def add(self, n: int) -> None:
        self.size += n
        if self.size > self.budget:
            raise TooLarge(self.what, self.budget)

    def visit(self) -> None:
        self.nodes += 1
        if self.nodes % CHECK_EVERY == 0 and self.check is not None:
            self.check()


def _str_size(s: str) -> int:
    # JSON of an ASCII string without escapes is its length + 2 quotes; otherwise be
    # generous (orjson writes UTF-8; control characters become 6-byte escapes).
    n = len(s)
    return n + 2 if s.isascii() and s.isprintable() else 6 * n + 2


# -- render: for log records and the result --------------------------------------------


def render(
    value: object, budget: int, check: Callable[[], None] | None = None, what: str = "the value"
) -> tuple[object, str, int]:
    """``(JSON-safe data, SPy type name, estimated JSON size)`` of a program value.

    The rendering of ``render_value``, computed with the budgets above: ``TooLarge``
    when the JSON would pass ``budget`` bytes.
    """
    walk = _Walk(what, budget, check)
    data = _render(value, 0, set(), walk)
    return data, spy_type_name(value), walk.size


def _leaf(v: Any, w: _Walk) -> tuple[bool, object]:
    """A scalar's rendering, counted: (True, data); (False, None) for anything else."""
    t = type(v)
    if t is str:
        if v.isascii():
            w.size += len(v) + 2 if v.isprintable() else 6 * len(v) + 2
            return True, v
        v = utf8_safe(v)
        w.size += 6 * len(v) + 2
        return True, v
    if t is int and _INT64_MIN <= v <= _INT64_MAX:
        w.size += v.bit_length() * 10 // 33 + 2
        return True, v
    if t is bool or v is None:
        w.size += 5
        return True, v
    if t is float and math.isfinite(v):
        w.size += 24
        return True, v
    return False, None


def _render(value: object, depth: int, active: set[int], w: _Walk) -> object:
    t = type(value)
    if t is int:
        return _render_int(value, w)  # type: ignore[arg-type]
    if t is float:
        w.add(24)
        return value if math.isfinite(value) else str(value)  # type: ignore[arg-type]
    ok, data = _leaf(value, w)
    if ok:
        w.add(0)
        return data
    if t is dict or t in _ARRAY_TYPES:
        return _render_container(value, depth, active, w)
    try:
        text = utf8_safe(spy_repr(value, 4096))
    except ValueTooLarge:  # an exception holding a huge value, say
        text = f"<{spy_type_name(value)} object: its repr is longer than 4096 characters>"
    w.add(_str_size(text))
    return text


def _render_int(value: int, w: _Walk) -> object:
    if _INT64_MIN <= value <= _INT64_MAX:
        w.add(value.bit_length() * 10 // 33 + 2)  # digits, sign
        return value
    try:
        text = str(value)
    except ValueError:  # more digits than sys.get_int_max_str_digits()
        text = f"<int with {value.bit_length()} bits>"
    w.add(len(text) + 2)
    return text


def _render_container(value: Any, depth: int, active: set[int], w: _Walk) -> object:
    """A dict, sequence, set or view: cut off past ``MAX_DEPTH``, memoised by identity,
    a reference to an ancestor shown as CPython's repr does (``[...]``)."""
    t = type(value)
    if depth >= MAX_DEPTH:
        w.add(5)
        return "..."
    key = id(value)
    hit = w.memo.get(key)
    if hit is not None:
        w.visit()
        w.add(hit[1])
        return hit[0]
    if key in active:
        w.cycles += 1
        w.add(5)
        return "[...]" if t is list else "(...)" if t is tuple else "{...}"
    active.add(key)
    start = w.size
    cycles = w.cycles
    try:
        w.visit()
        w.size += 2
        data = (
            _render_dict(value, depth, active, w)
            if t is dict
            else _render_items(value, depth, active, w)
        )
        w.add(0)  # the budget, checked once per container for its scalars
    finally:
        active.discard(key)
    if w.cycles == cycles:  # nothing below referred back to an ancestor: reusable
        w.memo[key] = (data, w.size - start)
    return data


def _render_dict(value: dict[Any, Any], depth: int, active: set[int], w: _Walk) -> object:
    """A dict with str keys as a JSON object; any other as a list of ``[key, value]``."""
    if not all(type(k) is str for k in value):
        pairs = [
            [_render(k, depth + 1, active, w), _render(v, depth + 1, active, w)]
            for k, v in value.items()
        ]
        w.size += 4 * len(pairs)
        return pairs
    out: dict[str, object] = {}
    for k, v in value.items():
        if k.isascii():
            w.size += len(k) + 4 if k.isprintable() else 6 * len(k) + 4
        else:
            k = utf8_safe(k)
            w.size += 6 * len(k) + 4
        ok, d = _leaf(v, w)
        out[k] = d if ok else _render(v, depth + 1, active, w)
    return out


def _render_items(value: Any, depth: int, active: set[int], w: _Walk) -> object:
    arr: list[object] = []
    for v in value:
        ok, d = _leaf(v, w)
        arr.append(d if ok else _render(v, depth + 1, active, w))
    w.size += len(arr)
    return arr


def render_value(value: object) -> tuple[object, str]:
    """Render a SPy value for a log record: ``(JSON-safe data, SPy type name)``.

    - ``None``/``bool``/``str`` as themselves; ``int`` as itself inside the signed 64-bit
      range, else as its decimal string (type stays ``"int"``); non-finite floats as
      ``"nan"``/``"inf"``/``"-inf"``.
    - ``list``, ``tuple``, ``set`` and ``frozenset`` as JSON arrays (the type name says
      which); sets in their (insertion) iteration order.
    - ``dict`` as a JSON object when every key is a ``str``; otherwise as a list of
      ``[key, value]`` pairs (lossless: ``1`` and ``"1"`` stay distinct). The type name is
      ``"dict"`` in both cases; consumers tell them apart by object vs array.
    - dict views (``d.keys()``...) as arrays of their items.
    - ``bytes``, functions, builtins, ranges, iterators, exceptions and anything else as
      their deterministic repr string, e.g. ``"b'\\x00'"``, ``"<function f>"``.
      Rendering never consumes an iterator.
    - a container met again inside itself renders as ``"[...]"``/``"(...)"``/``"{...}"``;
      nesting deeper than ``MAX_RENDER_DEPTH`` is cut off as ``"..."``.
    """
    t = type(value)
    # Fast path for the common scalars (one record per statement: this is hot).
    if t is str:
        return utf8_safe(value), "str"  # type: ignore[arg-type]
    if t is bool:
        return value, "bool"
    if value is None:
        return None, "NoneType"
    if t is int and _INT64_MIN <= value <= _INT64_MAX:  # type: ignore[operator]
        return value, "int"
    data, type_name, _ = render(value, sys.maxsize)
    return data, type_name


# -- plain: effect and Book arguments ----------------------------------------------------


def plain(value: object, what: str, budget: int, check: Callable[[], None] | None = None) -> object:
    """Exact plain data for an effect request: None, bool, int (64-bit), finite float,
    str, bytes, list (tuples become lists), dict with str keys.

    ``TypeError`` for another type or a non-str key, ``ValueError`` for an int outside the
    64-bit range, a non-finite float, nesting past ``MAX_DEPTH`` or more than ``budget``
    bytes. ``what`` names the thing in messages ("Book arguments").
    """
    t = type(value)
    if (t is list or t is dict) and len(value) <= 16:  # type: ignore[arg-type]
        # Fast path (every Book call): a few small scalars need no walk.
        items: Any = value.values() if t is dict else value  # type: ignore[attr-defined]
        if all(
            ((tv := type(v)) is int and _INT64_MIN <= v <= _INT64_MAX)
            or tv is bool
            or v is None
            or (tv is str and len(v) <= 256 and v.isascii())
            for v in items
        ) and (t is list or all(type(k) is str and k.isascii() for k in value)):  # type: ignore[attr-defined]
            return list(value) if t is list else dict(value)  # type: ignore[call-overload]
    try:
        return _plain(value, 0, set(), _Walk(what, budget, check))
    except TooLarge as exc:  # a plain ValueError for the program: no host class name
        raise ValueError(str(exc)) from None


def _check_utf8(text: str, w: _Walk) -> str:
    if not text.isascii() and utf8_safe(text) is not text:
        raise ValueError(f"{w.what} may not hold strings with lone surrogates (not valid UTF-8)")
    return text


def _plain(value: object, depth: int, active: set[int], w: _Walk) -> object:
    t = type(value)
    if t is str:
        w.add(_str_size(value))  # type: ignore[arg-type]
        return _check_utf8(value, w)  # type: ignore[arg-type]
    if t is bool or value is None:
        w.add(5)
        return value
    if t is int:
        if not _INT64_MIN <= value <= _INT64_MAX:  # type: ignore[operator]
            raise ValueError(
                f"{w.what} may only hold ints in the signed 64-bit range (JSON's), "
                f"got one of {value.bit_length()} bits"  # type: ignore[attr-defined]
            )
        w.add(value.bit_length() * 10 // 33 + 2)  # type: ignore[attr-defined]
        return value
    if t is float:
        if not math.isfinite(value):  # type: ignore[arg-type]
            raise ValueError(f"{w.what} may only hold finite floats, got {value!r}")
        w.add(24)
        return value
    if t is bytes:
        w.add(len(value) * 4 // 3 + 8)  # type: ignore[arg-type]
        return value
    if t is list or t is tuple or t is dict:
        return _plain_container(value, depth, active, w)
    raise TypeError(
        f"{w.what} must be plain data (None, bool, int, float, str, bytes, list, tuple, dict), "
        f"not {spy_type_name(value)}"
    )


def _plain_container(value: Any, depth: int, active: set[int], w: _Walk) -> object:
    """A list, tuple (becomes a list) or dict (str keys only), memoised by identity."""
    t = type(value)
    if depth >= MAX_DEPTH:
        raise ValueError(f"{w.what} are nested more than {MAX_DEPTH} levels deep")
    key = id(value)
    if key in active:
        raise ValueError(f"{w.what} contain a reference to themselves")
    hit = w.memo.get(key)
    if hit is not None:
        w.visit()
        w.add(hit[1])
        return hit[0]
    active.add(key)
    start = w.size
    try:
        w.visit()
        w.add(2)
        data: object
        if t is dict:
            out: dict[str, object] = {}
            for k, v in value.items():
                if type(k) is not str:
                    raise TypeError(f"{w.what}: dict keys must be str, not {spy_type_name(k)}")
                _check_utf8(k, w)
                w.add(_str_size(k) + 2)
                out[k] = _plain(v, depth + 1, active, w)
            data = out
        else:
            items = [_plain(v, depth + 1, active, w) for v in value]
            w.add(len(items))
            data = items
    finally:
        active.discard(key)
    w.memo[key] = (data, w.size - start)
    return data


# -- copy_in: inputs and effect results -------------------------------------------------

_EXACT_SCALARS = (bool, int, float, str, bytes)


def copy_in(value: object, what: str, _depth: int = 0) -> object:
    """Deep-copy host data into plain SPy values (exact ``dict``/``list``/``str``... types).

    The program must never hold a host object: a ``str`` subclass or a mapping type
    would bring its own methods past the attribute gate, which checks exact types.
    ``TypeError`` for anything else, or nesting past ``MAX_DEPTH``; ``what`` names the
    data in messages ("inputs").
    """
    if value is None or type(value) in _EXACT_SCALARS:
        return value
    if _depth >= MAX_DEPTH:
        raise TypeError(f"{what} are nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, Mapping):
        return {
            copy_in(k, what, _depth + 1): copy_in(v, what, _depth + 1) for k, v in value.items()
        }
    if isinstance(value, list):
        return [copy_in(v, what, _depth + 1) for v in value]
    if isinstance(value, tuple):
        return tuple(copy_in(v, what, _depth + 1) for v in value)
    return _exact_scalar(value, what)


def _exact_scalar(value: object, what: str) -> object:
    """A subclass of a scalar type, as the exact type (without calling its overrides)."""
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, bytes):
        return bytes(memoryview(value))
    raise TypeError(
        f"{what} may only hold None, bool, int, float, str, bytes, list, tuple and dict; "
        f"got {type(value).__name__}"
    )
