"""The instrumenter: the node families put together over their shared base."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from jarvis.spy.compiler.expressions import Expressions
from jarvis.spy.compiler.fstrings import FStrings
from jarvis.spy.compiler.nodes import _bound_names, _identity
from jarvis.spy.compiler.operators import Operators
from jarvis.spy.compiler.statements import Statements
from jarvis.spy.program import Site
from jarvis.spy.source import SourceText
from jarvis.spy.whitelist import BUILTIN_NAMES, GLOBAL_NAMES


class Instrumenter(Statements, Expressions, Operators, FStrings):
    """Rewrites a checked tree in place; statement methods return lists of statements."""

    def __init__(self, text: SourceText, kinds: frozenset[str], tree: ast.Module) -> None:
        self.text = text
        self.kinds = kinds
        self.sites: list[Site] = []
        self.constants: dict[str, object] = {}
        self.counter = 0  # numbered temporaries of operator guards
        # > 0 inside a comprehension's iterable, where CPython forbids `:=`: generated
        # code there uses the out-of-line forms of the gate and the guards.
        self.no_walrus = 0
        self.temp_suffix = ""  # inside comprehensions: gate temporaries of their own
        self.functions = 0  # nesting depth of `def`s around the current statement
        # Names never bound by the program: `name.attr` on one of them may be a Book call.
        self.book_candidates = frozenset(
            n
            for n in {
                node.id
                for node in ast.walk(tree)
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
            }
            - _bound_names(tree)
            - BUILTIN_NAMES
            - GLOBAL_NAMES
        )
        self.stmt_handlers = self.statement_handlers()
        self.binop_handlers = self.binop_guards()
        self.handlers: dict[type[ast.AST], Callable[[Any], ast.expr]] = {
            ast.Name: _identity,
            ast.Constant: _identity,
            ast.Call: self.call,
            ast.Attribute: self.attribute,
            ast.BinOp: self.binop,
            ast.JoinedStr: self.joined_str,
            ast.Set: self.set_literal,
            ast.SetComp: self.set_comp,
            ast.ListComp: self.comprehension,
            ast.DictComp: self.comprehension,
            ast.GeneratorExp: self.comprehension,
            ast.Lambda: self.lambda_,
            ast.Starred: self.starred,
            ast.Compare: self.compare,
            ast.Subscript: self.subscript,
        }
