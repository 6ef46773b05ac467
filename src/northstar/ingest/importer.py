"""Imports: read files, validate rows, keep bad ones in quarantine, append the rest once.

The stages read as the function does: read every file (an unreadable one stops the
import before anything is stored; a Parquet file is only checked, the engine reads it in
place) → type and validate each file's rows in one SQL pass into a temporary table →
in one transaction: quarantine the rejected rows, append the new ones (deduplicated on
the table's key), rebuild the identity map when merge events arrived, and log the
import. A failure anywhere leaves the store exactly as it was: before the transaction
only temporary tables are written.
"""

from __future__ import annotations

import json
import re
import time
import uuid as uuidlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import pyarrow as pa

from northstar import clock
from northstar.errors import ImportFileError
from northstar.ingest.identity import MERGE_EVENTS, rebuild_person_map
from northstar.ingest.readers import LINE, RawFile, Rejected, read_file
from northstar.ingest.validate import REASON, Staged, build_query, q, source_of
from northstar.store.connection import Store
from northstar.store.schema import TableSpec, table_spec

Progress = Callable[[int], None]  # called with the number of bytes just processed
_FILE, _STAGE, _TYPED = "_ns_file", "_ns_stage", "_ns_typed"  # temporary objects
# Events without a uuid get one derived from their content: the md5 of this text, written
# as a uuid (the derivation is part of the stored data — re-importing a file must find
# the same ids).
_CONTENT = (
    "md5(concat_ws(chr(31), event, distinct_id, CAST(epoch_us(timestamp) AS VARCHAR), "
    "coalesce(session_id, ''), CAST(properties AS VARCHAR)))"
)
_DERIVED = "__derived"  # the derived id of a good event row without a uuid
_MERGE_LIST = ", ".join("'" + e + "'" for e in MERGE_EVENTS)


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
    steps: dict[str, float] = field(default_factory=dict)  # seconds spent per stage


def _lap(summary: ImportSummary, step: str, since: float) -> float:
    """Count the time from ``since`` to now in ``step``; returns now."""
    now = time.perf_counter()
    summary.steps[step] = summary.steps.get(step, 0.0) + now - since
    return now


@dataclass
class _Source:
    name: str
    raw: RawFile
    staged: list[str]  # per file column: its data-model name, or __x0.. for an extra
    extras: tuple[str, ...]  # original names of the extra columns


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


def _stage(spec: TableSpec, name: str, raw: RawFile, mapping: dict[str, str]) -> _Source:
    """Check the file's columns against the table and name each one for staging."""
    columns = raw.columns
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
    staged = [
        new if new in model else f"__x{extras.index(orig)}"
        for orig, new in zip(columns, renamed, strict=True)
    ]
    return _Source(name, raw, staged, extras)


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
    started = time.perf_counter()
    sources: list[_Source] = []
    for path in paths:
        sources.append(_stage(spec, str(path), read_file(path, fmt), mapping or {}))
        if progress:
            progress(path.stat().st_size)
    read = time.perf_counter() - started
    summary = _load(store, spec, sources, timezone=timezone, replace=replace)
    summary.steps = {"read files": read, **summary.steps}
    summary.seconds += read
    return summary


def import_table(
    store: Store, table: str, data: pa.Table, *, source: str, timezone: str = "UTC"
) -> ImportSummary:
    """Import an in-memory Arrow table whose columns use the data model's names."""
    spec = table_spec(table)
    data = data.append_column(LINE, pa.array(range(1, data.num_rows + 1), pa.int64()))
    raw = RawFile(Path(source), "arrow", data)
    return _load(store, spec, [_stage(spec, source, raw, {})], timezone=timezone, replace=False)


def append_valid(store: Store, table: str, rows_sql: str, *, source: str) -> ImportSummary:
    """Append rows that are already typed and validated (the live ingestion log's, checked
    message by message when they were received): the same dedupe on the table's key,
    identity rebuild, import log and data version as an import, without a second
    validation pass. ``rows_sql`` is trusted SQL selecting the table's columns."""
    started = time.perf_counter()
    spec = table_spec(table)
    summary = ImportSummary(uuidlib.uuid4().hex[:12], spec.name, [source])
    cols = ", ".join(q(c) for c in spec.column_names)
    typed = (
        f"SELECT {cols}, row_number() OVER () AS {q(LINE)}, "
        f"CAST(NULL AS VARCHAR) AS {q(REASON)} FROM ({rows_sql}) AS r"
    )
    name = f"{_TYPED}0"
    try:
        store.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {_typed_sql(spec, typed)}")
        summary.rows_read, _, merges = _counts(store, spec, name)
        with store.transaction():
            _log_start(store, summary)
            if spec.name == "events" and merges:  # before the append, as in _load
                rebuild_person_map(store.con, [_merge_rows(name)])
            summary.imported, _ = _append(store, spec, name, False)
            summary.duplicates = summary.rows_read - summary.imported
            _log_finish(store, summary)
    finally:
        store.execute(f"DROP TABLE IF EXISTS {name}")
    summary.seconds = time.perf_counter() - started
    return summary


