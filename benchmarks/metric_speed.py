"""Metric speed: DAU, MAU and MRR through Northstar vs the best hand-written DuckDB SQL.

Run:  make bench-metrics    (or: .venv/bin/python benchmarks/metric_speed.py --runs 5)

Builds the demo workspace once (64,000 users, 365 days, seed 7: about 20M events) and
caches it in benchmarks/.data/ws-20m; a marker file records the build, so an interrupted
build is redone. For each metric over the demo's year (2025-11-01 .. 2026-10-31) it
computes the values through ``Workspace.query(metric, grain, start, end, use_cache=False)``
and through several hand-written DuckDB formulations, checks that they all agree (counts
exactly, MRR to 1e-6), then times a warm-up plus ``--runs`` runs of each and reports the
medians. The fastest hand formulation is the "best hand-written SQL" the ratio uses;
each formulation's own ratio is printed under it. Local days come from
``CAST(timestamp AS DATE)`` in the session time zone (any zone) and, when the workspace is
in UTC, also from the epoch (``make_timestamp(epoch_us(...))``), which skips ICU and is
several times faster. MRR's hand SQL finds each period's FX rate either by an as-of join
per period or per distinct (currency, start day) pair, and sums either the periods open
at each month end or the daily changes up to it. ``--mrr-row-decimals 4`` makes the hand
SQL round each subscription row's MRR to 4 decimals before summing, as Northstar's billing
model does (the default; ``--mrr-row-decimals -1`` turns the rounding off).

Both sides pay the same fixed costs on every run: Northstar opens the store in each
``query`` call, so every hand-SQL run opens a fresh read-only ``duckdb.connect`` to the
same file too (and sets the time zone) and fetches the rows into Python. Between runs
both sides close their connection, so neither keeps DuckDB's buffer pool warm; the OS
page cache is warm for both after the warm-up. Runs of the two sides are interleaved so
that drifts in machine load hit both alike.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from northstar.workspace import Workspace

DATA = Path(__file__).parent / ".data"
DEFAULT_USERS = 64_000  # 60,000 users give ~18.9M events; 64,000 give ~20.0M
DAYS, SEED, END = 365, 7, date(2026, 10, 31)  # the demo's data ends on END
MARKER = "bench-build.json"
MAU_WINDOW = 30  # days, the current one included
UTC_ZONES = ("UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Zulu")

Rows = dict[date, float]  # period (the first day of a month for MRR) -> value


# -- the workspace --------------------------------------------------------------------
def workspace_dir(users: int) -> Path:
    return DATA / ("ws-20m" if users == DEFAULT_USERS else f"ws-{users}u")


def build_workspace(users: int) -> tuple[Path, dict[str, Any]]:
    """The cached demo workspace for ``users``; built if absent or incomplete."""
    from northstar.demo.load import load_demo

    path = workspace_dir(users)
    marker = path / MARKER
    wanted = {"users": users, "days": DAYS, "seed": SEED}
    if marker.exists():
        info = json.loads(marker.read_text())
        if all(info.get(k) == v for k, v in wanted.items()):
            return path, info
    if path.exists():  # an interrupted or different build: start over
        shutil.rmtree(path)
    print(f"building the demo workspace {path} ({users:,} users, {DAYS} days) ...", flush=True)
    started = time.perf_counter()
    ws = Workspace.init(path, name="bench")
    load_demo(ws, users=users, days=DAYS, seed=SEED)
    seconds = time.perf_counter() - started
    with ws.store(read_only=True) as store:
        row = store.execute("SELECT count(*) FROM events").fetchone()
    assert row is not None
    info = {**wanted, "events": int(row[0]), "build_seconds": round(seconds, 1)}
    marker.write_text(json.dumps(info, indent=2))
    return path, info


# -- hand-written SQL -------------------------------------------------------------------
def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class HandSQL:
    """The hand-written statements for one workspace and date range."""

    def __init__(
        self, ws: Workspace, start: date, end: date, *, mrr_row_decimals: int | None = None
    ) -> None:
        s = ws.settings
        self.db, self.tz, self.start, self.end = str(ws.db_path), s.timezone, start, end
        if s.events.active_events:
            active = f"event IN ({', '.join(map(_literal, s.events.active_events))})"
        else:
            active = f"event NOT IN ({', '.join(map(_literal, s.events.passive_events))})"
        zone = ZoneInfo(s.timezone)

        def midnight(day: date) -> str:
            return _literal(datetime(day.year, day.month, day.day, tzinfo=zone).isoformat())

        lo, lo_mau, hi = (
            midnight(start),
            midnight(start - timedelta(days=MAU_WINDOW - 1)),
            midnight(end + timedelta(days=1)),
        )
        self.person = "person_id" if s.events.merge_identities else "distinct_id"
        self.where = f"{active} AND timestamp >= {lo} AND timestamp < {hi}"
        self.where_mau = f"{active} AND timestamp >= {lo_mau} AND timestamp < {hi}"
        self.currency = _literal(s.currency)
        self.mrr_row_decimals = mrr_row_decimals
        # How a timestamp becomes its local day. CAST(TIMESTAMPTZ AS DATE) goes through ICU
        # in the session time zone and works for every zone; in a UTC workspace the day can
        # come from the epoch without ICU, which is several times faster on 20M rows.
        # Templates: {ts} is the timestamp column.
        self.day_of = {"CAST day": "CAST({ts} AS DATE)"}
        if s.timezone in UTC_ZONES:
            self.day_of["UTC epoch day"] = "CAST(make_timestamp(epoch_us({ts})) AS DATE)"
        self.days = {label: t.format(ts="timestamp") for label, t in self.day_of.items()}

    def calendar(self, first: date) -> str:
        return (
            "SELECT CAST(d AS DATE) AS day FROM range("
            f"DATE '{first}', DATE '{self.end + timedelta(days=1)}', INTERVAL 1 DAY) t(d)"
        )

    # DAU ---------------------------------------------------------------------------
    def dau_view(self, day: str) -> str:
        """Distinct persons per local day straight from the ``person_events`` view."""
        return f"""
