"""Expressions: calls, ``print``, the attribute gate, Book calls, subscripts, comprehensions."""

from __future__ import annotations

import ast
from collections.abc import Callable

from jarvis.spy import _names
from jarvis.spy.compiler.base import InstrumenterBase
from jarvis.spy.compiler.nodes import (
    _At,
    _clone,
    _has_starred,
    _is_print_call,
    _repeatable,
    _tick,
)
from jarvis.spy.program import SITE_BOOK, SITE_PRINT
from jarvis.spy.whitelist import TYPES_BY_METHOD


class Expressions(InstrumenterBase):
    """Expressions: calls, ``print``, the attribute gate, Book calls, subscripts, comprehensions."""

    def print_call(self, node: ast.Call, site: ast.Name) -> ast.Call:
        for kw in node.keywords:
            kw.value = self.expr(kw.value)
        args = [self.expr(a) for a in node.args]
        return _At(node).call(_names.PRINT, site, *args, keywords=node.keywords)

    def call(self, node: ast.Call) -> ast.expr:
        if _is_print_call(node):
            # A print nested in an expression gets its own site: the call itself.
            return self.print_call(node, self.site(SITE_PRINT, node))
        func = node.func
        if self.is_book_attr(func):
            assert isinstance(func, ast.Attribute)
            node.func = self.book_attr(func, self.site(SITE_BOOK, node))
        elif (
            isinstance(func, ast.Attribute) and func.attr in TYPES_BY_METHOD and not self.no_walrus
        ):
            return self.method_call(node, func)
        else:
            node.func = self.expr(func)
        node.args = [self.expr(a) for a in node.args]
        for kw in node.keywords:
            kw.value = self.expr(kw.value)
        return node

    def method_call(self, node: ast.Call, func: ast.Attribute) -> ast.expr:
        """``obj.m(args)`` as ``(g.m(args) if type(g := obj) in T_m else gate(g, "m")(args))``.

        A method call in the fast branch keeps CPython's LOAD_METHOD (no bound method
        object) and its specialisations (``lst.append(x)``). The arguments appear in both
        branches (one runs), so only when they are small; else the gate's usual form.
        """
        value = self.expr(func.value)
        args = [self.expr(a) for a in node.args]
        for kw in node.keywords:
            kw.value = self.expr(kw.value)
        if not all(_repeatable(a) for a in [*args, *(kw.value for kw in node.keywords)]):
            func.value = value
            node.func = self.gate(func, value)
            node.args = args
            return node
        at = _At(node)
        if isinstance(value, ast.Name):
            test_value: ast.expr = value
            obj: Callable[[], ast.expr] = lambda: at.load(value.id)  # noqa: E731
        else:
            g = self.temp(_names.TMP_GATE)
            test_value = at.walrus(g, value)
            obj = lambda: at.load(g)  # noqa: E731
        test = at.compare(
            at.call(_names.TYPE, test_value), ast.In(), at.load(_names.method_types_name(func.attr))
        )
        fast = ast.Call(
            func=_At(func).attribute(obj(), func.attr),
            args=args,
            keywords=node.keywords,
            **at.pos,
        )
        slow = ast.Call(
            func=at.call(_names.ATTR, obj(), at.const(func.attr)),
            args=[_clone(a) for a in args],
            keywords=[
                ast.keyword(arg=kw.arg, value=_clone(kw.value), **_At(kw).pos)
                for kw in node.keywords
            ],
            **at.pos,
        )
        return at.ifexp(test, fast, slow)

    def is_book_attr(self, node: ast.expr) -> bool:
        return (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in self.book_candidates
        )

    def book_attr(self, node: ast.Attribute, site: ast.expr) -> ast.expr:
        at = _At(node)
        return at.call(_names.BOOK, site, node.value, at.const(node.attr))

    def attribute(self, node: ast.Attribute) -> ast.expr:
        if self.is_book_attr(node):
            # `get = kv.get`: no site here; a call through it gets the caller's site.
            return self.book_attr(node, _At(node).const(None))
        return self.gate(node, self.expr(node.value))

    def gate(self, node: ast.Attribute, value: ast.expr) -> ast.expr:
        """The attribute gate over an already instrumented ``value``."""
        at = _At(node)
        if node.attr not in TYPES_BY_METHOD or self.no_walrus:
            # Not allowed on any type (the gate raises a SPy AttributeError), a guarded
            # method (the gate hands out a wrapper), or no `:=` allowed here.
            return at.call(_names.ATTR, value, at.const(node.attr))
        # Fast path inlined, no Python-level call:
        #   (g.attr if type(g := value) in T_attr else gate(g, "attr"))
        if isinstance(value, ast.Name):  # a name needs no temporary: read it again
            return at.ifexp(
                at.compare(
                    at.call(_names.TYPE, value),
                    ast.In(),
                    at.load(_names.method_types_name(node.attr)),
                ),
                at.attribute(at.load(value.id), node.attr),
                at.call(_names.ATTR, at.load(value.id), at.const(node.attr)),
            )
        g = self.temp(_names.TMP_GATE)
        return at.ifexp(
            at.compare(
                at.call(_names.TYPE, at.walrus(g, value)),
                ast.In(),
                at.load(_names.method_types_name(node.attr)),
            ),
            at.attribute(at.load(g), node.attr),
            at.call(_names.ATTR, at.load(g), at.const(node.attr)),
        )

    def subscript(self, node: ast.Subscript) -> ast.expr:
        self.children(node)
        if isinstance(node.ctx, ast.Store) and isinstance(node.slice, ast.Slice):
            # `lst[i:j] = v` copies v (a range, a str, an iterator...) into the list: the
            # list's stand-in checks v's size first (guards.Guards.sliced).
            node.value = _At(node.value).call(_names.SLICED, node.value)
        return node

    def starred(self, node: ast.Starred) -> ast.expr:
        node.value = self.expr(node.value)
        if isinstance(node.ctx, ast.Load):
            node.value = _At(node.value).call(_names.STAR, node.value)
        return node

    def set_literal(self, node: ast.Set) -> ast.expr:
        at = _At(node)
        elts = [self.expr(e) for e in node.elts]
        return at.call(_names.SET, at.tuple(elts))

    def set_comp(self, node: ast.SetComp) -> ast.expr:
        listcomp = ast.ListComp(elt=node.elt, generators=node.generators, **_At(node).pos)
        return _At(node).call(_names.SET, self.comprehension(listcomp))

    def comprehension(self, node: ast.ListComp | ast.DictComp | ast.GeneratorExp) -> ast.expr:
        # Every iteration ticks: `if not __spy_next(__spy_tick)` first among each loop's
        # conditions (a tick returns None).
        saved_suffix = self.temp_suffix
        self.counter += 1
        suffix = f"_c{self.counter}"
        generators: list[ast.comprehension] = []
        for index, gen in enumerate(node.generators):
            self.no_walrus += 1
            try:
                gen.iter = self.expr(gen.iter)
            finally:
                self.no_walrus -= 1
            if index == 0:
                # Its own frame counts as a call: `(__spy_next(__spy_call) or it)`
                # runs just before CPython creates it (see limits._FRAMES_PER_TICK).
                at = _At(gen.iter)
                if isinstance(node, ast.GeneratorExp):
                    # A generator over a generator (or a map...) pulls from it in C: the
                    # nesting depth is checked (guards.Guards.nest).
                    gen.iter = at.call(_names.NEST, gen.iter)
                gen.iter = at.boolop(ast.Or(), [_tick(gen.iter, _names.CALL), gen.iter])
            self.temp_suffix = suffix
            try:
                at = _At(gen.iter)
                # A generator expression's items tick the *call* chain: it is resumed from
                # C (next(), another generator...) with no call tick, and a chain of them
                # hidden in closures or lists (`(next(y) for y in [g])`) deepens the stack
                # one frame per item; the call chain's depth check sees it.
                chain = _names.CALL if isinstance(node, ast.GeneratorExp) else _names.TICK
                tick = at.not_(_tick(gen.iter, chain))
                generators.append(gen)
                if _has_starred(gen.target):
                    # `for a, *b in x` inside a comprehension: unpack a size-checked item.
                    item = self.temp(_names.TMP_ITEM)
                    t_at = _At(gen.target)
                    inner = ast.comprehension(
                        target=self.expr(gen.target),
                        iter=t_at.tuple([t_at.call(_names.STAR, t_at.load(item))]),
                        ifs=[self.expr(c) for c in gen.ifs],
                        is_async=0,
                    )
                    gen.target = t_at.store(item)
                    gen.ifs = [tick]
                    generators.append(inner)
                else:
                    gen.target = self.expr(gen.target)
                    gen.ifs = [tick, *(self.expr(c) for c in gen.ifs)]
            finally:
                self.temp_suffix = saved_suffix
        node.generators = generators
        self.temp_suffix = suffix
        try:
            if isinstance(node, ast.DictComp):
                node.key = self.expr(node.key)
                node.value = self.expr(node.value)
            else:
                node.elt = self.expr(node.elt)
        finally:
            self.temp_suffix = saved_suffix
        return node

    def lambda_(self, node: ast.Lambda) -> ast.expr:
        # (Inside a comprehension's iterable CPython forbids `:=` even in a lambda.)
        self.arguments(node.args)
        body = self.expr(node.body)
        at = _At(node.body)
        node.body = at.boolop(ast.Or(), [_tick(node.body, _names.CALL), body])  # None or body
        return node
