"""Analysis speed: retention tables and funnels through Northstar vs the best hand-written
DuckDB SQL.

Run:  make bench-analyses    (or: .venv/bin/python benchmarks/analysis_speed.py --runs 5)

Uses the cached 20M-event demo workspace of ``metric_speed.py`` (benchmarks/.data/ws-20m;
built on first use). Three cases, each computed through ``Workspace.retention`` /
``Workspace.funnel`` and through several hand-written DuckDB formulations:

- ``retention``: any active event → any active event, weekly, 12 periods, recurring,
  calendar weeks; cohorts of the 12 weeks 2026-08-03 .. 2026-10-25, today 2026-11-01.
- ``retention-signup``: the same with ``signed_up`` as the start event.
- ``funnel``: signed_up → project_created → dashboard_viewed → report_created →
  report_exported, ordered, 14-day window, entries 2026-09-01 .. 2026-09-30.

Before timing, every result must agree: retention cells (cohort, k) exactly; funnel step
counts exactly and average/median seconds to convert to the millisecond (Northstar
rounds them to 3 decimals). Then one warm-up (the check) and ``--runs`` interleaved runs
of each, every run on a fresh connection (Northstar opens the store in each call), and
the medians. The ratio is Northstar against the fastest hand formulation.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

sys.path.insert(0, str(Path(__file__).parent))
from metric_speed import (
    DATA,
    DEFAULT_USERS,
    UTC_ZONES,
    _literal,
    build_workspace,
)
from northstar.workspace import Workspace

TODAY = date(2026, 11, 1)  # the demo's data ends on 2026-10-31
# 12 whole Monday-based weeks of cohorts, the last one ending a week before the data does.
RET_FIRST, RET_LAST, RET_PERIODS = date(2026, 8, 3), date(2026, 10, 25), 12
FUNNEL = ("signed_up", "project_created", "dashboard_viewed", "report_created", "report_exported")
FUN_FIRST, FUN_LAST, FUN_WINDOW = date(2026, 9, 1), date(2026, 9, 30), timedelta(days=14)
WEEK_SHIFT = {"monday": 0, "sunday": 1, "saturday": 2}  # as northstar.metrics.periods
NOWHERE = 2**63 - 1  # an as-of bound no position reaches

Cells = dict[Any, Any]  # retention: (cohort, k) -> count; funnel: stat name -> value


# -- hand-written SQL -------------------------------------------------------------------
class HandSQL:
    """The hand-written statements for one workspace."""

    def __init__(self, ws: Workspace) -> None:
        s = ws.settings
        self.db, self.tz = str(ws.db_path), s.timezone
        if s.events.active_events:
            self.active = f"event IN ({', '.join(map(_literal, s.events.active_events))})"
        else:
            self.active = f"event NOT IN ({', '.join(map(_literal, s.events.passive_events))})"
        self.zone = ZoneInfo(s.timezone)
        self.merge = s.events.merge_identities
        self.shift = WEEK_SHIFT[s.week_start.value]
        self.utc = s.timezone in UTC_ZONES

    def midnight(self, day: date) -> str:
        d = datetime(day.year, day.month, day.day, tzinfo=self.zone)
        return f"CAST({_literal(d.isoformat())} AS TIMESTAMPTZ)"

    def _persons(self, ids: str, cols: str) -> str:
        """``ids`` (a CTE with distinct_id) merged into persons through ``_person_map``."""
        if not self.merge:
            return f"SELECT DISTINCT distinct_id AS person_id, {cols} FROM {ids}"
        return (
            f"SELECT DISTINCT coalesce(m.person_id, {ids}.distinct_id) AS person_id, {cols} "
            f"FROM {ids} LEFT JOIN _person_map m USING (distinct_id)"
        )

    # Retention -------------------------------------------------------------------------
    # Weeks are either dates (CAST through the session time zone, any zone) or, in a UTC
    # workspace, integer week numbers from the epoch (no ICU). k = weeks between.
    def _week(self, how: str) -> tuple[str, str, str, str]:
        """(day of ``timestamp``, week of a day ``{}``, k between weeks c and r, cohort
        start date of c)."""
        s = self.shift
        if how == "cast":
            week = f"CAST(date_trunc('week', {{}} + {s}) AS DATE) - {s}"
            return "CAST(timestamp AS DATE)", week, "datediff('day', c.week, r.week) // 7", "c.week"
        cohort = f"DATE '1970-01-01' + CAST(7 * c.week - {3 + s} AS INT)"
        return (
            "epoch_us(timestamp) // 86400000000",
            f"({{}} + {3 + s}) // 7",
            "r.week - c.week",
            cohort,
        )

    def _event(self, event: str | None) -> str:
        return self.active if event is None else f"event = {_literal(event)}"

    def _pw(self, event: str | None, last: date, how: str, shape: str) -> str:
        """SELECT of the distinct (person_id, week) pairs of ``event`` from the first
        cohort to ``last``. ``shape``: ``ids`` (distinct (id, week) pairs, then persons),
        ``days`` (distinct (id, day) pairs, their weeks, then persons) or ``view`` (the
        ``person_events`` view)."""
        day, week_of, _, _ = self._week(how)
        where = (
            f"{self._event(event)} AND timestamp >= {self.midnight(RET_FIRST)} "
            f"AND timestamp < {self.midnight(last + timedelta(days=1))}"
        )
        if shape == "view":
            who = "person_id" if self.merge else "distinct_id"
            return (
                f"SELECT DISTINCT {who} AS person_id, {week_of.format(day)} AS week "
                f"FROM person_events WHERE {where}"
            )
        if shape == "ids":
            week = week_of.format(day)
            ids = f"SELECT DISTINCT distinct_id, {week} AS week FROM events WHERE {where}"
            return f"(WITH ids AS ({ids}) {self._persons('ids', 'week')})"
        ids = f"SELECT DISTINCT distinct_id, {day} AS d FROM events WHERE {where}"
        return f"(WITH ids AS ({ids}) {self._persons('ids', week_of.format('d') + ' AS week')})"

    def retention_join(self, start: str | None, reach: date, how: str, shape: str) -> str:
        """Distinct (person, week) pairs, a self-join on person, counted per (cohort, k);
        the return event is any active event."""
        _, _, k, cohort = self._week(how)
        pairs = f"pw AS ({self._pw(None, reach, how, shape)})"
        if start is None:  # one scan: cohort weeks are the pairs' weeks up to the last cohort
            cohorts = f"c AS (SELECT * FROM pw WHERE week <= {self._pw_last_week(how)})"
        else:
            cohorts = f"c AS ({self._pw(start, RET_LAST, how, shape)})"
        return f"""
