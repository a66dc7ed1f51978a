"""Whitelist validation of a parsed program: everything not listed here is rejected.

The checker runs before anything executes, so a rejected program never has a side
effect. It is a whitelist on purpose: a node type added to a future Python is rejected
until someone decides what it means in SPy. To extend the language, add a ``visit_<Node>``
method here (and, if it needs instrumenting, a case in ``compiler/``).
"""

from __future__ import annotations

import ast
from typing import NoReturn

from jarvis.errors import SpySyntaxError
from jarvis.spy.source import SourceText

#: Names a program may not use at all, even as its own variables: they are the ways
#: out of a Python sandbox (reflection, code from strings, host I/O).
FORBIDDEN_NAMES: dict[str, str | None] = {
    "eval": "SPy cannot run code from strings",
    "exec": "SPy cannot run code from strings",
    "compile": "SPy cannot run code from strings",
    "open": "SPy programs have no file system; use artifact() or a Book",
    "input": "SPy programs read their `inputs` dict",
    "getattr": "call methods directly: obj.method(...)",
    "setattr": None,
    "delattr": None,
    "hasattr": None,
    "globals": None,
    "locals": None,
    "vars": None,
    "dir": None,
    "type": None,
    "object": None,
    "super": None,
    "breakpoint": None,
    "help": None,
    "memoryview": None,
    "classmethod": None,
    "staticmethod": None,
    "property": None,
    "exit": None,
    "quit": None,
}

# Constructs rejected with a specific message: (how to name it, plural?, hint).
_REJECTED: dict[type[ast.AST], tuple[str, bool, str | None]] = {
    ast.Import: ("`import`", False, "use a Book: SPy programs reach other systems through Books"),
    ast.ImportFrom: (
        "`import`",
        False,
        "use a Book: SPy programs reach other systems through Books",
    ),
    ast.ClassDef: ("`class`", False, "use dicts for records and functions for behaviour"),
    ast.TryStar: ("`try`/`except*`", False, "use a plain `except`"),
    ast.With: ("`with`", False, "SPy programs have no resources to manage"),
    ast.AsyncWith: ("`async with`", False, None),
    ast.Yield: ("`yield` (generators)", False, "build and return a list"),
    ast.YieldFrom: ("`yield from` (generators)", False, "build and return a list"),
    ast.Await: ("`await`", False, None),
    ast.AsyncFunctionDef: ("`async def`", False, None),
    ast.AsyncFor: ("`async for`", False, None),
    ast.Match: ("`match`", False, "use `if`/`elif`"),
}

_BINOPS = (
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow,
    ast.LShift, ast.RShift, ast.BitOr, ast.BitXor, ast.BitAnd,
)  # fmt: skip
_CONSTANT_TYPES = (int, float, str, bool, type(None), bytes, type(...))


def _not_allowed(construct: str, plural: bool = False) -> str:
    return f"{construct} {'are' if plural else 'is'} not allowed in SPy"


