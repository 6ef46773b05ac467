"""Imports: read files, validate rows, keep bad ones in quarantine, append the rest once.

The stages read as the function does: read every file (an unreadable one stops the
import before anything is stored) → stage and validate in SQL → in one transaction,
quarantine rejected rows, append new rows (deduplicated on the table's key), rebuild the
identity map when events changed, and log the import. A failure anywhere in the
transaction leaves the store exactly as it was.
"""

from __future__ import annotations

import json
import re
import time
import uuid as uuidlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow as pa
import pyarrow.compute as pc

from northstar.errors import ImportFileError
from northstar.ingest.identity import rebuild_person_map
from northstar.ingest.readers import LINE, RawFile, Rejected, read_file
from northstar.ingest.validate import REASON, Staged, build_query, q
from northstar.store.connection import Store
from northstar.store.schema import TableSpec, table_spec

Progress = Callable[[int], None]  # called with the number of bytes just processed
_STAGE, _TYPED = "_ns_stage", "_ns_typed"
# Events without a uuid get one derived from their content: the md5 of this text (the
# derivation is part of the stored data — re-importing a file must find the same ids).
_CONTENT = (
    "md5(concat_ws(chr(31), event, distinct_id, CAST(epoch_us(timestamp) AS VARCHAR), "
    "coalesce(session_id, ''), CAST(properties AS VARCHAR)))"
)
_HASH = "__content_md5"


@dataclass
class ImportSummary:
    """What an import did, for the CLI summary and the Python API."""

    import_id: str
    table: str
    files: list[str]
    rows_read: int = 0
    imported: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: int = 0
    top_reasons: list[tuple[str, int]] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class _Source:
    name: str
    original: pa.Table  # as read, with LINE: the raw rows quarantine keeps
    staged: pa.Table  # renamed to the data model, extras as __x0..
    info: Staged
    rejected: list[Rejected]


def parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """``["src=target", ...]`` → ``{"src": "target"}``; a malformed pair is a user error."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        source, sep, target = pair.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise ImportFileError(f"--map {pair!r} must look like source_column=table_column")
        mapping[source.strip()] = target.strip()
    return mapping


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImportFileError(
            f"unknown time zone {name!r}; use an IANA name such as 'America/New_York'"
        ) from None
    return name


def _stage(spec: TableSpec, name: str, table: pa.Table, mapping: dict[str, str]) -> _Source:
    columns = [c for c in table.column_names if c != LINE]
    for source, target in mapping.items():
        if source not in columns:
            raise ImportFileError(
                f"{name}: --map {source}={target}: the file has no column {source!r} "
                f"(its columns: {', '.join(columns)})"
            )
        if target not in spec.column_names:
            raise ImportFileError(
                f"--map {source}={target}: {spec.name} has no column {target!r} "
                f"(its columns: {', '.join(spec.column_names)})"
            )
    renamed = [mapping.get(c, c) for c in columns]
    clashes = sorted({c for c in renamed if renamed.count(c) > 1})
    if clashes:
        raise ImportFileError(f"{name}: more than one column maps to {', '.join(clashes)}")
    model = [c for c in renamed if c in spec.column_names]
    missing = [
        c.name for c in spec.columns if c.required and c.name not in model and c.name != "uuid"
    ]
    if missing:
        raise ImportFileError(
            f"{name}: missing required column(s) {', '.join(missing)} for {spec.name} "
            f"(found: {', '.join(columns) or 'none'}); rename them with --map source=target"
        )
    extras = tuple(orig for orig, new in zip(columns, renamed, strict=True) if new not in model)
    arrays, names = [table.column(LINE)], [LINE]
    types: dict[str, pa.DataType] = {}
    for orig, new in zip(columns, renamed, strict=True):
        staged_name = new if new in model else f"__x{extras.index(orig)}"
        arrays.append(table.column(orig))
        names.append(staged_name)
        types[staged_name] = table.schema.field(orig).type
    staged = pa.Table.from_arrays(arrays, names=names)
    return _Source(name, table, staged, Staged(types, extras), [])


def import_files(
    store: Store,
    table: str,
    paths: Sequence[Path],
    *,
    timezone: str,
    mapping: dict[str, str] | None = None,
    fmt: str | None = None,
    replace: bool = False,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import files into a data-model table; see the module docstring for the rules."""
    spec = table_spec(table)
    _check_timezone(timezone)
    if not paths:
        raise ImportFileError("give at least one file to import")
    sources: list[_Source] = []
    for path in paths:
        raw: RawFile = read_file(path, fmt)
        source = _stage(spec, str(path), raw.table, mapping or {})
        source.rejected = raw.rejected
        sources.append(source)
        if progress:
            progress(path.stat().st_size)
    return _load(store, spec, sources, timezone=timezone, replace=replace)


