"""Book namespaces: calls become journaled host effects plus a "book" record at the call."""

from __future__ import annotations

import pytest

from jarvis.errors import ProgramError, SpyRuntimeError
from jarvis.spy import compile_program, run_program

from ._host import CaseHost, RecordingHost


def run(
    source: str, level: str = "effects", host: RecordingHost | None = None
) -> tuple[object, CaseHost]:
    host = host or CaseHost()
    result = run_program(compile_program(source, log_level=level), {}, host, books=CaseHost.BOOKS)
    assert isinstance(host, CaseHost)
    return result, host


def test_call_is_one_effect_and_one_record_at_the_call_site() -> None:
    result, host = run("x = 1\nvalue = kv.get('a', default=[x])\nresult = value\n")
    assert host.effects == [("book", ("kv", "get", ["a"], {"default": [1]}))]
    assert result == [1]
    [record] = host.records  # level "effects": book and print records only
    assert (record.kind, record.line, record.source) == ("book", 2, "kv.get('a', default=[x])")
    assert record.data == {
        "book": "kv", "procedure": "get", "args": ["a"], "kwargs": {"default": [1]}, "result": [1],
    }  # fmt: skip
    site = host.sites[0]
    assert site.kind == "book" and site.id >= 0 and site.col == 8


def test_book_records_at_every_level() -> None:
    for level in ("full", "statements", "effects"):
        _, host = run("kv.put('k', 1)\n", level)
        assert [r.kind for r in host.records if r.kind == "book"] == ["book"]


def test_arguments_and_results_are_copied() -> None:
    class Host(CaseHost):
        def effect(self, name: str, args: tuple[object, ...]) -> object:
            self.seen = args
            return self.shared

    host = Host()
    host.shared = {"list": [1, 2]}
    src = (
        "arg = [1, [2]]\nout = kv.get(arg)\narg[1].append(3)\nout['list'].append(9)\nresult = out\n"
    )
    result, _ = run(src, host=host)
    assert host.seen == ("kv", "get", [[1, [2]]], {})  # the program's later change is not seen
    assert host.shared == {"list": [1, 2]}  # the program changed its own copy only
    assert result == {"list": [1, 2, 9]}


def test_program_error_from_a_book_is_catchable_and_recorded() -> None:
    src = "try:\n    kv.fail('nope')\nexcept BookError as e:\n    result = 'caught: ' + str(e)\n"
    result, host = run(src)
    assert result == "caught: nope"
    assert host.records[0].data == {
        "book": "kv", "procedure": "fail", "args": ["nope"], "kwargs": {},
        "error": {"type": "BookError", "message": "nope"},
    }  # fmt: skip


def test_uncaught_book_error_points_at_the_call() -> None:
    with pytest.raises(SpyRuntimeError) as info:
        run("x = 1\ny = kv.fail('boom')\n")
    assert (info.value.spy_type, info.value.message, info.value.line) == ("BookError", "boom", 2)


def test_only_allowed_books_and_procedures_exist() -> None:
    with pytest.raises(SpyRuntimeError) as info:
        run("db.get('a')\n")
    assert (info.value.spy_type, info.value.message) == ("NameError", "name 'db' is not defined")
    with pytest.raises(SpyRuntimeError) as info:
        run("kv.drop('a')\n")
    assert (info.value.spy_type, info.value.message) == (
        "AttributeError",
        "Book 'kv' has no procedure 'drop'",
    )
    for attr in ("_call", "_procedures", "procedure", "__dict__"):
        try:
            run(f"x = kv.{attr}\n")
        except SpyRuntimeError as err:
            assert err.spy_type == "AttributeError"
        except Exception as err:  # rejected before running (leading underscore)
            assert type(err).__name__ == "SpySyntaxError"
        else:
            raise AssertionError(f"kv.{attr} is reachable")


@pytest.mark.parametrize("name", ["math", "print", "inputs", "_hidden", "two words", "", "len"])
def test_bad_book_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        run_program(compile_program("x = 1\n"), {}, CaseHost(), books={name: ["get"]})


def test_bad_procedure_names_are_refused() -> None:
    for procs in (["_private"], ["a-b"], "get"):
        with pytest.raises(ValueError):
            run_program(compile_program("x = 1\n"), {}, CaseHost(), books={"kv": procs})  # type: ignore[dict-item]


def test_calls_through_an_alias_get_the_callers_site() -> None:
    src = "get = kv.get\n\ndef read(db):\n    return db.get('k')\n\na = get('k')\nb = read(kv)\n"
    program = compile_program(src, log_level="effects")
    assert [s.kind for s in program.sites] == []  # no direct `kv.x(...)` call in the source
    host = CaseHost()
    run_program(program, {}, host, books=CaseHost.BOOKS)
    assert [(r.kind, r.line, r.source) for r in host.records] == [
        ("book", 6, "get('k')"),
        ("book", 4, "db.get('k')"),
    ]
    assert all(s.id == -1 for s in host.sites)
    again = CaseHost()
    run_program(program, {}, again, books=CaseHost.BOOKS)
    assert again.sites[0] is host.sites[0]  # cached per program and position


def test_arguments_must_be_plain_data() -> None:
    with pytest.raises(SpyRuntimeError) as info:
        run("kv.put('k', range(3))\n")
    assert info.value.spy_type == "TypeError"
    assert "plain data" in info.value.message


def test_stop_is_checked_before_a_book_call() -> None:
    from jarvis.errors import Stopped

    class Host(CaseHost):
        def check(self) -> None:
            raise Stopped("cancel")

    host = Host()
    with pytest.raises(Stopped):
        run_program(compile_program("kv.put('k', 1)\n"), {}, host, books=CaseHost.BOOKS)
    assert host.effects == []


def test_host_program_error_type_is_kept_for_unknown_names() -> None:
    class Host(CaseHost):
        def effect(self, name: str, args: tuple[object, ...]) -> object:
            raise ProgramError("RateLimited", "slow down")

    with pytest.raises(SpyRuntimeError) as info:
        run("kv.get('a')\n", host=Host())
    assert (info.value.spy_type, info.value.message) == ("RateLimited", "slow down")
