"""Names the compiler generates and the runtime binds.

All of them start with ``__spy_``. The checker rejects every name starting with ``__``,
so a program can never read, shadow or rebind one of them: that is what makes it safe
to keep them in the same globals/builtins dicts as the program's own names.
"""

from __future__ import annotations

PREFIX = "__spy_"

# Bound per run (they close over the host).
EMIT = "__spy_emit"  # host.emit(site, value)
CHECK = "__spy_check"  # host.check()
PRINT = "__spy_print"  # print(site, *args, sep=, end=) -> emits a "print" record

# Static helpers (same for every run).
ATTR = "__spy_attr"  # slow path of the attribute gate: returns or raises AttributeError
TYPE = "__spy_type"  # the real ``type``, only ever called by generated code
SIMPLE = "__spy_SIMPLE"  # frozenset of types whose str()/format() is already deterministic
STR = "__spy_str"  # deterministic str()
REPR = "__spy_repr"  # deterministic repr()
ASCII = "__spy_ascii"  # deterministic ascii()
SLICE = "__spy_slice"  # the real ``slice`` (for ``a[i:j] += x``)
STR_TYPE = "__spy_strtype"  # the real ``str`` type (SPy's ``str`` is a function)
PERCENT = "__spy_pct"  # deterministic ``str % args``
MOD = "__spy_mod"  # ``a % b`` when the inline form does not apply

# Temporaries. Each kind of generated code has its own name so that one can never
# clobber another's value while it is still needed (e.g. a gate inside the value of
# ``d[k] += x.count(1)`` must not overwrite the temporaries holding ``d`` and ``k``).
TMP_ASSIGN = "__spy_t"
TMP_AUG_OBJ = "__spy_ao"
TMP_AUG_KEY = "__spy_ak"
TMP_GATE = "__spy_g"
TMP_FORMAT = "__spy_v"
TMP_MOD = "__spy_m"


def site_name(site_id: int) -> str:
    """Global holding the Site object of ``site_id`` (a global load is the cheapest lookup)."""
    return f"__spy_s{site_id}"


def method_types_name(method: str) -> str:
    """Global holding the frozenset of exact types on which ``method`` may be called."""
    return f"__spy_T_{method}"
