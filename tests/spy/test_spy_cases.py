"""Every program in cases/ runs under CPython and under SPy with identical results.

Same printed output, same ``result``; if CPython raises, SPy raises ``SpyRuntimeError``
with the same type, message and line, after the same output.

Cases whose first line is ``# spy-only: <why>`` use what CPython does not have (effects,
Books, insertion-ordered sets...): they run under SPy only, with ``CaseHost``, and end
with their expected output in a comment block::

    # expected output:
    # first printed line
    # second printed line
"""

from __future__ import annotations

import ast
import contextlib
import copy
import io
import json
import math
import traceback
from pathlib import Path

import pytest

from jarvis.errors import SpyRuntimeError
from jarvis.spy import compile_program, run_program
from jarvis.spy.whitelist import BUILTIN_NAMES

from ._host import CaseHost, RecordingHost

ALL_CASES = sorted((Path(__file__).parent / "cases").glob("*.py"))
SPY_ONLY = [p for p in ALL_CASES if p.read_text().startswith("# spy-only")]
CASES = [p for p in ALL_CASES if p not in SPY_ONLY]
INPUTS = {"n": 10, "name": "world", "items": [3, 1, 2], "config": {"a": 1}}


def run_cpython(path: Path) -> tuple[str, object, BaseException | None, int | None]:
    source = path.read_text()
    out = io.StringIO()
    # SPy's `json` and `math` namespaces are CPython's modules on this side.
    env: dict[str, object] = {
        "inputs": copy.deepcopy(INPUTS),
        "__name__": "__main__",
        "json": json,
        "math": math,
    }
    error: BaseException | None = None
    line = None
    with contextlib.redirect_stdout(out):
        try:
            exec(compile(source, str(path), "exec"), env)
        except Exception as exc:
            error = exc
            line = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)][
                -1
            ].lineno
    return out.getvalue(), env.get("result"), error, line


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case_matches_cpython(path: Path) -> None:
    expected_out, expected_result, expected_error, expected_line = run_cpython(path)
    program = compile_program(path.read_text(), filename=path.name)
    host = RecordingHost()
    if expected_error is None:
        result = run_program(program, copy.deepcopy(INPUTS), host)
        assert host.output == expected_out
        assert result == expected_result
        assert type(result) is type(expected_result)
    else:
        with pytest.raises(SpyRuntimeError) as info:
            run_program(program, copy.deepcopy(INPUTS), host)
        assert host.output == expected_out
        err = info.value
        assert (err.spy_type, err.message) == (type(expected_error).__name__, str(expected_error))
        assert err.line == expected_line
        assert err.frames[0].function == "<module>"


def expected_output(source: str) -> str:
    lines = source.splitlines()
    start = lines.index("# expected output:")
    out = []
    for line in lines[start + 1 :]:
        assert line == "#" or line.startswith("# "), f"bad expected-output line {line!r}"
        out.append(line[2:] + "\n")
    return "".join(out)


@pytest.mark.parametrize("path", SPY_ONLY, ids=[p.stem for p in SPY_ONLY])
def test_spy_only_case(path: Path) -> None:
    source = path.read_text()
    host = CaseHost()
    run_program(
        compile_program(source, filename=path.name),
        copy.deepcopy(INPUTS),
        host,
        books=CaseHost.BOOKS,
    )
    assert host.output == expected_output(source)


def expected_site_sources(source: str, level: str) -> list[str]:
    """Sources of the statements, nested print calls, Book calls and (at "full") branch
    headers that must have a site at ``level``."""
    tree = ast.parse(source)
    docstrings = {
        id(body[0])
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef)
        for body in [node.body]
        if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
    }
    statement_values = set()
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and _is_print(node.value):
            out.append(ast.get_source_segment(source, node) or "")
            statement_values.add(id(node.value))
        elif (
            (
                isinstance(node, ast.Assign | ast.AugAssign | ast.Expr)
                or (isinstance(node, ast.AnnAssign) and node.value is not None)
            )
            and id(node) not in docstrings
            and level != "effects"
        ):
            out.append(ast.get_source_segment(source, node) or "")
    for node in ast.walk(tree):
        if _is_print(node) and id(node) not in statement_values:
            out.append(ast.get_source_segment(source, node) or "")
    # Book sites: `name.attr` on a name the program never binds (and SPy does not define).
    bound = (
        {
            n.id
            for n in ast.walk(tree)
            if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)
        }
        | {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        | {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)}
        | {n.name for n in ast.walk(tree) if isinstance(n, ast.ExceptHandler) and n.name}
        | {
            name
            for n in ast.walk(tree)
            if isinstance(n, ast.Global | ast.Nonlocal)
            for name in n.names
        }
    )
    free = (
        {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        - bound
        - BUILTIN_NAMES
        - {"inputs"}
    )
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _is_book(node.func, free):
            out.append(ast.get_source_segment(source, node) or "")
    if level == "full":
        elifs = {
            id(n.orelse[0])
            for n in ast.walk(tree)
            if isinstance(n, ast.If)
            and len(n.orelse) == 1
            and isinstance(n.orelse[0], ast.If)
            and source.splitlines()[n.orelse[0].lineno - 1][n.orelse[0].col_offset :].startswith(
                "elif"
            )
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.If | ast.While) and id(node) not in elifs:
                header = ast.If(test=node.test)  # a span from the keyword to the test's end
                ast.copy_location(header, node)
                header.end_lineno, header.end_col_offset = (
                    node.test.end_lineno,
                    node.test.end_col_offset,
                )
                out.append(ast.get_source_segment(source, header) or "")
            elif isinstance(node, ast.For):
                header = ast.If(test=node.iter)
                ast.copy_location(header, node)
                header.end_lineno, header.end_col_offset = (
                    node.iter.end_lineno,
                    node.iter.end_col_offset,
                )
                out.append(ast.get_source_segment(source, header) or "")
    return sorted(out)


def _is_print(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
    )


def _is_book(node: ast.AST, free: set[str]) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in free
    )


@pytest.mark.parametrize("level", ["full", "statements", "effects"])
@pytest.mark.parametrize("path", ALL_CASES, ids=[p.stem for p in ALL_CASES])
def test_case_sites_match_ast_source_segments(path: Path, level: str) -> None:
    source = path.read_text()
    program = compile_program(source, log_level=level)
    assert program.log_level == level
    assert sorted(s.source for s in program.sites) == expected_site_sources(source, level)
