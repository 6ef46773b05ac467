"""The workspace: a folder with ``northstar.yaml`` and the store. The Python API's front door.

The CLI (and later the web app) are thin adapters over these methods.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pyarrow as pa

from northstar import clock
from northstar.env import WORKSPACE_VAR
from northstar.errors import (
    AlertConfigError,
    AnomalyError,
    GoalNotFound,
    NorthstarError,
    QueryError,
    WorkspaceError,
)
from northstar.ingest import ImportSummary, import_files, import_table, rejected_rows
from northstar.ingest.importer import Progress
from northstar.ingest.live_log import LOG_DIR, PendingLog, pending, running_server
from northstar.metrics.periods import (
    Grain,
    parse_date,
    period_last_day,
    resolve_window,
    shift_periods,
)
from northstar.metrics.query import QueryRequest, QueryResult, ResultCache, cache_key, run_query
from northstar.metrics.registry import Registry
from northstar.metrics.spec import Direction
from northstar.metrics.sql_cache import SqlCache
from northstar.settings import SETTINGS_FILE, Settings, dump_settings, load_settings
from northstar.store import DB_FILE, TABLES, Store
from northstar.store.connection import connect
from northstar.store.freshness import AsOf, resolve_as_of
from northstar.store.keys import ApiKey, create_key, list_keys, revoke_key
from northstar.store.status import StoreFigures, store_figures

if TYPE_CHECKING:
    from northstar.alerts.runner import Outcome
    from northstar.analyses.features import Feature, FeatureReport
    from northstar.analyses.funnel import FunnelResult
    from northstar.analyses.lifecycle import Lifecycle
    from northstar.analyses.retention import RetentionTable
    from northstar.analyses.stickiness import Stickiness
    from northstar.anomalies.series import MetricAnomalies
    from northstar.experiments.analysis import AnalyzeRequest, ExperimentList, ExperimentResult
    from northstar.explain.service import ExplainRequest, Explanation
    from northstar.goals import (
        GoalBook,
        GoalProgress,
        Objective,
        Scorecard,
        SmartCheck,
        Target,
        changes,
    )
    from northstar.goals import service as goals
    from northstar.goals.model import Goal, TimeFrame
    from northstar.goals.scorecard import ObjectiveCard
    from northstar.goals.suggest import Suggestion
    from northstar.metrics.cohorts import RevenueCohorts
    from northstar.metrics.feedback import Feedback
    from northstar.metrics.headline import KpiSummary
    from northstar.reports.service import ReportService

ENV_VAR = WORKSPACE_VAR
R = TypeVar("R")
T = TypeVar("T")
# Workspace files whose change invalidates Workspace.memo (with the store's data version).
MEMO_FILES = ("northstar.yaml", "goals.yaml", "features.yaml", "reports.yaml",
              "alerts/history.jsonl")  # fmt: skip
MEMO_ENTRIES = 64
CACHE_DIR = ".cache/queries"
SQL_CACHE_DIR = ".cache/sql"


@dataclass(frozen=True)
class WorkspaceStatus:
    """Is data flowing in? (``northstar status``)"""

    figures: StoreFigures  # events today, last event, quarantine
    waiting: PendingLog  # acknowledged by the server, not yet in the store
    server: dict[str, Any] | None  # pid and url of the running server, if any


@dataclass(frozen=True)
class TableInfo:
    name: str
    rows: int
    first: datetime | None
    last: datetime | None
    rejected: int


def stamped(now: AsOf, result: R) -> R:
    """``result`` marked with the as-of it was computed for (its JSON says so)."""
    result.as_of = now  # type: ignore[attr-defined]
    return result


def resolve_path(path: str | Path | None) -> Path:
    """The workspace folder: the argument, else ``$NORTHSTAR_WORKSPACE``, else the cwd."""
    if path is not None and str(path) != "":
        return Path(path).expanduser()
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else Path.cwd()


class Workspace:
    """An existing workspace folder."""

    def __init__(self, path: str | Path | None = None, *, as_of: date | None = None) -> None:
        self.path = resolve_path(path).resolve()
        self.pinned_as_of = as_of  # --as-of / as_of=: every default judged on this day
        settings_file = self.path / SETTINGS_FILE
        if not settings_file.exists():
            raise WorkspaceError(
                f"{self.path} is not a Northstar workspace (no {SETTINGS_FILE}); "
                f"run 'northstar init {self.path}' or pass -w/--workspace"
            )
        self.settings: Settings = load_settings(settings_file)
        self.db_path = self.path / DB_FILE
        # In the server's process every connection is read-write: DuckDB then shares one
        # database instance between them, so pages read concurrently with each other and
        # with the flusher's writes (a read-only and a read-write connection cannot coexist
        # in one process).
        self.shares_store = False

    # -- creation ---------------------------------------------------------------
    @classmethod
    def init(
        cls, path: str | Path | None = None, *, name: str | None = None, **settings: Any
    ) -> Workspace:
        """Create a workspace folder with default settings and an empty store."""
        folder = resolve_path(path).resolve()
        if (folder / SETTINGS_FILE).exists():
            raise WorkspaceError(f"{folder} is already a workspace ({SETTINGS_FILE} exists)")
        if folder.exists() and not folder.is_dir():
            raise WorkspaceError(f"{folder} exists and is not a folder")
        values = dict(settings)
        values["name"] = name or values.get("name") or folder.name or "My product"
        model = Settings.model_validate(values)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "metrics").mkdir(exist_ok=True)
        Store(folder / DB_FILE, create=True).close()
        (folder / SETTINGS_FILE).write_text(dump_settings(model), encoding="utf-8")
        return cls(folder)

    # -- store access -----------------------------------------------------------
    @contextmanager
    def store(self, *, read_only: bool = False) -> Iterator[Store]:
        """Open the store for the duration of a block."""
        store = Store(
            self.db_path, read_only=read_only and not self.shares_store,
            lock_wait=self.settings.store.lock_wait_seconds,
        )  # fmt: skip
        try:
            yield store
        finally:
            store.close()

    # -- data in ----------------------------------------------------------------
    def import_files(
        self,
        table: str,
        paths: Sequence[str | Path],
        *,
        mapping: dict[str, str] | None = None,
        fmt: str | None = None,
        timezone: str | None = None,
        replace: bool = False,
        progress: Progress | None = None,
    ) -> ImportSummary:
        """Import files into a table (see ``docs/importing.md``)."""
        with self.store() as store:
            return import_files(
                store,
                table,
                [Path(p) for p in paths],
                timezone=timezone or self.settings.timezone,
                mapping=mapping,
                fmt=fmt,
                replace=replace,
                progress=progress,
            )

    def import_arrow(self, table: str, data: pa.Table, *, source: str = "python") -> ImportSummary:
        """Import an Arrow table whose columns carry the data model's names."""
        with self.store() as store:
            return import_table(store, table, data, source=source, timezone=self.settings.timezone)

    def rejected(self, *, limit: int = 50, table: str | None = None) -> list[dict[str, Any]]:
        """Quarantined rows with file, line, raw row and reason, newest first."""
        with self.store(read_only=True) as store:
            return rejected_rows(store, limit=limit, table=table)

    def recent_imports(self, *, limit: int = 20) -> list[dict[str, Any]]:
        """The latest imports and server flushes: table, files, rows, duplicates, rejected."""
        from northstar.store.status import recent_imports

        with self.store(read_only=True) as store:
            return recent_imports(store, limit=limit)

    # -- live ingestion (docs/ingestion-server.md) -------------------------------
    def create_key(
        self, kind: str = "write", *, source: str | None = None, origins: Sequence[str] = ()
    ) -> tuple[ApiKey, str]:
        """A new API key and its token (shown once; only a hash is stored). Write keys
        belong to a source (web, ios, backend...) and can only send data; ``origins``
        limits the browser pages that may send with it (default: any)."""
        with self.store() as store:
            return create_key(store, kind, source, origins)

    def api_keys(self) -> list[ApiKey]:
        """Every API key, revoked ones included (never the tokens)."""
        with self.store(read_only=True) as store:
            return list_keys(store)

    def revoke_key(self, key_id: str) -> ApiKey:
        """Revoke a key by id or prefix; a running server refuses it within a flush."""
        with self.store() as store:
            return revoke_key(store, key_id)

    def status(self) -> WorkspaceStatus:
        """Events today, last event, quarantine size, and what the server's log holds."""
        folder = self.path / LOG_DIR
        with self.store(read_only=True) as store:
            figures = store_figures(store, self.settings.timezone)
        return WorkspaceStatus(figures, pending(folder), running_server(folder))

    # -- inspection -------------------------------------------------------------
    def tables(self) -> list[TableInfo]:
        """Row count, time range and rejected rows of every data-model table."""
        infos = []
        with self.store(read_only=True) as store:
            rejected = dict(
                store.execute(
                    "SELECT table_name, count(*) FROM _rejected_rows GROUP BY 1"
                ).fetchall()
            )
            for spec in TABLES.values():
                tcol = spec.time_column
                row = store.execute(
                    f'SELECT count(*), min("{tcol}"), max("{tcol}") FROM "{spec.name}"'
                ).fetchone()
                assert row is not None
                infos.append(
                    TableInfo(
                        spec.name, int(row[0]), row[1], row[2], int(rejected.get(spec.name, 0))
                    )
                )
        return infos

    def incidents(self) -> list[dict[str, Any]]:
        """Incidents recorded in the workspace (the demo plants some), oldest first."""
        with self.store(read_only=True) as store:
            cur = store.execute(
                "SELECT incident_id, kind, metric, CAST(segment AS VARCHAR) AS segment, "
                "started_at, ended_at, description FROM incidents ORDER BY started_at"
            )
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    # -- metrics ----------------------------------------------------------------
    def registry(self) -> Registry:
        """Built-in metrics plus this workspace's ``metrics/*.yaml``."""
        return Registry.build(self.path / "metrics")

    def today(self) -> date:
        """The workspace's as-of day (see :meth:`as_of`)."""
        return self.as_of().today

    def as_of(self, today: date | None = None) -> AsOf:
        """The workspace's one "now" (``docs/freshness.md``): ``today`` when given, else
        the workspace's pinned day (``--as-of``), else ``goals.as_of``, else derived from
        the data's watermarks; with how fresh the data is."""
        with self.store(read_only=True) as store:
            return self._as_of(store, today)

    def _as_of(self, store: Store, today: date | None) -> AsOf:
        pinned, by = next(
            ((d, who) for d, who in ((today, "as_of"), (self.pinned_as_of, "--as-of"),
                                     (self.settings.goals.as_of, "goals.as_of")) if d),
            (None, None),
        )  # fmt: skip
        return resolve_as_of(store, self.settings.timezone, pinned=pinned, pinned_by=by)

    def run_query(
        self,
        metrics: str | Sequence[str],
        *,
        grain: str = "day",
        start: str | date | None = None,
        end: str | date | None = None,
        by: str | Sequence[str] | None = None,
        where: str | None = None,
        compare: str | None = None,
        use_cache: bool = True,
        today: date | None = None,
        explain: bool = False,
    ) -> QueryResult:
        """A metric query with its resolved window and SQL (see :meth:`query`)."""
        request = QueryRequest.make(
            metrics, grain=grain, start=start, end=end, by=by, where=where, compare=compare
        )
        with self.store(read_only=True) as store:
            now = self._as_of(store, today)
            return self._query_in(store, now, request, use_cache=use_cache, explain=explain)

    def _query_in(
        self,
        store: Store,
        now: AsOf,
        request: QueryRequest,
        *,
        use_cache: bool = True,
        explain: bool = False,
    ) -> QueryResult:
        """``request`` on an open store as of ``now`` (several queries of one answer — an
        explanation — share the store and the as-of)."""
        registry = self.registry()
        cache = ResultCache(self.path / CACHE_DIR)
        window = resolve_window(
            request.grain, request.start, request.end or now.end,
            week_start=self.settings.week_start.value, today=now.today,
        )  # fmt: skip
        version = store.data_version()
        key = cache_key(request, window, registry, self.settings, version) if use_cache else ""
        if use_cache and not explain:
            hit = cache.get(key)
            if hit is not None:
                return QueryResult(request, window, hit, cached=True, as_of=now)
        result = run_query(
            store, self.settings, registry, request, as_of=now, explain=explain,
            sql_cache=SqlCache(self.path / SQL_CACHE_DIR), data_version=version,
        )  # fmt: skip
        if use_cache:
            cache.put(key, result.frame)
        return result

    def query(
        self,
        metrics: str | Sequence[str],
        *,
        grain: str = "day",
        start: str | date | None = None,
        end: str | date | None = None,
        by: str | Sequence[str] | None = None,
        where: str | None = None,
        compare: str | None = None,
        use_cache: bool = True,
        today: date | None = None,
    ) -> pd.DataFrame:
        """Metric values as a tidy table: ``metric``, ``period``, breakdown keys, ``value``,
        ``complete`` (and ``previous``, ``change``, ``change_pct`` with ``compare``).

        ``grain`` is day, week, month, quarter or year; ``start``/``end`` are dates
        (defaults: a sensible span ending today); ``by`` names breakdown dimensions
        (columns, event/user/customer properties); ``where`` is a filter such as
        ``"plan = 'pro' and country in ('FR', 'DE')"``; ``compare`` is previous or year.
        """
        return self.run_query(
            metrics, grain=grain, start=start, end=end, by=by, where=where,
            compare=compare, use_cache=use_cache, today=today,
        ).frame  # fmt: skip

    def headline_kpis(self, *, today: date | None = None) -> list[KpiSummary]:
        """The headline KPIs over the last 12 complete months (see ``metrics.headline``)."""
        from northstar.metrics.headline import HEADLINE, last_complete_month, summaries

        registry = self.registry()
        ids = [m for m in HEADLINE if m in registry.metrics]
        first, last = last_complete_month(self.as_of(today).today)
        start = shift_periods(first, Grain.month, -11)
        frame = self.query(ids, grain="month", start=start, end=last, today=today)
        return summaries(frame, registry.metrics)

    # -- analyses ---------------------------------------------------------------
    def retention(
        self,
        start_event: str = "$active",
        return_event: str = "$active",
        *,
        period: str = "week",
        periods: int = 8,
        type: str = "recurring",
        window: str = "calendar",
        cumulative: bool = False,
        by: str | None = None,
        start: str | date | None = None,
        end: str | date | None = None,
        today: date | None = None,
    ) -> RetentionTable:
        """A retention table (``docs/analyses.md#retention``): cohorts of users by the
        period of ``start_event`` from ``start`` to ``end``, and how many did
        ``return_event`` k periods later. Events are names, ``"name where filter"`` or
        ``$active`` (any active event)."""
        from northstar.analyses.retention import RetentionRequest, retention

        request = RetentionRequest.make(
            start_event, return_event, period=period, periods=periods, type=type,
            window=window, cumulative=cumulative, by=by,
        )  # fmt: skip
        with self.store(read_only=True) as store:
            now = self._as_of(store, today)
            return stamped(now, retention(
                store.ibis, self.settings, request, start=start, end=end or now.end,
                today=now.observed_until,
            ))  # fmt: skip

    def funnel(
        self,
        steps: Sequence[str],
        *,
        window: str | timedelta = "14d",
        mode: str = "ordered",
        exclude: Sequence[str] = (),
        by: str | None = None,
        start: str | date | None = None,
        end: str | date | None = None,
        today: date | None = None,
    ) -> FunnelResult:
        """A funnel (``docs/analyses.md#funnels``) of users whose first step falls in
        ``start``..``end``: per step the users who got there within ``window`` (e.g.
        ``14d``, ``30m``), conversion from the first and previous step, time to convert."""
        from northstar.analyses.funnel import FunnelRequest, funnel

        request = FunnelRequest.make(
            list(steps), window=window, mode=mode, exclude=list(exclude), by=by
        )
        with self.store(read_only=True) as store:
            now = self._as_of(store, today)
            return stamped(now, funnel(
                store.ibis, self.settings, request, start=start, end=end or now.end,
                today=now.observed_until,
            ))  # fmt: skip

    def lifecycle(
        self,
        event: str = "$active",
        *,
        grain: str = "week",
        start: str | date | None = None,
        end: str | date | None = None,
        today: date | None = None,
    ) -> Lifecycle:
        """Per period: users who are new, returning, resurrecting, and (as a negative count)
        went dormant (``docs/analyses.md#lifecycle``)."""
        from northstar.analyses.lifecycle import lifecycle

        with self.store(read_only=True) as store:
            now = self._as_of(store, today)
            return stamped(now, lifecycle(
                store.ibis, self.settings, event, grain=grain, start=start,
                end=end or now.end, today=now.observed_until,
            ))  # fmt: skip

    def stickiness(
        self,
        event: str = "$active",
        *,
        grain: str = "day",
        cumulative: bool = False,
        start: str | date | None = None,
        end: str | date | None = None,
        today: date | None = None,
    ) -> Stickiness:
        """Users by the number of periods of the range in which they did ``event``
        (``cumulative``: k or more), ``docs/analyses.md#stickiness``."""
        from northstar.analyses.stickiness import stickiness

        with self.store(read_only=True) as store:
            now = self._as_of(store, today)
            return stamped(now, stickiness(
                store.ibis, self.settings, event, grain=grain, cumulative=cumulative,
                start=start, end=end or now.end, today=now.observed_until,
            ))  # fmt: skip

    def features(self) -> list[Feature]:
        """The features declared in ``features.yaml``."""
        from northstar.analyses.features import FEATURES_FILE, load_features

        return load_features(self.path / FEATURES_FILE)

    def feature_report(
        self,
        *,
        start: str | date | None = None,
        end: str | date | None = None,
        today: date | None = None,
    ) -> FeatureReport:
        """Per declared feature: adoption rate, usage frequency, week-4 retention of
        adopters vs other active users, and the promote/rethink flags."""
        from northstar.analyses.features import feature_report

        features = self.features()

        def compute() -> FeatureReport:
            with self.store(read_only=True) as store:
                now = self._as_of(store, today)
                return stamped(now, feature_report(
                    store.ibis, self.settings, features, start=start, end=end or now.end,
                    today=now.horizon,
                ))  # fmt: skip

        key = ("features", str(start), str(end), self.as_of(today).today, repr(features))
        return self.memo(key, compute)

    # -- customers: revenue cohorts and survey comments (docs/metrics.md) -------------
    def ltv_cohorts(
        self,
        *,
        grain: str = "month",
        start: str | date | None = None,
        end: str | date | None = None,
        today: date | None = None,
    ) -> RevenueCohorts:
        """Observed LTV: per acquisition cohort (customers by the period they first paid,
        ``start``..``end``), its size and the cumulative revenue per customer k = 0, 1, ...
        periods later, in the workspace currency (``metrics/cohorts.py``)."""
        from northstar.metrics.cohorts import revenue_cohorts

        with self.store(read_only=True) as store:
            now = self._as_of(store, today)
            return stamped(now, revenue_cohorts(
                store.ibis, self.settings, grain=grain, start=start, end=end or now.end,
                today=now.horizon,
            ))  # fmt: skip

    def feedback(
        self,
        kind: str = "nps",
        *,
        group: str | None = None,
        start: str | date | None = None,
        end: str | date | None = None,
        where: str | None = None,
        limit: int = 50,
        today: date | None = None,
    ) -> Feedback:
        """The comments of a survey (nps, csat, ces, uss, team), newest first, each with its
        score, respondent, time and group; ``group`` keeps promoters, passives or
        detractors only (``metrics/feedback.py``)."""
        from northstar.metrics.feedback import feedback

        with self.store(read_only=True) as store:
            now = self._as_of(store, today)
            return stamped(now, feedback(
                store.ibis, self.settings, kind=kind, group=group, start=start,
                end=end or now.end, where=where, limit=limit, today=now.horizon,
            ))  # fmt: skip

    # -- goals (see docs/goals.md; the logic is in northstar.goals.service) -----------
    def goals_context(self, *, today: date | None = None) -> goals.GoalContext:
        """What the goal functions need: ``goals.yaml``, metrics, settings, a metric query
        and the day goals are judged on (the workspace's as-of, :meth:`as_of`)."""
        from northstar.goals import service as goals
        from northstar.goals.store import GOALS_FILE

        now = self.as_of(today)

        def fetch(
            metrics: Sequence[str], grain: Grain, where: str | None, start: date, end: date,
            day: date,
        ) -> pd.DataFrame:  # fmt: skip
            return self.query(
                list(metrics), grain=grain.value, start=start, end=end, where=where, today=day
            )

        return goals.GoalContext(self.path / GOALS_FILE, self.registry(), self.settings,
                                 fetch, now.today, now)  # fmt: skip

    def goal_book(self) -> GoalBook:
        """Every objective and goal in ``goals.yaml``."""
        from northstar.goals.store import GOALS_FILE, load_book

        return load_book(self.path / GOALS_FILE)

    def add_objective(
        self, name: str, *, perspective: str, objective_id: str | None = None,
        description: str = "", owner: str = "", time_frame: str | TimeFrame | None = None,
    ) -> Objective:  # fmt: skip
        """Add a business objective; ``time_frame`` like 2026-H2, 2026-Q3 or a..b dates."""
        from northstar.goals import service as goals
        from northstar.goals.timeframe import parse_time_frame

        frame = parse_time_frame(time_frame) if isinstance(time_frame, str) else time_frame
        return goals.add_objective(
            self.goals_context(), name, perspective=perspective, objective_id=objective_id,
            description=description, owner=owner, time_frame=frame,
        )  # fmt: skip

    def add_goal(
        self, metric: str | goals.GoalSpec, target: str | Target | None = None, *,
        by: str | None = None, save: bool = True, today: date | None = None, **fields: Any,
    ) -> goals.NewGoal:  # fmt: skip
        """Add a goal and return it with its SMART check; ``save=False`` only checks it.
        Either a :class:`~northstar.goals.service.GoalSpec`, or its fields: the metric, the
        target (text like '>= 3000', '<= 150', '3.7..4.2', '+10%') and any of objectives,
        start, deadline, grain, where, baseline, plan, owner, note, goal_id."""
        from northstar.goals import service as goals

        spec = metric if isinstance(metric, goals.GoalSpec) else goals.GoalSpec.make(
            metric=metric, target=target, **fields)  # fmt: skip
        return goals.add_goal(self.goals_context(today=today), spec, by=by, save=save)

    def revise_goal(
        self, goal_id: str, *, reason: str, target: str | Target | None = None,
        deadline: str | date | None = None, baseline: float | None = None,
        clear_baseline: bool = False, where: str | None = None, by: str | None = None,
    ) -> Goal:  # fmt: skip
        """Change a goal's target, deadline, baseline or segment (``where``, ``""`` for
        every user); the revision is kept with it."""
        from northstar.goals import service as goals

        return goals.revise_goal(
            self.goals_context(), goal_id, reason=reason, target=target, deadline=deadline,
            baseline=baseline, clear_baseline=clear_baseline, where=where, by=by,
        )  # fmt: skip

    def edit_goal(
        self, goal_id: str, *, owner: str | None = None, note: str | None = None,
        plan: str | None = None, objectives: Sequence[str] | None = None,
    ) -> Goal:  # fmt: skip
        """Change a goal's owner, note, plan or objectives (``None`` keeps a field)."""
        from northstar.goals import changes

        return changes.edit_goal(self.goals_context(), goal_id, owner=owner, note=note,
                                 plan=plan, objectives=objectives)  # fmt: skip

    def remove_goal(self, goal_id: str) -> Goal:
        """Remove a goal and its revision history."""
        from northstar.goals import changes

        return changes.remove_goal(self.goals_context(), goal_id)

    def edit_objective(
        self, objective_id: str, *, name: str | None = None, perspective: str | None = None,
        description: str | None = None, owner: str | None = None,
        time_frame: str | None = None,
    ) -> Objective:  # fmt: skip
        """Change an objective's fields (``None`` keeps one; ``time_frame=""`` removes it)."""
        from northstar.goals import changes
        from northstar.goals.timeframe import parse_time_frame

        frame: TimeFrame | object | None = changes.KEEP
        if time_frame is not None:
            frame = parse_time_frame(time_frame) if time_frame.strip() else None
        return changes.edit_objective(
            self.goals_context(), objective_id, name=name, perspective=perspective,
            description=description, owner=owner, time_frame=frame,
        )  # fmt: skip

    def remove_objective(self, objective_id: str) -> changes.RemovedObjective:
        """Remove an objective; its goals stay, no longer aligned to it."""
        from northstar.goals import changes

        return changes.remove_objective(self.goals_context(), objective_id)

    def check_goal(self, goal_id: str, *, today: date | None = None) -> SmartCheck:
        """The SMART check of a stored goal, with its numbers."""
        from northstar.goals import service as goals

        ctx = self.goals_context(today=today)
        book = ctx.load()
        return goals.smart_check(ctx, goals.get_goal(book, goal_id), book)

    def goal_detail(self, goal_id: str, *, today: date | None = None) -> dict[str, Any]:
        """One goal as a product manager reads it — the goal, its revisions, status and
        reason, progress, run-rates, forecast P10/P50/P90 and P(hit), the forecast fan per
        period and the SMART check — as ``goals show ID --format json`` gives it."""
        from northstar.goals import service as goals
        from northstar.goals.scorecard import goal_detail_dict

        progress = self.track_goal(goal_id, today=today)
        check = (
            self.check_goal(goal_id, today=today)
            if progress.spec.id in self.registry().metrics
            else None
        )
        doc = goal_detail_dict(progress, check, self.settings.currency, self.as_of(today))
        doc["plan_line"] = goals.plan_line(progress)
        doc["aim"] = progress.aim  # the value progress is measured towards
        return doc

    def objective_status(self, objective_id: str, *, today: date | None = None) -> ObjectiveCard:
        """An objective with the status of its KPIs and focus warnings."""
        from northstar.goals import service as goals

        return goals.objective_status(self.goals_context(today=today), objective_id)

    def track_goal(self, goal_id: str, *, today: date | None = None) -> GoalProgress:
        """Current value, progress, plan, run-rates, forecast, P(hit) and status."""
        from northstar.goals import service as goals

        return goals.track_goal(self.goals_context(today=today), goal_id)

    def suggest_targets(
        self, metric: str, *, deadline: str | date, start: str | date | None = None,
        grain: str = "month", where: str | None = None, today: date | None = None,
    ) -> Suggestion:  # fmt: skip
        """Targets from the 50th/75th/90th percentile of the metric's past improvements."""
        from northstar.goals import service as goals

        return goals.suggest(
            self.goals_context(today=today), metric, deadline=deadline, start=start,
            grain=grain, where=where,
        )  # fmt: skip

    def goal_template(
        self, stage: str, *, start: str | date | None = None,
        deadline: str | date | None = None, grain: str = "month", apply: bool = False,
        by: str | None = None, today: date | None = None,
    ) -> goals.Template:  # fmt: skip
        """A starter set of objectives and KPIs for an early, growth or mature product."""
        from northstar.goals import service as goals

        return goals.template(
            self.goals_context(today=today), stage, start=start, deadline=deadline,
            grain=grain, apply=apply, by=by,
        )  # fmt: skip

    def scorecard(self, *, today: date | None = None) -> Scorecard:
        """The balanced scorecard: perspectives, objectives and their KPIs' status."""
        from northstar.goals import service as goals

        return goals.scorecard(self.goals_context(today=today))

    # -- experiments (docs/experiments.md) ----------------------------------------------
    def experiments(self, *, today: date | None = None) -> ExperimentList:
        """Every experiment with exposures (Segment ``Experiment Viewed``, PostHog
        ``$feature_flag_called``) up to the as-of day, with users per variation."""
        from northstar.experiments.analysis import ExperimentList, list_experiments

        with self.store(read_only=True) as store:
            now = self._as_of(store, today)
            found = list_experiments(store.ibis, self.settings, last=now.end)
            return stamped(now, ExperimentList(found))

    def analyze_experiment(
        self, request: AnalyzeRequest, *, today: date | None = None
    ) -> ExperimentResult:
        """An experiment's results on ``request.metrics`` as of the end of the as-of day."""
        from northstar.experiments.analysis import analyze

        registry = self.registry()
        with self.store(read_only=True) as store:
            now = self._as_of(store, today)
            return stamped(now, analyze(store.ibis, self.settings, registry, request, last=now.end))

    def pickers(self, *, days: int = 30) -> dict[str, Any]:
        """What the pages' pickers offer, from the data: event names (most frequent first)
        and properties with their most frequent values (users, and events of the last
        ``days`` days of data). Kept until the data changes."""
        from northstar.analyses.events import known_events, property_values

        now = self.as_of()
        key = (now.through, now.last_loaded, days)
        cached = getattr(self, "_pickers", None)
        if cached is not None and cached[0] == key:
            return dict(cached[1])
        last = now.end + timedelta(days=1)
        with self.store(read_only=True) as store:
            found = {
                "events": known_events(store.ibis, 100),
                "properties": property_values(
                    store.ibis, self._instant(last - timedelta(days=days)), self._instant(last)
                ),
            }
        self._pickers = (key, found)
        return dict(found)

    def event_names(self, limit: int = 200) -> list[str]:
        """Event names in the data, most frequent first (the pages' pickers)."""
        from northstar.analyses.events import known_events

        with self.store(read_only=True) as store:
            return known_events(store.ibis, limit)

    def experiment_guardrails(self) -> tuple[list[str], list[str]]:
        """The goals' KPIs an experiment can measure per exposed user (shown as guardrails
        beside its own metrics), and those it cannot."""
        from northstar.experiments.analysis import guardrails

        return guardrails([g.metric for g in self.goal_book().goals], self.registry())

    # -- anomalies (docs/alerts.md) ------------------------------------------------------
    def anomalies(
        self,
        metric: str,
        *,
        grain: str = "day",
        start: str | date | None = None,
        end: str | date | None = None,
        direction: str | None = None,
        today: date | None = None,
        by: str | None = None,
    ) -> MetricAnomalies:
        """A metric's periods with the detector's expected value, band, score and flag.
        ``direction`` defaults to the metric's bad direction (drops of a higher-is-better
        KPI, rises of a lower-is-better one). With ``by``, every segment of that dimension
        is scored on its own series (rows carry the segment)."""
        from northstar.anomalies.series import (
            KPI_CONFIG,
            LOOKBACK,
            MetricAnomalies,
            check_direction,
            metric_anomalies,
        )

        if grain not in KPI_CONFIG:
            raise AnomalyError(f"--grain {grain!r}: use day, week or month")
        spec = self.registry().get(metric)
        way = (
            check_direction(direction)
            if direction
            else ("down" if spec.direction is Direction.higher else "up")
        )
        asked = self.run_query(metric, grain=grain, start=start, end=end, today=today)
        first = asked.window.start
        # read a history before the range too: the detector learns from the past
        frame = self.run_query(
            metric, grain=grain, start=first - timedelta(days=LOOKBACK[grain]),
            end=asked.window.end, today=today, by=by,
        )  # fmt: skip
        if by is None:
            result = metric_anomalies(frame.frame, spec.id, grain, way, first=first)
        else:
            result = MetricAnomalies(spec.id, grain, way, by=by)
            for segment, part in frame.frame.groupby(by, dropna=False):
                scored = metric_anomalies(part, spec.id, grain, way, first=first)
                result.rows += [{**r, "segment": str(segment)} for r in scored.rows]
        return stamped(frame.as_of, result) if frame.as_of is not None else result

    # -- alerts (docs/alerts.md) ---------------------------------------------------------
    def run_alerts(self, *, today: date | None = None) -> tuple[list[Outcome], AsOf]:
        """Evaluate every rule of ``alerts.yaml`` once, deliver what fired or resolved,
        and record it. A bad ``alerts.yaml`` raises before anything changes."""
        from northstar.alerts.config import load_alerts
        from northstar.alerts.runner import run as run_alert_rules
        from northstar.explain.service import ExplainRequest

        config = load_alerts(self.path)
        now = self.as_of(today)

        def drivers(metric: str, grain: str, period: str) -> list[str]:
            start = date.fromisoformat(period[:10])
            end = period_last_day(start, Grain(grain))
            found = self.explain(ExplainRequest(metric, start, end, depth=1, top=3),
                                 today=now.today)  # fmt: skip
            return [
                " and ".join(f"{d} = {v}" for d, v in s.key)
                + (f" ({s.contribution:.0%} of the change)" if s.contribution is not None else "")
                for s in found.segments
            ]

        server = self.settings.server
        outcomes = run_alert_rules(
            config, self, self.path, self.settings.smtp, today=now.today,
            now=clock.now(self.settings.timezone), last_event=now.last_event,
            base_url=f"http://{server.host}:{server.port}", drivers=drivers,
        )  # fmt: skip
        return outcomes, now

    def alert_rules(self, *, today: date | None = None) -> list[dict[str, Any]]:
        """The rules of ``alerts.yaml`` with their state (firing, quiet, muted, snoozed)."""
        from northstar.alerts.config import load_alerts
        from northstar.alerts.runner import overview as alert_overview

        return alert_overview(load_alerts(self.path), self.path, self.as_of(today).today)

    def snooze_alert(self, rule: str, until: str | date | None) -> None:
        """Silence a rule through ``until`` (None: wake it up)."""
        from northstar.alerts.config import load_alerts
        from northstar.alerts.runner import snooze as snooze_alert_rule

        names = [r.name for r in load_alerts(self.path).rules]
        if rule not in names:
            raise AlertConfigError(
                f"no alert rule {rule!r}; the rules are {', '.join(names) or 'none'}"
            )
        day = parse_date(until, "snooze date") if until else None
        snooze_alert_rule(self.path, rule, day)

    def alert_history(self, limit: int = 200) -> list[dict[str, Any]]:
        """What the alert runs found and delivered, oldest first."""
        from northstar.alerts.runner import history as alert_history

        return alert_history(self.path, limit)

    # -- explain a change (docs/explain.md) -----------------------------------------------
    def explain(
        self, request: ExplainRequest, *, today: date | None = None, feedback: bool = True
    ) -> Explanation:
        """Which segments moved ``request.metric`` between two windows, by mix or by rate;
        whether the change is within the metric's normal variation; what the users of the
        top segments said in surveys over the window."""

        with self.store(read_only=True) as store:
            return self._explain_in(store, request, today=today, feedback=feedback)

    def _explain_in(
        self, store: Store, request: ExplainRequest, *, today: date | None, feedback: bool
    ) -> Explanation:
        from northstar.analyses.events import property_dimensions
        from northstar.explain.service import default_dimensions
        from northstar.explain.service import explain as explain_change
        from northstar.explain.service import spans as explain_spans

        now = self._as_of(store, today)
        registry = self.registry()

        def fetch(
            metrics: Sequence[str], grain: Grain, first: date, last: date, by: Sequence[str]
        ) -> pd.DataFrame:
            # every query of the explanation on the one open store, as of the one "now"
            ask = QueryRequest.make(
                list(metrics), grain=grain.value, start=first, end=last, by=list(by) or None
            )
            return self._query_in(store, now, ask).frame

        current, _ = explain_spans(
            request.start, request.end, request.compare, self.settings.week_start.value
        )
        dims = list(request.by)
        if not dims:
            found = property_dimensions(
                store.ibis, self._instant(current.first),
                self._instant(current.last + timedelta(days=1)),
            )  # fmt: skip
            dims = default_dimensions(found)
        result = explain_change(
            fetch, registry, request, settings=self.settings, dimensions=dims,
        )  # fmt: skip
        if feedback:  # what the users of the top segments said (reports skip it)
            result.feedback = self._segment_feedback(result)
        return stamped(now, result)

    def _instant(self, day: date) -> datetime:
        return datetime.combine(day, datetime.min.time(), ZoneInfo(self.settings.timezone))

    def _segment_feedback(self, result: Explanation) -> list[dict[str, Any]]:
        """Survey comments over the window from the users of the top segments (those
        described by user properties; an event property does not say who a person is)."""
        from northstar.explain.service import feedback_filter

        out: list[dict[str, Any]] = []
        for segment in result.segments[:3]:
            where = feedback_filter(segment)
            if where is None:
                continue
            try:
                found = self.feedback(
                    "nps", start=result.current["from"], end=result.current["to"],
                    where=where, limit=5,
                )  # fmt: skip
            except NorthstarError:
                continue
            comments = found.to_dict().get("comments") or []
            if comments:
                out.append({"dimensions": dict(segment.key), "where": where,
                            "comments": comments})  # fmt: skip
        return out

    # -- reports (docs/reports.md) -------------------------------------------------------
    def reports(self) -> ReportService:
        """The reports of ``reports.yaml``: list, preview, send, what is due, the log."""
        from northstar.reports.service import ReportService

        return ReportService(self, self.path, memo=self.memo)

    def memo(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """``compute()``, kept in this process for ``key`` until the data or a workspace
        file changes (the store's data version and the files' modification times are part
        of the key): the pages' slow, repeated answers (feature report, report preview)."""
        with self.store(read_only=True) as store:
            version = store.data_version()
        files = tuple(
            p.stat().st_mtime_ns if p.exists() else 0 for p in (self.path / n for n in MEMO_FILES)
        )
        full = (version, files, *key)
        cache: dict[tuple[Any, ...], Any] = self.__dict__.setdefault("_memo", {})
        if full in cache:
            return cast(T, cache[full])
        value = compute()
        if len(cache) >= MEMO_ENTRIES:
            cache.pop(next(iter(cache)))
        cache[full] = value
        return value

    # -- share links (docs/reports.md#share-links) ------------------------------------------
    def share_base_url(self) -> str:
        """Where people open this workspace's server (links in reports, share links)."""
        from northstar.reports.runner import report_link

        return report_link(self.settings).rstrip("/")

    def create_share(
        self,
        page: str,
        expires: str = "7d",
        *,
        created_by: str = "cli",
        base_url: str | None = None,
    ) -> tuple[dict[str, Any], str]:
        """A signed, expiring, read-only link to one page (``scorecard``, ``goal/ID``,
        ``metric/METRIC``): its record and its URL (shown once; only a hash is kept)."""
        from northstar.reports import shares

        kind, arg = shares.parse_page(page)
        if kind == "goal" and self.goal_book().goal(arg or "") is None:
            known = ", ".join(g.id for g in self.goal_book().goals) or "none"
            raise GoalNotFound(f"no goal {arg!r} to share; the goals are: {known}")
        elif kind == "metric":
            self.registry().get(arg or "")
        now = clock.now(self.settings.timezone)
        share, token = shares.create(
            self.path, page.strip().strip("/"), shares.parse_duration(expires), now=now,
            env=os.environ, created_by=created_by,
        )  # fmt: skip
        base = (self.settings.reports.base_url or base_url or self.share_base_url()).rstrip("/")
        return share.public(now), f"{base}/share/{token}"

    def shares(self) -> list[dict[str, Any]]:
        """Every share link (active, expired, revoked), without its token."""
        from northstar.reports import shares

        return shares.listing(self.path, clock.now(self.settings.timezone))

    def revoke_share(self, share_id: str) -> dict[str, Any]:
        """Revoke a share link: its URL answers 404 from now on."""
        from northstar.reports import shares

        now = clock.now(self.settings.timezone)
        return shares.revoke(self.path, share_id, now=now).public(now)

    def open_share(self, token: str) -> str:
        """The page a share token opens (``ShareNotFound`` when it opens nothing)."""
        from northstar.reports import shares

        found = shares.resolve(self.path, token, now=clock.now(self.settings.timezone),
                               env=os.environ)  # fmt: skip
        return found.page

    def sql(self, query: str) -> pa.Table:
        """Run a read-only SQL statement for power users; writes are refused."""
        try:
            con = connect(
                self.db_path,
                read_only=True,
                lock_wait=self.settings.store.lock_wait_seconds,
                config={"enable_external_access": False},
            )
        except duckdb.Error as exc:
            raise QueryError(f"cannot open the store read-only: {_first_line(exc)}") from None
        try:
            con.execute("SET TimeZone = 'UTC'")
            result = con.execute(query)
            return result.to_arrow_table() if result.description else pa.table({})
        except duckdb.Error as exc:
            raise QueryError(f"query failed: {_first_line(exc)}") from None
        finally:
            con.close()


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
