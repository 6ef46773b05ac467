"""Derived metric expressions: arithmetic of metric ids, ``id[-1]`` for the previous period.

Parsed with Python's ``ast`` and accepted only if every node is on a short whitelist.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from northstar.errors import MetricDefinitionError


@dataclass(frozen=True)
class Ref:
    metric: str
    offset: int  # 0 = this period, -1 = previous period


def _offset(node: ast.expr) -> int:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, int)
    ):
        return -node.operand.value
    raise ValueError("an offset is a whole number of periods, e.g. mrr[-1]")


def parse(expression: str) -> ast.expr:
    try:
        tree = ast.parse(expression, mode="eval").body
    except SyntaxError:
        raise MetricDefinitionError(
            f"cannot parse the expression {expression!r}; write e.g. 'revenue / revenue[-1] - 1'"
        ) from None
    for node in ast.walk(tree):
        allowed = (
            ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Subscript, ast.Load,
            ast.Add, ast.Sub, ast.Mult, ast.Div, ast.USub, ast.UAdd,
        )  # fmt: skip
        if not isinstance(node, allowed):
            raise MetricDefinitionError(
                f"expression {expression!r}: only + - * /, numbers, metric ids and "
                "id[-N] offsets are allowed"
            )
        if isinstance(node, ast.Subscript):
            if not isinstance(node.value, ast.Name):
                raise MetricDefinitionError(f"expression {expression!r}: offset a metric id")
            try:
                offset = _offset(node.slice)
            except ValueError as exc:
                raise MetricDefinitionError(f"expression {expression!r}: {exc}") from None
            if offset > 0:
                raise MetricDefinitionError(
                    f"expression {expression!r}: offsets look back (use -1, -2, ...)"
                )
    return tree


def refs(expression: str) -> list[Ref]:
    """The metrics (with offsets) an expression reads, each once."""
    found: list[Ref] = []

    def visit(node: ast.expr) -> None:
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            found.append(Ref(node.value.id, _offset(node.slice)))
        elif isinstance(node, ast.Name):
            found.append(Ref(node.id, 0))
        elif isinstance(node, ast.BinOp):
            visit(node.left)
            visit(node.right)
        elif isinstance(node, ast.UnaryOp):
            visit(node.operand)

    visit(parse(expression))
    return list(dict.fromkeys(found))


def evaluate(expression: str, lookup: Callable[[Ref], pd.Series]) -> pd.Series:
    """Evaluate on aligned pandas Series; division by zero gives a missing value."""

    def ev(node: ast.expr) -> pd.Series | float:
        if isinstance(node, ast.Constant):
            assert isinstance(node.value, int | float)
            return float(node.value)
        if isinstance(node, ast.Name):
            return lookup(Ref(node.id, 0))
        if isinstance(node, ast.Subscript):
            assert isinstance(node.value, ast.Name)
            return lookup(Ref(node.value.id, _offset(node.slice)))
        if isinstance(node, ast.UnaryOp):
            inner = ev(node.operand)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Add):
                return a + b
            if isinstance(node.op, ast.Sub):
                return a - b
            if isinstance(node.op, ast.Mult):
                return a * b
            if isinstance(b, pd.Series):
                b = b.where(b != 0)
            elif b == 0:
                b = float("nan")
            return a / b
        raise AssertionError(node)

    result = ev(parse(expression))
    if not isinstance(result, pd.Series):
        raise MetricDefinitionError(f"expression {expression!r} uses no metric")
    return result
