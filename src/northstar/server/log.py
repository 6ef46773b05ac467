"""The durable ingestion log: numbered segment files with group commit.

A request's records are appended to the active segment and the request is answered
only after ``fdatasync`` returned, so an acknowledged message survives ``kill -9`` (and
power loss) the next instant. Group commit keeps that cheap: while one fsync is under
way, every request that arrives queues its records, and the next write+fsync carries
them all. The flusher seals the active segment (the next write starts a new file) and
moves sealed segments into the store (:mod:`northstar.ingest.live_log`).

One server per workspace: the log folder is locked (``flock``) while a server runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from northstar.errors import ServerError
from northstar.ingest.live_log import (
    count_events,
    list_segments,
    repair_tail,
    segment_path,
    segment_seq,
)

SEGMENT_BYTES = 64 * 1024 * 1024
_sync = getattr(os, "fdatasync", os.fsync)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class IngestLog:
    """Append-only segments in ``folder``; :meth:`append` returns once on disk."""

    def __init__(self, folder: Path, *, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.folder = folder
        self.segment_bytes = segment_bytes
        self._lock = threading.Lock()  # the active file: write+fsync, rotation, close
        self._fd: int | None = None
        self._lock_fd: int | None = None
        self._seq = 0
        self._size = 0
        self._events: dict[int, int] = {}  # segment seq -> event records not yet loaded
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="ingest-log")
        # Group commit, touched only from the event loop's thread.
        self._queue: list[bytes] = []
        self._queued_events = 0
        self._waiter: asyncio.Future[None] | None = None
        self._committer: asyncio.Task[None] | None = None
        self.failed: str | None = None  # the last write error, until a write succeeds

    # -- lifecycle ----------------------------------------------------------------
    def open(self) -> None:
        """Lock the folder, repair segments a crash left behind, start a new segment."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ServerError(
                f"another 'northstar serve' is running on this workspace (it holds "
                f"{self.folder / 'LOCK'}); stop it first"
            ) from None
        self._lock_fd = fd
        for path in list_segments(self.folder):
            repair_tail(path)
            if path.stat().st_size == 0:
                path.unlink()
            else:
                self._events[segment_seq(path)] = count_events(path)
        segments = list_segments(self.folder)
        self._seq = segment_seq(segments[-1]) if segments else 0
        with self._lock:
            self._start_segment()

    def close(self) -> None:
        """Stop writing; an empty active segment is removed. Pending work stays on disk."""
        self._executor.shutdown(wait=True)
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
                if self._size == 0:
                    segment_path(self.folder, self._seq).unlink(missing_ok=True)
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def _start_segment(self) -> None:
        self._seq += 1
        path = segment_path(self.folder, self._seq)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        self._size = 0
        _fsync_dir(self.folder)  # the new file's name must survive a power loss too

    # -- writing (event loop) -----------------------------------------------------
    async def append(self, data: bytes, events: int = 0) -> None:
        """Append records; returns when they are on disk. Raises ``OSError`` when the
        write failed (nothing of it is kept). Concurrent calls share one fsync."""
        loop = asyncio.get_running_loop()
        if self._waiter is None:
            self._waiter = loop.create_future()
        waiter = self._waiter
        self._queue.append(data)
        self._queued_events += events
        if self._committer is None:
            self._committer = loop.create_task(self._commit())
        # shield: a client hanging up must not cancel the commit the others wait for.
        await asyncio.shield(waiter)

    async def _commit(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._queue:
                chunks, self._queue = self._queue, []
                events, self._queued_events = self._queued_events, 0
                waiter, self._waiter = self._waiter, None
                assert waiter is not None
                try:
                    await loop.run_in_executor(self._executor, self._write, chunks, events)
                except Exception as exc:
                    self.failed = f"{type(exc).__name__}: {exc}"
                    waiter.set_exception(exc)
                    waiter.exception()  # retrieved: every awaiting request reports it
                else:
                    self.failed = None
                    waiter.set_result(None)
        finally:
            self._committer = None

    def _write(self, chunks: list[bytes], events: int) -> None:
        data = b"".join(chunks)
        with self._lock:
            if self._fd is None:
                raise OSError("the ingestion log is closed")
            if self._size and self._size + len(data) > self.segment_bytes:
                self._rotate()
            fd = self._fd
            assert fd is not None
            start = self._size
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                _sync(fd)
            except OSError:
                with contextlib.suppress(OSError):  # leave no partial record behind
                    os.ftruncate(fd, start)
                raise
            self._size += len(data)
            self._events[self._seq] = self._events.get(self._seq, 0) + events

    def _rotate(self) -> None:
        assert self._fd is not None
        os.close(self._fd)
        self._fd = None
        self._start_segment()

    # -- flusher side (its own thread) --------------------------------------------
    def seal(self) -> list[Path]:
        """Close the active segment if it holds anything; return every closed segment,
        oldest first (the flusher loads them and then calls :meth:`loaded`)."""
        with self._lock:
            if self._fd is not None and self._size > 0:
                self._rotate()
            active = self._seq
        return [p for p in list_segments(self.folder) if segment_seq(p) < active]

    def loaded(self, paths: list[Path]) -> None:
        """Forget the event counts of segments now in the store."""
        with self._lock:
            for path in paths:
                self._events.pop(segment_seq(path), None)

    def waiting_events(self) -> int:
        """Acknowledged events not yet in the store."""
        with self._lock:
            return sum(self._events.values())

    def waiting_segments(self) -> int:
        """Segments holding records not yet in the store (the active one included)."""
        return sum(1 for p in list_segments(self.folder) if _size(p) > 0)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
