"""Engine functions Ibis does not name portably, declared once.

Each is a builtin of DuckDB; another backend maps them here and nowhere else.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

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


def json_pointer(key: ir.StringValue) -> ir.StringValue:
    """The JSON pointer of a top-level key given as an expression (each of ``json_keys``);
    keep it in a column of its own and pass that to :func:`json_text_at`."""
    return ibis.literal("/") + key.replace("~", "~0").replace("/", "~1")


def json_text_at(doc: ir.Value, pointer: ir.StringValue) -> ir.StringValue:
    """The value at a JSON pointer held in a column, as text."""
    return _json_text(doc, pointer)


@ibis.udf.scalar.builtin(name="json_keys")
def json_keys(doc: dt.JSON) -> dt.Array[dt.String]:
    """The top-level keys of a JSON object."""


def json_merge(base: ir.Value, patch: ir.Value) -> ir.Value:
    """Two JSON objects as one, ``patch`` winning on shared keys; null counts as ``{}``."""
    empty = ibis.literal("{}").cast("json")
    return _json_merge(ibis.coalesce(base, empty), ibis.coalesce(patch, empty))


@ibis.udf.scalar.builtin(name="epoch_us")
def _epoch_us(ts: dt.Timestamp(timezone="UTC")) -> dt.int64:  # type: ignore[valid-type]
    """Microseconds since 1970-01-01 UTC."""


def epoch_us(ts: ir.TimestampValue) -> ir.IntegerValue:
    """Microseconds since 1970-01-01 UTC of an instant."""
    return _epoch_us(ts)


@ibis.udf.scalar.builtin(name="make_timestamp")
def _from_epoch_us(us: dt.int64) -> dt.timestamp:
    """A wall-clock timestamp from microseconds since 1970-01-01."""


def utc_offsets(timezone: str, first: date, last: date) -> list[tuple[datetime, int]]:
    """``(instant from which it applies, offset in microseconds)`` for every UTC offset the
    zone uses from midnight UTC of ``first`` to the end of ``last``, in time order."""
    zone = ZoneInfo(timezone)

    def offset(at: datetime) -> int:
        delta = at.astimezone(zone).utcoffset()
        return int(delta.total_seconds() * 1_000_000) if delta else 0

    start = datetime.combine(first, time(0), UTC)
    out = [(start, offset(start))]
    day = start
    end = datetime.combine(last + timedelta(days=1), time(0), UTC)
    while day < end:
        nxt = day + timedelta(days=1)
        if offset(nxt) != out[-1][1]:
            # The change happens in (lo, hi]; find its exact second.
            lo, hi = int(day.timestamp()), int(nxt.timestamp())
            while hi - lo > 1:
                mid = (lo + hi) // 2
                changed = offset(datetime.fromtimestamp(mid, UTC)) != out[-1][1]
                lo, hi = (lo, mid) if changed else (mid, hi)
            at = datetime.fromtimestamp(hi, UTC)
            out.append((at, offset(at)))
        day = nxt
    return out


def local_date_in_range(
    ts: ir.TimestampValue, timezone: str, first: date, last: date
) -> ir.DateValue:
    """The local calendar day of ``ts``, computed from the epoch and the zone's UTC offsets
    between ``first`` and ``last`` (integer arithmetic, several times faster than a time
    zone library call per row); instants outside that range take the general path."""
    us = _epoch_us(ts)
    offsets = utc_offsets(timezone, first, last)
    if len(offsets) == 1 and offsets[0][1] == 0 and timezone in ("UTC", "Etc/UTC", "GMT"):
        return _from_epoch_us(us).date()
    branches = [(ts < at, off) for (at, _), (_, off) in zip(offsets[1:], offsets, strict=False)]
    offset = (
        ibis.cases(*branches, else_=offsets[-1][1]) if branches else ibis.literal(offsets[0][1])
    )
    fast = _from_epoch_us(us + offset).date()
    lo = offsets[0][0]
    hi = datetime.combine(last + timedelta(days=1), time(0), UTC)
    return ibis.cases(((ts >= lo) & (ts < hi), fast), else_=local_date(ts, timezone))
