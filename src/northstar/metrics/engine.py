"""Evaluate metric specs into tidy series: ``period``, breakdown keys, ``value``.

Base metrics (built-in, simple, rolling) compile to one Ibis expression each and run in
the store. Ratios and derived metrics combine their parts' (small) results. Metrics whose
week/month value is the end-of-period or mean daily value are computed by day and rolled
up. Every period of the window appears, with the metric's empty value when it had no data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import ibis.expr.types as ir
import numpy as np
import pandas as pd
from ibis.backends.duckdb import Backend as IbisDuckDB

from northstar.errors import MetricDefinitionError
from northstar.metrics import derived, kinds, sql_cache
from northstar.metrics.context import Context, key_columns
from northstar.metrics.periods import Grain, Window, period_start, shift_periods
from northstar.metrics.registry import Registry
from northstar.metrics.spec import (
    BuiltinDefinition,
    DerivedDefinition,
    MetricSpec,
    RatioDefinition,
    RollingDefinition,
    Rollup,
    SimpleDefinition,
)
from northstar.metrics.sql_cache import SqlCache
from northstar.settings import Settings


@dataclass
class Engine:
    backend: IbisDuckDB
    settings: Settings
    registry: Registry
    explain: bool = False  # keep the SQL of every expression run (compiling costs time)
    sql_log: list[tuple[str, str]] = field(default_factory=list)  # (metric, SQL)
    sql_cache: SqlCache | None = None  # compiled queries to reuse (see sql_cache.py)
    data_version: int = 0  # the store's data version, for the compiled-query cache

    def context(self, window: Window, by: tuple[str, ...], where: str | None) -> Context:
        return Context(self.backend, self.settings, window, by, where)

    # -- public -----------------------------------------------------------------
    def series(
        self, spec: MetricSpec, window: Window, by: tuple[str, ...], where: str | None
    ) -> pd.DataFrame:
        """The metric over every period of ``window``: columns period, *by, value."""
        df = self._series(spec, window, by, where, stack=())
        return df.rename(columns=dict(zip(key_columns(by), by, strict=True)))

    def expression(
        self, spec: MetricSpec, window: Window, by: tuple[str, ...], where: str | None
    ) -> ir.Table | None:
        """The Ibis expression of a base metric (None for ratio/derived)."""
        daily = spec.rollup is not Rollup.flow and window.grain is not Grain.day
        ctx = self.context(window.at_day_grain() if daily else window, by, where)
        return self._compile(spec, ctx)

    # -- evaluation -------------------------------------------------------------
    def _series(
        self,
        spec: MetricSpec,
        window: Window,
        by: tuple[str, ...],
        where: str | None,
        stack: tuple[str, ...],
    ) -> pd.DataFrame:
        if spec.id in stack:
            chain = " -> ".join((*stack, spec.id))
            raise MetricDefinitionError(f"metric {spec.id!r} refers to itself ({chain})")
        stack = (*stack, spec.id)
        d = spec.definition
        if isinstance(d, RatioDefinition):
            return self._ratio(d, window, by, where, stack)
        if isinstance(d, DerivedDefinition):
            return self._derived(d, window, by, where, stack)
        daily = spec.rollup is not Rollup.flow and window.grain is not Grain.day
        base_window = window.at_day_grain() if daily else window
        ctx = self.context(base_window, by, where)
        df = self._run(spec, ctx)
        df = fill(df, base_window, ctx.keys, spec.empty)
        if daily:
            df = roll_up(df, window, ctx.keys, spec.rollup)
        return df

    def _run(self, spec: MetricSpec, ctx: Context) -> pd.DataFrame:
        """The base metric's rows, from the compiled-query cache when it holds."""
        key = None
        con = self.backend.con
        if self.sql_cache is not None and not self.explain:
            w = ctx.window
            key = self.sql_cache.key({
                "metric": spec.fingerprint(), "grain": w.grain.value, "start": w.start,
                "end": w.end, "today": w.today, "week_start": w.week_start, "by": ctx.by,
                "where": ctx.where, "settings": self.settings.model_dump(mode="json"),
            })  # fmt: skip
            entry = self.sql_cache.get(key)
            if entry is not None and sql_cache.still_valid(con, entry, self.data_version):
                return sql_cache.run(con, entry)
        expr = self._compile(spec, ctx)
        assert expr is not None
        if self.explain:
            self.sql_log.append((spec.id, str(self.backend.compile(expr))))
        df = expr.to_pandas()
        if key is not None and self.sql_cache is not None:
            entry = sql_cache.compile_entry(self.backend, expr, ctx.probes, self.data_version)
            if entry is not None:
                self.sql_cache.put(key, entry)
        return df

    def _compile(self, spec: MetricSpec, ctx: Context) -> ir.Table | None:
        d = spec.definition
        if isinstance(d, BuiltinDefinition):
            return d.fn(ctx)
        if isinstance(d, SimpleDefinition):
            return kinds.simple(ctx, d)
        if isinstance(d, RollingDefinition):
            return kinds.rolling(ctx, d)
        return None

    def _ratio(
        self,
        d: RatioDefinition,
        window: Window,
        by: tuple[str, ...],
        where: str | None,
        stack: tuple[str, ...],
    ) -> pd.DataFrame:
        num = self._series(self.registry.get(d.numerator), window, by, where, stack)
        den = self._series(self.registry.get(d.denominator), window, by, where, stack)
        keys = ["period", *key_columns(by)]
        both = num.merge(den, on=keys, how="outer", suffixes=("_n", "_d"))
        denominator = both["value_d"].where(both["value_d"] != 0)
        both["value"] = both["value_n"] / denominator
        return both[[*keys, "value"]].sort_values(keys, ignore_index=True)

    def _derived(
        self,
        d: DerivedDefinition,
        window: Window,
        by: tuple[str, ...],
        where: str | None,
        stack: tuple[str, ...],
    ) -> pd.DataFrame:
        expression = d.text(self.settings)
        refs = derived.refs(expression)
        reach = max((-r.offset for r in refs), default=0)
        wide = window.extended_back(reach)
        keys = key_columns(by)
        index_cols = ["period", *keys]
        parts: dict[str, pd.Series] = {}
        for metric in dict.fromkeys(r.metric for r in refs):
            df = self._series(self.registry.get(metric), wide, by, where, stack)
            parts[metric] = df.set_index(index_cols)["value"].astype("float64")
        seen = pd.concat([s.index.to_frame(index=False) for s in parts.values()])
        grid = fill(seen.drop_duplicates().assign(value=np.nan), window, keys, None)
        target = (
            pd.MultiIndex.from_frame(grid[index_cols])
            if by
            else pd.Index(grid["period"], name="period")
        )

        def lookup(ref: derived.Ref) -> pd.Series:
            series = parts[ref.metric]
            if ref.offset:
                frame = series.reset_index()
                frame["period"] = [
                    shift_periods(p, window.grain, -ref.offset) for p in frame["period"]
                ]
                series = frame.set_index(index_cols)["value"]
            return series.reindex(target)

        values = derived.evaluate(expression, lookup)
        out = grid[index_cols].copy()
        out["value"] = values.to_numpy()
        return out


