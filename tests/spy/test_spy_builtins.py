"""artifact(), render_value() and the builtins' edge cases."""

from __future__ import annotations

import math

import pytest

from jarvis.errors import SpyRuntimeError
from jarvis.spy import compile_program, render_value, run_program

from ._host import RecordingHost


def test_artifact_reaches_host_effect() -> None:
    host = RecordingHost()
    src = "uri = artifact('report.txt', 'hello')\nresult = [uri, artifact('b.csv', 'a,b')]\n"
    result = run_program(compile_program(src), {}, host)
    assert host.effects == [("artifact", ("report.txt", "hello")), ("artifact", ("b.csv", "a,b"))]
    assert result == ["mem://artifact/1", "mem://artifact/2"]
    assert host.records[0].data == "mem://artifact/1"


@pytest.mark.parametrize(
    ("call", "spy_type", "message"),
    [
        ("artifact(1, 'x')", "TypeError", "artifact() name must be a str, not int"),
        ("artifact('', 'x')", "ValueError", "artifact() name must not be empty"),
        (
            "artifact('a/b.txt', 'x')",
            "ValueError",
            "artifact() name 'a/b.txt' must be a plain file name (no '/', '\\', NUL, and not '.' or '..')",
        ),
        (
            "artifact('..', 'x')",
            "ValueError",
            "artifact() name '..' must be a plain file name (no '/', '\\', NUL, and not '.' or '..')",
        ),
        (
            "artifact('../etc', 'x')",
            "ValueError",
            "artifact() name '../etc' must be a plain file name (no '/', '\\', NUL, and not '.' or '..')",
        ),
        ("artifact('a.txt', 5)", "TypeError", "artifact() text must be a str or bytes, not int"),
        (
            "artifact('a.txt', ['x'])",
            "TypeError",
            "artifact() text must be a str or bytes, not list",
        ),
        (
            "artifact('a.txt')",
            "TypeError",
            "artifact() missing 1 required positional argument: 'text'",
        ),
    ],
)
def test_artifact_bad_args(call: str, spy_type: str, message: str) -> None:
    host = RecordingHost()
    with pytest.raises(SpyRuntimeError) as info:
        run_program(compile_program(f"x = 1\n{call}\n"), {}, host)
    assert (info.value.spy_type, info.value.message) == (spy_type, message)
    assert [(f.function, f.line) for f in info.value.frames] == [("<module>", 2)]
    assert host.effects == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, (1, "int")),
        (True, (True, "bool")),
        (2.5, (2.5, "float")),
        (math.inf, ("inf", "float")),
        (math.nan, ("nan", "float")),
        ("s", ("s", "str")),
        (None, (None, "NoneType")),
        ([1, 2], ([1, 2], "list")),
        ((1, 2), ([1, 2], "tuple")),
        ({"a": 1}, ({"a": 1}, "dict")),
        ({1: "a", "b": 2}, ([[1, "a"], ["b", 2]], "dict")),
        ({(1, 2): [3]}, ([[[1, 2], [3]]], "dict")),
        (2**70, (str(2**70), "int")),
        (-(2**63), (-(2**63), "int")),
        (range(3), ("range(0, 3)", "range")),
        (len, ("<built-in function len>", "builtin_function_or_method")),
        ({"k": 1}.keys(), (["k"], "dict_keys")),
    ],
)
def test_render_value(value: object, expected: tuple[object, str]) -> None:
    assert render_value(value) == expected


def test_render_functions_and_builtins_from_a_program() -> None:
    host = RecordingHost()
    run_program(
        compile_program("def f():\n    pass\ng = f\ns = str\na = artifact\ne = enumerate([1])\n"),
        {},
        host,
    )
    assert [(r.data, r.type_name) for r in host.records] == [
        ("<function f>", "function"),
        ("<class 'str'>", "type"),
        ("<built-in function artifact>", "builtin_function_or_method"),
        ("<enumerate object>", "enumerate"),
    ]


def test_render_does_not_consume_iterators() -> None:
    result = run_program(
        compile_program("z = zip([1, 2], 'ab')\nresult = list(z)\n"), {}, RecordingHost()
    )
    assert result == [(1, "a"), (2, "b")]


def test_render_cycles_and_depth() -> None:
    a: list[object] = [1]
    a.append(a)
    assert render_value(a) == ([1, "[...]"], "list")
    d: dict[str, object] = {}
    d["self"] = d
    assert render_value(d) == ({"self": "{...}"}, "dict")
    deep: list[object] = []
    cur = deep
    for _ in range(500):
        nxt: list[object] = []
        cur.append(nxt)
        cur = nxt
    data, _ = render_value(deep)
    depth = 0
    while isinstance(data, list):
        data = data[0] if data else None
        depth += 1
    assert data == "..." and depth == 100


def test_shared_not_cyclic_values_render_twice() -> None:
    shared = [1]
    assert render_value([shared, shared]) == ([[1], [1]], "list")


def test_huge_int_renders() -> None:
    data, type_name = render_value(10**5000)
    assert type_name == "int" and data == "<int with 16610 bits>"


def test_print_rejects_bad_sep_and_unknown_keywords() -> None:
    with pytest.raises(SpyRuntimeError) as info:
        run_program(compile_program("print(1, sep=2)"), {}, RecordingHost())
    assert info.value.message == "sep must be None or a string, not int"
    with pytest.raises(SpyRuntimeError) as info:
        run_program(compile_program("print(1, file=2)"), {}, RecordingHost())
    assert info.value.message == "print() got an unexpected keyword argument 'file'"


def test_range_is_lazy() -> None:
    result = run_program(
        compile_program("r = range(10**12)\nresult = [len(r), r[-1]]\n"), {}, RecordingHost()
    )
    assert result == [10**12, 10**12 - 1]


def test_str_builtin() -> None:
    result = run_program(
        compile_program("result = [str(), str(1), str('a'), str([1, 'a'])]"), {}, RecordingHost()
    )
    assert result == ["", "1", "a", "[1, 'a']"]
