"""Sandbox attack suite: escape attempts and resource attacks against SPy.

Every escape attempt must be rejected before it runs (``SpySyntaxError``) or raise a SPy
error while running (``SpyRuntimeError``): never another exception type, never a
successful run that reached a host object. Programs that merely *look* suspicious (names
like ``_`` or ``_private``, dunder-looking strings) must keep working.

Resource attacks must end with ``LimitExceeded`` under small ``jarvis.spy.Limits``,
without exhausting memory. They run in a forked child with an address-space rlimit and a
generous hard timeout (a hang detector only: tests assert outcomes, never durations), so a
missing limit shows up as a failed test (MemoryError, "crashed", "timeout", "completed")
instead of a hung, OOM-killed or SIGSEGV-killed test run. The same harness checks that a
host ``Stopped`` cannot be swallowed by the program (``except``/``finally``).
"""

from __future__ import annotations

import gc
import multiprocessing
import re
import resource
import traceback
from typing import Any

import pytest

import jarvis.spy
from jarvis.errors import RunLimitExceeded, SpyRuntimeError, SpySyntaxError, Stopped
from jarvis.spy import compile_program, run_program

from ._host import RecordingHost

# The limits API is being written: its absence must fail the limit tests, loudly (see the
# ``limits_api`` fixture), not stop the rest of this file from running.
Limits: Any = getattr(jarvis.spy, "Limits", None)


#: What a program-visible message must never contain: a memory address, a host module or
#: class, an internal parameter (a message naming ``self`` is about SPy's own code).
HOST_TEXT = re.compile(
    r"0x[0-9a-fA-F]{8,}|jarvis\.|Environment|BookProcedure|_BoundWrapper|Guards|_SetBase"
    r"|SpySet|SpyRange|_View|\bself\b|<lambda>|<locals>|functools|partial"
)


def run(source: str, host: RecordingHost | None = None) -> object:
    return run_program(compile_program(source), {}, host or RecordingHost())


