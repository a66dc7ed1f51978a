"""Program source text: line table, column conversion, source segments.

``ast`` positions count columns in UTF-8 *bytes*; SPy reports columns in *characters*
(as CPython's own ``SyntaxError.offset`` does), so an editor or a caret under the source
line lands on the right character even when the line holds non-ASCII text.
"""

from __future__ import annotations

import ast


class SourceText:
    """A program's source split into lines the way the tokenizer splits them."""

    __slots__ = ("lines", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        # The tokenizer ends lines at \r\n, \r and \n only (not at \f or \v as
        # str.splitlines does), so line numbers here match ast's.
        self.lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")

    def line(self, lineno: int) -> str:
        """Line ``lineno`` (1-based) without its newline; ``""`` when out of range."""
        if 1 <= lineno <= len(self.lines):
            return self.lines[lineno - 1]
        return ""

    def char_col(self, lineno: int, byte_col: int) -> int:
        """Convert an ``ast`` byte column on line ``lineno`` to a character column."""
        line = self.line(lineno)
        if line.isascii() or byte_col <= 0:
            return max(byte_col, 0)
        return len(line.encode("utf-8", "surrogatepass")[:byte_col].decode("utf-8", "ignore"))

    def segment(self, node: ast.AST) -> str:
        """Exact source text of ``node`` (like ``ast.get_source_segment``, but O(node size)).

        ``ast.get_source_segment`` re-splits the whole source on every call, which is
        quadratic over a program with one site per statement.
        """
        lineno: int | None = getattr(node, "lineno", None)
        end_lineno: int | None = getattr(node, "end_lineno", None)
        col: int | None = getattr(node, "col_offset", None)
        end_col: int | None = getattr(node, "end_col_offset", None)
        if lineno is None or end_lineno is None or col is None or end_col is None:
            return ""
        first = self.line(lineno).encode("utf-8", "surrogatepass")
        if lineno == end_lineno:
            return first[col:end_col].decode("utf-8", "surrogatepass")
        parts = [first[col:].decode("utf-8", "surrogatepass")]
        parts.extend(self.line(n) for n in range(lineno + 1, end_lineno))
        last = self.line(end_lineno).encode("utf-8", "surrogatepass")
        parts.append(last[:end_col].decode("utf-8", "surrogatepass"))
        return "\n".join(parts)
