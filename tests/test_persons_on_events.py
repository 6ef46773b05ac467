"""Each event carries its person (issue 18): written with it, fixed up when identities
merge or a merge is undone, and added to the events of a workspace made by an older
Northstar. Expected persons are worked out by hand in the comments."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from northstar.store.connection import Store
from northstar.store.migrations import MIGRATIONS
from northstar.workspace import Workspace
from tests.conftest import rows
from tests.metric_fixtures import events

TODAY = date(2026, 6, 1)


def persons(ws: Workspace) -> list[tuple[str, str]]:
    """Each id with the person stored on its events (NULL: the id is its own person)."""
    return rows(ws, "SELECT DISTINCT distinct_id, person_id FROM events ORDER BY 1")


def test_events_carry_their_person_through_later_merges(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws", timezone="UTC")
    # anon-1 browses before anyone knows who it is: its own person for now
    events(ws, [("$pageview", "anon-1", "2026-03-01T10:00:00Z"),
                ("$pageview", "u1", "2026-03-01T11:00:00Z")], ["{}", "{}"])  # fmt: skip
    assert persons(ws) == [("anon-1", None), ("u1", None)]
    # u1 identifies anon-1 in a later import: anon-1's earlier event now belongs to u1
    events(ws, [("$identify", "u1", "2026-03-02T09:00:00Z")],
           ['{"$anon_distinct_id": "anon-1"}'])  # fmt: skip
    assert persons(ws) == [("anon-1", "u1"), ("u1", None)]
    # an event of anon-1 written after the merge gets u1 when it is written
    events(ws, [("$pageview", "anon-1", "2026-03-03T10:00:00Z")], ["{}"])
    assert rows(ws, "SELECT count(*) FROM events WHERE distinct_id = 'anon-1' "
                    "AND person_id = 'u1'") == [(2,)]  # fmt: skip
    # DAU from the events' persons: Mar 1 anon-1 and u1 are one person (1, not 2); Mar 2
    # has only the $identify, which is not activity (0); Mar 3 anon-1 is u1 (1)
    frame = ws.query("dau", start="2026-03-01", end="2026-03-03", today=TODAY)
    assert frame["value"].tolist() == [1.0, 0.0, 1.0]


def test_an_older_workspace_gets_the_persons_of_its_events(tmp_path: Path) -> None:
    # A workspace of schema 3 (before persons on events): its events and identity map
    # are written directly; opening it with this Northstar adds person_id from the map.
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE _schema_migrations "
                "(version INTEGER NOT NULL, description VARCHAR, applied_at TIMESTAMPTZ)")  # fmt: skip
    for migration in MIGRATIONS:
        if migration.version <= 3:
            migration.apply(con)
            con.execute(
                "INSERT INTO _schema_migrations VALUES (?, ?, TIMESTAMPTZ '2026-01-01 00:00:00+00')",
                [migration.version, migration.description],
            )
    con.execute(
        "INSERT INTO events (uuid, event, distinct_id, timestamp, properties) VALUES "
        "('e1', 'open', 'anon-9', TIMESTAMPTZ '2026-03-01 10:00:00+00', '{}'), "
        "('e2', 'open', 'u9', TIMESTAMPTZ '2026-03-02 10:00:00+00', '{}'), "
        "('e3', 'open', 'u8', TIMESTAMPTZ '2026-03-02 10:00:00+00', '{}')"
    )
    con.execute("INSERT INTO _person_map VALUES ('anon-9', 'u9')")
    con.close()
    store = Store(path, read_only=True)  # a read upgrades an older store once
    try:
        got = store.execute("SELECT uuid, person_id FROM events ORDER BY uuid").fetchall()
        assert got == [("e1", "u9"), ("e2", None), ("e3", None)]
        resolved = store.execute("SELECT uuid, person_id FROM person_events ORDER BY uuid")
        assert resolved.fetchall() == [("e1", "u9"), ("e2", "u9"), ("e3", "u8")]
        assert store.schema_version() == MIGRATIONS[-1].version
    finally:
        store.close()


def test_a_merge_in_the_same_file_writes_the_events_with_their_person(tmp_path: Path) -> None:
    # anon-2's events and the $identify that makes it u2 arrive in one file: the merge
    # joins the identity map before the events are written, so they are written as u2.
    # anon-3 is claimed by u3, then by u3b: the second merge is refused (anon-3 already
    # belongs to the identified u3), so u3b's events stay u3b's own.
    ws = Workspace.init(tmp_path / "ws", timezone="UTC")
    events(ws, [("$pageview", "anon-2", "2026-03-01T10:00:00Z"),
                ("$pageview", "anon-2", "2026-03-01T11:00:00Z"),
                ("$identify", "u2", "2026-03-01T12:00:00Z"),
                ("$identify", "u3", "2026-03-01T12:00:00Z"),
                ("$identify", "u3b", "2026-03-01T13:00:00Z"),
                ("$pageview", "u3b", "2026-03-01T14:00:00Z")],
           ["{}", "{}", '{"$anon_distinct_id": "anon-2"}', '{"$anon_distinct_id": "anon-3"}',
            '{"$anon_distinct_id": "anon-3"}', "{}"])  # fmt: skip
    assert persons(ws) == [("anon-2", "u2"), ("u2", None), ("u3", None), ("u3b", None)]
    assert rows(ws, "SELECT count(*) FROM _identity_refusals") == [(1,)]
