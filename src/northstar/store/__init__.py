"""Storage: the workspace's DuckDB database, its schema and migrations."""

from northstar.store.connection import DB_FILE, Store
from northstar.store.schema import TABLES, Column, Kind, TableSpec, table_spec

__all__ = ["DB_FILE", "TABLES", "Column", "Kind", "Store", "TableSpec", "table_spec"]
