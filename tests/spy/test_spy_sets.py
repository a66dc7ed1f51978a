"""SPy sets: insertion-ordered in every process, and never mistaken for dicts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jarvis.errors import SpyRuntimeError
from jarvis.spy import compile_program, render_value, run_program

from ._host import RecordingHost

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
words = {"pear", "apple", "fig", "kiwi", "banana", "cherry", "date", "lime"}
more = set("jarvis") | {w[::-1] for w in words}
both = words & {"fig", "lime", "pear", "plum"}
keys = {"zeta": 1, "alpha": 2, "mid": 3}.keys() ^ {"alpha", "omega"}
print(words, more, both, keys, frozenset(words))
print(list(words), [w for w in more], sorted(words) == sorted(list(words)))
result = [list(words), list(more)]
"""

CHILD = """
import json, sys
from jarvis.spy import compile_program, run_program
out = []
class Host:
    def emit(self, site, value):
        if site.kind == "print":
            out.append(value)
    def effect(self, name, args):
        raise NotImplementedError
    def check(self):
        pass
result = run_program(compile_program(sys.stdin.read()), {}, Host())
print(json.dumps([out, result]))
"""


def run_in_process(seed: str) -> object:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD], input=PROGRAM, capture_output=True, text=True, env=env,
        check=True, timeout=60,
    )  # fmt: skip
    return json.loads(proc.stdout)


def test_set_iteration_is_the_same_under_every_hash_seed() -> None:
    outputs = [run_in_process(seed) for seed in ("0", "1", "12345")]
    assert outputs[0] == outputs[1] == outputs[2]
    printed, result = outputs[0]  # type: ignore[misc]
    # Insertion order, not hash order:
    assert result[0] == ["pear", "apple", "fig", "kiwi", "banana", "cherry", "date", "lime"]
    assert printed[0].startswith("{'pear', 'apple', 'fig', 'kiwi',")


def test_cpython_sets_would_not_be() -> None:
    # The reason for SPy's own set type: CPython's str sets follow the hash seed.
    code = "print(list({'pear', 'apple', 'fig', 'kiwi', 'banana', 'cherry', 'date', 'lime'}))"
    seen = set()
    for seed in ("0", "1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        seen.add(proc.stdout)
    assert len(seen) > 1


def run(source: str) -> object:
    return run_program(compile_program(source), {}, RecordingHost())


@pytest.mark.parametrize(
    ("source", "spy_type", "message"),
    [
        (
            "x = dict({1, 2})",
            "TypeError",
            "cannot convert dictionary update sequence element #0 to a sequence",
        ),
        ("x = {**{1, 2}}", "TypeError", "'set' object is not a mapping"),
        (
            "def f(**k):\n    pass\nf(**{'a'})",
            "TypeError",
            "__main__.f() argument after ** must be a mapping, not set",
        ),
        ("x = {1}[0]", "TypeError", "'set' object is not subscriptable"),
        ("s = {1}\ns[0] = 1", "TypeError", "'set' object does not support item assignment"),
        ("s = {1}\ndel s[1]", "TypeError", "'set' object doesn't support item deletion"),
        ("x = {1: 2} | {1}", "TypeError", "unsupported operand type(s) for |: 'dict' and 'set'"),
        ("x = {1} | {1: 2}", "TypeError", "unsupported operand type(s) for |: 'set' and 'dict'"),
        (
            "x = {1} < {1: 2}",
            "TypeError",
            "'<' not supported between instances of 'set' and 'dict'",
        ),
        ("x = reversed({1})", "TypeError", "'set' object is not reversible"),
        ("x = {1}.keys()", "AttributeError", "'set' object has no attribute 'keys'"),
        ("x = {1}.get(1)", "AttributeError", "'set' object has no attribute 'get'"),
        ("x = {{1}}", "TypeError", "unhashable type: 'set'"),
        ("d = {}\nd.update({('a', 1)})\nx = d['b']", "KeyError", "'b'"),
        ("x = json.dumps({1})", "TypeError", "Object of type set is not JSON serializable"),
    ],
)
def test_a_set_is_not_a_dict(source: str, spy_type: str, message: str) -> None:
    with pytest.raises(SpyRuntimeError) as info:
        run(source)
    assert (info.value.spy_type, info.value.message) == (spy_type, message)


def test_sets_compare_and_render_as_sets() -> None:
    result = run(
        "result = [{1: None} == {1}, {1} == {1: None}, isinstance({1}, dict), isinstance({}, set),"
        " {1, 2} == frozenset([2, 1]), {1: 2}.keys() == {1}, repr(frozenset())]"
    )
    assert result == [False, False, False, False, True, True, "frozenset()"]
    spy_set = run("result = {'b', 'a'}")
    assert render_value(spy_set) == (["b", "a"], "set")
    assert render_value(run("result = frozenset([3, 1])")) == ([3, 1], "frozenset")
