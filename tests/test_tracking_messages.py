"""Segment and PostHog messages → log records: mapping, clock skew, rejections.
Expected values are worked out by hand in the comments."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from northstar.ingest.tracking import (
    MAX_MESSAGE_BYTES,
    Batch,
    Outcome,
    batch_sent_at,
    posthog_messages,
    segment_messages,
)

RECEIVED = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
RECEIVED_US = 1772366400 * 1_000_000  # 2026-03-01T12:00:00Z in µs since the epoch


def batch(sent_at: Any = None) -> Batch:
    b = Batch(received=RECEIVED, source="web", label="test")
    batch_sent_at(b, sent_at)
    return b


def records(outcome: Outcome) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in outcome.lines]


def test_received_time_constant_is_right() -> None:
    assert int(RECEIVED.timestamp()) * 1_000_000 == RECEIVED_US


def test_clock_skew_is_corrected_with_sent_at() -> None:
    # The phone's clock is 1 h 30 min fast: it says the event happened at 13:29:50 and
    # the batch left at 13:30:00; the server received it at 12:00:00. The event really
    # happened 10 s before sending: 11:59:50.
    out = segment_messages(
        [{"type": "track", "event": "tap", "userId": "u1", "messageId": "m1",
          "timestamp": "2026-03-01T13:29:50Z"}],
        batch("2026-03-01T13:30:00Z"),
    )  # fmt: skip
    (rec,) = records(out)
    assert rec["ts"] == RECEIVED_US - 10_000_000


def test_offsets_in_timestamps_are_honoured() -> None:
    # 14:00:00+02:00 is 12:00:00Z; sent at 12:00:05Z → 5 s before receiving.
    out = segment_messages(
        [{"type": "track", "event": "tap", "userId": "u1", "timestamp": "2026-03-01T14:00:00+02:00",
          "sentAt": "2026-03-01T12:00:05Z"}],
        batch(),
    )  # fmt: skip
    assert records(out)[0]["ts"] == RECEIVED_US - 5_000_000


def test_without_sent_at_the_timestamp_is_kept_and_missing_means_now() -> None:
    out = segment_messages(
        [{"type": "track", "event": "a", "userId": "u", "timestamp": "2026-02-01T00:00:00"},
         {"type": "track", "event": "b", "userId": "u"}],
        batch(),
    )  # fmt: skip
    a, b = records(out)
    assert a["ts"] == int(datetime(2026, 2, 1, tzinfo=UTC).timestamp()) * 1_000_000
    assert b["ts"] == RECEIVED_US


def test_more_than_23_hours_ahead_is_clamped_with_a_warning() -> None:
    msgs = [
        {"type": "track", "event": "ok", "userId": "u", "messageId": "near",
         "timestamp": "2026-03-02T10:59:00Z"},  # 22 h 59 min ahead: kept
        {"type": "track", "event": "far", "userId": "u", "messageId": "far",
         "timestamp": "2026-03-02T11:01:00Z"},  # 23 h 01 min ahead: clamped to now
    ]  # fmt: skip
    out = segment_messages(msgs, batch())
    near, far = records(out)
    assert near["ts"] == RECEIVED_US + (22 * 3600 + 59 * 60) * 1_000_000
    assert far["ts"] == RECEIVED_US
    assert [w["id"] for w in out.warnings] == ["far"]
    assert "23 h" in out.warnings[0]["warning"]


def test_segment_calls_map_onto_the_data_model() -> None:
    msgs = [
        {"type": "identify", "userId": "alice", "anonymousId": "anon-1", "messageId": "i1",
         "traits": {"plan": "pro", "createdAt": "2026-01-15T08:00:00Z"}},
        {"type": "page", "anonymousId": "anon-2", "name": "Pricing", "category": "Docs",
         "properties": {"url": "https://x.io/pricing"}, "messageId": "p1"},
        {"type": "screen", "userId": "bob", "name": "Home", "messageId": "s1"},
        {"type": "alias", "previousId": "anon-3", "userId": "carol", "messageId": "a1"},
        {"type": "group", "userId": "bob", "groupId": 42, "traits": {"name": "Acme"},
         "messageId": "g1"},
        {"type": "identify", "anonymousId": "anon-4", "traits": {"theme": "dark"},
         "messageId": "i2"},
    ]  # fmt: skip
    out = segment_messages(msgs, batch())
    assert out.accepted == 6 and not out.rejected
    recs = records(out)
    identify, user, page, screen, alias, group, anon_identify = recs
    assert identify["event"] == "$identify" and identify["distinct_id"] == "alice"
    assert identify["properties"]["$anon_distinct_id"] == "anon-1"
    assert identify["properties"]["$set"] == {"plan": "pro", "createdAt": "2026-01-15T08:00:00Z"}
    assert user["k"] == "u" and user["user_id"] == "alice"
    assert user["created_at"] == int(datetime(2026, 1, 15, 8, tzinfo=UTC).timestamp()) * 10**6
    assert (page["event"], page["distinct_id"]) == ("$pageview", "anon-2")
    assert page["properties"]["$page_name"] == "Pricing"
    assert page["properties"]["$current_url"] == "https://x.io/pricing"
    assert (screen["event"], screen["properties"]["$screen_name"]) == ("$screen", "Home")
    assert (alias["event"], alias["distinct_id"]) == ("$create_alias", "carol")
    assert alias["properties"]["alias"] == "anon-3"
    assert group["event"] == "$groupidentify" and group["properties"]["$group_key"] == "42"
    # identify without a userId only records traits on the anonymous id: no merge, no user
    assert anon_identify["event"] == "$set" and anon_identify["distinct_id"] == "anon-4"
    assert all(r["properties"]["$source"] == "web" for r in recs if r["k"] == "e")
    assert [r["uuid"] for r in recs if r["k"] == "e"] == ["i1", "p1", "s1", "a1", "g1", "i2"]


def test_posthog_events_and_person_properties() -> None:
    msgs = [
        {"event": "$pageview", "distinct_id": "d1", "uuid": "u-1",
         "properties": {"$session_id": "s-9", "$lib": "posthog-python"},
         "timestamp": "2026-03-01T11:00:00Z"},
        {"event": "$set", "distinct_id": "d1", "$set": {"plan": "team"}, "uuid": "u-2"},
        {"event": "$identify", "distinct_id": "k1",
         "properties": {"$anon_distinct_id": "d1", "$set": {"email": "k@x.io"}}},
        {"event": "clicked", "properties": {"distinct_id": "d2"}, "offset": 1500},
    ]  # fmt: skip
    out = posthog_messages(msgs, batch())
    recs = records(out)
    pageview, set_event, set_user, ident, ident_user, clicked = recs
    assert pageview["session_id"] == "s-9" and pageview["uuid"] == "u-1"
    assert pageview["ts"] == RECEIVED_US - 3600 * 1_000_000
    assert set_event["properties"]["$set"] == {"plan": "team"}
    assert (set_user["user_id"], set_user["properties"]) == ("d1", {"plan": "team"})
    assert ident["properties"]["$anon_distinct_id"] == "d1"
    assert ident_user["user_id"] == "k1"
    assert clicked["distinct_id"] == "d2"
    assert clicked["ts"] == RECEIVED_US - 1_500_000  # offset: 1.5 s before sending
    assert len(clicked["uuid"]) == 36  # a uuid given by the server when the SDK sent none


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("not an object", "a message must be a JSON object, not a string"),
        ({"type": "jump", "userId": "u"}, "type 'jump' is not one of track, identify"),
        ({"type": "track", "event": "x"}, "missing userId and anonymousId"),
        ({"type": "track", "userId": "u"}, "missing event"),
        ({"type": "track", "userId": "u", "event": 7}, "event must be a string, not a number"),
        ({"type": "track", "userId": ["u"], "event": "x"}, "userId must be a string or a number"),
        ({"type": "track", "userId": "undefined", "event": "x"}, "is not a real id"),
        ({"type": "track", "userId": "u", "event": "x", "properties": []},
         "properties must be a JSON object, not an array"),
        ({"type": "track", "userId": "u", "event": "x", "timestamp": "soon"},
         "timestamp 'soon' is not an ISO 8601 date-time"),
        ({"type": "track", "userId": "u", "event": "x", "timestamp": 1700000000},
         "timestamp must be an ISO 8601 date-time string, not a number"),
        ({"type": "track", "userId": "u", "event": "x", "timestamp": "1969-12-31T23:59:59Z"},
         "timestamp is before 1970"),
        ({"type": "track", "userId": "u", "event": "x", "timestamp": "0001-01-01T00:00:00Z",
          "sentAt": "9999-12-31T23:00:00Z"}, "timestamp is before 1970"),
        ({"type": "alias", "userId": "u"}, "alias needs both userId and previousId"),
        ({"type": "group", "userId": "u"}, "missing groupId"),
        ({"type": "track", "userId": "u", "event": "x", "context": "web"},
         "context must be a JSON object"),
        ({"type": "track", "userId": "u", "event": "x", "properties": {"p": "a" * MAX_MESSAGE_BYTES}},
         "the limit is 32 KB"),
    ],
)  # fmt: skip
def test_bad_messages_are_rejected_with_a_reason_and_kept(message: Any, reason: str) -> None:
    good = {"type": "track", "event": "fine", "userId": "u", "messageId": "ok"}
    out = segment_messages([good, message], batch())
    assert out.accepted == 1
    (rejected,) = out.rejected
    assert rejected["index"] == 1 and reason in rejected["reason"]
    event, kept = records(out)
    assert event["uuid"] == "ok"
    assert kept["k"] == "r" and kept["line"] == 2 and reason in kept["reason"]
    assert kept["raw"]  # the message as sent, for the quarantine


def test_a_wildly_wrong_clock_is_corrected_or_clamped() -> None:
    # Year 9999 on a device whose sentAt is year 1: ~10,000 years ahead → clamped to now.
    out = segment_messages(
        [{"type": "track", "userId": "u", "event": "x", "timestamp": "9999-12-31T23:00:00Z",
          "sentAt": "0001-01-01T00:00:00Z", "messageId": "w"}],
        batch(),
    )  # fmt: skip
    assert records(out)[0]["ts"] == RECEIVED_US and len(out.warnings) == 1
    # A device that believes it is 1970: sentAt says so too, so the skew is undone.
    out = segment_messages(
        [{"type": "track", "userId": "u", "event": "x", "timestamp": "1970-01-01T00:00:00Z"}],
        batch("1970-01-01T00:00:30Z"),
    )  # fmt: skip
    assert records(out)[0]["ts"] == RECEIVED_US - 30_000_000


def test_a_bad_batch_sent_at_rejects_the_messages_that_need_it() -> None:
    out = segment_messages(
        [{"type": "track", "event": "x", "userId": "u", "timestamp": "2026-03-01T11:00:00Z"},
         {"type": "track", "event": "y", "userId": "u"}],
        batch("last tuesday"),
    )  # fmt: skip
    assert out.accepted == 1
    assert "sentAt 'last tuesday' is not an ISO 8601 date-time" in out.rejected[0]["reason"]
