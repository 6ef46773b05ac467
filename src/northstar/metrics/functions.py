"""Engine functions Ibis does not name portably, declared once.

Each is a builtin of DuckDB; another backend maps them here and nowhere else.
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from northstar.errors import FilterError


@ibis.udf.scalar.builtin(name="timezone")
def _to_local(zone: str, ts: dt.Timestamp(timezone="UTC")) -> dt.timestamp:  # type: ignore[valid-type]
    """Wall-clock time of an instant in a time zone (DuckDB ``timezone(zone, ts)``)."""


@ibis.udf.scalar.builtin(name="json_extract_string")
def _json_text(doc: dt.JSON, pointer: str) -> str:  # type: ignore[empty-body]
    """The value at a JSON pointer as text (DuckDB ``json_extract_string``)."""


@ibis.udf.scalar.builtin(name="json_merge_patch")
def _json_merge(base: dt.JSON, patch: dt.JSON) -> dt.JSON:
    """``base`` with the keys of ``patch`` added or replaced (DuckDB ``json_merge_patch``)."""


def local_time(ts: ir.TimestampValue, timezone: str) -> ir.TimestampValue:
    return _to_local(timezone, ts)


def local_date(ts: ir.TimestampValue, timezone: str) -> ir.DateValue:
    """The calendar day of an instant in the workspace time zone."""
    return local_time(ts, timezone).date()


def json_text(doc: ir.Value, key: str) -> ir.StringValue:
    """A top-level key of a JSON object as text. The key travels as a value (a JSON
    pointer literal), never as SQL."""
    if not key or any(ord(ch) < 32 for ch in key):
        raise FilterError(f"property name {key!r} is empty or has control characters")
    pointer = "/" + key.replace("~", "~0").replace("/", "~1")
    return _json_text(doc, pointer)


@ibis.udf.scalar.builtin(name="json_keys")
def json_keys(doc: dt.JSON) -> dt.Array[dt.String]:
    """The top-level keys of a JSON object."""


def json_merge(base: ir.Value, patch: ir.Value) -> ir.Value:
    """Two JSON objects as one, ``patch`` winning on shared keys; null counts as ``{}``."""
    empty = ibis.literal("{}").cast("json")
    return _json_merge(ibis.coalesce(base, empty), ibis.coalesce(patch, empty))
