"""Property test of the tracking API on a real server: whatever the body (random JSON,
half-right messages, bad UTF-8, gzip, oversized), the answer is never a 5xx, every
rejection has a reason, the server keeps running, and every rejected message is in the
quarantine with its reason."""

from __future__ import annotations

import gzip
import itertools
import json
from datetime import UTC
from pathlib import Path
from typing import Any

import httpx
import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import rows
from tests.server_helpers import running_server, server_workspace

ENDPOINTS = (
    "/v1/batch", "/v1/track", "/v1/identify", "/v1/page", "/v1/screen", "/v1/alias",
    "/v1/group", "/batch/", "/capture/", "/e/", "/i/v0/e/", "/batch",
)  # fmt: skip

leaf = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12),
)  # fmt: skip
json_value = st.recursive(
    leaf, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
    max_leaves=8,
)  # fmt: skip
ids = st.one_of(
    st.text(max_size=12), st.integers(), st.sampled_from(["null", "0", " "]), json_value
)
times = st.one_of(
    st.datetimes(timezones=st.none() | st.just(UTC)).map(lambda d: d.isoformat()),
    st.sampled_from(["2999-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "yesterday"]),
    json_value,
)
props = st.dictionaries(st.text(max_size=8), json_value, max_size=4) | json_value

segment_message = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["track", "identify", "page", "screen", "alias", "group"])
        | json_value,
        "userId": ids, "anonymousId": ids, "previousId": ids, "groupId": ids,
        "messageId": ids, "event": st.text(max_size=12) | json_value, "name": json_value,
        "properties": props, "traits": props, "context": props,
        "timestamp": times, "sentAt": times,
    },
)  # fmt: skip
posthog_event = st.fixed_dictionaries(
    {},
    optional={
        "event": st.text(max_size=12) | json_value, "distinct_id": ids, "uuid": ids,
        "properties": props, "timestamp": times, "$set": props,
        "offset": st.integers(-(10**15), 10**15) | json_value,
    },
)  # fmt: skip
oversized = st.integers(33_000, 40_000).map(
    lambda n: {"type": "track", "userId": "u", "event": "big", "properties": {"x": "a" * n}}
)
bodies = st.one_of(
    st.fixed_dictionaries(
        {"batch": st.lists(segment_message | oversized, max_size=5)}, optional={"sentAt": times}
    ),
    st.fixed_dictionaries(
        {"batch": st.lists(posthog_event, max_size=5)}, optional={"sent_at": times}
    ),
    segment_message,
    posthog_event,
    st.lists(posthog_event, max_size=4),
    json_value,
)


HUGE = b'{"batch": [' + b'{"type":"track"},' * 40_000 + b"{}]}"  # 680 KB


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, bytes, dict[str, str], bool]:
    """(path, body, headers, authorized)."""
    path = draw(st.sampled_from(ENDPOINTS))
    body: Any = draw(bodies)
    headers: dict[str, str] = {}
    auth = draw(st.sampled_from(["header", "header", "header", "body", "bad"]))
    if auth == "body" and isinstance(body, dict):
        body["writeKey" if path.startswith("/v1") else "api_key"] = "KEY"
    data = json.dumps(body).encode()  # (stdlib: integers past 64 bits too)
    damage = draw(st.sampled_from(["none", "none", "none", "utf8", "cut", "huge", "gzip", "raw"]))
    if damage == "utf8":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + b"\xff\xfe" + data[at:]
    elif damage == "cut":
        data = data[: draw(st.integers(0, max(0, len(data) - 1)))]
    elif damage == "huge":
        data = HUGE
    elif damage == "gzip":
        data = gzip.compress(data)
        headers["Content-Encoding"] = "gzip"
    elif damage == "raw":
        data = draw(st.binary(max_size=64))
    authorized = auth == "header" or (auth == "body" and isinstance(body, dict))
    return path, data, headers, authorized if auth != "bad" else False


def test_no_input_gets_a_5xx_and_every_rejection_is_kept_with_its_reason(tmp_path: Path) -> None:
    ws = server_workspace(tmp_path / "ws")
    _, key = ws.create_key("write", source="fuzz")
    kept = itertools.count()
    answered: list[int] = []
    with running_server(ws) as server, httpx.Client(timeout=10) as http:

        @settings(
            max_examples=120, deadline=None, derandomize=True, database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )  # fmt: skip
        @given(requests())
        def check(request: tuple[str, bytes, dict[str, str], bool]) -> None:
            path, data, headers, authorized = request
            data = data.replace(b'"KEY"', orjson.dumps(key))
            auth = (key, "") if authorized and b'"writeKey"' not in data else None
            if not authorized:
                auth = ("ns_write_not-a-key", "")
            if b'"api_key"' in data:
                auth = None
            response = http.post(server.url + path, content=data, headers=headers, auth=auth)
            answered.append(response.status_code)
            assert response.status_code < 500, response.text
            payload = response.json()
            if response.status_code == 200:
                assert payload["success"] is True
                return
            assert payload["message"], payload  # a reason, always
            for rejected in payload.get("rejected", []):
                assert isinstance(rejected["reason"], str) and rejected["reason"]
            for _ in range(payload.get("quarantined", 0)):
                next(kept)

        check()
        health = server.wait_flushed()
        assert health["status"] == "ok"
    quarantined = rows(
        ws, "SELECT count(*), count(*) FILTER (WHERE reason = '') FROM _rejected_rows"
    )
    assert quarantined == [(next(kept), 0)]
    assert {200, 400, 401}.issubset(set(answered))  # (413s are tested one by one elsewhere)
    dupes = rows(ws, "SELECT count(*) - count(DISTINCT uuid) FROM events")
    assert dupes == [(0,)]
