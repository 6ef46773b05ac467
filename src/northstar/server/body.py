"""Reading a request body within the documented limits (size, gzip, JSON, UTF-8)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request

from northstar.ingest.tracking import MAX_BATCH_BYTES

# Past this much, the rest of an oversized body is not even read (the connection closes).
_DRAIN_LIMIT = 8 * MAX_BATCH_BYTES
_LIMIT_TEXT = f"{MAX_BATCH_BYTES // 1024} KB"


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
    async for chunk in request.stream():
        size += len(chunk)
        if size <= MAX_BATCH_BYTES:
            chunks.append(chunk)
        elif size > _DRAIN_LIMIT:
            break
    data = b"".join(chunks)
    if size > MAX_BATCH_BYTES:
        shown = f"more than {_DRAIN_LIMIT:,}" if size > _DRAIN_LIMIT else f"{size:,}"
        raise BodyProblem(
            413,
            f"request body is {shown} bytes; the limit is {_LIMIT_TEXT} "
            f"({MAX_BATCH_BYTES:,} bytes) per request: send smaller batches",
            data,
        )
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding == "gzip" or data[:2] == b"\x1f\x8b":
        data = _gunzip(data)
    elif encoding not in ("", "identity"):
        raise BodyProblem(415, f"Content-Encoding {encoding!r} is not supported; use gzip", data)
    if not data.strip():
        raise BodyProblem(400, "empty body; send a JSON object", data)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        what = "not valid UTF-8" if "UTF-8" in str(exc) else "not valid JSON"
        raise BodyProblem(400, f"body is {what}: {exc}", data) from None


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
