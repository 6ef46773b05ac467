"""The workspace's long-running service: app factory and ``serve``.

``create_app`` builds the FastAPI app for a workspace (tracking API and /health today;
the web UI and the read API mount here later). Its lifespan opens the ingestion log,
loads the API keys, starts the flusher, and on shutdown flushes once more and writes
``ingest-log/server.json`` away. ``serve`` binds the socket itself (a taken port is a
clear error, port 0 picks a free one) and runs uvicorn on it.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastapi_offline
import orjson
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles

from northstar import clock
from northstar._version import __version__
from northstar.errors import ServerError
from northstar.ingest.live_log import LOG_DIR, SERVER_FILE
from northstar.server.access import AccessLog, access_logger
from northstar.server.alerts_schedule import AlertSchedule
from northstar.server.auth import KeyCache
from northstar.server.flusher import Flusher
from northstar.server.log import IngestLog
from northstar.server.reports_schedule import ReportSchedule
from northstar.server.routes import router
from northstar.server.sdk_config import router as sdk_router
from northstar.server.state import ServerState
from northstar.store.connection import Store
from northstar.web.app import mount as mount_web
from northstar.workspace import Workspace

log = logging.getLogger("northstar.server")


@dataclass(frozen=True)
class Listening:
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


# Swagger UI 5 (it reads OpenAPI 3.1, which FastAPI writes), as fastapi-offline ships it.
SWAGGER_FILES = Path(fastapi_offline.__file__).parent / "static"


def create_app(
    ws: Workspace,
    *,
    ingest_log: IngestLog | None = None,
    listening: Listening | None = None,
    flush_seconds: float | None = None,
) -> FastAPI:
    """The app for a workspace. ``ingest_log`` may be opened by the caller already (so
    that a second server fails before it binds a port)."""
    folder = ws.path / LOG_DIR
    ws.shares_store = True  # pages and the flusher share one DuckDB instance (concurrent)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log_ = ingest_log or IngestLog(folder)
        if ingest_log is None:
            log_.open()
        keys = KeyCache()
        # Keys must be known before the first request; wait for the store like a command.
        with Store(ws.db_path, lock_wait=ws.settings.store.lock_wait_seconds) as store:
            keys.load(store)
        flusher = Flusher(
            log_, ws.db_path, keys, timezone=ws.settings.timezone,
            interval=flush_seconds or ws.settings.server.flush_seconds,
        )  # fmt: skip
        flusher.start()
        alerts = AlertSchedule(ws, ws.settings.server.alerts_seconds)
        alerts.start()
        reports = ReportSchedule(ws, ws.settings.server.reports_seconds)
        reports.start()
        app.state.northstar = ServerState(ws.path, ws.settings.timezone, log_, keys, flusher)
        # Requests allocate many short-lived objects; keep the collector from walking the
        # hundreds of thousands that imports left behind (a third of the CPU otherwise).
        gc.freeze()
        info = folder / SERVER_FILE
        if listening is not None:
            info.write_text(
                json.dumps(
                    {"pid": os.getpid(), "url": listening.url, "host": listening.host,
                     "port": listening.port, "started_at": clock.now().isoformat()}
                ),
                encoding="utf-8",
            )  # fmt: skip
        try:
            yield
        finally:
            alerts.stop()
            reports.stop()
            flusher.stop()
            log_.close()
            if listening is not None:
                info.unlink(missing_ok=True)

    app = FastAPI(
        title="Northstar",
        version=__version__,
        description="Tracking API (Segment and PostHog compatible), health, and the read "
        "API of a Northstar workspace (the web UI's data). See docs/ingestion-server.md "
        "and docs/web.md.",
        lifespan=lifespan,
        docs_url=None,  # served below from the package: FastAPI's default loads a CDN
        redoc_url=None,
    )
    app.mount("/static-docs", StaticFiles(directory=SWAGGER_FILES), name="static-docs")

    @app.get("/docs", include_in_schema=False)
    async def api_docs() -> Response:
        """The OpenAPI browser, offline: Swagger UI's files come with the package."""
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title="Northstar API",
            swagger_js_url="/static-docs/swagger-ui-bundle.js",
            swagger_css_url="/static-docs/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )  # fmt: skip

    app.include_router(router)
    app.include_router(sdk_router)  # what browser SDKs fetch, and their preflights

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        message = "unexpected server error; it is logged"
        body = {"success": False, "code": "internal_error", "message": message, "detail": message}
        return Response(orjson.dumps(body), status_code=500, media_type="application/json")

    mount_web(app, ws)  # the pages at / and the read API at /api/v1 (northstar.web)
    if ws.settings.server.access_log:
        app.add_middleware(AccessLog, logger=access_logger(folder))
    return app


def _bind(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ServerError(
            f"cannot listen on {host}:{port}: {reason}; choose another --port or --host"
        ) from None
    sock.set_inheritable(True)
    return sock


def serve(
    ws: Workspace,
    *,
    host: str | None = None,
    port: int | None = None,
    log_level: str = "warning",
    on_ready: Any = None,
) -> None:
    """Run the server until Ctrl-C or SIGTERM (then flush and stop)."""
    host = host or ws.settings.server.host
    port = ws.settings.server.port if port is None else port
    ingest_log = IngestLog(ws.path / LOG_DIR)
    ingest_log.open()  # fails if a server already runs here
    try:
        sock = _bind(host, port)
    except ServerError:
        ingest_log.close()
        raise
    listening = Listening(host, sock.getsockname()[1])
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=getattr(logging, log_level.upper(), logging.WARNING),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
    app = create_app(ws, ingest_log=ingest_log, listening=listening)
    config = uvicorn.Config(
        app, log_level=log_level, access_log=False, lifespan="on",
        timeout_graceful_shutdown=10, server_header=False,
    )  # fmt: skip
    if on_ready is not None:
        on_ready(listening)
    uvicorn.Server(config).run(sockets=[sock])
