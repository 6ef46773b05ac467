"""Tracking messages (Segment's spec, PostHog's capture) → records of the ingestion log.

This runs in the server's request path for every message, so it is plain Python on
the dicts ``orjson`` parsed, with no per-message allocation beyond the record it
writes. Each message becomes one log line per row it produces (an event, and for
``identify`` a user row too) or, when it is wrong, one quarantine line with the reason.
The reasons are also what the HTTP response reports, message by message.

Mapping onto the data model (see docs/ingestion-server.md):

* Segment ``track`` → event ``event``; ``page`` → ``$pageview``; ``screen`` →
  ``$screen``; ``identify`` → ``$identify`` (with ``$anon_distinct_id`` when it carries
  both ids, which merges them) plus the traits as user properties; ``alias`` →
  ``$create_alias``; ``group`` → ``$groupidentify``.
* PostHog events keep their names; ``$set`` properties of ``$identify``/``$set`` events
  become user properties.
* Clock skew: with ``sentAt`` the stored time is the server's receive time plus
  (timestamp − sentAt); a time more than 23 h ahead of the server is clamped to it.
"""

from __future__ import annotations

import re
import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from northstar.ingest.validate import ILLEGAL_IDS

MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_ID_CHARS = 200
MAX_NAME_CHARS = 200
MAX_FUTURE = timedelta(hours=23)
_MAX_FUTURE_US = 23 * 3600 * 1_000_000
_LONGEST_PLACEHOLDER = max(len(i) for i in ILLEGAL_IDS)
_NEWLINE = orjson.OPT_APPEND_NEWLINE

SEGMENT_TYPES = ("track", "identify", "page", "screen", "alias", "group")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PLACEHOLDERS = frozenset(ILLEGAL_IDS)
_USER_EVENTS = frozenset(("$identify", "$set"))


class _Reject(Exception):
    """A message that cannot be stored; ``args[0]`` is the reason shown to the sender."""


def _us(stamp: datetime) -> int:
    """Microseconds since the epoch (exact for any date-time before the year 2255)."""
    return round(stamp.timestamp() * 1_000_000)


@dataclass
class Outcome:
    """What a request's messages became."""

    lines: list[bytes] = field(default_factory=list)  # log records, newline-terminated
    accepted: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)  # index, id, reason
    warnings: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Batch:
    """Request-wide facts every message of a request shares."""

    received: datetime
    source: str
    label: str  # where a rejected message came from, as the quarantine shows it
    sent_at: datetime | None = None
    sent_at_problem: str | None = None
    context: dict[str, Any] | None = None  # Segment batch-level context
    received_us: int = 0
    shift_us: int | None = None  # receive time − sentAt: the sender's clock error

    def __post_init__(self) -> None:
        self.received_us = _us(self.received)


def _kind(value: Any) -> str:
    return {
        dict: "an object", list: "an array", str: "a string", bool: "a boolean",
        int: "a number", float: "a number", type(None): "null",
    }.get(type(value), type(value).__name__)  # fmt: skip


