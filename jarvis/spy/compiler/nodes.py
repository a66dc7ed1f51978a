"""The compiler's building blocks: ``_At`` (new nodes at an old node's position), the
constants of the inline fast paths, and pure predicates on nodes."""

from __future__ import annotations

import ast
import copy
from typing import TypedDict

from jarvis.spy import _names
from jarvis.spy.runtime.guards import STATIC_SPEC_OK

# Expression contexts carry no data; the parser shares them too.
_LOAD = ast.Load()

_STORE = ast.Store()


#: Ints in (-_SMALL_INT, _SMALL_INT) multiply without any chance of a big result
#: (below 2**30: CPython's single-digit ints, whose comparisons are the fastest).
_SMALL_INT = (1 << 30) - 1

#: ``x ** 2`` / ``x ** 3`` are inlined for |x| below this (result < 2**60).
_POW_BASE = {2: 1 << 30, 3: 1 << 20}

#: ``x << c`` with a constant c up to this grows ints linearly: not guarded.
_SHIFT_OK = 64

#: f-strings with more formatted values than this always take the slow path.
_FSTRING_INLINE_PARTS = 64


class _Pos(TypedDict):
    lineno: int
    col_offset: int
    end_lineno: int
    end_col_offset: int


class _At:
    """Builds generated nodes, all carrying the position of one program node.

    Positions are set at construction (rather than by ``ast.fix_missing_locations``
    afterwards, which dominated the compile time of large programs). Every node the
    instrumenter creates comes from one of these builders; ``compile`` rejects a node
    without a position, so a forgotten one fails any test that reaches it.
    """

    __slots__ = ("pos",)

    def __init__(self, node: ast.AST) -> None:
        lineno: int = getattr(node, "lineno", 1)
        self.pos: _Pos = {
            "lineno": lineno,
            "col_offset": getattr(node, "col_offset", 0),
            "end_lineno": getattr(node, "end_lineno", None) or lineno,
            "end_col_offset": getattr(node, "end_col_offset", None) or 0,
        }

    def load(self, name: str) -> ast.Name:
        return ast.Name(id=name, ctx=_LOAD, **self.pos)

    def store(self, name: str) -> ast.Name:
        return ast.Name(id=name, ctx=_STORE, **self.pos)

    def const(self, value: str | int | float | None) -> ast.Constant:
        return ast.Constant(value=value, **self.pos)

    def call(
        self, func: str, *args: ast.expr, keywords: list[ast.keyword] | None = None
    ) -> ast.Call:
        return ast.Call(func=self.load(func), args=list(args), keywords=keywords or [], **self.pos)

    def walrus(self, name: str, value: ast.expr) -> ast.NamedExpr:
        return ast.NamedExpr(target=self.store(name), value=value, **self.pos)

    def compare(self, left: ast.expr, op: ast.cmpop, right: ast.expr) -> ast.Compare:
        return ast.Compare(left=left, ops=[op], comparators=[right], **self.pos)

    def chain(self, left: ast.expr, ops: list[ast.cmpop], rights: list[ast.expr]) -> ast.Compare:
        return ast.Compare(left=left, ops=ops, comparators=rights, **self.pos)

    def ifexp(self, test: ast.expr, body: ast.expr, orelse: ast.expr) -> ast.IfExp:
        return ast.IfExp(test=test, body=body, orelse=orelse, **self.pos)

    def attribute(self, value: ast.expr, attr: str) -> ast.Attribute:
        return ast.Attribute(value=value, attr=attr, ctx=_LOAD, **self.pos)

    def binop(self, left: ast.expr, op: ast.operator, right: ast.expr) -> ast.BinOp:
        return ast.BinOp(left=left, op=op, right=right, **self.pos)

    def boolop(self, op: ast.boolop, values: list[ast.expr]) -> ast.BoolOp:
        return ast.BoolOp(op=op, values=values, **self.pos)

    def not_(self, value: ast.expr) -> ast.UnaryOp:
        return ast.UnaryOp(op=ast.Not(), operand=value, **self.pos)

    def subscript(self, value: ast.expr, key: ast.expr, ctx: ast.expr_context) -> ast.Subscript:
        return ast.Subscript(value=value, slice=key, ctx=ctx, **self.pos)

    def tuple(self, elts: list[ast.expr]) -> ast.Tuple:
        return ast.Tuple(elts=elts, ctx=_LOAD, **self.pos)

    def starred(self, value: ast.expr) -> ast.Starred:
        return ast.Starred(value=value, ctx=_LOAD, **self.pos)

    def stmt(self, value: ast.expr) -> ast.Expr:
        return ast.Expr(value=value, **self.pos)

    def assign(self, target: ast.expr | list[ast.expr], value: ast.expr) -> ast.Assign:
        targets = target if isinstance(target, list) else [target]
        return ast.Assign(targets=targets, value=value, **self.pos)

    def aug_assign(
        self, target: ast.Name | ast.Subscript, op: ast.operator, value: ast.expr
    ) -> ast.AugAssign:
        return ast.AugAssign(target=target, op=op, value=value, **self.pos)


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _is_print_call(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
    )