WITH cal AS ({self.calendar(self.start)}),
dau AS (
  SELECT {day} AS day, count(DISTINCT {self.person}) AS n
  FROM person_events WHERE {self.where} GROUP BY 1)
SELECT cal.day, coalesce(dau.n, 0) FROM cal LEFT JOIN dau USING (day) ORDER BY 1"""

    def dau_ids_first(self, day: str) -> str:
        """Distinct (id, day) pairs on ``events`` first, merged into persons afterwards."""
        return f"""
WITH cal AS ({self.calendar(self.start)}),
{self._person_days(self.where, day)},
dau AS (SELECT day, count(*) AS n FROM pd GROUP BY 1)
SELECT cal.day, coalesce(dau.n, 0) FROM cal LEFT JOIN dau USING (day) ORDER BY 1"""

    def _person_days(self, where: str, day: str) -> str:
        """CTE ``pd(person_id, day)``: each person's distinct active local days."""
        merged = self.person == "person_id"
        person = "coalesce(m.person_id, ids.distinct_id)" if merged else "ids.distinct_id"
        return f"""
ids AS (SELECT DISTINCT distinct_id, {day} AS day FROM events WHERE {where}),
pd AS (
  SELECT DISTINCT {person} AS person_id, ids.day
  FROM ids LEFT JOIN _person_map m USING (distinct_id))"""

    # MAU ---------------------------------------------------------------------------
    def mau_range_join(self, day: str) -> str:
        """Each calendar day joined to the person-days of its 30-day window."""
        return f"""
WITH cal AS ({self.calendar(self.start)}),
{self._person_days(self.where_mau, day)}
SELECT cal.day, count(DISTINCT pd.person_id)
FROM cal LEFT JOIN pd ON pd.day BETWEEN cal.day - {MAU_WINDOW - 1} AND cal.day
GROUP BY 1 ORDER BY 1"""

    def mau_window(self, day: str) -> str:
        """count(DISTINCT) over a 30-day RANGE frame; calendar rows fill idle days."""
        return f"""
WITH cal AS ({self.calendar(self.start)}),
{self._person_days(self.where_mau, day)},
rows_ AS (SELECT day, person_id FROM pd UNION ALL SELECT day, NULL FROM cal),
w AS (
  SELECT day, count(DISTINCT person_id) OVER (
    ORDER BY day RANGE BETWEEN INTERVAL {MAU_WINDOW - 1} DAY PRECEDING AND CURRENT ROW) AS n
  FROM rows_)
SELECT day, max(n) FROM w WHERE day >= DATE '{self.start}' GROUP BY 1 ORDER BY 1"""

    def mau_running_sum(self, day: str) -> str:
        """+1 on each person-day, -1 at min(next active day, day + 30); a running sum."""
        first = self.start - timedelta(days=MAU_WINDOW - 1)
        return f"""
WITH cal AS ({self.calendar(first)}),
{self._person_days(self.where_mau, day)},
nx AS (SELECT day, lead(day) OVER (PARTITION BY person_id ORDER BY day) AS next_day FROM pd),
deltas AS (
  SELECT day, 1 AS delta FROM nx
  UNION ALL
  SELECT least(coalesce(next_day, day + {MAU_WINDOW}), day + {MAU_WINDOW}), -1 FROM nx),
per_day AS (SELECT day, sum(delta) AS delta FROM deltas GROUP BY 1),
run AS (
  SELECT cal.day, sum(coalesce(per_day.delta, 0)) OVER (ORDER BY cal.day) AS n
  FROM cal LEFT JOIN per_day USING (day))
SELECT day, CAST(n AS BIGINT) FROM run WHERE day >= DATE '{self.start}' ORDER BY 1"""

    # MRR ---------------------------------------------------------------------------
    def _mrr_rows(self, day: str, rate: str) -> str:
        """CTE ``r(sd, ed, mrr)``: each non-trial period's MRR in the workspace currency.

        ``day`` is a template of ``day_of``. ``rate`` is how a period finds the FX rate
        of its start day: ``row`` as-of joins every period to ``fx_rates``; ``pair``
        as-of joins each distinct (currency, start day) pair once, for the foreign
        currencies only, and hands the rate to the periods by a hash join (an as-of join
        sorts both of its sides)."""
        home = self.currency
        s = f"""
first_rate AS (SELECT currency, arg_min(rate, date) AS rate FROM fx_rates GROUP BY 1),
s AS (
  SELECT {day.format(ts="started_at")} AS sd, {day.format(ts="ended_at")} AS ed, currency,
         CAST(amount * coalesce(quantity, 1) - coalesce(discount, 0) AS DOUBLE)
         * CASE "interval" WHEN 'month' THEN 1.0 WHEN 'year' THEN 1.0 / 12
                           WHEN 'quarter' THEN 1.0 / 3 WHEN 'week' THEN 52.0 / 12 END AS local
  FROM subscriptions WHERE status <> 'trialing')"""
        if rate == "row":
            found = "coalesce(f.rate, fr.rate)"
            joins = """s ASOF LEFT JOIN fx_rates f ON s.currency = f.currency AND s.sd >= f.date
  LEFT JOIN first_rate fr ON fr.currency = s.currency"""
        else:
            s += f""",
pairs AS (SELECT DISTINCT currency, sd FROM s WHERE currency <> {home}),
pair_rate AS (
  SELECT p.currency, p.sd, coalesce(f.rate, fr.rate) AS rate
  FROM pairs p ASOF LEFT JOIN fx_rates f ON p.currency = f.currency AND p.sd >= f.date
  LEFT JOIN first_rate fr ON fr.currency = p.currency)"""
            found = "pr.rate"
            joins = "s LEFT JOIN pair_rate pr ON s.currency = pr.currency AND s.sd = pr.sd"
        mrr = f"s.local * CASE WHEN s.currency = {home} THEN 1.0 ELSE {found} END"
        places = self.mrr_row_decimals
        if places is not None:  # round each row, then sum exactly
            mrr = f"CAST(round({mrr}, {places}) AS DECIMAL(18, {places}))"
        return f"""{s},
r AS (SELECT s.sd, s.ed, {mrr} AS mrr FROM {joins})"""

    def _month_ends(self) -> str:
        return (
            "SELECT CAST(m AS DATE) AS month, last_day(CAST(m AS DATE)) AS d FROM range("
            f"DATE '{self.start.replace(day=1)}', DATE '{self.end + timedelta(days=1)}', "
            "INTERVAL 1 MONTH) t(m)"
        )

    def mrr_range_join(self, day: str, rate: str) -> str:
        """Each month end joined to the periods open at the end of that day."""
        return f"""
WITH me AS ({self._month_ends()}),
{self._mrr_rows(day, rate)}
SELECT me.month, coalesce(sum(r.mrr), 0)
FROM me LEFT JOIN r ON r.sd <= me.d AND (r.ed IS NULL OR r.ed > me.d)
GROUP BY 1 ORDER BY 1"""

    def _mrr_per_day(self) -> str:
        """CTE ``per_day(day, delta)``: +MRR on start days, -MRR on end days."""
        return """
deltas AS (
  SELECT sd AS day, sum(mrr) AS delta FROM r GROUP BY 1
  UNION ALL
  SELECT ed, -sum(mrr) FROM r WHERE ed IS NOT NULL GROUP BY 1),
per_day AS (SELECT day, sum(delta) AS delta FROM deltas GROUP BY 1)"""

    def mrr_running_sum(self, day: str, rate: str) -> str:
        """The day changes summed up to each month end (a range join on ~2,000 days)."""
        return f"""
WITH me AS ({self._month_ends()}),
{self._mrr_rows(day, rate)},
{self._mrr_per_day()}
SELECT me.month, coalesce(sum(per_day.delta), 0)
FROM me LEFT JOIN per_day ON per_day.day <= me.d
GROUP BY 1 ORDER BY 1"""

    def mrr_running_asof(self, day: str, rate: str) -> str:
        """A running total over the change days, read at each month end by an as-of join."""
        return f"""
WITH me AS ({self._month_ends()}),
{self._mrr_rows(day, rate)},
{self._mrr_per_day()},
total AS (SELECT day, sum(delta) OVER (ORDER BY day) AS mrr FROM per_day)
SELECT me.month, coalesce(total.mrr, 0)
FROM me ASOF LEFT JOIN total ON me.d >= total.day ORDER BY 1"""

    def run(self, sql: str) -> Rows:
        """Run on a fresh read-only connection, as every Northstar query opens the store."""
        con = duckdb.connect(self.db, read_only=True)
        try:
            con.execute(f"SET TimeZone = {_literal(self.tz)}")
            return {day: value for day, value in con.execute(sql).fetchall()}
        finally:
            con.close()


