"""``/share/<token>``: one page, read-only, for whoever holds a share link
(docs/reports.md#share-links).

The token opens exactly the page it was made for — no other page, no API, no form post —
until it expires or is revoked; then, or when it is tampered with, the answer is 404 at
once. No cookie is set: the link grants nothing beyond its own page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from northstar.reports.shares import parse_page
from northstar.web.app import templates
from northstar.web.pages import ExploreForm, explore_context, goal_context, scorecard_context
from northstar.web.runtime import call, workspace

router = APIRouter(include_in_schema=False)
TEMPLATES = {"scorecard": "scorecard.html", "goal": "goal.html", "metric": "explore.html"}


@router.get("/share/{token}")
def shared_page(request: Request, token: str) -> Response:
    ws = workspace(request)
    target = ws.open_share(token)  # ShareNotFound: 404
    kind, arg = parse_page(target)
    context: dict[str, Any]
    status = 200
    if kind == "scorecard":
        context = scorecard_context(request)
    elif kind == "goal":
        context = goal_context(request, arg or "")
    else:
        context, status = explore_context(request, ExploreForm(metric=arg or "", grain="month"))
    base = {
        "product": ws.settings.name, "nav": "", "signed_in": False, "shared": target,
        "freshness": call(request, ws.as_of),
    }  # fmt: skip
    answer = templates.TemplateResponse(
        request, TEMPLATES[kind], {**base, **context}, status_code=status
    )
    answer.headers["Cache-Control"] = "no-store"
    answer.headers["Referrer-Policy"] = "no-referrer"
    answer.headers["X-Robots-Tag"] = "noindex"
    return answer
