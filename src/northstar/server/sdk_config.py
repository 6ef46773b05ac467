"""What the browser SDKs fetch before they send: posthog-js's remote config and flags,
analytics.js's project settings. Each tells the SDK that this server takes its events
and nothing else (no session recordings, surveys or feature flags; no other
destinations). See docs/ingestion-server.md#from-the-browser.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response

from northstar.server.auth import body_token
from northstar.server.body import BodyProblem, ClientGone, read_json
from northstar.server.cors import preflight, with_cors
from northstar.server.routes import (
    authorize,
    ingest_paths,
    json_answer,
    origin_refused,
    refused,
    server_state,
)

router = APIRouter()

# posthog-js: what this server supports (everything else off).
POSTHOG_CONFIG: dict[str, Any] = {
    "supportedCompression": ["gzip-js", "base64"],
    "hasFeatureFlags": False,
    "sessionRecording": False,
    "surveys": False,
    "heatmaps": False,
    "autocaptureExceptions": False,
    "capturePerformance": False,
    "autocapture_opt_out": False,
    "elementsChainAsString": True,
    "defaultIdentifiedOnly": True,
    "siteApps": [],
    "toolbarParams": {},
    "isAuthenticated": False,
}


async def _write_grant(request: Request, key: str) -> Response | None:
    """None when ``key`` is a write key that may be used from this page; else the answer."""
    grant = await authorize(server_state(request), key)
    return refused(grant, bool(key)) or origin_refused(request, grant)


@router.get("/array/{key}/config", tags=["PostHog"], summary="posthog-js remote config (JSON)")
async def posthog_config(request: Request, key: str) -> Response:
    refusal = await _write_grant(request, key)
    return with_cors(request, refusal or json_answer(200, POSTHOG_CONFIG))


@router.get("/array/{key}/config.js", tags=["PostHog"], summary="posthog-js remote config (JS)")
async def posthog_config_js(request: Request, key: str) -> Response:
    refusal = await _write_grant(request, key)
    if refusal is not None:
        return with_cors(request, refusal)
    config = json.dumps({"token": key, **POSTHOG_CONFIG})
    script = (
        "(function(){window._POSTHOG_REMOTE_CONFIG=window._POSTHOG_REMOTE_CONFIG||{};"
        f"window._POSTHOG_REMOTE_CONFIG[{json.dumps(key)}]={{config:{config},siteApps:[]}};}})();"
    )
    return with_cors(request, Response(script, media_type="application/javascript"))


async def _no_flags(request: Request) -> Response:
    """``/flags`` and ``/decide``: no feature flags here (the SDK's config with it). A key in
    the body is checked like any other (a page on an origin it does not allow: 403)."""
    try:
        sent = await read_json(request)
    except (BodyProblem, ClientGone):
        sent = None
    token = body_token(sent)
    if token:
        refusal = await _write_grant(request, token)
        if refusal is not None:
            return with_cors(request, refusal)
    body = {
        **POSTHOG_CONFIG,
        "flags": {},
        "featureFlags": {},
        "featureFlagPayloads": {},
        "errorsWhileComputingFlags": False,
        "quotaLimited": [],
        "requestId": "northstar",
    }
    return with_cors(request, json_answer(200, body))


for _path in ("/flags", "/flags/", "/decide", "/decide/"):
    router.add_api_route(_path, _no_flags, methods=["POST", "GET"], tags=["PostHog"],
                         summary="posthog-js feature flags (none)",
                         include_in_schema=_path.endswith("/"))  # fmt: skip


@router.get("/v1/projects/{key}/settings", tags=["Segment"], summary="analytics.js settings")
async def segment_settings(request: Request, key: str) -> Response:
    """Settings whose only destination is this server (``Segment.io`` pointed here)."""
    refusal = await _write_grant(request, key)
    if refusal is not None:
        return with_cors(request, refusal)
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    settings = {
        "integrations": {
            "Segment.io": {
                "apiKey": key,
                "apiHost": f"{host}/v1",
                "protocol": request.url.scheme,
                "unbundledIntegrations": [],
                "addBundledMetadata": True,
                "maybeBundledConfigIds": {},
                "versionSettings": {"version": "4.4.7", "componentTypes": ["browser"]},
            }
        },
        "plan": {
            "track": {"__default": {"enabled": True, "integrations": {}}},
            "identify": {"__default": {"enabled": True}},
            "group": {"__default": {"enabled": True}},
        },
        "edgeFunction": {},
        "analyticsNextEnabled": True,
        "middlewareSettings": {},
        "enabledMiddleware": {},
        "metrics": {"sampleRate": 0},
        "legacyVideoPluginsEnabled": False,
        "remotePlugins": [],
    }
    return with_cors(request, json_answer(200, settings))


def add_preflights() -> None:
    """``OPTIONS`` on every path a browser SDK calls."""
    paths = {*ingest_paths(), *(getattr(r, "path", "") for r in router.routes)} - {""}
    for path in sorted(paths):
        router.add_api_route(path, preflight, methods=["OPTIONS"], include_in_schema=False)


add_preflights()