def _is_plain(node: ast.expr) -> bool:
    """A name, a constant, or a tuple of those: cheap and safe to repeat in generated code."""
    if isinstance(node, ast.Name | ast.Constant) or _number_const(node) is not None:
        return True
    return isinstance(node, ast.Tuple) and all(
        isinstance(e, ast.Name | ast.Constant) for e in node.elts
    )


def _number_const(node: ast.expr) -> int | float | None:
    """The value of an int/float literal (``3``, ``-2.5``), else None (bools excluded)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _number_const(node.operand)
        return None if inner is None else -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return None if isinstance(node.value, bool) else node.value
    return None


def _small_power(base: int | float, exp: int | float) -> bool:
    """A constant power CPython folds cheaply (result well inside int64 for ints)."""
    if isinstance(base, float) or isinstance(exp, float):
        return True
    return exp <= 0 or abs(base) <= 1 or exp * max(abs(base), 2).bit_length() <= 62


def _has_starred(target: ast.expr) -> bool:
    return isinstance(target, ast.Tuple | ast.List) and any(
        isinstance(e, ast.Starred) for e in target.elts
    )


def _static_spec(spec: ast.JoinedStr) -> str | None:
    """The text of a format spec without nested replacement fields, else None."""
    parts = []
    for value in spec.values:
        if not isinstance(value, ast.Constant) or not isinstance(value.value, str):
            return None
        parts.append(value.value)
    return "".join(parts)


def _spec_is_small(spec: str) -> bool:
    total = 0
    digits = ""
    for ch in spec + " ":
        if ch.isdigit():
            digits += ch
        elif digits:
            if len(digits) > 9:
                return False
            total += int(digits)
            digits = ""
    return total <= STATIC_SPEC_OK


def _bound_names(tree: ast.Module) -> set[str]:
    """Every name the program binds anywhere (any scope)."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, ast.FunctionDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.Global | ast.Nonlocal):
            bound.update(node.names)
    return bound


def _span(node: ast.AST, end: ast.AST) -> ast.AST:
    """A node positioned from ``node``'s start to ``end``'s end (a statement's header)."""
    span = ast.Pass()
    span.lineno = getattr(node, "lineno", 1)
    span.col_offset = getattr(node, "col_offset", 0)
    span.end_lineno = getattr(end, "end_lineno", None) or span.lineno
    span.end_col_offset = getattr(end, "end_col_offset", None) or 0
    return span


def _identity(node: ast.expr) -> ast.expr:
    return node


#: A constant divisor below this makes ``//`` and ``%`` linear in the dividend.
_CHEAP_DIVISOR = 1 << 64


def _cheap_divisor(const: int | float | None) -> bool:
    return isinstance(const, float) or (isinstance(const, int) and abs(const) < _CHEAP_DIVISOR)


def _reread(first: ast.expr) -> ast.expr:
    """A second read of the value a guard's test evaluated (``first``): the walrus's
    target, the name, or the temporaries' item (nothing runs in between)."""
    at = _At(first)
    if isinstance(first, ast.NamedExpr):
        assert isinstance(first.target, ast.Name)
        return at.load(first.target.id)
    assert isinstance(first, ast.Name | ast.Subscript)
    return _copy_load(first)


_IN_OPS = (ast.In, ast.NotIn)


def _small_literal(node: ast.expr) -> bool:
    """A literal haystack (``x in (1, 2)``, ``c in "aeiou"``): searched inline, unchecked."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return len(node.elts) <= 64 and not any(isinstance(e, ast.Starred) for e in node.elts)
    return isinstance(node, ast.Dict | ast.DictComp | ast.SetComp)


def _tick(node: ast.AST, chain: str) -> ast.expr:
    """``__spy_next(<chain>)``: one step (returns None). The builtin ``next`` on the chain
    is CPython's fastest call here (a specialised builtin call; the chain's bound
    ``__next__`` is a method-wrapper, twice as slow to call)."""
    at = _At(node)
    return at.call(_names.NEXT, at.load(chain))


#: Largest (instrumented) right operand a guard repeats in both of its branches.
_REPEAT_NODES = 40


def _repeatable(node: ast.expr) -> bool:
    """Small, and no code objects inside (a lambda or comprehension would be compiled twice)."""
    for count, sub in enumerate(ast.walk(node), 1):
        if count > _REPEAT_NODES or isinstance(
            sub, ast.Lambda | ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp
        ):
            return False
    return True


def _clone(node: ast.expr) -> ast.expr:
    """A deep copy of an instrumented expression (its second, mutually exclusive use)."""
    return copy.deepcopy(node)


def _copy_load(node: ast.Name | ast.Subscript) -> ast.expr:
    """A fresh load of the same name / item (AST nodes are not shared)."""
    at = _At(node)
    if isinstance(node, ast.Name):
        return at.load(node.id)
    assert isinstance(node.value, ast.Name) and isinstance(node.slice, ast.Name)
    return at.subscript(at.load(node.value.id), at.load(node.slice.id), _LOAD)