def parse_time(value: Any, name: str) -> datetime | None:
    """An ISO 8601 date-time (UTC when it has no offset); None when absent."""
    if value is None:
        return None
    if type(value) is not str:
        raise _Reject(f"{name} must be an ISO 8601 date-time string, not {_kind(value)}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _Reject(f"{name} {value[:60]!r} is not an ISO 8601 date-time") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def batch_sent_at(batch: Batch, value: Any) -> None:
    """Record a request-level ``sentAt``; a bad one becomes every message's reason."""
    try:
        batch.sent_at = parse_time(value, "sentAt")
    except _Reject as exc:
        batch.sent_at_problem = str(exc)
        return
    if batch.sent_at is not None:
        batch.shift_us = batch.received_us - _us(batch.sent_at)


def _id(value: Any, name: str) -> str | None:
    """An id as text: strings and numbers are ids; empty means absent."""
    if type(value) is str:
        text = value.strip()
    elif value is None:
        return None
    elif type(value) is int or type(value) is float:
        text = str(value)
    else:
        raise _Reject(f"{name} must be a string or a number, not {_kind(value)}")
    if len(text) > MAX_ID_CHARS:
        raise _Reject(f"{name} is longer than {MAX_ID_CHARS} characters")
    return text or None


def _person_id(value: Any, name: str) -> str | None:
    """An id that names a person: SDK placeholders (``null``, ``undefined``...) are refused
    rather than merging strangers."""
    text = _id(value, name)
    if text is not None and len(text) <= _LONGEST_PLACEHOLDER and text.lower() in _PLACEHOLDERS:
        raise _Reject(f"{name} {text!r} is not a real id (an SDK placeholder); send the real id")
    return text


def _object(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if type(value) is not dict:
        raise _Reject(f"{name} must be a JSON object, not {_kind(value)}")
    return value


def _name(value: Any, name: str, *, required: bool) -> str | None:
    if value is None or value == "":
        if required:
            raise _Reject(f"missing {name}")
        return None
    if type(value) is not str:
        raise _Reject(f"{name} must be a string, not {_kind(value)}")
    text = value.strip()
    if not text and required:
        raise _Reject(f"missing {name}")
    if len(text) > MAX_NAME_CHARS:
        raise _Reject(f"{name} is longer than {MAX_NAME_CHARS} characters")
    return text or None


def _event_time(msg: dict[str, Any], batch: Batch, outcome: Outcome, index: int, key: str) -> int:
    """Microseconds since the epoch, corrected for the sender's clock."""
    received = batch.received_us
    raw = msg.get("timestamp")
    if raw is None:
        raw = msg.get("originalTimestamp")
    if raw is None:
        ts = received
        offset = msg.get("offset")  # PostHog: milliseconds before sending
        if offset is not None:
            if type(offset) is not int and type(offset) is not float:
                raise _Reject(f"offset must be a number of milliseconds, not {_kind(offset)}")
            ts = received - round(offset * 1000)
    else:
        stamp = parse_time(raw, "timestamp")
        assert stamp is not None
        ts = _us(stamp)
        own = msg.get("sentAt", msg.get("sent_at"))
        if own is not None:
            sent = parse_time(own, "sentAt")
            assert sent is not None
            ts += received - _us(sent)
        elif batch.shift_us is not None:
            ts += batch.shift_us
        elif batch.sent_at_problem:
            raise _Reject(batch.sent_at_problem)
    if ts - received > _MAX_FUTURE_US:
        shown = _EPOCH + timedelta(microseconds=min(ts, 253402300799000000))
        outcome.warnings.append(
            {"index": index, "id": key, "warning": f"timestamp {shown.isoformat()} is more "
             "than 23 h ahead of the server; stored with the server's time"}
        )  # fmt: skip
        ts = received
    if ts < 0:
        raise _Reject(
            "timestamp is before 1970 even after clock-skew correction (a device clock that "
            "was never set?); send the real time or leave timestamp out"
        )
    return ts


def _session(props: dict[str, Any], context: dict[str, Any] | None) -> str | None:
    value = props.get("$session_id")
    if value is None and context:
        value = context.get("sessionId")
    if type(value) is str:
        return value[:MAX_ID_CHARS] or None
    if type(value) is int:
        return str(value)
    return None


def _created_at(traits: dict[str, Any]) -> int | None:
    """A sign-up time from the reserved ``createdAt`` trait, when it is a date-time."""
    value = traits.get("createdAt", traits.get("created_at"))
    if type(value) is not str:
        return None
    try:
        stamp = parse_time(value, "createdAt")
        return None if stamp is None else _us(stamp)
    except (_Reject, OverflowError, ValueError):
        return None


def _dump(record: dict[str, Any]) -> bytes:
    try:
        line = orjson.dumps(record, option=_NEWLINE)
    except TypeError as exc:  # orjson's JSONEncodeError: too deep, or not JSON at all
        raise _Reject(f"a value cannot be stored as JSON: {exc}") from None
    if len(line) > MAX_MESSAGE_BYTES:
        raise _too_big(len(line))
    return line


def _too_big(size: int) -> _Reject:
    return _Reject(
        f"message is {size:,} bytes; the limit is {MAX_MESSAGE_BYTES // 1024} KB "
        f"({MAX_MESSAGE_BYTES:,} bytes) per message"
    )


def _event(
    key: str, name: str, distinct: str, ts: int, props: dict[str, Any], session: str | None
) -> bytes:
    record = {"k": "e", "uuid": key, "event": name, "distinct_id": distinct, "ts": ts,
              "session_id": session, "properties": props}  # fmt: skip
    try:
        line = orjson.dumps(record, option=_NEWLINE)
    except TypeError as exc:
        raise _Reject(f"a value cannot be stored as JSON: {exc}") from None
    if len(line) > MAX_MESSAGE_BYTES:
        raise _too_big(len(line))
    return line


def _user(user_id: str, ts: int, traits: dict[str, Any]) -> bytes:
    return _dump({"k": "u", "user_id": user_id, "ts": ts, "created_at": _created_at(traits),
                  "properties": traits})  # fmt: skip


def _message_id(value: Any, name: str) -> str:
    text = _id(value, name)
    # A message without an id gets one here, once: retries of it cannot be recognised.
    return text if text is not None else str(uuidlib.uuid4())


# -- Segment ----------------------------------------------------------------------


def _segment(
    msg: dict[str, Any], kind: str, batch: Batch, outcome: Outcome, index: int
) -> list[bytes]:
    key = _message_id(msg.get("messageId"), "messageId")
    context = msg.get("context", batch.context)
    if context is not None and type(context) is not dict:
        raise _Reject(f"context must be a JSON object, not {_kind(context)}")
    user = _person_id(msg.get("userId"), "userId")
    if kind == "alias":
        previous = _person_id(msg.get("previousId"), "previousId")
        if user is None or previous is None:
            raise _Reject("alias needs both userId and previousId")
        ts = _event_time(msg, batch, outcome, index, key)
        links: dict[str, Any] = {"alias": previous, "$source": batch.source}
        if context:
            links["$context"] = context
        return [_event(key, "$create_alias", user, ts, links, None)]
    anon = _person_id(msg.get("anonymousId"), "anonymousId")
    distinct = user or anon
    if distinct is None:
        raise _Reject("missing userId and anonymousId (one of them is required)")
    props: dict[str, Any]
    traits: dict[str, Any] = {}
    if kind == "track":
        name = _name(msg.get("event"), "event", required=True)
        props = _object(msg.get("properties"), "properties")
    elif kind == "page" or kind == "screen":
        props = _object(msg.get("properties"), "properties")
        page = _name(msg.get("name"), "name", required=False)
        if kind == "page":
            name = "$pageview"
            if page:
                props["$page_name"] = page
            category = _name(msg.get("category"), "category", required=False)
            if category:
                props["$page_category"] = category
            if type(props.get("url")) is str:
                props["$current_url"] = props["url"]
        else:
            name = "$screen"
            if page:
                props["$screen_name"] = page
    elif kind == "identify":
        traits = _object(msg.get("traits"), "traits")
        name = "$identify" if user else "$set"
        props = {"$set": traits}
        if user and anon and anon != user:
            props["$anon_distinct_id"] = anon
    else:  # group
        group = _id(msg.get("groupId"), "groupId")
        if group is None:
            raise _Reject("missing groupId")
        traits = _object(msg.get("traits"), "traits")
        name = "$groupidentify"
        group_type = msg.get("groupType")
        props = {"$group_type": group_type if type(group_type) is str else "group",
                 "$group_key": group, "$group_set": traits}  # fmt: skip
    ts = _event_time(msg, batch, outcome, index, key)
    props["$source"] = batch.source
    if context:
        props["$context"] = context
        _page_context(props, context)
    _mark_bot(props)
    assert name is not None
    lines = [_event(key, name, distinct, ts, props, _session(props, context))]
    if kind == "identify" and user:
        lines.append(_user(user, ts, traits))
    return lines


def segment_messages(messages: list[Any], batch: Batch, *, kind: str | None = None) -> Outcome:
    """Segment messages: from ``/v1/batch`` (each names its ``type``) or from
    ``/v1/<kind>`` (one message of that kind)."""
    outcome = Outcome()
    for index, msg in enumerate(messages):
        try:
            if type(msg) is not dict:
                raise _Reject(f"a message must be a JSON object, not {_kind(msg)}")
            mtype = kind or msg.get("type")
            if mtype not in SEGMENT_TYPES:
                shown = repr(mtype) if type(mtype) is str else _kind(mtype)
                raise _Reject(f"type {shown} is not one of {', '.join(SEGMENT_TYPES)}")
            lines = _segment(msg, mtype, batch, outcome, index)
        except _Reject as exc:
            reject(outcome, batch, index, msg, str(exc), "messageId")
            continue
        outcome.lines.extend(lines)
        outcome.accepted += 1
    return outcome


# -- PostHog ----------------------------------------------------------------------


def _posthog(msg: dict[str, Any], batch: Batch, outcome: Outcome, index: int) -> list[bytes]:
    key = _message_id(msg.get("uuid"), "uuid")
    name = _name(msg.get("event"), "event", required=True)
    assert name is not None
    props = _object(msg.get("properties"), "properties")
    props.pop("token", None)  # the project key (posthog-js sends it in every event)
    distinct = _person_id(
        msg.get("distinct_id", msg.get("$distinct_id", props.get("distinct_id"))), "distinct_id"
    )
    if distinct is None:
        raise _Reject("missing distinct_id")
    for op in ("$set", "$set_once"):
        if op in msg:
            props[op] = _object(msg[op], op)
    ts = _event_time(msg, batch, outcome, index, key)
    props["$source"] = batch.source
    _mark_bot(props)
    lines = [_event(key, name, distinct, ts, props, _session(props, None))]
    traits = props.get("$set")
    if name in _USER_EVENTS and type(traits) is dict and traits:
        lines.append(_user(distinct, ts, traits))
    return lines


# Segment's context → the property names PostHog's SDKs use, so that breakdowns and
# filters read the page context the same way whichever SDK sent it.
_CONTEXT_FIELDS = (
    ("page", "url", "$current_url"), ("page", "path", "$pathname"),
    ("page", "referrer", "$referrer"), ("page", "title", "$title"),
    ("library", "name", "$lib"), ("library", "version", "$lib_version"),
    ("screen", "width", "$screen_width"), ("screen", "height", "$screen_height"),
)  # fmt: skip
_BOT = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|headless|lighthouse|pingdom|uptime|monitor|preview|"
    r"python-requests|curl/|wget/|httpclient|go-http-client|phantomjs|facebookexternalhit",
    re.IGNORECASE,
)


def _page_context(props: dict[str, Any], context: dict[str, Any]) -> None:
    for part, item, name in _CONTEXT_FIELDS:
        section = context.get(part)
        if type(section) is dict and section.get(item) not in (None, "") and name not in props:
            props[name] = section[item]
    agent = context.get("userAgent")
    if type(agent) is str and "$raw_user_agent" not in props:
        props["$raw_user_agent"] = agent


def _mark_bot(props: dict[str, Any]) -> None:
    """A bot's or a script's user agent is kept but marked ``$bot: true`` (leave it out
    with ``--where "$bot is null"``)."""
    agent = props.get("$raw_user_agent")
    if type(agent) is str and _BOT.search(agent):
        props["$bot"] = True


def posthog_messages(messages: list[Any], batch: Batch) -> Outcome:
    """PostHog capture events (``/batch``, ``/capture``, ``/e``, ``/i/v0/e``)."""
    outcome = Outcome()
    for index, msg in enumerate(messages):
        try:
            if type(msg) is not dict:
                raise _Reject(f"an event must be a JSON object, not {_kind(msg)}")
            lines = _posthog(msg, batch, outcome, index)
        except _Reject as exc:
            reject(outcome, batch, index, msg, str(exc), "uuid")
            continue
        outcome.lines.extend(lines)
        outcome.accepted += 1
    return outcome


# -- quarantine -------------------------------------------------------------------


def raw_text(value: Any) -> str:
    """A message as text for the quarantine, whatever it holds."""
    try:
        data = orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        try:
            data = repr(value).encode("utf-8", "backslashreplace")
        except RecursionError:  # nested too deep even for repr
            data = f"[{type(value).__name__} nested too deep to show]".encode()
    return clip(data)


def clip(data: bytes) -> str:
    """Bytes as text for the quarantine, cut at the per-message limit."""
    text = data[:MAX_MESSAGE_BYTES].decode("utf-8", "backslashreplace")
    if len(data) > MAX_MESSAGE_BYTES:
        text += f"… [cut: {len(data):,} bytes in all]"
    return text


def reject(
    outcome: Outcome, batch: Batch, index: int | None, msg: Any, reason: str, id_field: str
) -> None:
    """Report a message as rejected and keep it in the quarantine log."""
    key = msg.get(id_field) if type(msg) is dict else None
    outcome.rejected.append(
        {"index": index, "id": key if type(key) in (str, int) else None, "reason": reason}
    )
    outcome.lines.append(rejected_line(batch, index, raw_text(msg), reason))


def rejected_line(batch: Batch, index: int | None, raw: str, reason: str) -> bytes:
    """A quarantine record (also used for a whole request that cannot be read)."""
    return orjson.dumps(
        {"k": "r", "file": batch.label, "line": None if index is None else index + 1,
         "raw": raw, "reason": reason, "ts": batch.received_us},
        option=orjson.OPT_APPEND_NEWLINE,
    )  # fmt: skip
