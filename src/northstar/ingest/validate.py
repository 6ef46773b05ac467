"""Validate and type a staged file in one SQL pass.

For every row the query yields the typed value of each data-model column and a
``__reason`` (NULL for a good row; otherwise every problem, separated by "; ").
Identifiers in the SQL come from the data model, never from the file: file columns are
renamed before staging, extra columns are staged as ``__x0``, ``__x1``..., and their
names reach the SQL only as bound parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from duckdb.sqltypes import DuckDBPyType

from northstar.ingest.readers import LINE
from northstar.store.schema import Column, Kind, RowRule, TableSpec

REASON = "__reason"

# Ids that SDKs send when they have no real id; merging on them would join strangers.
ILLEGAL_IDS = (
    "null", "undefined", "anonymous", "0", "[object object]", "nan", "none", "guest",
    "distinctid", "distinct_id", "id", "not_authenticated", "email", "true", "false",
)  # fmt: skip

_OFFSET_RE = r"[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?\s*(Z|z|UTC|[+-][0-9]{2}(:?[0-9]{2})?)$"
_EPOCH_RE = r"-?[0-9]{9,13}(\.[0-9]+)?"


def q(name: str) -> str:
    """Quote an identifier of the data model."""
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Source(Enum):
    """What a staged column holds, from the engine's type of it (a CSV or JSON file's
    values are all text; a Parquet file's are typed)."""

    text = "text"
    integer = "integer"
    floating = "floating"
    decimal = "decimal"
    boolean = "boolean"
    timestamp_tz = "timestamp with time zone"
    timestamp = "timestamp without time zone"
    date = "date"
    time = "time"
    nested = "struct, list or map"
    other = "other"


_SOURCES = {
    "varchar": Source.text,
    "double": Source.floating,
    "float": Source.floating,
    "decimal": Source.decimal,
    "boolean": Source.boolean,
    "timestamp with time zone": Source.timestamp_tz,
    "timestamp": Source.timestamp,
    "timestamp_ns": Source.timestamp,
    "timestamp_ms": Source.timestamp,
    "timestamp_s": Source.timestamp,
    "date": Source.date,
    "time": Source.time,
    **dict.fromkeys(("struct", "list", "map", "array", "union"), Source.nested),
    **dict.fromkeys(
        ("tinyint", "smallint", "integer", "bigint", "hugeint", "utinyint", "usmallint",
         "uinteger", "ubigint", "uhugeint"),
        Source.integer,
    ),
}  # fmt: skip


def source_of(engine_type: DuckDBPyType) -> Source:
    """The :class:`Source` of a column of the engine's type (a relation's ``types``)."""
    if str(engine_type) == "JSON":  # JSON is text underneath, but '' is not valid JSON
        return Source.other
    return _SOURCES.get(engine_type.id, Source.other)


@dataclass(frozen=True)
class Staged:
    """What is known about the staged relation when the SQL is built."""

    types: dict[str, Source]  # staged column (data-model name or __x0..) -> what it holds
    extras: tuple[str, ...]  # original names of extra columns, staged as __x0, __x1, ...


def _trimmed(src: str) -> str:
    # trim() copies every value; most values have nothing to trim, and telling that
    # costs a fifth as much. Non-ASCII text is always trimmed (trim also strips
    # non-ASCII spaces such as U+00A0).
    return (
        f"CASE WHEN starts_with({src}, ' ') OR ends_with({src}, ' ') "
        f"OR strlen({src}) <> length({src}) THEN trim({src}) ELSE {src} END"
    )


def _text_of(src: str, source: Source | None = None) -> str:
    """The value as text, NULL when missing or blank."""
    if source is Source.text:
        return f"NULLIF({_trimmed(src)}, '')"
    if source is not None and _never_blank(source):
        return f"CAST({src} AS VARCHAR)"
    return f"NULLIF(trim(CAST({src} AS VARCHAR)), '')"


def _never_blank(source: Source) -> bool:
    """Whether a value of this type is never empty or blank as text, so "given" is
    simply "not NULL" and its text is needed only to show it in a reason."""
    return source not in (Source.text, Source.other)


