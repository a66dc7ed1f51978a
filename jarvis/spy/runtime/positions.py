"""The one code-position lookup: which program text an instruction of a code object runs.

Tracebacks (``run.spy_frames``), the meter's limit errors (``Meter.frames``) and the
sites of Book calls made through an alias (``books.dynamic_site``) all ask it.
``co_positions`` yields one entry per 2-byte code unit (CPython 3.11 to 3.13, where
``f_lasti``/``tb_lasti`` are byte offsets), the lookup ``traceback`` itself makes.
"""

from __future__ import annotations

from itertools import islice
from types import CodeType

from jarvis.errors import SpyFrame
from jarvis.spy.source import SourceText

Position = tuple[int | None, int | None, int | None, int | None]
"""``(line, end_line, col, end_col)`` as ``co_positions`` gives it: columns in UTF-8 bytes."""

_UNKNOWN: Position = (None, None, None, None)


def code_position(code: CodeType, lasti: int) -> Position:
    """The position of the instruction at byte offset ``lasti`` of ``code``."""
    if lasti < 0:
        return _UNKNOWN
    return next(islice(code.co_positions(), lasti // 2, None), _UNKNOWN)


def spy_frame(code: CodeType, lasti: int, line: int, text: SourceText) -> SpyFrame:
    """The SPy traceback entry of ``code`` running the instruction at ``lasti``.

    ``line`` is the frame's (or traceback entry's) own line, used when the instruction
    has no position; the column is then 0.
    """
    pos_line, _, col, _ = code_position(code, lasti)
    if pos_line is not None:
        line = pos_line
    char_col = 0 if col is None else text.char_col(line, col)
    return SpyFrame(code.co_name, line, char_col, text.line(line))
