"""No host internals in program-visible text.

A message or repr a program can read (``str(e)`` in an ``except``, an uncaught error's
message, a formatted value) must never show a memory address (it differs between runs,
and replay compares effect requests and digests), a host module or class (``jarvis.``,
``Environment``...), or a parameter of SPy's own Python code (``self``, ``iterable`` of a
lambda). Each snippet below misuses a builtin, a method, a Book or a formatting operator;
the test runs it caught (the program reads the text) and uncaught (the runtime reports it).
"""

from __future__ import annotations

import re

import pytest

from jarvis.errors import SpyRuntimeError
from jarvis.spy import compile_program, run_program

from ._host import CaseHost
from .test_sandbox_attacks import HOST_TEXT

FUNC = "def f(x=0):\n    return x\n"

SNIPPETS = [
    # keyword misuse of SPy's guarded methods and builtins
    '"a".split(s="x")',
    '"a".split(name="x")',
    '"a".split(method="x")',
    '"a".join(s=[])',
    '",".join()',
    '",".join([], [])',
    '"a".encode("utf-8", "strict", "x")',
    '"a".encode(foo=1)',
    'b"a".decode(s=1)',
    '"a".center(5, fillchar="x")',
    # CPython 3.13 accepts replace(..., count=1); given twice it is refused by every version.
    '"a".replace("a", "b", 1, count=1)',
    "[].extend(iterable=[1])",
    "[].extend()",
    "[].extend(1, 2)",
    "[].sort(1)",
    "[].sort(bad=1)",
    "[].index()",
    "[].index(1, x=2)",
    "[].count(self=1)",
    "[1].remove(obj=1)",
    "(1,).index(seq=1)",
    "{}.keys(1)",
    "{}.items(d=1)",
    "{}.update(1, 2)",
    "{}.update([], [], d=1)",
    "set().union(x=1)",
    "set().issubset()",
    "set().add()",
    "set().copy(1)",
    "set().pop(self=1)",
    "set().remove()",
    "frozenset().copy(1)",
    "frozenset().isdisjoint()",
    "{}.keys().isdisjoint()",
    "{}.items().isdisjoint(1, 2)",
    "range(3).index()",
    "range(3).count(value=1)",
    # builtins
    "sorted([1], [2])",
    "sorted()",
    "sorted([1], bad=1)",
    "sorted(iterable=[1])",
    FUNC + 'sorted([1], key=f, **{"key": f})',
    "sorted([1], **[1])",
    "sum()",
    "sum([1], 0, 1)",
    "sum([1], bad=1)",
    "sum(iterable=[1])",
    "iter()",
    "iter([1], bad=1)",
    "pow(1)",
    "pow(1, 2, 3, 4)",
    "repr()",
    "repr(value=1)",
    "ascii(1, 2)",
    "format()",
    "format(value=1)",
    "isinstance(1)",
    "isinstance(obj=1, classinfo=int)",
    "list(1, 2)",
    "list(iterable=[1])",
    "tuple(x=1)",
    "set(1, 2)",
    "frozenset(iterable=[])",
    "dict(1, 2)",
    "str(1, 2, 3, 4)",
    'str(b"x", None)',
    'str(b"x", "utf-8", encoding="q")',
    "str(value=1)",
    'bytes("a", None)',
    'bytes("a", "utf-8", encoding="q")',
    "bytes(self=1)",
    "range(x=1)",
    "map()",
    "map(abs, [1], x=1)",
    "filter(None)",
    "zip(x=1)",
    "enumerate()",
    "enumerate(iterable=[1], x=1)",
    "int(1, 2, 3)",
    "int(x='1')",
    "divmod(1)",
    "divmod(a=1, b=2)",
    "round()",
    "round(number=1, x=2)",
    "print(1, site=2)",
    "print(1, file=None)",
    "math.factorial()",
    "math.comb(n=1)",
    "math.prod()",
    "math.gcd(x=1)",
    "json.dumps()",
    "json.loads(s=1)",
    'kv.nope("x")',
    # reprs of functions and other objects inside messages and formatted text
    FUNC + "[].index(f)",
    FUNC + "range(3).index(f)",
    FUNC + "[f].remove(lambda: 0)",
    FUNC + "x = {}[f]",
    FUNC + 'x = "%d" % (f,)',
    FUNC + 'x = "%d" % [f]',
    FUNC + 'x = b"%s" % (f,)',
    FUNC + 'x = "%s" % {f: 1} + 1',
    FUNC + 'x = "%(a)s" % {f: 1}',
    FUNC + 'x = "%s %s" % {f: 1}',
    FUNC + "x = set([f]).remove(len)",
    FUNC + "x = f(**{1: 2})",
    FUNC + "x = f(1, x=2)",
    FUNC + "x = f(y=2)",
    FUNC + 'raise ValueError(f, [f], {"k": f})',
    FUNC + "x = [f] + 1",
    FUNC + "x = sorted([f, f])",
    FUNC + 'x = "".join([f])',
    FUNC + "x = int(f)",
    FUNC + "x = divmod(f, 1)",
    FUNC + "x = next(f)",
    FUNC + 'x = format(f, "d")',
    "x = map(abs, [1]) + 1",
    "x = (y for y in [1])[0]",
    "x = iter([1]).nope",
    "x = [].append.nope",
    "x = len.nope",
    "x = kv.get.nope",
    # exceptions SPy itself raises
    "raise BaseException('x')",
    "def g():\n    y += 1\ng()",
    "x = [] < 1",
]