@dataclass
class _Typed:
    """A file's rows, typed and validated, in a temporary table of that name."""

    table: str
    rows: int  # rows in the table (not counting rows the reader could not parse)
    rejected: list[Rejected]  # the reader's and the validation's, with the raw rows
    merges: int  # good identify/alias events


def _load(
    store: Store, spec: TableSpec, sources: list[_Source], *, timezone: str, replace: bool
) -> ImportSummary:
    started = time.perf_counter()
    summary = ImportSummary(uuidlib.uuid4().hex[:12], spec.name, [s.name for s in sources])
    reasons: Counter[str] = Counter()
    merges = 0
    typed: list[_Typed] = []
    step = started
    try:
        # Typing happens before the transaction: it writes only temporary tables, and
        # the engine scans a table created inside an open transaction with one thread.
        for index, source in enumerate(sources):
            typed.append(_type_rows(store, spec, source, timezone, f"{_TYPED}{index}"))
        step = _lap(summary, "type and validate", step)
        with store.transaction():
            _log_start(store, summary)
            early = spec.name == "events" and not replace and any(t.merges for t in typed)
            if early:
                # The batch's merges join the identity map before its events are written,
                # so they are written with their person (no update of the new rows after).
                rebuild_person_map(store.con, [_merge_rows(t.table) for t in typed])
                step = _lap(summary, "identity map", step)
            for source, rows in zip(sources, typed, strict=True):
                summary.rows_read += rows.rows + len(source.raw.rejected)
                _quarantine(store, summary.import_id, spec.name, source.name, rows.rejected)
                summary.rejected += len(rows.rejected)
                reasons.update(
                    _reason_kind(part) for r in rows.rejected for part in r.reason.split("; ")
                )
                step = _lap(summary, "quarantine", step)
                inserted, updated = _append(store, spec, rows.table, replace)
                summary.imported += inserted
                summary.updated += updated
                bad = len(rows.rejected) - len(source.raw.rejected)
                summary.duplicates += rows.rows - bad - inserted - updated
                merges += rows.merges if inserted or updated else 0
                step = _lap(summary, "dedupe and append", step)
            # Only identify/alias events shape the identity map: without new ones the
            # rebuild (a replay of every merge ever made) would give the same map, so it
            # is skipped. A replaced event may have been a merge event, so replacing
            # rebuilds too.
            if spec.name == "events" and not early and (merges or summary.updated):
                rebuild_person_map(store.con)
                step = _lap(summary, "identity map", step)
            _log_finish(store, summary)
        _lap(summary, "log and commit", step)
    finally:
        for rows in typed:
            store.execute(f"DROP TABLE IF EXISTS {rows.table}")
    summary.top_reasons = reasons.most_common(5)
    summary.seconds = time.perf_counter() - started
    return summary


def _log_start(store: Store, summary: ImportSummary) -> None:
    store.execute(
        "INSERT INTO _imports (import_id, table_name, files, started_at) VALUES (?, ?, ?, ?)",
        [summary.import_id, summary.table, summary.files, clock.now()],
    )


def _log_finish(store: Store, summary: ImportSummary) -> None:
    """Complete the import's log entry and mark the data changed (the last step)."""
    store.execute(
        "UPDATE _imports SET finished_at = ?, imported = ?, duplicates = ?, rejected = ? "
        "WHERE import_id = ?",
        [clock.now(), summary.imported + summary.updated, summary.duplicates,
         summary.rejected, summary.import_id],
    )  # fmt: skip
    if summary.imported or summary.updated:
        store.bump_data_version()