def fullwidth(text: str) -> str:
    """ASCII -> fullwidth forms (U+FF01..U+FF5E), which NFKC maps back to ASCII."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


# --------------------------------------------------------------------------------------
# 1. Rejected before running: the checker must refuse these outright.
# --------------------------------------------------------------------------------------

FUNC = "def f():\n    pass\n"
TRY_ZERO = "try:\n    1 / 0\nexcept Exception as e:\n"

REJECTED = [
    # dunder walks
    pytest.param("x = ().__class__.__bases__[0].__subclasses__()", id="dunder-subclasses-walk"),
    pytest.param("x = 1 .__class__", id="dunder-class-with-space"),
    pytest.param("x = {}.__dict__", id="dunder-dict"),
    pytest.param("x = (1).__class__.__mro__", id="dunder-mro"),
    pytest.param("x = [].__init__.__globals__", id="dunder-init-globals"),
    pytest.param("x = (1).__reduce_ex__(2)", id="dunder-reduce-ex"),
    pytest.param("x = len.__doc__", id="dunder-doc"),
    pytest.param("x = len.__module__", id="dunder-module"),
    pytest.param(FUNC + "x = f.__globals__", id="func-globals"),
    pytest.param(FUNC + "x = f.__code__.co_consts", id="func-code"),
    pytest.param(FUNC + "x = f.__builtins__", id="func-builtins"),
    pytest.param(
        "def outer():\n    y = 1\n    def inner():\n        return y\n    return inner\n"
        "x = outer().__closure__[0].cell_contents",
        id="func-closure-cell",
    ),
    pytest.param("x = (lambda: 0).__globals__", id="lambda-globals"),
    pytest.param("f = lambda: 0\nx = f.__code__", id="lambda-code"),
    pytest.param("x = [].append.__self__", id="method-self-list"),
    pytest.param('x = "".join.__self__', id="method-self-str"),
    pytest.param("x = len.__self__", id="builtin-self"),
    pytest.param("x = print(1).__class__", id="dunder-on-call-result"),
    pytest.param("x = inputs.__class__", id="dunder-on-inputs"),
    pytest.param("x = 'a'._x", id="private-attribute"),
    pytest.param("x = f'{().__class__.__base__}'", id="fstring-dunder"),
    pytest.param("x = f\"{'a'!r:{().__class__}}\"", id="fstring-nested-spec-dunder"),
    pytest.param("x = [c.__class__ for c in 'a']", id="comprehension-dunder"),
    pytest.param("x = [*__builtins__]", id="starred-builtins"),
    pytest.param("def f(x: ().__class__):\n    pass", id="annotation-dunder"),
    # dunder and internal names
    pytest.param("x = __name__", id="name-dunder-name"),
    pytest.param("x = __file__", id="name-dunder-file"),
    pytest.param("x = __loader__", id="name-loader"),
    pytest.param("x = __spec__", id="name-spec"),
    pytest.param("x = __build_class__", id="name-build-class"),
    pytest.param("x = __builtins__", id="name-builtins"),
    pytest.param('x = __builtins__["eval"]', id="name-builtins-subscript"),
    pytest.param('os = __import__("os")', id="name-import-dunder"),
    pytest.param("x = __spy_emit", id="name-spy-internal"),
    pytest.param("x = __spy_type(1)", id="name-spy-type"),
    pytest.param("(__x := 1)", id="walrus-dunder"),
    pytest.param("x = [1 for __x in []]", id="comprehension-var-dunder"),
    pytest.param("f = lambda __x: __x", id="lambda-param-dunder"),
    pytest.param("x = dict(__class__=1)", id="kwarg-dunder"),
    pytest.param("def f(*, __x=1):\n    pass", id="kwonly-param-dunder"),
    pytest.param("def __init__():\n    pass", id="def-dunder"),
    pytest.param("del __builtins__", id="del-builtins"),
    pytest.param("try:\n    pass\nexcept Exception as __e:\n    pass", id="except-as-dunder"),
    # frames and tracebacks
    pytest.param(TRY_ZERO + "    x = e.__traceback__.tb_frame.f_globals", id="traceback-frame"),
    pytest.param(TRY_ZERO + "    x = e.__context__", id="exception-context"),
    pytest.param(TRY_ZERO + "    x = e.__cause__", id="exception-cause"),
    pytest.param(TRY_ZERO + "    x = e.__class__.__mro__", id="exception-class"),
    pytest.param(TRY_ZERO + "    e.args = (1,)", id="exception-attribute-assign"),
    pytest.param("x = sys._getframe()", id="sys-getframe"),
    pytest.param("g = (x for x in [1])\nx = g.__next__", id="generator-dunder-next"),
    # reflective and I/O builtins, in every position
    pytest.param("x = eval('1')", id="eval"),
    pytest.param("exec('x = 1')", id="exec"),
    pytest.param("x = compile('1', 'f', 'eval')", id="compile"),
    pytest.param("x = open('/etc/passwd')", id="open"),
    pytest.param("breakpoint()", id="breakpoint"),
    pytest.param("help()", id="help"),
    pytest.param("x = input()", id="input"),
    pytest.param("x = globals()", id="globals"),
    pytest.param("x = locals()", id="locals"),
    pytest.param("x = vars()", id="vars"),
    pytest.param("x = dir()", id="dir"),
    pytest.param("x = getattr(1, 'real')", id="getattr"),
    pytest.param("setattr(inputs, 'x', 1)", id="setattr"),
    pytest.param("x = hasattr(1, 'real')", id="hasattr"),
    pytest.param("x = type(1)", id="type"),
    pytest.param("X = type('X', (), {})", id="type-three-args"),
    pytest.param("x = object", id="object"),
    pytest.param("x = super()", id="super"),
    pytest.param("x = memoryview(b'a')", id="memoryview"),
    pytest.param("exit()", id="exit"),
    pytest.param("quit()", id="quit"),
    pytest.param("x = classmethod", id="classmethod"),
    pytest.param("def f(getattr):\n    return 1", id="forbidden-name-as-param"),
    pytest.param("x = dict(eval=1)", id="forbidden-name-as-kwarg"),
    pytest.param("eval = 1", id="forbidden-name-as-target"),
    pytest.param("f = lambda: open('/etc/passwd')", id="forbidden-name-in-lambda"),
    pytest.param("x = f\"{eval('1')}\"", id="forbidden-name-in-fstring"),
    pytest.param("x = [eval(s) for s in ['1']]", id="forbidden-name-in-comprehension"),
    pytest.param("def f(x=exec):\n    pass", id="forbidden-name-as-default"),
    pytest.param("for vars in [1]:\n    pass", id="forbidden-name-as-loop-var"),
    # unicode identifiers: Python NFKC-normalises them, the checker must see through it
    pytest.param("x = " + fullwidth("eval") + '("1")', id="nfkc-fullwidth-eval"),
    pytest.param('x = \u1d49val("1")', id="nfkc-modifier-letter-eval"),
    pytest.param('x = \u212fval("1")', id="nfkc-script-e-eval"),
    pytest.param("x = 1\ny = x._" + fullwidth("_") + "class__", id="nfkc-fullwidth-low-line-class"),
    pytest.param("x = 1\ny = x.__" + fullwidth("class") + "__", id="nfkc-fullwidth-class"),
    pytest.param("x = __" + fullwidth("builtins") + "__", id="nfkc-fullwidth-builtins"),
    pytest.param("x = _" + fullwidth("_") + 'import__("os")', id="nfkc-import-dunder"),
    pytest.param("x = " + fullwidth("type") + "(1)", id="nfkc-type"),
    pytest.param("x = " + fullwidth("globals") + "()", id="nfkc-globals"),
    pytest.param("p = " + fullwidth("print"), id="nfkc-print-as-value"),
    pytest.param("x = dict(" + fullwidth("getattr") + "=1)", id="nfkc-forbidden-kwarg"),
    pytest.param(fullwidth("import") + " os", id="nfkc-import-keyword"),
    # import in all spellings
    pytest.param("import os", id="import"),
    pytest.param("import os.path", id="import-dotted"),
    pytest.param("import os as o", id="import-as"),
    pytest.param("from os import system", id="from-import"),
    pytest.param("from os import *", id="from-import-star"),
    pytest.param("from . import x", id="from-relative"),
    pytest.param("from .. import y", id="from-relative-parent"),
    pytest.param("from builtins import eval as e", id="from-builtins"),
    pytest.param("import importlib", id="import-importlib"),
    pytest.param("def f():\n    import os", id="import-in-function"),
    pytest.param("if True:\n    import sys", id="import-in-if"),
    pytest.param("try:\n    import os\nexcept Exception:\n    pass", id="import-in-try"),
    pytest.param("import \\\n    os", id="import-line-continuation"),
    # classes, with, yield, async, match
    pytest.param("class A:\n    pass", id="class"),
    pytest.param("class E(Exception):\n    pass", id="class-exception-subclass"),
    pytest.param("class M(type):\n    pass", id="class-metaclass"),
    pytest.param("def f():\n    class Inner:\n        pass", id="class-nested"),
    pytest.param("with x:\n    pass", id="with"),
    pytest.param("with open('f') as fh:\n    pass", id="with-open"),
    pytest.param("def g():\n    yield 1", id="yield"),
    pytest.param("def g():\n    yield from [1]", id="yield-from"),
    pytest.param("f = lambda: (yield)", id="yield-in-lambda"),
    pytest.param("async def f():\n    pass", id="async-def"),
    pytest.param("async def f():\n    await g()", id="await"),
    pytest.param("async def f():\n    async for x in y:\n        pass", id="async-for"),
    pytest.param("async def f():\n    async with y:\n        pass", id="async-with"),
    pytest.param("match 1:\n    case _:\n        pass", id="match"),
    # global / nonlocal on internals
    pytest.param("global __builtins__", id="global-builtins"),
    pytest.param(
        "def f():\n    global __builtins__\n    __builtins__ = {}", id="global-builtins-assign"
    ),
    pytest.param(
        "def o():\n    __x = 1\n    def i():\n        nonlocal __x\n    return i",
        id="nonlocal-dunder",
    ),
    pytest.param("global __spy_emit", id="global-spy-internal"),
    # attribute assignment
    pytest.param(FUNC + "f.x = 1", id="attr-assign-function"),
    pytest.param("x = [1]\nx.append = None", id="attr-assign-method"),
    pytest.param(FUNC + "del f.attr", id="attr-delete"),
    pytest.param("x = {}\nx.y += 1", id="attr-augassign"),
    pytest.param("for inputs.x in [1]:\n    pass", id="attr-as-loop-target"),
    pytest.param("a, inputs.b = 1, 2", id="attr-in-unpacking"),
    # decorators smuggling calls / print as a value
    pytest.param("@print\ndef f():\n    pass", id="decorator-print"),
    pytest.param("@eval\ndef f():\n    pass", id="decorator-eval"),
    pytest.param("@(lambda f: f.__globals__)\ndef g():\n    pass", id="decorator-lambda-dunder"),
    pytest.param("p = print", id="print-as-value"),
    pytest.param("x = [print]", id="print-in-list"),
    pytest.param("def f(print):\n    pass", id="print-as-param"),
    pytest.param("x = sorted([1], key=print)", id="print-as-key"),
    pytest.param("x = map(print, [1])", id="print-in-map"),
]


@pytest.mark.parametrize("source", REJECTED)
def test_rejected_before_running(source: str) -> None:
    with pytest.raises(SpySyntaxError):
        compile_program(source)


# --------------------------------------------------------------------------------------
# 2. Contained: rejected, or a SPy runtime error (of the expected type, when given).
#    Never another exception type, never a successful run, never a host effect.
# --------------------------------------------------------------------------------------

GEN = "g = (x for x in [1])\n"

CONTAINED: list[Any] = [
    # format strings that would read attributes by name
    pytest.param('x = "{0.__class__}".format(1)', "AttributeError", id="str-format"),
    pytest.param('x = "{x.__init__}".format_map({"x": 1})', "AttributeError", id="str-format-map"),
    pytest.param('f = "{0.__class__}".format', "AttributeError", id="str-format-as-value"),
    pytest.param('x = format(1, "{0.__class__}")', None, id="format-builtin"),
    pytest.param(
        'x = 1\ny = "{0.__class__}"\nz = f"{x!r:{y}}"', "ValueError", id="fstring-spec-injection"
    ),
    pytest.param(
        "x = f\"{1:{'{0.__globals__}'}}\"", "ValueError", id="fstring-literal-spec-injection"
    ),
    pytest.param('x = "%(__class__)s" % 1', "TypeError", id="percent-key-on-int"),
    pytest.param('x = "%(a)s" % [1]', "TypeError", id="percent-key-on-list"),
    pytest.param('x = "%(__class__)s" % {}', "KeyError", id="percent-dunder-key-is-just-a-key"),
    # reflective attributes of types, builtins and methods (no leading underscore)
    pytest.param('x = str.maketrans("a", "b")', "AttributeError", id="str-maketrans"),
    pytest.param('x = "abc".maketrans("a", "b")', "AttributeError", id="str-maketrans-instance"),
    pytest.param("x = dict.fromkeys([1])", "AttributeError", id="dict-fromkeys"),
    pytest.param("x = {}.fromkeys(range(10))", "AttributeError", id="dict-fromkeys-instance"),
    pytest.param("x = int.mro()", "AttributeError", id="int-mro"),
    pytest.param("x = bool.mro()[-1]", "AttributeError", id="bool-mro-object"),
    pytest.param('x = int.from_bytes(b"\\x01", "big")', "AttributeError", id="int-from-bytes"),
    pytest.param('x = bytes.fromhex("41")', "AttributeError", id="bytes-fromhex"),
    pytest.param("x = ValueError.mro()", "AttributeError", id="exception-class-mro"),
    pytest.param("x = ValueError.args", "AttributeError", id="exception-class-attr"),
    pytest.param(
        "x = isinstance(1, int.mro()[1])", "AttributeError", id="isinstance-subclass-trick"
    ),
    pytest.param("x = isinstance(1, len)", "TypeError", id="isinstance-non-type"),
    pytest.param("x = issubclass(bool, int)", "NameError", id="issubclass"),
    pytest.param("m = [].append\nx = m.im_self", "AttributeError", id="method-im-self"),
    pytest.param('x = "".join.upper', "AttributeError", id="method-attr"),
    pytest.param(
        'd = {"f": "".join}\nx = d["f"].upper', "AttributeError", id="method-from-dict-attr"
    ),
    pytest.param("f = lambda: 0\nx = f.func_globals", "AttributeError", id="lambda-attr"),
    pytest.param(FUNC + "x = f.name", "AttributeError", id="function-attr"),
    pytest.param("x = inputs.keys().mapping", "AttributeError", id="dict-view-mapping"),
    pytest.param("x = range(3).index.upper", "AttributeError", id="range-attr-chain"),
    # generators
    pytest.param(GEN + "f = g.gi_frame", "AttributeError", id="generator-gi-frame"),
    pytest.param(
        GEN + "f = g.gi_frame.f_back.f_globals", "AttributeError", id="generator-frame-walk"
    ),
    pytest.param(GEN + "c = g.gi_code", "AttributeError", id="generator-gi-code"),
    pytest.param(GEN + "c = g.gi_yieldfrom", "AttributeError", id="generator-gi-yieldfrom"),
    pytest.param(GEN + "c = g.send(None)", "AttributeError", id="generator-send"),
    pytest.param("m = map(len, ['a'])\nx = m.upper", "AttributeError", id="map-object-attr"),
    # exceptions' attributes
    pytest.param(
        TRY_ZERO + "    x = e.with_traceback(None)", "AttributeError", id="exception-with-traceback"
    ),
    pytest.param(
        "try:\n    (1).foo\nexcept AttributeError as e:\n    x = e.obj",
        "AttributeError",
        id="exception-obj",
    ),
    pytest.param(
        "try:\n    len.foo\nexcept AttributeError as e:\n    x = e.obj",
        "AttributeError",
        id="exception-obj-of-builtin",
    ),
    pytest.param(TRY_ZERO + "    x = e.args.upper", "AttributeError", id="exception-args-attr"),
    # the gate inside every new construct
    pytest.param(
        'x = [c for c in "ab".nope()]', "AttributeError", id="gate-comprehension-iterable"
    ),
    pytest.param("x = [c for c in len.mro]", "AttributeError", id="gate-comprehension-builtin"),
    pytest.param("x = list(c for c in (1).nope)", "AttributeError", id="gate-genexp-iterable"),
    pytest.param(
        'x = [y for c in "a" if (y := c.nope)]', "AttributeError", id="gate-walrus-in-comprehension"
    ),
    pytest.param("f = lambda: (1).nope\nf()", "AttributeError", id="gate-lambda-body"),
    pytest.param("def f(x=(1).nope):\n    pass", "AttributeError", id="gate-default-arg"),
    pytest.param("x = f\"{'a'.nope}\"", "AttributeError", id="gate-fstring"),
    pytest.param('x = [*"a".nope()]', "AttributeError", id="gate-starred"),
    pytest.param("x = {**{}.nope}", "AttributeError", id="gate-dict-unpack"),
    pytest.param(
        "try:\n    1 / 0\nexcept (1).nope:\n    pass", "AttributeError", id="gate-except-clause"
    ),
    pytest.param("s = {1}\nx = s.nope()", "AttributeError", id="gate-set"),
    pytest.param('x = b"a".nope()', "AttributeError", id="gate-bytes"),
    pytest.param("x = set.mro()", "AttributeError", id="gate-set-type"),
    # modules and interactive helpers that were never imported
    pytest.param("x = sys.modules", "NameError", id="sys-without-import"),
    pytest.param('os.system("true")', "NameError", id="os-without-import"),
    pytest.param("x = builtins.eval", "NameError", id="builtins-module"),
    pytest.param("copyright()", "NameError", id="copyright"),
    pytest.param("license()", "NameError", id="license"),
    pytest.param("credits()", "NameError", id="credits"),
    pytest.param('x = bytearray(b"a")', "NameError", id="bytearray"),
    pytest.param("x = id(1)", "NameError", id="id"),
    pytest.param("x = hash('a')", "NameError", id="hash"),
    pytest.param("del len", "NameError", id="del-builtin"),
    # decorators used to smuggle calls (rejected today; a runtime error if ever allowed)
    pytest.param("@artifact\ndef f():\n    pass", None, id="decorator-artifact"),
    pytest.param("@sorted\ndef f():\n    pass", None, id="decorator-sorted"),
    pytest.param("@dict.fromkeys\ndef f():\n    pass", None, id="decorator-type-attr"),
    # print's file= and friends
    pytest.param('print("x", file=None)', "TypeError", id="print-file"),
    pytest.param('print("x", **{"file": None})', "TypeError", id="print-file-via-kwargs"),
    # bytes / codecs
    pytest.param('x = "abc".encode("zlib_codec")', None, id="codec-bytes-to-bytes"),
    pytest.param('x = b"41".decode("hex")', None, id="codec-hex"),
    pytest.param('x = "abc".encode("rot13")', None, id="codec-rot13"),
    pytest.param('x = "abc".encode("undefined")', None, id="codec-undefined"),
    # artifact must validate its name before reaching the host
    pytest.param(
        'x = artifact("../../etc/passwd", "x")', "ValueError", id="artifact-path-traversal"
    ),
    pytest.param('x = artifact("/etc/passwd", "x")', "ValueError", id="artifact-absolute-path"),
    pytest.param('x = artifact("..", "x")', "ValueError", id="artifact-dotdot"),
    pytest.param('x = artifact("a\\x00b", "x")', "ValueError", id="artifact-nul"),
    pytest.param('x = artifact("a\\\\b", "x")', "ValueError", id="artifact-backslash"),
    pytest.param("x = artifact(1, 'x')", "TypeError", id="artifact-name-type"),
    pytest.param("x = artifact('a', [1])", "TypeError", id="artifact-text-type"),
]


@pytest.mark.parametrize(("source", "spy_type"), CONTAINED)
def test_attack_is_contained(source: str, spy_type: str | None) -> None:
    try:
        program = compile_program(source)
    except SpySyntaxError:
        return  # rejected outright: contained
    host = RecordingHost()
    try:
        run_program(program, {}, host)
    except SpyRuntimeError as err:
        assert not isinstance(err, RunLimitExceeded), err
        if spy_type is not None:
            assert err.spy_type == spy_type, err
        assert " at 0x" not in err.message
    except BaseException as exc:  # the point is: nothing else may escape
        pytest.fail(f"escaped as {type(exc).__name__}: {exc}")
    else:
        pytest.fail("the attack ran to completion")
    assert host.effects == []


# --------------------------------------------------------------------------------------
# 3. Legal: suspicious-looking but harmless programs must keep working.
# --------------------------------------------------------------------------------------

LEGAL = [
    pytest.param("_ = 5\nresult = _ + 1", 6, id="underscore"),
    pytest.param("_private = 2\nresult = _private * 3", 6, id="private-name"),
    pytest.param(
        "def _helper(_x):\n    return _x + 1\nresult = _helper(1)", 2, id="private-function"
    ),
    pytest.param("t = 0\nfor _ in range(3):\n    t += 1\nresult = t", 3, id="underscore-loop"),
    pytest.param("result = [0 for _ in range(2)]", [0, 0], id="underscore-comprehension"),
    pytest.param("_x_ = 1\nclass_ = 2\nresult = _x_ + class_", 3, id="trailing-underscores"),
    pytest.param('d = {"__class__": 1}\nresult = d["__class__"]', 1, id="dunder-string-key"),
    pytest.param(
        'result = "().__class__.__bases__"', "().__class__.__bases__", id="dunder-in-string"
    ),
    pytest.param(
        'result = "%(x)s" % {"x": "{0.__class__}"}', "{0.__class__}", id="format-string-as-data"
    ),
    pytest.param('sys = {"path": "/x"}\nresult = sys["path"]', "/x", id="name-sys-as-variable"),
    pytest.param("os = 1\nresult = os + 1", 2, id="name-os-as-variable"),
    pytest.param("builtins = [1]\nresult = builtins", [1], id="name-builtins-as-variable"),
    pytest.param("\ufb01le = 1\nresult = file", 1, id="nfkc-ligature-name"),
    pytest.param(fullwidth("x") + " = 2\nresult = x", 2, id="nfkc-fullwidth-name"),
    pytest.param("result = f\"{'a':_>3}\"", "__a", id="underscore-fill"),
    pytest.param(
        'try:\n    raise ValueError("m", 2)\nexcept ValueError as e:\n    result = e.args',
        ("m", 2),
        id="exception-args",
    ),
    pytest.param(
        'try:\n    {}["k"]\nexcept KeyError as e:\n    result = str(e)', "'k'", id="exception-str"
    ),
    pytest.param(
        'x = artifact("report.txt", "hi")\nresult = x', "mem://artifact/1", id="artifact-ok"
    ),
]


@pytest.mark.parametrize(("source", "expected"), LEGAL)
def test_harmless_programs_still_run(source: str, expected: object) -> None:
    result = run(source)
    assert result == expected
    assert type(result) is type(expected)


# --------------------------------------------------------------------------------------
# Child-process harness for attacks that could hang or eat memory if a defence is missing.
# --------------------------------------------------------------------------------------

CHILD_EXTRA_ADDRESS_SPACE = 2 * 2**30  # the child may map this much beyond its start size
#: A hang detector, not a speed test: a limit that works ends an attack in well under a
#: second on an idle machine; this only has to outlast a heavily loaded one.
HARD_TIMEOUT_S = 120.0


class NullHost:
    """Does nothing: resource attacks measure SPy's own limits, not a recording double."""

    def emit(self, site: object, value: object) -> None:
        pass

    def effect(self, name: str, args: tuple[object, ...]) -> object:
        return "mem://effect"

    def check(self) -> None:
        pass