# -- the benchmark --------------------------------------------------------------------
METRICS = ("dau", "mau", "mrr")
GRAIN = {"dau": "day", "mau": "day", "mrr": "month"}


def formulations(hand: HandSQL) -> dict[str, dict[str, str]]:
    """Every hand-written statement per metric, by name; they must all give the same rows."""
    out: dict[str, dict[str, str]] = {"dau": {}, "mau": {}}
    for label, day in hand.days.items():
        out["dau"][f"person_events view, {label}"] = hand.dau_view(day)
        out["dau"][f"ids first, {label}"] = hand.dau_ids_first(day)
        out["mau"][f"range join, {label}"] = hand.mau_range_join(day)
        out["mau"][f"window range frame, {label}"] = hand.mau_window(day)
        out["mau"][f"running sum, {label}"] = hand.mau_running_sum(day)
    out["mrr"] = {}
    for label, day in hand.day_of.items():
        for rate in ("row", "pair"):
            name = f"{label}, rate per {rate}"
            out["mrr"][f"range join, {name}"] = hand.mrr_range_join(day, rate)
            out["mrr"][f"running sum, {name}"] = hand.mrr_running_sum(day, rate)
            out["mrr"][f"running sum as-of, {name}"] = hand.mrr_running_asof(day, rate)
    return out


