"""API keys: write keys that only send data (one per source), read and admin keys apart.

A key is a high-entropy random token shown once, at creation; the store keeps only its
SHA-256, a short prefix to recognise it in listings, its kind and its source. A revoked
key stays listed (with the time it was revoked) so that its prefix still explains
itself in logs.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

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

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class KeyGrant:
    """What a presented token is allowed to do, as the server sees it."""

    key_id: str
    kind: str
    source: str | None


def hash_token(token: str) -> str:
    """The stored form of a token. A plain SHA-256 is enough: tokens carry 192 random
    bits, so there is nothing to brute-force that a slow hash would protect."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_key(store: Store, kind: str, source: str | None = None) -> tuple[ApiKey, str]:
    """Create a key; returns it and its token (the only time the token is available)."""
    if kind not in KINDS:
        raise ApiKeyError(f"unknown key kind {kind!r}; use one of {', '.join(KINDS)}")
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
    )
    store.execute(
        "INSERT INTO _api_keys VALUES (?, ?, ?, ?, ?, ?, NULL)",
        [key.key_id, kind, source, hash_token(token), key.prefix, key.created_at],
    )
    return key, token


def list_keys(store: Store) -> list[ApiKey]:
    """Every key, active and revoked, oldest first."""
    cur = store.execute(
        "SELECT key_id, kind, source, prefix, created_at, revoked_at FROM _api_keys "
        "ORDER BY created_at, key_id"
    )
    return [ApiKey(*row) for row in cur.fetchall()]


def revoke_key(store: Store, key_id: str) -> ApiKey:
    """Revoke a key by id (or by its prefix); revoking twice is harmless."""
    rows = store.execute(
        "SELECT key_id, kind, source, prefix, created_at, revoked_at FROM _api_keys "
        "WHERE key_id = ? OR prefix = ?",
        [key_id, key_id],
    ).fetchall()
    if len(rows) != 1:
        what = "no key" if not rows else "more than one key"
        raise ApiKeyError(f"{what} matches {key_id!r}; see the ids with 'northstar keys list'")
    key = ApiKey(*rows[0])
    if key.revoked_at is not None:
        return key
    now = clock.now()
    store.execute("UPDATE _api_keys SET revoked_at = ? WHERE key_id = ?", [now, key.key_id])
    return ApiKey(key.key_id, key.kind, key.source, key.prefix, key.created_at, now)


def active_grants(store: Store) -> dict[str, KeyGrant]:
    """token hash → grant, for every key not revoked (what the server checks against)."""
    cur = store.execute(
        "SELECT token_hash, key_id, kind, source FROM _api_keys WHERE revoked_at IS NULL"
    )
    return {h: KeyGrant(key_id, kind, source) for h, key_id, kind, source in cur.fetchall()}
