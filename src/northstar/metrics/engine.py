"""Evaluate metric specs into tidy series: ``period``, breakdown keys, ``value``.

Base metrics (built-in, simple, rolling) compile to one Ibis expression each and run in
the store. Ratios and derived metrics combine their parts' (small) results. Metrics whose
week/month value is the mean daily value are computed by day and rolled up; those whose
value is the one at the end of the period are asked for each period's last day only
(``Context.sample_days``; without an empty value, they are rolled up too). Every period
of the window appears, with the metric's empty value when it had no data.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

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
from northstar.store.connection import Store


def file_identity(path: Path) -> tuple[int, int]:
    """The file's inode and change time ((0, 0) when it has none): a database made anew at
    the same path (even on a reused inode) is another file."""
    try:
        stat = os.stat(path)
    except OSError:
        return (0, 0)
    return (stat.st_ino, stat.st_ctime_ns)


@dataclass
class Engine:
    store: Store
    settings: Settings
    registry: Registry
    explain: bool = False  # keep the SQL of every expression run (compiling costs time)
    sql_log: list[tuple[str, str]] = field(default_factory=list)  # (metric, SQL)
    sql_cache: SqlCache | None = None  # compiled queries to reuse (see sql_cache.py)
    data_version: int = 0  # the store's data version, for the compiled-query cache

    @property
    def backend(self) -> IbisDuckDB:
        """The Ibis backend, made on first use (a query answered from the compiled-query
        cache runs its SQL on the store's connection and never needs one)."""
        return self.store.ibis

    def context(
        self,
        window: Window,
        by: tuple[str, ...],
        where: str | None,
        sample_days: tuple[date, ...] | None = None,
    ) -> Context:
        scope = None
        if self.sql_cache is not None:  # the database file (a new one at the same path is
            # another file) at its data version
            scope = (str(self.store.path), *file_identity(self.store.path), self.data_version)
        return Context(
            self.backend, self.settings, window, by, where, sample_days=sample_days,
            probe_scope=scope,
        )  # fmt: skip

    @staticmethod
    def base_window(spec: MetricSpec, window: Window) -> tuple[Window, tuple[date, ...] | None]:
        """The window a base metric is computed over, and the only days kept from it.

        By day when its value for a longer period comes from daily values (``rollup`` end
        or mean); for an end-of-period value, only each period's last day is asked for
        (``Context.sample_days``): a stock is then looked up on those days alone."""
        if spec.rollup is Rollup.flow or window.grain is Grain.day:
            return window, None
        if spec.rollup is Rollup.end and spec.empty is not None:
            return window.at_day_grain(), tuple(window.period_ends())
        return window.at_day_grain(), None

    # -- public -----------------------------------------------------------------
    def series(
        self, spec: MetricSpec, window: Window, by: tuple[str, ...], where: str | None
    ) -> pd.DataFrame:
        """The metric over every period of ``window``: columns period, *by, value."""
        df = self._series(spec, window, by, where, stack=())
        return df.rename(columns=dict(zip(key_columns(by), by, strict=True))) if by else df

    def expression(
        self, spec: MetricSpec, window: Window, by: tuple[str, ...], where: str | None
    ) -> ir.Table | None:
        """The Ibis expression of a base metric (None for ratio/derived)."""
        base, samples = self.base_window(spec, window)
        return self._compile(spec, self.context(base, by, where, samples))

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
        base, samples = self.base_window(spec, window)
        df = self._run(spec, base, by, where, samples)
        keys = key_columns(by)
        if samples is not None:
            return at_period_ends(df, window, keys, spec.empty)
        df = fill(df, base, keys, spec.empty)
        if base.grain is not window.grain:
            df = roll_up(df, window, keys, spec.rollup)
        return df

    def _run(
        self,
        spec: MetricSpec,
        window: Window,
        by: tuple[str, ...],
        where: str | None,
        samples: tuple[date, ...] | None,
    ) -> pd.DataFrame:
        """The base metric's rows, from the compiled-query cache when it holds."""
        key = None
        con = self.store.con
        if self.sql_cache is not None and not self.explain:
            key = self.sql_cache.key({
                "metric": spec.fingerprint(), "grain": window.grain.value,
                "start": window.start, "end": window.end, "today": window.today,
                "week_start": window.week_start, "by": by, "where": where, "samples": samples,
                "settings": self.settings.model_dump(mode="json"),
            })  # fmt: skip
            entry = self.sql_cache.get(key)
            if entry is not None and sql_cache.still_valid(con, entry, self.data_version):
                return sql_cache.run(con, entry)
        ctx = self.context(window, by, where, samples)
        expr = self._compile(spec, ctx)
        assert expr is not None
        if self.explain:
            self.sql_log.append((spec.id, str(self.backend.compile(expr))))
        if key is not None and self.sql_cache is not None:
            # compile once: the SQL that is stored is the SQL that runs now
            entry = sql_cache.compile_entry(self.backend, expr, ctx.probes, self.data_version)
            if entry is not None:
                self.sql_cache.put(key, entry)
                return sql_cache.run(con, entry)
        return sql_cache.to_frame(expr.to_pyarrow(), expr.schema())

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
    df = _dated(df)
    if not by:
        return _one_series(df, periods, periods, empty)
    return _grid(df[df["period"].isin(periods)] if len(df) else df, periods, by, empty)


def at_period_ends(
    df: pd.DataFrame, window: Window, by: Sequence[str], empty: float | None
) -> pd.DataFrame:
    """Each period's value at the end of its last day (clipped at the window's end), from
    a metric computed by day, for every key combination seen on any day of the window.

    With ``empty`` set this is what filling every day and keeping each period's last one
    gives (:func:`fill` then :func:`roll_up`), without the days in between."""
    ends, starts = window.period_ends(), window.periods()
    df = _dated(df)
    if not by:
        return _one_series(df, ends, starts, empty)
    if len(df):
        df = df[(df["period"] >= window.start) & (df["period"] <= window.end)]
    combos = df[list(by)].drop_duplicates()
    start_of = dict(zip(ends, starts, strict=True))
    if len(df):
        df = df[df["period"].isin(start_of)].assign(period=lambda d: d["period"].map(start_of))
    return _grid(df, starts, by, empty, combos)


def _dated(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with ``period`` as ``date`` objects."""
    if not len(df):
        return df
    first = df["period"].iloc[0]
    if df["period"].dtype == object and isinstance(first, date) and not isinstance(first, datetime):
        return df
    return df.assign(period=pd.to_datetime(df["period"]).dt.date)


def _one_series(
    df: pd.DataFrame, days: list[date], labels: list[date], empty: float | None
) -> pd.DataFrame:
    """A series without breakdown: its value on each of ``days``, as the period of the
    same place in ``labels``; missing values ``empty``. (Plain Python: on a few dozen
    rows each pandas operation costs more than the work.)"""
    found = dict(zip(df["period"].tolist(), df["value"].tolist(), strict=True)) if len(df) else {}
    values = _floats([found.get(day) for day in days])
    if empty is not None:
        values[np.isnan(values)] = empty
    return pd.DataFrame({"period": labels, "value": values})


def _grid(
    df: pd.DataFrame,
    periods: list[date],
    by: Sequence[str],
    empty: float | None,
    combos: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """``df`` (rows of ``periods`` only) on the grid of ``periods`` × key combinations
    (``combos``, or those in ``df``), missing values ``empty``, sorted."""
    keys = ["period", *by]
    if combos is None:
        combos = df[list(by)].drop_duplicates()
    grid = combos.merge(pd.DataFrame({"period": periods}), how="cross")
    out = (
        grid.merge(df[[*keys, "value"]], on=keys, how="left")
        if len(df)
        else grid.assign(value=np.nan)
    )
    out = out[[*keys, "value"]].sort_values(keys, ignore_index=True)
    out["value"] = _floats(out["value"])
    if empty is not None:
        out["value"] = out["value"].fillna(empty)
    return out


def _floats(values: Sequence[object] | pd.Series) -> np.ndarray:
    """Metric values as float64: numbers as they are, decimals rounded to the nearest,
    anything that is not a number NaN."""
    if isinstance(values, pd.Series) and values.dtype == np.float64:
        return values.to_numpy()
    try:
        return np.array(values, dtype=np.float64)  # None becomes NaN
    except (TypeError, ValueError):
        series = pd.Series(list(values), dtype=object)
        return pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)


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
