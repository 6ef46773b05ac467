"""Mount the web UI (``/``), its static files (``/static``) and the read API
(``/api/v1``) in the server's FastAPI app; turn Northstar errors into friendly answers."""

from __future__ import annotations

import inspect
import logging
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from northstar._version import __version__
from northstar.errors import AccessError, NorthstarError, SignInRequired
from northstar.workspace import Workspace

HERE = Path(__file__).parent
PAGE_PREFIXES = (
    "/explore",
    "/analyses",
    "/goals",
    "/experiments",
    "/data",
    "/signin",
    "/signout",
    "/alerts",
    "/explain",
    "/reports",
    "/share",
)
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["version"] = __version__
log = logging.getLogger("northstar.web")


def problem(request: Request, status: int, message: str, name: str) -> Response:
    """The read API's one error format: RFC 9457 problem details
    (``application/problem+json``), with ``error`` (the error's name) and ``message``."""
    body = {
        "type": "about:blank", "title": HTTPStatus(status).phrase, "status": status,
        "detail": message, "instance": request.url.path, "error": name, "message": message,
    }  # fmt: skip
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def error_page(request: Request, message: str, status: int) -> Response:
    return templates.TemplateResponse(
        request, "error.html", {"message": message, "status": status}, status_code=status
    )


def mount(app: FastAPI, ws: Workspace) -> None:
    """Add the pages and the read API for ``ws`` to ``app``."""
    from northstar.web import api, pages, share, signin

    app.state.northstar_ws = ws
    unexpected = app.exception_handlers.get(Exception)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(api.router)
    app.include_router(signin.router)
    app.include_router(share.router)
    app.include_router(pages.router)

    @app.exception_handler(NorthstarError)
    async def northstar_error(request: Request, exc: NorthstarError) -> Response:
        status = exc.status if isinstance(exc, AccessError) else exc.http_status
        message = str(exc)
        if request.url.path.startswith("/api/"):
            return problem(request, status, message, type(exc).__name__)
        if isinstance(exc, SignInRequired):
            back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            signin = "/signin?" + urlencode({"next": back if request.method == "GET" else "/"})
            if request.headers.get("hx-request"):
                return Response(status_code=204, headers={"HX-Redirect": signin})
            return RedirectResponse(signin, status_code=303)
        if request.headers.get("hx-request"):
            return templates.TemplateResponse(
                request, "partials/error.html", {"message": message}, status_code=200
            )
        return error_page(request, message, status)

    @app.exception_handler(RequestValidationError)
    async def bad_parameters(request: Request, exc: RequestValidationError) -> Response:
        """A missing or malformed parameter: one line naming it, in the API's format."""
        first = exc.errors()[0]
        where = " ".join(str(p) for p in first.get("loc", ()) if p != "query")
        message = f"{where}: {str(first.get('msg', 'invalid')).removeprefix('Value error, ')}"
        if request.url.path.startswith("/api/"):
            return problem(request, 400, message, "QueryArgumentError")
        return error_page(request, message, 400)

    @app.exception_handler(StarletteHTTPException)
    async def not_found(request: Request, exc: StarletteHTTPException) -> Response:
        """A page that does not exist gets a page that says so (the API keeps JSON)."""
        if request.url.path.startswith("/api/"):
            return problem(request, exc.status_code, str(exc.detail), "HTTPError")
        if exc.status_code == 404 and not request.url.path.startswith("/v1/"):
            return error_page(request, f"no page at {request.url.path}", 404)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))  # fmt: skip

    @app.exception_handler(Exception)
    async def page_bug(request: Request, exc: Exception) -> Response:
        """A bug on a page: a page that says so (logged), never a stack trace."""
        if request.url.path.startswith(PAGE_PREFIXES) or request.url.path == "/":
            log.exception("unexpected error on %s %s", request.method, request.url.path)
            message = "unexpected error while building this page; it is logged on the server"
            return error_page(request, message, 500)
        if unexpected is None:
            raise exc
        answer = unexpected(request, exc)
        return await answer if inspect.isawaitable(answer) else answer
