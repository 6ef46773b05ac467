"""``--where`` filters: parsed into a syntax tree, then rebuilt as Ibis expressions.

The text is parsed with sqlglot and only a small whitelist of node types is accepted
(comparisons, IN, LIKE, IS NULL, AND/OR/NOT, literals, names); every name goes through
the dimension resolver and every literal becomes an Ibis literal. Nothing the user
typed is ever pasted into SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ibis
import ibis.expr.types as ir
import sqlglot
from sqlglot import expressions as sx

from northstar.errors import FilterError

Resolver = Callable[[str], ir.Value]

_COMPARISONS: dict[type[sx.Expression], Callable[[Any, Any], Any]] = {
    sx.EQ: lambda a, b: a == b,
    sx.NEQ: lambda a, b: a != b,
    sx.GT: lambda a, b: a > b,
    sx.GTE: lambda a, b: a >= b,
    sx.LT: lambda a, b: a < b,
    sx.LTE: lambda a, b: a <= b,
}

HELP = "e.g. --where \"plan = 'pro' and country in ('FR', 'DE')\""


def parse(text: str) -> sx.Expression:
    try:
        tree = sqlglot.parse_one(text, read="duckdb")
    except sqlglot.errors.ParseError:
        raise FilterError(f"cannot parse the filter {text!r}; {HELP}") from None
    if tree is None:
        raise FilterError(f"the filter {text!r} is empty; {HELP}")
    return tree


def column_name(node: sx.Expression) -> str:
    """The dimension name a column node stands for: ``plan``, ``user.plan``, ``$os``."""
    if isinstance(node, sx.Placeholder):
        return "$" + str(node.this)
    if isinstance(node, sx.Column):
        inner = node.this
        name = column_name(inner) if isinstance(inner, sx.Placeholder) else str(inner.this)
        table = node.args.get("table")
        return f"{table.this}.{name}" if table is not None else name
    if isinstance(node, sx.Identifier):
        return str(node.this)
    raise FilterError(f"expected a property or column name, got {node.sql()!r}")


def names(text: str) -> list[str]:
    """Every dimension name a filter refers to, in order of appearance."""
    tree = parse(text)
    found: list[str] = []
    for node in tree.walk():
        if isinstance(node, sx.Column) or (
            isinstance(node, sx.Placeholder) and not isinstance(node.parent, sx.Column)
        ):
            name = column_name(node)
            if name not in found:
                found.append(name)
    return found


def compile_filter(text: str, resolve: Resolver) -> ir.BooleanValue:
    """The filter as an Ibis boolean expression; names are resolved by ``resolve``."""
    return _Compiler(text, resolve).boolean(parse(text))


class _Compiler:
    def __init__(self, text: str, resolve: Resolver) -> None:
        self.text = text
        self.resolve = resolve

    def fail(self, node: sx.Expression, why: str) -> FilterError:
        return FilterError(f"filter {self.text!r}: {why} ({node.sql()!r}); {HELP}")

    def boolean(self, node: sx.Expression) -> ir.BooleanValue:
        if isinstance(node, sx.Paren):
            return self.boolean(node.this)
        if isinstance(node, sx.And):
            return self.boolean(node.this) & self.boolean(node.expression)
        if isinstance(node, sx.Or):
            return self.boolean(node.this) | self.boolean(node.expression)
        if isinstance(node, sx.Not):
            return ~self.boolean(node.this)
        op = _COMPARISONS.get(type(node))
        if op is not None:
            left, right = self.operands(node.this, node.expression)
            return op(left, right)
        if isinstance(node, sx.In):
            if node.args.get("query") is not None or not node.expressions:
                raise self.fail(node, "IN takes a list of values")
            column = self.value(node.this)
            values = [self.literal(v, column) for v in node.expressions]
            return column.isin(values)
        if isinstance(node, sx.Is):
            if not isinstance(node.expression, sx.Null):
                raise self.fail(node, "IS is only allowed with NULL")
            return self.value(node.this).isnull()
        if isinstance(node, sx.Like | sx.ILike):
            column = self.value(node.this)
            pattern = self.literal(node.expression, column)
            if not isinstance(pattern, str):
                raise self.fail(node, "LIKE needs a text pattern")
            text = column.cast("string")
            if isinstance(node, sx.ILike):
                return text.lower().like(pattern.lower())
            return text.like(pattern)
        raise self.fail(node, "only comparisons, IN, LIKE, IS NULL, AND, OR and NOT are allowed")

    def is_name(self, node: sx.Expression) -> bool:
        return isinstance(node, sx.Column | sx.Placeholder)

    def operands(self, left: sx.Expression, right: sx.Expression) -> tuple[Any, Any]:
        if self.is_name(left) and not self.is_name(right):
            col = self.numeric_if_needed(self.value(left), right)
            return col, self.literal(right, col)
        if self.is_name(right) and not self.is_name(left):
            col = self.numeric_if_needed(self.value(right), left)
            return self.literal(left, col), col
        raise self.fail(left.parent or left, "compare a property with a value")

    @staticmethod
    def numeric_if_needed(column: ir.Value, other: sx.Expression) -> ir.Value:
        """Properties are text; compared with a number they are read as numbers."""
        number = isinstance(other, sx.Literal) and not other.is_string
        number = number or isinstance(other, sx.Neg)
        if number and column.type().is_string():
            return column.try_cast("float64")
        return column

    def value(self, node: sx.Expression) -> ir.Value:
        if not self.is_name(node):
            raise self.fail(node, "expected a property or column name")
        return self.resolve(column_name(node))

    def literal(self, node: sx.Expression, column: ir.Value) -> Any:
        """A Python value of the literal, typed to compare with ``column``."""
        if isinstance(node, sx.Paren):
            return self.literal(node.this, column)
        if isinstance(node, sx.Neg):
            inner = self.literal(node.this, column)
            if isinstance(inner, int | float):
                return -inner
            raise self.fail(node, "only a number can be negated")
        if isinstance(node, sx.Boolean):
            return bool(node.this)
        if isinstance(node, sx.Literal):
            raw = str(node.this)
            dtype = column.type()
            if dtype.is_numeric():
                try:
                    return float(raw) if any(c in raw for c in ".eE") else int(raw)
                except ValueError:
                    raise self.fail(node, f"{raw!r} is not a number") from None
            if dtype.is_string():
                return raw
            if dtype.is_temporal():
                return ibis.literal(raw).cast(dtype)
            return raw
        raise self.fail(node, "expected a value (text in single quotes, a number, true/false)")
