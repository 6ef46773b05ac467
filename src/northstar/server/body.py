"""Reading a request body within the documented limits (size, gzip, JSON, UTF-8)."""

from __future__ import annotations

import base64
import binascii
import json
import urllib.parse
import zlib
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request

from northstar.ingest.tracking import MAX_BATCH_BYTES

# Past this much, the rest of an oversized body is not even read (the connection closes).
_DRAIN_LIMIT = 8 * MAX_BATCH_BYTES
_LIMIT_TEXT = f"{MAX_BATCH_BYTES // 1024} KB"
# Deeper than this, a body is refused: no event needs it, and storing it would fail.
MAX_DEPTH = 64
# An integer too large for 64 bits comes out of orjson as a float of at least 2**63: such a
# body is parsed again so that big integers stay exact (as their text), never rounded.
_BIG = 2.0**63
_INT_RANGE = (-(2**63), 2**64)


class ClientGone(Exception):
    """The client closed the connection before its body arrived (nothing to answer)."""

    def __init__(self, received: int) -> None:
        super().__init__(f"client disconnected after {received:,} bytes of its body")
        self.received = received


@dataclass
class BodyProblem(Exception):
    """A body that cannot be used at all: status, reason and what was read of it."""

    status: int
    reason: str
    raw: bytes


async def read_json(request: Request) -> Any:
    """The parsed JSON body; :class:`BodyProblem` when it is too big, not gzip as it
    claims, not UTF-8 or not JSON."""
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size <= MAX_BATCH_BYTES:
                chunks.append(chunk)
            elif size > _DRAIN_LIMIT:
                break
    except ClientDisconnect:
        raise ClientGone(size) from None
    data = b"".join(chunks)
    if size > MAX_BATCH_BYTES:
        shown = f"more than {_DRAIN_LIMIT:,}" if size > _DRAIN_LIMIT else f"{size:,}"
        raise BodyProblem(
            413,
            f"request body is {shown} bytes; the limit is {_LIMIT_TEXT} "
            f"({MAX_BATCH_BYTES:,} bytes) per request: send smaller batches",
            data,
        )
    if _is_base64(request, data):  # posthog-js beacons: data=<base64> (form) or raw base64
        data = _unbase64(data)
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding == "gzip" or data[:2] == b"\x1f\x8b":
        data = _gunzip(data)
    elif encoding not in ("", "identity"):
        raise BodyProblem(415, f"Content-Encoding {encoding!r} is not supported; use gzip", data)
    if not data.strip():
        raise BodyProblem(400, "empty body; send a JSON object", data)
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        what = "not valid UTF-8" if "UTF-8" in str(exc) else "not valid JSON"
        if "recursion" in str(exc).lower():
            raise BodyProblem(400, _too_deep(), data) from None
        raise BodyProblem(400, f"body is {what}: {exc}", data) from None
    deepest, big = inspect(value)
    if deepest > MAX_DEPTH:
        raise BodyProblem(400, _too_deep(), data)
    if big:  # orjson read an integer past 64 bits as a float: read it again, exactly
        value = json.loads(data, parse_int=_exact_int)
    return value


def _is_base64(request: Request, data: bytes) -> bool:
    if request.query_params.get("compression") == "base64":
        return True
    ctype = request.headers.get("content-type", "").lower()
    return "application/x-www-form-urlencoded" in ctype and data[:5] == b"data="


def _unbase64(data: bytes) -> bytes:
    """The payload of ``data=<base64>`` (URL-encoded) or of a raw base64 body."""
    text = data
    if data[:5] == b"data=":
        form = urllib.parse.parse_qs(data.decode("ascii", "replace"), max_num_fields=10)
        text = form.get("data", [""])[0].encode("ascii", "replace")
    try:
        return base64.b64decode(text + b"=" * (-len(text) % 4), validate=False)
    except (binascii.Error, ValueError) as exc:
        raise BodyProblem(400, f"body is not valid base64: {exc}", data) from None


def _too_deep() -> str:
    return f"body is nested deeper than {MAX_DEPTH} levels of objects and arrays; flatten it"


def _exact_int(text: str) -> int | str:
    """An integer literal: an int when it fits 64 bits, else its exact text (never a
    float: two different 30-digit ids must not become one)."""
    number = int(text)
    return number if _INT_RANGE[0] <= number < _INT_RANGE[1] else text


def _gunzip(data: bytes) -> bytes:
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(data, MAX_BATCH_BYTES + 1)
    except zlib.error as exc:
        raise BodyProblem(400, f"body is not valid gzip: {exc}", data) from None
    if len(out) > MAX_BATCH_BYTES or inflater.unconsumed_tail:
        raise BodyProblem(
            413,
            f"gzip body inflates to more than {_LIMIT_TEXT} ({MAX_BATCH_BYTES:,} bytes), "
            "the limit per request: send smaller batches",
            out[:MAX_BATCH_BYTES],
        )
    if not inflater.eof:
        raise BodyProblem(400, "body is not valid gzip: it is cut short", data)
    return out


def inspect(value: Any) -> tuple[int, bool]:
    """How deeply objects and arrays nest in ``value`` (a scalar: 0; stops counting past
    :data:`MAX_DEPTH`), and whether it holds a float of 2**63 or more in size (what orjson
    makes of an integer literal too large for 64 bits). Level by level, no recursion."""
    level, big = 0, False
    current = [value]
    while current:
        below: list[Any] = []
        containers = False
        for item in current:
            kind = type(item)
            if kind is dict:
                containers = True
                below.extend(item.values())
            elif kind is list:
                containers = True
                below.extend(item)
            elif kind is float and not big and (item >= _BIG or item <= -_BIG):
                big = True
        if containers:
            level += 1
            if level > MAX_DEPTH:
                return level, big
        current = below
    return level, big
