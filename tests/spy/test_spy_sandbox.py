"""Escape attempts are rejected before running or raise a SPy error; none escapes."""

from __future__ import annotations

import pytest

from jarvis.errors import SpyRuntimeError, SpySyntaxError
from jarvis.spy import compile_program, run_program

from ._host import RecordingHost


def run(source: str, inputs: dict[str, object] | None = None) -> object:
    return run_program(compile_program(source), inputs or {}, RecordingHost())


@pytest.mark.parametrize(
    "source",
    [
        'x = "".__class__',
        "x = print.__self__",
        "x = len.__self__",
        "x = 1\ny = f'{x.__class__}'",
        "x = ().__class__.__bases__[0].__subclasses__()",
        "x = getattr(1, 'y')",
        "x = type(1)",
        "x = [].append.__self__",
        "def f():\n    pass\nx = f.__globals__",
        "def f():\n    pass\nx = f.__code__",
        "x = __builtins__",
        "x = __spy_attr",
        "x = __import__('os')",
        "x = inputs._data",
        "x = eval('1')",
        "x = 1\nx.__\uff43lass__",  # fullwidth c: NFKC-normalised to __class__
        "x = 'a'._x",
    ],
)
def test_rejected_before_running(source: str) -> None:
    with pytest.raises(SpySyntaxError):
        compile_program(source)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            'x = "{0.__class__}".format(1)',
            "'str' object has no attribute 'format' (not available in SPy)",
        ),
        (
            'x = "{a}".format_map({})',
            "'str' object has no attribute 'format_map' (not available in SPy)",
        ),
        ("def f():\n    pass\nx = f.upper()", "'function' object has no attribute 'upper'"),
        ("def f():\n    pass\nx = f.copy", "'function' object has no attribute 'copy'"),
        ("x = len.count(1)", "'builtin_function_or_method' object has no attribute 'count'"),
        ("x = str.upper('a')", "'type' object has no attribute 'upper'"),
        ("x = int.bit_length(1)", "'type' object has no attribute 'bit_length'"),
        ("x = dict.fromkeys([1])", "'type' object has no attribute 'fromkeys'"),
        (
            "m = 'a'.upper\nx = m.upper()",
            "'builtin_function_or_method' object has no attribute 'upper'",
        ),
        ("x = range(3).start_", "'range' object has no attribute 'start_'"),
        ("x = {1}.keys()", "'set' object has no attribute 'keys'"),
        (
            "x = {1: 2}.fromkeys([1])",
            "'dict' object has no attribute 'fromkeys' (not available in SPy)",
        ),
        (
            "x = 'a'.translate({})",
            "'str' object has no attribute 'translate' (not available in SPy)",
        ),
        ("x = math.__name__", None),
        ("x = json.decoder", "'module' object has no attribute 'decoder'"),
        ("x = math.sys", "'module' object has no attribute 'sys'"),
        (
            "try:\n    1 / 0\nexcept Exception as e:\n    x = e.with_traceback",
            "'ZeroDivisionError' object has no attribute 'with_traceback'",
        ),
        ("x = artifact.upper()", "'builtin_function_or_method' object has no attribute 'upper'"),
        ("x = 'abc'.encode('rot13')", None),
        (
            "x = {}.fromkeys([1])",
            "'dict' object has no attribute 'fromkeys' (not available in SPy)",
        ),
        ("x = enumerate([]).count(1)", "'enumerate' object has no attribute 'count'"),
    ],
)
def test_gate_raises_spy_attribute_error(source: str, message: str | None) -> None:
    if message is None:  # rejected before running, or a different SPy error: never reached
        with pytest.raises((SpySyntaxError, SpyRuntimeError)):
            run(source)
        return
    with pytest.raises(SpyRuntimeError) as info:
        run(source)
    assert (info.value.spy_type, info.value.message) == ("AttributeError", message)


@pytest.mark.parametrize(
    "name",
    [
        "id",
        "hash",
        "exit",
        "bytearray",
        "memoryview",
        "slice",
        "object",
        "super",
        "getattr",
        "setattr",
        "globals",
        "vars",
        "dir",
        "classmethod",
        "staticmethod",
        "property",
        "complex",
        "__import__",
        "open",
        "input",
        "help",
        "breakpoint",
        "aiter",
        "anext",
        "issubclass",
    ],
)
def test_python_builtins_not_in_spy_are_name_errors(name: str) -> None:
    try:
        run(f"x = {name}")
    except SpySyntaxError:
        return  # rejected outright: fine too
    except SpyRuntimeError as err:
        assert err.spy_type == "NameError"
        return
    raise AssertionError(f"{name} is reachable")


def test_allowed_methods_work_through_the_gate() -> None:
    src = (
        "s = 'a,b'\n"
        "m = s.split\n"
        "d = {'k': 1}\n"
        "result = [m(','), d.get('k'), (3).bit_length(), (2.0).is_integer(), (1, 2).index(2)]\n"
    )
    assert run(src) == [["a", "b"], 1, 2, True, 1]


def test_inputs_are_copied_to_plain_values() -> None:
    class Sneaky(str):
        def upper(self) -> str:
            raise AssertionError("host method called")

    class HostDict(dict[str, object]):
        pass

    inputs: dict[str, object] = {"s": Sneaky("x"), "d": HostDict(a=[1, (2, 3)]), "n": True}
    result = run(
        "inputs['d']['a'].append(9)\nresult = [inputs['s'].upper(), inputs['d'], inputs['n']]",
        inputs,
    )
    assert result == ["X", {"a": [1, (2, 3), 9]}, True]
    assert inputs["d"] == {"a": [1, (2, 3)]}  # the host's data is untouched


def test_inputs_reject_non_data() -> None:
    with pytest.raises(TypeError):
        run("x = 1", {"f": object()})


def test_output_is_deterministic_without_addresses() -> None:
    host = RecordingHost()
    src = (
        "def f():\n    pass\n"
        "print(f, len, str, [f], {'k': f}, 'a'.upper, enumerate([]), int)\n"
        "x = f'{f} {f!r} {[f]!s} {len}'\n"
        "result = str(f) + repr(zip())\n"
    )
    result = run_program(compile_program(src), {}, host)
    assert host.records[0].data == (
        "<function f> <built-in function len> <class 'str'> [<function f>] "
        "{'k': <function f>} <built-in method upper of str object> <enumerate object> "
        "<class 'int'>"
    )
    assert (
        host.records[1].data == "<function f> <function f> [<function f>] <built-in function len>"
    )
    assert result == "<function f><zip object>"


def test_self_referential_list_prints_like_cpython() -> None:
    host = RecordingHost()
    run_program(compile_program("a = [1]\na.append(a)\nprint(a)\n"), {}, host)
    assert host.records[-1].data == "[1, [...]]"


def test_percent_formatting_is_deterministic() -> None:
    src = (
        "def f():\n    pass\n"
        "result = ['%s' % f, '%r|%s' % (f, [f]), '%(k)s' % {'k': len}, '%s' % {'f': f}, 3 % 2]\n"
    )
    assert run(src) == [
        "<function f>",
        "<function f>|[<function f>]",
        "<built-in function len>",
        "{'f': <function f>}",
        1,
    ]


def test_error_messages_carry_no_addresses() -> None:
    with pytest.raises(SpyRuntimeError) as info:
        run("def f():\n    pass\nx = [1].index(f)\n")
    assert info.value.message == "<function f> is not in list"