WITH {pairs}, {cohorts}
SELECT {cohort} AS cohort, 0 AS k, count(*) AS n FROM c GROUP BY c.week
UNION ALL
SELECT {cohort}, {k}, count(*)
FROM c JOIN pw r ON r.person_id = c.person_id AND {k} BETWEEN 1 AND {RET_PERIODS - 1}
GROUP BY c.week, 2"""

    def _pw_last_week(self, how: str) -> str:
        last_cohort = RET_LAST - timedelta(days=6)
        if how == "cast":
            return f"DATE '{last_cohort}'"
        return str(((last_cohort - date(1970, 1, 1)).days + 3 + self.shift) // 7)

    def retention_bitmask(self, start: str | None, reach: date) -> str:
        """One bit per active week per person (from distinct (id, day) pairs); the cells
        are counted over the distinct (start mask, return mask) pairs."""
        n_weeks = (reach - RET_FIRST).days // 7 + 1
        assert n_weeks < 63
        w0 = ((RET_FIRST - date(1970, 1, 1)).days + 3 + self.shift) // 7
        week = f"(d + {3 + self.shift}) // 7 - {w0}"
        cohorts = (RET_LAST - RET_FIRST).days // 7 + 1

        def masks(event: str | None, last: date, name: str) -> str:
            where = (
                f"{self._event(event)} AND timestamp >= {self.midnight(RET_FIRST)} "
                f"AND timestamp < {self.midnight(last + timedelta(days=1))}"
            )
            person = "coalesce(m.person_id, i.distinct_id)" if self.merge else "i.distinct_id"
            join = "LEFT JOIN _person_map m USING (distinct_id)" if self.merge else ""
            return f"""
{name}_ids AS (
  SELECT DISTINCT distinct_id, epoch_us(timestamp) // 86400000000 AS d FROM events WHERE {where}),
{name} AS (SELECT {person} AS person_id, bit_or(CAST(1 AS BIGINT) << ({week})) AS {name}
           FROM {name}_ids i {join} GROUP BY 1)"""

        if start is None:
            pm = f"{masks(None, reach, 'rm')}, pm AS (SELECT rm AS sm, rm FROM rm)"
        else:
            pm = (
                f"{masks(None, reach, 'rm')}, {masks(start, RET_LAST, 'sm')},\n"
                "pm AS (SELECT sm.sm, coalesce(rm.rm, 0) AS rm\n"
                "       FROM sm LEFT JOIN rm USING (person_id))"
            )
        return f"""
WITH {pm},
masks AS (SELECT sm, rm, count(*) AS n FROM pm GROUP BY 1, 2),
ck AS (SELECT c, k FROM range(0, {cohorts}) a(c), range(0, {RET_PERIODS}) b(k)
       WHERE c + k < {n_weeks})
SELECT DATE '{RET_FIRST}' + CAST(7 * c AS INT) AS cohort, k, sum(n)
FROM masks, ck
WHERE (sm >> c) & 1 = 1 AND (k = 0 OR (rm >> (c + k)) & 1 = 1)
GROUP BY 1, 2"""

    # Funnel ----------------------------------------------------------------------------
    def _stream(self, keep: str) -> str:
        """CTE ``p``: the persons' step events with a per-person position (time, then step,
        then uuid). ``keep``: ``all`` events, those of ``entrants`` (persons with a first
        step in the entry range), or only entrants' events in their ``spans`` (from their
        first entry to the window's end after their last one)."""
        steps = ", ".join(map(_literal, FUNNEL))
        step = "CASE e.event " + " ".join(
            f"WHEN {_literal(s)} THEN {i}" for i, s in enumerate(FUNNEL)
        )
        hi = f"{self.midnight(FUN_LAST + timedelta(days=1))} + INTERVAL {FUN_WINDOW.days} DAY"
        person = "coalesce(m.person_id, e.distinct_id)" if self.merge else "e.distinct_id"
        join = "LEFT JOIN _person_map m USING (distinct_id)" if self.merge else ""
        entries = f"SELECT person_id, ts FROM s WHERE step = 0 AND {self._entry('ts')}"
        rows = {
            "all": "s",
            "entrants": f"s WHERE person_id IN (SELECT person_id FROM ({entries}))",
            "spans": f"""s JOIN (
    SELECT person_id, min(ts) AS lo, max(ts) + INTERVAL {FUN_WINDOW.days} DAY AS hi
    FROM ({entries}) GROUP BY 1) USING (person_id)
  WHERE ts >= lo AND ts <= hi""",
        }[keep]
        return f"""
s AS (
  SELECT {person} AS person_id, e.timestamp AS ts, e.uuid, {step} END AS step
  FROM events e {join}
  WHERE e.event IN ({steps})
    AND e.timestamp >= {self.midnight(FUN_FIRST)} AND e.timestamp < {hi}),
p AS (
  SELECT person_id, ts, step,
         row_number() OVER (PARTITION BY person_id ORDER BY ts, step, uuid) AS pos
  FROM {rows})"""

    def _entry(self, ts: str) -> str:
        return (
            f"{ts} >= {self.midnight(FUN_FIRST)} AND "
            f"{ts} < {self.midnight(FUN_LAST + timedelta(days=1))}"
        )

    def _funnel_stats(self, last: str) -> str:
        n = len(FUNNEL)
        reached = " + ".join(["1"] + [f"CAST(t{j} IS NOT NULL AS INT)" for j in range(1, n)])
        cols = []
        for j in range(n):
            cols.append(f"count(*) FILTER (WHERE reached > {j}) AS c{j}")
            if j:
                secs = f"(epoch_us(t{j}) - epoch_us(t{j - 1})) / 1e6"
                cols.append(f"avg({secs}) FILTER (WHERE reached > {j}) AS avg{j}")
                cols.append(f"median({secs}) FILTER (WHERE reached > {j}) AS med{j}")
        return f"""
r AS (SELECT *, {reached} AS reached FROM {last}),
best AS (SELECT * FROM r
         QUALIFY row_number() OVER (PARTITION BY person_id ORDER BY reached DESC, t0) = 1)
SELECT {", ".join(cols)} FROM best"""

    def funnel_asof(self, keep: str) -> str:
        """Each later step: an ASOF join to the person's first event of it after the
        previous step's position; dropped past the window from the first step. The
        ASOF operator is forced: on a small estimated left side DuckDB otherwise plans a
        nested loop join, about 8x slower here."""
        n = len(FUNNEL)
        first = (
            f"SELECT person_id, ts AS t0, pos AS p0 FROM p WHERE step = 0 AND {self._entry('ts')}"
        )
        parts = [self._stream(keep), f"a0 AS ({first})"]
        for j in range(1, n):
            cols = ", ".join(["a.person_id", "a.t0"] + [f"a.t{i}" for i in range(1, j)])
            ok = f"n.ts <= a.t0 + INTERVAL {FUN_WINDOW.days} DAY"
            parts.append(
                f"a{j} AS (SELECT {cols}, CASE WHEN {ok} THEN n.ts END AS t{j}, "
                f"CASE WHEN {ok} THEN n.pos END AS p{j} FROM a{j - 1} a "
                f"ASOF LEFT JOIN (SELECT person_id, pos, ts FROM p WHERE step = {j}) n "
                # a NULL bound would match in DuckDB's sort-based ASOF join
                f"ON a.person_id = n.person_id AND coalesce(a.p{j - 1}, {NOWHERE}) < n.pos)"
            )
        return (
            "SET asof_loop_join_threshold = 0;\nWITH "
            + ",\n".join(parts)
            + ","
            + self._funnel_stats(f"a{n - 1}")
        )

    def funnel_pointers(self, keep: str) -> str:
        """Window functions give every event the position of the next event of each step;
        an attempt follows those pointers with equi-joins on (person, position)."""
        n = len(FUNNEL)
        nxt = ", ".join(
            f"min(CASE WHEN step = {j} THEN pos END) OVER w AS n{j}" for j in range(1, n)
        )
        first = (
            f"SELECT person_id, ts AS t0, n1 AS nn FROM nx WHERE step = 0 AND {self._entry('ts')}"
        )
        parts = [
            self._stream(keep),
            f"nx AS (SELECT *, {nxt} FROM p WINDOW w AS (PARTITION BY person_id ORDER BY pos "
            "ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING))",
            f"a0 AS ({first})",
        ]
        for j in range(1, n):
            cols = ", ".join(["a.person_id", "a.t0"] + [f"a.t{i}" for i in range(1, j)])
            ok = f"r.ts <= a.t0 + INTERVAL {FUN_WINDOW.days} DAY"
            nn = f", CASE WHEN {ok} THEN r.n{j + 1} END AS nn" if j < n - 1 else ""
            parts.append(
                f"a{j} AS (SELECT {cols}, CASE WHEN {ok} THEN r.ts END AS t{j}{nn} "
                f"FROM a{j - 1} a LEFT JOIN (SELECT * FROM nx WHERE step = {j}) r "
                "ON r.person_id = a.person_id AND r.pos = a.nn)"
            )
        return "WITH " + ",\n".join(parts) + "," + self._funnel_stats(f"a{n - 1}")

    def run(self, sql: str) -> list[tuple[Any, ...]]:
        """Run on a fresh read-only connection, as every Northstar call opens the store."""
        con = duckdb.connect(self.db, read_only=True)
        try:
            con.execute(f"SET TimeZone = {_literal(self.tz)}")
            return con.execute(sql).fetchall()
        finally:
            con.close()


