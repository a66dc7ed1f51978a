"""Operators: the memory and CPU guards of ``+ * ** << // %`` and of ``in`` and comparisons."""

from __future__ import annotations

import ast
from collections.abc import Callable

from jarvis.spy import _names
from jarvis.spy.compiler.base import InstrumenterBase
from jarvis.spy.compiler.nodes import (
    _IN_OPS,
    _POW_BASE,
    _SHIFT_OK,
    _SMALL_INT,
    _At,
    _cheap_divisor,
    _clone,
    _is_plain,
    _number_const,
    _repeatable,
    _reread,
    _small_literal,
    _small_power,
)

Number = int | float | None
"""An operand's value when it is a number constant (``_number_const``), else None."""
BinopGuard = Callable[[ast.BinOp, Number, Number], ast.expr]


class Operators(InstrumenterBase):
    """Operators: the memory and CPU guards of ``+ * ** << // %`` and of ``in`` and comparisons."""

    def in_num_test(self, first: ast.expr, again: ast.expr) -> ast.expr:
        """``(k := type(first)) is int or k is float``: ints cost one comparison.

        (Bools take the slow path, which is still correct.) Where ``:=`` is not allowed
        the guard is out of line anyway.
        """
        at = _At(first)
        k = self.new_type_temp()
        return at.boolop(
            ast.Or(),
            [
                at.compare(
                    at.walrus(k, at.call(_names.TYPE, first)), ast.Is(), at.load(_names.INT)
                ),
                at.compare(at.load(k), ast.Is(), at.load(_names.FLOAT)),
            ],
        )

    def div_test(self, first: ast.expr, again: ast.expr) -> ast.expr:
        """``(k := type(first)) is float or (k is int and NBIG < l < BIG)``: ``//`` and ``%``
        of ints below 2**2048 are cheap; bigger ones are charged (``Guards.div_cost``)."""
        at = _At(first)
        k = self.new_type_temp()
        return at.boolop(
            ast.Or(),
            [
                at.boolop(
                    ast.And(),
                    [
                        at.compare(
                            at.walrus(k, at.call(_names.TYPE, first)),
                            ast.Is(),
                            at.load(_names.INT),
                        ),
                        at.chain(
                            at.load(_names.NEG_BIGINT),
                            [ast.Lt(), ast.Lt()],
                            [_reread(first), at.load(_names.BIGINT)],
                        ),
                    ],
                ),
                at.compare(at.load(k), ast.Is(), at.load(_names.FLOAT)),
            ],
        )

    def is_float_test(self, first: ast.expr, again: ast.expr) -> ast.expr:
        at = _At(first)
        return at.compare(at.call(_names.TYPE, first), ast.Is(), at.load(_names.FLOAT))

    def never_test(self, first: ast.expr, again: ast.expr) -> ast.expr:
        at = _At(first)
        # Evaluates `first` (the walrus must run) and is always False.
        return at.compare(first, ast.Is(), at.load(_names.SENTINEL))

    def compare(self, node: ast.Compare) -> ast.expr:
        """``x in seq``: a long list or tuple goes to ``__spy_in``, which charges the
        comparisons (``s in [t] * 10**6`` with long equal prefixes is one long C loop)."""
        node.left = self.expr(node.left)
        node.comparators = [self.expr(c) for c in node.comparators]
        if not any(isinstance(op, _IN_OPS) for op in node.ops):
            return node
        if len(node.ops) == 1:
            if _small_literal(node.comparators[0]):
                return node
            return self.in_test(node.left, node.ops[0], node.comparators[0], node)
        if self.no_walrus:
            return node  # a chain with `in` inside a comprehension's iterable: unguarded
        # `a < b in c`: the same as `a < (t := b) and t in c` (each operand once, in order).
        at = _At(node)
        parts: list[ast.expr] = []
        left = node.left
        last = len(node.ops) - 1
        for i, (op, right) in enumerate(zip(node.ops, node.comparators, strict=True)):
            if i < last:
                t = self.new_pair()[1]
                right_first: ast.expr = at.walrus(t, right)
                right_next: ast.expr = at.load(t)
            else:
                right_first = right_next = right
            if isinstance(op, _IN_OPS) and not _small_literal(right):
                parts.append(self.in_test(left, op, right_first, node))
            else:
                parts.append(at.compare(left, op, right_first))
            left = right_next
        return at.boolop(ast.And(), parts)

    def in_test(self, left: ast.expr, op: ast.cmpop, right: ast.expr, node: ast.AST) -> ast.expr:
        at = _At(node)

        def slow(lv: ast.expr, rv: ast.expr) -> ast.expr:
            call = at.call(_names.IN, lv, rv)
            return at.not_(call) if isinstance(op, ast.NotIn) else call

        if self.no_walrus:
            return slow(left, right)
        if isinstance(left, ast.Name | ast.Constant) and isinstance(right, ast.Name):
            # Plain operands are read again instead of stored; `l is not S is not r` reads
            # both first, in CPython's order (an unbound name raises for the right one).
            rname = right.id
            both = at.chain(
                left, [ast.IsNot(), ast.IsNot()], [at.load(_names.SENTINEL), at.load(rname)]
            )
            first_left: ast.expr = _clone(left)
            second_left: ast.expr = _clone(left)
        else:
            lname, rname = self.new_pair()
            both = at.chain(
                at.walrus(lname, left),
                [ast.IsNot(), ast.IsNot()],
                [at.load(_names.SENTINEL), at.walrus(rname, right)],
            )
            first_left, second_left = at.load(lname), at.load(lname)
        inline = at.boolop(
            ast.Or(),
            [
                at.compare(
                    at.call(_names.TYPE, at.load(rname)), ast.NotIn(), at.load(_names.IN_SEQ)
                ),
                at.compare(at.call(_names.LEN, at.load(rname)), ast.Lt(), at.load(_names.IN_LEN)),
            ],
        )
        return at.ifexp(
            at.boolop(ast.And(), [both, inline]),
            at.compare(first_left, op, at.load(rname)),
            slow(second_left, at.load(rname)),
        )

    def binop(self, node: ast.BinOp) -> ast.expr:
        op = node.op
        if isinstance(op, ast.Mod):
            return self.mod(self.expr(node.left), self.expr(node.right), node)
        left = _number_const(node.left)
        right = _number_const(node.right)
        node.left = self.expr(node.left)
        node.right = self.expr(node.right)
        guard = self.binop_handlers.get(type(op))
        return node if guard is None else guard(node, left, right)

    def add(self, node: ast.BinOp, left: Number, right: Number) -> ast.expr:
        both_const = isinstance(node.left, ast.Constant) and isinstance(node.right, ast.Constant)
        if left is not None or right is not None or both_const:
            return node  # a number + anything: a number or a TypeError
        return self.guarded(node, self.in_num_test, _names.ADD)

    def mul(self, node: ast.BinOp, left: Number, right: Number) -> ast.expr:
        if isinstance(left, float) or isinstance(right, float):
            return node  # a float * anything: a float or a TypeError
        if isinstance(right, int) and not isinstance(left, int):
            return self.guarded(node, self.in_num_test, _names.MUL)  # x * 3
        if isinstance(left, int) and right is None:
            return self.guarded_right(node, _names.MUL)  # 3 * x
        if left is not None:
            return node
        return self.guarded(node, self.mul_test, _names.MUL)

    def pow(self, node: ast.BinOp, left: Number, right: Number) -> ast.expr:
        if isinstance(left, float) or isinstance(right, float):
            return node
        if isinstance(right, int) and right in _POW_BASE and left is None:
            bound = _POW_BASE[right]
            return self.guarded(node, lambda f, a: self.small_int_test(f, a, bound), _names.POW)
        if left is not None and right is not None:
            if _small_power(left, right):
                return node  # CPython folds it at compile time
            return self.out_of_line(node, _names.POW)  # `10 ** 100000000`: checked too
        return self.guarded(node, self.is_float_test, _names.POW)

    def lshift(self, node: ast.BinOp, left: Number, right: Number) -> ast.expr:
        if isinstance(right, int) and 0 <= right <= _SHIFT_OK:
            return node
        return self.out_of_line(node, _names.LSHIFT)

    def floordiv(self, node: ast.BinOp, left: Number, right: Number) -> ast.expr:
        if _cheap_divisor(right):
            return node  # x // 10: linear in x, or a float
        return self.guarded(node, self.div_test, _names.FLOORDIV)

    def binop_guards(self) -> dict[type[ast.operator], BinopGuard]:
        """Operator -> the guard of ``l OP r`` (given the operands' number constants)."""
        return {
            ast.Add: self.add,
            ast.Mult: self.mul,
            ast.Pow: self.pow,
            ast.LShift: self.lshift,
            ast.FloorDiv: self.floordiv,
        }

    def out_of_line(self, node: ast.BinOp, helper: str) -> ast.expr:
        return _At(node).call(helper, node.left, node.right)

    def guarded(
        self, node: ast.BinOp, test: Callable[[ast.expr, ast.expr], ast.expr], helper: str
    ) -> ast.expr:
        """``(l OP R if test(l) else helper(l, R))`` with ``l := L`` evaluated first.

        ``R`` is repeated in both branches when it is plain (a name or a constant: no
        side effects, no code growth); otherwise both operands go to temporaries first
        (``(l := L) is not S is not (r := R)`` evaluates both, in order, and is always
        true). Out of line (a helper call) where ``:=`` is not allowed.
        """
        if self.no_walrus:
            return self.out_of_line(node, helper)
        at = _At(node)
        if isinstance(node.left, ast.Name) and _is_plain(node.right):
            # Both plain: read them again instead of storing temporaries (nothing between
            # the test and the operation runs program code, so they cannot change).
            return at.ifexp(
                test(node.left, node.right),
                at.binop(at.load(node.left.id), node.op, node.right),
                at.call(helper, at.load(node.left.id), node.right),
            )
        lname, rname = self.new_pair()
        if _is_plain(node.right) or (test != self.mul_test and _repeatable(node.right)):
            # R is evaluated in exactly one branch; repeating its code is cheaper than
            # storing it, as long as it is small (code size stays linear). Only when the
            # test does not look at R (mul_test does: R must be a name or a constant).
            left_use: ast.expr = at.walrus(lname, node.left)
            right: ast.expr = node.right
            prefix: list[ast.expr] = []
        else:
            both = at.chain(
                at.walrus(lname, node.left),
                [ast.IsNot(), ast.IsNot()],
                [at.load(_names.SENTINEL), at.walrus(rname, node.right)],
            )
            prefix = [both]
            left_use = at.load(lname)
            right = at.load(rname)
        fast = test(left_use, right)
        cond = at.boolop(ast.And(), [*prefix, fast]) if prefix else fast
        return at.ifexp(
            cond,
            at.binop(at.load(lname), node.op, right),
            at.call(helper, at.load(lname), right),
        )

    def guarded_right(self, node: ast.BinOp, helper: str) -> ast.expr:
        """``c OP x`` with a constant c: test x's type only."""
        if self.no_walrus:
            return self.out_of_line(node, helper)
        at = _At(node)
        if isinstance(node.right, ast.Name):
            name = node.right.id
            return at.ifexp(
                self.in_num_test(node.right, node.right),
                at.binop(node.left, node.op, at.load(name)),
                at.call(helper, node.left, at.load(name)),
            )
        _, rname = self.new_pair()
        return at.ifexp(
            self.in_num_test(at.walrus(rname, node.right), at.load(rname)),
            at.binop(node.left, node.op, at.load(rname)),
            at.call(helper, node.left, at.load(rname)),
        )

    def mul_test(self, first: ast.expr, right: ast.expr) -> ast.expr:
        """Either is a float, or both are ints below 2**30 (the product stays < 2**60)."""
        at = _At(first)
        left = first.target if isinstance(first, ast.NamedExpr) else first
        assert isinstance(left, ast.Name)
        left_load = at.load(left.id)

        def small(v: ast.expr) -> ast.expr:
            return at.chain(at.const(-_SMALL_INT), [ast.Lt(), ast.Lt()], [v, at.const(_SMALL_INT)])

        return at.boolop(
            ast.Or(),
            [
                at.compare(at.call(_names.TYPE, first), ast.Is(), at.load(_names.FLOAT)),
                at.compare(at.call(_names.TYPE, right), ast.Is(), at.load(_names.FLOAT)),
                at.boolop(
                    ast.And(),
                    [
                        at.chain(
                            at.call(_names.TYPE, left_load),
                            [ast.Is(), ast.Is()],
                            [at.load(_names.INT), at.call(_names.TYPE, right)],
                        ),
                        small(at.load(left.id)),
                        small(right),
                    ],
                ),
            ],
        )

    def small_int_test(self, first: ast.expr, right: ast.expr, bound: int) -> ast.expr:
        """A float, or an int in (-bound, bound)."""
        at = _At(first)
        left = first.target if isinstance(first, ast.NamedExpr) else first
        assert isinstance(left, ast.Name)
        return at.boolop(
            ast.Or(),
            [
                at.compare(at.call(_names.TYPE, first), ast.Is(), at.load(_names.FLOAT)),
                at.boolop(
                    ast.And(),
                    [
                        at.compare(
                            at.call(_names.TYPE, at.load(left.id)), ast.Is(), at.load(_names.INT)
                        ),
                        at.chain(
                            at.const(-bound),
                            [ast.Lt(), ast.Lt()],
                            [at.load(left.id), at.const(bound)],
                        ),
                    ],
                ),
            ],
        )

    def mod(self, left: ast.expr, right: ast.expr, node: ast.AST) -> ast.expr:
        """``left % right`` with str %-formatting routed through SPy's deterministic str.

        Inlined for the common shapes (``i % 2``, ``"%s: %d" % (k, v)``):
            (m % R if ((k := type(m := L)) is int and NBIG < m < BIG) or k is float
             else pct(m, R) if k is str else mod(m, R))
        which repeats R, so only when R is a name, a constant or a tuple of those
        (repeating anything bigger could grow the code exponentially with nesting).
        ``mod`` formats bytes and charges the division of big ints. With a small int
        constant R (``i % 10``) every int is cheap: no range test.
        """
        at = _At(node)
        if not _is_plain(right) or self.no_walrus:
            return at.call(_names.MOD, left, right)
        if isinstance(left, ast.Name):
            m = left.id
            first: ast.expr = left
        else:
            m = self.temp(_names.TMP_MOD)
            first = at.walrus(m, left)
        k = self.new_type_temp()
        # Ints first (`i % 2` is the common case), then floats, then str formatting.
        is_int: ast.expr = at.compare(
            at.walrus(k, at.call(_names.TYPE, first)), ast.Is(), at.load(_names.INT)
        )
        if not _cheap_divisor(_number_const(right)):
            is_int = at.boolop(
                ast.And(),
                [
                    is_int,
                    at.chain(
                        at.load(_names.NEG_BIGINT),
                        [ast.Lt(), ast.Lt()],
                        [at.load(m), at.load(_names.BIGINT)],
                    ),
                ],
            )
        numeric = at.boolop(
            ast.Or(), [is_int, at.compare(at.load(k), ast.Is(), at.load(_names.FLOAT))]
        )
        return at.ifexp(
            numeric,
            at.binop(at.load(m), ast.Mod(), right),
            at.ifexp(
                at.compare(at.load(k), ast.Is(), at.load(_names.STR_TYPE)),
                at.call(_names.PERCENT, at.load(m), _clone(right)),
                at.call(_names.MOD, at.load(m), _clone(right)),
            ),
        )
