"""Attack census: how many adversarial SPy programs are CONTAINED, before and after the sandbox.

Run with ``scripts/attack-census`` (prints a table; asserts nothing: it is a report, not a
test). "after" is the code of this checkout; "before" is commit 6830ced (the state before
the sandbox work, when programs ran inside the host process), checked out in a temporary
git worktree for the run and removed at the end.

CONTAINED (one program, one side) means all of:

- the run ends with a terminal outcome that is
  * a ``failed`` (or ``rejected``) event whose error is a SPy-level error: a SPy
    exception type (``TypeError``, ``ValueError``, ``RecursionError``, ... ``BookError``,
    ``LimitExceeded``; see ``SPY_TYPES``), or
  * (after only) a ``failed`` event of type ``SandboxCrashed`` (the sandbox died: signal,
    OS memory cap, wall deadline) or ``MemoryError`` (the program hit the sandbox's
    address-space cap, the documented backstop: the sandbox is recycled, the host is
    untouched) -- never ``InternalError`` (a host bug, caught at the top), or
  * a clean ``completed`` event whose behaviour is correct: each program says whether a
    completion can be correct at all (a program built to hold 10x ``max_memory_bytes``, to
    write more artifacts than ``max_artifacts`` or to sleep past ``max_wall_s`` has no
    correct completion: it must be stopped) and, when it can, what it must satisfy;
- the process hosting the execution survives, and ``run_execution`` returns (a host
  exception escaping it -- TypeError, RecursionError, OverflowError, MemoryError... from
  host code -- is not contained);
- no Python traceback (``Traceback (most recent call last)``, ``File "/...``) reaches the
  event or the program-visible text;
- peak RSS of every process involved in running the program (before: the one process;
  after: the sandbox and the host) stays under 4 x ``max_memory_bytes`` + 256 MiB;
- ``run_execution`` ends within ``max_wall_s`` + 10 s (programs are killed a little after
  that: a kill is a hang);
- the terminal event's JSON is at most 1 MiB (what a Kafka message can carry);
- class 7 only: the program-visible text (print records, the result, the error message
  and its SPy traceback) has no memory address (``0x...``), no ``jarvis.``, and no host
  class, module or parameter name (``HOST_WORDS``, plus every class name defined in
  either version of the ``jarvis`` package); a host *name* counts only when the
  program's own source does not contain that word (``kv.get(self=1)`` may see ``self``).

NOT contained: a SIGSEGV/abort/OOM of the process that ran the program when that process
is the host (before), a crash of the host process (after), an escaped host exception, a
hang past the deadline, an RSS blow-up, host text, a dodged limit.

How each side runs (one fresh process per program and side, so no state carries over):

- after: a ``multiprocessing`` "spawn" child of the census builds a ``RunConfig`` with a
  ``SandboxPool(1)`` and calls ``jarvis.execution.run_execution``. A thread in the child
  polls ``VmHWM`` of the child and of all its descendants (zygote, sandboxes) into shared
  memory, so the peak survives a kill; ``RUSAGE_CHILDREN`` after the pool is closed and
  the journal's ``crash`` records (``peak_rss``) are folded in.
- before: ``python attack_census.py --child ...`` with ``PYTHONPATH`` and cwd set to the
  worktree of 6830ced (``jarvis.__file__`` is checked), ``RLIMIT_AS`` of 4 GiB (a blow-up
  is measured, not fatal to the machine), in-process ``run_execution`` of that commit;
  peak RSS from ``wait4``. A signal death of that process is a whole-process crash.

Both sides use the same Books (``echo.say(value)``, ``kv.get(key, default)`` /
``kv.put(key, value)``, in memory), a local artifact store and journal in a temporary
directory, and the same limits (fields the old ``Limits`` lacks are simply not set there:
that is what "no limit covered it" means).
"""

import argparse
import contextlib
import dataclasses
import json
import multiprocessing
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# No jarvis import at module level: the "before" child imports this file with the old
# jarvis on its path, the "after" child with the current one.

MiB = 1024 * 1024
GiB = 1024 * MiB
BEFORE_COMMIT = "6830ced"
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MEMORY = 256 * MiB  # Limits().max_memory_bytes in both versions
BEFORE_AS_CAP = 4 * GiB
AFTER_HOST_AS_CAP = 12 * GiB  # soft cap on the after host (sandboxes set their own)
EVENT_MAX = 1 * MiB
STORE_MAX = 256 * MiB  # class 6: what a "correct" completion may leave on disk
DEADLINE_SLACK_S = 10.0
KILL_GRACE_S = 3.0  # a run is killed this long after its deadline

SPY_TYPES = frozenset(
    {
        "Exception",
        "ValueError",
        "TypeError",
        "KeyError",
        "IndexError",
        "ZeroDivisionError",
        "RuntimeError",
        "AssertionError",
        "ArithmeticError",
        "LookupError",
        "NameError",
        "UnboundLocalError",
        "AttributeError",
        "StopIteration",
        "NotImplementedError",
        "OverflowError",
        "RecursionError",
        "UnicodeError",
        "UnicodeDecodeError",
        "UnicodeEncodeError",
        "BookError",
        "LimitExceeded",
        "JSONDecodeError",
    }
)
AFTER_ONLY_TYPES = frozenset({"SandboxCrashed", "MemoryError"})
REJECTED_TYPES = frozenset({"SpySyntaxError", "LimitExceeded"})

TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"/")
ALWAYS_HOST = re.compile(r"0x[0-9a-fA-F]{4,}|jarvis[./]|site-packages|\.py\"")
HOST_WORDS = [
    "self",
    "ctx",
    "cls",
    "functools",
    "partial",
    "<locals>",
    "<lambda>",
    "itertools",
    "method-wrapper",
    "builtins",
    "operator",
    "__spy",
    "_spy",
    "spy_",
    "orjson",
    "pydantic",
]
# Class names of either jarvis that a SPy program may legitimately see, or that are
# plain words: not host text.
NOT_HOST = {
    "Book",
    "BookError",
    "LimitExceeded",
    "Host",
    "Program",
    "Procedure",
    "Timeout",
    "Health",
    "Handler",
    "Running",
    "Abort",
    "Site",
    "Worker",
    "Sink",
    "Settings",
    "Metrics",
    "Attempt",
    "Sandbox",
    "Journal",
    "Lease",
    "Leases",
    "NotFound",
    "Unavailable",
    "InvalidInput",
    "Retryable",
    "NonRetryable",
    "Checker",
    "Meter",
    "Limits",
    "Fence",
    "Outcome",
}


# --------------------------------------------------------------------------------------
# The programs
# --------------------------------------------------------------------------------------


def never(s: dict[str, Any]) -> bool:
    """No completion of this program is correct: a limit must stop it."""
    return False


def anything(s: dict[str, Any]) -> bool:
    return True


def result_is(value: Any) -> Callable[[dict[str, Any]], bool]:
    return lambda s: s.get("result") == value


def small_store(s: dict[str, Any]) -> bool:
    return s["stored_bytes"] <= STORE_MAX


@dataclass(frozen=True)
class Attack:
    cls: int
    id: str
    source: str
    completes: Callable[[dict[str, Any]], bool] = never
    limits: dict[str, Any] = field(default_factory=dict)
    level: str | None = None
    books: tuple[str, ...] = ("echo", "kv")


CLASS_NAMES = {
    1: "whole-process crashes",
    2: "host exceptions escaping",
    3: "memory-limit dodges (64 MiB)",
    4: "uninterruptible CPU (2 s)",
    5: "shared substructure",
    6: "effects no limit covered",
    7: "host text visible",
}
CLASS_LIMITS: dict[int, dict[str, Any]] = {
    1: {"max_wall_s": 5.0},
    2: {"max_wall_s": 5.0},
    3: {"max_wall_s": 10.0, "max_memory_bytes": 64 * MiB},
    4: {"max_wall_s": 2.0},
    5: {"max_wall_s": 5.0, "max_stored_log_bytes": MiB, "max_result_bytes": MiB},
    6: {
        "max_wall_s": 20.0,
        "max_artifacts": 100,
        "max_artifact_bytes": 256 * MiB,
        "max_stored_log_bytes": 64 * MiB,
    },
    7: {"max_wall_s": 5.0},
}
CLASS_LEVEL = {
    1: "effects",
    2: "full",
    3: "effects",
    4: "effects",
    5: "full",
    6: "effects",
    7: "full",
}

M = 1_000_000
NEST = "it = iter([1])\nfor i in range(1_000_000):\n    it = {}\n"
DEEP_LIST = "a = []\nfor i in range(1_000_000):\n    a = [a]\n"
DAG = "a = [1]\nfor i in range(40):\n    a = [a, a]\n"
EQ_PREFIX = (
    "s = 'a' * 1_000_000\nl = []\nfor i in range(1_000_000):\n    l.append(s)\n"
    "x = 'a' * 999_999 + 'b'\n"
)
BIG_BITS = "x = int('1' * 10_000_000, 2)\ny = int('1' * 5_000_000, 2)\n"
ALT_STRINGS = (
    "a = 'q' * 1_000_000 + '1'\nb = 'q' * 1_000_000 + '2'\nl = []\n"
    "for i in range(300_000):\n    l.append(a)\n    l.append(b)\n"
)


def probe(expr: str) -> str:
    """Class 7: evaluate ``expr``, show its repr or the error's, print and return it."""
    return f"try:\n    r = repr({expr})\nexcept Exception as e:\n    r = repr(e)\nprint(r)\nresult = r\n"


def straight_line(n: int) -> str:
    return "".join(f"a{i} = 'x' * 1_000_000\n" for i in range(n)) + "result = 1\n"


