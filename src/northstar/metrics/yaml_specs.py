"""Custom metrics declared in ``metrics/*.yaml``: validated with Pydantic into specs.

A file holds ``metrics:``, a list of metric entries. A mistake names the file, the metric
and what is wrong; a broken metric is left out and the others still load.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from northstar.errors import MetricDefinitionError
from northstar.metrics import derived, filters
from northstar.metrics.extensions import MetricKind, plugin_kinds
from northstar.metrics.spec import (
    Aggregation,
    BuiltinDefinition,
    Category,
    DerivedDefinition,
    Direction,
    MetricSpec,
    Perspective,
    RatioDefinition,
    RollingDefinition,
    Rollup,
    SimpleDefinition,
    Unit,
)
from northstar.store.schema import TABLES

ID_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
# The kinds this module builds; every other kind comes from a plugin (northstar.hooks),
# the analyses package's retention, funnel and feature_adoption among them.
BUILT_IN_KINDS = {
    "simple": ("table", "aggregation"),
    "rolling": ("table", "aggregation", "window_days"),
    "ratio": ("numerator", "denominator"),
    "derived": ("expression",),
}


class MetricEntry(BaseModel):
    """One metric as written in YAML (see docs/metrics.md for every field)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=ID_PATTERN)
    title: str | None = None
    description: str = Field(min_length=1)
    formula: str | None = None
    unit: Unit | None = None  # default: count; rate for the analysis kinds
    direction: Direction = Direction.higher
    category: Category = Category.custom
    perspective: Perspective = Perspective.customer
    kind: str  # simple, rolling, ratio, derived, or a plugin's kind (retention, funnel...)
    # simple / rolling
    table: str | None = None
    aggregation: Aggregation | None = None
    column: str | None = None
    percentile: float | None = Field(default=None, gt=0, lt=100)
    filters: list[str] = Field(default_factory=list)
    time_column: str | None = None
    window_days: int | None = Field(default=None, ge=1, le=3660)
    # ratio
    numerator: str | None = None
    denominator: str | None = None
    # derived
    expression: str | None = None
    rollup: Rollup | None = None
    # retention (docs/analyses.md): cohort of start_event in P, share doing return_event
    # in P + offset
    start_event: str | None = None
    return_event: str | None = None
    offset: int | None = Field(default=None, ge=1, le=366)
    cohort: Literal["first-time", "recurring"] | None = None
    # funnel: conversion rate by the period users entered
    steps: list[str] | None = None
    window: str | None = None
    mode: Literal["ordered", "strict", "unordered"] | None = None
    # feature_adoption: users of the feature / active users
    event: str | None = None
    where: str | None = None
    released: date | None = None
    # a plugin kind's own settings
    params: dict[str, Any] = Field(default_factory=dict)

    @property
    def plugin(self) -> MetricKind | None:
        """The plugin kind this metric uses (None: a built-in kind)."""
        return None if self.kind in BUILT_IN_KINDS else plugin_kinds()[self.kind]

    @model_validator(mode="after")
    def _fields_for_kind(self) -> MetricEntry:
        kinds = {**BUILT_IN_KINDS, **{k: v.required for k, v in plugin_kinds().items()}}
        if self.kind not in kinds:
            raise ValueError(f"unknown kind {self.kind!r}; kinds: {', '.join(kinds)}")
        needed = kinds[self.kind]
        missing = [f for f in needed if getattr(self, f, self.params.get(f)) is None]
        if missing:
            raise ValueError(f"a {self.kind} metric needs {', '.join(missing)}")
        if self.table is not None and self.table not in TABLES:
            raise ValueError(f"unknown table {self.table!r}; tables: {', '.join(TABLES)}")
        if self.aggregation is Aggregation.percentile and self.percentile is None:
            raise ValueError("aggregation percentile needs percentile: N (0-100)")
        if self.aggregation not in (None, Aggregation.count) and self.column is None:
            raise ValueError(f"aggregation {self.aggregation.value} needs a column")
        for text in self.filters:
            filters.names(text)  # raises on a filter that does not parse
        if self.expression is not None:
            derived.refs(self.expression)
        if self.plugin is not None:
            self._plugin_definition()  # parses its fields (events, steps, window...) now
        return self

    def _fields(self) -> dict[str, Any]:
        return {**self.params, **self.model_dump(exclude={"params"})}

    def _plugin_definition(self) -> Any:
        assert self.plugin is not None
        return self.plugin.build(self._fields())

    def to_spec(self, origin: str) -> MetricSpec:
        definition: Any
        rollup = self.rollup or Rollup.flow
        empty: float | None = 0.0
        if self.kind == "simple":
            assert self.table and self.aggregation
            definition = SimpleDefinition(
                self.table, self.aggregation, self.column, tuple(self.filters),
                self.time_column, self.percentile,
            )  # fmt: skip
            if self.aggregation not in (Aggregation.count, Aggregation.count_distinct):
                empty = 0.0 if self.aggregation is Aggregation.sum else None
        elif self.kind == "rolling":
            assert self.table and self.aggregation and self.window_days
            definition = RollingDefinition(
                self.table, self.aggregation, self.window_days, self.column,
                tuple(self.filters), self.time_column,
            )  # fmt: skip
            rollup = self.rollup or Rollup.end
        elif self.kind == "ratio":
            assert self.numerator and self.denominator
            definition = RatioDefinition(self.numerator, self.denominator)
            empty = None
        elif self.plugin is not None:
            definition = BuiltinDefinition(self._plugin_definition())
            empty = None
        else:
            assert self.expression
            definition = DerivedDefinition(self.expression)
            empty = None
        return MetricSpec(
            id=self.id,
            title=self.title or self.id.replace("_", " ").capitalize(),
            description=self.description,
            formula=self.formula or _formula(self),
            unit=self.unit or (Unit.rate if self.plugin and self.plugin.rate else Unit.count),
            direction=self.direction,
            category=self.category,
            perspective=self.perspective,
            definition=definition,
            sources=(self.table,) if self.table else (self.plugin.tables if self.plugin else ()),
            rollup=rollup,
            empty=empty,
            origin=origin,
            settle_periods=self.plugin.settle_periods(self._fields()) if self.plugin else 0,
            settle_days=self.plugin.settle_days(self._fields()) if self.plugin else 0,
        )


