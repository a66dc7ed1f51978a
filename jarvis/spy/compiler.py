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
import hashlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from types import CodeType
from typing import Any, TypedDict

from jarvis.errors import SpySyntaxError
from jarvis.spy import _names
from jarvis.spy.builtins import TYPES_BY_METHOD
from jarvis.spy.checker import check_program
from jarvis.spy.source import SourceText

#: Kinds of log-record sites.
SITE_ASSIGN = "assign"
SITE_EXPR = "expr"
SITE_PRINT = "print"


@dataclass(frozen=True, slots=True)
class Site:
    """A place in the program that produces log records.

    ``line`` is 1-based, ``col`` 0-based, both counting characters; ``source`` is the
    exact source text of the statement (or, for a ``print`` call nested inside an
    expression, of the call).
    """

    id: int
    kind: str
    line: int
    col: int
    end_line: int
    end_col: int
    source: str


@dataclass(frozen=True, eq=False)
class Program:
    """A checked, compiled SPy program. Compile once, run many times.

    ``code``, ``code_objects``, ``text`` and ``site_globals`` are internals of the runtime.
    """

    source: str
    digest: str  #: sha256 hex of the source's UTF-8 bytes (the journal's program identity)
    filename: str
    sites: list[Site]
    code: CodeType = field(repr=False)
    code_objects: frozenset[CodeType] = field(repr=False)
    text: SourceText = field(repr=False)
    site_globals: dict[str, Site] = field(repr=False)


def compile_program(source: str, filename: str = "<program>") -> Program:
    """Parse, check and compile ``source``; raise ``SpySyntaxError`` if SPy rejects it."""
    # CPython's compile-time warnings ("is" with a literal, invalid escapes) become
    # SyntaxErrors under `-W error`: ignore them so that whether a program is accepted
    # never depends on the process's warning filters.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _compile(source, filename)


