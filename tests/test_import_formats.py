"""Each import format reads into the same rows, with time zones handled as users expect."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from northstar.errors import ImportFileError
from northstar.workspace import Workspace
from tests.conftest import rows, write

CSV = """event,distinct_id,timestamp,properties,plan
$pageview,a1,2024-01-01T10:00:00Z,"{""$os"":""Android""}",free
signed_up,u1,2024-07-01 12:00:00,{},pro
feature_used,u1,1704103200,,
"""
# The same three events as the CSV above, as the other formats carry them.
RECORDS = [
    {"event": "$pageview", "distinct_id": "a1", "timestamp": "2024-01-01T10:00:00Z",
     "properties": {"$os": "Android"}, "plan": "free"},
    {"event": "signed_up", "distinct_id": "u1", "timestamp": "2024-07-01 12:00:00",
     "properties": {}, "plan": "pro"},
    {"event": "feature_used", "distinct_id": "u1", "timestamp": 1704103200},
]  # fmt: skip
# Expected in UTC: naive 12:00 in Europe/Paris in July (UTC+2) is 10:00 UTC;
# epoch 1704103200 is 2024-01-01 10:00:00 UTC.
EXPECTED = [
    ("$pageview", "a1", "2024-01-01 10:00:00+00", {"$os": "Android", "plan": "free"}),
    ("feature_used", "u1", "2024-01-01 10:00:00+00", {}),
    ("signed_up", "u1", "2024-07-01 10:00:00+00", {"plan": "pro"}),
]


def _stored(ws: Workspace) -> list[tuple[object, ...]]:
    got = rows(
        ws,
        "SELECT event, distinct_id, strftime(timestamp, '%Y-%m-%d %H:%M:%S+00'), "
        "CAST(properties AS VARCHAR) FROM events ORDER BY timestamp, event",
    )
    return [(e, d, t, json.loads(str(p))) for e, d, t, p in got]


def test_csv(ws: Workspace, tmp_path: Path) -> None:
    summary = ws.import_files("events", [write(tmp_path / "e.csv", CSV)])
    assert (summary.imported, summary.rejected) == (3, 0)
    assert _stored(ws) == EXPECTED


def test_ndjson_gzipped(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "e.ndjson.gz"
    path.write_bytes(gzip.compress("\n".join(json.dumps(r) for r in RECORDS).encode()))
    assert ws.import_files("events", [path]).imported == 3
    assert _stored(ws) == EXPECTED


def test_json_array(ws: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path / "e.json", json.dumps(RECORDS))
    assert ws.import_files("events", [path]).imported == 3
    assert _stored(ws) == EXPECTED


def test_parquet_typed_columns(ws: Workspace, tmp_path: Path) -> None:
    import datetime as dt

    utc = dt.UTC
    table = pa.table(
        {
            "event": ["$pageview", "signed_up", "feature_used"],
            "distinct_id": ["a1", "u1", "u1"],
            "timestamp": pa.array(
                [
                    dt.datetime(2024, 1, 1, 10, tzinfo=utc),
                    dt.datetime(2024, 7, 1, 10, tzinfo=utc),
                    dt.datetime(2024, 1, 1, 10, tzinfo=utc),
                ],
                pa.timestamp("us", tz="UTC"),
            ),
            "properties": ['{"$os":"Android"}', "{}", None],
            "plan": ["free", "pro", None],
        }
    )
    path = tmp_path / "e.parquet"
    pq.write_table(table, path)
    assert ws.import_files("events", [path]).imported == 3
    assert _stored(ws) == EXPECTED


def test_column_mapping(ws: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path / "e.csv", "name,user,ts\nclicked,u9,2024-03-01T00:00:00Z\n")
    ws.import_files("events", [path], mapping={"name": "event", "user": "distinct_id",
                                               "ts": "timestamp"})  # fmt: skip
    assert rows(ws, "SELECT event, distinct_id FROM events") == [("clicked", "u9")]


def test_missing_required_column_is_one_clear_error(ws: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path / "e.csv", "name,user\nx,y\n")
    with pytest.raises(ImportFileError, match="missing required column.*--map"):
        ws.import_files("events", [path])


def test_unreadable_file_stores_nothing(ws: Workspace, tmp_path: Path) -> None:
    good = write(tmp_path / "good.csv", CSV)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet at all")
    with pytest.raises(ImportFileError, match="broken.parquet"):
        ws.import_files("events", [good, broken])
    assert rows(ws, "SELECT count(*) FROM events") == [(0,)]


def test_subscriptions_types_and_defaults(ws: Workspace, tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.csv",
        "subscription_id,customer_id,plan,amount,currency,interval,status,started_at\n"
        "s1,c1,pro,99.99,USD,month,Active,2024-01-01\n",
    )
    assert ws.import_files("subscriptions", [path]).imported == 1
    got = rows(ws, "SELECT CAST(amount AS VARCHAR), quantity, CAST(discount AS VARCHAR), status, "
                   "ended_at FROM subscriptions")  # fmt: skip
    assert got == [("99.9900", 1, "0.0000", "active", None)]


def test_epoch_numbers_that_are_no_time_are_rejected(ws: Workspace, tmp_path: Path) -> None:
    # 1.7e9 s is 2023-11-14T22:13:20Z and 1.7e12 the same in ms; NaN, infinity and 1e30
    # (beyond the year 5138 even as milliseconds) are rejected, not a crash.
    table = pa.table(
        {
            "event": ["a", "b", "c", "d", "e"],
            "distinct_id": ["u1"] * 5,
            "timestamp": [1.7e9, 1.7e12, float("nan"), float("inf"), 1e30],
        }
    )
    path = tmp_path / "epochs.parquet"
    pq.write_table(table, path)
    summary = ws.import_files("events", [path])
    assert (summary.imported, summary.rejected) == (2, 3)
    assert {r["reason"] for r in ws.rejected(table="events")} == {
        f"timestamp '{v}' is not a date-time" for v in ("nan", "inf", "1e+30")
    }
    got = ws.sql("SELECT event, epoch(timestamp) AS s FROM events ORDER BY event").to_pylist()
    assert got == [{"event": "a", "s": 1.7e9}, {"event": "b", "s": 1.7e9}]