# -- the cases --------------------------------------------------------------------------
def retention_cells(rows: list[tuple[Any, ...]]) -> Cells:
    return {(str(c), int(k)): int(n) for c, k, n in rows if n}


def northstar_retention(ws: Workspace, start: str) -> Cells:
    table = ws.retention(
        start, "$active", period="week", periods=RET_PERIODS, start=RET_FIRST, end=RET_LAST,
        today=TODAY,
    )  # fmt: skip
    return {(str(c.start), k): n for c in table.cohorts for k, n in enumerate(c.counts) if n}


def funnel_cells(rows: list[tuple[Any, ...]], names: list[str]) -> Cells:
    return dict(zip(names, rows[0], strict=True))


def northstar_funnel(ws: Workspace) -> Cells:
    result = ws.funnel(list(FUNNEL), window="14d", start=FUN_FIRST, end=FUN_LAST, today=TODAY)
    out: Cells = {}
    for j, step in enumerate(result.steps):
        out[f"c{j}"] = step.count
        if j:
            out[f"avg{j}"] = step.avg_seconds_to_convert
            out[f"med{j}"] = step.median_seconds_to_convert
    return out


def funnel_names() -> list[str]:
    names = []
    for j in range(len(FUNNEL)):
        names.append(f"c{j}")
        if j:
            names += [f"avg{j}", f"med{j}"]
    return names


