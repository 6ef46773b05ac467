"""Cross-origin rules of the tracking API: browser SDKs (posthog-js, analytics.js) send
from the product's own pages, on another origin than this server.

Every answer of an ingestion or SDK-config route carries ``Access-Control-Allow-Origin``
(the request's origin, errors included, so the page can read why); ``OPTIONS`` preflights
are answered 204 with the methods and the requested headers allowed. Which origins may
*send* is checked per write key, on the real request (:meth:`KeyGrant.allows_origin`).
"""

from __future__ import annotations

from fastapi import Request, Response

ALLOWED_HEADERS = "content-type, authorization, x-retry-count, x-requested-with"
PREFLIGHT_SECONDS = 86400


def cors_headers(request: Request) -> dict[str, str]:
    """The headers that let the calling page read the answer (none without an Origin)."""
    origin = request.headers.get("origin")
    if not origin:
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Vary": "Origin",
    }


def with_cors(request: Request, response: Response) -> Response:
    response.headers.update(cors_headers(request))
    return response


async def preflight(request: Request) -> Response:
    """``OPTIONS``: 204, the methods, and the headers the browser asks to send."""
    asked = request.headers.get("access-control-request-headers", "")
    headers = {
        **cors_headers(request),
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": asked or ALLOWED_HEADERS,
        "Access-Control-Max-Age": str(PREFLIGHT_SECONDS),
    }
    return Response(status_code=204, headers=headers)


def origin_refusal(origin: str | None, allowed: tuple[str, ...]) -> str:
    return (
        f"origin {origin} may not send with this write key (allowed: {', '.join(allowed)}); "
        f"create a key for it: northstar keys create write --source web --origin {origin}"
    )
