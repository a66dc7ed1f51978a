"""Everything outside the SPy whitelist is rejected before running, at the right place."""

from __future__ import annotations

import pytest

from jarvis.errors import SpySyntaxError
from jarvis.spy import compile_program

# (source, message, line, col) -- col is 0-based, in characters.
REJECTED = [
    ("import os", "`import` is not allowed in SPy", 1, 0),
    ("x = 1\nfrom os import path", "`import` is not allowed in SPy", 2, 0),
    ("class A:\n    pass", "`class` is not allowed in SPy", 1, 0),
    ("with x:\n    pass", "`with` is not allowed in SPy", 1, 0),
    ("def g():\n    yield 1", "`yield` (generators) is not allowed in SPy", 2, 4),
    ("def g():\n    yield from x", "`yield from` (generators) is not allowed in SPy", 2, 4),
    ("f = lambda: (yield)", "`yield` (generators) is not allowed in SPy", 1, 13),
    ("async def g():\n    pass", "`async def` is not allowed in SPy", 1, 0),
    (
        "try:\n    pass\nexcept* ValueError:\n    pass",
        "`try`/`except*` is not allowed in SPy",
        1,
        0,
    ),
    ("match x:\n    case 1:\n        pass", "`match` is not allowed in SPy", 1, 0),
    ("x = 2j", "complex numbers are not allowed in SPy", 1, 4),
    ("x = a @ b", "the `@` operator is not allowed in SPy", 1, 4),
    ("x = 1\nx.attr = 2", "assigning to an attribute is not allowed in SPy", 2, 0),
    ("x = [1]\ndel x.append", "deleting an attribute is not allowed in SPy", 2, 4),
    ("x = [1]\nx.attr += 1", "assigning to an attribute is not allowed in SPy", 2, 0),
    ("[x.y for x.y in z]", "assigning to an attribute is not allowed in SPy", 1, 9),
    # dunders and private attributes
    (
        "x = ''.__class__",
        "attribute `__class__` is not allowed in SPy: attributes starting with `_` are private",
        1,
        7,
    ),
    (
        "x = [1]._hidden",
        "attribute `_hidden` is not allowed in SPy: attributes starting with `_` are private",
        1,
        8,
    ),
    ("__x = 1", "`__x`: names starting with `__` are not allowed in SPy", 1, 0),
    ("y = __name__", "`__name__`: names starting with `__` are not allowed in SPy", 1, 4),
    ("__spy_emit(1, 2)", "`__spy_emit`: names starting with `__` are not allowed in SPy", 1, 0),
    ("y = __builtins__", "`__builtins__`: names starting with `__` are not allowed in SPy", 1, 4),
    (
        "def __init__(self):\n    pass",
        "`__init__`: names starting with `__` are not allowed in SPy",
        1,
        4,
    ),
    ("def f(__a):\n    pass", "`__a`: names starting with `__` are not allowed in SPy", 1, 6),
    ("f(__k=1)", "`__k`: names starting with `__` are not allowed in SPy", 1, 2),
    ("f = lambda __a: 1", "`__a`: names starting with `__` are not allowed in SPy", 1, 11),
    ("x = [1 for __i in y]", "`__i`: names starting with `__` are not allowed in SPy", 1, 11),
    ("(__w := 1)", "`__w`: names starting with `__` are not allowed in SPy", 1, 1),
    ("def f():\n    global __g", "`__g`: names starting with `__` are not allowed in SPy", 2, 4),
    ("def f(*__a):\n    pass", "`__a`: names starting with `__` are not allowed in SPy", 1, 7),
    ("def f(**__k):\n    pass", "`__k`: names starting with `__` are not allowed in SPy", 1, 8),
    ("def f(*, __k=1):\n    pass", "`__k`: names starting with `__` are not allowed in SPy", 1, 9),
    ("for __i in x:\n    pass", "`__i`: names starting with `__` are not allowed in SPy", 1, 4),
    # forbidden builtins
    *[
        (f"x = {name}", f"`{name}` is not allowed in SPy", 1, 4)
        for name in [
            "eval",
            "exec",
            "open",
            "getattr",
            "setattr",
            "globals",
            "locals",
            "vars",
            "compile",
            "type",
            "object",
            "super",
            "input",
            "breakpoint",
            "help",
            "dir",
        ]
    ],
    ("__import__('os')", "`__import__`: names starting with `__` are not allowed in SPy", 1, 0),
    ("type = 3", "`type` is not allowed in SPy", 1, 0),
    ("def f(eval):\n    pass", "`eval` is not allowed in SPy", 1, 6),
    # print is only callable
    ("p = print", "`print` can only be called in SPy, not stored, passed or redefined", 1, 4),
    ("print = 1", "`print` can only be called in SPy, not stored, passed or redefined", 1, 0),
    (
        "def print(x):\n    pass",
        "`print` can only be called in SPy, not stored, passed or redefined",
        1,
        4,
    ),
    # compile-time errors CPython reports from its compiler, not its parser
    ("return 1", "`return` outside a function", 1, 0),
    ("break", "`break` outside a loop", 1, 0),
    ("for i in x:\n    pass\nelse:\n    continue", "`continue` outside a loop", 4, 4),
    ("for i in x:\n    def f():\n        break", "`break` outside a loop", 3, 8),
    ("def f(a, a):\n    pass", "duplicate parameter `a` in function definition", 1, 9),
    ("f(a=1, a=2)", "keyword argument `a` repeated", 1, 7),
    # Python syntax errors keep CPython's message and position (characters)
    ("x = (1,\ny = 2", "'(' was never closed", 1, 4),
    ("x = 'é' +", "invalid syntax", 1, 9),
    ("if x\n    pass", "expected ':'", 1, 4),
    ("def f():\nreturn 1", "expected an indented block after function definition on line 1", 2, 0),
]


