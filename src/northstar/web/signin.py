"""Signing in to the pages with a read or admin key (``server.pages: key``).

The key goes into an HttpOnly, SameSite=Strict cookie; every page checks it against the
stored hashes like the read API checks its ``Authorization`` header, so a revoked key
signs its browsers out at once.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from northstar.settings import PageAccess
from northstar.web.app import templates
from northstar.web.runtime import KEY_COOKIE, READ_KINDS, grant_of, workspace

router = APIRouter(include_in_schema=False)


def _next_page(value: str | None) -> str:
    """Only a path of this site: never an absolute or protocol-relative address."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _signin_page(request: Request, context: dict[str, Any], status: int = 200) -> Response:
    ws = workspace(request)
    base = {"product": ws.settings.name, "nav": "", "mode": ws.settings.server.pages.value}
    return templates.TemplateResponse(request, "signin.html", base | context, status_code=status)


@router.get("/signin")
def signin_form(request: Request, next: str = "/") -> Response:
    return _signin_page(request, {"next": _next_page(next), "error": None})


@router.post("/signin")
async def signin(request: Request) -> Response:
    form = await request.form()
    target = _next_page(str(form.get("next") or "/"))
    token = str(form.get("key") or "").strip()
    if workspace(request).settings.server.pages is PageAccess.loopback:
        return RedirectResponse(target, status_code=303)
    grant = await grant_of(request, token)
    if grant is None or grant.kind not in READ_KINDS:
        error = (
            "type a key: create one with 'northstar keys create read' (or admin)"
            if not token
            else f"a {grant.kind} key cannot open the pages; use a read or admin key"
            if grant is not None
            else "unknown or revoked key; create one with 'northstar keys create read'"
        )
        return _signin_page(request, {"next": target, "error": error}, status=401)
    answer = RedirectResponse(target, status_code=303)
    answer.set_cookie(
        KEY_COOKIE, token, httponly=True, samesite="strict", path="/",
        secure=request.url.scheme == "https",
    )  # fmt: skip
    return answer


@router.post("/signout")
def signout(request: Request) -> Response:
    answer = RedirectResponse("/signin", status_code=303)
    answer.delete_cookie(KEY_COOKIE, path="/", httponly=True, samesite="strict")
    return answer
