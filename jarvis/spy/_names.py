"""Names the compiler generates and the runtime binds.

All of them start with ``__spy_``. The checker rejects every name starting with ``__``,
so a program can never read, shadow or rebind one of them: that is what makes it safe
to keep them in the same globals/builtins dicts as the program's own names.
"""

from __future__ import annotations

import os

PREFIX = "__spy_"

#: SPy's own source directory (``jarvis/spy/``, with a trailing separator): code under it
#: runs for the program (a builtin, a guard), not for the host.
SPY_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep

# Bound per run (they close over the host, the meter or the limits).
EMIT = "__spy_emit"  # host.emit(site, value)
TICK = "__spy_tick"  # the meter's loop chain: `__spy_next(__spy_tick)` is one iteration
CALL = "__spy_call"  # the meter's call chain: `__spy_next(__spy_call)` is one call
NEXT = "__spy_next"  # the builtin next() (see runtime/meter.py)
PRINT = "__spy_print"  # print(site, *args, sep=, end=) -> emits a "print" record
ATTR = "__spy_attr"  # slow path of the attribute gate: returns or raises AttributeError
BOOK = "__spy_book"  # book.procedure read at a compile-time "book" site
CATCH = "__spy_catch"  # except __spy_catch(types): filters out host failures
STR = "__spy_str"  # deterministic str() within the memory limit
REPR = "__spy_repr"  # deterministic repr()
ASCII = "__spy_ascii"  # deterministic ascii()
FORMAT = "__spy_format"  # format(value, spec) with the spec's widths checked
FPART = "__spy_fpart"  # slow path of one f-string part (size share of the limit)
FCONV = "__spy_fconv"  # f-string !r / !s / !a conversion
FPART_MAX = "__spy_FK"  # largest str an f-string part may hold on the fast path
PERCENT = "__spy_pct"  # deterministic ``str % args``
MOD = "__spy_mod"  # ``a % b`` when the inline form does not apply
MUL = "__spy_mul"  # ``a * b`` slow path (repetition, big ints)
IMUL = "__spy_imul"  # ``a *= b`` slow path
ADD = "__spy_add"  # ``a + b`` slow path (concatenation)
IADD = "__spy_iadd"  # ``a += b`` slow path
POW = "__spy_pow"  # ``a ** b`` slow path
LSHIFT = "__spy_lshift"  # ``a << b`` slow path
STAR = "__spy_star"  # operand of ``*x`` / ``a, *b = x``: size-checked
FLOORDIV = "__spy_floordiv"  # ``a // b`` slow path (big ints: charged for the division)
BIGINT = "__spy_BIG"  # ints in (NBIG, BIG) divide cheaply: the inline test of ``//`` and ``%``
NEG_BIGINT = "__spy_NBIG"  # -BIG
IN = "__spy_in"  # ``x in seq`` for a long list/tuple (charged for its comparisons)
IN_SEQ = "__spy_INSEQ"  # the types whose ``in`` may go to IN: list, tuple
IN_LEN = "__spy_INLEN"  # shorter sequences are searched inline
NEST = "__spy_nest"  # first iterable of a generator expression: nesting depth checked
SLICED = "__spy_sliced"  # object of ``o[i:j] = v``: a list checks the size of v first
RAISE = "__spy_raise"  # ``raise X``: only Exception subclasses may be raised
FSIMPLE = "__spy_FSIMPLE"  # types an f-string formats without SPy's str (bytes excluded)
SET = "__spy_set"  # ``{a, b}``: SPy's insertion-ordered set

# Static helpers (same for every run).
TYPE = "__spy_type"  # the real ``type``, only ever called by generated code
SIMPLE = "__spy_SIMPLE"  # frozenset of types whose str()/format() is already deterministic
SMALL = "__spy_SMALL"  # types whose formatted text is always short
NUM = "__spy_NUM"  # int, float, bool: arithmetic on them never explodes memory
SLICE = "__spy_slice"  # the real ``slice`` (for ``a[i:j] += x``)
STR_TYPE = "__spy_strtype"  # the real ``str`` type (SPy's ``str`` is a function)
FLOAT = "__spy_float"  # the real ``float`` (a program may rebind the name ``float``)
INT = "__spy_int"  # the real ``int``
LEN = "__spy_len"  # the real ``len``
SENTINEL = "__spy_S"  # never equal to a program value: `a is not S is not b` evaluates both

# Temporaries. Each kind of generated code has its own name so that one can never
# clobber another's value while it is still needed (e.g. a gate inside the value of
# ``d[k] += x.count(1)`` must not overwrite the temporaries holding ``d`` and ``k``).
# Operator guards evaluate user code between storing and using a temporary, so each
# guard site gets its own numbered pair (``__spy_l7``/``__spy_r7``).
TMP_ASSIGN = "__spy_t"
TMP_AUG_OBJ = "__spy_ao"
TMP_AUG_KEY = "__spy_ak"
TMP_GATE = "__spy_g"
TMP_FORMAT = "__spy_v"
TMP_MOD = "__spy_m"
TMP_ITEM = "__spy_i"


def site_name(site_id: int) -> str:
    """Global holding the Site object of ``site_id`` (a global load is the cheapest lookup)."""
    return f"__spy_s{site_id}"


def branch_value_name(site_id: int, arm: int) -> str:
    """Global holding the (constant) value of one arm of a "branch" site."""
    return f"__spy_b{site_id}_{arm}"


def method_types_name(method: str) -> str:
    """Global holding the frozenset of exact types on which ``method`` may be called."""
    return f"__spy_T_{method}"


def type_name(n: int) -> str:
    return f"__spy_k{n}"


def left_name(n: int) -> str:
    return f"__spy_l{n}"


def right_name(n: int) -> str:
    return f"__spy_r{n}"