def fill(df: pd.DataFrame, window: Window, by: Sequence[str], empty: float | None) -> pd.DataFrame:
    """Every period of the window for every key combination seen, sorted."""
    periods = window.periods()
    df = df.copy()
    if len(df):
        df["period"] = pd.to_datetime(df["period"]).dt.date
    df = df[df["period"].isin(periods)] if len(df) else df
    keys = ["period", *by]
    if by:
        combos = df[list(by)].drop_duplicates()
        grid = combos.merge(pd.DataFrame({"period": periods}), how="cross")
        out = (
            grid.merge(df[[*keys, "value"]], on=keys, how="left")
            if len(df)
            else grid.assign(value=np.nan)
        )
    else:  # one series: a lookup is much cheaper than a merge
        found = dict(zip(df["period"], df["value"], strict=True)) if len(df) else {}
        out = pd.DataFrame({"period": periods, "value": [found.get(p) for p in periods]})
    out["value"] = pd.to_numeric(out["value"].astype("object"), errors="coerce").astype("float64")
    if empty is not None:
        out["value"] = out["value"].fillna(empty)
    return out[[*keys, "value"]].sort_values(keys, ignore_index=True)


def roll_up(daily: pd.DataFrame, window: Window, by: Sequence[str], rollup: Rollup) -> pd.DataFrame:
    """Daily values to the window's grain: the last day's value or the mean."""
    df = daily.copy()
    df["day"] = df["period"]
    df["period"] = [period_start(d, window.grain, window.week_start) for d in df["day"]]
    keys = ["period", *by]
    df = df.sort_values([*keys, "day"])
    grouped = df.groupby(keys, sort=True, dropna=False)["value"]
    values = grouped.last() if rollup is Rollup.end else grouped.mean()
    return values.reset_index()


def period_label(value: date) -> str:
    return value.isoformat()
