"""f-strings: deterministic formatting of each part within the memory limit."""

from __future__ import annotations

import ast

from jarvis.spy import _names
from jarvis.spy.compiler.base import InstrumenterBase
from jarvis.spy.compiler.nodes import (
    _FSTRING_INLINE_PARTS,
    _At,
    _spec_is_small,
    _static_spec,
)


class FStrings(InstrumenterBase):
    """f-strings: deterministic formatting of each part within the memory limit."""

    def joined_str(self, node: ast.JoinedStr) -> ast.expr:
        parts = sum(isinstance(v, ast.FormattedValue) for v in node.values)
        node.values = [
            self.formatted_value(v, parts) if isinstance(v, ast.FormattedValue) else v
            for v in node.values
        ]
        return node

    def formatted_value(self, node: ast.FormattedValue, parts: int) -> ast.expr:
        # f-strings format with CPython's format(), which would print memory addresses
        # for functions and the like; route anything that is not a plain scalar through
        # SPy's deterministic str()/repr()/ascii(), and bound the size of the result.
        value = self.expr(node.value)
        at = _At(node.value)
        if node.conversion in (ord("r"), ord("a"), ord("s")):
            value = at.call(_names.FCONV, value, at.const(chr(node.conversion)), at.const(parts))
        elif self.no_walrus or parts > _FSTRING_INLINE_PARTS:
            value = at.call(_names.FPART, value, at.const(parts))
        elif parts == 1 and isinstance(value, ast.Name):
            value = at.ifexp(
                at.compare(at.call(_names.TYPE, value), ast.In(), at.load(_names.FSIMPLE)),
                at.load(value.id),
                at.call(_names.STR, at.load(value.id)),
            )
        elif parts == 1:
            v = self.temp(_names.TMP_FORMAT)
            value = at.ifexp(
                at.compare(
                    at.call(_names.TYPE, at.walrus(v, value)), ast.In(), at.load(_names.FSIMPLE)
                ),
                at.load(v),
                at.call(_names.STR, at.load(v)),
            )
        else:
            # Several parts: each may hold 1/64 of the memory limit (`f"{s}{s}"` doubles).
            if isinstance(value, ast.Name):
                v = value.id
                first: ast.expr = value
            else:
                v = self.temp(_names.TMP_FORMAT)
                first = at.walrus(v, value)
            is_small = at.compare(at.call(_names.TYPE, first), ast.In(), at.load(_names.SMALL))
            short_str = at.boolop(
                ast.And(),
                [
                    at.compare(
                        at.call(_names.TYPE, at.load(v)), ast.Is(), at.load(_names.STR_TYPE)
                    ),
                    at.compare(
                        at.call(_names.LEN, at.load(v)), ast.Lt(), at.load(_names.FPART_MAX)
                    ),
                ],
            )
            value = at.ifexp(
                at.boolop(ast.Or(), [is_small, short_str]),
                at.load(v),
                at.call(_names.FPART, at.load(v), at.const(parts)),
            )
        node.conversion = -1
        spec = node.format_spec
        if spec is not None:
            assert isinstance(spec, ast.JoinedStr)
            static = _static_spec(spec)
            if static is not None and _spec_is_small(static):
                node.value = value
                return node
            # A big or computed spec (`{x:>1000000000}`, `{x:>{w}}`): format() checks it.
            node.value = at.call(_names.FORMAT, value, self.joined_str(spec))
            node.format_spec = None
            return node
        node.value = value
        return node
