"""Read-only share links to one page (docs/reports.md#share-links).

A link is ``/share/<token>`` with ``token = <id>.<expires>.<secret>.<signature>``: a random
id and secret, the expiry as a Unix time, and an HMAC-SHA256 of the rest signed with the
key in the environment variable ``NORTHSTAR_SHARE_KEY`` (never in a file). The workspace
keeps, in ``shares.json``, only the token's SHA-256, the page it opens, who made it, when
it expires and when it was revoked. A link that is expired, revoked, tampered with
(signature or hash) or unknown opens nothing: the server answers 404 at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from northstar.errors import ShareError, ShareNotFound

SHARES_FILE = "shares.json"
KEY_ENV = "NORTHSTAR_SHARE_KEY"
_PAGE = re.compile(r"^(scorecard|goal/[A-Za-z0-9_.-]+|metric/[A-Za-z0-9_]+)$")
_DURATION = re.compile(r"^(\d{1,4})([hdw])$")
MAX_DAYS = 366


@dataclass
class Share:
    id: str
    page: str
    created_at: str
    expires_at: str
    token_sha256: str
    created_by: str = "cli"
    revoked_at: str | None = None

    def state(self, now: datetime) -> str:
        if self.revoked_at:
            return "revoked"
        return "expired" if now >= datetime.fromisoformat(self.expires_at) else "active"

    def public(self, now: datetime) -> dict[str, Any]:
        out = asdict(self)
        out.pop("token_sha256")
        out["state"] = self.state(now)
        return out


def parse_page(page: str) -> tuple[str, str | None]:
    """``scorecard`` → (scorecard, None); ``goal/ID`` → (goal, ID); ``metric/mau``."""
    text = page.strip().strip("/")
    if not _PAGE.match(text):
        raise ShareError(
            f"cannot share {page!r}: share 'scorecard', 'goal/GOAL_ID' or 'metric/METRIC' "
            "(e.g. metric/mau)"
        )
    kind, _, arg = text.partition("/")
    return kind, arg or None


def parse_duration(text: str) -> timedelta:
    """``12h``, ``7d``, ``2w`` (at most a year)."""
    found = _DURATION.match(text.strip())
    if not found:
        raise ShareError(f"--expires {text!r}: give hours, days or weeks, like 12h, 7d or 2w")
    n, unit = int(found.group(1)), found.group(2)
    span = {"h": timedelta(hours=n), "d": timedelta(days=n), "w": timedelta(weeks=n)}[unit]
    if span <= timedelta(0) or span > timedelta(days=MAX_DAYS):
        raise ShareError(f"--expires {text!r}: between 1h and {MAX_DAYS}d")
    return span


def signing_key(env: Mapping[str, str]) -> bytes:
    key = env.get(KEY_ENV, "")
    if len(key) < 16:
        raise ShareError(
            f"share links are signed with the key in the environment variable {KEY_ENV}; "
            f"set it to a long random value (e.g. export {KEY_ENV}=$(openssl rand -hex 32)) "
            "wherever you run northstar and northstar serve"
        )
    return key.encode()


def _sign(key: bytes, body: str) -> str:
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _load(folder: Path) -> list[Share]:
    path = folder / SHARES_FILE
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return [Share(**item) for item in data.get("shares", [])]


def _save(folder: Path, shares: list[Share]) -> None:
    path = folder / SHARES_FILE
    tmp = path.with_suffix(".tmp")
    doc = {"shares": [asdict(s) for s in shares]}
    tmp.write_text(json.dumps(doc, indent=2, sort_keys=True), encoding="utf-8")
    tmp.replace(path)


def create(
    folder: Path, page: str, expires: timedelta, *, now: datetime, env: Mapping[str, str],
    created_by: str = "cli",
) -> tuple[Share, str]:  # fmt: skip
    """A new link to ``page``: the stored record and the token (shown once)."""
    key = signing_key(env)
    share_id = "sh_" + secrets.token_hex(6)
    until = now + expires
    body = f"{share_id}.{int(until.timestamp())}.{secrets.token_urlsafe(24)}"
    token = f"{body}.{_sign(key, body)}"
    share = Share(share_id, page, now.isoformat(timespec="seconds"),
                  until.isoformat(timespec="seconds"), _digest(token), created_by)  # fmt: skip
    shares = _load(folder)
    shares.append(share)
    _save(folder, shares)
    return share, token


def listing(folder: Path, now: datetime) -> list[dict[str, Any]]:
    return [s.public(now) for s in _load(folder)]


def revoke(folder: Path, share_id: str, *, now: datetime) -> Share:
    shares = _load(folder)
    for share in shares:
        if share.id == share_id:
            if share.revoked_at is None:
                share.revoked_at = now.isoformat(timespec="seconds")
                _save(folder, shares)
            return share
    known = ", ".join(s.id for s in shares) or "none"
    raise ShareNotFound(f"no share link {share_id!r}; the links are: {known}")


def resolve(folder: Path, token: str, *, now: datetime, env: Mapping[str, str]) -> Share:
    """The share a token opens; ShareNotFound (404) when it is unknown, tampered with,
    expired or revoked — the same answer for all, so that a link reveals nothing."""
    gone = ShareNotFound("this share link does not exist, has expired or was revoked")
    parts = token.split(".")
    if len(parts) != 4 or not parts[1].isdigit():
        raise gone
    try:
        key = signing_key(env)
    except ShareError:
        raise gone from None
    body = ".".join(parts[:3])
    if not hmac.compare_digest(_sign(key, body), parts[3]):
        raise gone
    if now.timestamp() >= int(parts[1]):
        raise gone
    digest = _digest(token)
    for share in _load(folder):
        if share.id == parts[0] and hmac.compare_digest(share.token_sha256, digest):
            if share.state(now) != "active":
                raise gone
            return share
    raise gone
