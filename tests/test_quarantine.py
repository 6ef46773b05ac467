"""Bad rows never abort a file, are never silently dropped, and say why."""

from __future__ import annotations

from pathlib import Path

from northstar.workspace import Workspace
from tests.conftest import rows, write

BAD = """subscription_id,customer_id,plan,amount,currency,interval,status,started_at
s1,c1,pro,10,USD,month,active,2024-01-01
s2,c2,pro,ten,USD,month,active,2024-01-01
s3,c3,pro,10,USD,fortnight,active,2024-01-01
s4,,pro,10,USD,month,active,someday
s5,c5,pro,10,USD,month
s6,c6,pro,12.5,USD,year,trialing,2024-02-01
"""


def test_bad_rows_are_quarantined_with_line_and_reason(ws: Workspace, tmp_path: Path) -> None:
    summary = ws.import_files("subscriptions", [write(tmp_path / "subs.csv", BAD)])
    assert (summary.imported, summary.rejected) == (2, 4)
    got = {r["line"]: r["reason"] for r in ws.rejected()}
    assert got == {
        3: "amount 'ten' is not an amount",
        4: "interval 'fortnight' is not one of week, month, quarter, year",
        5: "missing customer_id; started_at 'someday' is not a date-time",
        6: "expected 8 columns, found 6",
    }
    raw = next(r["raw"] for r in ws.rejected() if r["line"] == 3)
    assert '"amount": "ten"' in raw
    assert rows(ws, "SELECT subscription_id FROM subscriptions ORDER BY 1") == [("s1",), ("s6",)]


def test_top_reasons_group_values(ws: Workspace, tmp_path: Path) -> None:
    text = "order_id,customer_id,amount,currency,ordered_at\n" + "".join(
        f"o{i},c,x{i},USD,2024-01-01\n" for i in range(3)
    )
    summary = ws.import_files("orders", [write(tmp_path / "o.csv", text)])
    assert summary.top_reasons == [("amount is not an amount", 3)]


def test_quarantine_keeps_one_entry_per_bad_row_on_reimport(ws: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path / "subs.csv", BAD)
    ws.import_files("subscriptions", [path])
    again = ws.import_files("subscriptions", [path])
    assert (again.imported, again.duplicates, again.rejected) == (0, 2, 4)
    assert len(ws.rejected()) == 4


def test_ndjson_bad_lines(ws: Workspace, tmp_path: Path) -> None:
    text = (
        '{"event": "a", "distinct_id": "u1", "timestamp": "2024-01-01T00:00:00Z"}\n'
        "{not json\n"
        "\n"
        '["an", "array"]\n'
        '{"event": "b", "distinct_id": "undefined", "timestamp": "2024-01-01T00:00:00Z"}\n'
    )
    summary = ws.import_files("events", [write(tmp_path / "e.ndjson", text)])
    assert (summary.imported, summary.rejected) == (1, 3)
    reasons = {r["line"]: r["reason"] for r in ws.rejected()}
    assert reasons[2].startswith("not valid JSON")
    assert reasons[4] == "a line must hold a JSON object"
    assert reasons[5] == "distinct_id 'undefined' is not a real id (SDK placeholder)"


def test_quoted_newlines_keep_exact_line_numbers(ws: Workspace, tmp_path: Path) -> None:
    text = (
        "response_id,survey,respondent_id,responded_at,score,scale_min,scale_max,comment\n"
        'r1,nps,u1,2024-01-01,9,0,10,"great\nproduct"\n'
        "r2,nps,u2,2024-01-01,eleven,0,10,meh\n"
    )
    summary = ws.import_files("survey_responses", [write(tmp_path / "s.csv", text)])
    assert (summary.imported, summary.rejected) == (1, 1)
    assert [r["line"] for r in ws.rejected()] == [4]
    assert rows(ws, "SELECT comment FROM survey_responses") == [("great\nproduct",)]


def test_rows_whose_columns_contradict_each_other_are_quarantined(
    ws: Workspace, tmp_path: Path
) -> None:
    surveys = (
        "response_id,survey,respondent_id,responded_at,score,scale_min,scale_max\n"
        "r1,nps,u1,2024-01-01,9,0,10\n"  # fine
        "r2,nps,u2,2024-01-01,15,0,10\n"  # above the scale
        "r3,nps,u3,2024-01-01,4,1,5\n"  # NPS on a 1..5 scale
        "r4,csat,u4,2024-01-01,4,1,5\n"  # fine
        "r5,csat,u5,2024-01-01,2.5,5,1\n"  # scale upside down (and the score outside it)
    )
    summary = ws.import_files("survey_responses", [write(tmp_path / "s.csv", surveys)])
    assert (summary.imported, summary.rejected) == (2, 3)
    reasons = {r["line"]: r["reason"] for r in ws.rejected()}
    assert reasons == {
        3: "score '15' is outside the scale '0'..'10'",
        4: "an NPS answer is on the 0..10 scale, not '1'..'5'",
        6: "scale_min '5' is not below scale_max '1'; score '2.5' is outside the scale '5'..'1'",
    }
    subs = (
        "subscription_id,customer_id,plan,amount,currency,interval,status,started_at,ended_at\n"
        "s1,c1,pro,10,USD,month,active,2024-01-01,2024-02-01\n"
        "s2,c1,pro,10,USD,month,active,2024-03-01,2024-02-01\n"
        "s3,c1,pro,10,USD,month,active,2024-04-01,\n"  # still open: no end to compare
    )
    summary = ws.import_files("subscriptions", [write(tmp_path / "subs.csv", subs)])
    assert (summary.imported, summary.rejected) == (2, 1)
    (bad,) = [r for r in ws.rejected() if r["file"].endswith("subs.csv")]
    assert bad["line"] == 3
    assert bad["reason"] == "ended_at '2024-02-01' is before started_at '2024-03-01'"
