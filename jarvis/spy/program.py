"""What the compiler makes and the runtime runs: a ``Program`` and its log-record sites.

Plain data, below both: the compiler builds a ``Program``, the runtime and the host read
it (a host gets a ``Site`` with every log record).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import CodeType

from jarvis.spy.source import SourceText

#: Kinds of log-record sites.
SITE_ASSIGN = "assign"
SITE_EXPR = "expr"
SITE_PRINT = "print"
SITE_BOOK = "book"
SITE_BRANCH = "branch"

#: Log levels and the record kinds each one instruments. Sites of other kinds are not
#: instrumented at all (no call, no record: zero cost).
LOG_LEVELS: dict[str, frozenset[str]] = {
    "full": frozenset({SITE_ASSIGN, SITE_EXPR, SITE_PRINT, SITE_BOOK, SITE_BRANCH}),
    "statements": frozenset({SITE_ASSIGN, SITE_EXPR, SITE_PRINT, SITE_BOOK}),
    "effects": frozenset({SITE_PRINT, SITE_BOOK}),
}


@dataclass(frozen=True, slots=True)
class Site:
    """A place in the program that produces log records.

    ``line`` is 1-based, ``col`` 0-based, both counting characters; ``source`` is the
    exact source text of the statement (or, for a ``print`` call nested inside an
    expression, of the call).
    """

    id: int
    kind: str
    line: int
    col: int
    end_line: int
    end_col: int
    source: str


@dataclass(frozen=True, eq=False)
class Program:
    """A checked, compiled SPy program. Compile once, run many times.

    ``log_level`` is the level it was instrumented for (its ``sites`` are only of the
    kinds that level records). ``code``, ``code_objects``, ``text``, ``constants`` and
    ``dynamic_sites`` are internals of the runtime.
    """

    source: str
    digest: str  #: sha256 hex of the source's UTF-8 bytes (the journal's program identity)
    filename: str
    sites: list[Site]
    log_level: str
    code: CodeType = field(repr=False)
    code_objects: frozenset[CodeType] = field(repr=False)
    text: SourceText = field(repr=False)
    constants: dict[str, object] = field(repr=False)
    dynamic_sites: dict[object, Site] = field(repr=False, default_factory=dict)
    #: Code -> byte ranges that build a value on the stack (``runtime.memory.builder_codes``).
    builders: Mapping[CodeType, tuple[tuple[int, int], ...] | None] = field(
        repr=False, default_factory=dict
    )

    def named(self, filename: str) -> Program:
        """This program under another file name (what its errors show). The compiled code
        does not depend on the name (``compiler.pipeline.CODE_FILENAME``): a sandbox's
        cache of compiled programs serves every start of the same source."""
        return self if filename == self.filename else replace(self, filename=filename)