A = Attack
ATTACKS: list[Attack] = [
    # 1. whole-process crashes --------------------------------------------------------
    A(1, "iter-map-next", NEST.format("map(abs, it)") + "result = next(it)", result_is(1)),
    A(1, "iter-filter-list", NEST.format("filter(None, it)") + "result = list(it)", result_is([1])),
    A(1, "iter-zip-next", NEST.format("zip(it)") + "x = next(it)\nresult = 1", result_is(1)),
    A(
        1,
        "iter-enumerate-next",
        NEST.format("enumerate(it)") + "x = next(it)\nresult = 1",
        result_is(1),
    ),
    A(1, "iter-genexp-next", NEST.format("(v for v in it)") + "result = next(it)", result_is(1)),
    A(
        1,
        "iter-map-lambda-sum",
        NEST.format("map(lambda v: v, it)") + "result = sum(it)",
        result_is(1),
    ),
    A(
        1,
        "iter-mixed-tuple",
        NEST.format("filter(None, map(abs, it))") + "result = tuple(it)",
        result_is([1]),
    ),
    A(1, "recursion-plain", "def f(n):\n    return f(n + 1)\nresult = f(0)"),
    A(1, "recursion-sorted-key", "def f(x):\n    return sorted([x], key=f)\nresult = f(1)"),
    A(1, "recursion-map", "def f(x):\n    return list(map(f, [x]))\nresult = f(1)"),
    A(
        1,
        "recursion-in-except",
        "def f(n):\n    try:\n        return f(n + 1)\n    except Exception:\n        return f(n + 1)\nresult = f(0)",
    ),
    A(1, "deep-list-print", DEEP_LIST + "print(a)\nresult = 1", anything),
    A(1, "deep-list-result", DEEP_LIST + "result = a", anything),
    A(1, "deep-list-json", DEEP_LIST + "j = json.dumps(a)\nresult = len(j)", anything),
    A(1, "deep-list-log-full", DEEP_LIST + "b = a\nresult = 1", anything, level="full"),
    A(
        1,
        "deep-tuple-hash",
        "t = ()\nfor i in range(1_000_000):\n    t = (t,)\nd = {t: 1}\nresult = len(d)",
        result_is(1),
    ),
    A(
        1,
        "deep-except-tuple",
        "t = ValueError\nfor i in range(1_000_000):\n    t = (t,)\n"
        "try:\n    raise ValueError('x')\nexcept t:\n    result = 'caught'",
        result_is("caught"),
    ),
    A(
        1,
        "deep-isinstance-tuple",
        "t = int\nfor i in range(1_000_000):\n    t = (t,)\nresult = isinstance(1, t)",
        result_is(True),
    ),
    # 2. host exceptions escaping -------------------------------------------------------
    A(2, "book-int-keys", "r = echo.say({1: 'a'})\nresult = r", anything),
    A(2, "book-nested-int-keys", "kv.put('k', {'a': {2: 3}})\nresult = kv.get('k')", anything),
    A(2, "book-bytes", "r = echo.say(b'\\xff\\x00')\nresult = 1", anything),
    A(2, "book-big-int", "r = echo.say(2**64)\nresult = r", anything),
    A(2, "book-nan", "r = echo.say(float('nan'))\nresult = 1", anything),
    A(2, "book-surrogate", "r = echo.say('\\ud800')\nresult = 1", anything),
    A(
        2,
        "book-deep-5000",
        "a = []\nfor i in range(5000):\n    a = [a]\nr = echo.say(a)\nresult = 1",
        anything,
    ),
    A(2, "randint-2**100", "result = randint(0, 2**100)", anything),
    A(2, "sleep-2**70", "sleep(2**70)\nresult = 1"),
    A(2, "sleep-1e300", "sleep(1e300)\nresult = 1"),
    A(2, "result-surrogate", "result = 'a\\ud800b'", anything),
    A(2, "print-surrogate", "print('x\\udfff')\nresult = 1", anything),
    A(2, "log-surrogate", "x = ['\\ud83d', {'k': '\\udc00'}]\nresult = 1", anything),
    A(2, "artifact-surrogate", "artifact('s.txt', '\\udc80')\nresult = 1", anything),
    A(2, "error-surrogate", "raise ValueError('bad \\ud800')"),
    A(2, "result-deep-5000", "a = []\nfor i in range(5000):\n    a = [a]\nresult = a", anything),
    A(
        2,
        "result-deep-int-keys",
        "d = {1: 0}\nfor i in range(5000):\n    d = {i: d}\nresult = d",
        anything,
    ),
    # 3. memory-limit dodges (64 MiB) ----------------------------------------------------
    A(3, "listcomp-nested", "x = [[i] * 200 for i in range(500_000)]\nresult = len(x)"),
    A(3, "dictcomp", "d = {i: 'x' * 1000 + str(i) for i in range(500_000)}\nresult = len(d)"),
    A(3, "setcomp", "s = {'y' * 500 + str(i) for i in range(1_000_000)}\nresult = len(s)"),
    A(
        3,
        "bound-methods",
        "l = []\nfor i in range(60):\n    l.append(('x' * 10_000_000 + str(i)).upper)\nresult = len(l)",
    ),
    A(
        3,
        "caught-exceptions",
        "def f(i):\n    big = 'x' * 10_000_000 + str(i)\n    raise ValueError(i)\nerrs = []\n"
        "for i in range(60):\n    try:\n        f(i)\n    except ValueError as e:\n        errs.append(e)\n"
        "result = len(errs)",
    ),
    A(
        3,
        "dict-iterators",
        "its = []\nfor i in range(60):\n    its.append(iter({'k': 'x' * 10_000_000 + str(i)}.values()))\n"
        "result = len(its)",
    ),
    A(
        3,
        "genexp-suspended",
        "gs = []\nfor i in range(60):\n    s = 'x' * 10_000_000 + str(i)\n    gs.append(c for c in s)\n"
        "s = None\nresult = len(gs)",
    ),
    A(
        3,
        "closures",
        "fs = []\nfor i in range(60):\n    fs.append((lambda s: lambda: s)('x' * 10_000_000 + str(i)))\n"
        "result = len(fs)",
    ),
    A(3, "slice-assign-range", "a = []\na[0:0] = range(30_000_000)\nresult = len(a)"),
    A(3, "straight-line-2000", straight_line(2000)),
    A(
        3,
        "bytes-percent",
        "xs = []\nfor i in range(3):\n    xs.append(b'%0200000000d' % (i,))\nresult = len(xs)",
    ),
    A(3, "center-wide-fill", "s = 'x'.center(150_000_000, '\\U0001F600')\nresult = len(s)"),
    A(
        3,
        "encode-utf32",
        "bs = []\nfor i in range(3):\n    bs.append(('x' * 60_000_000).encode('utf-32'))\nresult = len(bs)",
    ),
    A(
        3,
        "repr-control-chars",
        "s = '\\x01' * 60_000_000\nr = [repr(s), ascii(s)]\nresult = len(r)",
    ),
    A(
        3,
        "fstring-bytes",
        "b = b'\\x00' * 60_000_000\ns = f'{b}'\nt = f'{b!r}'\nresult = len(s) + len(t)",
    ),
    A(
        3,
        "bytes-hex",
        "hs = []\nfor i in range(4):\n    hs.append((b'\\xff' * 60_000_000).hex())\nresult = len(hs)",
    ),
    A(3, "splitlines", "l = ('\\n' * 60_000_000).splitlines()\nresult = len(l)"),
    A(3, "list-of-str", "l = list('ab' * 30_000_000)\nresult = len(l)"),
    A(3, "list-enumerate", "l = list(enumerate(range(10_000_000)))\nresult = len(l)"),
    A(3, "expandtabs", "s = ('\\t' * 1_000_000).expandtabs(300)\nresult = len(s)"),
    A(3, "append-loop", "x = []\nwhile True:\n    x.append('x' * 1000 + str(len(x)))"),
    # 4. uninterruptible CPU (max_wall_s = 2) -------------------------------------------
    A(4, "bigint-floordiv", BIG_BITS + "r = x // y\nresult = r.bit_length()", anything),
    A(4, "bigint-mod", BIG_BITS + "r = x % y\nresult = r.bit_length()", anything),
    A(
        4,
        "bigint-rshift",
        "x = int('1' * 100_000_000, 2)\nr = x >> 3\nresult = r.bit_length()",
        anything,
    ),
    A(4, "int-parse-1e6-base2", "x = int('1' * 1_000_000, 2)\nresult = x % 1000", anything),
    A(4, "round-neg-2e8", "result = round(7, -200_000_000)", anything),
    A(4, "round-neg-5e7", "result = round(123456789, -50_000_000)", anything),
    A(4, "pow-mod-1e6-bits", "m = int('1' * 1_000_000, 2)\nresult = pow(3, m, m) % 10", anything),
    A(
        4,
        "gcd-1e7-bits",
        "x = int('1' * 10_000_000, 2)\ny = int('10' * 5_000_000, 2)\nresult = math.gcd(x, y) % 10",
        anything,
    ),
    A(4, "isqrt-1e8-bits", "result = math.isqrt(int('1' * 100_000_000, 2)) % 10", anything),
    A(4, "in-equal-prefix", EQ_PREFIX + "result = x in l", anything),
    A(
        4,
        "list-eq-equal-prefix",
        EQ_PREFIX.replace("'b'", "'a'")
        + "m = []\nfor i in range(1_000_000):\n    m.append(x)\nresult = l == m",
        anything,
    ),
    A(
        4,
        "sum-huge-ints",
        "x = int('1' * 1_000_000, 2)\nl = []\nfor i in range(2_000_000):\n    l.append(x)\n"
        "result = sum(l).bit_length()",
        anything,
    ),
    A(4, "sort-equal-prefix", ALT_STRINGS + "l.sort()\nresult = len(l)", anything),
    A(4, "max-equal-prefix", ALT_STRINGS + "result = len(max(l))", anything),
    A(
        4,
        "dag-equality",
        "a = [1]\nb = [1]\nfor i in range(40):\n    a = [a, a]\n    b = [b, b]\nresult = a == b",
        anything,
    ),
    A(
        4,
        "dag-tuple-hash",
        "t = (1,)\nfor i in range(40):\n    t = (t, t)\nd = {t: 1}\nresult = len(d)",
        anything,
    ),
    A(
        4,
        "hash-collision-dict",
        "keys = [i * (2**61 - 1) for i in range(100_000)]\nd = dict(zip(keys, keys))\nresult = len(d)",
        anything,
    ),
    # 5. host-side rendering of shared substructure (level full) ------------------------
    A(5, "dag-result", DAG + "result = a", anything),
    A(5, "dag-log-assign", DAG + "b = a\nresult = 1", anything),
    A(5, "dag-log-expr", DAG + "a\nresult = 1", anything),
    A(5, "dag-print", DAG + "print(a)\nresult = 1", anything),
    A(5, "dag-print-fstring", DAG + "print(f'{a}')\nresult = 1", anything),
    A(5, "dag-book-arg", DAG + "r = echo.say(a)\nresult = 1", anything),
    A(5, "dag-book-kv-put", DAG + "kv.put('k', {'v': a})\nresult = 1", anything),
    A(5, "dag-error-message", DAG + "raise ValueError(a)"),
    A(5, "dag-artifact", DAG + "artifact('dag.txt', str(a))\nresult = 1", anything),
    A(5, "dag-json-dumps", DAG + "j = json.dumps(a)\nresult = len(j)", anything),
    A(5, "dag-exception-logged", DAG + "e = ValueError(a)\nresult = 1", anything),
    A(
        5,
        "dag-dict-result",
        "d = {'v': 1}\nfor i in range(40):\n    d = {'l': d, 'r': d}\nresult = d",
        anything,
    ),
    A(
        5,
        "dag-tuple-log",
        "t = (1,)\nfor i in range(40):\n    t = (t, t)\nx = t\nresult = 1",
        anything,
    ),
    A(5, "dag-int-key-result", DAG + "result = {1: a, 2: [a]}", anything),
    # 6. effects no limit covered -------------------------------------------------------
    A(6, "artifacts-2000", "for i in range(2000):\n    artifact(f'a{i}.txt', 'x')\nresult = 1"),
    A(
        6,
        "artifacts-over-1GiB",
        "s = 'x' * 60_000_000\nfor i in range(20):\n    artifact(f'big{i}.bin', s)\nresult = 1",
    ),
    A(
        6,
        "log-values-40x20MB",
        "for i in range(40):\n    v = 'x' * 20_000_000 + str(i)\nresult = 1",
        small_store,
        level="full",
    ),
    A(6, "result-57MiB", "result = 'x' * (57 * 1024 * 1024)", small_store),
    A(6, "sleep-past-wall", "sleep(60)\nresult = 1", limits={"max_wall_s": 3.0}),
    A(
        6,
        "sleep-loop-past-wall",
        "for i in range(100):\n    sleep(0.5)\nresult = 1",
        limits={"max_wall_s": 3.0},
    ),
    A(6, "artifact-name-300", "artifact('n' * 300, 'x')\nresult = 1"),
    A(6, "error-message-50MB", "raise ValueError('x' * 50_000_000)"),
    A(6, "print-50MB", "print('x' * 50_000_000)\nresult = 1"),
    A(6, "book-arg-60MB", "r = echo.say('y' * 60_000_000)\nresult = len(r)", small_store),
    A(
        6,
        "book-results-journal",
        "kv.put('k', 'z' * 30_000_000)\nfor i in range(12):\n    v = kv.get('k')\nresult = len(v)",
        small_store,
    ),
    # 7. host text in program-visible output ---------------------------------------------
    A(7, "split-bad-keyword", probe("'a'.split(s='x')"), anything),
    A(7, "append-keyword", probe("[].append(item=1)"), anything),
    A(7, "sorted-cmp", probe("sorted([], cmp=None)"), anything),
    A(7, "kv-get-self", probe("kv.get(self=1)"), anything),
    A(7, "kv-get-extra-kw", probe("kv.get('a', bogus=1)"), anything),
    A(7, "echo-too-many", probe("echo.say(1, 2, 3)"), anything),
    A(7, "echo-no-such-kw", probe("echo.say(valu=1)"), anything),
    A(7, "bytes-percent-r-len", probe("b'%r' % (len,)"), anything),
    A(7, "percent-dict-func-key", probe("'%(a)s' % {len: 1}"), anything),
    A(7, "index-of-len", probe("[].index(len)"), anything),
    A(7, "len-of-book", probe("len(kv)"), anything),
    A(7, "book-plus-int", probe("kv + 1"), anything),
    A(7, "percent-d-list", probe("'%d' % ([1],)"), anything),
    A(7, "repr-book-method", probe("kv.get"), anything),
    A(7, "repr-namespaces", probe("[json, math, math.sqrt, json.dumps]"), anything),
    A(
        7,
        "repr-iterators",
        probe("[iter([]), map(abs, []), zip(), enumerate([]), iter({}), {}.keys()]"),
        anything,
    ),
    A(7, "sorted-functions", probe("sorted([len, abs])"), anything),
    A(7, "json-dumps-book", probe("json.dumps(kv)"), anything),
    A(7, "abs-of-namespace", probe("abs(json)"), anything),
    A(7, "artifact-bad-kw", probe("artifact(name='a', txt='x')"), anything),
    A(7, "now-with-arg", probe("now(1)"), anything),
    A(7, "echo-function-arg", probe("echo.say(len)"), anything),
    A(7, "pop-func-key", probe("{}.pop(sorted)"), anything),
]