def _type_rows(store: Store, spec: TableSpec, source: _Source, timezone: str, name: str) -> _Typed:
    """Stage the file (its columns renamed by position: no name from the file reaches
    the SQL) and materialise its typed, validated rows once, in table ``name``."""
    con = store.con
    raw = source.raw
    n = len(raw.columns)
    if raw.table is not None:
        # An Arrow table: the file's columns, then LINE.
        base = con.from_arrow(raw.table)
    else:
        base = con.read_parquet(str(raw.path.absolute()), file_row_number=True)
        base = base.select(
            *(duckdb.SQLExpression(f"#{i}") for i in range(1, n + 1)),
            duckdb.SQLExpression(f"#{n + 1} + 1").alias(LINE),
        )
    base.create_view(_FILE, replace=True)
    try:
        stage = con.table(_FILE).select(
            *(duckdb.SQLExpression(f"#{i}").alias(s) for i, s in enumerate(source.staged, 1)),
            duckdb.SQLExpression(f"#{n + 1}").alias(LINE),
        )
        stage.create_view(_STAGE, replace=True)
        types = {c: source_of(t) for c, t in zip(stage.columns, stage.types, strict=True)}
        sql, params = build_query(spec, Staged(types, source.extras), _STAGE)
        if "$tz" in sql:
            params = {**params, "tz": timezone}
        create = f"CREATE OR REPLACE TEMP TABLE {name} AS {_typed_sql(spec, sql)}"
        try:
            con.execute(create, params)
        except (duckdb.IOException, duckdb.InvalidInputException) as exc:
            if raw.table is not None:
                raise
            first = str(exc).strip().splitlines()[0]
            raise ImportFileError(f"{source.name}: cannot read it as parquet: {first}") from None
        rows, bad, merges = _counts(store, spec, name)
        rejected = raw.rejected + (_bad_rows(store, name) if bad else [])
        return _Typed(name, rows, rejected, merges)
    finally:
        store.execute(f"DROP VIEW IF EXISTS {_STAGE}")
        store.execute(f"DROP VIEW IF EXISTS {_FILE}")


def _typed_sql(spec: TableSpec, typed_sql: str) -> str:
    """The typed rows plus, for good events without a uuid, the id derived from their
    content, computed in the same pass as validation (once per row)."""
    if spec.name != "events":
        return typed_sql
    derived = _as_uuid(_CONTENT)
    return (
        f"SELECT *, CASE WHEN uuid IS NULL AND {q(REASON)} IS NULL THEN {derived} END "
        f"AS {q(_DERIVED)} FROM ({typed_sql}) AS t"
    )


def _counts(store: Store, spec: TableSpec, typed: str) -> tuple[int, int, int]:
    """(rows, rejected rows, good identify/alias events) of a typed table, in one scan."""
    merges = (
        f"count(*) FILTER (WHERE {q(REASON)} IS NULL AND event IN ({_MERGE_LIST}))"
        if spec.name == "events"
        else "0"
    )
    sql = f"SELECT count(*), count({q(REASON)}), {merges} FROM {typed}"
    rows, bad, merge_events = store.execute(sql).fetchone() or (0, 0, 0)
    return int(rows), int(bad), int(merge_events)


def _bad_rows(store: Store, typed: str) -> list[Rejected]:
    """The rejected rows of a typed table, each with the file's raw row: its columns
    under their original names, read again from the file (bad rows are few)."""
    cur = store.execute(
        f"SELECT f.*, t.{q(REASON)} FROM {_FILE} f JOIN {typed} t USING ({q(LINE)}) "
        f"WHERE t.{q(REASON)} IS NOT NULL ORDER BY f.{q(LINE)}"
    )
    names = [d[0] for d in cur.description][:-2]  # the file's columns, then LINE, reason
    rejected = []
    for row in cur.fetchall():
        raw = dict(zip(names, row[:-2], strict=True))
        text = json.dumps(raw, default=str, ensure_ascii=False)
        rejected.append(Rejected(int(row[-2]), text, str(row[-1])))
    return rejected


def _reason_kind(reason: str) -> str:
    """'amount 'abc' is not an amount' → 'amount is not an amount' (values stripped)."""
    return re.sub(r" '(?:[^']|'')*'", "", reason, count=1)


def _quarantine(store: Store, import_id: str, table: str, file: str, rows: list[Rejected]) -> None:
    if not rows:
        return
    now = clock.now()
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


def _as_uuid(hex_md5: str) -> str:
    # 32 hex digits → 8-4-4-4-12 text (the UUID type prints exactly that, lower case).
    # Through the 16 bytes: the engine casts bytes to a UUID at twice the speed of text.
    return f"CAST(CAST(unhex({hex_md5}) AS UUID) AS VARCHAR)"