def _epoch(num: str) -> str:
    # Milliseconds when the number is too large to be seconds (after the year 5138);
    # NaN, infinities and numbers still beyond that as milliseconds are no time at all.
    secs = f"(CASE WHEN abs({num}) > 1e11 THEN {num} / 1000.0 ELSE {num} END)"
    return f"CASE WHEN isfinite({num}) AND abs({secs}) < 1e11 THEN to_timestamp({secs}) END"


_NUMERIC = (Source.integer, Source.floating, Source.decimal)


def _value(col: Column, src: str, source: Source) -> tuple[str, str]:
    """(typed value, the text shown when it is wrong) for one column."""
    is_text = source is Source.text
    txt = _text_of(src, source)
    kind = col.kind
    if kind is Kind.text:
        value = f"lower({txt})" if col.choices else txt
        return value, txt
    if kind in (Kind.number, Kind.money, Kind.integer):
        num = f"TRY_CAST({txt} AS DOUBLE)" if is_text else f"TRY_CAST({src} AS DOUBLE)"
        num = f"CASE WHEN isfinite({num}) THEN {num} END"
        if kind is Kind.money:
            return f"CAST(round({num}, 4) AS DECIMAL(18,4))", txt
        if kind is Kind.integer:
            return f"CASE WHEN {num} = floor({num}) THEN CAST({num} AS BIGINT) END", txt
        return num, txt
    if kind is Kind.timestamp:
        if is_text:
            value = (
                f"CASE WHEN regexp_full_match({txt}, '{_EPOCH_RE}') "
                f"THEN {_epoch(f'CAST({txt} AS DOUBLE)')} "
                f"WHEN regexp_matches({txt}, '{_OFFSET_RE}') THEN TRY_CAST({txt} AS TIMESTAMPTZ) "
                f"ELSE timezone($tz, TRY_CAST({txt} AS TIMESTAMP)) END"
            )
        elif source is Source.timestamp_tz:
            value = f"CAST({src} AS TIMESTAMPTZ)"
        elif source in (Source.timestamp, Source.date):
            value = f"timezone($tz, CAST({src} AS TIMESTAMP))"
        elif source in _NUMERIC:
            value = _epoch(f"CAST({src} AS DOUBLE)")
        else:
            value = f"timezone($tz, TRY_CAST({txt} AS TIMESTAMP))"
        return value, txt
    if kind is Kind.date:
        if source is Source.timestamp_tz:
            return f"CAST(timezone($tz, {src}) AS DATE)", txt
        if source in (Source.date, Source.timestamp):
            return f"CAST({src} AS DATE)", txt
        return f"TRY_CAST({txt} AS DATE)", txt
    # JSON object
    if is_text:
        # Valid JSON text that starts with '{' is an object: one parse (the cast) for the
        # common case; text with other leading characters is asked for its type.
        value = (
            f"CASE WHEN starts_with({txt}, '{{') THEN TRY_CAST({txt} AS JSON) "
            f"WHEN json_type(TRY_CAST({txt} AS JSON)) = 'OBJECT' THEN CAST({txt} AS JSON) END"
        )
    else:
        value = (
            f"CASE WHEN json_type(to_json({src})) = 'OBJECT' THEN CAST(to_json({src}) AS JSON) END"
        )
    return value, txt


_PROBLEM = {
    Kind.number: "is not a number",
    Kind.money: "is not an amount",
    Kind.integer: "is not a whole number",
    Kind.timestamp: "is not a date-time",
    Kind.date: "is not a date",
    Kind.json: "is not a JSON object",
}


