"""Who is calling: API keys as the SDKs present them, checked against hashed keys.

Segment's SDKs send the write key as the user name of HTTP Basic auth (and some put
``writeKey`` in the body); PostHog's send ``api_key`` in the body; Northstar's read
side uses ``Authorization: Bearer``. The server keeps the active keys' hashes in
memory; the flusher reloads them whenever another process changed the store (so a key
created or revoked with ``northstar keys`` takes effect within a flush interval).
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

from northstar.store.connection import Store
from northstar.store.keys import KeyGrant, active_grants, hash_token
from northstar.store.keys import header_token as header_token  # re-exported

BODY_KEY_FIELDS = ("writeKey", "api_key", "token")


def body_token(body: Any) -> str | None:
    """A key carried in the JSON body (``writeKey``, ``api_key`` or ``token``; for an array
    of events, as posthog-js sends, the first event's ``properties.token``)."""
    if type(body) is list and body:
        body = body[0]
    if type(body) is not dict:
        return None
    for name in BODY_KEY_FIELDS:
        value = body.get(name)
        if type(value) is str and value:
            return value
    props = body.get("properties")
    if type(props) is dict and type(props.get("token")) is str:
        return str(props["token"])
    return None


_RAW_KEY = re.compile(rb'"(?:writeKey|api_key|token)"\s*:\s*"([A-Za-z0-9_\-]{1,200})"')


def raw_tokens(data: bytes) -> list[str]:
    """Keys written in a body that cannot be parsed (cut short, not UTF-8, too big...),
    found by their field name, so that the body can still be kept under its source."""
    return [m.group(1).decode("ascii") for m in _RAW_KEY.finditer(data[: 8 * 1024 * 1024])][:5]


class KeyCache:
    """The active keys' hashes, as last loaded from the store."""

    def __init__(self) -> None:
        self._grants: dict[str, KeyGrant] = {}
        self._lock = threading.Lock()
        self.loaded_at = 0.0

    def load(self, store: Store) -> None:
        grants = active_grants(store)
        with self._lock:
            self._grants = grants
            self.loaded_at = time.monotonic()

    def check(self, token: str | None) -> KeyGrant | None:
        if not token:
            return None
        return self._grants.get(hash_token(token))
