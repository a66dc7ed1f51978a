"""Statements: log records, branch records, ticks of loops and calls, functions, ``try``."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from jarvis.spy import _names
from jarvis.spy.compiler.base import InstrumenterBase
from jarvis.spy.compiler.nodes import (
    _LOAD,
    _SHIFT_OK,
    _STORE,
    _At,
    _cheap_divisor,
    _copy_load,
    _has_starred,
    _is_docstring,
    _is_print_call,
    _number_const,
)
from jarvis.spy.program import (
    SITE_ASSIGN,
    SITE_BRANCH,
    SITE_EXPR,
    SITE_PRINT,
)


class Statements(InstrumenterBase):
    """Statements: log records, branch records, ticks of loops and calls, functions, ``try``."""

    def module(self, tree: ast.Module) -> ast.Module:
        return ast.Module(body=self.body(tree.body, docstring=True), type_ignores=[])

    def body(self, stmts: list[ast.stmt], *, docstring: bool = False) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for i, stmt in enumerate(stmts):
            if docstring and i == 0 and _is_docstring(stmt):
                out.append(stmt)  # documentation, not an evaluated expression: no record
                continue
            out.extend(self.stmt(stmt))
        return out

    def statement_handlers(self) -> dict[type[ast.AST], Callable[[Any], list[ast.stmt]]]:
        """Statement type -> its rewrite (what ``stmt`` dispatches on)."""
        return {
            ast.Expr: self.expr_stmt,
            ast.Assign: self.assign,
            ast.AugAssign: self.aug_assign,
            ast.AnnAssign: self.ann_assign,
            ast.If: self.if_,
            ast.For: self.for_,
            ast.While: self.while_,
            ast.FunctionDef: lambda node: [self.function(node)],
            ast.Try: lambda node: [self.try_(node)],
            ast.Raise: self.raise_,
            **dict.fromkeys((ast.Return, ast.Assert, ast.Delete), self.rewrite_children),
            **dict.fromkeys(
                (ast.Break, ast.Continue, ast.Pass, ast.Global, ast.Nonlocal), _as_it_is
            ),
        }

    def stmt(self, node: ast.stmt) -> list[ast.stmt]:
        handler = self.stmt_handlers.get(type(node))
        if handler is None:
            # Unreachable after the checker; fail loudly rather than run something unchecked.
            raise AssertionError(f"checker let through {type(node).__name__}")
        return handler(node)

    def raise_(self, node: ast.Raise) -> list[ast.stmt]:
        self.children(node)
        if node.exc is not None:
            # Only Exception subclasses: a BaseException would leave as a host failure.
            node.exc = _At(node.exc).call(_names.RAISE, node.exc)
        return [node]

    def rewrite_children(self, node: ast.stmt) -> list[ast.stmt]:
        self.children(node)
        return [node]

    def expr_stmt(self, node: ast.Expr) -> list[ast.stmt]:
        value = node.value
        if _is_print_call(value):
            # The print record replaces the "expr" record of the statement.
            assert isinstance(value, ast.Call)
            node.value = self.print_call(value, self.site(SITE_PRINT, node))
            return [node]
        if SITE_EXPR not in self.kinds:
            node.value = self.expr(value)
            return [node]
        site = self.site(SITE_EXPR, node)
        return [self.emit(site, self.expr(value), node)]

    def assign(self, node: ast.Assign) -> list[ast.stmt]:
        record = SITE_ASSIGN in self.kinds
        site = self.site(SITE_ASSIGN, node) if record else None
        node.value = self.expr(node.value)
        if any(_has_starred(t) for t in node.targets):
            at = _At(node.value)
            node.value = at.call(_names.STAR, node.value)  # `a, *b = x`: x is size-checked
        node.targets = [self.expr(t) for t in node.targets]
        if site is None:
            return [node]
        at = _At(node)
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            # `x = v`: store, then read x back (one LOAD) for the record.
            return [node, self.emit(site, at.load(node.targets[0].id), node)]
        # Unpacking, subscripts, chains: the record carries the whole right-hand side,
        # emitted after the stores succeeded.
        tmp = _names.TMP_ASSIGN
        value, node.value = node.value, at.load(tmp)
        return [at.assign(at.store(tmp), value), node, self.emit(site, at.load(tmp), node)]

    def ann_assign(self, node: ast.AnnAssign) -> list[ast.stmt]:
        if node.value is None:
            # `x: int` only declares; the annotation is never evaluated.
            if isinstance(node.target, ast.Name) and not self.functions:
                # At module level it binds nothing (and the module's names are globals
                # of the main function, which CPython forbids annotating).
                return [ast.Pass(**_At(node).pos)]
            node.annotation = _At(node.annotation).const(None)
            self.children(node.target)  # `x.y[k]: int` evaluates x.y and k: through the gate
            return [node]
        assign = ast.Assign(targets=[node.target], value=node.value, **_At(node).pos)
        return self.assign(assign)

    def aug_assign(self, node: ast.AugAssign) -> list[ast.stmt]:
        record = SITE_ASSIGN in self.kinds
        site = self.site(SITE_ASSIGN, node) if record else None
        target = node.target
        at = _At(node)
        if isinstance(target, ast.Name):
            value = self.expr(node.value)
            current: ast.expr = at.load(target.id)
            update = self.aug_update(target, current, node.op, value, node)
            out = [update]
            if site is not None:
                out.append(self.emit(site, at.load(target.id), node))
            return out
        assert isinstance(target, ast.Subscript)  # the checker allows nothing else
        # `o[k] op= v`: evaluate o and k once into temporaries, so reading the new value
        # back for the record does not repeat their side effects. Evaluation order is
        # CPython's: o, k, o[k], v.
        obj, key = _names.TMP_AUG_OBJ, _names.TMP_AUG_KEY
        prelude = [
            at.assign(at.store(obj), self.expr(target.value)),
            at.assign(at.store(key), self.subscript_key(target.slice)),
        ]
        value = self.expr(node.value)
        t_at = _At(target)
        item = t_at.subscript(t_at.load(obj), t_at.load(key), _STORE)
        current = t_at.subscript(t_at.load(obj), t_at.load(key), _LOAD)
        update = self.aug_update(item, current, node.op, value, node)
        out = [*prelude, update]
        if site is not None:
            readback = at.subscript(at.load(obj), at.load(key), _LOAD)
            out.append(self.emit(site, readback, node))
        return out

    def aug_update(
        self,
        target: ast.Name | ast.Subscript,
        current: ast.expr,
        op: ast.operator,
        value: ast.expr,
        node: ast.AST,
    ) -> ast.stmt:
        """``target op= value`` with the operator's guard (``current`` reads the target)."""
        at = _At(node)
        if isinstance(op, ast.Mod):
            # `x %= v` is `x = x % v` for every SPy type (none has an in-place %);
            # that form gets the deterministic `%` of `mod`.
            return at.assign(target, self.mod(current, value, node))
        guard = self.aug_guard(op, value)
        if guard is None:
            return at.aug_assign(target, op, value)
        fast_test, slow = guard
        # target = (t op v if <t is a number> else slow(t, v)): t evaluated first.
        if isinstance(current, ast.Name) or (
            isinstance(current, ast.Subscript) and isinstance(current.slice, ast.Name)
        ):
            # Re-reading a name (or a temporary's item) is exact: nothing runs between.
            expr = at.ifexp(
                fast_test(current, current),
                at.binop(_copy_load(current), op, value),
                at.call(slow, _copy_load(current), value),
            )
            return at.assign(target, expr)
        t = self.new_pair()[0]
        expr = at.ifexp(
            fast_test(at.walrus(t, current), at.load(t)),
            at.binop(at.load(t), op, value),
            at.call(slow, at.load(t), value),
        )
        return at.assign(target, expr)

    def aug_guard(
        self, op: ast.operator, value: ast.expr
    ) -> tuple[Callable[[ast.expr, ast.expr], ast.expr], str] | None:
        """(fast test over the target's current value, slow helper) or None: no guard."""
        const = _number_const(value)
        if isinstance(op, ast.Add):
            if const is not None:
                return None
            return self.in_num_test, _names.IADD
        if isinstance(op, ast.Mult):
            if isinstance(const, float):
                return None
            return self.in_num_test, _names.IMUL
        if isinstance(op, ast.Pow):
            return self.is_float_test, _names.POW
        if isinstance(op, ast.LShift):
            if isinstance(const, int) and 0 <= const <= _SHIFT_OK:
                return None
            return self.never_test, _names.LSHIFT
        if isinstance(op, ast.FloorDiv):
            if _cheap_divisor(const):
                return None
            return self.div_test, _names.FLOORDIV
        return None

    def subscript_key(self, key: ast.expr) -> ast.expr:
        """A subscript's key as a value that can be stored (``a:b`` -> ``slice(a, b)``)."""
        if not isinstance(key, ast.Slice):
            return self.expr(key)
        at = _At(key)
        parts = (key.lower, key.upper, key.step)
        return at.call(_names.SLICE, *(self.expr(p) if p else at.const(None) for p in parts))

    def branch_value(self, site: ast.Name, arm: int, taken: str, line: int) -> ast.Name:
        """A global holding ``{"taken": taken, "line": line}`` (built once, shared)."""
        site_id = int(site.id.removeprefix("__spy_s"))
        name = _names.branch_value_name(site_id, arm)
        self.constants[name] = {"taken": taken, "line": line}
        return _At(site).load(name)

    def header_site(self, node: ast.stmt, end: ast.expr) -> ast.Name:
        return self.site(SITE_BRANCH, node, end)

    def if_(self, node: ast.If) -> list[ast.stmt]:
        branch = SITE_BRANCH in self.kinds
        site = self.header_site(node, node.test) if branch else None
        arm = 0
        current: ast.If = node
        while True:
            current.test = self.expr(current.test)
            current.body = self.body(current.body)
            if site is not None:
                taken = "if" if current is node else "elif"
                value = self.branch_value(site, arm, taken, current.lineno)
                current.body.insert(0, self.emit(site, value, current))
            arm += 1
            orelse = current.orelse
            if len(orelse) == 1 and isinstance(orelse[0], ast.If) and self.is_elif(orelse[0]):
                current = orelse[0]
                continue
            if orelse:
                else_line = self.else_line(current, orelse[0])
                current.orelse = self.body(orelse)
                if site is not None:
                    value = self.branch_value(site, arm, "else", else_line)
                    current.orelse.insert(0, self.emit(site, value, orelse[0]))
            elif site is not None:
                value = self.branch_value(site, arm, "none", node.lineno)
                current.orelse = [self.emit(site, value, current)]
            return [node]

    def is_elif(self, node: ast.If) -> bool:
        line = self.text.line(node.lineno)
        col = self.text.char_col(node.lineno, node.col_offset)
        return line[col : col + 4] == "elif"

    def else_line(self, node: ast.stmt, first: ast.stmt) -> int:
        """Line of the ``else`` keyword before ``first`` (scanning back from it)."""
        for lineno in range(first.lineno, node.lineno - 1, -1):
            stripped = self.text.line(lineno).lstrip()
            if stripped.startswith("else") and stripped[4:].lstrip().startswith(":"):
                return lineno
        return first.lineno

    def loop_records(self, node: ast.For | ast.While, site: ast.Name | None) -> None:
        if site is None:
            return
        node.body.insert(1, self.emit(site, self.branch_value(site, 0, "loop", node.lineno), node))
        exit_value = self.branch_value(site, 1, "exit", node.lineno)
        node.orelse.insert(0, self.emit(site, exit_value, node))

    def for_(self, node: ast.For) -> list[ast.stmt]:
        site = self.header_site(node, node.iter) if SITE_BRANCH in self.kinds else None
        node.iter = self.expr(node.iter)
        prefix: list[ast.stmt] = []
        if _has_starred(node.target):
            # `for a, *b in x`: each item is size-checked before it is unpacked.
            at = _At(node.target)
            tmp = _names.TMP_ITEM
            item_target = node.target
            node.target = at.store(tmp)
            unpack = at.assign(self.expr(item_target), at.call(_names.STAR, at.load(tmp)))
            prefix.append(unpack)
        else:
            node.target = self.expr(node.target)
        node.body = [self.tick(node), *prefix, *self.body(node.body)]
        node.orelse = self.body(node.orelse)
        self.loop_records(node, site)
        return [node]

    def while_(self, node: ast.While) -> list[ast.stmt]:
        site = self.header_site(node, node.test) if SITE_BRANCH in self.kinds else None
        node.test = self.expr(node.test)
        node.body = [self.tick(node), *self.body(node.body)]
        node.orelse = self.body(node.orelse)
        self.loop_records(node, site)
        return [node]

    def arguments(self, args: ast.arguments) -> None:
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if arg is not None:
                arg.annotation = None  # annotations are documentation in SPy, never evaluated
        args.defaults = [self.expr(d) for d in args.defaults]
        args.kw_defaults = [None if d is None else self.expr(d) for d in args.kw_defaults]

    def function(self, node: ast.FunctionDef) -> ast.FunctionDef:
        node.decorator_list = [self.expr(d) for d in node.decorator_list]
        self.arguments(node.args)
        node.returns = None
        body = node.body
        docstring = [body[0]] if body and _is_docstring(body[0]) else []
        self.functions += 1
        try:
            rest = self.body(body[len(docstring) :])
        finally:
            self.functions -= 1
        # A tick first thing in every call: counts the call, and a stop or a limit
        # reaches deep recursion too.
        node.body = [*docstring, self.tick(node, _names.CALL), *rest]
        return node

    def try_(self, node: ast.Try) -> ast.Try:
        node.body = self.body(node.body)
        for handler in node.handlers:
            at = _At(handler)
            # CPython evaluates the type while the exception is being handled, so the
            # filter sees it and returns () -- "matches nothing" -- for host failures.
            args = [] if handler.type is None else [self.expr(handler.type)]
            handler.type = at.call(_names.CATCH, *args)
            handler.body = self.body(handler.body)
        node.orelse = self.body(node.orelse)
        node.finalbody = self.body(node.finalbody)
        return node


def _as_it_is(node: ast.stmt) -> list[ast.stmt]:
    return [node]