def build_query(spec: TableSpec, staged: Staged, stage_name: str) -> tuple[str, dict[str, str]]:
    """SQL selecting typed data-model columns, LINE and REASON from the stage.

    Returns the SQL and its named parameters (``$tz`` must be added by the caller).
    """
    params: dict[str, str] = {}
    inner: list[str] = [q(LINE)] + [q(f"__x{i}") for i in range(len(staged.extras))]
    problems: list[tuple[str, str]] = []  # (condition, message) per possible problem
    outer: list[str] = [q(LINE)]
    texts: dict[str, str] = {}  # each column's value as the file wrote it
    for col in spec.columns:
        v, t = f"v_{col.name}", f"t_{col.name}"
        source = staged.types.get(col.name)
        if source is not None:
            value, text = _value(col, q(col.name), source)
        else:
            value, text = "NULL", "NULL"
        inner.append(f"{value} AS {q(v)}")
        shown_text = q(t)
        if source is not None and _never_blank(source):
            # Casting every typed value to text (a timestamp especially) is costly and
            # the text is only shown for a bad value: carry the value, make the text
            # in the reason, which is evaluated for the failing rows alone.
            inner.append(f"{q(col.name)} AS {q(t)}")
            shown_text = _text_of(q(t), source)
        else:
            inner.append(f"{text} AS {q(t)}")
        texts[col.name] = shown_text
        shown = f"'{col.name} ' || {_lit_quote(shown_text)}"
        if col.kind in _PROBLEM:
            problems.append(
                (f"{q(t)} IS NOT NULL AND {q(v)} IS NULL", f"{shown} || ' {_PROBLEM[col.kind]}'")
            )
        if col.choices:
            allowed = ", ".join(_lit(c) for c in col.choices)
            problems.append(
                (
                    f"{q(v)} NOT IN ({allowed})",
                    f"{shown} || ' is not one of {', '.join(col.choices)}'",
                )
            )
        if col.required:
            problems.append((f"{q(t)} IS NULL", f"'missing {col.name}'"))
        if spec.name == "events" and col.name == "distinct_id":
            banned = ", ".join(_lit(i) for i in ILLEGAL_IDS)
            # list_contains, not IN: a long IN list becomes a join.
            problems.append(
                (
                    f"list_contains([{banned}], lower({q(v)}))",
                    f"{shown} || ' is not a real id (SDK placeholder)'",
                )
            )
        final = q(v)
        if col.kind is Kind.json and staged.extras:
            # Extra file columns fold into the JSON object; its own keys win on a clash.
            pairs = ", ".join(
                f"$k{i}, {_extra_value(i, staged)}" for i in range(len(staged.extras))
            )
            params.update({f"k{i}": name for i, name in enumerate(staged.extras)})
            extras = f"json_merge_patch('{{}}', json_object({pairs}))"
            final = f"json_merge_patch({extras}, coalesce({final}, '{{}}'))"
        default = col.default or "NULL"
        outer.append(f"CAST(coalesce({final}, {default}) AS {col.kind.value}) AS {q(col.name)}")
    problems += [_rule(rule, spec, texts) for rule in spec.rules]
    outer.append(f"{_reason(problems)} AS {q(REASON)}")
    sql = f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(inner)} FROM {q(stage_name)}) AS s"
    return sql, params


def _rule(rule: RowRule, spec: TableSpec, texts: dict[str, str]) -> tuple[str, str]:
    """A row rule as (condition on the typed values ``v_<column>``, message showing the
    values as the file wrote them)."""
    values = {c.name: q(f"v_{c.name}") for c in spec.columns}
    parts = re.split(r"\{(\w+)\}", rule.says)  # text, column, text, column, ...
    message = " || ".join(
        f"coalesce({texts[part]}, '')" if i % 2 else _lit(part)
        for i, part in enumerate(parts)
        if part
    )
    return rule.when.format(**values), message


def _reason(problems: list[tuple[str, str]]) -> str:
    """Every problem of a row, separated by '; ', or NULL. The messages are built only
    for rows with a problem: for a good row the cost is one test per condition."""
    if not problems:
        return "NULL"
    # A NULL condition counts as false, in the OR as in each CASE.
    any_problem = " OR ".join(f"({cond})" for cond, _ in problems)
    messages = ", ".join(f"CASE WHEN {cond} THEN {msg} END" for cond, msg in problems)
    return f"CASE WHEN {any_problem} THEN NULLIF(concat_ws('; ', {messages}), '') END"


def _lit_quote(expr: str) -> str:
    """SQL for the value in single quotes, as shown in a reason."""
    return f"'''' || {expr} || ''''"


def _extra_value(index: int, staged: Staged) -> str:
    src = q(f"__x{index}")
    source = staged.types.get(f"__x{index}")
    if source is None or source is Source.text:
        return f"NULLIF({src}, '')"
    return src
