"""Turn generated columns into arrow tables that follow the data model exactly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa

from northstar.store.schema import TABLES, Kind

ARROW_TYPES: dict[Kind, pa.DataType] = {
    Kind.text: pa.string(),
    Kind.timestamp: pa.timestamp("us", tz="UTC"),
    Kind.date: pa.date32(),
    Kind.money: pa.float64(),
    Kind.number: pa.float64(),
    Kind.integer: pa.int64(),
    Kind.json: pa.string(),
}

# Timestamps are int64 microseconds since the epoch while generating; this one means "empty".
NULL_TIME = np.iinfo(np.int64).min

ColumnData: TypeAlias = pa.Array | pa.ChunkedArray | np.ndarray | Sequence[Any]


def _to_arrow(kind: Kind, values: ColumnData) -> pa.Array | pa.ChunkedArray:
    arrow_type = ARROW_TYPES[kind]
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values if values.type == arrow_type else values.cast(arrow_type)
    if kind in (Kind.text, Kind.json):
        return pa.array(values, type=arrow_type)
    arr: np.ndarray = np.asarray(values)
    if kind is Kind.timestamp:
        ints = arr.astype(np.int64)
        missing = ints == NULL_TIME
        return pa.array(ints, type=arrow_type, mask=missing if missing.any() else None)
    if kind is Kind.date:
        return pa.array(arr.astype(np.int32), type=arrow_type)
    if kind is Kind.integer:
        return pa.array(arr.astype(np.int64), type=arrow_type)
    floats = arr.astype(np.float64)
    if kind is Kind.money:
        floats = np.round(floats, 2)
    missing = np.isnan(floats)
    return pa.array(floats, type=arrow_type, mask=missing if missing.any() else None)


def build_table(name: str, columns: Mapping[str, ColumnData]) -> pa.Table:
    """An arrow table with exactly the columns of ``schema.TABLES[name]``, in order.

    Money is rounded to cents; timestamps are int64 microseconds (``NULL_TIME`` for empty)
    and dates are days since the epoch.
    """
    spec = TABLES[name]
    unknown = set(columns) - set(spec.column_names)
    missing = set(spec.column_names) - set(columns)
    if unknown or missing:
        raise ValueError(f"{name}: unknown columns {sorted(unknown)}, missing {sorted(missing)}")
    arrays = [_to_arrow(col.kind, columns[col.name]) for col in spec.columns]
    fields = [pa.field(col.name, ARROW_TYPES[col.kind]) for col in spec.columns]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))
