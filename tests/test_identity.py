"""Anonymous and known ids merge the way PostHog users expect."""

from __future__ import annotations

from pathlib import Path

from northstar.workspace import Workspace
from tests.conftest import rows, write

HEADER = "event,distinct_id,timestamp,properties\n"
T0 = "2024-01-01T09:00:00Z"


def _persons(ws: Workspace) -> dict[str, str]:
    sql = (
        "SELECT distinct_id, person_id FROM _person_map "
        "UNION SELECT DISTINCT distinct_id, person_id FROM person_events"
    )
    return {str(d): str(p) for d, p in rows(ws, sql)}


def _identify(known: str, anon: str, ts: str) -> str:
    return f'$identify,{known},{ts},"{{""$anon_distinct_id"":""{anon}""}}"\n'


def test_identify_merges_anonymous_into_known(ws: Workspace, tmp_path: Path) -> None:
    text = (
        HEADER
        + "$pageview,anon1,2024-01-01T09:00:00Z,{}\n"
        + _identify("u1", "anon1", "2024-01-01T09:05:00Z")
    )
    ws.import_files("events", [write(tmp_path / "e.csv", text)])
    assert _persons(ws) == {"anon1": "u1", "u1": "u1"}
    assert rows(ws, "SELECT count(DISTINCT person_id) FROM person_events") == [(1,)]


def test_two_identified_persons_are_never_merged(ws: Workspace, tmp_path: Path) -> None:
    text = (
        HEADER
        + _identify("u1", "anon1", "2024-01-01T09:00:00Z")
        + _identify("u2", "anon2", "2024-01-01T09:01:00Z")
        # anon1 is now part of identified u1: u2 may not take it.
        + _identify("u2", "anon1", "2024-01-01T09:02:00Z")
        + '$create_alias,u1,2024-01-01T09:03:00Z,"{""alias"":""u2""}"\n'
    )
    ws.import_files("events", [write(tmp_path / "e.csv", text)])
    persons = _persons(ws)
    assert persons["anon1"] == "u1" and persons["anon2"] == "u2"
    assert persons["u1"] != persons["u2"]
    assert rows(ws, "SELECT count(*) FROM _identity_refusals") == [(2,)]


def test_alias_joins_anonymous_ids(ws: Workspace, tmp_path: Path) -> None:
    text = (
        HEADER
        + "$pageview,web-1,2024-01-01T09:00:00Z,{}\n"
        + '$create_alias,u7,2024-01-01T09:01:00Z,"{""alias"":""web-1""}"\n'
    )
    ws.import_files("events", [write(tmp_path / "e.csv", text)])
    assert _persons(ws)["web-1"] == _persons(ws)["u7"]


def test_placeholder_ids_are_refused(ws: Workspace, tmp_path: Path) -> None:
    text = (
        HEADER
        + _identify("u1", "null", "2024-01-01T09:00:00Z")
        + _identify("u2", "[object Object]", "2024-01-01T09:00:00Z")
        + "$pageview,undefined,2024-01-01T09:00:00Z,{}\n"
        + "$pageview,0,2024-01-01T09:00:00Z,{}\n"
    )
    summary = ws.import_files("events", [write(tmp_path / "e.csv", text)])
    assert (summary.imported, summary.rejected) == (2, 2)
    assert _persons(ws) == {"u1": "u1", "u2": "u2"}


def test_merge_order_follows_time_not_file_order(ws: Workspace, tmp_path: Path) -> None:
    # The later identify (u2 claims anon1) is in the first file; u1 claimed it first.
    late = HEADER + _identify("u2", "anon1", "2024-01-02T00:00:00Z")
    early = HEADER + _identify("u1", "anon1", "2024-01-01T00:00:00Z")
    ws.import_files("events", [write(tmp_path / "late.csv", late)])
    ws.import_files("events", [write(tmp_path / "early.csv", early)])
    assert _persons(ws)["anon1"] == "u1"


def test_events_after_a_merge_keep_the_merged_person(ws: Workspace, tmp_path: Path) -> None:
    ws.import_files("events", [write(tmp_path / "a.csv", HEADER + _identify("u1", "anon1", T0))])
    # No merge event in this file: the map stays as it was, and applies to the new events.
    later = (
        HEADER + "$pageview,anon1,2024-01-02T09:00:00Z,{}\n$pageview,u1,2024-01-02T10:00:00Z,{}\n"
    )
    ws.import_files("events", [write(tmp_path / "b.csv", later)])
    assert _persons(ws) == {"anon1": "u1", "u1": "u1"}
    assert rows(ws, "SELECT count(*), count(DISTINCT person_id) FROM person_events") == [(3, 1)]


def test_replacing_a_merge_event_with_another_event_undoes_the_merge(
    ws: Workspace, tmp_path: Path
) -> None:
    header = "uuid," + HEADER
    merge = header + "m1," + _identify("u1", "anon1", T0)
    ws.import_files("events", [write(tmp_path / "a.csv", merge)])
    assert _persons(ws) == {"anon1": "u1", "u1": "u1"}
    fixed = header + f"m1,$pageview,u1,{T0},{{}}\n"
    summary = ws.import_files("events", [write(tmp_path / "b.csv", fixed)], replace=True)
    assert summary.updated == 1
    assert rows(ws, "SELECT count(*) FROM _person_map") == [(0,)]