def _host() -> CaseHost:
    return CaseHost()


@pytest.mark.parametrize("snippet", SNIPPETS)
def test_error_text_has_no_host_internals(snippet: str) -> None:
    lines = "".join("    " + line + "\n" for line in snippet.splitlines())
    caught = (
        f"try:\n{lines}    result = None\nexcept BaseException as e:\n"
        "    result = [str(e), repr(e), f'{e}', f'{e!r}', '%s %r' % (e, e), repr(e.args)]\n"
    )
    texts = run_program(compile_program(caught), {}, _host(), books=CaseHost.BOOKS)
    assert texts is not None, "the snippet raised nothing"
    for text in texts:  # type: ignore[attr-defined]
        assert not _leaks(text), text
    with pytest.raises(SpyRuntimeError) as info:
        run_program(compile_program(snippet), {}, _host(), books=CaseHost.BOOKS)
    assert not _leaks(info.value.message), info.value.message
    assert not _leaks(info.value.spy_type), info.value.spy_type


def _leaks(text: str) -> bool:
    # CPython's own "'self' is an invalid keyword argument for bytes()" quotes the
    # program's keyword: fine. SPy's parameters must never collide with one.
    # A SPy parameter colliding with one shows up as "<builtin>() got multiple values for
    # argument 's'": builtins and methods are never Python functions with such names.
    if any(m != "f" for m in re.findall(r"(\w+)\(\) got multiple values for argument", text)):
        return True
    return bool(HOST_TEXT.search(text.replace("'self'", "")))


#: Keywords named like SPy's own parameters must reach the Book as data.
BOOK_CALLS = [
    "result = kv.get('k', self=1)",
    "result = kv.get('k', proc=1, args=2, kwargs=3, default=4)",
    "result = kv.get(*['k'], **{'self': 1, 'default': 5})",
]


@pytest.mark.parametrize("source", BOOK_CALLS)
def test_book_keywords_named_like_internals_are_data(source: str) -> None:
    host = _host()
    result = run_program(compile_program(source), {}, host, books=CaseHost.BOOKS)
    assert result in (None, 4, 5)
    (_, (book, proc, args, kwargs)) = host.effects[0]
    assert (book, proc, args) == ("kv", "get", ["k"])
    assert "self" in kwargs or "proc" in kwargs


FORMATTED = [
    FUNC + 'result = b"%r" % (f,)',
    FUNC + 'result = b"%a" % ([f],)',
    FUNC + 'result = "%s" % {f: 1}',
    FUNC + 'result = "%r" % ({f: [f]},)',
    FUNC + 'result = b"%r %a" % (f, {1: f})',
    FUNC + 'result = "%s %(a)s" % {"a": f}',
    FUNC + "result = [str(map(f, [])), repr(filter(f, [])), str(zip()), repr(enumerate([]))]",
    FUNC + "result = [repr(iter([])), repr((x for x in [])), repr([].append), repr(kv.get)]",
    FUNC + "result = [repr(map), repr(int), str(zip), repr(divmod), repr(round), str(...)]",
]


@pytest.mark.parametrize("source", FORMATTED)
def test_formatted_values_have_no_host_internals(source: str) -> None:
    result = run_program(compile_program(source), {}, _host(), books=CaseHost.BOOKS)
    text = result if isinstance(result, str | bytes) else repr(result)
    if isinstance(text, bytes):
        text = text.decode()
    assert not HOST_TEXT.search(text), text
    assert "<function f>" in text or "object>" in text or "class" in text or "1" in text