# --------------------------------------------------------------------------------------
# Running one program (inside a child process; works with either jarvis)
# --------------------------------------------------------------------------------------


def host_text_pattern() -> str:
    """Host class names of both versions (from their sources), as one alternation."""
    import ast

    names: set[str] = set()
    roots = [ROOT / "jarvis"] + [
        Path(p) / "jarvis" for p in os.environ.get("CENSUS_BEFORE", "").split(":") if p
    ]
    for root in roots:
        for path in root.rglob("*.py"):
            with contextlib.suppress(SyntaxError, OSError, UnicodeDecodeError):
                for node in ast.walk(ast.parse(path.read_text())):
                    if isinstance(node, ast.ClassDef):
                        names.add(node.name)
    return "|".join(sorted((names - NOT_HOST) | set(HOST_WORDS), key=len, reverse=True))


def host_hits(text: str, source: str, words: str) -> list[str]:
    hits = sorted({m.group(0) for m in ALWAYS_HOST.finditer(text)})
    for m in re.finditer(
        r"(?<![A-Za-z0-9])("
        + "|".join(re.escape(w) for w in words.split("|"))
        + r")(?![A-Za-z0-9])",
        text,
    ):
        word = m.group(0)
        if not re.search(r"(?<![A-Za-z0-9_])" + re.escape(word) + r"(?![A-Za-z0-9_])", source):
            hits.append(word)
    return sorted(set(hits))


