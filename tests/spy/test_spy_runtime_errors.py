"""Exceptions while running become SpyRuntimeError with SPy-only frames; host errors do not."""

from __future__ import annotations

import pytest

from jarvis.errors import JournalError, RunLimitExceeded, SpyFrame, SpyRuntimeError, Stopped
from jarvis.spy import compile_program, run_program

from ._host import RecordingHost


def fail(
    source: str, host: RecordingHost | None = None, filename: str = "<program>"
) -> SpyRuntimeError:
    with pytest.raises(SpyRuntimeError) as info:
        run_program(compile_program(source, filename), {}, host or RecordingHost())
    assert type(info.value) is SpyRuntimeError
    return info.value


def test_zero_division_in_function_names_spy_lines_only() -> None:
    src = "def ratio(a, b):\n    return a / b\n\nx = 1\ny = ratio(x, 0)\n"
    err = fail(src, filename="calc.spy")
    assert err.spy_type == "ZeroDivisionError"
    assert err.message == "division by zero"
    assert err.frames == [
        SpyFrame("<module>", 5, 4, "y = ratio(x, 0)"),
        SpyFrame("ratio", 2, 11, "    return a / b"),
    ]
    assert (err.line, err.col) == (2, 11)
    assert str(err) == (
        "SPy traceback (most recent call last):\n"
        '  File "calc.spy", line 5, col 5, in <module>\n'
        "    y = ratio(x, 0)\n"
        '  File "calc.spy", line 2, col 12, in ratio\n'
        "    return a / b\n"
        "ZeroDivisionError: division by zero"
    )


def test_error_raised_inside_a_builtin_points_at_the_call_site() -> None:
    err = fail("def parse(s):\n    return int(s)\nparse('12')\nparse('x')\n")
    assert err.spy_type == "ValueError"
    assert [(f.function, f.line) for f in err.frames] == [("<module>", 4), ("parse", 2)]
    assert err.frames[-1].col == 11


def test_error_in_python_level_builtin_has_no_host_frames() -> None:
    err = fail("x = 1\nartifact('', 'text')\n")
    assert err.spy_type == "ValueError"
    assert err.frames == [SpyFrame("<module>", 2, 0, "artifact('', 'text')")]


def test_error_in_callback_called_by_builtin() -> None:
    err = fail("def key(v):\n    return 10 // v\nresult = sorted([1, 0], key=key)\n")
    assert err.spy_type == "ZeroDivisionError"
    assert [(f.function, f.line) for f in err.frames] == [("<module>", 3), ("key", 2)]


@pytest.mark.parametrize(
    ("source", "spy_type", "message", "line", "col"),
    [
        ("d = {}\nx = 1 + d['k']", "KeyError", "'k'", 2, 8),
        ("x = [1]\ny = x[5]", "IndexError", "list index out of range", 2, 4),
        ("y = 'a' + 1", "TypeError", 'can only concatenate str (not "int") to str', 1, 4),
        ("y = missing", "NameError", "name 'missing' is not defined", 1, 4),
        ("y = id(1)", "NameError", "name 'id' is not defined", 1, 4),
        ("y = hash('a')", "NameError", "name 'hash' is not defined", 1, 4),
        ("x = 1\nx.upper()", "AttributeError", "'int' object has no attribute 'upper'", 2, 0),
        ("a, b = [1]", "ValueError", "not enough values to unpack (expected 2, got 1)", 1, 0),
        ("x = 'é'; y = 'ü' + 1", "TypeError", 'can only concatenate str (not "int") to str', 1, 13),
    ],
)
def test_error_types_and_positions(
    source: str, spy_type: str, message: str, line: int, col: int
) -> None:
    err = fail(source)
    assert (err.spy_type, err.message, err.line, err.col) == (spy_type, message, line, col)


@pytest.mark.parametrize(
    "body",
    [
        "    return f(n + 1)",
        # Records and prints on the way down: the limit trips at a call, never in the host.
        "    x = [n]\n    return f(n + 1)",
        "    print(n)\n    return f(n + 1)",
        "    x = n\n    y = n\n    return f(n + 1)",
    ],
)
def test_deep_recursion_is_a_limit_not_a_python_recursion_error(body: str) -> None:
    with pytest.raises(RunLimitExceeded) as info:
        run_program(compile_program(f"def f(n):\n{body}\nf(0)\n"), {}, RecordingHost())
    err = info.value
    assert err.spy_type == "LimitExceeded"
    assert "recursion limit" in err.message and "max_recursion" in err.message
    assert err.frames[0].function == "<module>"
    assert err.frames[0].source_line == "f(0)"
    assert {f.function for f in err.frames} == {"<module>", "f"}
    # <module>, then max_recursion calls, then the one call too many: the limit is exact.
    assert len(err.frames) == 1 + 400 + 1


def test_recursion_error_from_the_program_is_catchable() -> None:
    src = (
        "def f():\n    raise RecursionError('mine')\n"
        "try:\n    f()\nexcept RecursionError as e:\n    result = str(e)\n"
    )
    assert run_program(compile_program(src), {}, RecordingHost()) == "mine"


def test_records_before_the_error_are_emitted() -> None:
    host = RecordingHost()
    fail("x = 1\nprint(x)\ny = x / 0\nz = 2\n", host)
    assert [r.source for r in host.records] == ["x = 1", "print(x)"]


class StoppingHost(RecordingHost):
    def __init__(self, after: int, exc: BaseException) -> None:
        super().__init__()
        self.after = after
        self.exc = exc

    def check(self) -> None:
        super().check()
        if self.checks >= self.after:
            raise self.exc


def test_stopped_from_check_propagates_unchanged() -> None:
    stop = Stopped("cancel")
    host = StoppingHost(3, stop)
    with pytest.raises(Stopped) as info:
        run_program(compile_program("while True:\n    pass\n"), {}, host)
    assert info.value is stop
    assert host.checks == 3


def test_stopped_in_deep_recursion_propagates_unchanged() -> None:
    host = StoppingHost(50, Stopped("suspend"))
    with pytest.raises(Stopped):
        run_program(compile_program("def f(n):\n    return f(n + 1)\nf(0)\n"), {}, host)


def test_limit_exceeded_from_emit_propagates_unchanged() -> None:
    limit = RunLimitExceeded("LimitExceeded", "too many log records")

    class Host(RecordingHost):
        def emit(self, site: object, value: object) -> None:
            raise limit

    with pytest.raises(RunLimitExceeded) as info:
        run_program(compile_program("x = 1\n"), {}, Host())
    assert info.value is limit


def test_other_jarvis_errors_from_effects_propagate_unchanged() -> None:
    class Host(RecordingHost):
        def effect(self, name: str, args: tuple[object, ...]) -> object:
            raise JournalError("volume full")

    with pytest.raises(JournalError):
        run_program(compile_program("artifact('a.txt', 'x')\n"), {}, Host())


@pytest.mark.parametrize("method", ["emit", "effect", "check"])
def test_host_bugs_are_not_blamed_on_the_program(method: str) -> None:
    bug = KeyError("host internals")

    class Host(RecordingHost):
        def emit(self, site: object, value: object) -> None:
            if method == "emit":
                raise bug

        def effect(self, name: str, args: tuple[object, ...]) -> object:
            raise bug

        def check(self) -> None:
            if method == "check":
                raise bug

    src = "for i in range(2):\n    x = artifact('a.txt', 'x')\n"
    with pytest.raises(KeyError) as info:
        run_program(compile_program(src), {}, Host())
    assert info.value is bug
