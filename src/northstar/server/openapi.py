"""Request-body schemas of the tracking API, for the OpenAPI document (/docs).

The endpoints read raw JSON themselves (a batch is accepted message by message), so
these schemas document the shapes rather than enforce them.
"""

from __future__ import annotations

from typing import Any

from northstar.ingest.tracking import MAX_BATCH_BYTES, MAX_MESSAGE_BYTES

_ID = {"type": ["string", "number"], "maxLength": 200}
_TIME = {"type": "string", "format": "date-time"}
_OBJECT = {"type": "object", "additionalProperties": True}

SEGMENT_MESSAGE: dict[str, Any] = {
    "type": "object",
    "description": f"A Segment message (at most {MAX_MESSAGE_BYTES // 1024} KB).",
    "properties": {
        "type": {"enum": ["track", "identify", "page", "screen", "alias", "group"]},
        "messageId": _ID,
        "userId": _ID,
        "anonymousId": _ID,
        "previousId": _ID,
        "groupId": _ID,
        "event": {"type": "string", "maxLength": 200},
        "name": {"type": "string"},
        "timestamp": _TIME,
        "sentAt": _TIME,
        "properties": _OBJECT,
        "traits": _OBJECT,
        "context": _OBJECT,
    },
}

POSTHOG_EVENT: dict[str, Any] = {
    "type": "object",
    "description": f"A PostHog event (at most {MAX_MESSAGE_BYTES // 1024} KB).",
    "required": ["event"],
    "properties": {
        "event": {"type": "string", "maxLength": 200},
        "distinct_id": _ID,
        "uuid": {"type": "string"},
        "timestamp": _TIME,
        "properties": _OBJECT,
        "$set": _OBJECT,
        "api_key": {"type": "string"},
    },
}


def _body(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "description": f"{description} At most {MAX_BATCH_BYTES // 1024} KB per request "
            "(gzip allowed).",
            "content": {"application/json": {"schema": schema}},
        }
    }


def segment_one(kind: str) -> dict[str, Any]:
    return _body(SEGMENT_MESSAGE, f"One Segment {kind} message.")


def segment_batch() -> dict[str, Any]:
    schema = {
        "type": "object",
        "required": ["batch"],
        "properties": {
            "batch": {"type": "array", "items": SEGMENT_MESSAGE},
            "sentAt": _TIME,
            "context": _OBJECT,
            "writeKey": {"type": "string"},
        },
    }
    return _body(schema, "Segment messages, each naming its type.")


def posthog() -> dict[str, Any]:
    schema = {
        "oneOf": [
            POSTHOG_EVENT,
            {
                "type": "object",
                "required": ["batch"],
                "properties": {
                    "api_key": {"type": "string"},
                    "sent_at": _TIME,
                    "batch": {"type": "array", "items": POSTHOG_EVENT},
                },
            },
            {"type": "array", "items": POSTHOG_EVENT},
        ]
    }
    return _body(schema, "A PostHog event, a {batch: [...]} object or an array of events.")