def _new_rows_sql(store: Store, spec: TableSpec, typed: str) -> str:
    """Good rows of a typed table, at most one per key (the first in the file).

    Repeated keys are rare, so they are looked for first (a 64-bit hash of the key: a
    collision only sends the batch down the careful path). Events without a uuid get the
    id derived from their content; identical rows on different lines of the file are
    told apart by their occurrence among them, so re-importing a file adds nothing while
    two identical rows stay two events.
    """
    good = f"{q(REASON)} IS NULL"
    if spec.name == "events":
        key = f"coalesce(uuid, {q(_DERIVED)})"
        rows = f"SELECT * REPLACE ({key} AS uuid) FROM {typed} WHERE {good}"
    else:
        key = ", ".join(q(k) for k in spec.key)
        rows = f"SELECT * FROM {typed} WHERE {good}"
    repeats = store.execute(
        f"SELECT 1 FROM {typed} WHERE {good} GROUP BY hash({key}) HAVING count(*) > 1 LIMIT 1"
    ).fetchone()
    if not repeats:
        return rows
    first = f"row_number() OVER (PARTITION BY {key} ORDER BY {q(LINE)}) = 1"
    if spec.name != "events":
        return f"{rows} QUALIFY {first}"
    # Only rows whose key repeats need numbering. Given uuids: the first row of each.
    # Derived ids: numbered among identical rows; the n-th (n > 1) gets the md5 of the
    # first one's md5 and n.
    n, md5 = "__n", f"replace({q(_DERIVED)}, '-', '')"
    return f"""
        WITH good AS (SELECT *, {key} AS __key FROM {typed} WHERE {good}),
        repeated AS (SELECT __key FROM good GROUP BY __key HAVING count(*) > 1)
        SELECT * EXCLUDE (__key) REPLACE (__key AS uuid) FROM good
        WHERE __key NOT IN (SELECT __key FROM repeated)
        UNION ALL BY NAME
        SELECT * EXCLUDE (__key, {n}) REPLACE (
            CASE WHEN uuid IS NOT NULL OR {n} = 1 THEN __key
            ELSE {_as_uuid(f"md5({md5} || ':' || {n})")} END AS uuid)
        FROM (
            SELECT *, row_number() OVER (PARTITION BY __key, uuid IS NULL ORDER BY {q(LINE)})
                AS {n}
            FROM good WHERE __key IN (SELECT __key FROM repeated)
        ) WHERE uuid IS NULL OR {n} = 1
    """


def _merge_rows(typed: str) -> str:
    """The good merge events of a typed events table, as the identity replay reads them."""
    names = ", ".join(f"'{e}'" for e in MERGE_EVENTS)  # constants, not user text
    return (
        f"SELECT coalesce(uuid, {q(_DERIVED)}) AS uuid, event, distinct_id, timestamp, "
        f"properties FROM {typed} WHERE {q(REASON)} IS NULL AND event IN ({names})"
    )


def _has_merges(store: Store) -> bool:
    return store.execute("SELECT 1 FROM _person_map LIMIT 1").fetchone() is not None


def _append(store: Store, spec: TableSpec, typed: str, replace: bool) -> tuple[int, int]:
    """Append the good rows of a typed table not yet stored; returns (inserted, updated)."""
    cols = ", ".join(q(c) for c in spec.column_names)
    same_key = " AND ".join(f"e.{q(k)} = n.{q(k)}" for k in spec.key)
    rows = _new_rows_sql(store, spec, typed)
    picked, into = f"SELECT {cols}", cols
    if spec.name == "events" and _has_merges(store):
        # Each event is written with its person when that is not its own id (the identity
        # map as it stands; merges this batch brings fix it up afterwards:
        # identity.fix_persons). Without any merge yet, every person_id stays NULL.
        rows = (
            f"SELECT n.*, pm.person_id FROM ({rows}) AS n "
            "LEFT JOIN _person_map pm ON pm.distinct_id = n.distinct_id"
        )
        picked, into = f"SELECT {cols}, person_id", f"{cols}, person_id"
    if not replace:
        # The common path: one pass, nothing materialised twice. An explicit anti join:
        # NOT EXISTS plans as a delim join that first collects the whole batch's keys.
        result = store.execute(
            f"INSERT INTO {q(spec.name)} ({into}) {picked} FROM ({rows}) AS n "
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
    result = store.execute(f"INSERT INTO {q(spec.name)} ({into}) {picked} FROM _ns_new").fetchone()
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
