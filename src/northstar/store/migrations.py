"""Versioned schema migrations.

A workspace records the migrations applied to it in ``_schema_migrations``. Opening a
workspace applies the missing ones in order, inside one transaction, so a workspace
created by an older Northstar opens after an upgrade. Migrations are append-only: never
edit one that has shipped; add the next version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from northstar.store.schema import TABLES, TableSpec


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[duckdb.DuckDBPyConnection], None]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def create_table_sql(spec: TableSpec) -> str:
    cols = ",\n  ".join(
        f"{_quote(c.name)} {c.kind.value}{' NOT NULL' if c.required else ''}" for c in spec.columns
    )
    return f"CREATE TABLE IF NOT EXISTS {_quote(spec.name)} (\n  {cols}\n)"


# The data model as it was when migration 1 shipped. Later changes to ``schema.TABLES``
# must come with a migration that alters existing workspaces the same way.
def _v1_initial(con: duckdb.DuckDBPyConnection) -> None:
    for spec in TABLES.values():
        con.execute(create_table_sql(spec))
    con.execute(
        """
        CREATE TABLE _imports (
          import_id VARCHAR NOT NULL, table_name VARCHAR NOT NULL, files VARCHAR[],
          started_at TIMESTAMPTZ NOT NULL, finished_at TIMESTAMPTZ,
          imported BIGINT, duplicates BIGINT, rejected BIGINT
        )"""
    )
    con.execute(
        """
        CREATE TABLE _rejected_rows (
          import_id VARCHAR NOT NULL, table_name VARCHAR NOT NULL, file VARCHAR,
          line BIGINT, raw VARCHAR, reason VARCHAR NOT NULL, rejected_at TIMESTAMPTZ NOT NULL
        )"""
    )
    # distinct_id -> person_id for every id that was merged with another one; ids absent
    # from the map are their own person.
    con.execute(
        "CREATE TABLE _person_map (distinct_id VARCHAR NOT NULL, person_id VARCHAR NOT NULL)"
    )
    con.execute(
        """
        CREATE TABLE _identity_refusals (
          event_uuid VARCHAR, distinct_id VARCHAR, other_id VARCHAR, reason VARCHAR NOT NULL
        )"""
    )
    con.execute(
        """
        CREATE TABLE incidents (
          incident_id VARCHAR NOT NULL, kind VARCHAR NOT NULL, metric VARCHAR,
          segment JSON, started_at TIMESTAMPTZ NOT NULL, ended_at TIMESTAMPTZ,
          description VARCHAR NOT NULL
        )"""
    )
    con.execute("CREATE TABLE _meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute("INSERT INTO _meta VALUES ('data_version', '0')")
    con.execute(
        """
        CREATE VIEW person_events AS
        SELECT e.*, coalesce(m.person_id, e.distinct_id) AS person_id
        FROM events e LEFT JOIN _person_map m USING (distinct_id)"""
    )


def _v2_api_keys(con: duckdb.DuckDBPyConnection) -> None:
    # Only a SHA-256 of each token is kept; the token itself is shown once, at creation.
    con.execute(
        """
        CREATE TABLE _api_keys (
          key_id VARCHAR NOT NULL PRIMARY KEY, kind VARCHAR NOT NULL, source VARCHAR,
          token_hash VARCHAR NOT NULL UNIQUE, prefix VARCHAR NOT NULL,
          created_at TIMESTAMPTZ NOT NULL, revoked_at TIMESTAMPTZ
        )"""
    )


def _v3_key_origins(con: duckdb.DuckDBPyConnection) -> None:
    # The browser origins a write key may send from (a JSON array; NULL: any origin).
    con.execute("ALTER TABLE _api_keys ADD COLUMN origins VARCHAR")


def _v4_person_on_events(con: duckdb.DuckDBPyConnection) -> None:
    # Each event carries the person it belongs to when that is not its own distinct_id
    # (NULL otherwise: most events, stored for nearly nothing), resolved when it is written
    # and fixed up when identities merge (northstar.ingest.identity.fix_persons): counting
    # people is then one scan of the events with one aggregation, without a join to the
    # identity map. person_events shows the resolved person of every event.
    con.execute("ALTER TABLE events ADD COLUMN person_id VARCHAR")
    con.execute(
        "UPDATE events SET person_id = m.person_id FROM _person_map m "
        "WHERE events.distinct_id = m.distinct_id"
    )
    con.execute(
        "CREATE OR REPLACE VIEW person_events AS "
        "SELECT * REPLACE (coalesce(person_id, distinct_id) AS person_id) FROM events"
    )


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "data model, import log, quarantine, identity map, incidents", _v1_initial),
    Migration(2, "API keys for the tracking server (hashed)", _v2_api_keys),
    Migration(3, "browser origins allowed per write key", _v3_key_origins),
    Migration(4, "the person of each event kept on the event", _v4_person_on_events),
)

LATEST_VERSION = MIGRATIONS[-1].version
