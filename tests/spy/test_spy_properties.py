"""Property-based differential tests: random expressions evaluate the same in SPy and CPython.

Hypothesis builds expression source from a small grammar (ints, strings, lists, tuples,
dicts; arithmetic, bitwise, comparison, boolean, conditional, subscripts, slices, calls of
pure builtins, comprehensions). Each is run as `result = <expr>` under CPython and SPy:
both must give the same value, or raise the same exception type.
"""

from __future__ import annotations

import warnings
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jarvis.errors import SpyRuntimeError, SpySyntaxError
from jarvis.spy import Limits, compile_program, run_program


class _Host:
    def emit(self, site: Any, value: object) -> None:
        pass

    def effect(self, name: str, args: tuple[object, ...]) -> object:
        raise AssertionError("no effects in generated expressions")

    def check(self) -> None:
        pass


ints = st.integers(min_value=-1000, max_value=1000).map(lambda i: f"({i})")
strs = st.text(alphabet="abcxyz ", max_size=5).map(repr)
names = st.sampled_from(["a", "b", "s", "xs"])
atoms = st.one_of(ints, strs, names, st.sampled_from(["True", "False", "None", "[]", "()", "{}"]))

BINOPS = ["+", "-", "*", "//", "%", "&", "|", "^", "<<"]
CMPOPS = ["<", "<=", "==", "!=", ">", ">=", "in", "not in", "is", "is not"]
CALLS = [
    "len",
    "abs",
    "bool",
    "str",
    "repr",
    "sorted",
    "list",
    "tuple",
    "min",
    "max",
    "sum",
    "any",
    "all",
]


def _extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, st.sampled_from(BINOPS), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(children, st.sampled_from(CMPOPS), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(children, st.sampled_from(["and", "or"]), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        children.map(lambda c: f"(not {c})"),
        children.map(lambda c: f"(-{c})"),
        st.tuples(children, children, children).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
        st.tuples(st.sampled_from(CALLS), children).map(lambda t: f"{t[0]}({t[1]})"),
        st.lists(children, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(children, max_size=3).map(lambda xs: "(" + "".join(x + ", " for x in xs) + ")"),
        st.tuples(children, children).map(lambda t: f"{{{t[0]}: {t[1]}}}"),
        st.tuples(children, children).map(lambda t: f"{t[0]}[{t[1]}]"),
        st.tuples(children, ints, ints).map(lambda t: f"{t[0]}[{t[1]}:{t[2]}]"),
        children.map(lambda c: f"[x for x in {c} if x]"),
        children.map(lambda c: f"f'{{{c}}}'"),
    )


expressions = st.recursive(atoms, _extend, max_leaves=8)
PRELUDE = "a = 7\nb = -3\ns = 'spy'\nxs = [3, 1, 2]\n"
LIMITS = Limits(max_steps=100_000, max_memory_bytes=1 << 20, max_int_bits=20_000, max_wall_s=5)


def _cpython(source: str) -> tuple[str, object]:
    env: dict[str, Any] = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            code = compile(source, "<expr>", "exec")
        exec(code, env)
    except Exception as exc:
        return ("error", type(exc).__name__)
    return ("ok", env["result"])


def _spy(source: str) -> tuple[str, object]:
    try:
        program = compile_program(source)
        return ("ok", run_program(program, {}, _Host(), limits=LIMITS))
    except SpyRuntimeError as exc:
        return ("error", exc.spy_type)
    except SpySyntaxError:
        return ("error", "SyntaxError")


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
@given(expressions)
def test_expressions_match_cpython(expr: str) -> None:
    source = f"{PRELUDE}result = {expr}\n"
    expected = _cpython(source)
    if expected[0] == "ok" and len(repr(expected[1])) > 10_000:
        return  # huge shifts: SPy's memory guard may refuse what CPython computes
    got = _spy(source)
    if got == ("error", "LimitExceeded"):
        return  # a size guard refused an operation CPython performed: a documented divergence
    assert got == expected, source