def import_table(
    store: Store, table: str, data: pa.Table, *, source: str, timezone: str = "UTC"
) -> ImportSummary:
    """Import an in-memory Arrow table whose columns use the data model's names."""
    spec = table_spec(table)
    data = data.append_column(LINE, pa.array(range(1, data.num_rows + 1), pa.int64()))
    return _load(store, spec, [_stage(spec, source, data, {})], timezone=timezone, replace=False)


def append_valid(store: Store, table: str, rows_sql: str, *, source: str) -> ImportSummary:
    """Append rows that are already typed and validated (the live ingestion log's, checked
    message by message when they were received): the same dedupe on the table's key,
    identity rebuild, import log and data version as an import, without a second
    validation pass. ``rows_sql`` is trusted SQL selecting the table's columns."""
    started = time.perf_counter()
    spec = table_spec(table)
    summary = ImportSummary(uuidlib.uuid4().hex[:12], spec.name, [source])
    cols = ", ".join(q(c) for c in spec.column_names)
    with store.transaction():
        store.execute(
            "INSERT INTO _imports (import_id, table_name, files, started_at) VALUES (?, ?, ?, ?)",
            [summary.import_id, spec.name, summary.files, datetime.now(UTC)],
        )
        typed = (
            f"SELECT {cols}, row_number() OVER () AS {q(LINE)}, "
            f"CAST(NULL AS VARCHAR) AS {q(REASON)} FROM ({rows_sql}) AS r"
        )
        store.execute(f"CREATE OR REPLACE TEMP TABLE {_TYPED} AS {_with_hash(spec, typed)}")
        counted = store.execute(f"SELECT count(*) FROM {_TYPED}").fetchone()
        summary.rows_read = int(counted[0]) if counted else 0
        summary.imported, _ = _append(store, spec, False)
        summary.duplicates = summary.rows_read - summary.imported
        # Only identify/alias events shape the identity map: without new ones the rebuild
        # (a replay of every merge ever made) would give the same map, so skip it.
        merges = store.execute(
            f"SELECT count(*) FROM {_TYPED} WHERE event IN ('$identify', '$create_alias')"
        ).fetchone() if spec.name == "events" else None  # fmt: skip
        store.execute(f"DROP TABLE {_TYPED}")
        if summary.imported and merges and merges[0]:
            rebuild_person_map(store.con)
        store.execute(
            "UPDATE _imports SET finished_at = ?, imported = ?, duplicates = ?, rejected = 0 "
            "WHERE import_id = ?",
            [datetime.now(UTC), summary.imported, summary.duplicates, summary.import_id],
        )
        if summary.imported:
            store.bump_data_version()
    summary.seconds = time.perf_counter() - started
    return summary


