"""Validate and type a staged file in one SQL pass.

For every row the query yields the typed value of each data-model column and a
``__reason`` (NULL for a good row; otherwise every problem, separated by "; ").
Identifiers in the SQL come from the data model, never from the file: file columns are
renamed before staging, extra columns are staged as ``__x0``, ``__x1``..., and their
names reach the SQL only as bound parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from northstar.ingest.readers import LINE
from northstar.store.schema import Column, Kind, TableSpec

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


@dataclass(frozen=True)
class Staged:
    """What is known about the staged Arrow table when the SQL is built."""

    types: dict[str, pa.DataType]  # data-model column -> Arrow type in the stage
    extras: tuple[str, ...]  # original names of extra columns, staged as __x0, __x1, ...


def _text_of(src: str) -> str:
    return f"NULLIF(trim(CAST({src} AS VARCHAR)), '')"


def _never_blank(atype: pa.DataType) -> bool:
    """Whether a value of this Arrow type is never empty or blank as text, so "given"
    is simply "not NULL" and its text is needed only to show it in a reason."""
    t = pa.types
    return (
        t.is_integer(atype)
        or t.is_floating(atype)
        or t.is_decimal(atype)
        or t.is_boolean(atype)
        or t.is_timestamp(atype)
        or t.is_date(atype)
        or t.is_time(atype)
        or t.is_struct(atype)
        or t.is_list(atype)
        or t.is_large_list(atype)
        or t.is_map(atype)
    )


def _epoch(num: str) -> str:
    # Milliseconds when the number is too large to be seconds (after the year 5138);
    # NaN, infinities and numbers still beyond that as milliseconds are no time at all.
    secs = f"(CASE WHEN abs({num}) > 1e11 THEN {num} / 1000.0 ELSE {num} END)"
    return f"CASE WHEN isfinite({num}) AND abs({secs}) < 1e11 THEN to_timestamp({secs}) END"


def _value(col: Column, src: str, atype: pa.DataType) -> tuple[str, str]:
    """(typed value, the text shown when it is wrong) for one column."""
    is_text = pa.types.is_string(atype) or pa.types.is_large_string(atype)
    txt = _text_of(src)
    kind = col.kind
    if kind is Kind.text:
        value = f"lower({txt})" if col.choices else txt
        return value, txt
    if kind in (Kind.number, Kind.money, Kind.integer):
        num = f"TRY_CAST({txt} AS DOUBLE)" if is_text else f"CAST({src} AS DOUBLE)"
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
        elif pa.types.is_timestamp(atype) and atype.tz is not None:
            value = f"CAST({src} AS TIMESTAMPTZ)"
        elif pa.types.is_timestamp(atype) or pa.types.is_date(atype):
            value = f"timezone($tz, CAST({src} AS TIMESTAMP))"
        elif pa.types.is_integer(atype) or pa.types.is_floating(atype):
            value = _epoch(f"CAST({src} AS DOUBLE)")
        else:
            value = f"timezone($tz, TRY_CAST({txt} AS TIMESTAMP))"
        return value, txt
    if kind is Kind.date:
        if pa.types.is_timestamp(atype) and atype.tz is not None:
            return f"CAST(timezone($tz, {src}) AS DATE)", txt
        if pa.types.is_date(atype) or pa.types.is_timestamp(atype):
            return f"CAST({src} AS DATE)", txt
        return f"TRY_CAST({txt} AS DATE)", txt
    # JSON object
    if is_text:
        value = (
            f"CASE WHEN json_valid({txt}) AND json_type(CAST({txt} AS JSON)) = 'OBJECT' "
            f"THEN CAST({txt} AS JSON) END"
        )
    else:
        value = f"CAST(to_json({src}) AS JSON)"
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
    errors: list[str] = []
    outer: list[str] = [q(LINE)]
    for col in spec.columns:
        v, t = f"v_{col.name}", f"t_{col.name}"
        atype = staged.types.get(col.name)
        if atype is not None:
            value, text = _value(col, q(col.name), atype)
        else:
            value, text = "NULL", "NULL"
        inner.append(f"{value} AS {q(v)}")
        shown_text = q(t)
        if atype is not None and _never_blank(atype):
            # Casting every typed value to text (a timestamp especially) is costly and
            # the text is only shown for a bad value: carry the value, make the text
            # in the reason, which is evaluated for the failing rows alone.
            inner.append(f"{q(col.name)} AS {q(t)}")
            shown_text = _text_of(q(t))
        else:
            inner.append(f"{text} AS {q(t)}")
        shown = f"'{col.name} ' || {_lit_quote(shown_text)}"
        if col.kind in _PROBLEM:
            errors.append(
                f"CASE WHEN {q(t)} IS NOT NULL AND {q(v)} IS NULL "
                f"THEN {shown} || ' {_PROBLEM[col.kind]}' END"
            )
        if col.choices:
            allowed = ", ".join(_lit(c) for c in col.choices)
            errors.append(
                f"CASE WHEN {q(v)} NOT IN ({allowed}) "
                f"THEN {shown} || ' is not one of {', '.join(col.choices)}' END"
            )
        if col.required:
            errors.append(f"CASE WHEN {q(t)} IS NULL THEN 'missing {col.name}' END")
        if spec.name == "events" and col.name == "distinct_id":
            banned = ", ".join(_lit(i) for i in ILLEGAL_IDS)
            # list_contains, not IN: a long IN list becomes a join, which the engine
            # then runs twice (the reason is used twice by NULLIF below).
            errors.append(
                f"CASE WHEN list_contains([{banned}], lower({q(v)})) "
                f"THEN {shown} || ' is not a real id (SDK placeholder)' END"
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
    reason = "NULLIF(concat_ws('; ', " + ", ".join(errors) + "), '')" if errors else "NULL"
    outer.append(f"{reason} AS {q(REASON)}")
    sql = f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(inner)} FROM {q(stage_name)}) AS s"
    return sql, params


def _lit_quote(expr: str) -> str:
    """SQL for the value in single quotes, as shown in a reason."""
    return f"'''' || {expr} || ''''"


def _extra_value(index: int, staged: Staged) -> str:
    src = q(f"__x{index}")
    atype = staged.types.get(f"__x{index}")
    if atype is None or pa.types.is_string(atype) or pa.types.is_large_string(atype):
        return f"NULLIF({src}, '')"
    return src