class StoppingHost(NullHost):
    """Raises ``Stopped`` from ``check`` from the ``after``-th call on (every call after it too)."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.calls = 0

    def check(self) -> None:
        self.calls += 1
        if self.calls >= self.after:
            raise Stopped("cancel")


def _vm_size() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _classify(exc: BaseException) -> str:
    if isinstance(exc, RunLimitExceeded):
        return "LimitExceeded"
    if isinstance(exc, Stopped):
        return "Stopped"
    if isinstance(exc, SpyRuntimeError):
        return "SpyRuntimeError"
    return "other"


def _child(conn: Any, source: str, limits: dict[str, Any] | None, stop_after: int | None) -> None:
    try:
        # The child inherits the test process's heap, garbage included: its collections
        # must not free (and recurse through) objects the parent's earlier tests left.
        gc.freeze()
        size = _vm_size()
        if size:
            cap = size + CHILD_EXTRA_ADDRESS_SPACE
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        program_bytes = None if limits is None else limits.get("max_program_bytes")
        try:
            # As the worker does: a source over the limit is refused before it is parsed.
            program = compile_program(source, max_program_bytes=program_bytes)
        except SpySyntaxError as err:
            conn.send({"outcome": "SpySyntaxError", "detail": str(err)})
            return
        except RunLimitExceeded as err:
            conn.send(
                {
                    "outcome": "LimitExceeded",
                    "spy_type": err.spy_type,
                    "message": err.message,
                    "detail": str(err),
                }
            )
            return
        host = NullHost() if stop_after is None else StoppingHost(stop_after)
        kwargs = {} if limits is None else {"limits": Limits(**limits)}
        try:
            result = run_program(program, {}, host, **kwargs)
        except BaseException as exc:
            report = {
                "outcome": _classify(exc),
                "exc_type": type(exc).__name__,
                "spy_type": getattr(exc, "spy_type", None),
                "message": getattr(exc, "message", None),
                "detail": str(exc)[-600:],
            }
        else:
            report = {
                "outcome": "completed",
                "detail": f"result of type {type(result).__name__}",
                "result": repr(result)[:200],
            }
        conn.send(report)
    except BaseException:
        conn.send({"outcome": "harness-error", "detail": traceback.format_exc()[-2000:]})
    finally:
        conn.close()


def run_isolated(
    source: str, limits: dict[str, Any] | None, stop_after: int | None = None
) -> dict[str, Any]:
    """Run ``source`` in a forked child; return its report (outcome, detail)."""
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(sender, source, limits, stop_after), daemon=True)
    proc.start()
    sender.close()
    try:
        if receiver.poll(HARD_TIMEOUT_S):
            try:
                return dict(receiver.recv())
            except EOFError:
                proc.join(5)
                return {"outcome": "crashed", "detail": f"exit code {proc.exitcode}"}
        return {"outcome": "timeout", "detail": f"still running after {HARD_TIMEOUT_S} s"}
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        receiver.close()


# --------------------------------------------------------------------------------------
# 4. A host Stopped must never be swallowed by the program.
# --------------------------------------------------------------------------------------

SPIN = "while True:\n    pass\n"


def _indent(code: str, n: int) -> str:
    return "".join(" " * n + line + "\n" for line in code.splitlines())


SWALLOWERS = [
    pytest.param(
        "while True:\n    try:\n" + _indent(SPIN, 8) + "    except Exception:\n        pass",
        id="except-exception",
    ),
    pytest.param(
        "while True:\n    try:\n" + _indent(SPIN, 8) + "    except:\n        pass", id="bare-except"
    ),
    pytest.param(
        "while True:\n    try:\n" + _indent(SPIN, 8) + "    finally:\n        continue",
        id="finally-continue",
    ),
    pytest.param(
        "while True:\n    try:\n"
        + _indent(SPIN, 8)
        + "    finally:\n        break\nresult = 'swallowed'",
        id="finally-break",
    ),
    pytest.param(
        "def f():\n    try:\n"
        + _indent(SPIN, 8)
        + "    finally:\n        return 'swallowed'\nresult = f()",
        id="finally-return",
    ),
    pytest.param(
        "while True:\n    try:\n        try:\n"
        + _indent(SPIN, 12)
        + "        except undefined_name:\n            pass\n    except NameError:\n        pass",
        id="handler-expression-raises",
    ),
    pytest.param(
        "while True:\n    try:\n        try:\n"
        + _indent(SPIN, 12)
        + "        except (ValueError, 1 // 0):\n            pass\n    except ZeroDivisionError:\n        pass",
        id="handler-tuple-raises",
    ),
    pytest.param(
        "def f(n):\n    try:\n        return f(n + 1)\n    except Exception:\n        return f(n + 1)\nf(0)",
        id="recursion-retry",
    ),
    pytest.param(
        "while True:\n    try:\n        x = [0 for _ in range(10 ** 9)]\n    except Exception:\n        pass",
        id="comprehension-loop",
    ),
    pytest.param("x = sum(1 for _ in range(10 ** 12))", id="genexp-loop"),
    pytest.param("x = list(map(lambda v: v, range(10 ** 12)))", id="lambda-calls"),
    pytest.param(
        "try:\n" + _indent(SPIN, 4) + "finally:\n" + _indent(SPIN, 4), id="finally-spins-again"
    ),
]


@pytest.mark.parametrize("source", SWALLOWERS)
def test_host_stop_cannot_be_swallowed(source: str) -> None:
    report = run_isolated(source, None, stop_after=50)
    if report["outcome"] == "SpySyntaxError":
        return  # the construct is rejected: nothing to swallow with
    assert report["outcome"] == "Stopped", report


# --------------------------------------------------------------------------------------
# 5. Resource attacks: each must end with LimitExceeded (naming the limit, when given).
# --------------------------------------------------------------------------------------

MIB = 2**20
BASE_LIMITS: dict[str, Any] = {
    "max_steps": 1_000_000,
    "max_wall_s": 10.0,
    "max_memory_bytes": 128 * MIB,
    "max_recursion": 100,
    "max_output_bytes": 1 * MIB,
    "max_program_bytes": 1 * MIB,
}
UNBOUNDED_STEPS: dict[str, Any] = {"max_steps": 10**15}


@pytest.fixture
def limits_api() -> Any:
    if Limits is None:
        pytest.fail(
            "jarvis.spy.Limits does not exist yet: resource limits (max_steps, max_wall_s, "
            "max_memory_bytes, max_recursion, max_output_bytes, max_program_bytes) are "
            "required by the sandbox attack suite"
        )
    return Limits


def attack(
    source: str,
    id: str,
    *,
    also_ok: tuple[str, ...] = (),
    limit: str | None = None,
    marks: Any = (),
    **limits: Any,
) -> Any:
    """``limit``: the ``Limits`` field the LimitExceeded message must name."""
    return pytest.param(source, {**BASE_LIMITS, **limits}, also_ok, limit, id=id, marks=marks)


RESOURCE_ATTACKS = [
    # steps and wall clock
    attack(SPIN, "steps-while-true", max_steps=10_000),
    attack(SPIN, "wall-while-true", max_wall_s=0.5, **UNBOUNDED_STEPS),
    attack("for i in range(10 ** 12):\n    pass", "steps-for-huge-range", max_steps=10_000),
    attack("x = [0 for _ in range(10 ** 9)]", "steps-comprehension", max_steps=10_000),
    attack("x = sum(1 for _ in range(10 ** 12))", "steps-genexp", max_steps=10_000),
    attack("x = list(map(lambda v: v, range(10 ** 12)))", "steps-lambda-map", max_steps=10_000),
    attack(
        "def f(n):\n    if n:\n        f(n - 1)\n        f(n - 1)\nf(60)",
        "steps-exponential-calls",
        max_steps=10_000,
    ),
    # CPU spent inside one C call: only a limit that can interrupt (or refuse) it helps
    attack(
        "x = sum(range(10 ** 15))",
        "wall-c-loop-sum-range",
        max_wall_s=1.0,
        **UNBOUNDED_STEPS,
    ),
    attack(
        "x = max(range(10 ** 15))",
        "wall-c-loop-max-range",
        max_wall_s=1.0,
        **UNBOUNDED_STEPS,
    ),
    attack(
        "x = all(range(1, 10 ** 15))",
        "wall-c-loop-all-range",
        max_wall_s=1.0,
        **UNBOUNDED_STEPS,
    ),
    attack(
        "x = any(iter(int, 1))",
        "wall-c-loop-iter-callable",
        also_ok=("TypeError",),
        max_wall_s=1.0,
        **UNBOUNDED_STEPS,
    ),
    attack("x = 7 ** (3 * 10 ** 7)", "wall-big-pow", max_wall_s=1.0, **UNBOUNDED_STEPS),
    attack(
        "x = sum([[0] * 100] * 100000, [])",
        "wall-quadratic-sum-of-lists",
        max_wall_s=1.0,
        **UNBOUNDED_STEPS,
    ),
    # memory: one huge allocation
    attack('x = "a" * 10 ** 12', "mem-str-repeat"),
    attack("x = [0] * 10 ** 12", "mem-list-repeat"),
    attack('x = b"a" * 10 ** 12', "mem-bytes-repeat"),
    attack("x = bytes(10 ** 12)", "mem-bytes-constructor"),
    attack("x = 2 ** 10 ** 10", "mem-pow"),
    attack("x = 1 << 10 ** 10", "mem-shift"),
    attack("x = list(range(10 ** 12))", "mem-list-range"),
    attack("x = sorted(range(10 ** 10))", "mem-sorted-range"),
    attack("x = dict(zip(range(10 ** 9), range(10 ** 9)))", "mem-dict-zip", **UNBOUNDED_STEPS),
    attack(
        "x = list(iter(int, 1))",
        "mem-list-iter-callable",
        also_ok=("TypeError",),
        **UNBOUNDED_STEPS,
    ),
    attack('x = f"{1:>999999999}"', "mem-fstring-width"),
    attack("w = 10 ** 12\nx = f\"{'a':>{w}}\"", "mem-fstring-nested-width"),
    attack('x = "%999999999d" % 1', "mem-percent-width"),
    attack('x = "%*d" % (10 ** 9, 1)', "mem-percent-star-width"),
    attack('x = "x".ljust(10 ** 12)', "mem-ljust"),
    attack('x = "x".center(10 ** 9)', "mem-center"),
    attack('x = "1".zfill(10 ** 9)', "mem-zfill"),
    attack('x = "\\t".expandtabs(10 ** 9)', "mem-expandtabs"),
    attack('x = ("ab" * 10 ** 5).replace("", "x" * 10 ** 4)', "mem-replace-empty"),
    attack('x = ("x" * 10 ** 5).join(["a"] * 10 ** 5)', "mem-join"),
    attack('x = int("9" * 10 ** 7)', "mem-int-from-huge-str", max_memory_bytes=8 * MIB),
    # memory: growth in a loop
    attack('s = "ab"\nwhile True:\n    s = s + s', "mem-string-doubling", **UNBOUNDED_STEPS),
    attack('s = "ab"\nwhile True:\n    s += s', "mem-string-doubling-augmented", **UNBOUNDED_STEPS),
    attack("x = [0]\nwhile True:\n    x = x + x", "mem-list-doubling", **UNBOUNDED_STEPS),
    attack("x = [0]\nwhile True:\n    x.extend(x)", "mem-list-extend-self", **UNBOUNDED_STEPS),
    attack(
        's = "ab"\nwhile True:\n    s = s.replace("a", "a" * 1000)',
        "mem-replace-loop",
        **UNBOUNDED_STEPS,
    ),
    attack(
        "x = []\nwhile True:\n    x.append([0] * 10000)",
        "mem-nested-list-growth",
        **UNBOUNDED_STEPS,
    ),
    attack(
        "d = {}\ni = 0\nwhile True:\n    d[i] = str(i) * 100\n    i += 1",
        "mem-dict-growth",
        **UNBOUNDED_STEPS,
    ),
    # recursion
    attack("def f(n):\n    return f(n + 1)\nf(0)", "recursion-deep", max_recursion=50),
    attack(
        "def a(n):\n    return b(n + 1)\ndef b(n):\n    return a(n + 1)\na(0)",
        "recursion-mutual",
        max_recursion=50,
    ),
    attack("f = lambda n: f(n + 1)\nf(0)", "recursion-lambda", max_recursion=50),
    attack(
        "def f(n):\n    return [f(n + 1) for _ in range(1)]\nf(0)",
        "recursion-through-comprehension",
        max_recursion=50,
    ),
    attack(
        "def f():\n    try:\n        f()\n    except RecursionError:\n        f()\nf()",
        "recursion-catch-and-retry",
        max_recursion=50,
    ),
    # output
    attack(
        'while True:\n    print("x" * 1000)',
        "output-print-loop",
        max_output_bytes=10_000,
        **UNBOUNDED_STEPS,
    ),
    attack('print("x" * 10 ** 6)', "output-one-huge-line", max_output_bytes=10_000),
    attack('print("a", end="b" * 10 ** 6)', "output-huge-end", max_output_bytes=10_000),
    attack("print(*range(10 ** 6))", "output-many-args", max_output_bytes=10_000),
    # the program may not swallow a limit
    attack(
        "while True:\n    try:\n" + _indent(SPIN, 8) + "    except Exception:\n        pass",
        "swallow-except-exception",
        max_steps=10_000,
    ),
    attack(
        "while True:\n    try:\n" + _indent(SPIN, 8) + "    except:\n        pass",
        "swallow-bare-except",
        max_steps=10_000,
    ),
    attack(
        "while True:\n    try:\n" + _indent(SPIN, 8) + "    finally:\n        continue",
        "swallow-finally-continue",
        max_steps=10_000,
    ),
    attack(
        "while True:\n    try:\n"
        + _indent(SPIN, 8)
        + "    finally:\n        break\nresult = 'escaped'",
        "swallow-finally-break",
        max_steps=10_000,
    ),
    attack(
        "def f():\n    try:\n"
        + _indent(SPIN, 8)
        + "    finally:\n        return 'escaped'\nresult = f()",
        "swallow-finally-return",
        max_steps=10_000,
    ),
    attack(
        "while True:\n    try:\n        try:\n"
        + _indent(SPIN, 12)
        + "        except undefined_name:\n            pass\n    except NameError:\n        pass",
        "swallow-handler-expression",
        max_steps=10_000,
    ),
    attack(
        "try:\n" + _indent(SPIN, 4) + "finally:\n" + _indent(SPIN, 4),
        "swallow-finally-spins",
        max_steps=10_000,
    ),
    attack(
        'try:\n    x = "a" * 10 ** 12\nexcept MemoryError:\n    x = "caught"\nresult = x',
        "swallow-memory-error",
    ),
    attack(
        'try:\n    print("x" * 10 ** 6)\nexcept Exception:\n    pass\nresult = "escaped"',
        "swallow-output-limit",
        max_output_bytes=10_000,
    ),
    # size estimates that used to be wrong (issue 7 A): refused before allocating
    *(
        attack(src, id, limit="max_memory_bytes")
        for src, id in [
            ('b = b"a" * 10 ** 8\nx = b"%s%s" % (b, b)', "mem-bytes-percent"),
            ('x = b"%r" % (b"\\x00" * 4 * 10 ** 7,)', "mem-bytes-percent-repr"),
            ('x = b"%*d" % (10 ** 9, 1)', "mem-bytes-percent-width"),
            ('x = "x".center(10 ** 8, "\\U0001f600")', "mem-center-wide-fill"),
            ('x = "x".ljust(7 * 10 ** 7, "\\u4e00")', "mem-ljust-wide-fill"),
            ('x = ("a" * 4 * 10 ** 7).encode("utf-32")', "mem-encode-utf32"),
            ('x = ("a" * 7 * 10 ** 7).encode("utf-16")', "mem-encode-utf16"),
            (
                'x = ("\\xe9" * 2 * 10 ** 7).encode("ascii", "xmlcharrefreplace")',
                "mem-encode-xmlref",
            ),
            ('x = repr("\\x00" * 4 * 10 ** 7)', "mem-repr-control-chars"),
            ('x = ascii("\\U0001f600" * 2 * 10 ** 7)', "mem-ascii-escapes"),
            ('s = "\\x00" * 4 * 10 ** 7\nx = "%r" % (s,)', "mem-percent-repr-control"),
            ('b = b"\\x00" * 4 * 10 ** 7\nx = f"{b!r}"', "mem-fstring-bytes-repr"),
            ('b = b"\\x00" * 4 * 10 ** 7\nx = f"{b}"', "mem-fstring-bytes"),
            ('b = b"\\x00" * 4 * 10 ** 7\nx = str(b)', "mem-str-of-bytes"),
            ('b = b"\\x00" * 4 * 10 ** 7\nx = format(b)', "mem-format-bytes"),
            ("a = []\na[0:0] = range(10 ** 9)", "mem-slice-assign-range"),
            ('a = [0]\na[:] = "x" * 10 ** 8', "mem-slice-assign-str"),
            ("a = [0] * 10\na[::2] = range(10 ** 9)", "mem-extended-slice-assign"),
            ("a = [0]\na[0:0], b = range(10 ** 9), 1", "mem-slice-assign-unpacking"),
            ("a = [0]\nfor a[0:1] in [range(10 ** 9)]:\n    pass", "mem-slice-assign-for-target"),
        ]
    ),
    attack(
        "a = [0]\na[0:1] = iter(int, 1)",
        "mem-slice-assign-endless-iterator",
        also_ok=("TypeError",),
        **UNBOUNDED_STEPS,
    ),
    # lazy iterators nested in C (issue 7 B): a SIGSEGV before, a limit now
    *(
        attack(
            "it = iter([1])\nfor i in range(10 ** 5):\n    it = " + wrap + "\n" + use,
            id,
            limit="max_recursion",
        )
        for wrap, use, id in [
            ("map(abs, it)", "x = next(it)", "nest-map"),
            ("filter(None, it)", "x = list(it)", "nest-filter"),
            ("zip(it)", "for x in it:\n    pass", "nest-zip"),
            ("zip([1], it, [2])", "x = next(it)", "nest-zip-many"),
            ("enumerate(it)", "x = next(it)", "nest-enumerate"),
            ("enumerate(iterable=it)", "x = next(it)", "nest-enumerate-keyword"),
            ("(x for x in it)", "x = next(it)", "nest-genexp"),
            ("(x for x in map(abs, it))", "x = list(it)", "nest-genexp-map"),
            ("(next(y) for y in [it])", "x = next(it)", "nest-hidden-in-list"),
        ]
    ),
    attack(
        "def wrap(g):\n    return (y for x in [0] for y in g)\nit = iter([1])\n"
        "for i in range(10 ** 5):\n    it = wrap(it)\nx = next(it)",
        "nest-hidden-in-closure",
        limit="max_recursion",
    ),
    # uninterruptible big-int and comparison work (issue 7 C): charged before it runs
    *(
        attack(src, id, limit="max_steps")
        for src, id in [
            ("a = 7 ** 350000\nb = 7 ** 170000\nx = a // b", "steps-int-floordiv"),
            ("a = 7 ** 350000\nb = 7 ** 170000\nx = a % b", "steps-int-mod"),
            ("a = 7 ** 350000\nb = 7 ** 170000\nx = divmod(a, b)", "steps-int-divmod"),
            ("a = 7 ** 350000\nb = 7 ** 170000\na //= b", "steps-int-floordiv-augmented"),
            ("a = 7 ** 350000\nb = 7 ** 170000\na %= b", "steps-int-mod-augmented"),
            ("a = 7 ** 175000\nx = a * a", "steps-int-mul"),
            ("x = round(7 ** 300000, -100000)", "steps-round-big-negative-ndigits"),
            ("a = 7 ** 350000\nx = sum([a, -a] * 100000)", "steps-sum-big-ints"),
            ("x = math.gcd(7 ** 350000, 5 ** 420000)", "steps-math-gcd"),
            ("x = math.isqrt(7 ** 350000)", "steps-math-isqrt"),
            ('s = "a" * 10 ** 6\nl = [s + "b"] * 10 ** 5\nx = (s + "c") in l', "steps-in-list"),
            ('s = "a" * 10 ** 6\nl = [s + "b"] * 10 ** 5\nx = (s + "c") not in l', "steps-not-in"),
            ('s = "a" * 10 ** 6\nt = (s + "b",) * 10 ** 5\nx = (s + "c") in t', "steps-in-tuple"),
            (
                's = "a" * 10 ** 6\nl = [s + "b"] * 10 ** 5\nx = l.count(s + "c")',
                "steps-list-count",
            ),
            (
                's = "a" * 10 ** 6\nl = [s + "b"] * 10 ** 5\nx = l.index(s + "b")',
                "steps-list-index",
            ),
            ('s = "a" * 10 ** 6\nl = (s + "b",) * 10 ** 5\nx = l.count(s)', "steps-tuple-count"),
            ('s = "a" * 10 ** 6\nl = [s] * 10 ** 5\nl.sort()', "steps-sort-long-strings"),
            ('s = "a" * 10 ** 6\nx = sorted([s] * 10 ** 5)', "steps-sorted-long-strings"),
            ("l = list(range(10 ** 6))\nl.sort()", "steps-sort-big-list"),
        ]
    ),
    attack('x = int("1" * 10 ** 7, 2)', "int-bits-int-base-2", limit="max_int_bits"),
    attack('x = int(b"f" * 10 ** 6, 16)', "int-bits-int-base-16", limit="max_int_bits"),
    attack('x = int("0x" + "f" * 10 ** 6, 0)', "int-bits-int-base-0", limit="max_int_bits"),
    attack(
        "x = sum([2 ** 999] * 4)", "int-bits-sum-result", limit="max_int_bits", max_int_bits=1000
    ),
    # program size
    attack(
        "x = 1\n" * 20_000,
        "program-bytes",
        limit="max_program_bytes",
        max_program_bytes=10_000,
        # Known issue (closing note of issues 2-4): the forked, address-space-capped child
        # once died with SIGSEGV here instead of reporting LimitExceeded. Not reproduced
        # since (hundreds of runs, alone and next to busy threads). The child used to
        # compile all 20 000 statements (the size check came in run_program) and could
        # run a full collection of the heap it inherited; it now refuses the source before
        # parsing, as the worker does, and freezes the inherited heap. Kept non-strict
        # until the cause is known.
        marks=pytest.mark.xfail(reason="intermittent SIGSEGV in the capped child", strict=False),
    ),
]


@pytest.mark.parametrize(("source", "limits", "also_ok", "limit"), RESOURCE_ATTACKS)
def test_resource_attack_hits_a_limit(
    limits_api: Any,
    source: str,
    limits: dict[str, Any],
    also_ok: tuple[str, ...],
    limit: str | None,
) -> None:
    report = run_isolated(source, limits)
    if report["outcome"] == "SpyRuntimeError" and report.get("spy_type") in also_ok:
        return  # refused outright (e.g. the two-argument iter()): fine too
    assert report["outcome"] == "LimitExceeded", report
    if limit is not None:
        assert f"({limit})" in report["message"], report
    assert not HOST_TEXT.search(report["message"]), report


def test_c_recursion_through_calls_is_cpythons_recursion_error(limits_api: Any) -> None:
    """``map(next, [it])`` nests through a *call* (hidden in a list): CPython checks that
    recursion itself and raises RecursionError, which SPy reports like CPython."""
    source = "it = iter([1])\nfor i in range(10 ** 5):\n    it = map(next, [it])\nx = next(it)"
    report = run_isolated(source, dict(BASE_LIMITS))
    assert (report["outcome"], report.get("spy_type")) == ("SpyRuntimeError", "RecursionError")


def test_round_to_a_huge_negative_ndigits_is_zero_without_the_power(limits_api: Any) -> None:
    """CPython computes ``10 ** 200_000_000`` first (minutes in one C call); SPy answers 0,
    CPython's answer, when that power exceeds twice the number."""
    source = "result = [round(7, -200_000_000), round(-7, -10 ** 9), round(True, -10 ** 8)]"
    report = run_isolated(source, dict(BASE_LIMITS))
    assert (report["outcome"], report.get("result")) == ("completed", "[0, 0, 0]"), report


def test_limits_leave_ordinary_programs_alone(limits_api: Any) -> None:
    """The small limits used above are not so small that an ordinary program trips them."""
    source = (
        "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"
        "total = 0\nfor i in range(2000):\n    total += i\n"
        "words = [str(i) * 3 for i in range(500)]\n"
        "def depth(n):\n    return 0 if n == 0 else 1 + depth(n - 1)\n"
        "for i in range(20):\n    print(i, fib(10))\n"
        "result = [total, len(words), depth(40), fib(15)]\n"
    )
    report = run_isolated(source, dict(BASE_LIMITS))
    assert report["outcome"] == "completed", report
    small_memory = run_isolated(
        'x = "a" * 1000\nresult = len(x)', {**BASE_LIMITS, "max_memory_bytes": 8 * MIB}
    )
    assert small_memory["outcome"] == "completed", small_memory


def test_limit_exceeded_is_a_spy_runtime_error() -> None:
    assert issubclass(RunLimitExceeded, SpyRuntimeError)
