"""Experiment analysis speed: 1M exposed users x 3 metrics through Northstar vs the best
hand-written DuckDB SQL for the same per-arm sums.

Run:  make bench-experiments    (or: .venv/bin/python benchmarks/experiment_speed.py --runs 3)

Two data shapes, generated once into benchmarks/.data/ (git-ignored):

- ``wide``: 1,000,000 exposed users (PostHog ``$feature_flag_called``, 50/50, 0.2 % of
  them see both arms), about 1.6 purchases each for the 45 % who buy (with an amount),
  and a page view for everybody: ~3.1M events.
- ``deep``: 100,000 exposed users with ~60 events each (page views, purchases, exports):
  ~6M events, so the per-user aggregation does more work per user.

Per shape the metrics are ``converted:purchase``, ``count:purchase`` and
``sum:purchase:amount``, analyzed with ``Workspace.analyze_experiment`` (fresh store
connection each run, as every call) and with one hand-written DuckDB statement computing
the same n, sums and sums of squares per arm. Before timing, both must agree: users per arm
exactly and every arm's mean to 1e-9. Then one warm-up and ``--runs`` interleaved runs of
each; medians and the ratio. Goal (issue 23): under 5 s for 1M users x 3 metrics.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from northstar.experiments.analysis import AnalyzeRequest
from northstar.workspace import Workspace

DATA = Path(__file__).parent / ".data"
START = datetime(2026, 9, 1, tzinfo=UTC)
AS_OF = date(2026, 10, 31)
METRICS = ("converted:purchase", "count:purchase", "sum:purchase:amount")
SHAPES = {
    # users, purchase share, mean purchases per buyer, extra page views per user
    "wide": (1_000_000, 0.45, 1.6, 1),
    "deep": (100_000, 0.7, 12.0, 45),
}


def _events(users: int, buy_share: float, buys: float, views: int, seed: int = 11) -> pa.Table:
    rng = np.random.default_rng(seed)
    ids = np.array([f"u{i:07d}" for i in range(users)], dtype=object)
    seconds = 60 * 86400
    exposed_at = rng.integers(0, seconds // 2, users)
    arm = (rng.random(users) < 0.5).astype(np.int64)
    both = rng.random(users) < 0.002  # seen in both arms: excluded
    names, who, at, props = [], [], [], []

    def add(name: str, user_idx: np.ndarray, ts: np.ndarray, prop: list[str]) -> None:
        names.append(np.full(len(user_idx), name, dtype=object))
        who.append(ids[user_idx])
        at.append(ts)
        props.append(np.array(prop, dtype=object))

    flags = [json.dumps({"$feature_flag": "bench", "$feature_flag_response": v})
             for v in ("control", "test")]  # fmt: skip
    everyone = np.arange(users)
    add("$feature_flag_called", everyone, exposed_at, [flags[a] for a in arm])
    twice = np.flatnonzero(both)
    add("$feature_flag_called", twice, exposed_at[twice] + 60, [flags[1 - arm[i]] for i in twice])
    buyers = np.flatnonzero(rng.random(users) < buy_share + 0.05 * arm)
    n_buys = 1 + rng.poisson(buys - 1, len(buyers))
    who_buys = np.repeat(buyers, n_buys)
    # 80 % after exposure, 20 % in the 14 days before it (the CUPED covariate)
    offset = np.where(rng.random(len(who_buys)) < 0.8,
                      rng.integers(0, seconds // 2, len(who_buys)),
                      -rng.integers(1, 14 * 86400, len(who_buys)))  # fmt: skip
    amounts = np.round(rng.lognormal(3.0, 0.8, len(who_buys)), 2)
    add("purchase", who_buys, exposed_at[who_buys] + offset,
        [f'{{"amount": {a}}}' for a in amounts])  # fmt: skip
    who_views = np.repeat(everyone, views)
    add("$pageview", who_views, exposed_at[who_views] + rng.integers(-86400, seconds // 2,
        len(who_views)), ['{"$current_url": "/app"}'] * len(who_views))  # fmt: skip
    ts = np.concatenate(at)
    base = int(START.timestamp() * 1_000_000)
    n = len(ts)
    return pa.table({
        "uuid": pa.array([f"e{i:09d}" for i in range(n)]),
        "event": pa.array(np.concatenate(names), type=pa.string()),
        "distinct_id": pa.array(np.concatenate(who), type=pa.string()),
        "timestamp": pa.array(base + ts.astype(np.int64) * 1_000_000,
                              type=pa.timestamp("us", tz="UTC")),
        "properties": pa.array(np.concatenate(props), type=pa.string()),
    })  # fmt: skip


def build(shape: str) -> Path:
    path = DATA / f"ws-exp-{shape}"
    marker = path / "bench-build.json"
    if marker.exists():
        return path
    if path.exists():
        import shutil

        shutil.rmtree(path)
    print(f"building {path} ...", flush=True)
    started = time.perf_counter()
    ws = Workspace.init(path, name=f"bench-{shape}", timezone="UTC")
    table = _events(*SHAPES[shape])
    ws.import_arrow("events", table)
    marker.write_text(json.dumps({"events": table.num_rows,
                                  "seconds": round(time.perf_counter() - started, 1)}))  # fmt: skip
    return path


HAND = """
WITH x AS (
  SELECT distinct_id AS pid, timestamp AS t, properties->>'/$feature_flag_response' AS v
  FROM events
  WHERE event = '$feature_flag_called' AND (properties->>'/$feature_flag') = 'bench'
    AND timestamp < $end
), e AS (
  SELECT pid, min(t) AS first_at, arg_min(v, t) AS v, count(DISTINCT v) AS nv FROM x GROUP BY pid
), m AS (
  SELECT e.pid, 1.0 AS conv, count(*)::DOUBLE AS cnt,
         sum(TRY_CAST(p.properties->>'amount' AS DOUBLE)) AS amt
  FROM e JOIN events p ON p.distinct_id = e.pid AND p.timestamp >= e.first_at
  WHERE p.event = 'purchase' AND p.timestamp < $end AND e.nv = 1
  GROUP BY e.pid
)
SELECT v, count(*) AS n,
       sum(coalesce(conv, 0)) AS conv,
       sum(coalesce(cnt, 0)) AS cnt, sum(coalesce(cnt, 0) ^ 2) AS cnt2,
       sum(coalesce(amt, 0)) AS amt, sum(coalesce(amt, 0) ^ 2) AS amt2