def _registry() -> Any:
    from typing import Any as _Any

    from jarvis.bdk import Book, BookContext
    from jarvis.books import BookRegistry

    store: dict[str, _Any] = {}
    echo = Book("echo")

    @echo.procedure(timeout_s=10)
    def say(ctx: BookContext[_Any], value: _Any = None) -> _Any:
        return value

    kv = Book("kv")

    @kv.procedure(timeout_s=10)
    def get(ctx: BookContext[_Any], key: str, default: _Any = None) -> _Any:
        return store.get(key, default)

    @kv.procedure(timeout_s=10)
    def put(ctx: BookContext[_Any], key: str, value: _Any = None) -> _Any:
        store[key] = value
        return None

    registry = BookRegistry()
    registry.register(echo)
    registry.register(kv)
    return registry


def _dir_bytes(path: Path) -> int:
    total = 0
    for p in path.rglob("*"):
        with contextlib.suppress(OSError):
            if p.is_file():
                total += p.stat().st_size
    return total


def execute(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one program with the jarvis on sys.path; summarise the outcome as plain data."""
    import jarvis
    from jarvis.artifacts import LocalArtifactStore
    from jarvis.contract import StartCommand
    from jarvis.execution import ListSink, RunConfig, run_execution
    from jarvis.spy import Limits

    work = Path(spec["workdir"])
    summary: dict[str, Any] = {"jarvis_file": jarvis.__file__}
    fields = {f.name for f in dataclasses.fields(Limits)}
    limits = Limits(**{k: v for k, v in spec["limits"].items() if k in fields})
    summary["limits_unset"] = sorted(k for k in spec["limits"] if k not in fields)
    registry = _registry()
    command = StartCommand.model_validate(
        {
            "execution_id": "census",
            "program": {"source": spec["source"], "filename": "attack.spy"},
            "inputs": {},
            "books": spec["books"],
            "options": {"log_level": spec["level"]},
        }
    )
    extra: dict[str, Any] = {}
    pool = None
    if spec["side"] == "after":
        from jarvis.sandbox import SandboxPool

        pool = SandboxPool(1)
        if not pool.wait_warm(60):
            summary["harness"] = "sandbox pool not warm after 60 s"
        extra["sandboxes"] = pool
    cfg = RunConfig(
        journal_root=work / "journals",
        worker_id="census",
        artifacts=LocalArtifactStore(work / "artifacts"),
        books=registry,
        procedures=registry.procedures(spec["books"]),
        limits=limits,
        **extra,
    )
    sink = ListSink()
    Path(spec["marker"]).write_text(repr(time.time()))
    t0 = time.monotonic()
    outcome = None
    try:
        outcome = run_execution(command, spec["source"], cfg, sink)
    except BaseException as exc:  # an escape is what we measure
        summary["escaped"] = f"{type(exc).__name__}: {str(exc)[:300]}"
    summary["duration_s"] = time.monotonic() - t0
    texts: list[str] = []
    if outcome is not None:
        ev = outcome.event
        raw = ev.model_dump_json()
        summary["event_bytes"] = len(raw)
        summary["event"] = ev.event
        if ev.error is not None:
            summary["error_type"] = ev.error.type
            summary["error_message"] = ev.error.message[:2000]
            texts += [ev.error.message, ev.error.traceback or ""]
        if ev.event == "completed":
            res = json.dumps(ev.result, ensure_ascii=False)
            texts.append(res)
            if len(res) <= 64 * 1024:
                summary["result"] = ev.result
            summary["result_json_bytes"] = len(res)
            summary["result_ref"] = getattr(ev, "result_ref", None)
        del raw
    for r in sink.records:
        if r.get("kind") == "print":
            v = r.get("value")
            texts.append(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
    text = "\n".join(texts)
    summary["traceback_leak"] = bool(TRACEBACK.search(text))
    summary["host_hits"] = (
        host_hits(text, spec["source"], spec["host_words"]) if spec["cls"] == 7 else []
    )
    summary["visible_text"] = text[:300]
    with contextlib.suppress(Exception):
        from jarvis.journal import Journal

        crashes = Journal.read(work / "journals", "census").crashes
        summary["crash_peak_rss"] = max([c.peak_rss or 0 for c in crashes], default=0)
        summary["crashes"] = [c.cause for c in crashes]
    if pool is not None:
        with contextlib.suppress(Exception):
            pool.close()
        summary["children_maxrss"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    summary["self_maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    summary["stored_bytes"] = _dir_bytes(work)
    return summary


def descendants(pid: int) -> list[int]:
    out: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{p}/task").iterdir():
                with contextlib.suppress(OSError):
                    kids = [int(c) for c in (task / "children").read_text().split()]
                    out += kids
                    todo += kids
    return out


def vm_hwm(pid: int) -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def _after_child(spec: dict[str, Any], out_path: str, sandbox_hwm: Any, host_hwm: Any) -> None:
    log = os.open(
        os.path.join(spec["workdir"], "child.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644
    )
    os.dup2(log, 1)
    os.dup2(log, 2)
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (AFTER_HOST_AS_CAP, hard))
    me = os.getpid()

    def watch() -> None:
        while True:
            host_hwm.value = max(host_hwm.value, vm_hwm(me))
            for d in descendants(me):
                sandbox_hwm.value = max(sandbox_hwm.value, vm_hwm(d))
            time.sleep(0.02)

    threading.Thread(target=watch, daemon=True).start()
    summary = execute(spec)
    Path(out_path).write_text(json.dumps(summary))


def _before_child(spec_path: str, out_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    import jarvis

    if not jarvis.__file__.startswith(spec["worktree"]):
        Path(out_path).write_text(json.dumps({"harness": f"wrong jarvis: {jarvis.__file__}"}))
        return
    summary = execute(spec)
    Path(out_path).write_text(json.dumps(summary))


# --------------------------------------------------------------------------------------
# The census (parent process)
# --------------------------------------------------------------------------------------


def _kill_tree(pid: int) -> None:
    tree = descendants(pid)
    for p in [pid, *tree]:
        with contextlib.suppress(OSError):
            os.kill(p, signal.SIGKILL)


def _wait_marker(
    marker: Path,
    proc_alive: Callable[[], bool],
    wall: float,
    warmup_s: float,
    on_tick: Callable[[], None] = lambda: None,
) -> tuple[str, float]:
    """Wait for the run to start, then for it to end or pass its deadline: "done" or "hang"."""
    launched = time.monotonic()
    while not marker.exists():
        if not proc_alive():
            return "done", 0.0
        if time.monotonic() - launched > warmup_s:
            return "hang", 0.0
        on_tick()
        time.sleep(0.02)
    started = time.monotonic()
    deadline = started + wall + DEADLINE_SLACK_S + KILL_GRACE_S
    while proc_alive():
        if time.monotonic() > deadline:
            return "hang", time.monotonic() - started
        on_tick()
        time.sleep(0.02)
    return "done", time.monotonic() - started


def _kill_sandbox_processes(pids: set[int]) -> None:
    """Kill what is left of the zygote and sandboxes a census child started (they live in
    a session of their own, so a killed child can leave them behind). Only processes that
    still run the zygote's command line: a recycled pid is left alone."""
    for p in pids:
        with contextlib.suppress(OSError):
            if b"jarvis.sandbox" in Path(f"/proc/{p}/cmdline").read_bytes():
                os.kill(p, signal.SIGKILL)


def run_after(spec: dict[str, Any]) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    out = Path(spec["workdir"]) / "out.json"
    marker = Path(spec["marker"])
    sandbox_hwm, host_hwm = ctx.Value("q", 0), ctx.Value("q", 0)
    proc = ctx.Process(
        target=_after_child, args=(spec, str(out), sandbox_hwm, host_hwm), daemon=False
    )
    proc.start()
    seen: set[int] = set()
    state, waited = _wait_marker(
        marker,
        proc.is_alive,
        spec["limits"]["max_wall_s"],
        90.0,
        on_tick=lambda: seen.update(descendants(proc.pid or 0)),
    )
    if state == "hang":
        _kill_tree(proc.pid or 0)
    proc.join(30)
    _kill_sandbox_processes(seen)
    s: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    s["sandbox_rss"] = max(
        sandbox_hwm.value, s.get("children_maxrss", 0), s.get("crash_peak_rss") or 0
    )
    s["host_rss"] = max(host_hwm.value, s.get("self_maxrss", 0))
    if state == "hang":
        s["kind"] = "hang"
        s["duration_s"] = waited
    elif not out.exists():
        code = proc.exitcode
        s["kind"] = (
            f"host-crash:{signal.Signals(-code).name}" if code and code < 0 else f"host-exit:{code}"
        )
        s["log_tail"] = _tail(Path(spec["workdir"]) / "child.log")
    else:
        s["kind"] = "done"
        if s.get("error_type") == "InternalError":  # the host's own log says why
            s["log_tail"] = _tail(Path(spec["workdir"]) / "child.log", 3000)
    return s


def run_before(spec: dict[str, Any]) -> dict[str, Any]:
    work = Path(spec["workdir"])
    spec_path, out = work / "spec.json", work / "out.json"
    spec_path.write_text(json.dumps(spec))
    env = dict(os.environ, PYTHONPATH=spec["worktree"], PYTHONDONTWRITEBYTECODE="1")

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (BEFORE_AS_CAP, BEFORE_AS_CAP))

    with open(work / "child.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--child", str(spec_path), str(out)],
            cwd=spec["worktree"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            preexec_fn=cap,
            start_new_session=True,
        )
    status: list[Any] = []

    def alive() -> bool:
        if status:
            return False
        pid, st, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid == 0:
            return True
        status.extend([st, ru])
        return False

    state, waited = _wait_marker(Path(spec["marker"]), alive, spec["limits"]["max_wall_s"], 60.0)
    if state == "hang":
        _kill_tree(proc.pid)
        _pid, st, ru = os.wait4(proc.pid, 0)
        status[:] = [st, ru]
    proc.returncode = 0  # reaped by wait4 above; keep Popen from waiting again
    st, ru = status
    s: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    s["process_rss"] = ru.ru_maxrss * 1024
    if state == "hang":
        s["kind"] = "hang"
        s["duration_s"] = waited
    elif os.WIFSIGNALED(st):
        s["kind"] = f"crash:{signal.Signals(os.WTERMSIG(st)).name}"
    elif not out.exists():
        s["kind"] = f"exit:{os.WEXITSTATUS(st)}"
        s["log_tail"] = _tail(work / "child.log")
    else:
        s["kind"] = "done"
    return s


