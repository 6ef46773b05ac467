"""People counts on a skewed shape: 10M events, 200,000 users, 20 event names, one year.

Run:  make bench-shape    (or: .venv/bin/python benchmarks/shape_speed.py --runs 3)

Issue 18's shape, generated once by DuckDB into ``benchmarks/.data/shape-10m.parquet``
(``--events``/``--users`` change it): events of a year (2025-11-01 .. 2026-10-31) whose
users' activity is skewed (user = 200,000 × u^2.5 for a uniform u: a few heavy users,
a long tail), 20 event names, a text ``uuid`` per event, ``$os`` and ``plan`` properties;
one user in twenty starts anonymous (``anon-N``) and is identified by an ``$identify``
event carrying ``$anon_distinct_id``, so that the identity map has work to do.

1. Import: ``northstar import events FILE`` into a fresh workspace, as a whole process
   (``--import-runs``), and the file's rows per second; the floor is DuckDB's own
   ``CREATE TABLE AS SELECT * FROM read_parquet(...)`` in a Python process.
2. Queries, as whole processes: ``northstar query METRIC --grain day --no-cache --format
   csv`` against a Python process that opens the same file read-only and runs the best
   hand-written DuckDB statement (the formulations of ``metric_speed.py``: persons through
   the identity map, every local day of the year). Cold: the workspace's compiled-query
   cache emptied first; warm: kept. DAU and MAU by day, and DAU broken down by ``$os``.
   Before timing, the numbers of both sides must be equal.

The ratio is Northstar's median over the fastest hand formulation's median.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))
from metric_speed import HandSQL, formulations, same
from northstar.workspace import Workspace

DATA = Path(__file__).parent / ".data"
FIRST, LAST = date(2025, 11, 1), date(2026, 10, 31)
NAMES = [f"event_{i:02d}" for i in range(18)] + ["$pageview", "$pageleave"]
NORTHSTAR = str(Path(sys.executable).parent / "northstar")


def generate(path: Path, events: int, users: int) -> None:
    """The shape as Parquet, written by DuckDB (ids, names and times from ``range``)."""
    names = "[" + ", ".join(f"'{n}'" for n in NAMES) + "]"
    seconds = (LAST - FIRST).days * 86_400 + 86_399
    sql = f"""