@pytest.mark.parametrize(
    ("source", "message", "line", "col"), REJECTED, ids=[r[0][:40] for r in REJECTED]
)
def test_rejected(source: str, message: str, line: int, col: int) -> None:
    with pytest.raises(SpySyntaxError) as info:
        compile_program(source)
    err = info.value
    assert (err.message, err.line, err.col) == (message, line, col)
    assert err.source_line == source.splitlines()[line - 1]


def test_import_hint_and_rendering() -> None:
    with pytest.raises(SpySyntaxError) as info:
        compile_program("x = 1\n  \nimport requests", filename="job.spy")
    err = info.value
    assert err.hint is not None and "Book" in err.hint
    assert str(err) == (
        "job.spy:3:1: `import` is not allowed in SPy\n"
        "    import requests\n"
        "    ^\n"
        "hint: use a Book: SPy programs reach other systems through Books"
    )


def test_rendering_puts_caret_under_the_column() -> None:
    with pytest.raises(SpySyntaxError) as info:
        compile_program("total = 1\nname = 'é'.__doc__")
    lines = str(info.value).splitlines()
    assert (
        lines[0]
        == "<program>:2:12: attribute `__doc__` is not allowed in SPy: attributes starting with `_` are private"
    )
    assert lines[1] == "    name = 'é'.__doc__"
    assert lines[2] == "    " + " " * 11 + "^"


def test_null_bytes_rejected() -> None:
    with pytest.raises(SpySyntaxError) as info:
        compile_program("x = 1\0")
    assert "null bytes" in info.value.message


def test_deep_nesting_is_a_syntax_error_not_a_crash() -> None:
    with pytest.raises(SpySyntaxError):
        compile_program("x = " + "+".join(["1"] * 200_000), max_program_bytes=1 << 20)


def test_rejected_program_never_runs() -> None:
    # The rejected construct is last: nothing before it may have run (no host exists here).
    with pytest.raises(SpySyntaxError):
        compile_program("print('side effect')\nimport os")


def test_annotations_are_not_evaluated() -> None:
    # Annotations may name anything allowed; they are dropped, never evaluated.
    program = compile_program(
        "def f(x: int, y: undefined_name = 2) -> list:\n    return x + y\nresult = f(1)"
    )
    from jarvis.spy import run_program

    from ._host import RecordingHost

    assert run_program(program, {}, RecordingHost()) == 3


def test_annotations_are_checked() -> None:
    with pytest.raises(SpySyntaxError) as info:
        compile_program("def f(x: __import__('os')):\n    pass")
    assert info.value.message.startswith("`__import__`")


def test_acceptance_does_not_depend_on_warning_filters() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compile_program('x = 1\ny = x is 1\nz = "\\d"\n')