def northstar_rows(ws: Workspace, metric: str, start: date, end: date) -> Rows:
    frame = ws.query(metric, grain=GRAIN[metric], start=start, end=end, use_cache=False)
    rows: Rows = {}
    for period, value in zip(frame["period"], frame["value"], strict=True):
        day = period.date() if isinstance(period, datetime) else period
        rows[day.replace(day=1) if GRAIN[metric] == "month" else day] = value
    return rows


def same(metric: str, got: Rows, want: Rows) -> list[str]:
    """Differences between two results (empty when they agree)."""
    problems = []
    if set(got) != set(want):
        missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
        problems.append(f"periods differ: missing {missing[:3]}..., extra {extra[:3]}...")
    for period in sorted(set(got) & set(want)):
        a, b = got[period], want[period]
        if a is None or b is None or (isinstance(a, float) and math.isnan(a)):
            ok = a is None and b is None
        elif metric == "mrr":
            ok = math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-6)
        else:
            ok = float(a) == float(b) and float(a).is_integer()
        if not ok:
            problems.append(f"{period}: {a!r} != {b!r}")
    return problems


def check(metric: str, results: dict[str, Rows]) -> None:
    """Fail loudly unless every result of ``metric`` equals the first hand formulation's."""
    (ref_name, ref), *others = results.items()
    for name, rows in others:
        problems = same(metric, rows, ref)
        if problems:
            raise SystemExit(
                f"{metric}: {name} disagrees with {ref_name} on {len(problems)} periods:\n  "
                + "\n  ".join(problems[:10])
            )


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=DEFAULT_USERS, help="demo users")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per query (median)")
    parser.add_argument("--metrics", default=",".join(METRICS), help="comma-separated subset")
    parser.add_argument(
        "--hand-only", action="store_true", help="time the hand-written SQL only (no Northstar)"
    )
    parser.add_argument(
        "--mrr-row-decimals",
        type=int,
        default=4,
        help="round each subscription row's MRR to this many decimals before summing in the "
        "hand SQL, as Northstar's billing model does (default 4; -1: no rounding)",
    )
    args = parser.parse_args()
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    if unknown := sorted(set(metrics) - set(METRICS)):
        parser.error(f"unknown metrics {unknown}; choose from {', '.join(METRICS)}")
    DATA.mkdir(exist_ok=True)
    path, info = build_workspace(args.users)
    ws = Workspace(path)
    start, end = END - timedelta(days=DAYS - 1), END
    print(
        f"workspace {path}: {info['events']:,} events, built in {info['build_seconds']} s; "
        f"{start} .. {end}, median of {args.runs} runs after a warm-up"
    )
    if not args.hand_only and not hasattr(ws, "query"):
        raise SystemExit("Workspace.query does not exist yet; run with --hand-only")
    hand = HandSQL(
        ws,
        start,
        end,
        mrr_row_decimals=None if args.mrr_row_decimals < 0 else args.mrr_row_decimals,
    )
    candidates = formulations(hand)
    report: dict[str, Any] = {
        "workspace": {**info, "path": str(path)},
        "range": [str(start), str(end)],
        "runs": args.runs,
        "mrr_row_decimals": args.mrr_row_decimals,
        "metrics": {},
    }
    print(
        f"\n{'metric':<8}{'northstar s':>13}{'hand SQL s':>12}{'ratio':>8}  best hand formulation"
    )
    for metric in metrics:
        queries: dict[str, Callable[[], Rows]] = {
            f"hand: {name}": (lambda sql=sql: hand.run(sql))
            for name, sql in candidates[metric].items()
        }
        if not args.hand_only:
            queries["northstar"] = lambda metric=metric: northstar_rows(ws, metric, start, end)
        check(metric, {name: fn() for name, fn in queries.items()})  # also the warm-up
        times: dict[str, list[float]] = {name: [] for name in queries}
        for _ in range(args.runs):
            for name, fn in queries.items():
                times[name].append(timed(fn))
        medians = {name: statistics.median(ts) for name, ts in times.items()}
        best = min((n for n in medians if n.startswith("hand: ")), key=medians.__getitem__)
        ns = medians.get("northstar")
        ratio = ns / medians[best] if ns is not None else None
        print(
            f"{metric:<8}{'-' if ns is None else f'{ns:.3f}':>13}{medians[best]:>12.3f}"
            f"{'-' if ratio is None else f'{ratio:.2f}x':>8}  {best.removeprefix('hand: ')}"
        )
        for name in queries:
            if name.startswith("hand: "):
                own = "" if ns is None else f"{ns / medians[name]:.2f}x"
                label = name.removeprefix("hand: ")
                print(f"{'':<8}{'':>13}{medians[name]:>12.3f}{own:>8}    {label}")
        report["metrics"][metric] = {
            "grain": GRAIN[metric],
            "northstar_s": ns,
            "hand_s": medians[best],
            "ratio": ratio,
            "best_hand": best.removeprefix("hand: "),
            "medians_s": medians,
            "runs_s": times,
            "hand_sql": {name: " ".join(sql.split()) for name, sql in candidates[metric].items()},
        }
    out = DATA / "metric_speed.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
