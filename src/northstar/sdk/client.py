"""The Python SDK: ``northstar.Client(write_key, host)`` sends events in the background.

Calls (``track``, ``identify``, ``page``, ``alias``) never block and never raise for
delivery problems: each message is encoded, given a ``messageId`` (so a retry cannot
store it twice) and put on a bounded in-memory queue. A background thread sends the
queue in batches to ``/v1/batch`` (Segment's format), retrying with exponential
backoff on 5xx, 429 and network errors; a 4xx other than 429 is not retried (the server
kept the rejected messages in its quarantine and stored the rest). When the queue is
full, new messages are dropped and counted. ``flush()`` waits until everything queued
was sent (or given up); at interpreter exit the client flushes for up to
``exit_timeout`` seconds.
"""

from __future__ import annotations

import atexit
import logging
import queue
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from northstar import clock
from northstar._version import __version__

log = logging.getLogger("northstar.sdk")

MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 480 * 1024  # under the server's 500 KB, leaving room for the envelope
_LIBRARY = {"name": "northstar-python", "version": __version__}


@dataclass
class DeliveryError(Exception):
    """A batch the server refused (4xx) or that could not be delivered after retries."""

    status: int | None  # HTTP status, None for a network error
    message: str
    count: int  # messages in the batch
    rejected: list[dict[str, Any]] = field(default_factory=list)  # per-message reasons

    def __str__(self) -> str:
        where = f"HTTP {self.status}" if self.status else "network"
        return f"{where}: {self.message} ({self.count} message(s))"


ErrorHandler = Callable[[DeliveryError], None]


def _iso(value: datetime | None) -> str:
    value = value or clock.now()
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


