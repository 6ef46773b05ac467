"""The ``events`` arrow table, built chunk by chunk from the integer event log.

Properties repeat a lot (an event name, a device, a page), so each distinct JSON text
is written once and events point at it; only ``$identify`` and ``$create_alias``
carry per-user ids in their properties.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa

from northstar.demo.acquisition import BROWSERS, EXPERIMENT, OS_NAMES
from northstar.demo.arrays import IntArray
from northstar.demo.events import (
    ALIAS,
    EVENT_NAMES,
    FLAG_CALLED,
    IDENTIFY,
    NO_URL,
    REPORT_EXPORTED,
    URLS,
    EventLog,
    unpack_properties,
)
from northstar.demo.features import EXPORT_FORMATS
from northstar.demo.ids import uuid4_strings
from northstar.demo.tables import ARROW_TYPES, build_table
from northstar.store.schema import Kind

CHUNK_ROWS = 4_000_000  # keeps every string chunk far below arrow's 2 GiB offset limit


def _common_json(code: int) -> str:
    etype, os, browser, url, extra = unpack_properties(code)
    props: dict[str, str] = {}
    if url != NO_URL:
        props["$current_url"] = URLS[url]
    if etype == REPORT_EXPORTED:
        props["format"] = EXPORT_FORMATS[extra]
    if etype == FLAG_CALLED:
        props["$feature_flag"] = EXPERIMENT
        props["$feature_flag_response"] = ("control", "test")[extra]
    props["$os"] = OS_NAMES[os]
    props["$browser"] = BROWSERS[browser]
    return json.dumps(props)


def _device_json(key: str, value: str, code: int) -> str:
    _, os, browser, _, _ = unpack_properties(code)
    return json.dumps({key: value, "$os": OS_NAMES[os], "$browser": BROWSERS[browser]})


def _properties(
    log: EventLog, anon_ids: list[str], alias_ids: list[str]
) -> tuple[pa.Array, IntArray]:
    """The distinct property texts, and each event's index into them."""
    present = np.zeros(int(log.code.max(initial=0)) + 1, dtype=bool)
    present[log.code] = True
    common = np.flatnonzero(present)
    index = np.full(len(present), -1, dtype=np.int64)
    index[common] = np.arange(len(common))
    prop = index[log.code]
    texts = [_common_json(int(c)) for c in common]

    # Identify and alias events: one text each, naming the anonymous or second-device id.
    identify = np.flatnonzero(log.etype == IDENTIFY)
    prop[identify] = len(texts) + np.arange(len(identify))
    texts += [
        _device_json("$anon_distinct_id", anon_ids[u], int(c))
        for u, c in zip(log.actor[identify].tolist(), log.code[identify].tolist(), strict=True)
    ]
    alias_of_user = {u: k for k, u in enumerate(log.alias_user.tolist())}
    links = np.flatnonzero(log.etype == ALIAS)
    prop[links] = len(texts) + np.arange(len(links))
    texts += [
        _device_json("alias", alias_ids[alias_of_user[u]], int(c))
        for u, c in zip(log.actor[links].tolist(), log.code[links].tolist(), strict=True)
    ]
    return pa.array(texts, type=pa.string()), prop


def event_table(log: EventLog, user_ids: list[str], rng: np.random.Generator) -> pa.Table:
    """The ``events`` table: one row per event, sorted by time, with RNG-drawn uuids."""
    n_anon = log.n_users + log.n_visitors + len(log.alias_user)
    anon = uuid4_strings(rng, n_anon)
    anon_ids = anon.slice(0, log.n_users).to_pylist()
    alias_ids = anon.slice(log.n_users + log.n_visitors).to_pylist()
    distinct_ids = pa.concat_arrays([pa.array(user_ids, type=pa.string()), anon])
    session_ids = uuid4_strings(rng, log.n_sessions)
    texts, prop = _properties(log, anon_ids, alias_ids)
    names = pa.array(EVENT_NAMES, type=pa.string())

    columns: dict[str, list[pa.Array]] = {
        k: [] for k in ("uuid", "event", "distinct_id", "timestamp", "session_id", "properties")
    }
    for lo in range(0, max(len(log.ts), 1), CHUNK_ROWS):
        part = slice(lo, lo + CHUNK_ROWS)
        session = log.session[part]
        columns["uuid"].append(uuid4_strings(rng, len(session)))
        columns["event"].append(names.take(pa.array(log.etype[part])))
        columns["distinct_id"].append(distinct_ids.take(pa.array(log.actor[part])))
        columns["timestamp"].append(pa.array(log.ts[part], type=ARROW_TYPES[Kind.timestamp]))
        columns["session_id"].append(session_ids.take(pa.array(session, mask=session < 0)))
        columns["properties"].append(texts.take(pa.array(prop[part])))
    return build_table("events", {k: pa.chunked_array(v) for k, v in columns.items()})