def _tail(path: Path, n: int = 600) -> str:
    with contextlib.suppress(OSError):
        data = path.read_bytes()[-n:].decode("utf-8", "replace")
        return " | ".join(line for line in data.splitlines() if line.strip())[-n:]
    return ""


def verdict(attack: Attack, side: str, s: dict[str, Any]) -> tuple[bool, str]:
    """(contained, outcome text) for one run."""
    limits = {**CLASS_LIMITS[attack.cls], **attack.limits}
    wall = limits["max_wall_s"]
    rss_max = 4 * limits.get("max_memory_bytes", DEFAULT_MEMORY) + 256 * MiB
    kind = s.get("kind", "?")
    if s.get("harness"):
        return False, f"harness: {s['harness']}"
    if kind == "hang":
        return False, f"hang (killed after {s.get('duration_s', 0):.0f} s)"
    if kind != "done":
        return False, kind
    if s.get("escaped"):
        return False, f"escaped {s['escaped'].split(':')[0]}"
    ev, etype = s.get("event"), s.get("error_type")
    outcome = f"{ev}:{etype}" if etype else str(ev)
    if ev == "failed" and etype == "SandboxCrashed" and s.get("crashes"):
        outcome += f"({','.join(str(c) for c in s['crashes'])})"
    peaks = (
        [s.get("process_rss", 0)]
        if side == "before"
        else [s.get("sandbox_rss", 0), s.get("host_rss", 0)]
    )
    if max(peaks) > rss_max:
        return False, f"{outcome}, RSS {max(peaks) // MiB} MiB > {rss_max // MiB}"
    if s.get("duration_s", 0) > wall + DEADLINE_SLACK_S:
        return False, f"{outcome}, late ({s['duration_s']:.0f} s)"
    if s.get("traceback_leak"):
        return False, f"{outcome}, Python traceback visible"
    if s.get("event_bytes", 0) > EVENT_MAX:
        return False, f"{outcome}, event {s['event_bytes'] // MiB} MiB"
    if s.get("host_hits"):
        return False, f"{outcome}, host text {'/'.join(s['host_hits'][:4])}"
    if ev == "completed":
        if attack.completes(s):
            return True, outcome
        if attack.completes is small_store:
            return False, f"completed, stored {s['stored_bytes'] // MiB} MiB"
        return (
            False,
            "completed (limit dodged)" if attack.completes is never else "completed, wrong result",
        )
    if ev == "failed" and etype in SPY_TYPES:
        return True, outcome
    if ev == "failed" and side == "after" and etype in AFTER_ONLY_TYPES:
        return True, outcome
    if ev == "rejected" and etype in REJECTED_TYPES:
        return True, outcome
    return False, outcome


