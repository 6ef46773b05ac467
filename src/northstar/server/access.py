"""The access log: one JSON line per HTTP request in ``ingest-log/access.log``
(docs/ingestion-server.md#access-log).

Each line holds the time, the client address, method, path, status, bytes sent and the
milliseconds the answer took. Nothing secret is written: query strings are left out (a
page's parameters are not needed to read the log), share-link tokens in paths are
replaced by ``…``, and keys travel in headers, which are never logged. The file rotates at
10 MB, keeping five old files.
"""

from __future__ import annotations

import json
import logging
import re
import time
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

from northstar import clock

ACCESS_FILE = "access.log"
_SECRET_PATH = re.compile(r"^/share/[^/]+")
Scope = dict[str, Any]


def access_logger(folder: Path) -> logging.Logger:
    """A logger writing bare lines to ``folder/access.log`` (rotated), not propagated."""
    logger = logging.getLogger(f"northstar.access.{folder}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if not logger.handlers:
        folder.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(folder / ACCESS_FILE, maxBytes=10_000_000, backupCount=5,
                                      encoding="utf-8")  # fmt: skip
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    return logger


def close_logger(logger: logging.Logger) -> None:
    for handler in list(logger.handlers):
        handler.close()
        logger.removeHandler(handler)


def safe_path(path: str) -> str:
    """The path as logged: a share link's token is not written down."""
    return _SECRET_PATH.sub("/share/…", path)


class AccessLog:
    """ASGI middleware: times each HTTP request and logs it when the answer is sent."""

    def __init__(self, app: Any, logger: logging.Logger) -> None:
        self.app = app
        self.logger = logger

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        sent = 0

        async def tracked(message: dict[str, Any]) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        finally:
            client = scope.get("client")
            line = {
                "at": clock.now().isoformat(timespec="milliseconds"),
                "client": client[0] if client else None,
                "method": scope.get("method"),
                "path": safe_path(scope.get("path", "")),
                "status": status,
                "bytes": sent,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            }
            self.logger.info(json.dumps(line))
