"""Compiled metric queries, kept so that asking again skips building and compiling.

Building a metric's Ibis expression and compiling it to SQL costs about 0.1 s, which is
more than DuckDB needs for many metrics. The SQL depends on the metric's definition, the
window, the breakdown, the filter, the settings and Northstar's code, which make the key,
and on a few lookups of the data made while building (property keys for breakdowns,
currencies without FX rates). Those lookups are stored with their answers: when the data
has changed since, they are asked again, and the SQL is reused only if they answer the
same. Small in-memory tables the SQL reads (calendars) are stored with it.

Entries live in memory for the process (the server) and on disk in the workspace's
``.cache/sql`` folder (the CLI).
"""

from __future__ import annotations

import hashlib
import io
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.operations as ops
import ibis.expr.schema as sch
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.types as pat
from ibis.backends.duckdb import Backend as IbisDuckDB
from ibis.backends.duckdb.converter import DuckDBPandasData

_MEMORY_ENTRIES = 512


@cache
def code_stamp() -> str:
    """Changes whenever Northstar's code does (so no stale SQL survives an edit)."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        stat = path.stat()
        digest.update(f"{path.relative_to(root)}:{stat.st_mtime_ns}:{stat.st_size}".encode())
    return digest.hexdigest()[:16]


@dataclass
class Compiled:
    sql: str
    schema: dict[str, str]
    memtables: dict[str, bytes]  # name → Arrow IPC stream
    probes: list[tuple[str, list[Any]]]
    data_version: int
    _tables: dict[str, pa.Table] | None = field(default=None, repr=False, compare=False)
    _schema: sch.Schema | None = field(default=None, repr=False, compare=False)

    def ibis_schema(self) -> sch.Schema:
        if self._schema is None:
            self._schema = ibis.schema(self.schema)
        return self._schema

    def tables(self) -> dict[str, pa.Table]:
        """The in-memory tables, decoded once."""
        if self._tables is None:
            self._tables = {
                name: pa.ipc.open_stream(data).read_all() for name, data in self.memtables.items()
            }
        return self._tables

    def to_json(self) -> str:
        return json.dumps(
            {
                "sql": self.sql,
                "schema": self.schema,
                "memtables": {k: v.hex() for k, v in self.memtables.items()},
                "probes": self.probes,
                "data_version": self.data_version,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Compiled:
        d = json.loads(text)
        return cls(
            d["sql"],
            d["schema"],
            {k: bytes.fromhex(v) for k, v in d["memtables"].items()},
            [(sql, list(result)) for sql, result in d["probes"]],
            int(d["data_version"]),
        )


_memory: OrderedDict[str, Compiled] = OrderedDict()


class SqlCache:
    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def key(self, parts: dict[str, Any]) -> str:
        """The entry's name: the query's parts, the workspace and the code's version."""
        scope = {**parts, "code": code_stamp(), "workspace": str(self.folder)}
        text = json.dumps(scope, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def get(self, key: str) -> Compiled | None:
        if key in _memory:
            _memory.move_to_end(key)
            return _memory[key]
        if self.folder is None:
            return None
        path = self.folder / f"{key}.json"
        try:
            entry = Compiled.from_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        self._remember(key, entry)
        return entry

    def put(self, key: str, entry: Compiled) -> None:
        self._remember(key, entry)
        if self.folder is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f"{key}.json.tmp"
            tmp.write_text(entry.to_json(), encoding="utf-8")
            tmp.replace(self.folder / f"{key}.json")
        except OSError:
            pass  # a cache that cannot be written is only slower

    @staticmethod
    def _remember(key: str, entry: Compiled) -> None:
        _memory[key] = entry
        _memory.move_to_end(key)
        while len(_memory) > _MEMORY_ENTRIES:
            _memory.popitem(last=False)


def compile_entry(
    backend: IbisDuckDB, expr: ir.Table, probes: list[tuple[str, list[Any]]], data_version: int
) -> Compiled | None:
    """The entry for ``expr``, or None when it cannot be replayed as plain SQL."""
    memtables: dict[str, bytes] = {}
    for node in expr.op().find(ops.InMemoryTable):
        table = node.data.to_pyarrow(node.schema)
        sink = io.BytesIO()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        memtables[node.name] = sink.getvalue()
    if any(True for _ in expr.op().find(ops.ScalarUDF)):
        for udf in expr.op().find(ops.ScalarUDF):
            if udf.__input_type__.name.lower() != "builtin":
                return None  # a Python UDF would need registering
    schema = {name: str(dtype) for name, dtype in expr.schema().items()}
    return Compiled(str(backend.compile(expr)), schema, memtables, probes, data_version)


def still_valid(con: duckdb.DuckDBPyConnection, entry: Compiled, data_version: int) -> bool:
    """Whether the SQL holds for the data now (asking its lookups again if it changed)."""
    if entry.data_version == data_version:
        return True
    for sql, answer in entry.probes:
        values = [row[0] for row in con.execute(sql).fetchall()]
        if sorted(values, key=repr) != answer:
            return False
    entry.data_version = data_version
    return True


def run(con: duckdb.DuckDBPyConnection, entry: Compiled) -> pd.DataFrame:
    """Execute the stored SQL, giving the frame :func:`to_frame` gives for the expression."""
    for name, table in entry.tables().items():
        con.register(name, table)
    return to_frame(con.execute(entry.sql).to_arrow_table(), entry.ibis_schema())


def to_frame(table: pa.Table, schema: sch.Schema) -> pd.DataFrame:
    """A metric's result rows as pandas, as Ibis converts them, except that dates are
    ``date`` objects and decimals become the nearest float64 (every metric value ends up
    a float; pyarrow's own decimal cast can be one unit in the last place off, the text
    form parses exactly), both without a Python object per value on the way."""
    columns: dict[str, Any] = {}
    for name, col in zip(table.column_names, table.columns, strict=True):
        dtype = schema[name]
        if pat.is_decimal(col.type):
            columns[name] = col.cast(pa.string()).cast(pa.float64()).to_numpy(zero_copy_only=False)
        elif pat.is_date(col.type):
            columns[name] = np.array(col.to_pylist(), dtype=object)
        elif pat.is_string(col.type) or pat.is_large_string(col.type):
            columns[name] = col.to_numpy(zero_copy_only=False).astype(object)
        else:
            plain = pat.is_nested(col.type) or pat.is_dictionary(col.type) or col.null_count
            series = pd.Series(col.to_pylist()) if plain else col.to_pandas()
            columns[name] = DuckDBPandasData.convert_column(series, dtype)
    return pd.DataFrame(columns)
