"""A few figures about the store that tell whether data is flowing in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from northstar import clock
from northstar.store.connection import Store


@dataclass(frozen=True)
class StoreFigures:
    events_today: int  # since midnight in the workspace time zone
    last_event_at: datetime | None  # newest event timestamp
    last_received_at: datetime | None  # when the newest import or flush finished
    quarantined: int  # rows and messages in the quarantine


def store_figures(store: Store, timezone: str, *, now: datetime | None = None) -> StoreFigures:
    zone = ZoneInfo(timezone)
    local = (now or clock.now(zone)).astimezone(zone)
    midnight = datetime.combine(local.date(), time(0), tzinfo=zone)
    tomorrow = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=zone)
    row = store.execute(
        "SELECT count(*) FILTER (WHERE timestamp >= ? AND timestamp < ?), max(timestamp) "
        "FROM events",
        [midnight, tomorrow],
    ).fetchone()
    quarantined = store.execute("SELECT count(*) FROM _rejected_rows").fetchone()
    received = store.execute("SELECT max(finished_at) FROM _imports").fetchone()
    assert row is not None and quarantined is not None and received is not None
    return StoreFigures(int(row[0]), row[1], received[0], int(quarantined[0]))


def recent_imports(store: Store, *, limit: int = 20) -> list[dict[str, Any]]:
    """The most recent imports and server flushes (``_imports``), newest first."""
    cur = store.execute(
        "SELECT import_id, table_name, files, started_at, finished_at, imported, duplicates, "
        "rejected FROM _imports ORDER BY started_at DESC LIMIT ?",
        [limit],
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