class Checker:
    """Walks a module; raises ``SpySyntaxError`` at the first construct SPy does not allow."""

    def __init__(self, text: SourceText, filename: str) -> None:
        self.text = text
        self.filename = filename
        self.in_function = False
        self.in_loop = False

    # -- reporting ---------------------------------------------------------------

    def reject(
        self,
        node: ast.AST,
        message: str,
        hint: str | None = None,
        *,
        line: int | None = None,
        byte_col: int | None = None,
    ) -> NoReturn:
        lineno = line if line is not None else getattr(node, "lineno", 1)
        bcol = byte_col if byte_col is not None else getattr(node, "col_offset", 0)
        raise SpySyntaxError(
            message,
            lineno,
            self.text.char_col(lineno, bcol),
            self.text.line(lineno),
            hint,
            self.filename,
        )

    # -- dispatch ----------------------------------------------------------------

    def check(self, tree: ast.Module) -> None:
        self.body(tree.body)

    def body(self, stmts: list[ast.stmt]) -> None:
        for stmt in stmts:
            self.visit(stmt)

    def visit(self, node: ast.AST) -> None:
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            construct, plural, hint = _REJECTED.get(
                type(node), (f"`{type(node).__name__}`", False, None)
            )
            self.reject(node, _not_allowed(construct, plural), hint)
        method(node)

    def visit_opt(self, node: ast.AST | None) -> None:
        if node is not None:
            self.visit(node)

    # -- names -------------------------------------------------------------------

    def name(
        self, name: str, node: ast.AST, *, line: int | None = None, byte_col: int | None = None
    ) -> None:
        """Rules for every identifier the program binds or reads."""
        if name.startswith("__"):
            self.reject(
                node,
                f"`{name}`: names starting with `__` are not allowed in SPy",
                "dunder names reach Python internals; rename it",
                line=line,
                byte_col=byte_col,
            )
        if name in FORBIDDEN_NAMES:
            self.reject(
                node, _not_allowed(f"`{name}`"), FORBIDDEN_NAMES[name], line=line, byte_col=byte_col
            )
        if name == "print":
            # print is compiled into a site-carrying record; as a value it would have no site.
            self.reject(
                node,
                "`print` can only be called in SPy, not stored, passed or redefined",
                line=line,
                byte_col=byte_col,
            )

    # -- statements --------------------------------------------------------------

    def visit_Expr(self, node: ast.Expr) -> None:
        self.visit(node.value)

    def visit_Pass(self, node: ast.Pass) -> None:
        pass

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self.target(target)
        self.visit(node.value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.target(node.target)
        self.visit(node.annotation)  # never evaluated, but must be clean
        self.visit_opt(node.value)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.operator(node.op, node)
        self.target(node.target)
        self.visit(node.value)

    def target(self, node: ast.expr) -> None:
        if isinstance(node, ast.Name):
            self.name(node.id, node)
        elif isinstance(node, ast.Subscript):
            self.visit(node)
        elif isinstance(node, ast.Tuple | ast.List):
            for elt in node.elts:
                self.target(elt)
        elif isinstance(node, ast.Starred):
            self.target(node.value)
        elif isinstance(node, ast.Attribute):
            self.reject(
                node, _not_allowed("assigning to an attribute"), "use a dict: d[key] = value"
            )
        else:
            self.visit(node)  # CPython's compiler rejects the rest ("cannot assign to ...")

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            if isinstance(target, ast.Attribute):
                self.reject(target, _not_allowed("deleting an attribute"))
            self.target(target)

    def visit_If(self, node: ast.If) -> None:
        self.visit(node.test)
        self.body(node.body)
        self.body(node.orelse)

    def visit_For(self, node: ast.For) -> None:
        self.target(node.target)
        self.visit(node.iter)
        self.loop(node.body)
        self.body(node.orelse)  # `else` runs outside the loop: break there is the outer loop's

    def visit_While(self, node: ast.While) -> None:
        self.visit(node.test)
        self.loop(node.body)
        self.body(node.orelse)

    def loop(self, stmts: list[ast.stmt]) -> None:
        saved, self.in_loop = self.in_loop, True
        try:
            self.body(stmts)
        finally:
            self.in_loop = saved

    def visit_Break(self, node: ast.Break) -> None:
        if not self.in_loop:
            self.reject(node, "`break` outside a loop")

    def visit_Continue(self, node: ast.Continue) -> None:
        if not self.in_loop:
            self.reject(node, "`continue` outside a loop")

    def visit_Return(self, node: ast.Return) -> None:
        if not self.in_function:
            self.reject(
                node, "`return` outside a function", "the program's result is the global `result`"
            )
        self.visit_opt(node.value)

    def visit_Raise(self, node: ast.Raise) -> None:
        self.visit_opt(node.exc)
        self.visit_opt(node.cause)

    def visit_Assert(self, node: ast.Assert) -> None:
        self.visit(node.test)
        self.visit_opt(node.msg)

    def visit_Try(self, node: ast.Try) -> None:
        self.body(node.body)
        for handler in node.handlers:
            self.visit_opt(handler.type)
            if handler.name is not None:
                # ast places the handler at `except`; point at the name instead.
                self.name(handler.name, handler)
            self.body(handler.body)
        self.body(node.orelse)
        self.body(node.finalbody)

    def visit_Global(self, node: ast.Global) -> None:
        for name in node.names:
            self.name(name, node)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        if not self.in_function:
            self.reject(node, "nonlocal declaration not allowed at module level")
        for name in node.names:
            self.name(name, node)

    def arguments(self, args: ast.arguments) -> None:
        seen: set[str] = set()
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        if args.vararg is not None:
            every.append(args.vararg)
        if args.kwarg is not None:
            every.append(args.kwarg)
        for arg in every:
            self.name(arg.arg, arg)
            if arg.arg in seen:
                self.reject(arg, f"duplicate parameter `{arg.arg}` in function definition")
            seen.add(arg.arg)
            # Annotations are dropped by the compiler (never evaluated) but must still be clean.
            self.visit_opt(arg.annotation)
        for default in [*args.defaults, *args.kw_defaults]:
            self.visit_opt(default)  # evaluated at `def` time, in the enclosing context

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        for deco in node.decorator_list:
            self.visit(deco)
        # ast gives the `def` keyword's position; the name follows "def ".
        self.name(node.name, node, byte_col=node.col_offset + 4)
        self.arguments(node.args)
        self.visit_opt(node.returns)
        saved = self.in_function, self.in_loop
        self.in_function, self.in_loop = True, False
        try:
            self.body(node.body)
        finally:
            self.in_function, self.in_loop = saved

    # -- expressions -------------------------------------------------------------

    def visit_Constant(self, node: ast.Constant) -> None:
        if not isinstance(node.value, _CONSTANT_TYPES):
            self.reject(node, _not_allowed("complex numbers", True))

    def visit_Name(self, node: ast.Name) -> None:
        self.name(node.id, node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if not isinstance(node.ctx, ast.Load):
            self.reject(
                node, _not_allowed("assigning to an attribute"), "use a dict: d[key] = value"
            )
        self.visit(node.value)
        if node.attr.startswith("_"):
            # Caret under the attribute name, which ends the node.
            end_line = node.end_lineno or node.lineno
            end_col = node.end_col_offset or 0
            col = end_col - len(node.attr.encode("utf-8"))
            if col < 0:
                end_line, col = node.lineno, node.col_offset
            self.reject(
                node,
                f"attribute `{node.attr}` is not allowed in SPy: attributes starting with `_` are private",
                line=end_line,
                byte_col=col,
            )

    def visit_Subscript(self, node: ast.Subscript) -> None:
        self.visit(node.value)
        self.visit(node.slice)

    def visit_Slice(self, node: ast.Slice) -> None:
        self.visit_opt(node.lower)
        self.visit_opt(node.upper)
        self.visit_opt(node.step)

    def operator(self, op: ast.operator, node: ast.AST) -> None:
        if not isinstance(op, _BINOPS):
            self.reject(node, _not_allowed("the `@` operator"))

    def visit_BinOp(self, node: ast.BinOp) -> None:
        self.operator(node.op, node)
        self.visit(node.left)
        self.visit(node.right)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        self.visit(node.operand)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        for value in node.values:
            self.visit(value)

    def visit_Compare(self, node: ast.Compare) -> None:
        self.visit(node.left)
        for comparator in node.comparators:
            self.visit(comparator)

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self.visit(node.test)
        self.visit(node.body)
        self.visit(node.orelse)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.target(node.target)
        self.visit(node.value)

    def visit_Starred(self, node: ast.Starred) -> None:
        self.visit(node.value)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.arguments(node.args)
        saved = self.in_function, self.in_loop
        self.in_function, self.in_loop = True, False
        try:
            self.visit(node.body)
        finally:
            self.in_function, self.in_loop = saved

    def comprehension(self, generators: list[ast.comprehension]) -> None:
        for gen in generators:
            if gen.is_async:
                self.reject(gen.iter, _not_allowed("`async for`"))
            self.target(gen.target)
            self.visit(gen.iter)
            for cond in gen.ifs:
                self.visit(cond)

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self.comprehension(node.generators)
        self.visit(node.elt)

    def visit_SetComp(self, node: ast.SetComp) -> None:
        self.comprehension(node.generators)
        self.visit(node.elt)

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> None:
        self.comprehension(node.generators)
        self.visit(node.elt)

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self.comprehension(node.generators)
        self.visit(node.key)
        self.visit(node.value)

    def visit_Call(self, node: ast.Call) -> None:
        if not (isinstance(node.func, ast.Name) and node.func.id == "print"):
            self.visit(node.func)
        for arg in node.args:
            self.visit(arg)
        seen: set[str] = set()
        for kw in node.keywords:
            if kw.arg is not None:
                self.name(kw.arg, kw)
                if kw.arg in seen:
                    self.reject(kw, f"keyword argument `{kw.arg}` repeated")
                seen.add(kw.arg)
            self.visit(kw.value)

    def visit_List(self, node: ast.List) -> None:
        for elt in node.elts:
            self.visit(elt)

    def visit_Tuple(self, node: ast.Tuple) -> None:
        for elt in node.elts:
            self.visit(elt)

    def visit_Set(self, node: ast.Set) -> None:
        for elt in node.elts:
            self.visit(elt)

    def visit_Dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values, strict=True):
            self.visit_opt(key)  # None: `**mapping`
            self.visit(value)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        for value in node.values:
            self.visit(value)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> None:
        self.visit(node.value)
        self.visit_opt(node.format_spec)


def check_program(tree: ast.Module, text: SourceText, filename: str = "<program>") -> None:
    """Raise ``SpySyntaxError`` unless every node of ``tree`` is allowed in SPy."""
    Checker(text, filename).check(tree)
