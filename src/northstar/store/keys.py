"""API keys: write keys that only send data (one per source), read and admin keys apart.

A key is a high-entropy random token shown once, at creation; the store keeps only its
SHA-256, a short prefix to recognise it in listings, its kind and its source. A revoked
key stays listed (with the time it was revoked) so that its prefix still explains
itself in logs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from northstar import clock
from northstar.errors import ApiKeyError
from northstar.store.connection import Store

KINDS = ("write", "read", "admin")
_SOURCE_RE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_PREFIX_CHARS = 12


@dataclass(frozen=True)
class ApiKey:
    """A stored key (never the token itself)."""

    key_id: str
    kind: str
    source: str | None
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    origins: tuple[str, ...] = ()  # browser origins it may send from; empty: any

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class KeyGrant:
    """What a presented token is allowed to do, as the server sees it."""

    key_id: str
    kind: str
    source: str | None
    origins: tuple[str, ...] = ()  # browser origins it may send from; empty: any

    def allows_origin(self, origin: str | None) -> bool:
        """A request from ``origin`` (its ``Origin`` header; None: not from a browser page)
        may use this key."""
        return origin is None or not self.origins or origin.lower() in self.origins


def normalise_origin(value: str) -> str:
    """``https://App.example.com/`` → ``https://app.example.com``; an error for anything
    that is not a scheme and a host (and port)."""
    text = value.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/") \
            or parts.query or parts.fragment:  # fmt: skip
        raise ApiKeyError(
            f"origin {value!r} must be a scheme and a host, like https://app.example.com "
            "(or http://localhost:3000)"
        )
    return f"{parts.scheme}://{parts.netloc}".lower()


def _origins(raw: str | None) -> tuple[str, ...]:
    return tuple(json.loads(raw)) if raw else ()


def _api_key(row: Sequence[Any]) -> ApiKey:
    key_id, kind, source, prefix, created_at, revoked_at, origins = row
    return ApiKey(key_id, kind, source, prefix, created_at, revoked_at, _origins(origins))


def hash_token(token: str) -> str:
    """The stored form of a token. A plain SHA-256 is enough: tokens carry 192 random
    bits, so there is nothing to brute-force that a slow hash would protect."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_key(
    store: Store, kind: str, source: str | None = None, origins: Sequence[str] = ()
) -> tuple[ApiKey, str]:
    """Create a key; returns it and its token (the only time the token is available).
    ``origins`` limits the browser pages a write key may send from (default: any)."""
    if kind not in KINDS:
        raise ApiKeyError(f"unknown key kind {kind!r}; use one of {', '.join(KINDS)}")
    if origins and kind != "write":
        raise ApiKeyError(f"origins apply to write keys only, not to {kind} keys")
    allowed = tuple(dict.fromkeys(normalise_origin(o) for o in origins))
    if kind == "write":
        given = source
        source = (source or "default").strip().lower()
        if not _SOURCE_RE.fullmatch(source):
            raise ApiKeyError(
                f"source {given!r} must be 1-64 letters, digits, '.', '_' or '-' "
                "(e.g. web, ios, backend)"
            )
    elif source:
        raise ApiKeyError(f"a source applies to write keys only, not to {kind} keys")
    else:
        source = None
    token = f"ns_{kind}_{secrets.token_urlsafe(24)}"
    key = ApiKey(
        key_id="key_" + secrets.token_hex(4),
        kind=kind,
        source=source,
        prefix=token[:_PREFIX_CHARS],
        created_at=clock.now(),
        revoked_at=None,
        origins=allowed,
    )
    store.execute(
        "INSERT INTO _api_keys (key_id, kind, source, token_hash, prefix, created_at, "
        "revoked_at, origins) VALUES (?, ?, ?, ?, ?, ?, NULL, ?)",
        [key.key_id, kind, source, hash_token(token), key.prefix, key.created_at,
         json.dumps(list(allowed)) if allowed else None],
    )  # fmt: skip
    return key, token


def list_keys(store: Store) -> list[ApiKey]:
    """Every key, active and revoked, oldest first."""
    cur = store.execute(
        "SELECT key_id, kind, source, prefix, created_at, revoked_at, origins FROM _api_keys "
        "ORDER BY created_at, key_id"
    )
    return [_api_key(row) for row in cur.fetchall()]


def revoke_key(store: Store, key_id: str) -> ApiKey:
    """Revoke a key by id (or by its prefix); revoking twice is harmless."""
    rows = store.execute(
        "SELECT key_id, kind, source, prefix, created_at, revoked_at, origins FROM _api_keys "
        "WHERE key_id = ? OR prefix = ?",
        [key_id, key_id],
    ).fetchall()
    if len(rows) != 1:
        what = "no key" if not rows else "more than one key"
        raise ApiKeyError(f"{what} matches {key_id!r}; see the ids with 'northstar keys list'")
    key = _api_key(rows[0])
    if key.revoked_at is not None:
        return key
    now = clock.now()
    store.execute("UPDATE _api_keys SET revoked_at = ? WHERE key_id = ?", [now, key.key_id])
    return ApiKey(key.key_id, key.kind, key.source, key.prefix, key.created_at, now,
                  key.origins)  # fmt: skip


def active_grants(store: Store) -> dict[str, KeyGrant]:
    """token hash → grant, for every key not revoked (what the server checks against)."""
    cur = store.execute(
        "SELECT token_hash, key_id, kind, source, origins FROM _api_keys WHERE revoked_at IS NULL"
    )
    return {
        h: KeyGrant(key_id, kind, source, _origins(origins))
        for h, key_id, kind, source, origins in cur.fetchall()
    }


def header_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization`` header (Basic: the user name, or the password
    when the user name is empty; Bearer: the token)."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "bearer":
        return value or None
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, _, password = decoded.partition(":")
        return user or password or None
    return None