def same(got: Cells, want: Cells) -> list[str]:
    """Differences (empty when they agree): counts exactly, seconds to 0.5 ms."""
    problems = []
    for key in sorted(set(got) | set(want), key=str):
        a, b = got.get(key), want.get(key)
        if isinstance(a, float) or isinstance(b, float):
            ok = a is not None and b is not None and abs(float(a) - float(b)) <= 0.0005 + 1e-9
        else:
            ok = a == b
        if not ok:
            problems.append(f"{key}: {a!r} != {b!r}")
    return problems


def check(case: str, results: dict[str, Cells]) -> None:
    """Fail loudly unless every result equals the first hand formulation's."""
    (ref_name, ref), *others = results.items()
    for name, cells in others:
        problems = same(cells, ref)
        if problems:
            raise SystemExit(
                f"{case}: {name} disagrees with {ref_name} on {len(problems)} values:\n  "
                + "\n  ".join(problems[:10])
            )


CASES = ("retention", "retention-signup", "funnel")


def queries(ws: Workspace, hand: HandSQL, case: str, hand_only: bool) -> dict[str, Any]:
    """name -> (function giving the cells, the SQL or None) for ``case``."""
    out: dict[str, Any] = {}
    if case.startswith("retention"):
        start = None if case == "retention" else "signed_up"
        reach = TODAY  # min(today, last cohort + 12 weeks - 1 day)
        forms = _retention_forms(hand, start, reach)
        for name, sql in forms.items():
            out[f"hand: {name}"] = (lambda sql=sql: retention_cells(hand.run(sql)), sql)
        if not hand_only:
            out["northstar"] = (lambda: northstar_retention(ws, start or "$active"), None)
    else:
        names = funnel_names()
        forms = {
            "ASOF joins": hand.funnel_asof("all"),
            "ASOF joins, entrants only": hand.funnel_asof("entrants"),
            "ASOF joins, entrants' spans only": hand.funnel_asof("spans"),
            "next-step pointers + equi-joins, entrants only": hand.funnel_pointers("entrants"),
            "next-step pointers + equi-joins, entrants' spans only": hand.funnel_pointers("spans"),
        }
        for name, sql in forms.items():
            out[f"hand: {name}"] = (lambda sql=sql: funnel_cells(hand.run(sql), names), sql)
        if not hand_only:
            out["northstar"] = (lambda: northstar_funnel(ws), None)
    return out


