"""Explain speed: why DAU fell, over 1M events and 6 dimensions at depth 2, through
Northstar vs one hand-written DuckDB statement computing the same segment values.

Run:  make bench-explain    (or: .venv/bin/python benchmarks/explain_speed.py --runs 3)

Data (generated once into benchmarks/.data/ws-explain-<shape>, git-ignored): two weeks of
events from users with four user properties (country 10 values, plan 4, channel 6,
device 3) and two event properties (``$os`` 5, ``$browser`` 6, fixed per user); in the
second week the users of country = BR and device = android are active 70 % less often.
Two shapes: ``wide`` (60,000 users, ~1.0M events) and ``deep`` (6,000 users, ~1.0M
events: ten times the events per user).

Northstar: ``Workspace.explain`` of ``dau`` for the second week against the first, by the
six dimensions, depth 2, with the query cache emptied before each run (a cold explain).
Hand-written: one statement with GROUPING SETS computing the weekly mean DAU of every
segment of every dimension set Northstar looked at (the totals, the six dimensions, and
the pairs it chose to combine) for both weeks. Both must agree on every segment's value
(1e-9) before timing. The check also requires the planted segment at rank 1.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from northstar.explain.service import ExplainRequest, Explanation
from northstar.workspace import Workspace

DATA = Path(__file__).parent / ".data"
WEEK1 = date(2026, 9, 7)  # a Monday
DIMS = ("country", "plan", "channel", "device", "$os", "$browser")
VALUES = {
    "country": ["US", "GB", "DE", "FR", "BR", "IN", "JP", "CA", "ES", "NL"],
    "plan": ["free", "starter", "pro", "team"],
    "channel": ["organic", "paid_social", "google_ads", "referral", "content", "email"],
    "device": ["desktop", "android", "ios"],
    "$os": ["Windows", "macOS", "Android", "iOS", "Linux"],
    "$browser": ["Chrome", "Safari", "Firefox", "Edge", "Samsung Internet", "Opera"],
}
SHAPES = {"wide": (60_000, 0.17, 7), "deep": (6_000, 1.0, 12)}  # users, P(active a day), events


def _build(path: Path, users: int, rate: float, per_day: int, seed: int = 5) -> int:
    rng = np.random.default_rng(seed)
    picks = {k: rng.integers(0, len(v), users) for k, v in VALUES.items()}
    ids = [f"u{i:06d}" for i in range(users)]
    props = [
        json.dumps({k: VALUES[k][picks[k][i]] for k in ("country", "plan", "channel", "device")})
        for i in range(users)
    ]
    ws = Workspace.init(path, name="bench-explain", timezone="UTC")
    ws.import_arrow("users", pa.table({
        "user_id": ids,
        "created_at": pa.array([datetime(2026, 1, 1, tzinfo=UTC)] * users,
                               type=pa.timestamp("us", tz="UTC")),
        "properties": props,
    }))  # fmt: skip
    planted = (np.array(picks["country"]) == VALUES["country"].index("BR")) & (
        np.array(picks["device"]) == VALUES["device"].index("android")
    )
    who, when = [], []
    start = int(datetime.combine(WEEK1, datetime.min.time(), UTC).timestamp())
    for day in range(14):
        p = np.full(users, min(rate, 1.0))
        if day >= 7:
            p = np.where(planted, p * 0.3, p)
        active = np.flatnonzero(rng.random(users) < p)
        n = rng.poisson(per_day - 1, len(active)) + 1  # events per active user-day
        people = np.repeat(active, n)
        who.append(people)
        when.append(start + day * 86400 + rng.integers(0, 86400, len(people)))
    person = np.concatenate(who)
    ts = np.concatenate(when)
    ev_props = [
        json.dumps({"$os": VALUES["$os"][picks["$os"][i]],
                    "$browser": VALUES["$browser"][picks["$browser"][i]]})
        for i in range(users)
    ]  # fmt: skip
    table = pa.table({
        "event": pa.array(["dashboard_viewed"] * len(person)),
        "distinct_id": pa.array([ids[i] for i in person]),
        "timestamp": pa.array(ts * 1_000_000, type=pa.timestamp("us", tz="UTC")),
        "properties": pa.array([ev_props[i] for i in person]),
    })  # fmt: skip
    ws.import_arrow("events", table)
    return len(person)


def build(shape: str) -> Path:
    path = DATA / f"ws-explain-{shape}"
    marker = path / "bench-build.json"
    if not marker.exists():
        if path.exists():
            shutil.rmtree(path)
        print(f"building {path} ...", flush=True)
        events = _build(path, *SHAPES[shape])
        marker.write_text(json.dumps({"events": events}))
    return path


def northstar(path: Path) -> Explanation:
    shutil.rmtree(path / ".cache", ignore_errors=True)  # cold: no cached query results
    ws = Workspace(path)
    return ws.explain(
        ExplainRequest("dau", WEEK1 + timedelta(days=7), WEEK1 + timedelta(days=13), by=DIMS),
        today=WEEK1 + timedelta(days=14),
    )


def _column(dim: str) -> str:
    if dim.startswith("$"):
        return f"coalesce(e.properties->>'/{dim}', '(none)')"
    return f"coalesce(u.properties->>'/{dim}', '(none)')"


def hand(
    path: Path, sets: list[tuple[str, ...]]
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Weekly mean DAU per segment of every dimension set, both weeks, in one statement."""
    used = sorted({d for s in sets for d in s})
    cols = ", ".join(f'{_column(d)} AS "{d}"' for d in used)
    quoted = ", ".join(f'"{d}"' for d in used)  # this file's dimension names, not user text
    grouping = ", ".join("(day" + "".join(f', "{d}"' for d in s) + ")" for s in [(), *sets])
    sql = f"""
    WITH a AS (
      SELECT DISTINCT e.distinct_id AS p, CAST(e.timestamp AS DATE) AS day, {cols}
      FROM events e LEFT JOIN users u ON u.user_id = e.distinct_id
      WHERE e.timestamp >= $first AND e.timestamp < $end
    )
    SELECT day, {quoted}, GROUPING_ID({quoted}) AS g, count(DISTINCT p) AS dau
    FROM a GROUP BY GROUPING SETS ({grouping})
    """
    con = duckdb.connect(str(path / "northstar.duckdb"), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        first = datetime.combine(WEEK1, datetime.min.time(), UTC)
        rows = con.execute(sql, {"first": first, "end": first + timedelta(days=14)}).fetchall()
    finally:
        con.close()
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for row in rows:
        day, values, dau = row[0], row[1:-2], row[-1]
        g = row[-2]
        present = tuple(d for i, d in enumerate(used) if not (g >> (len(used) - 1 - i)) & 1)
        week = "current" if day >= WEEK1 + timedelta(days=7) else "baseline"
        key = tuple(sorted((d, str(values[used.index(d)])) for d in present))
        out[(week, key)] = out.get((week, key), 0.0) + dau / 7
    return out


def check(
    result: Explanation, hand_values: dict[tuple[str, tuple[tuple[str, str], ...]], float]
) -> None:
    assert result.segments and dict(result.segments[0].key) == {
        "country": "BR",
        "device": "android",
    }, result.summary
    for s in result.searched:
        for week, value in (("current", s.current), ("baseline", s.baseline)):
            theirs = hand_values.get((week, s.key), 0.0)
            assert abs((value or 0.0) - theirs) <= 1e-9 * max(1.0, theirs), (
                s.key,
                week,
                value,
                theirs,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--shape", choices=[*SHAPES, "all"], default="all")
    args = parser.parse_args()
    print("| shape | users | events | segments searched | Northstar (s) | hand-written SQL (s) "
          "| ratio |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for shape in SHAPES if args.shape == "all" else [args.shape]:
        path = build(shape)
        events = json.loads((path / "bench-build.json").read_text())["events"]
        result = northstar(path)
        sets = sorted({tuple(d for d, _ in s.key) for s in result.searched})
        check(result, hand(path, sets))
        ns, hs = [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            northstar(path)
            ns.append(time.perf_counter() - started)
            started = time.perf_counter()
            hand(path, sets)
            hs.append(time.perf_counter() - started)
        n, h = statistics.median(ns), statistics.median(hs)
        print(f"| {shape} | {SHAPES[shape][0]:,} | {events:,} | {len(result.searched)} | "
              f"{n:.2f} | {h:.2f} | {n / h:.1f}x |", flush=True)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
