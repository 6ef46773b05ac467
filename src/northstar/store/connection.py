"""The one place that opens the workspace's DuckDB database."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import ibis
from ibis.backends.duckdb import Backend as IbisDuckDB

from northstar import clock
from northstar.errors import StoreBusyError, WorkspaceError
from northstar.store.migrations import LATEST_VERSION, MIGRATIONS

DB_FILE = "northstar.duckdb"
# DuckDB lets one process hold the file for writing and no reader meanwhile, so the
# server's flusher, an import and a query take turns: opening waits this long for the
# lock before giving up (Settings.store.lock_wait_seconds overrides it per workspace).
LOCK_WAIT_SECONDS = 30.0


def connect(
    path: Path,
    *,
    read_only: bool = False,
    lock_wait: float = LOCK_WAIT_SECONDS,
    config: dict[str, Any] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file, waiting up to ``lock_wait`` seconds while another process
    holds it; then :class:`StoreBusyError`. Other failures are :class:`WorkspaceError`."""
    deadline = time.monotonic() + max(lock_wait, 0.0)
    delay = 0.01
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config or {})
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise WorkspaceError(f"cannot open {path}: {exc}") from None
            left = deadline - time.monotonic()
            if left <= 0:
                raise StoreBusyError(
                    f"the workspace store {path} stayed in use by another process for "
                    f"{lock_wait:g} s; wait for it to finish (an import, the server's "
                    "flusher) or raise store.lock_wait_seconds"
                ) from None
            # Jitter keeps two waiting processes from retrying in lockstep.
            time.sleep(min(left, delay * random.uniform(0.5, 1.5)))
            delay = min(delay * 2, 0.2)


class Store:
    """An open workspace database: a DuckDB connection plus an Ibis backend over it.

    Times are handled in UTC inside the database; callers cut periods in the workspace
    time zone explicitly.
    """

    def __init__(
        self,
        path: Path,
        *,
        read_only: bool = False,
        create: bool = False,
        lock_wait: float = LOCK_WAIT_SECONDS,
    ) -> None:
        self.path = path
        if not create and not path.exists():
            raise WorkspaceError(f"no store at {path}; run 'northstar init' first")
        self.con = connect(path, read_only=read_only, lock_wait=lock_wait)
        self._session()
        self.read_only = read_only
        if not read_only:
            self._migrate()
        else:
            version = self.schema_version()
            if version < LATEST_VERSION:
                # A workspace from an older Northstar: upgrade it once, then read.
                self.con.close()
                Store(path, lock_wait=lock_wait).close()
                self.con = connect(path, read_only=True, lock_wait=lock_wait)
                self._session()
                version = self.schema_version()
            self._check_version(version)
        self._ibis: IbisDuckDB | None = None

    def _session(self) -> None:
        # Times are UTC inside; a progress bar drawn by the engine would garble the CLI.
        self.con.execute("SET TimeZone = 'UTC'; SET enable_progress_bar = false")

    # -- schema -----------------------------------------------------------------
    def schema_version(self) -> int:
        try:
            row = self.con.execute("SELECT max(version) FROM _schema_migrations").fetchone()
        except duckdb.CatalogException:  # a new, empty store
            return 0
        return int(row[0]) if row and row[0] is not None else 0

    def _check_version(self, current: int | None = None) -> None:
        if current is None:
            current = self.schema_version()
        if current > LATEST_VERSION:
            raise WorkspaceError(
                f"{self.path} was written by a newer Northstar (schema {current}, this "
                f"version knows up to {LATEST_VERSION}); upgrade Northstar"
            )
        if current < LATEST_VERSION and self.read_only:
            raise WorkspaceError(
                f"{self.path} needs a schema upgrade; run any writing command "
                "(e.g. 'northstar tables') once without --read-only"
            )

    def _migrate(self) -> None:
        self._check_version()
        current = self.schema_version()
        pending = [m for m in MIGRATIONS if m.version > current]
        if not pending:
            return
        with self.transaction():
            self.con.execute(
                "CREATE TABLE IF NOT EXISTS _schema_migrations "
                "(version INTEGER NOT NULL, description VARCHAR, applied_at TIMESTAMPTZ)"
            )
            for migration in pending:
                migration.apply(self.con)
                self.con.execute(
                    "INSERT INTO _schema_migrations VALUES (?, ?, ?)",
                    [migration.version, migration.description, clock.now()],
                )

    # -- access -----------------------------------------------------------------
    @property
    def ibis(self) -> IbisDuckDB:
        """An Ibis backend on this same connection (shares its transaction)."""
        if self._ibis is None:
            self._ibis = ibis.duckdb.from_connection(self.con)
        return self._ibis

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Run a block atomically: everything it wrote is kept, or nothing is."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        else:
            self.con.execute("COMMIT")

    def execute(self, sql: str, params: list[Any] | None = None) -> duckdb.DuckDBPyConnection:
        return self.con.execute(sql, params or [])

    def data_version(self) -> int:
        row = self.con.execute("SELECT value FROM _meta WHERE key = 'data_version'").fetchone()
        return int(row[0]) if row else 0

    def bump_data_version(self) -> None:
        """Mark the data as changed (caches keyed on the version become stale)."""
        self.con.execute(
            "UPDATE _meta SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) "
            "WHERE key = 'data_version'"
        )

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