def _retention_forms(hand: HandSQL, start: str | None, reach: date) -> dict[str, str]:
    forms = {}
    for how in ["cast", "epoch"] if hand.utc else ["cast"]:
        label = "CAST day" if how == "cast" else "UTC epoch day"
        forms[f"(id, week) pairs, {label}"] = hand.retention_join(start, reach, how, "ids")
        forms[f"(id, day) pairs then weeks, {label}"] = hand.retention_join(
            start, reach, how, "days"
        )
    if hand.utc:
        forms["person_events view, UTC epoch day"] = hand.retention_join(
            start, reach, "epoch", "view"
        )
        forms["bitmask per person, UTC epoch day"] = hand.retention_bitmask(start, reach)
    return forms


def timed_cpu(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, every thread of this process)."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    fn()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=DEFAULT_USERS, help="demo users")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per query (median)")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated subset")
    parser.add_argument(
        "--hand-only", action="store_true", help="time the hand-written SQL only (no Northstar)"
    )
    args = parser.parse_args()
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    if unknown := sorted(set(cases) - set(CASES)):
        parser.error(f"unknown cases {unknown}; choose from {', '.join(CASES)}")
    DATA.mkdir(exist_ok=True)
    path, info = build_workspace(args.users)
    ws = Workspace(path)
    hand = HandSQL(ws)
    print(
        f"workspace {path}: {info['events']:,} events; today {TODAY}; "
        f"median of {args.runs} runs after a warm-up"
    )
    report: dict[str, Any] = {
        "workspace": {**info, "path": str(path)},
        "today": str(TODAY),
        "runs": args.runs,
        "cases": {},
    }
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"\n{'case':<18}{'northstar s':>13}{'hand SQL s':>12}{'ratio':>8}  best hand formulation")
    for case in cases:
        qs = queries(ws, hand, case, args.hand_only)
        check(case, {name: fn() for name, (fn, _) in qs.items()})  # also the warm-up
        wall: dict[str, list[float]] = {name: [] for name in qs}
        cpu: dict[str, list[float]] = {name: [] for name in qs}
        for _ in range(args.runs):
            for name, (fn, _) in qs.items():
                w, c = timed_cpu(fn)
                wall[name].append(w)
                cpu[name].append(c)
        medians = {name: statistics.median(ts) for name, ts in wall.items()}
        best = min((n for n in medians if n.startswith("hand: ")), key=medians.__getitem__)
        ns = medians.get("northstar")
        ratio = ns / medians[best] if ns is not None else None
        print(
            f"{case:<18}{'-' if ns is None else f'{ns:.3f}':>13}{medians[best]:>12.3f}"
            f"{'-' if ratio is None else f'{ratio:.2f}x':>8}  {best.removeprefix('hand: ')}"
        )
        paired = cpu_ratio = None
        if ns is not None:
            # Run i of each query ran back to back: the median of the per-run ratios
            # cancels load that drifts between runs; CPU seconds (all threads of this
            # process) are less sensitive to other processes than wall seconds.
            paired = statistics.median(
                a / b for a, b in zip(wall["northstar"], wall[best], strict=True)
            )
            cpu_ratio = statistics.median(cpu["northstar"]) / statistics.median(cpu[best])
            ts = wall["northstar"]
            print(
                f"{'':<18}{'':>13}{'':>12}{'':>8}  northstar runs {min(ts):.2f}..{max(ts):.2f} s;"
                f" paired ratio {paired:.2f}x, CPU ratio {cpu_ratio:.2f}x"
            )
        for name in qs:
            if name.startswith("hand: "):
                own = "" if ns is None else f"{ns / medians[name]:.2f}x"
                label = name.removeprefix("hand: ")
                ts = wall[name]
                print(
                    f"{'':<18}{'':>13}{medians[name]:>12.3f}{own:>8}    {label}"
                    f" ({min(ts):.2f}..{max(ts):.2f} s)"
                )
        report["cases"][case] = {
            "northstar_s": ns,
            "hand_s": medians[best],
            "ratio": ratio,
            "paired_ratio": paired,
            "cpu_ratio": cpu_ratio,
            "best_hand": best.removeprefix("hand: "),
            "medians_s": medians,
            "runs_s": wall,
            "runs_cpu_s": cpu,
            "hand_sql": {
                name.removeprefix("hand: "): " ".join(sql.split())
                for name, (_, sql) in qs.items()
                if sql is not None
            },
        }
    print(f"\nload average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    out = DATA / "analysis_speed.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
