"""The public surface of jarvis.spy (other packages import exactly these names)."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

import jarvis.spy
from jarvis.spy import Program, Site, compile_program, run_program

from ._host import RecordingHost


def test_exported_names_are_pinned() -> None:
    assert sorted(jarvis.spy.__all__) == [
        "Host", "Limits", "Program", "Site", "compile_program", "render_value", "run_program",
    ]  # fmt: skip


def test_program_fields() -> None:
    source = "x = 'é'\nresult = x\n"
    program = compile_program(source, filename="p.spy")
    assert isinstance(program, Program)
    assert program.source == source
    assert program.digest == hashlib.sha256(source.encode("utf-8")).hexdigest()
    assert program.filename == "p.spy"
    assert [(s.id, s.kind, s.source) for s in program.sites] == [
        (0, "assign", "x = 'é'"),
        (1, "assign", "result = x"),
    ]
    with pytest.raises(dataclasses.FrozenInstanceError):
        program.source = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        program.sites[0].line = 3  # type: ignore[misc]


def test_site_is_a_frozen_dataclass_with_the_agreed_fields() -> None:
    assert [f.name for f in dataclasses.fields(Site)] == [
        "id",
        "kind",
        "line",
        "col",
        "end_line",
        "end_col",
        "source",
    ]


def test_program_runs_many_times_independently() -> None:
    program = compile_program("counter = inputs['start']\ncounter += 1\nresult = counter\n")
    assert run_program(program, {"start": 1}, RecordingHost()) == 2
    assert run_program(program, {"start": 10}, RecordingHost()) == 11


def test_result_defaults_to_none_and_function_locals_do_not_count() -> None:
    program = compile_program("def f():\n    result = 5\n    return result\nf()\n")
    assert run_program(program, {}, RecordingHost()) is None
