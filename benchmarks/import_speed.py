"""Import speed: Northstar's validated import vs a plain DuckDB load of the same file.

Run:  make bench   (or: .venv/bin/python benchmarks/import_speed.py --events 2000000
                        --csv-rows 1000000 [--runs 2] [--profile])

Writes synthetic events to benchmarks/.data/ (once): a Parquet file without a uuid
column (every event gets an id derived from its content), the same kind of Parquet file
with a uuid column, and a CSV file. Imports each into a fresh workspace and, in the same
run, loads the same file with the best hand-written DuckDB statement (no validation, no
dedupe, no quarantine, no ids) into a DuckDB file as the floor. Prints rows/s for both
and their ratio; ``--profile`` adds the seconds of each import stage.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from northstar.ingest import ImportSummary
from northstar.workspace import Workspace

DATA = Path(__file__).parent / ".data"


def synthetic_events(n: int, seed: int = 1, with_uuid: bool = False) -> pa.Table:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2025-01-01T00:00:00", "us")
    offsets = np.sort(rng.integers(0, 365 * 86_400 * 1_000_000, n)).astype("timedelta64[us]")
    users = rng.integers(0, max(n // 50, 1), n)
    names = np.array(["$pageview", "clicked", "report_exported", "signed_in", "$pageleave"])
    oses = np.array(['{"$os":"Android"}', '{"$os":"iOS"}', '{"$os":"Windows"}', '{"$os":"macOS"}'])
    columns = {
        "event": pa.array(names[rng.integers(0, len(names), n)]),
        "distinct_id": pa.array(np.char.add("user-", users.astype(str))),
        "timestamp": pa.array(start + offsets, pa.timestamp("us", tz="UTC")),
        "properties": pa.array(oses[rng.integers(0, len(oses), n)]),
    }
    if with_uuid:
        raw = rng.bytes(16 * n)  # random version-4 ids, as SDKs send them
        ids = [str(uuid.UUID(bytes=raw[i * 16 : i * 16 + 16], version=4)) for i in range(n)]
        columns = {"uuid": pa.array(ids), **columns}
    return pa.table(columns)


def _floor(path: Path, reader: str, with_uuid: bool) -> float:
    tmp = tempfile.mkdtemp()
    con = duckdb.connect(str(Path(tmp) / "floor.duckdb"))  # a file, as the workspace is
    con.execute(
        "CREATE TABLE events ("
        + ("uuid VARCHAR, " if with_uuid else "")
        + "event VARCHAR, distinct_id VARCHAR, timestamp TIMESTAMPTZ, properties JSON)"
    )
    started = time.perf_counter()
    con.execute(f"INSERT INTO events SELECT * FROM {reader}(?)", [str(path)])
    con.close()
    return time.perf_counter() - started


def _northstar(path: Path) -> tuple[float, ImportSummary]:
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.init(Path(tmp) / "w")
        started = time.perf_counter()
        summary = ws.import_files("events", [path])  # opening and closing the store included
        return time.perf_counter() - started, summary


def _files(data: Path, events: int, csv_rows: int) -> list[tuple[Path, str, bool]]:
    data.mkdir(parents=True, exist_ok=True)
    plain = data / f"events-{events}.parquet"
    with_ids = data / f"events-{events}-uuid.parquet"
    csv = data / f"events-{csv_rows}.csv"
    if not plain.exists():
        pq.write_table(synthetic_events(events), plain)
    if not with_ids.exists():
        pq.write_table(synthetic_events(events, seed=3, with_uuid=True), with_ids)
    if not csv.exists():
        pacsv.write_csv(synthetic_events(csv_rows, seed=2), csv)
    return [
        (plain, "read_parquet", False),
        (with_ids, "read_parquet", True),
        (csv, "read_csv", False),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=2_000_000, help="rows in each Parquet file")
    parser.add_argument("--csv-rows", type=int, default=1_000_000, help="rows in the CSV file")
    parser.add_argument("--runs", type=int, default=1, help="imports of each file")
    parser.add_argument("--profile", action="store_true", help="print the seconds per stage")
    parser.add_argument("--data", type=Path, default=DATA, help="folder of the generated files")
    args = parser.parse_args()
    print(
        f"{'file':<34}{'rows':>12}{'northstar rows/s':>20}{'duckdb floor rows/s':>22}{'ratio':>8}"
    )
    for path, reader, with_uuid in _files(args.data, args.events, args.csv_rows):
        expected = args.csv_rows if reader == "read_csv" else args.events
        for _ in range(args.runs):
            seconds, summary = _northstar(path)
            rows = summary.imported
            if rows != expected or summary.rejected:
                raise SystemExit(f"{path.name}: imported {rows:,} of {expected:,} rows")
            floor = _floor(path, reader, with_uuid)
            print(
                f"{path.name:<34}{rows:>12,}{rows / seconds:>20,.0f}"
                f"{rows / floor:>22,.0f}{seconds / floor:>7.1f}x",
                flush=True,
            )
            if args.profile:
                steps = dict(summary.steps)
                steps["open and close the store"] = seconds - sum(steps.values())
                print("    " + ", ".join(f"{k} {v:.2f} s" for k, v in steps.items()), flush=True)


if __name__ == "__main__":
    main()
