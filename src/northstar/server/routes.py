"""HTTP routes: the tracking API (Segment and PostHog shapes) and /health.

Every ingestion request goes: key → body (limits) → messages → log append (fsync,
shared with concurrent requests) → answer. The answer is 200 when every message was
accepted, 400 with the reason of each rejected message otherwise (the accepted ones
are stored all the same), 401/403 for a key that may not send (nothing is written),
413/415 for a body that cannot be read, 503 when the log cannot be written (SDKs
retry). Every message that is not stored is kept in the quarantine with its reason.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

from northstar import clock
from northstar.ingest.tracking import (
    MAX_BATCH_BYTES,
    MAX_MESSAGE_BYTES,
    Batch,
    Outcome,
    batch_sent_at,
    clip,
    posthog_messages,
    raw_text,
    rejected_line,
    segment_messages,
)
from northstar.server import openapi
from northstar.server.auth import body_token, header_token, raw_tokens
from northstar.server.body import BodyProblem, ClientGone, read_json
from northstar.server.cors import origin_refusal, with_cors
from northstar.server.state import ServerState
from northstar.store.keys import KeyGrant

log = logging.getLogger("northstar.server")
router = APIRouter()


def json_answer(status: int, payload: dict[str, Any]) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


def _error(status: int, code: str, message: str, **extra: Any) -> Response:
    # "message" is what Segment's SDKs log, "detail" what PostHog's log.
    payload = {"success": False, "code": code, "message": message, "detail": message,
               "quarantined": 0, **extra}  # fmt: skip
    return json_answer(status, payload)


def server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.northstar
    return state


def refused(grant: KeyGrant | None, had_token: bool) -> Response | None:
    if grant is None:
        if had_token:
            return _error(401, "unauthorized", "unknown or revoked write key; nothing was stored")
        return _error(
            401,
            "unauthorized",
            "no write key: send it as the HTTP Basic user name (Segment SDKs), as "
            "'writeKey' or 'api_key' in the body (PostHog SDKs), or as a Bearer token",
        )
    if grant.kind != "write":
        return _error(
            403,
            "forbidden",
            f"a {grant.kind} key cannot send data; use a write key (northstar keys create "
            "write --source NAME)",
        )
    return None


async def authorize(state: ServerState, token: str | None) -> KeyGrant | None:
    grant = state.keys.check(token)
    if grant is None and token:
        grant = await state.recheck(token)
    return grant


def _batch(request: Request, grant: KeyGrant, received: datetime) -> Batch:
    request_id = f"{random.getrandbits(48):012x}"  # tells requests apart in the quarantine
    label = f"POST {request.url.path} · source {grant.source} · request {request_id}"
    return Batch(received=received, source=grant.source or "default", label=label)


Parse = Callable[[Any, Batch], Outcome | str]


async def _ingest(request: Request, parse: Parse) -> Response:
    return with_cors(request, await _ingest_body(request, parse))


def origin_refused(request: Request, grant: KeyGrant | None) -> Response | None:
    """A write key limited to some browser origins, used from another: 403."""
    origin = request.headers.get("origin")
    if grant is None or grant.allows_origin(origin):
        return None
    return _error(403, "forbidden_origin", origin_refusal(origin, grant.origins))


async def _ingest_body(request: Request, parse: Parse) -> Response:
    state = server_state(request)
    state.requests += 1
    received = clock.now()
    token = header_token(request.headers.get("authorization"))
    grant = None
    if token is not None:
        grant = await authorize(state, token)
        if (refusal := refused(grant, True) or origin_refused(request, grant)) is not None:
            return refusal
    try:
        body = await read_json(request)
    except ClientGone as gone:
        state.disconnected += 1
        log.info("%s %s: %s; nothing stored", request.method, request.url.path, gone)
        return _error(400, "client_disconnected", f"{gone}; nothing was stored")
    except BodyProblem as problem:
        if grant is None:  # the key may be in the unreadable body: look for it there
            grant = await _raw_grant(state, problem.raw)
            if (refusal := origin_refused(request, grant)) is not None:
                return refusal
        if grant is None:  # whose is it? answer, keep nothing (no key, no storage)
            return _error(problem.status, "invalid_body", problem.reason +
                          " (not kept: no valid write key in the request)")  # fmt: skip
        batch = _batch(request, grant, received)
        await _keep(state, [rejected_line(batch, None, clip(problem.raw), problem.reason)])
        state.rejected += 1
        return _error(problem.status, "invalid_body", problem.reason, quarantined=1)
    if grant is None:
        token = body_token(body)
        grant = await authorize(state, token)
        refusal = refused(grant, token is not None) or origin_refused(request, grant)
        if refusal is not None:
            return refusal
    assert grant is not None
    batch = _batch(request, grant, received)
    outcome = parse(body, batch)
    if isinstance(outcome, str):  # the body's shape is wrong as a whole
        await _keep(state, [rejected_line(batch, None, raw_text(body), outcome)])
        state.rejected += 1
        return _error(400, "invalid_body", outcome, quarantined=1)
    # Every accepted message is one event record.
    failure = await _keep(state, outcome.lines, outcome.accepted) if outcome.lines else None
    if failure is not None:
        return failure
    state.accepted += outcome.accepted
    state.rejected += len(outcome.rejected)
    if outcome.warnings:
        state.clamped += len(outcome.warnings)
        for warning in outcome.warnings:
            log.warning("source %s: %s", batch.source, warning["warning"])
    total = outcome.accepted + len(outcome.rejected)
    if outcome.rejected:
        first = outcome.rejected[0]
        where = f"batch[{first['index']}]" if total > 1 else "the message"
        return _error(
            400,
            "invalid_messages",
            f"{len(outcome.rejected)} of {total} message(s) rejected ({where}: "
            f"{first['reason']}); the others were stored",
            accepted=outcome.accepted,
            quarantined=len(outcome.rejected),
            rejected=outcome.rejected,
            warnings=outcome.warnings,
        )
    stored = f"{outcome.accepted} message(s) stored"
    return json_answer(200, {"success": True, "status": 1, "code": "ok", "message": stored,
                       "detail": stored, "accepted": outcome.accepted, "quarantined": 0,
                       "warnings": outcome.warnings})  # fmt: skip


async def _raw_grant(state: ServerState, raw: bytes) -> KeyGrant | None:
    """A write key found in a body that could not be read (see :func:`raw_tokens`)."""
    for token in raw_tokens(raw):
        grant = await authorize(state, token)
        if grant is not None and grant.kind == "write":
            return grant
    return None


async def _keep(state: ServerState, lines: list[bytes], events: int = 0) -> Response | None:
    """Append to the log; a 503 (which SDKs retry) when the disk refuses."""
    try:
        await state.log.append(b"".join(lines), events)
    except OSError as exc:
        log.error("cannot write the ingestion log: %s", exc)
        return _error(503, "unavailable", f"the server cannot write its log ({exc}); retry later")
    return None


# -- shapes -------------------------------------------------------------------------


def _segment_one(kind: str) -> Parse:
    def parse(body: Any, batch: Batch) -> Outcome | str:
        if type(body) is not dict:
            return f"a /v1/{kind} body must be a JSON object (one message)"
        batch_sent_at(batch, body.get("sentAt"))
        return segment_messages([body], batch, kind=kind)

    return parse


def _segment_batch(body: Any, batch: Batch) -> Outcome | str:
    if type(body) is not dict or type(body.get("batch")) is not list:
        return "a /v1/batch body must be a JSON object with a 'batch' array of messages"
    batch_sent_at(batch, body.get("sentAt"))
    context = body.get("context")
    batch.context = context if type(context) is dict else None
    return segment_messages(body["batch"], batch)


def _posthog(body: Any, batch: Batch) -> Outcome | str:
    if type(body) is list:
        messages = body
    elif type(body) is dict and type(body.get("batch")) is list:
        messages = body["batch"]
        batch_sent_at(batch, body.get("sent_at"))
    elif type(body) is dict and "event" in body:
        messages = [body]
    else:
        return "expected a PostHog event object, {'batch': [...]} or an array of events"
    return posthog_messages(messages, batch)


def _route(parse: Parse) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await _ingest(request, parse)

    return endpoint


for _kind in ("track", "identify", "page", "screen", "alias", "group"):
    router.add_api_route(
        f"/v1/{_kind}", _route(_segment_one(_kind)), methods=["POST"], tags=["Segment"],
        summary=f"Segment {_kind} call", openapi_extra=openapi.segment_one(_kind),
    )  # fmt: skip
router.add_api_route(
    "/v1/batch", _route(_segment_batch), methods=["POST"], tags=["Segment"],
    summary="Segment batch of messages", openapi_extra=openapi.segment_batch(),
)  # fmt: skip
# analytics.js (analytics-next) sends one message per call on short paths.
SHORT_PATHS = {"t": "track", "p": "page", "i": "identify", "a": "alias", "g": "group",
               "s": "screen"}  # fmt: skip
for _short, _kind in SHORT_PATHS.items():
    router.add_api_route(
        f"/v1/{_short}", _route(_segment_one(_kind)), methods=["POST"], tags=["Segment"],
        summary=f"analytics.js {_kind} call", include_in_schema=False,
    )  # fmt: skip
router.add_api_route(
    "/v1/b", _route(_segment_batch), methods=["POST"], tags=["Segment"],
    summary="analytics.js batch", include_in_schema=False,
)  # fmt: skip
for _path in ("/batch", "/capture", "/e", "/i/v0/e"):
    for _slash in ("", "/"):
        router.add_api_route(
            _path + _slash, _route(_posthog), methods=["POST"], tags=["PostHog"],
            summary=f"PostHog capture ({_path})", include_in_schema=_slash == "/",
            openapi_extra=openapi.posthog(),
        )  # fmt: skip


@router.post("/v1/m", tags=["Segment"], summary="analytics.js metrics (accepted, dropped)")
async def sdk_metrics(request: Request) -> Response:
    """analytics.js reports its own delivery metrics here: read and dropped."""
    async for _ in request.stream():
        pass
    return with_cors(request, json_answer(200, {"success": True, "code": "ok", "message": "dropped",
                                          "detail": "dropped", "quarantined": 0}))  # fmt: skip


def ingest_paths() -> list[str]:
    """Every path that takes events (for the preflight routes)."""
    return [getattr(r, "path", "") for r in router.routes if "POST" in getattr(r, "methods", ())]


# -- health -------------------------------------------------------------------------


@router.get("/health", tags=["Health"], summary="Server and ingestion status")
async def health(request: Request) -> Response:
    """Operational status for anyone; store figures for a read or admin key."""
    state = server_state(request)
    flusher = state.flusher.state
    payload: dict[str, Any] = {
        "status": "ok" if state.log.failed is None else "failing",
        "uptime_seconds": round(time.monotonic() - state.started, 1),
        "requests": state.requests,
        "accepted_messages": state.accepted,
        "rejected_messages": state.rejected,
        "clamped_timestamps": state.clamped,
        "disconnected_requests": state.disconnected,
        "log": {
            "waiting_events": state.log.waiting_events(),
            "waiting_segments": state.log.waiting_segments(),
            "write_error": state.log.failed,
        },
        "flusher": {
            "last_flush_at": flusher.last_flush_at.isoformat() if flusher.last_flush_at else None,
            "loaded_events": flusher.loaded_events,
            "busy_rounds": flusher.busy_rounds,
            "last_error": flusher.last_error,
        },
        "limits": {"message_bytes": MAX_MESSAGE_BYTES, "request_bytes": MAX_BATCH_BYTES},
    }
    grant = state.keys.check(header_token(request.headers.get("authorization")))
    if grant is not None and grant.kind in ("read", "admin") and flusher.figures is not None:
        figures = flusher.figures
        payload["store"] = {
            "events_today": figures.events_today,
            "last_event_at": figures.last_event_at.isoformat() if figures.last_event_at else None,
            "quarantined": figures.quarantined,
        }
    return json_answer(200 if state.log.failed is None else 503, payload)
