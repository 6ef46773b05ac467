"""The flusher: a background thread that moves the ingestion log into the store.

Every ``server.flush_seconds`` it seals the active segment, opens the store for as
long as loading takes (waiting briefly if a command holds it), loads the sealed
segments, reloads the API keys and closes the store again, so that ``northstar query``,
``import`` and the rest can open it between two flushes. When the store stays busy,
the log simply grows on disk and the next round catches up.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from northstar import clock
from northstar.errors import StoreBusyError
from northstar.ingest.live_log import LoadResult, load_segments
from northstar.server.auth import KeyCache
from northstar.server.log import IngestLog
from northstar.store.connection import Store
from northstar.store.status import StoreFigures, store_figures

log = logging.getLogger("northstar.server")

GROUP_BYTES = 128 * 1024 * 1024  # segments loaded in one go, at most
STORE_WAIT_SECONDS = 2.0  # a busy store is retried next round rather than waited for
KEY_RELOAD_SECONDS = 30.0  # keys are reloaded at least this often even if nothing changed
FIGURES_SECONDS = 5.0


@dataclass
class FlusherState:
    """What /health reports about the flusher."""

    loaded_events: int = 0
    loaded_users: int = 0
    quarantined: int = 0
    rounds: int = 0
    busy_rounds: int = 0
    last_flush_at: datetime | None = None
    last_error: str | None = None
    figures: StoreFigures | None = None
    figures_at: float = field(default=0.0)


def _groups(paths: list[Path]) -> list[list[Path]]:
    groups: list[list[Path]] = []
    size = 0
    for path in paths:
        bytes_ = path.stat().st_size
        if not groups or size + bytes_ > GROUP_BYTES:
            groups.append([])
            size = 0
        groups[-1].append(path)
        size += bytes_
    return groups


class Flusher(threading.Thread):
    """Loads sealed log segments into the store every ``interval`` seconds."""

    def __init__(
        self, log_: IngestLog, db_path: Path, keys: KeyCache, *, timezone: str, interval: float
    ) -> None:
        super().__init__(name="northstar-flusher", daemon=True)
        self.log = log_
        self.db_path = db_path
        self.keys = keys
        self.timezone = timezone
        self.interval = interval
        self.state = FlusherState()
        self._stop_event = threading.Event()
        self._wake = threading.Event()
        self._seen: tuple[int, ...] = ()
        # The web routes open the store in this process too; DuckDB wants one mode
        # (read-write or read-only) per file and process, so they take turns.
        self.store_lock = threading.Lock()

    # -- control ------------------------------------------------------------------
    def stop(self, timeout: float = 30.0) -> None:
        """Stop after one last round (what the store cannot take now stays in the log)."""
        self._stop_event.set()
        self._wake.set()
        self.join(timeout)

    def wake(self) -> None:
        """Run a round now (e.g. to pick up a key created a moment ago)."""
        self._wake.set()

    def run(self) -> None:
        self.round()  # what a previous run left in the log goes in first
        while not self._stop_event.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            self.round()
        self.round()

    # -- one round ----------------------------------------------------------------
    def _stamp(self) -> tuple[int, ...]:
        """Size and mtime of the store's files: changes when another process wrote."""
        out: list[int] = []
        for path in (self.db_path, self.db_path.with_name(self.db_path.name + ".wal")):
            try:
                st = path.stat()
                out += [st.st_mtime_ns, st.st_size]
            except FileNotFoundError:
                out += [0, 0]
        return tuple(out)

    def store_changed(self) -> bool:
        """Whether another process wrote to the store since the last round."""
        return self._stamp() != self._seen

    def round(self) -> LoadResult:
        """Seal, load what is sealed, reload keys; never raises."""
        total = LoadResult()
        try:
            segments = self.log.seal()
            stale_keys = time.monotonic() - self.keys.loaded_at > KEY_RELOAD_SECONDS
            if not segments and not stale_keys and not self.store_changed():
                return total
            if not self.store_lock.acquire(timeout=STORE_WAIT_SECONDS):
                raise StoreBusyError("a web page holds the store")
            try:
                self._load(segments, total)
            finally:
                self.store_lock.release()
            self._seen = self._stamp()
            state = self.state
            state.rounds += 1
            state.loaded_events += total.events
            state.loaded_users += total.users
            state.quarantined += total.rejected
            if segments:
                state.last_flush_at = clock.now()
            state.last_error = None
        except StoreBusyError:
            self.state.busy_rounds += 1
            log.info("store busy; the ingestion log keeps the events until the next round")
        except Exception as exc:  # keep serving: the log still holds every event
            self.state.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("flushing the ingestion log failed; will retry")
        return total

    def _load(self, segments: list[Path], total: LoadResult) -> None:
        with Store(self.db_path, lock_wait=STORE_WAIT_SECONDS) as store:
            for group in _groups(segments):
                result = load_segments(store, group)
                self.log.loaded(group)
                total.events += result.events
                total.duplicates += result.duplicates
                total.users += result.users
                total.rejected += result.rejected
            self.keys.load(store)
            now = time.monotonic()
            if segments or now - self.state.figures_at > FIGURES_SECONDS:
                self.state.figures = store_figures(store, self.timezone)
                self.state.figures_at = now
