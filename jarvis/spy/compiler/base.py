"""The instrumenter's state and shared helpers, and what its node families call across."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from jarvis.spy import _names
from jarvis.spy.compiler.nodes import _At, _span, _tick
from jarvis.spy.program import Site
from jarvis.spy.source import SourceText


class InstrumenterBase:
    """Rewrites a checked tree in place; statement methods return lists of statements.

    Statements: assignment / expression statements get their log record and ``if``
    chains and loops their "branch" records (each only when the log level records that
    kind), every loop iteration and function call a tick. Expressions: attribute reads go
    through the gate, ``print(...)`` becomes a site-carrying call, f-string values and
    ``%`` go through SPy's deterministic formatting, ``*``/``+``/``**``/``<<`` through
    the memory guards, ``except`` types through the host-failure filter. Everything else
    is left as it is. To instrument a new node type, add a case to ``stmt`` or a handler
    to ``expr``.

    The state and the shared helpers of the rewrite; each family of nodes is a mixin
    (``statements``, ``expressions``, ``operators``, ``fstrings``) over this base, which
    also declares the methods one family calls in another.
    """

    text: SourceText
    kinds: frozenset[str]
    sites: list[Site]
    constants: dict[str, object]
    counter: int
    no_walrus: int
    temp_suffix: str
    functions: int
    book_candidates: frozenset[str]
    handlers: dict[type[ast.AST], Callable[[Any], ast.expr]]
    stmt_handlers: dict[type[ast.AST], Callable[[Any], list[ast.stmt]]]
    binop_handlers: dict[type[ast.operator], Callable[[ast.BinOp, Any, Any], ast.expr]]

    def site(self, kind: str, node: ast.AST, end: ast.AST | None = None) -> ast.Name:
        """Register a site for ``node`` (up to ``end``'s end); return a load of its global."""
        lineno: int = getattr(node, "lineno", 1)
        last = end or node
        end_lineno: int = getattr(last, "end_lineno", None) or lineno
        end_byte = getattr(last, "end_col_offset", 0) or 0
        source = self.text.segment(node if end is None else _span(node, last))
        site = Site(
            id=len(self.sites),
            kind=kind,
            line=lineno,
            col=self.text.char_col(lineno, getattr(node, "col_offset", 0)),
            end_line=end_lineno,
            end_col=self.text.char_col(end_lineno, end_byte),
            source=source,
        )
        self.sites.append(site)
        return _At(node).load(_names.site_name(site.id))

    def temp(self, base: str) -> str:
        return base + self.temp_suffix

    def new_type_temp(self) -> str:
        """A fresh name for the ``type(x)`` an operator's inline guard tests twice."""
        self.counter += 1
        return _names.type_name(self.counter)

    def new_pair(self) -> tuple[str, str]:
        self.counter += 1
        return _names.left_name(self.counter), _names.right_name(self.counter)

    def tick(self, node: ast.AST, name: str = _names.TICK) -> ast.stmt:
        return _At(node).stmt(_tick(node, name))

    def emit(self, site: ast.Name, value: ast.expr, node: ast.AST) -> ast.stmt:
        at = _At(node)
        return at.stmt(at.call(_names.EMIT, site, value))

    def expr(self, node: ast.expr) -> ast.expr:
        handler = self.handlers.get(type(node))
        if handler is not None:
            return handler(node)
        self.children(node)
        return node

    def children(self, node: ast.AST) -> None:
        """Rewrite the expressions below ``node`` in place (like NodeTransformer, faster)."""
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, ast.expr):
                setattr(node, name, self.expr(value))
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, ast.expr):
                        value[i] = self.expr(item)
                    elif isinstance(item, ast.AST):
                        self.children(item)  # ast.keyword and friends
            elif isinstance(value, ast.AST):
                self.children(value)

    def arguments(self, args: ast.arguments) -> None:
        raise NotImplementedError  # one of the mixins defines it

    def div_test(self, first: ast.expr, again: ast.expr) -> ast.expr:
        raise NotImplementedError  # one of the mixins defines it

    def in_num_test(self, first: ast.expr, again: ast.expr) -> ast.expr:
        raise NotImplementedError  # one of the mixins defines it

    def is_float_test(self, first: ast.expr, again: ast.expr) -> ast.expr:
        raise NotImplementedError  # one of the mixins defines it

    def mod(self, left: ast.expr, right: ast.expr, node: ast.AST) -> ast.expr:
        raise NotImplementedError  # one of the mixins defines it

    def never_test(self, first: ast.expr, again: ast.expr) -> ast.expr:
        raise NotImplementedError  # one of the mixins defines it

    def print_call(self, node: ast.Call, site: ast.Name) -> ast.Call:
        raise NotImplementedError  # one of the mixins defines it