class Client:
    """Send product events to a Northstar server (see docs/python-sdk.md)."""

    def __init__(
        self,
        write_key: str,
        host: str = "http://127.0.0.1:8000",
        *,
        batch_size: int = 100,
        flush_interval: float = 0.5,
        max_queue_size: int = 10_000,
        max_retries: int = 6,
        timeout: float = 10.0,
        exit_timeout: float = 5.0,
        on_error: ErrorHandler | None = None,
    ) -> None:
        if not write_key:
            raise ValueError("write_key is required (create one: northstar keys create write)")
        self.host = host.rstrip("/")
        self.batch_size = max(1, batch_size)
        self.flush_interval = flush_interval
        self.max_retries = max_retries
        self.exit_timeout = exit_timeout
        self.on_error = on_error
        self.dropped = 0  # messages refused because the queue was full or too big
        self.failed = 0  # messages the server refused or that could not be delivered
        self.sent = 0  # messages the server acknowledged
        self._queue: queue.Queue[bytes] = queue.Queue(max_queue_size)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"northstar-python/{__version__}",
        }
        self._http = httpx.Client(auth=(write_key, ""), timeout=timeout, headers=headers)
        self._flush_now = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="northstar-sdk", daemon=True)
        self._thread.start()
        atexit.register(self._at_exit)

    # -- the calls ----------------------------------------------------------------
    def track(
        self,
        event: str,
        *,
        user_id: str | None = None,
        anonymous_id: str | None = None,
        properties: dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
        timestamp: datetime | None = None,
        message_id: str | None = None,
    ) -> str | None:
        """Record that a user did something. Returns the message id (None if dropped)."""
        return self._enqueue(
            {"type": "track", "event": event, "userId": user_id, "anonymousId": anonymous_id,
             "properties": properties or {}},
            context, timestamp, message_id,
        )  # fmt: skip

    def identify(
        self,
        user_id: str,
        traits: dict[str, Any] | None = None,
        *,
        anonymous_id: str | None = None,
        context: dict[str, Any] | None = None,
        timestamp: datetime | None = None,
        message_id: str | None = None,
    ) -> str | None:
        """Tie a known user id to its traits (and to ``anonymous_id``: one person)."""
        return self._enqueue(
            {"type": "identify", "userId": user_id, "anonymousId": anonymous_id,
             "traits": traits or {}},
            context, timestamp, message_id,
        )  # fmt: skip

    def page(
        self,
        name: str | None = None,
        *,
        user_id: str | None = None,
        anonymous_id: str | None = None,
        category: str | None = None,
        properties: dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
        timestamp: datetime | None = None,
        message_id: str | None = None,
    ) -> str | None:
        """A page view (stored as ``$pageview``)."""
        return self._enqueue(
            {"type": "page", "name": name, "category": category, "userId": user_id,
             "anonymousId": anonymous_id, "properties": properties or {}},
            context, timestamp, message_id,
        )  # fmt: skip

    def alias(
        self,
        previous_id: str,
        user_id: str,
        *,
        context: dict[str, Any] | None = None,
        timestamp: datetime | None = None,
        message_id: str | None = None,
    ) -> str | None:
        """Declare that ``previous_id`` and ``user_id`` are the same person."""
        return self._enqueue(
            {"type": "alias", "previousId": previous_id, "userId": user_id},
            context, timestamp, message_id,
        )  # fmt: skip

    def flush(self, timeout: float | None = None) -> bool:
        """Send everything queued now; True when the queue emptied within ``timeout``."""
        self._flush_now.set()
        deadline = None if timeout is None else time.monotonic() + timeout
        done = self._queue.all_tasks_done
        with done:
            while self._queue.unfinished_tasks:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                done.wait(left if left is not None else 0.5)
        return True

    def shutdown(self, timeout: float | None = None) -> bool:
        """Flush, then stop the background thread and close the connection."""
        flushed = self.flush(self.exit_timeout if timeout is None else timeout)
        self._stopping.set()
        self._flush_now.set()
        self._thread.join(1.0)
        self._http.close()
        atexit.unregister(self._at_exit)
        return flushed

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    # -- internals ----------------------------------------------------------------
    def _at_exit(self) -> None:
        if not self._stopping.is_set():
            self.shutdown()

    def _enqueue(
        self,
        msg: dict[str, Any],
        context: dict[str, Any] | None,
        timestamp: datetime | None,
        message_id: str | None,
    ) -> str | None:
        if self._stopping.is_set():
            self.dropped += 1
            return None
        msg["messageId"] = message_id or str(uuid.uuid4())
        msg["timestamp"] = _iso(timestamp)
        msg["context"] = {"library": _LIBRARY, **(context or {})}
        try:
            data = orjson.dumps(msg, option=orjson.OPT_NON_STR_KEYS)
        except TypeError as exc:
            self.dropped += 1
            log.error("northstar: message not sent, it cannot be encoded as JSON: %s", exc)
            return None
        if len(data) > MAX_MESSAGE_BYTES:
            self.dropped += 1
            log.error("northstar: message not sent, it is %d bytes (limit 32 KB)", len(data))
            return None
        try:
            self._queue.put_nowait(data)
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("northstar: queue full, %d message(s) dropped so far", self.dropped)
            return None
        return str(msg["messageId"])

    def _next_batch(self) -> list[bytes]:
        """Up to ``batch_size`` messages: waits at most ``flush_interval`` to fill up."""
        try:
            first = self._queue.get(timeout=0.2)
        except queue.Empty:
            return []
        batch, size = [first], len(first)
        deadline = time.monotonic() + self.flush_interval
        while len(batch) < self.batch_size:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                left = deadline - time.monotonic()
                if left <= 0 or self._flush_now.is_set() or self._stopping.is_set():
                    break
                try:
                    item = self._queue.get(timeout=min(left, 0.05))
                except queue.Empty:
                    continue
            if size + len(item) + 1 > MAX_BATCH_BYTES:
                self._queue.task_done()  # put back as a new task
                self._requeue(item)
                break
            batch.append(item)
            size += len(item) + 1
        return batch

    def _requeue(self, item: bytes) -> None:
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.dropped += 1

    def _run(self) -> None:
        while not (self._stopping.is_set() and self._queue.empty()):
            batch = self._next_batch()
            if not batch:
                if self._queue.empty():
                    self._flush_now.clear()
                continue
            try:
                self._send(batch)
            except Exception:  # the thread must survive anything
                log.exception("northstar: unexpected error while sending")
                self.failed += len(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _send(self, batch: list[bytes]) -> None:
        error: DeliveryError | None = None
        for attempt in range(self.max_retries + 1):
            body = (
                b'{"batch":[' + b",".join(batch) + b'],"sentAt":"'
                + _iso(None).encode() + b'"}'
            )  # fmt: skip
            retry_after = None
            try:
                response = self._http.post(self.host + "/v1/batch", content=body)
            except httpx.HTTPError as exc:
                error = DeliveryError(None, str(exc) or type(exc).__name__, len(batch))
            else:
                if response.status_code < 300:
                    self.sent += len(batch)
                    return
                details = _details(response)
                error = DeliveryError(
                    response.status_code, str(details.get("message") or response.reason_phrase),
                    len(batch), list(details.get("rejected") or []),
                )  # fmt: skip
                if response.status_code != 429 and response.status_code < 500:
                    accepted = int(details.get("accepted") or 0)
                    self.sent += accepted
                    self.failed += len(batch) - accepted
                    self._report(error)
                    return
                retry_after = _seconds(response.headers.get("retry-after"))
            if attempt < self.max_retries and not self._stopping.is_set():
                pause = retry_after or min(0.1 * 2**attempt, 10.0) * random.uniform(0.5, 1.5)
                self._stopping.wait(pause)
        self.failed += len(batch)
        assert error is not None
        self._report(error)

    def _report(self, error: DeliveryError) -> None:
        log.warning("northstar: delivery failed: %s", error)
        if self.on_error is not None:
            try:
                self.on_error(error)
            except Exception:
                log.exception("northstar: on_error raised")


def _details(response: httpx.Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _seconds(value: str | None) -> float | None:
    try:
        return min(max(float(value), 0.0), 60.0) if value else None
    except ValueError:
        return None
