"""A metric kind that plugins add to ``metrics/*.yaml`` (see :mod:`northstar.hooks`).

A kind turns the YAML entry's fields into a metric definition: a function of the query
context that returns a table of (period, segment..., value) like the built-in metrics.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from northstar import hooks


@dataclass(frozen=True)
class MetricKind:
    """``build(fields)`` → the definition (raising ``MetricDefinitionError`` on bad
    fields); ``required``: the YAML fields it needs; ``settle_days(fields)``: how many
    days a period keeps changing after it ends; ``formula(fields)``: the formula shown
    beside the metric; ``rate``: its values are rates (the default unit)."""

    name: str
    build: Callable[[Mapping[str, Any]], Any]
    required: tuple[str, ...] = ()
    settle_days: Callable[[Mapping[str, Any]], int] = field(default=lambda fields: 0)
    settle_periods: Callable[[Mapping[str, Any]], int] = field(default=lambda fields: 0)
    formula: Callable[[Mapping[str, Any]], str] = field(default=lambda fields: "")
    rate: bool = True
    tables: tuple[str, ...] = ("events",)


@functools.cache
def plugin_kinds() -> dict[str, MetricKind]:
    """Every metric kind the plugins register, by name."""
    return {kind.name: kind for kind in hooks.gathered("northstar_metric_kinds")}
