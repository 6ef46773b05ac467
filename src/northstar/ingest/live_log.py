"""The ingestion log on disk, and how its segments move into the store.

The tracking server appends accepted messages to numbered segment files in
``<workspace>/ingest-log/`` and acknowledges them once they are on disk (fsync). A
segment holds one JSON record per line (see :mod:`northstar.ingest.tracking`):

* ``{"k": "e", ...}`` an event row of the data model (``ts`` in microseconds, UTC);
* ``{"k": "u", ...}`` user properties (``identify`` traits) to merge into ``users``;
* ``{"k": "r", ...}`` a rejected message with its reason, for the quarantine.

:func:`load_segments` moves whole segments into the store: events are appended like an
import (deduplicated on ``uuid``, identity map rebuilt, logged in ``_imports``; they
were validated message by message when received), traits are merged into ``users``,
rejected messages go to ``_rejected_rows``. Each step can be repeated without
changing the result, so a crash between the store's commit and the segment's deletion
only means the segment is loaded again, harmlessly.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from northstar import clock
from northstar.ingest.importer import append_valid
from northstar.ingest.tracking import clip
from northstar.store.connection import Store

LOG_DIR = "ingest-log"
SERVER_FILE = "server.json"  # written by the running server: pid, url
_SEGMENT_RE = re.compile(r"(\d{16})\.ndjson")
_COLUMNS = (
    "{'k': 'VARCHAR', 'uuid': 'VARCHAR', 'event': 'VARCHAR', 'distinct_id': 'VARCHAR', "
    "'ts': 'BIGINT', 'session_id': 'VARCHAR', 'properties': 'JSON', 'user_id': 'VARCHAR', "
    "'created_at': 'BIGINT', 'file': 'VARCHAR', 'line': 'BIGINT', 'raw': 'VARCHAR', "
    "'reason': 'VARCHAR'}"
)
_KINDS = (b"e", b"u", b"r")


def segment_path(folder: Path, seq: int) -> Path:
    return folder / f"{seq:016d}.ndjson"


def segment_seq(path: Path) -> int:
    match = _SEGMENT_RE.fullmatch(path.name)
    if not match:
        raise ValueError(f"{path} is not an ingestion-log segment")
    return int(match.group(1))


def list_segments(folder: Path) -> list[Path]:
    """Segments in the order they were written."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _SEGMENT_RE.fullmatch(p.name))


def repair_tail(path: Path) -> int:
    """Cut a half-written last line (the process died inside ``write``); returns the
    bytes removed. Such a line was never acknowledged: acknowledgement follows fsync."""
    size = path.stat().st_size
    if size == 0:
        return 0
    with path.open("r+b") as fh:
        keep = size
        while keep > 0:
            start = max(0, keep - 65536)
            fh.seek(start)
            chunk = fh.read(keep - start)
            if keep == size and chunk.endswith(b"\n"):
                return 0
            cut = chunk.rfind(b"\n")
            if cut >= 0:
                keep = start + cut + 1
                break
            keep = start
        fh.truncate(keep)
        fh.flush()
        os.fsync(fh.fileno())
    return size - keep


@dataclass(frozen=True)
class PendingLog:
    """What is in the log and not yet in the store."""

    segments: int
    bytes: int
    events: int


def running_server(folder: Path) -> dict[str, Any] | None:
    """The server writing this log (its pid, url, start time), if one is running."""
    try:
        info: dict[str, Any] = orjson.loads((folder / SERVER_FILE).read_bytes())
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        return None
    return info


def count_events(path: Path) -> int:
    """Event records in a segment (0 when it is gone: loaded meanwhile)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0
    return data.count(b'\n{"k":"e"') + data.startswith(b'{"k":"e"')


def pending(folder: Path) -> PendingLog:
    """Segments not yet loaded (the one being written included)."""
    count = total = events = 0
    for path in list_segments(folder):
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            continue
        if size:
            count, total, events = count + 1, total + size, events + count_events(path)
    return PendingLog(count, total, events)


@dataclass
class LoadResult:
    """What loading some segments added to the store."""

    events: int = 0
    duplicates: int = 0
    users: int = 0
    rejected: int = 0


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _read(store: Store, paths: list[Path]) -> None:
    files = "[" + ", ".join(_quote(str(p)) for p in paths) + "]"
    store.execute(
        f"CREATE OR REPLACE TEMP TABLE _ns_log AS SELECT * FROM read_json({files}, "
        f"format = 'newline_delimited', columns = {_COLUMNS})"
    )


def _salvage(path: Path) -> None:
    """Rewrite a segment whose lines do not all parse (a disk that lost unsynced
    blocks), turning each unreadable line into a quarantine record."""
    lines = path.read_bytes().split(b"\n")
    out: list[bytes] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record: Any = orjson.loads(line)
            ok = type(record) is dict and record.get("k", "").encode() in _KINDS
        except (orjson.JSONDecodeError, AttributeError):
            ok = False
        if ok:
            out.append(line + b"\n")
            continue
        out.append(
            orjson.dumps(
                {
                    "k": "r",
                    "file": f"ingestion log {path.name}",
                    "line": number,
                    "raw": clip(line),
                    "reason": "unreadable line in the ingestion log "
                    "(damaged on disk before it was acknowledged)",
                    "ts": None,
                },
                option=orjson.OPT_APPEND_NEWLINE,
            )
        )
    tmp = path.with_suffix(".salvage")
    tmp.write_bytes(b"".join(out))
    os.replace(tmp, path)


def _combine(first: Any, then: Any) -> Any:
    """One JSON merge patch (RFC 7386) with the effect of ``first`` then ``then``; nulls
    stay in it, so that the store's json_merge_patch still deletes those keys."""
    if type(first) is not dict or type(then) is not dict:
        return then
    out = dict(first)
    for key, value in then.items():
        out[key] = _combine(out[key], value) if key in out else value
    return out