def _compile(source: str, filename: str) -> Program:
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
        instrumenter = _Instrumenter(text)
        module = instrumenter.module(tree)
        code = compile(module, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        # Compile-time errors the checker does not catch itself. The tree carries
        # ast positions, so the offsets are in bytes.
        raise _from_syntax_error(exc, text, filename, byte_offsets=True) from None
    except (RecursionError, MemoryError):
        raise _too_deep(text, filename) from None
    sites = instrumenter.sites
    return Program(
        source=source,
        digest=hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest(),
        filename=filename,
        sites=sites,
        code=code,
        code_objects=frozenset(_code_objects(code)),
        text=text,
        site_globals={_names.site_name(s.id): s for s in sites},
    )


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

    def ifexp(self, test: ast.expr, body: ast.expr, orelse: ast.expr) -> ast.IfExp:
        return ast.IfExp(test=test, body=body, orelse=orelse, **self.pos)

    def attribute(self, value: ast.expr, attr: str) -> ast.Attribute:
        return ast.Attribute(value=value, attr=attr, ctx=_LOAD, **self.pos)

    def binop(self, left: ast.expr, op: ast.operator, right: ast.expr) -> ast.BinOp:
        return ast.BinOp(left=left, op=op, right=right, **self.pos)

    def subscript(self, value: ast.expr, key: ast.expr, ctx: ast.expr_context) -> ast.Subscript:
        return ast.Subscript(value=value, slice=key, ctx=ctx, **self.pos)

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
    if isinstance(node, ast.Name | ast.Constant):
        return True
    return isinstance(node, ast.Tuple) and all(
        isinstance(e, ast.Name | ast.Constant) for e in node.elts
    )


class _Instrumenter:
    """Rewrites a checked tree in place; statement methods return lists of statements.

    Statements: each assignment / expression statement gets its log record, each loop
    iteration and function call a ``host.check()``. Expressions: attribute reads go
    through the gate, ``print(...)`` becomes a site-carrying call, f-string values and
    ``%`` go through SPy's deterministic formatting. Everything else is left as it is.
    To instrument a new node type, add a case to ``stmt`` or a handler to ``expr``.
    """

    def __init__(self, text: SourceText) -> None:
        self.text = text
        self.sites: list[Site] = []
        self.handlers: dict[type[ast.AST], Callable[[Any], ast.expr]] = {
            ast.Name: _identity,
            ast.Constant: _identity,
            ast.Call: self.call,
            ast.Attribute: self.attribute,
            ast.BinOp: self.binop,
            ast.FormattedValue: self.formatted_value,
        }

    def site(self, kind: str, node: ast.AST) -> ast.Name:
        """Register a site for ``node``; return a load of the global holding it."""
        lineno: int = getattr(node, "lineno", 1)
        end_lineno: int = getattr(node, "end_lineno", None) or lineno
        site = Site(
            id=len(self.sites),
            kind=kind,
            line=lineno,
            col=self.text.char_col(lineno, getattr(node, "col_offset", 0)),
            end_line=end_lineno,
            end_col=self.text.char_col(end_lineno, getattr(node, "end_col_offset", 0) or 0),
            source=self.text.segment(node),
        )
        self.sites.append(site)
        return _At(node).load(_names.site_name(site.id))

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
        if isinstance(node, ast.If):
            node.test = self.expr(node.test)
            node.body = self.body(node.body)
            node.orelse = self.body(node.orelse)
            return [node]
        if isinstance(node, ast.For):
            node.target = self.expr(node.target)
            node.iter = self.expr(node.iter)
            node.body = [self.check(node), *self.body(node.body)]
            node.orelse = self.body(node.orelse)
            return [node]
        if isinstance(node, ast.While):
            node.test = self.expr(node.test)
            node.body = [self.check(node), *self.body(node.body)]
            node.orelse = self.body(node.orelse)
            return [node]
        if isinstance(node, ast.FunctionDef):
            return [self.function(node)]
        if isinstance(node, ast.Return):
            if node.value is not None:
                node.value = self.expr(node.value)
            return [node]
        if isinstance(node, ast.Break | ast.Continue | ast.Pass):
            return [node]
        # Unreachable after the checker; fail loudly rather than run something unchecked.
        raise AssertionError(f"checker let through {type(node).__name__}")

    def check(self, node: ast.AST) -> ast.stmt:
        at = _At(node)
        return at.stmt(at.call(_names.CHECK))

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
        site = self.site(SITE_EXPR, node)
        return [self.emit(site, self.expr(value), node)]

    def assign(self, node: ast.Assign) -> list[ast.stmt]:
        site = self.site(SITE_ASSIGN, node)
        node.value = self.expr(node.value)
        node.targets = [self.expr(t) for t in node.targets]
        at = _At(node)
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            # `x = v`: store, then read x back (one LOAD) for the record.
            return [node, self.emit(site, at.load(node.targets[0].id), node)]
        # Unpacking, subscripts, chains: the record carries the whole right-hand side,
        # emitted after the stores succeeded.
        tmp = _names.TMP_ASSIGN
        value, node.value = node.value, at.load(tmp)
        return [at.assign(at.store(tmp), value), node, self.emit(site, at.load(tmp), node)]

    def aug_assign(self, node: ast.AugAssign) -> list[ast.stmt]:
        site = self.site(SITE_ASSIGN, node)
        target = node.target
        at = _At(node)
        if isinstance(target, ast.Name):
            value = self.expr(node.value)
            if isinstance(node.op, ast.Mod):
                # `x %= v` is `x = x % v` for every SPy type (none has an in-place %);
                # that form gets the deterministic `%` of `mod`.
                update: ast.stmt = at.assign(
                    at.store(target.id), self.mod(at.load(target.id), value, node)
                )
            else:
                update = at.aug_assign(target, node.op, value)
            return [update, self.emit(site, at.load(target.id), node)]
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
        if isinstance(node.op, ast.Mod):
            current = t_at.subscript(t_at.load(obj), t_at.load(key), _LOAD)
            update = at.assign(item, self.mod(current, value, node))
        else:
            update = at.aug_assign(item, node.op, value)
        readback = at.subscript(at.load(obj), at.load(key), _LOAD)
        return [*prelude, update, self.emit(site, readback, node)]

    def subscript_key(self, key: ast.expr) -> ast.expr:
        """A subscript's key as a value that can be stored (``a:b`` -> ``slice(a, b)``)."""
        if not isinstance(key, ast.Slice):
            return self.expr(key)
        at = _At(key)
        parts = (key.lower, key.upper, key.step)
        return at.call(_names.SLICE, *(self.expr(p) if p else at.const(None) for p in parts))

    def function(self, node: ast.FunctionDef) -> ast.FunctionDef:
        args = node.args
        for arg in [*args.posonlyargs, *args.args]:
            arg.annotation = None  # annotations are documentation in SPy, never evaluated
        args.defaults = [self.expr(d) for d in args.defaults]
        node.returns = None
        body = node.body
        docstring = [body[0]] if body and _is_docstring(body[0]) else []
        rest = self.body(body[len(docstring) :])
        # check() first thing in every call: a stop reaches deep recursion too.
        node.body = [*docstring, self.check(node), *rest]
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
        self.children(node)
        return node

    def attribute(self, node: ast.Attribute) -> ast.expr:
        value = self.expr(node.value)
        at = _At(node)
        if node.attr not in TYPES_BY_METHOD:
            # Not allowed on any type: the gate raises a SPy AttributeError.
            return at.call(_names.ATTR, value, at.const(node.attr))
        # Fast path inlined, no Python-level call:
        #   (g.attr if type(g := value) in T_attr else gate(g, "attr"))
        # The slow path raises AttributeError (wrong type) with the SPy message.
        g = _names.TMP_GATE
        return at.ifexp(
            at.compare(
                at.call(_names.TYPE, at.walrus(g, value)),
                ast.In(),
                at.load(_names.method_types_name(node.attr)),
            ),
            at.attribute(at.load(g), node.attr),
            at.call(_names.ATTR, at.load(g), at.const(node.attr)),
        )

    def binop(self, node: ast.BinOp) -> ast.expr:
        node.left = self.expr(node.left)
        node.right = self.expr(node.right)
        if isinstance(node.op, ast.Mod):
            return self.mod(node.left, node.right, node)
        return node

    def mod(self, left: ast.expr, right: ast.expr, node: ast.AST) -> ast.expr:
        """``left % right`` with str %-formatting routed through SPy's deterministic str.

        Inlined for the common shapes (``i % 2``, ``"%s: %d" % (k, v)``):
            (pct(m, R) if type(m := L) is str else m % R)
        which repeats R, so only when R is a name, a constant or a tuple of those
        (repeating anything bigger could grow the code exponentially with nesting).
        """
        at = _At(node)
        if not _is_plain(right):
            return at.call(_names.MOD, left, right)
        m = _names.TMP_MOD
        return at.ifexp(
            at.compare(
                at.call(_names.TYPE, at.walrus(m, left)), ast.Is(), at.load(_names.STR_TYPE)
            ),
            at.call(_names.PERCENT, at.load(m), right),
            at.binop(at.load(m), ast.Mod(), right),
        )

    def formatted_value(self, node: ast.FormattedValue) -> ast.expr:
        # f-strings format with CPython's format(), which would print memory addresses
        # for functions and the like; route anything that is not a plain scalar through
        # SPy's deterministic str()/repr()/ascii().
        value = self.expr(node.value)
        at = _At(node.value)
        if node.conversion == ord("r"):
            value = at.call(_names.REPR, value)
        elif node.conversion == ord("a"):
            value = at.call(_names.ASCII, value)
        elif node.conversion == ord("s"):
            value = at.call(_names.STR, value)
        else:
            v = _names.TMP_FORMAT
            value = at.ifexp(
                at.compare(
                    at.call(_names.TYPE, at.walrus(v, value)), ast.In(), at.load(_names.SIMPLE)
                ),
                at.load(v),
                at.call(_names.STR, at.load(v)),
            )
        node.value = value
        node.conversion = -1
        if node.format_spec is not None:
            node.format_spec = self.expr(node.format_spec)
        return node


def _identity(node: ast.expr) -> ast.expr:
    return node