COPY (
  WITH raw AS (
    SELECT i, CAST(floor({users} * pow(random(), 2.5)) AS BIGINT) AS u,
           TIMESTAMPTZ '{FIRST} 00:00:00+00'
             + to_seconds(CAST(floor(random() * {seconds}) AS BIGINT)) AS ts
    FROM range({events}) t(i)
  )
  SELECT CAST(uuid() AS VARCHAR) AS uuid,
         {names}[1 + CAST(hash(i) % 20 AS INTEGER)] AS event,
         CASE WHEN u % 20 = 0 AND ts < TIMESTAMPTZ '{FIRST} 00:00:00+00' + INTERVAL 60 DAY
              THEN 'anon-' || u ELSE 'u' || u END AS distinct_id,
         ts AS timestamp,
         to_json({{'$os': ['iOS', 'Android', 'Windows', 'macOS'][1 + CAST(u % 4 AS INTEGER)],
                   'plan': ['free', 'pro'][1 + CAST(u % 2 AS INTEGER)]}}) AS properties
  FROM raw
  UNION ALL
  SELECT CAST(uuid() AS VARCHAR), '$identify', 'u' || u,
         TIMESTAMPTZ '{FIRST} 00:00:00+00' + INTERVAL 60 DAY,
         to_json({{'$anon_distinct_id': 'anon-' || u}})
  FROM range(0, {users}, 20) t(u)
) TO '{path}' (FORMAT parquet)"""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(sql)
    con.close()


def shape_file(events: int, users: int) -> Path:
    path = DATA / f"shape-{events // 1_000_000}m-{users // 1000}k.parquet"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        print(f"generating {path} ...", flush=True)
        generate(path, events, users)
    return path


def run(command: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(command, capture_output=True, check=True, timeout=3600)
    return time.perf_counter() - t0


def import_into(folder: Path, parquet: Path) -> float:
    """Seconds of ``northstar init`` + ``northstar import events`` (only the import timed)."""
    subprocess.run([NORTHSTAR, "init", str(folder)], capture_output=True, check=True)
    return run([NORTHSTAR, "import", "events", str(parquet), "-w", str(folder)])


FLOOR = """
import duckdb, sys
con = duckdb.connect(sys.argv[1])
con.execute("CREATE TABLE events AS SELECT * FROM read_parquet(?)", [sys.argv[2]])
con.close()
"""

HAND = """
import duckdb, sys
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SET TimeZone = 'UTC'")
rows = con.execute(open(sys.argv[2]).read()).fetchall()
"""


def hand_breakdown(hand: HandSQL, day: str) -> str:
    """DAU by ``$os`` (the event's property), persons through the identity map."""
    return f"""
SELECT {day} AS day, json_extract_string(e.properties, '$."$os"') AS os,
       count(DISTINCT coalesce(m.person_id, e.distinct_id))
FROM events e LEFT JOIN _person_map m USING (distinct_id)
WHERE {hand.where} GROUP BY 1, 2 ORDER BY 1, 2"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--import-runs", type=int, default=1)
    parser.add_argument(
        "--all-forms",
        action="store_true",
        help="also time the hand formulations that never win (slow)",
    )
    args = parser.parse_args()
    parquet = shape_file(args.events, args.users)
    rows = duckdb.sql(f"SELECT count(*) FROM read_parquet('{parquet}')").fetchone()
    assert rows is not None
    n = int(rows[0])
    report: dict[str, object] = {"events": n, "users": args.users}
    print(f"Shape: {n:,} events, {args.users:,} users ({parquet.name})\n")

    with tempfile.TemporaryDirectory(prefix="ns-shape-") as tmp:
        imports, floors = [], []
        for i in range(args.import_runs):
            imports.append(import_into(Path(tmp) / f"ws{i}", parquet))
            floors.append(run([sys.executable, "-c", FLOOR, f"{tmp}/floor{i}.duckdb",
                               str(parquet)]))  # fmt: skip
        ws_path = Path(tmp) / "ws0"
        ni, fl = statistics.median(imports), statistics.median(floors)
        print("| import | seconds | events/s |")
        print("| --- | ---: | ---: |")
        print(f"| `northstar import events` (whole process) | {ni:.1f} | {n / ni:,.0f} |")
        print(f"| DuckDB `CREATE TABLE AS read_parquet` | {fl:.1f} | {n / fl:,.0f} |\n")
        report["import"] = {"northstar_s": imports, "floor_s": floors}

        ws = Workspace(ws_path)
        hand = HandSQL(ws, FIRST, LAST)
        forms = formulations(hand)
        if not args.all_forms:  # MAU by a range join takes 40-50 s here and never wins
            forms["mau"] = {k: v for k, v in forms["mau"].items() if "range join" not in k}
        day = next(iter(hand.days.values()))
        cases = {
            "dau": (["dau"], forms["dau"]),
            "mau": (["mau"], forms["mau"]),
            "dau by $os": (["dau", "--by", "$os"],
                           {f"{k}": hand_breakdown(hand, d) for k, d in hand.days.items()}),
        }  # fmt: skip
        # the numbers first: both sides must agree
        for name in ("dau", "mau"):
            ours = ws.query(name, grain="day", start=FIRST, end=LAST, use_cache=False)
            got = {
                getattr(p, "date", lambda p=p: p)(): v
                for p, v in zip(ours["period"], ours["value"], strict=True)
            }
            for label, sql in forms[name].items():
                problems = same(name, got, hand.run(sql))
                if problems:
                    raise SystemExit(f"{name}: Northstar and {label} differ: {problems[:5]}")
        ours = ws.query("dau", grain="day", start=FIRST, end=LAST, by="$os", use_cache=False)
        want = {(d, o): c for d, o, c in duckdb.connect(str(ws.db_path), read_only=True)
                .execute(hand_breakdown(hand, day)).fetchall()}  # fmt: skip
        got_by = {(p, o): v for p, o, v in zip(ours["period"], ours["$os"], ours["value"],
                                               strict=True) if v}  # fmt: skip
        if got_by != want:
            raise SystemExit("dau by $os: Northstar and the hand SQL differ")

        print("| query | Northstar cold | Northstar warm | best hand SQL | ratio (warm) |")
        print("| --- | ---: | ---: | ---: | ---: |")
        results = {}
        for case, (argv, statements) in cases.items():
            command = [NORTHSTAR, "query", *argv, "--grain", "day", "--from", str(FIRST),
                       "--to", str(LAST), "--no-cache", "--format", "csv",
                       "-w", str(ws_path)]  # fmt: skip
            cold, warm = [], []
            hands: dict[str, list[float]] = {label: [] for label in statements}
            files = {}
            for label, sql in statements.items():
                file = Path(tmp) / f"{abs(hash(label))}.sql"
                file.write_text(sql)
                files[label] = file
            for _ in range(args.runs):
                shutil.rmtree(ws_path / ".cache", ignore_errors=True)
                cold.append(run(command))
                warm.append(run(command))
                for label in statements:
                    hands[label].append(run([sys.executable, "-c", HAND, str(ws.db_path),
                                             str(files[label])]))  # fmt: skip
            best_label = min(hands, key=lambda k: statistics.median(hands[k]))
            best = statistics.median(hands[best_label])
            c, w = statistics.median(cold), statistics.median(warm)
            print(f"| {case} | {c:.2f} s | {w:.2f} s | {best:.2f} s ({best_label}) | "
                  f"{w / best:.2f}× |")  # fmt: skip
            results[case] = {"cold": cold, "warm": warm, "hand": hands, "best": best_label}
        report["queries"] = results
    out = DATA / "shape_speed.json"
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nEvery run: {out}")


if __name__ == "__main__":
    main()