def _load(
    store: Store, spec: TableSpec, sources: list[_Source], *, timezone: str, replace: bool
) -> ImportSummary:
    started = time.perf_counter()
    summary = ImportSummary(uuidlib.uuid4().hex[:12], spec.name, [s.name for s in sources])
    reasons: Counter[str] = Counter()
    con = store.con
    with store.transaction():
        store.execute(
            "INSERT INTO _imports (import_id, table_name, files, started_at) VALUES (?, ?, ?, ?)",
            [summary.import_id, spec.name, summary.files, datetime.now(UTC)],
        )
        for source in sources:
            summary.rows_read += source.staged.num_rows + len(source.rejected)
            sql, params = build_query(spec, source.info, _STAGE)
            con.register(_STAGE, source.staged)
            try:
                con.execute(
                    f"CREATE OR REPLACE TEMP TABLE {_TYPED} AS {_with_hash(spec, sql)}",
                    {**params, "tz": timezone} if "$tz" in sql else params,
                )
            finally:
                con.unregister(_STAGE)
            bad = con.execute(
                f"SELECT {q(LINE)}, {q(REASON)} FROM {_TYPED} WHERE {q(REASON)} IS NOT NULL"
            ).fetchall()
            rejected = source.rejected + _with_raw(source.original, bad)
            _quarantine(store, summary.import_id, spec.name, source.name, rejected)
            summary.rejected += len(rejected)
            reasons.update(_reason_kind(part) for r in rejected for part in r.reason.split("; "))
            good = source.staged.num_rows - len(bad)
            inserted, updated = _append(store, spec, replace)
            summary.imported += inserted
            summary.updated += updated
            summary.duplicates += good - inserted - updated
            con.execute(f"DROP TABLE {_TYPED}")
        if spec.name == "events" and summary.imported:
            rebuild_person_map(con)
        store.execute(
            "UPDATE _imports SET finished_at = ?, imported = ?, duplicates = ?, rejected = ? "
            "WHERE import_id = ?",
            [datetime.now(UTC), summary.imported + summary.updated, summary.duplicates,
             summary.rejected, summary.import_id],
        )  # fmt: skip
        if summary.imported or summary.updated:
            store.bump_data_version()
    summary.top_reasons = reasons.most_common(5)
    summary.seconds = time.perf_counter() - started
    return summary


def _reason_kind(reason: str) -> str:
    """'amount 'abc' is not an amount' → 'amount is not an amount' (values stripped)."""
    return re.sub(r" '(?:[^']|'')*'", "", reason, count=1)


def _with_raw(original: pa.Table, bad: list[tuple[int, str]]) -> list[Rejected]:
    if not bad:
        return []
    lines = pa.array([b[0] for b in bad], pa.int64())
    rows = original.filter(pc.is_in(original.column(LINE), value_set=lines)).to_pylist()
    raw_by_line = {row.pop(LINE): json.dumps(row, default=str, ensure_ascii=False) for row in rows}
    return [Rejected(line, raw_by_line.get(line, ""), reason) for line, reason in bad]


def _quarantine(store: Store, import_id: str, table: str, file: str, rows: list[Rejected]) -> None:
    if not rows:
        return
    now = datetime.now(UTC)
    data = pa.table(
        {
            "import_id": [import_id] * len(rows),
            "table_name": [table] * len(rows),
            "file": [file] * len(rows),
            "line": pa.array([r.line for r in rows], pa.int64()),
            "raw": [r.raw for r in rows],
            "reason": [r.reason for r in rows],
            "rejected_at": pa.array([now] * len(rows), pa.timestamp("us", tz="UTC")),
        }
    )
    store.con.register("_ns_rejected", data)
    # A file imported again keeps one quarantine entry per bad row, not one per attempt.
    store.execute(
        "INSERT INTO _rejected_rows SELECT * FROM _ns_rejected n WHERE NOT EXISTS ("
        "SELECT 1 FROM _rejected_rows r WHERE r.table_name = n.table_name AND r.file = n.file "
        "AND r.line IS NOT DISTINCT FROM n.line AND r.raw = n.raw AND r.reason = n.reason)"
    )
    store.con.unregister("_ns_rejected")


def _with_hash(spec: TableSpec, typed_sql: str) -> str:
    """The typed rows plus, for events without a uuid, the md5 of their content,
    computed in the same pass as validation (once per row). Rejected rows get one too
    (they are few): testing the reason here would have the engine compute it twice."""
    if spec.name != "events":
        return typed_sql
    return (
        f"SELECT *, CASE WHEN uuid IS NULL THEN {_CONTENT} END AS {q(_HASH)} "
        f"FROM ({typed_sql}) AS t"
    )


def _as_uuid(hex_md5: str) -> str:
    # 32 hex digits → 8-4-4-4-12 text (the UUID type prints exactly that, lower case).
    return f"CAST(CAST({hex_md5} AS UUID) AS VARCHAR)"


