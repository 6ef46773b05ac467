"""What every web route needs: the workspace, the store, who may call.

Inside the server every connection to the store is read-write (``Workspace.shares_store``),
so DuckDB shares one database instance between the routes and the flusher and they run
concurrently: a slow page holds up neither the other pages nor the ingestion flusher. An
app mounted without the server (no shared instance) takes turns through one lock.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import ipaddress
import secrets
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request

from northstar import clock
from northstar.errors import AccessError, SignInRequired
from northstar.metrics.periods import parse_date
from northstar.settings import PageAccess
from northstar.store.keys import KeyGrant, header_token
from northstar.workspace import Workspace

T = TypeVar("T")
READ_KINDS = ("read", "admin")
PAGE_GRANT = KeyGrant(key_id="page", kind="read", source=None)  # a loopback browser's page
KEY_COOKIE = "northstar_key"  # a signed-in browser's key (server.pages: key)
# A browser that opened a page (server.pages: loopback) gets a signed session: the read
# API answers it without a key. A header alone (Sec-Fetch-Site) grants nothing.
PAGE_COOKIE = "northstar_page"
PAGE_SESSION_SECONDS = 12 * 3600
_fallback_lock = threading.Lock()  # an app served without its lifespan (never in serve)


def workspace(request: Request) -> Workspace:
    """The server's workspace, judged as of the request's ``as_of`` when it has one (every
    page and API route: one as-of for the whole request)."""
    ws: Workspace = request.app.state.northstar_ws
    text = request.query_params.get("as_of", "").strip()
    if not text:
        return ws
    pinned = copy.copy(ws)
    pinned.pinned_as_of = parse_date(text, "as-of date")
    return pinned


def store_lock(request: Request) -> threading.Lock:
    state = getattr(request.app.state, "northstar", None)
    lock: threading.Lock | None = getattr(getattr(state, "flusher", None), "store_lock", None)
    return lock or _fallback_lock


def call(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a Workspace method. Inside the server the workspace shares one DuckDB instance
    with the flusher (``Workspace.shares_store``), so requests run concurrently: a slow
    page does not hold up the others or the flusher. An app served without that sharing
    (no server state) still takes turns on the store."""
    ws = request.app.state.northstar_ws
    if getattr(ws, "shares_store", False):
        return fn(*args, **kwargs)
    with store_lock(request):
        return fn(*args, **kwargs)


def is_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host in ("localhost", "testclient")


async def grant_of(request: Request, token: str | None) -> KeyGrant | None:
    """What ``token`` may do on this server (None: unknown, revoked or no server)."""
    state = getattr(request.app.state, "northstar", None)
    if state is None or not token:
        return None
    grant: KeyGrant | None = state.keys.check(token) or await state.recheck(token)
    return grant


def from_another_site(request: Request) -> bool:
    """The request comes from a web page served by another host (its ``Origin``)."""
    origin = request.headers.get("origin")
    if not origin:
        return False
    return origin.split("://", 1)[-1] != request.headers.get("host", "")


async def check_page_access(request: Request) -> None:
    """Who may open the pages (``server.pages``, see docs/web.md): browsers on this
    machine, or anyone signed in with a read key (an admin key to change anything).
    A form post must also come from a page of this server (no cross-site posts)."""
    if request.method == "POST" and from_another_site(request):
        raise AccessError("a form was posted from another site; use the form on this page")
    if workspace(request).settings.server.pages is PageAccess.loopback:
        if not is_loopback(request):
            raise AccessError(
                "the web pages answer on this machine only; open them through an SSH tunnel, "
                "or set server.pages: key in northstar.yaml to sign in with a read key"
            )
        return
    grant = await grant_of(request, request.cookies.get(KEY_COOKIE))
    if grant is None or grant.kind not in READ_KINDS:
        raise SignInRequired("sign in with a read or admin key to open the pages")
    if request.method == "POST" and grant.kind != "admin":
        raise AccessError(
            "a read key can look but not change goals or keys; sign in with an admin key"
        )
    request.state.grant = grant


def author(request: Request) -> str:
    """Who makes a change from the pages: ``web``, or ``web (key_…)`` when signed in."""
    grant: KeyGrant | None = getattr(request.state, "grant", None)
    return f"web ({grant.key_id})" if grant is not None else "web"


def _page_secret(request: Request) -> bytes:
    """The key page sessions are signed with: random, per server process."""
    secret: bytes | None = getattr(request.app.state, "northstar_page_secret", None)
    if secret is None:
        secret = secrets.token_bytes(32)
        request.app.state.northstar_page_secret = secret
    return secret


def new_page_session(request: Request) -> str:
    """A page session for a loopback browser: ``<issued>.<HMAC-SHA256 of it>``."""
    issued = str(int(clock.now().timestamp()))
    mac = hmac.new(_page_secret(request), issued.encode(), hashlib.sha256).hexdigest()
    return f"{issued}.{mac}"


def valid_page_session(request: Request) -> bool:
    """The request carries a page session this server signed less than 12 hours ago."""
    value = request.cookies.get(PAGE_COOKIE, "")
    issued, _, mac = value.partition(".")
    if not issued.isdigit() or not mac:
        return False
    good = hmac.new(_page_secret(request), issued.encode(), hashlib.sha256).hexdigest()
    fresh = 0 <= clock.now().timestamp() - int(issued) < PAGE_SESSION_SECONDS
    return fresh and hmac.compare_digest(good, mac)


async def page_grant(request: Request) -> KeyGrant | None:
    """The read API answers the pages of this server without a key exactly when the
    pages themselves would answer, for a browser session only: signed in with a key
    (``server.pages: key``), or (``loopback``) a loopback browser holding the signed page
    session cookie it got with a page. Request headers alone (``Sec-Fetch-Site``) are
    forgeable and grant nothing."""
    if workspace(request).settings.server.pages is PageAccess.key:
        grant = await grant_of(request, request.cookies.get(KEY_COOKIE))
        return grant if grant is not None and grant.kind in READ_KINDS else None
    if is_loopback(request) and valid_page_session(request):
        return PAGE_GRANT
    return None


async def read_grant(request: Request) -> KeyGrant:
    """The read or admin key of an API call (``Authorization: Bearer <key>``), else the
    page that makes the call (:func:`page_grant`)."""
    token = header_token(request.headers.get("authorization"))
    if token is None:
        page = await page_grant(request)
        if page is not None:
            return page
    if token is not None and from_another_site(request):
        raise AccessError(
            "read and admin keys are not accepted from a web page on another site; call the "
            "read API from a server or a script",
            403,
        )
    grant = await grant_of(request, token)
    if grant is None:
        if token:
            raise AccessError(
                "unknown or revoked key; create one with: northstar keys create read", 401
            )
        raise AccessError(
            "the read API needs a read or admin key: send 'Authorization: Bearer <key>' "
            "(create one with: northstar keys create read)",
            401,
        )
    if grant.kind not in READ_KINDS:
        raise AccessError(
            f"a {grant.kind} key cannot read; use a read or admin key (northstar keys create read)",
            403,
        )
    return grant