def _formula(entry: MetricEntry) -> str:
    if entry.plugin is not None:
        return entry.plugin.formula(entry._fields())
    if entry.kind == "ratio":
        return f"{entry.numerator} / {entry.denominator}"
    if entry.kind == "derived":
        return str(entry.expression)
    agg = entry.aggregation.value if entry.aggregation else "count"
    what = f"{agg}({entry.column or '*'}) of {entry.table}"
    if entry.filters:
        what += " where " + " and ".join(entry.filters)
    if entry.kind == "rolling":
        what += f", over the {entry.window_days} days ending on each day"
    return what


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    msg = re.sub(r"^Value error, ", "", first["msg"])
    return f"{where}: {msg}" if where else msg


def load_file(path: Path, taken: set[str]) -> tuple[list[MetricSpec], list[str]]:
    """Specs from one file, and one problem line per metric (or file) that is broken."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return [], [f"{path.name}: cannot read the file ({exc})"]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        return [], [f"{path.name}:{line} is not valid YAML ({getattr(exc, 'problem', exc)})"]
    if doc is None:
        return [], []
    if not isinstance(doc, dict) or not isinstance(doc.get("metrics"), list):
        return [], [f"{path.name}: expected a top-level 'metrics:' list of metric entries"]
    specs: list[MetricSpec] = []
    problems: list[str] = []
    for n, raw in enumerate(doc["metrics"], start=1):
        label = raw.get("id") if isinstance(raw, dict) else None
        name = f"metric {label!r}" if label else f"metric #{n}"
        if not isinstance(raw, dict):
            problems.append(f"{path.name}: {name}: expected a mapping of fields")
            continue
        try:
            entry = MetricEntry.model_validate(raw)
        except ValidationError as exc:
            problems.append(f"{path.name}: {name}: {_describe(exc)}")
            continue
        except MetricDefinitionError as exc:
            problems.append(f"{path.name}: {name}: {exc}")
            continue
        if entry.id in taken:
            problems.append(f"{path.name}: {name}: the id is already used by another metric")
            continue
        taken.add(entry.id)
        specs.append(entry.to_spec(origin=path.name))
    return specs, problems


def load_folder(folder: Path, taken: set[str]) -> tuple[list[MetricSpec], list[str]]:
    specs: list[MetricSpec] = []
    problems: list[str] = []
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        s, p = load_file(path, taken)
        specs.extend(s)
        problems.extend(p)
    ids = {s.id for s in specs} | taken
    for spec in list(specs):
        missing = [m for m in _references(spec) if m not in ids]
        if missing:
            specs.remove(spec)
            problems.append(
                f"{spec.origin}: metric {spec.id!r}: refers to unknown metric(s) "
                + ", ".join(missing)
            )
    return specs, problems


def _references(spec: MetricSpec) -> list[str]:
    d = spec.definition
    if isinstance(d, RatioDefinition):
        return [d.numerator, d.denominator]
    if isinstance(d, DerivedDefinition):
        return [r.metric for r in derived.refs(d.expression)]
    return []