def _event_ids_sql(store: Store) -> str:
    """Good event rows with a uuid, at most one row per uuid.

    A missing uuid is derived from the row's content and its occurrence among identical
    rows of the file, so re-importing a file adds nothing while two identical rows on
    different lines stay two events. Derived ids are unique by construction, so only
    rows that brought their own uuid need deduplicating within the batch.
    """
    d, good = q(_HASH), f"{q(REASON)} IS NULL"
    given = (
        f"SELECT * EXCLUDE ({d}) FROM {_TYPED} WHERE {good} AND uuid IS NOT NULL "
        f"QUALIFY row_number() OVER (PARTITION BY uuid ORDER BY {q(LINE)}) = 1"
    )
    # Occurrence numbers are needed only where the content repeats, which is rare. A
    # 64-bit hash of the md5 repeats whenever the md5 does: when none repeats (the
    # common case), every derived id is the md5 itself, with no join and no window.
    to_derive = f"{good} AND uuid IS NULL"
    repeats = store.execute(
        f"SELECT 1 FROM {_TYPED} WHERE {to_derive} GROUP BY hash({d}) HAVING count(*) > 1 LIMIT 1"
    ).fetchone()
    if not repeats:
        derived = f"SELECT * EXCLUDE ({d}) REPLACE ({_as_uuid(d)} AS uuid) FROM {_TYPED} "
        return f"{derived} WHERE {to_derive} UNION ALL BY NAME {given}"
    occurrence = f"row_number() OVER (PARTITION BY d ORDER BY {q(LINE)})"
    return f"""
        WITH hashed AS (
            SELECT * EXCLUDE ({d}), {d} AS d FROM {_TYPED} WHERE {to_derive}
        ), repeated AS (
            SELECT d FROM hashed GROUP BY d HAVING count(*) > 1
        ), derived AS (
            SELECT *, d AS x FROM hashed WHERE d NOT IN (SELECT d FROM repeated)
            UNION ALL
            SELECT *, CASE WHEN {occurrence} = 1 THEN d ELSE md5(d || ':' || {occurrence}) END
            FROM hashed WHERE d IN (SELECT d FROM repeated)
        )
        SELECT * EXCLUDE (d, x) REPLACE ({_as_uuid("x")} AS uuid) FROM derived
        UNION ALL BY NAME
        {given}
    """


def _append(store: Store, spec: TableSpec, replace: bool) -> tuple[int, int]:
    """Append the good rows not yet stored; returns (inserted, updated)."""
    cols = ", ".join(q(c) for c in spec.column_names)
    same_key = " AND ".join(f"e.{q(k)} = n.{q(k)}" for k in spec.key)
    if spec.name == "events":
        rows = _event_ids_sql(store)
    else:
        partition = ", ".join(q(k) for k in spec.key)
        rows = (
            f"SELECT * FROM {_TYPED} WHERE {q(REASON)} IS NULL "
            f"QUALIFY row_number() OVER (PARTITION BY {partition} ORDER BY {q(LINE)}) = 1"
        )
    if not replace:
        # The common path: one pass, nothing materialised twice. An explicit anti join:
        # NOT EXISTS plans as a delim join that first collects the whole batch's keys.
        result = store.execute(
            f"INSERT INTO {q(spec.name)} ({cols}) SELECT {cols} FROM ({rows}) AS n "
            f"ANTI JOIN {q(spec.name)} e ON {same_key}"
        ).fetchone()
        return (int(result[0]) if result else 0), 0
    store.execute(f"CREATE OR REPLACE TEMP TABLE _ns_new AS {rows}")
    found = store.execute(
        f"SELECT count(*) FROM _ns_new n WHERE EXISTS "
        f"(SELECT 1 FROM {q(spec.name)} e WHERE {same_key})"
    ).fetchone()
    updated = int(found[0]) if found else 0
    store.execute(
        f"DELETE FROM {q(spec.name)} e WHERE EXISTS (SELECT 1 FROM _ns_new n WHERE {same_key})"
    )
    result = store.execute(
        f"INSERT INTO {q(spec.name)} ({cols}) SELECT {cols} FROM _ns_new"
    ).fetchone()
    store.execute("DROP TABLE _ns_new")
    inserted = int(result[0]) if result else 0
    return inserted - updated, updated


def rejected_rows(
    store: Store, *, limit: int = 50, table: str | None = None
) -> list[dict[str, Any]]:
    """The most recent quarantined rows, newest first."""
    where, params = ("WHERE table_name = ?", [table]) if table else ("", [])
    cur = store.execute(
        f"SELECT table_name, file, line, reason, raw, import_id, rejected_at FROM _rejected_rows "
        f"{where} ORDER BY rejected_at DESC, file, line LIMIT ?",
        [*params, limit],
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