def spec_for(
    attack: Attack, side: str, work: Path, host_words: str, worktree: str
) -> dict[str, Any]:
    return {
        "cls": attack.cls,
        "id": attack.id,
        "source": attack.source,
        "side": side,
        "limits": {**CLASS_LIMITS[attack.cls], **attack.limits},
        "level": attack.level or CLASS_LEVEL[attack.cls],
        "books": list(attack.books),
        "workdir": str(work),
        "marker": str(work / "started"),
        "host_words": host_words,
        "worktree": worktree,
    }


def make_worktree() -> str:
    path = tempfile.mkdtemp(prefix="census-before-")
    os.rmdir(path)
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", path, BEFORE_COMMIT],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return path


def remove_worktree(path: str) -> None:
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "remove", "--force", path],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    shutil.rmtree(path, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--side", choices=["both", "before", "after"], default="both")
    parser.add_argument(
        "--only", help="comma-separated class numbers or id substrings: run only those"
    )
    parser.add_argument("--json", help="also write every run's summary to this file")
    args = parser.parse_args()
    wanted = args.only.split(",") if args.only else []
    attacks = [
        a for a in ATTACKS if not wanted or any(w == str(a.cls) or w in a.id for w in wanted)
    ]
    sides = ["before", "after"] if args.side == "both" else [args.side]
    worktree = make_worktree() if "before" in sides else ""
    os.environ["CENSUS_BEFORE"] = worktree
    host_words = host_text_pattern()
    scratch = Path(tempfile.mkdtemp(prefix="census-runs-"))
    rows: list[tuple[Attack, dict[str, tuple[bool, str]]]] = []
    dump: list[dict[str, Any]] = []
    began = time.monotonic()
    print(
        f"attack census: {len(attacks)} programs, sides {'/'.join(sides)}, "
        f"after = {ROOT} ({_head()}), before = {BEFORE_COMMIT}",
        flush=True,
    )
    print(f"{'cls':<3} {'id':<24} {'before':<44} {'after':<44} B A", flush=True)
    try:
        for attack in attacks:
            verdicts: dict[str, tuple[bool, str]] = {}
            for side in sides:
                work = scratch / f"{attack.cls}-{attack.id}-{side}"
                work.mkdir()
                spec = spec_for(attack, side, work, host_words, worktree)
                s = run_before(spec) if side == "before" else run_after(spec)
                verdicts[side] = verdict(attack, side, s)
                dump.append(
                    {
                        "cls": attack.cls,
                        "id": attack.id,
                        "side": side,
                        "verdict": verdicts[side],
                        **{
                            k: v for k, v in s.items() if k != "result" or len(json.dumps(v)) < 2000
                        },
                    }
                )
                shutil.rmtree(work, ignore_errors=True)
            rows.append((attack, verdicts))
            b, a = verdicts.get("before", (None, "-")), verdicts.get("after", (None, "-"))
            mark = {True: "+", False: "x", None: "-"}
            print(
                f"{attack.cls:<3} {attack.id:<24} {b[1][:44]:<44} {a[1][:44]:<44} {mark[b[0]]} {mark[a[0]]}",
                flush=True,
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if worktree:
            remove_worktree(worktree)
        if args.json:
            Path(args.json).write_text(json.dumps(dump, indent=1, default=str))
    print()
    print(f"{'class':<38} {'before':>8} {'after':>8}")
    totals = {side: 0 for side in sides}
    for cls, name in CLASS_NAMES.items():
        mine = [v for a, v in rows if a.cls == cls]
        if not mine:
            continue
        cells = []
        for side in ("before", "after"):
            if side in sides:
                n = sum(v[side][0] for v in mine)
                totals[side] += n
                cells.append(f"{n:>3}/{len(mine):<4}")
            else:
                cells.append(f"{'-':>8}")
        print(f"{cls} {name:<36} {cells[0]:>8} {cells[1]:>8}")
    for side in sides:
        print(f"{side}: contained {totals[side]} of {len(rows)}")
    not_after = [(a, v["after"][1]) for a, v in rows if "after" in v and not v["after"][0]]
    if not_after:
        print("\nnot contained after:")
        for a, why in not_after:
            print(f"  {a.cls} {a.id}: {why}")
    print(f"\n({time.monotonic() - began:.0f} s)")


def _head() -> str:
    r = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--", "jarvis"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return r.stdout.strip() + (" + uncommitted changes under jarvis/" if dirty else "")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _before_child(sys.argv[2], sys.argv[3])
    else:
        main()
