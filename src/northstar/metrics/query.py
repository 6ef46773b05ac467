"""A metric query end to end: request → window → engine → tidy result, cached.

The result is a pandas DataFrame with one row per (metric, period, breakdown keys):
``metric``, ``period`` (date, the first day), the keys, ``value``, ``complete`` and, with a
comparison, ``previous``, ``change`` (value − previous) and ``change_pct``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from dateutil.relativedelta import relativedelta
from pyarrow import feather

from northstar._version import __version__
from northstar.errors import QueryArgumentError
from northstar.metrics.engine import Engine
from northstar.metrics.periods import (
    Grain,
    Window,
    parse_date,
    parse_grain,
    period_last_day,
    period_start,
    resolve_window,
    shift_periods,
)
from northstar.metrics.registry import Registry
from northstar.metrics.spec import MetricSpec
from northstar.metrics.sql_cache import SqlCache
from northstar.settings import Settings
from northstar.store.connection import Store
from northstar.store.freshness import AsOf

COMPARES = ("previous", "year")
CACHE_VERSION = 1


@dataclass(frozen=True)
class QueryRequest:
    metrics: tuple[str, ...]
    grain: Grain = Grain.day
    start: date | None = None
    end: date | None = None
    by: tuple[str, ...] = ()
    where: str | None = None
    compare: str | None = None

    @classmethod
    def make(
        cls,
        metrics: str | Sequence[str],
        *,
        grain: str | Grain = "day",
        start: str | date | None = None,
        end: str | date | None = None,
        by: str | Sequence[str] | None = None,
        where: str | None = None,
        compare: str | None = None,
    ) -> QueryRequest:
        ids = (metrics,) if isinstance(metrics, str) else tuple(metrics)
        if not ids:
            raise QueryArgumentError("name at least one metric, e.g. 'northstar query dau'")
        dims = (by,) if isinstance(by, str) else tuple(by or ())
        if len(set(dims)) != len(dims):
            raise QueryArgumentError("a breakdown dimension is repeated")
        if compare is not None and compare not in COMPARES:
            raise QueryArgumentError(
                f"unknown comparison {compare!r}; compare with previous or year"
            )
        return cls(
            metrics=ids,
            grain=parse_grain(grain),
            start=parse_date(start, "start date"),
            end=parse_date(end, "end date"),
            by=dims,
            where=where.strip() or None if where else None,
            compare=compare,
        )


@dataclass
class QueryResult:
    request: QueryRequest
    window: Window
    frame: pd.DataFrame
    sql: list[tuple[str, str]] = field(default_factory=list)
    cached: bool = False
    as_of: AsOf | None = None  # the workspace's as-of and freshness


def compare_period(period: date, window: Window, how: str) -> date:
    if how == "previous":
        return shift_periods(period, window.grain, -1)
    if window.grain is Grain.week:
        return shift_periods(period, Grain.week, -52)
    if window.grain is Grain.day:
        return period - relativedelta(days=364)
    return period_start(period - relativedelta(years=1), window.grain, window.week_start)


def compare_window(window: Window, how: str) -> Window:
    first = compare_period(window.start, window, how)
    return Window(window.grain, first, window.end, window.week_start, window.today)


def run_query(
    store: Store,
    settings: Settings,
    registry: Registry,
    request: QueryRequest,
    *,
    as_of: AsOf,
    explain: bool = False,
    sql_cache: SqlCache | None = None,
    data_version: int = 0,
) -> QueryResult:
    window = resolve_window(
        request.grain,
        request.start,
        request.end or as_of.end,
        week_start=settings.week_start.value,
        today=as_of.today,
    )
    specs = [registry.get(m) for m in request.metrics]
    engine = Engine(
        store, settings, registry, explain=explain, sql_cache=sql_cache,
        data_version=data_version,
    )  # fmt: skip
    frames = []
    coverage = as_of.coverage()
    wide = compare_window(window, request.compare) if request.compare else window
    for spec in specs:
        df = engine.series(spec, wide, request.by, request.where)
        df["value"] = df["value"].where(covered(df["period"], wide, coverage))
        if request.compare:
            df = _with_comparison(df, window, request, coverage)
        df.insert(0, "metric", spec.id)
        df["complete"] = [is_final(window, spec, p, coverage) for p in df["period"]]
        frames.append(df)
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    return QueryResult(request, window, frame, sql=engine.sql_log, as_of=as_of)


Coverage = tuple[date | None, date | None]


def covered(periods: pd.Series, window: Window, coverage: Coverage) -> pd.Series:
    """Whether each period has data at all: it overlaps the days the metric's sources
    cover (``AsOf.coverage``). A period with none has no value (null), not zero."""
    first, last = coverage
    if last is None:
        return pd.Series(False, index=periods.index)
    ends = periods.map(lambda p: period_last_day(p, window.grain))
    inside = periods <= last
    if first is not None:
        inside &= ends >= first
    return inside


def fully_covered(period: date, grain: Grain, coverage: Coverage) -> bool:
    """Whether the data covers the whole period (not only part of it)."""
    first, last = coverage
    if last is None or period_last_day(period, grain) > last:
        return False
    return first is None or period >= first


def is_final(
    window: Window, spec: MetricSpec, period: date, coverage: Coverage = (None, None)
) -> bool:
    """Whether a period's value will not change: it has ended, its data reaches its last
    day (and, for a cohort metric, its cohort has had the time to settle)."""
    if not window.is_complete(period):
        return False
    last = coverage[1]
    if last is not None and period_last_day(period, window.grain) > last:
        return False
    if not spec.settle_periods and not spec.settle_days:
        return True
    last = period_last_day(shift_periods(period, window.grain, spec.settle_periods), window.grain)
    return last + timedelta(days=spec.settle_days) < window.today


def _with_comparison(
    df: pd.DataFrame, window: Window, request: QueryRequest, coverage: Coverage
) -> pd.DataFrame:
    """Each period against the same period before; a period the data covers only in part
    (or not at all) has no comparison: its change is null, never a made-up percentage."""
    assert request.compare is not None
    keys = ["period", *request.by]
    whole = df["period"].map(lambda p: fully_covered(p, window.grain, coverage))
    lookup = df.assign(value=df["value"].where(whole)).set_index(keys)["value"]
    current = df[df["period"] >= window.start].copy()
    earlier = [compare_period(p, window, request.compare) for p in current["period"]]
    index = (
        pd.MultiIndex.from_arrays([earlier, *[current[k] for k in request.by]], names=keys)
        if request.by
        else pd.Index(earlier, name="period")
    )
    current["previous"] = lookup.reindex(index).to_numpy()
    current["change"] = current["value"] - current["previous"]
    base = current["previous"].where(current["previous"] != 0)
    current["change_pct"] = current["change"] / base.abs()
    return current.reset_index(drop=True)


# -- cache --------------------------------------------------------------------------
def cache_key(
    request: QueryRequest, window: Window, registry: Registry, settings: Settings, version: int
) -> str:
    """Everything the result depends on: the request, the resolved window (and today),
    the metric definitions involved, the settings and the data version."""
    payload = {
        "v": CACHE_VERSION,
        "northstar": __version__,
        "request": asdict(request),
        "window": asdict(window),
        "metrics": sorted(spec.fingerprint() for spec in registry),
        "settings": settings.model_dump(mode="json"),
        "data": version,
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class ResultCache:
    """Query results on disk under the workspace (``.cache/queries``), keyed by
    :func:`cache_key`; entries of older data versions are never read again and are
    pruned when the folder grows."""

    def __init__(self, folder: Path, max_entries: int = 2000) -> None:
        self.folder = folder
        self.max_entries = max_entries

    def get(self, key: str) -> pd.DataFrame | None:
        path = self.folder / f"{key}.arrow"
        if not path.exists():
            return None
        try:
            return feather.read_table(path).to_pandas()
        except (OSError, pa.ArrowException):  # a torn or stale entry is just a miss
            return None

    def put(self, key: str, frame: pd.DataFrame) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f".{key}.tmp"
            feather.write_feather(pa.Table.from_pandas(frame, preserve_index=False), tmp)
            tmp.replace(self.folder / f"{key}.arrow")
            entries = sorted(self.folder.glob("*.arrow"), key=lambda p: p.stat().st_mtime)
            for old in entries[: max(0, len(entries) - self.max_entries)]:
                old.unlink(missing_ok=True)
        except OSError:
            pass  # a read-only workspace still answers queries, uncached


def as_records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """JSON-ready rows: ISO dates, None for missing values."""
    out = []
    for row in frame.to_dict(orient="records"):
        clean: dict[str, object] = {}
        for name, v in row.items():
            k = str(name)
            if isinstance(v, date):
                clean[k] = v.isoformat()
            elif isinstance(v, float | np.floating):
                clean[k] = None if np.isnan(v) else float(v)
            elif isinstance(v, np.integer):
                clean[k] = int(v)
            elif isinstance(v, np.bool_):
                clean[k] = bool(v)
            else:
                clean[k] = v
        out.append(clean)
    return out
