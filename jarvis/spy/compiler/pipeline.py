"""Compile SPy source into an instrumented Python code object.

Pipeline: ``ast.parse`` -> ``checker`` (whitelist; rejects before anything runs) ->
``Instrumenter`` (rewrites the tree: log records, host checks, attribute gate,
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
from types import CodeType

from jarvis.errors import RunLimitExceeded, SpySyntaxError
from jarvis.spy import _names
from jarvis.spy.checker import check_program
from jarvis.spy.compiler.instrumenter import Instrumenter
from jarvis.spy.limits import Limits
from jarvis.spy.program import LOG_LEVELS, Program
from jarvis.spy.runtime.memory import builder_codes
from jarvis.spy.source import SourceText

CODE_FILENAME = "<spy program>"
"""The ``co_filename`` of every program's code objects. The program's own file name (a
field of the start command) is ``Program.filename``, which is all that SPy's errors show:
so one compiled program serves every file name (``Program.named``), and no program text
can make its frames look like SPy's own files (``runtime.memory``, ``values.containers``
tell them apart by ``co_filename``)."""


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
        instrumenter = Instrumenter(text, LOG_LEVELS[log_level], tree)
        module = _as_main(instrumenter.module(tree))
        module_code = compile(module, CODE_FILENAME, "exec", dont_inherit=True, optimize=0)
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
