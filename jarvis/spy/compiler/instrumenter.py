"""Compile SPy source into an instrumented Python code object.

Pipeline: ``ast.parse`` -> ``checker`` (whitelist; rejects before anything runs) ->
``_Instrumenter`` (rewrites the tree: log records, host checks, attribute gate,
deterministic formatting) -> ``compile()``. The result runs under plain ``exec``, so
SPy code runs at bytecode speed; the instrumentation is a handful of extra loads and
calls per statement rather than an interpreter loop in Python.

Rejected design: a tree-walking interpreter in Python (simple, but 30-100x slower
than CPython; we need to stay within ~2x).

Generated code only uses ``__spy_*`` names (see ``_names``); every new node gets the
position of the node it replaces, so tracebacks point at the program's own text.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import warnings
from collections.abc import Callable
from types import CodeType
from typing import Any, TypedDict

from jarvis.errors import RunLimitExceeded, SpySyntaxError
from jarvis.spy import _names
from jarvis.spy.checker import check_program
from jarvis.spy.limits import Limits
from jarvis.spy.program import (
    LOG_LEVELS,
    SITE_ASSIGN,
    SITE_BOOK,
    SITE_BRANCH,
    SITE_EXPR,
    SITE_PRINT,
    Program,
    Site,
)
from jarvis.spy.runtime.guards import STATIC_SPEC_OK
from jarvis.spy.runtime.memory import builder_codes
from jarvis.spy.source import SourceText
from jarvis.spy.whitelist import BUILTIN_NAMES, GLOBAL_NAMES, TYPES_BY_METHOD


def compile_program(
    source: str,
    filename: str = "<program>",
    *,
    log_level: str = "full",
    max_program_bytes: int | None = None,
) -> Program:
    """Parse, check and compile ``source``; raise ``SpySyntaxError`` if SPy rejects it.

    ``log_level``: ``"full"`` (assign, expr, print, book and branch records),
    ``"statements"`` (no branch records) or ``"effects"`` (print and book records only).
    ``max_program_bytes`` (default ``Limits().max_program_bytes``): a longer source is a
    ``LimitExceeded`` before it is parsed.
    """
    if log_level not in LOG_LEVELS:
        raise ValueError(f"log_level must be one of {', '.join(LOG_LEVELS)}, not {log_level!r}")
    limit = Limits().max_program_bytes if max_program_bytes is None else max_program_bytes
    if len(source) > limit // 4:
        size = len(source.encode("utf-8", "surrogatepass"))
        if size > limit:
            raise RunLimitExceeded(
                "LimitExceeded",
                f"the program is {size:,} bytes, more than {limit:,} (max_program_bytes)",
                [],
                filename,
            )
    # CPython's compile-time warnings ("is" with a literal, invalid escapes) become
    # SyntaxErrors under `-W error`: ignore them so that whether a program is accepted
    # never depends on the process's warning filters.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _compile(source, filename, log_level)


def _compile(source: str, filename: str, log_level: str) -> Program:
    text = SourceText(source)
    try:
        tree = ast.parse(source, filename=filename, mode="exec")
    except SyntaxError as exc:
        raise _from_syntax_error(exc, text, filename, byte_offsets=False) from None
    except ValueError as exc:  # e.g. "source code string cannot contain null bytes" (3.11)
        raise SpySyntaxError(str(exc), 1, 0, text.line(1), None, filename) from None
    except (RecursionError, MemoryError):
        raise _too_deep(text, filename) from None
    try:
        check_program(tree, text, filename)
        instrumenter = _Instrumenter(text, LOG_LEVELS[log_level], tree)
        module = _as_main(instrumenter.module(tree))
        module_code = compile(module, filename, "exec", dont_inherit=True, optimize=0)
        code = _main_code(module_code)
    except SyntaxError as exc:
        # Compile-time errors the checker does not catch itself. The tree carries
        # ast positions, so the offsets are in bytes.
        raise _from_syntax_error(exc, text, filename, byte_offsets=True) from None
    except (RecursionError, MemoryError):
        raise _too_deep(text, filename) from None
    sites = instrumenter.sites
    constants: dict[str, object] = {_names.site_name(s.id): s for s in sites}
    constants.update(instrumenter.constants)
    code_objects = frozenset(_code_objects(code))
    return Program(
        source=source,
        digest=hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest(),
        filename=filename,
        sites=sites,
        log_level=log_level,
        code=code,
        code_objects=code_objects,
        builders=builder_codes(code_objects),
        text=text,
        constants=constants,
    )


_MAIN = "__spy_main"


def _NO_ARGS() -> ast.arguments:
    return ast.arguments(
        posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
        defaults=[],
    )  # fmt: skip


_MAIN_PREFIX = _MAIN + ".<locals>."


def _as_main(module: ast.Module) -> ast.Module:
    """``def __spy_main(): global <module names>; <body>`` -- the program as a function.

    CPython runs module-level code with LOAD_NAME/STORE_NAME (two or three dict lookups
    per name, never specialised); inside a function whose module-level names are
    declared ``global``, the same code uses the specialised LOAD_GLOBAL, and SPy's
    generated temporaries become fast locals. The runtime calls the function's code
    directly (``<module>`` in tracebacks); the program cannot tell the difference.
    """
    body = module.body
    declared = {n for stmt in body if isinstance(stmt, ast.Global) for n in stmt.names}
    names = sorted(_module_bindings(body) - declared)
    pos = {"lineno": 1, "col_offset": 0, "end_lineno": 1, "end_col_offset": 0}
    prelude: list[ast.stmt] = [ast.Global(names=names, **pos)] if names else []
    main = ast.FunctionDef(
        name=_MAIN,
        args=_NO_ARGS(),
        body=[*prelude, *body] or [ast.Pass(**pos)],
        decorator_list=[],
        returns=None,
        type_comment=None,
        **pos,
    )
    return ast.Module(body=[main], type_ignores=[])


def _module_bindings(body: list[ast.stmt]) -> set[str]:
    """Names the program binds at module scope (not SPy's ``__spy_`` temporaries)."""
    out: set[str] = set()
    todo: list[ast.AST] = list(body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef):
            out.add(node.name)
            todo.extend(node.decorator_list)
            todo.extend(d for d in [*node.args.defaults, *node.args.kw_defaults] if d is not None)
            continue  # its body is its own scope
        if isinstance(node, ast.Lambda):
            todo.extend(d for d in [*node.args.defaults, *node.args.kw_defaults] if d is not None)
            continue
        if isinstance(node, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
            # Only `:=` inside binds the enclosing (module) scope.
            out.update(
                n.target.id
                for n in ast.walk(node)
                if isinstance(n, ast.NamedExpr) and isinstance(n.target, ast.Name)
            )
            todo.append(node.generators[0].iter)
            continue
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            out.add(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            out.add(node.name)
        todo.extend(ast.iter_child_nodes(node))
    return {n for n in out if not n.startswith(_names.PREFIX)}


def _main_code(module_code: CodeType) -> CodeType:
    """The main function's code, renamed ``<module>``, nested qualnames made top-level."""
    main = next(c for c in module_code.co_consts if isinstance(c, CodeType) and c.co_name == _MAIN)
    return _requalify(main).replace(co_name="<module>", co_qualname="<module>")


def _requalify(code: CodeType) -> CodeType:
    consts = tuple(_requalify(c) if isinstance(c, CodeType) else c for c in code.co_consts)
    qualname = code.co_qualname.removeprefix(_MAIN_PREFIX)
    return code.replace(co_consts=consts, co_qualname=qualname)


def _from_syntax_error(
    exc: SyntaxError, text: SourceText, filename: str, *, byte_offsets: bool
) -> SpySyntaxError:
    line = exc.lineno or 1
    col = max((exc.offset or 1) - 1, 0)
    if byte_offsets:
        col = text.char_col(line, col)
    return SpySyntaxError(exc.msg, line, col, text.line(line), None, filename)


def _too_deep(text: SourceText, filename: str) -> SpySyntaxError:
    return SpySyntaxError(
        "the program is nested too deeply", 1, 0, text.line(1), "split long expressions", filename
    )


def _code_objects(code: CodeType) -> list[CodeType]:
    """``code`` and every code object nested in it (functions, nested functions)."""
    out = [code]
    for const in code.co_consts:
        if isinstance(const, CodeType):
            out.extend(_code_objects(const))
    return out


# -- instrumentation --------------------------------------------------------------

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


class _Instrumenter:
    """Rewrites a checked tree in place; statement methods return lists of statements.

    Statements: assignment / expression statements get their log record and ``if``
    chains and loops their "branch" records (each only when the log level records that
    kind), every loop iteration and function call a tick. Expressions: attribute reads go
    through the gate, ``print(...)`` becomes a site-carrying call, f-string values and
    ``%`` go through SPy's deterministic formatting, ``*``/``+``/``**``/``<<`` through
    the memory guards, ``except`` types through the host-failure filter. Everything else
    is left as it is. To instrument a new node type, add a case to ``stmt`` or a handler
    to ``expr``.
    """

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

    def new_pair(self) -> tuple[str, str]:
        self.counter += 1
        return _names.left_name(self.counter), _names.right_name(self.counter)

    # -- statements --------------------------------------------------------------

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

    def stmt(self, node: ast.stmt) -> list[ast.stmt]:
        if isinstance(node, ast.Expr):
            return self.expr_stmt(node)
        if isinstance(node, ast.Assign):
            return self.assign(node)
        if isinstance(node, ast.AugAssign):
            return self.aug_assign(node)
        if isinstance(node, ast.AnnAssign):
            return self.ann_assign(node)
        if isinstance(node, ast.If):
            return self.if_(node)
        if isinstance(node, ast.For):
            return self.for_(node)
        if isinstance(node, ast.While):
            return self.while_(node)
        if isinstance(node, ast.FunctionDef):
            return [self.function(node)]
        if isinstance(node, ast.Try):
            return [self.try_(node)]
        if isinstance(node, ast.Raise):
            self.children(node)
            if node.exc is not None:
                # Only Exception subclasses: a BaseException would leave as a host failure.
                node.exc = _At(node.exc).call(_names.RAISE, node.exc)
            return [node]
        if isinstance(node, ast.Return | ast.Assert | ast.Delete):
            self.children(node)
            return [node]
        if isinstance(node, ast.Break | ast.Continue | ast.Pass | ast.Global | ast.Nonlocal):
            return [node]
        # Unreachable after the checker; fail loudly rather than run something unchecked.
        raise AssertionError(f"checker let through {type(node).__name__}")

    def tick(self, node: ast.AST, name: str = _names.TICK) -> ast.stmt:
        return _At(node).stmt(_tick(node, name))

    def emit(self, site: ast.Name, value: ast.expr, node: ast.AST) -> ast.stmt:
        at = _At(node)
        return at.stmt(at.call(_names.EMIT, site, value))

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

    def in_num_test(self, first: ast.expr, again: ast.expr) -> ast.expr:
        """``(k := type(first)) is int or k is float``: ints cost one comparison.

        (Bools take the slow path, which is still correct.) Where ``:=`` is not allowed
        the guard is out of line anyway.
        """
        at = _At(first)
        self.counter += 1
        k = f"__spy_k{self.counter}"
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
        self.counter += 1
        k = f"__spy_k{self.counter}"
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

    def subscript_key(self, key: ast.expr) -> ast.expr:
        """A subscript's key as a value that can be stored (``a:b`` -> ``slice(a, b)``)."""
        if not isinstance(key, ast.Slice):
            return self.expr(key)
        at = _At(key)
        parts = (key.lower, key.upper, key.step)
        return at.call(_names.SLICE, *(self.expr(p) if p else at.const(None) for p in parts))

    # -- branches and loops ---------------------------------------------------------

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

    # -- functions and exceptions ------------------------------------------------------

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

    # -- expressions -------------------------------------------------------------

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

    def joined_str(self, node: ast.JoinedStr) -> ast.expr:
        parts = sum(isinstance(v, ast.FormattedValue) for v in node.values)
        node.values = [
            self.formatted_value(v, parts) if isinstance(v, ast.FormattedValue) else v
            for v in node.values
        ]
        return node

    def formatted_value(self, node: ast.FormattedValue, parts: int) -> ast.expr:
        # f-strings format with CPython's format(), which would print memory addresses
        # for functions and the like; route anything that is not a plain scalar through
        # SPy's deterministic str()/repr()/ascii(), and bound the size of the result.
        value = self.expr(node.value)
        at = _At(node.value)
        if node.conversion in (ord("r"), ord("a"), ord("s")):
            value = at.call(_names.FCONV, value, at.const(chr(node.conversion)), at.const(parts))
        elif self.no_walrus or parts > _FSTRING_INLINE_PARTS:
            value = at.call(_names.FPART, value, at.const(parts))
        elif parts == 1 and isinstance(value, ast.Name):
            value = at.ifexp(
                at.compare(at.call(_names.TYPE, value), ast.In(), at.load(_names.FSIMPLE)),
                at.load(value.id),
                at.call(_names.STR, at.load(value.id)),
            )
        elif parts == 1:
            v = self.temp(_names.TMP_FORMAT)
            value = at.ifexp(
                at.compare(
                    at.call(_names.TYPE, at.walrus(v, value)), ast.In(), at.load(_names.FSIMPLE)
                ),
                at.load(v),
                at.call(_names.STR, at.load(v)),
            )
        else:
            # Several parts: each may hold 1/64 of the memory limit (`f"{s}{s}"` doubles).
            if isinstance(value, ast.Name):
                v = value.id
                first: ast.expr = value
            else:
                v = self.temp(_names.TMP_FORMAT)
                first = at.walrus(v, value)
            is_small = at.compare(at.call(_names.TYPE, first), ast.In(), at.load(_names.SMALL))
            short_str = at.boolop(
                ast.And(),
                [
                    at.compare(
                        at.call(_names.TYPE, at.load(v)), ast.Is(), at.load(_names.STR_TYPE)
                    ),
                    at.compare(
                        at.call(_names.LEN, at.load(v)), ast.Lt(), at.load(_names.FPART_MAX)
                    ),
                ],
            )
            value = at.ifexp(
                at.boolop(ast.Or(), [is_small, short_str]),
                at.load(v),
                at.call(_names.FPART, at.load(v), at.const(parts)),
            )
        node.conversion = -1
        spec = node.format_spec
        if spec is not None:
            assert isinstance(spec, ast.JoinedStr)
            static = _static_spec(spec)
            if static is not None and _spec_is_small(static):
                node.value = value
                return node
            # A big or computed spec (`{x:>1000000000}`, `{x:>{w}}`): format() checks it.
            node.value = at.call(_names.FORMAT, value, self.joined_str(spec))
            node.format_spec = None
            return node
        node.value = value
        return node

    # -- operators --------------------------------------------------------------------

    def binop(self, node: ast.BinOp) -> ast.expr:
        op = node.op
        if isinstance(op, ast.Mod):
            return self.mod(self.expr(node.left), self.expr(node.right), node)
        left_const = _number_const(node.left)
        right_const = _number_const(node.right)
        node.left = self.expr(node.left)
        node.right = self.expr(node.right)
        both_const = isinstance(node.left, ast.Constant) and isinstance(node.right, ast.Constant)
        if isinstance(op, ast.Add):
            if left_const is not None or right_const is not None or both_const:
                return node  # a number + anything: a number or a TypeError
            return self.guarded(node, self.in_num_test, _names.ADD)
        if isinstance(op, ast.Mult):
            if isinstance(left_const, float) or isinstance(right_const, float):
                return node  # a float * anything: a float or a TypeError
            if isinstance(right_const, int) and not isinstance(left_const, int):
                return self.guarded(node, self.in_num_test, _names.MUL)  # x * 3
            if isinstance(left_const, int) and right_const is None:
                return self.guarded_right(node, _names.MUL)  # 3 * x
            if left_const is not None:
                return node
            return self.guarded(node, self.mul_test, _names.MUL)
        if isinstance(op, ast.Pow):
            if isinstance(left_const, float) or isinstance(right_const, float):
                return node
            if isinstance(right_const, int) and right_const in _POW_BASE and left_const is None:
                bound = _POW_BASE[right_const]
                return self.guarded(node, lambda f, a: self.small_int_test(f, a, bound), _names.POW)
            if left_const is not None and right_const is not None:
                if _small_power(left_const, right_const):
                    return node  # CPython folds it at compile time
                return self.out_of_line(node, _names.POW)  # `10 ** 100000000`: checked too
            return self.guarded(node, self.is_float_test, _names.POW)
        if isinstance(op, ast.LShift):
            if isinstance(right_const, int) and 0 <= right_const <= _SHIFT_OK:
                return node
            return self.out_of_line(node, _names.LSHIFT)
        if isinstance(op, ast.FloorDiv):
            if _cheap_divisor(right_const):
                return node  # x // 10: linear in x, or a float
            return self.guarded(node, self.div_test, _names.FLOORDIV)
        return node

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
        self.counter += 1
        k = f"__spy_k{self.counter}"
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