def _load_users(store: Store) -> int:
    rows = store.execute(
        "SELECT user_id, created_at, CAST(properties AS VARCHAR) FROM _ns_log WHERE k = 'u'"
    ).fetchall()
    if not rows:
        return 0
    merged: dict[str, list[Any]] = {}
    for user_id, created_at, props in rows:  # file order: later traits win
        entry = merged.setdefault(user_id, [None, {}])
        entry[0] = entry[0] if entry[0] is not None else created_at
        entry[1] = _combine(entry[1], orjson.loads(props))
    table = pa.table(
        {
            "user_id": list(merged),
            "created_at": pa.array([v[0] for v in merged.values()], pa.int64()),
            "properties": [orjson.dumps(v[1]).decode() for v in merged.values()],
        }
    )
    con = store.con
    con.register("_ns_users", table)
    try:
        con.execute(
            "UPDATE users SET properties = json_merge_patch(users.properties, n.properties), "
            "created_at = coalesce(users.created_at, make_timestamptz(n.created_at)) "
            "FROM _ns_users n WHERE users.user_id = n.user_id"
        )
        con.execute(
            "INSERT INTO users SELECT n.user_id, make_timestamptz(n.created_at), "
            "json_merge_patch('{}', n.properties) FROM _ns_users n "
            "WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.user_id = n.user_id)"
        )
    finally:
        con.unregister("_ns_users")
    return len(merged)


_COMPLETE = "uuid IS NOT NULL AND event IS NOT NULL AND distinct_id IS NOT NULL AND ts IS NOT NULL"
_EVENTS_SQL = (
    "SELECT uuid, event, distinct_id, make_timestamptz(ts) AS timestamp, session_id, "
    f"properties FROM _ns_log WHERE k = 'e' AND {_COMPLETE}"
)


def _load_rejected(store: Store, import_id: str) -> int:
    row = store.execute(
        "INSERT INTO _rejected_rows SELECT ?, 'events', n.file, n.line, n.raw, n.reason, "
        "coalesce(make_timestamptz(n.ts), ?) FROM ("
        "  SELECT file, line, raw, reason, ts FROM _ns_log WHERE k = 'r'"
        "  UNION ALL"  # only a log edited by hand can hold these
        "  SELECT 'ingestion log', NULL, CAST(to_json(l) AS VARCHAR), "
        f"  'incomplete event record in the ingestion log', NULL FROM _ns_log l "
        f"  WHERE k = 'e' AND NOT ({_COMPLETE})"
        ") AS n WHERE NOT EXISTS (SELECT 1 FROM _rejected_rows r WHERE r.file = n.file "
        "AND r.line IS NOT DISTINCT FROM n.line AND r.raw = n.raw AND r.reason = n.reason)",
        [import_id, clock.now()],
    ).fetchone()
    return int(row[0]) if row else 0


def load_segments(store: Store, paths: list[Path]) -> LoadResult:
    """Move segments into the store (see the module docstring); deletes them after."""
    result = LoadResult()
    if not paths:
        return result
    try:
        _read(store, paths)
    except duckdb.Error:  # a damaged line: quarantine it, keep the rest
        for path in paths:
            _salvage(path)
        _read(store, paths)
    try:
        label = f"ingestion log {paths[0].stem}" + (f"..{paths[-1].stem}" if len(paths) > 1 else "")
        summary = append_valid(store, "events", _EVENTS_SQL, source=label)
        result.events, result.duplicates = summary.imported, summary.duplicates
        with store.transaction():
            result.users = _load_users(store)
            result.rejected += _load_rejected(store, f"log-{paths[0].stem}")
            if result.users:
                store.bump_data_version()
    finally:
        store.execute("DROP TABLE IF EXISTS _ns_log")
    for path in paths:
        path.unlink(missing_ok=True)
    return result
