"""Every program in cases/ runs under CPython and under SPy with identical results.

Same printed output, same ``result``; if CPython raises, SPy raises ``SpyRuntimeError``
with the same type, message and line, after the same output.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import io
import traceback
from pathlib import Path

import pytest

from jarvis.errors import SpyRuntimeError
from jarvis.spy import compile_program, run_program

from ._host import RecordingHost

CASES = sorted((Path(__file__).parent / "cases").glob("*.py"))
INPUTS = {"n": 10, "name": "world", "items": [3, 1, 2], "config": {"a": 1}}


def run_cpython(path: Path) -> tuple[str, object, BaseException | None, int | None]:
    source = path.read_text()
    out = io.StringIO()
    env: dict[str, object] = {"inputs": copy.deepcopy(INPUTS), "__name__": "__main__"}
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


def expected_site_sources(source: str) -> list[str]:
    """Sources of the statements (and nested print calls) that must have a site."""
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
        if isinstance(node, ast.Assign | ast.AugAssign | ast.Expr) and id(node) not in docstrings:
            out.append(ast.get_source_segment(source, node) or "")
            if isinstance(node, ast.Expr):
                statement_values.add(id(node.value))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "print"
            and id(node) not in statement_values
        ):
            out.append(ast.get_source_segment(source, node) or "")
    return sorted(out)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case_sites_match_ast_source_segments(path: Path) -> None:
    source = path.read_text()
    program = compile_program(source)
    assert sorted(s.source for s in program.sites) == expected_site_sources(source)
