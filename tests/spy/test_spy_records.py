"""Log records: kinds, values, lines and sources, in execution order."""

from __future__ import annotations

from jarvis.spy import Site, compile_program, run_program

from ._host import RecordingHost

PROGRAM = '''\
"""docstring: no record"""
a, b = 1, 2
a, b = b, a
x = 10
x += 5
d = {"k": [1]}
d["k"] += [2]
print("x is", x)
len(d)
def f(n):
    y = n * 2
    return y
f(3)
z = print("inner")
result = x
'''


def run(source: str, level: str = "statements") -> RecordingHost:
    host = RecordingHost()
    run_program(compile_program(source, log_level=level), {}, host)
    return host


def test_records_exact() -> None:
    host = run(PROGRAM)  # "statements": every kind but branch
    got = [(r.kind, r.line, r.source, r.data, r.type_name) for r in host.records]
    assert got == [
        ("assign", 2, "a, b = 1, 2", [1, 2], "tuple"),
        ("assign", 3, "a, b = b, a", [2, 1], "tuple"),
        ("assign", 4, "x = 10", 10, "int"),
        ("assign", 5, "x += 5", 15, "int"),
        ("assign", 6, 'd = {"k": [1]}', {"k": [1]}, "dict"),
        ("assign", 7, 'd["k"] += [2]', [1, 2], "list"),
        ("print", 8, 'print("x is", x)', "x is 15", "str"),
        ("expr", 9, "len(d)", 1, "int"),
        ("assign", 11, "y = n * 2", 6, "int"),  # inside f, called from line 13
        ("expr", 13, "f(3)", 6, "int"),
        ("print", 14, 'print("inner")', "inner", "str"),  # a print nested in an expression
        ("assign", 14, 'z = print("inner")', None, "NoneType"),
        ("assign", 15, "result = x", 15, "int"),
    ]


def test_sites_are_static_and_positioned() -> None:
    program = compile_program(PROGRAM, log_level="statements")
    by_source = {s.source: s for s in program.sites}
    site = by_source['d["k"] += [2]']
    assert site == Site(
        id=site.id, kind="assign", line=7, col=0, end_line=7, end_col=13, source='d["k"] += [2]'
    )
    inner = by_source['print("inner")']
    assert (inner.kind, inner.line, inner.col, inner.end_col) == ("print", 14, 4, 18)
    assert [s.id for s in program.sites] == list(range(len(program.sites)))


def test_emitted_sites_are_the_programs_sites() -> None:
    program = compile_program("x = 1\nx")
    host = RecordingHost()
    run_program(program, {}, host)
    assert host.sites == program.sites
    assert host.sites[0] is program.sites[0]


def test_multiline_statement_source_and_unicode_columns() -> None:
    program = compile_program('é = 1; s = "ü" + \\\n    "x"\n', log_level="statements")
    first, second = program.sites
    assert (first.source, first.col, first.end_col) == ("é = 1", 0, 5)
    assert second.source == 's = "ü" + \\\n    "x"'
    assert (second.line, second.col, second.end_line, second.end_col) == (1, 7, 2, 7)


def test_print_sep_end_and_value() -> None:
    host = run(
        'print("a", "b", sep="-", end="!\\n")\nprint(1, end="")\nprint()\nprint("x", sep=None, end=None)'
    )
    assert [r.data for r in host.records] == ["a-b!", "1", "", "x"]
    assert all(r.kind == "print" for r in host.records)


def test_records_follow_execution_order_in_loops() -> None:
    host = run("t = 0\nfor i in range(3):\n    t += i\n")
    assert [(r.line, r.data) for r in host.records] == [(1, 0), (3, 0), (3, 1), (3, 3)]


def test_chained_assignment_and_subscript_records_whole_value() -> None:
    host = run("d = {}\nd['a'] = d['b'] = [1]\na = b = 3\n")
    assert [(r.source, r.data) for r in host.records] == [
        ("d = {}", {}),
        ("d['a'] = d['b'] = [1]", [1]),
        ("a = b = 3", 3),
    ]


def test_augmented_subscript_evaluates_target_once() -> None:
    src = (
        "calls = []\n"
        "def key():\n"
        "    calls.append(1)\n"
        "    return 'k'\n"
        "d = {'k': 1}\n"
        "d[key()] += 1\n"
        "lst = [1, 2, 3]\n"
        "lst[1:] += [4]\n"
        "result = [len(calls), d, lst]\n"
    )
    host = RecordingHost()
    result = run_program(compile_program(src), {}, host)
    assert result == [1, {"k": 2}, [1, 2, 3, 4]]
    assert [r.data for r in host.records if r.source.startswith(("d[", "lst["))] == [2, [2, 3, 4]]


def test_expression_records_for_method_calls() -> None:
    host = run("lst = []\nlst.append(1)\n'a'.upper()\n")
    assert [(r.kind, r.data) for r in host.records] == [
        ("assign", []),
        ("expr", None),
        ("expr", "A"),
    ]


def test_check_is_called_while_running_and_before_effects() -> None:
    # host.check runs once per chunk of ticks (every few ms at most), not per tick; the
    # first ticks of a run check every time, and every effect checks first.
    host = run("def f():\n    return 1\nfor i in range(4):\n    f()\n")
    assert host.checks == 8
    host = run("x = 1\nartifact('a.txt', 'x')\n")
    assert host.checks == 1
    host = run("n = 0\nwhile n < 100000:\n    n += 1\n")
    assert 64 < host.checks < 1000