FROM e LEFT JOIN m USING (pid) WHERE nv = 1 GROUP BY v ORDER BY v
"""


def hand(path: Path) -> dict[str, tuple[int, float, float, float]]:
    con = duckdb.connect(str(path / "northstar.duckdb"), read_only=True)
    try:
        end = datetime.combine(AS_OF + timedelta(days=1), datetime.min.time(), UTC)
        rows = con.execute(HAND, {"end": end}).fetchall()
    finally:
        con.close()
    return {str(r[0]): (int(r[1]), float(r[2]) / r[1], float(r[3]) / r[1], float(r[5]) / r[1])
            for r in rows}  # fmt: skip


def northstar(path: Path) -> dict[str, tuple[int, float, float, float]]:
    ws = Workspace(path)
    result = ws.analyze_experiment(AnalyzeRequest("bench", METRICS), today=AS_OF)
    out: dict[str, list[Any]] = {}
    for r in result.results:
        out.setdefault(r.control, [r.control_n])
        out.setdefault(r.variation, [r.n])
        out[r.control].append(r.control_mean)
        out[r.variation].append(r.mean)
    return {k: (v[0], v[1], v[2], v[3]) for k, v in out.items()}


def timed(fn: Callable[[Path], Any], path: Path) -> float:
    started = time.perf_counter()
    fn(path)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--shape", choices=[*SHAPES, "all"], default="all")
    args = parser.parse_args()
    shapes = list(SHAPES) if args.shape == "all" else [args.shape]
    print("| shape | users | events | Northstar (s) | hand-written SQL (s) | ratio |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for shape in shapes:
        path = build(shape)
        info = json.loads((path / "bench-build.json").read_text())
        ours, theirs = northstar(path), hand(path)  # the check, and the warm-up
        assert ours.keys() == theirs.keys(), (ours, theirs)
        for arm in ours:
            assert ours[arm][0] == theirs[arm][0], (arm, ours[arm], theirs[arm])
            for a, b in zip(ours[arm][1:], theirs[arm][1:], strict=True):
                assert abs(a - b) <= 1e-9 * max(1.0, abs(b)), (arm, ours[arm], theirs[arm])
        ns, hs = [], []
        for _ in range(args.runs):
            ns.append(timed(northstar, path))
            hs.append(timed(hand, path))
        n, h = statistics.median(ns), statistics.median(hs)
        users = SHAPES[shape][0]
        print(f"| {shape} | {users:,} | {info['events']:,} | {n:.2f} | {h:.2f} | {n / h:.2f}x |",
              flush=True)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
