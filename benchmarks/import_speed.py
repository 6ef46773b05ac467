"""Import speed: Northstar's validated import vs a plain DuckDB load of the same file.

Run:  make bench            (or: .venv/bin/python benchmarks/import_speed.py --events 2000000)

Writes synthetic events (Parquet) and subscriptions-free CSV events to benchmarks/.data/,
imports each into a fresh workspace, and in the same run loads the same file with the
best hand-written DuckDB statement (no validation, no dedupe, no quarantine) as the
floor. Prints rows/s for both and their ratio.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from northstar.workspace import Workspace

DATA = Path(__file__).parent / ".data"


def synthetic_events(n: int, seed: int = 1) -> pa.Table:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2025-01-01T00:00:00", "us")
    offsets = np.sort(rng.integers(0, 365 * 86_400 * 1_000_000, n)).astype("timedelta64[us]")
    users = rng.integers(0, max(n // 50, 1), n)
    names = np.array(["$pageview", "clicked", "report_exported", "signed_in", "$pageleave"])
    oses = np.array(['{"$os":"Android"}', '{"$os":"iOS"}', '{"$os":"Windows"}', '{"$os":"macOS"}'])
    return pa.table(
        {
            "event": pa.array(names[rng.integers(0, len(names), n)]),
            "distinct_id": pa.array(np.char.add("user-", users.astype(str))),
            "timestamp": pa.array(start + offsets, pa.timestamp("us", tz="UTC")),
            "properties": pa.array(oses[rng.integers(0, len(oses), n)]),
        }
    )


def _floor(path: Path, reader: str) -> float:
    tmp = tempfile.mkdtemp()
    con = duckdb.connect(str(Path(tmp) / "floor.duckdb"))  # a file, as the workspace is
    con.execute(
        "CREATE TABLE events (event VARCHAR, distinct_id VARCHAR, timestamp TIMESTAMPTZ, "
        "properties JSON)"
    )
    started = time.perf_counter()
    con.execute(f"INSERT INTO events SELECT * FROM {reader}(?)", [str(path)])
    con.close()
    return time.perf_counter() - started


def _northstar(path: Path) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.init(Path(tmp) / "w")
        started = time.perf_counter()
        summary = ws.import_files("events", [path])
        return time.perf_counter() - started, summary.imported


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2_000_000, help="rows in the Parquet file")
    parser.add_argument("--csv-rows", type=int, default=1_000_000, help="rows in the CSV file")
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    parquet, csv = DATA / f"events-{args.events}.parquet", DATA / f"events-{args.csv_rows}.csv"
    if not parquet.exists():
        pq.write_table(synthetic_events(args.events), parquet)
    if not csv.exists():
        pacsv.write_csv(synthetic_events(args.csv_rows, seed=2), csv)
    print(
        f"{'file':<32}{'rows':>12}{'northstar rows/s':>20}{'duckdb floor rows/s':>22}{'ratio':>8}"
    )
    for path, reader in ((parquet, "read_parquet"), (csv, "read_csv")):
        seconds, imported = _northstar(path)
        floor = _floor(path, reader)
        print(
            f"{path.name:<32}{imported:>12,}{imported / seconds:>20,.0f}"
            f"{imported / floor:>22,.0f}{seconds / floor:>7.1f}x"
        )


if __name__ == "__main__":
    main()
