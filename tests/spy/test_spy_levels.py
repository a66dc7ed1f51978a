"""Log levels instrument only their record kinds; branch records say which arm ran."""

from __future__ import annotations

from types import CodeType

import pytest

from jarvis.spy import compile_program, run_program

from ._host import CaseHost

PROGRAM = """\
x = 1
x += 1
len([x])
print("p", x)
kv.put("k", x)
if x > 5:
    y = 1
elif x > 1:
    y = 2
else:
    y = 3
for i in range(2):
    pass
while x < 3:
    x += 1
result = y
"""

KINDS = {
    "full": {"assign", "expr", "print", "book", "branch"},
    "statements": {"assign", "expr", "print", "book"},
    "effects": {"print", "book"},
}


def names_in(code: CodeType) -> set[str]:
    out = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, CodeType):
            out |= names_in(const)
    return out


@pytest.mark.parametrize("level", KINDS)
def test_level_instruments_only_its_kinds(level: str) -> None:
    program = compile_program(PROGRAM, log_level=level)
    assert program.log_level == level
    assert {s.kind for s in program.sites} == KINDS[level]
    host = CaseHost()
    assert run_program(program, {}, host, books=CaseHost.BOOKS) == 2
    assert {r.kind for r in host.records} == KINDS[level]


def test_effects_level_has_no_record_calls_at_all() -> None:
    program = compile_program(
        "x = 1\nfor i in range(3):\n    x += i\nresult = x\n", log_level="effects"
    )
    assert program.sites == []
    assert "__spy_emit" not in names_in(program.code)  # zero cost: not even a call


def test_unknown_level_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        compile_program("x = 1", log_level="verbose")


def branches(source: str) -> list[tuple[int, str, object]]:
    host = CaseHost()
    run_program(compile_program(source, log_level="full"), {}, host)
    return [(r.line, r.source, r.data) for r in host.records if r.kind == "branch"]


def test_if_chain_records_the_arm_taken() -> None:
    src = (
        "for v in [9, 3, 0]:\n"
        "    if v > 5:\n"
        "        pass\n"
        "    elif v > 1:\n"
        "        pass\n"
        "    else:\n"
        "        pass\n"
    )
    got = [(line, data) for line, _, data in branches(src) if line == 2]
    assert got == [
        (2, {"taken": "if", "line": 2}),
        (2, {"taken": "elif", "line": 4}),
        (2, {"taken": "else", "line": 6}),
    ]


def test_if_without_else_records_none_and_nested_if_in_else_is_its_own_site() -> None:
    src = "x = 0\nif x:\n    pass\nif x:\n    pass\nelse:\n    if not x:\n        pass\n"
    assert branches(src) == [
        (2, "if x", {"taken": "none", "line": 2}),
        (4, "if x", {"taken": "else", "line": 6}),
        (7, "if not x", {"taken": "if", "line": 7}),
    ]


def test_loops_record_each_iteration_and_the_exit() -> None:
    src = "for i in range(2):\n    pass\nn = 0\nwhile n < 1:\n    n += 1\nfor j in []:\n    pass\nfor k in [1]:\n    break\n"
    assert branches(src) == [
        (1, "for i in range(2)", {"taken": "loop", "line": 1}),
        (1, "for i in range(2)", {"taken": "loop", "line": 1}),
        (1, "for i in range(2)", {"taken": "exit", "line": 1}),
        (4, "while n < 1", {"taken": "loop", "line": 4}),
        (4, "while n < 1", {"taken": "exit", "line": 4}),
        (6, "for j in []", {"taken": "exit", "line": 6}),
        (8, "for k in [1]", {"taken": "loop", "line": 8}),  # left by `break`: no exit record
    ]


def test_branch_site_source_is_the_header() -> None:
    program = compile_program("while (n := 1) > 2:\n    pass\nif (\n    True\n):\n    pass\n")
    assert [
        (s.kind, s.source, s.line, s.end_line) for s in program.sites if s.kind == "branch"
    ] == [
        ("branch", "while (n := 1) > 2", 1, 1),
        ("branch", "if (\n    True", 3, 4),  # to the end of the test (ast excludes parentheses)
    ]
