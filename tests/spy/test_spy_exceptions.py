"""try/except sees only the program's own exceptions; host failures and limits end the run."""

from __future__ import annotations

import pytest

from jarvis.errors import JournalError, ProgramError, RunLimitExceeded, SpyRuntimeError, Stopped
from jarvis.spy import Limits, compile_program, run_program

from ._host import RecordingHost

# Each handler shape a program could use to swallow an exception.
SWALLOWERS = {
    "except-exception": "try:\n    {body}\nexcept Exception:\n    pass\nresult = 'escaped'\n",
    "bare-except": "try:\n    {body}\nexcept:\n    pass\nresult = 'escaped'\n",
    "except-tuple": "try:\n    {body}\nexcept (KeyError, Exception, BaseError):\n    pass\nresult = 'escaped'\n",
    "finally-return": "def f():\n    try:\n        {body}\n    finally:\n        return 'escaped'\nresult = f()\n",
    "finally-raise-caught": (
        "try:\n    try:\n        {body}\n    finally:\n        raise ValueError('laundered')\n"
        "except ValueError:\n    pass\nresult = 'escaped'\n"
    ),
    "handler-retries": (
        "def f(n):\n    try:\n        {body}\n    except Exception:\n        return f(n + 1) if n < 5 else 'escaped'\n"
        "result = f(0)\n"
    ),
}


class FailingHost(RecordingHost):
    def __init__(self, exc: BaseException, where: str) -> None:
        super().__init__()
        self.exc = exc
        self.where = where

    def effect(self, name: str, args: tuple[object, ...]) -> object:
        super().effect(name, args)
        if self.where == "effect":
            raise self.exc
        return "ok"

    def check(self) -> None:
        super().check()
        if self.where == "check":
            raise self.exc


def run(source: str, host: RecordingHost, **kwargs: object) -> object:
    return run_program(compile_program(source), {}, host, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("shape", SWALLOWERS)
@pytest.mark.parametrize(
    "exc",
    [Stopped("cancel"), JournalError("disk full"), KeyError("host bug"), RuntimeError("host bug")],
    ids=["Stopped", "JournalError", "host-KeyError", "host-RuntimeError"],
)
def test_host_failures_from_effects_cannot_be_caught(shape: str, exc: BaseException) -> None:
    source = SWALLOWERS[shape].format(body="artifact('a.txt', 'x')")
    with pytest.raises(type(exc)) as info:
        run(source, FailingHost(exc, "effect"))
    assert info.value is exc


@pytest.mark.parametrize("shape", SWALLOWERS)
def test_stop_from_check_cannot_be_caught(shape: str) -> None:
    stop = Stopped("suspend")
    source = SWALLOWERS[shape].format(body="while True: pass")
    with pytest.raises(Stopped) as info:
        run(source, FailingHost(stop, "check"))
    assert info.value is stop


@pytest.mark.parametrize("shape", SWALLOWERS)
@pytest.mark.parametrize(
    ("body", "limits"),
    [
        ("while True: pass", Limits(max_steps=10_000)),
        ("x = 'a' * 10 ** 12", Limits()),
        ("print('x' * 1000)", Limits(max_output_bytes=10)),
    ],
    ids=["steps", "memory", "output"],
)
def test_limits_cannot_be_caught(shape: str, body: str, limits: Limits) -> None:
    source = SWALLOWERS[shape].format(body=body)
    with pytest.raises(RunLimitExceeded) as info:
        run(source, RecordingHost(), limits=limits)
    assert info.value.spy_type == "LimitExceeded"


def test_program_error_becomes_a_catchable_spy_exception() -> None:
    src = (
        "out = []\n"
        "for kind in ['BookError', 'ValueError', 'TypeError', 'QuotaError']:\n"
        "    try:\n"
        "        artifact('a.txt', kind)\n"
        "    except BookError as e:\n"
        "        out.append(['book', str(e)])\n"
        "    except ValueError as e:\n"
        "        out.append(['value', repr(e)])\n"
        "    except Exception as e:\n"
        "        out.append(['other', repr(e)])\n"
        "result = out\n"
    )

    class Host(RecordingHost):
        def effect(self, name: str, args: tuple[object, ...]) -> object:
            raise ProgramError(str(args[1]), f"{args[1]} from the host")

    assert run(src, Host()) == [
        ["book", "BookError from the host"],
        ["value", "ValueError('ValueError from the host')"],
        ["other", "TypeError('TypeError from the host')"],
        ["other", "QuotaError('QuotaError from the host')"],
    ]


def test_uncaught_program_error_fails_at_the_call_site() -> None:
    class Host(RecordingHost):
        def effect(self, name: str, args: tuple[object, ...]) -> object:
            raise ProgramError("BookError", "no such key")

    with pytest.raises(SpyRuntimeError) as info:
        run("def f():\n    return artifact('a.txt', 'x')\n\nf()\n", Host())
    err = info.value
    assert type(err) is SpyRuntimeError
    assert (err.spy_type, err.message) == ("BookError", "no such key")
    assert [(f.function, f.line) for f in err.frames] == [("<module>", 4), ("f", 2)]


def test_program_error_from_check_or_emit_is_a_host_failure() -> None:
    class Host(RecordingHost):
        def emit(self, site: object, value: object) -> None:
            raise ProgramError("BookError", "not from an effect")

    with pytest.raises(ProgramError):
        run("try:\n    x = 1\nexcept Exception:\n    pass\n", Host())


def test_program_exceptions_are_caught_normally() -> None:
    src = (
        "def f():\n    raise KeyError('k')\n"
        "try:\n    f()\nexcept LookupError as e:\n    a = repr(e)\n"
        "try:\n    int('x')\nexcept (TypeError, ValueError) as e:\n    b = str(e)\n"
        "try:\n    raise Exception('plain')\nexcept:\n    c = 'bare'\n"
        "result = [a, b, c]\n"
    )
    assert run(src, RecordingHost()) == [
        "KeyError('k')",
        "invalid literal for int() with base 10: 'x'",
        "bare",
    ]


def test_catching_a_non_exception_is_a_type_error() -> None:
    with pytest.raises(SpyRuntimeError) as info:
        run("try:\n    1 / 0\nexcept int:\n    pass\n", RecordingHost())
    assert (info.value.spy_type, info.value.message) == (
        "TypeError",
        "catching classes that do not inherit from BaseException is not allowed",
    )


def test_sticky_limit_survives_a_swallowing_finally() -> None:
    # The program swallows the limit with `return` in `finally` and carries on: the run
    # still ends with the limit, at the line where it first tripped.
    src = "def f():\n    try:\n        while True:\n            pass\n    finally:\n        return 1\nx = f()\nresult = x\n"
    with pytest.raises(RunLimitExceeded) as info:
        run(src, RecordingHost(), limits=Limits(max_steps=1000))
    assert info.value.line == 3
    assert "max_steps" in info.value.message


def test_raise_non_exception_is_a_type_error() -> None:
    with pytest.raises(SpyRuntimeError) as info:
        run("raise 5\n", RecordingHost())
    assert (info.value.spy_type, info.value.message) == (
        "TypeError",
        "exceptions must derive from BaseException",
    )
