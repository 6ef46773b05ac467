"""Each import format reads into the same rows, with time zones handled as users expect."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import uuid
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


def test_parquet_with_a_json_typed_properties_column(ws: Workspace, tmp_path: Path) -> None:
    # A Parquet file written by DuckDB with to_json() types its properties as JSON; the
    # import used to fail with a traceback ('' is not valid JSON) instead of storing it.
    import duckdb

    path = tmp_path / "e.parquet"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"""COPY (SELECT * FROM (VALUES
        ('$pageview', 'a1', TIMESTAMPTZ '2024-01-01 10:00:00+00', to_json({{'$os': 'Android'}})),
        ('signed_up', 'u1', TIMESTAMPTZ '2024-07-01 10:00:00+00', to_json({{'plan': 'pro'}})),
        ('feature_used', 'u1', TIMESTAMPTZ '2024-01-01 10:00:00+00', NULL::JSON)
      ) t(event, distinct_id, timestamp, properties)) TO '{path}' (FORMAT parquet)""")
    con.close()
    summary = ws.import_files("events", [path])
    assert (summary.imported, summary.rejected) == (3, 0)
    with ws.store(read_only=True) as store:
        got = store.execute(
            "SELECT event, json_extract_string(properties, '$.\"$os\"'), "
            "json_extract_string(properties, '$.plan') FROM events ORDER BY event"
        ).fetchall()
    assert got == [("$pageview", "Android", None), ("feature_used", None, None),
                   ("signed_up", None, "pro")]  # fmt: skip


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


def _uuid_text(hex_md5: str) -> str:
    return str(uuid.UUID(hex=hex_md5))


def test_derived_ids_are_the_md5_of_the_content_and_its_occurrence(
    ws: Workspace, tmp_path: Path
) -> None:
    # Stored ids must never change: re-importing a file imported by an older Northstar
    # has to find the same ids. Computed here with hashlib, independently of the SQL.
    text = "event,distinct_id,timestamp,properties\n" + "click,u1,2024-01-01T10:00:00Z,{}\n" * 3
    text += 'view,u2,2024-01-01T10:00:01Z,"{""a"": 1}"\n'
    ws.import_files("events", [write(tmp_path / "e.csv", text)])
    sep = "\x1f"
    click = hashlib.md5(
        sep.join(["click", "u1", "1704103200000000", "", "{}"]).encode()
    ).hexdigest()
    view = hashlib.md5(sep.join(["view", "u2", "1704103201000000", "", '{"a": 1}']).encode())
    expected = {
        _uuid_text(click),
        _uuid_text(hashlib.md5(f"{click}:2".encode()).hexdigest()),
        _uuid_text(hashlib.md5(f"{click}:3".encode()).hexdigest()),
        _uuid_text(view.hexdigest()),
    }
    assert {str(u) for (u,) in rows(ws, "SELECT uuid FROM events")} == expected
    # The same events as a Parquet file (read in place, typed columns) are the same ids.
    table = pa.table(
        {
            "event": ["click"] * 3 + ["view"],
            "distinct_id": ["u1"] * 3 + ["u2"],
            "timestamp": pa.array(
                [dt.datetime(2024, 1, 1, 10, tzinfo=dt.UTC)] * 3
                + [dt.datetime(2024, 1, 1, 10, 0, 1, tzinfo=dt.UTC)],
                pa.timestamp("us", tz="UTC"),
            ),
            "properties": ["{}"] * 3 + ['{"a": 1}'],
        }
    )
    pq.write_table(table, tmp_path / "e.parquet")
    again = ws.import_files("events", [tmp_path / "e.parquet"])
    assert (again.imported, again.duplicates) == (0, 4)


def test_given_and_missing_uuids_in_one_file(ws: Workspace, tmp_path: Path) -> None:
    text = (
        "uuid,event,distinct_id,timestamp\n"
        "x1,a,u1,2024-01-01\n"
        ",a,u1,2024-01-01\n"  # no uuid: derived
        "x1,b,u2,2024-01-02\n"  # x1 again: the first row wins
        ",a,u1,2024-01-01\n"  # the same content again: a second event
    )
    summary = ws.import_files("events", [write(tmp_path / "e.csv", text)])
    assert (summary.imported, summary.duplicates) == (3, 1)
    assert rows(ws, "SELECT event, distinct_id FROM events WHERE uuid = 'x1'") == [("a", "u1")]
    assert rows(ws, "SELECT count(DISTINCT uuid) FROM events WHERE uuid <> 'x1'") == [(2,)]


def test_parquet_bad_rows_are_quarantined_with_the_files_own_row(
    ws: Workspace, tmp_path: Path
) -> None:
    table = pa.table(
        {
            "name": ["a", "b", "c"],
            "user": ["u1", "undefined", "u3"],
            "ts": pa.array([1_704_103_200, 1_704_103_200, None], pa.int64()),
            "plan": ["free", "pro", None],
        }
    )
    pq.write_table(table, tmp_path / "e.parquet")
    summary = ws.import_files(
        "events",
        [tmp_path / "e.parquet"],
        mapping={"name": "event", "user": "distinct_id", "ts": "timestamp"},
    )
    assert (summary.imported, summary.rejected) == (1, 2)
    got = {r["line"]: (json.loads(r["raw"]), r["reason"]) for r in ws.rejected()}
    assert got == {
        2: (
            {"name": "b", "user": "undefined", "ts": 1704103200, "plan": "pro"},
            "distinct_id 'undefined' is not a real id (SDK placeholder)",
        ),
        3: ({"name": "c", "user": "u3", "ts": None, "plan": None}, "missing timestamp"),
    }
    assert _stored(ws) == [("a", "u1", "2024-01-01 10:00:00+00", {"plan": "free"})]


def test_parquet_names_the_engine_would_misread_go_through_arrow(
    ws: Workspace, tmp_path: Path
) -> None:
    # '[' is a file pattern to the engine's reader, and it numbers rows in a column
    # named file_row_number: such files are read through Arrow, with the same result.
    table = pa.table(
        {
            "event": ["a", None],
            "distinct_id": ["u1", "u2"],
            "timestamp": ["2024-01-01T10:00:00Z", "2024-01-01T10:00:00Z"],
            "file_row_number": [7, 8],
        }
    )
    path = tmp_path / "events[1].parquet"
    pq.write_table(table, path)
    summary = ws.import_files("events", [path])
    assert (summary.imported, summary.rejected) == (1, 1)
    assert [r["line"] for r in ws.rejected()] == [2]
    assert _stored(ws) == [("a", "u1", "2024-01-01 10:00:00+00", {"file_row_number": 7})]


def test_damaged_parquet_data_stores_nothing(ws: Workspace, tmp_path: Path) -> None:
    # The footer is intact, so the file passes the first check; its pages are not.
    n = 5000
    table = pa.table(
        {
            "event": [f"e{i}" for i in range(n)],
            "distinct_id": [f"u{i}" for i in range(n)],
            "timestamp": list(range(1_700_000_000, 1_700_000_000 + n)),
        }
    )
    path = tmp_path / "damaged.parquet"
    pq.write_table(table, path)
    data = bytearray(path.read_bytes())
    data[200:10_000] = bytes((b * 7 + 3) % 256 for b in data[200:10_000])
    path.write_bytes(bytes(data))
    good = write(tmp_path / "good.csv", CSV)
    with pytest.raises(ImportFileError, match="damaged.parquet: cannot read it as parquet"):
        ws.import_files("events", [good, path])
    assert rows(ws, "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM _imports)") == [
        (0, 0)
    ]
