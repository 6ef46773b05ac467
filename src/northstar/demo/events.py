"""Events inside sessions: what each one is, who sends it and when.

Before sign-up a visitor browses under an anonymous id; in the sign-up session the
SDK sends ``$identify`` (distinct_id = the user id, ``$anon_distinct_id`` = the
anonymous id), then ``signed_up``; afterwards events carry the user id. A few users
also use a second device whose id they later link with ``$create_alias``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from northstar.demo.acquisition import BROWSERS, OS_NAMES
from northstar.demo.activity import APP, PRE_SIGNUP_VISIT, SIGNUP, VISIT, Activity
from northstar.demo.arrays import IntArray, expand, segment_cumsum
from northstar.demo.features import CORE_FEATURE, EXPORT_FORMATS, FEATURES, NEVER, Adoption
from northstar.demo.timeline import US_PER_SECOND, Timeline

PAGEVIEW, PAGELEAVE, IDENTIFY, ALIAS, SIGNED_UP, ACTIVATED, FLAG_CALLED, JOINED = range(8)
EVENT_NAMES: tuple[str, ...] = (
    "$pageview",
    "$pageleave",
    "$identify",
    "$create_alias",
    "signed_up",
    "project_created",  # the activation event
    "$feature_flag_called",
    "community_joined",
    *(f.event for f in FEATURES),
)
FIRST_FEATURE = 8
REPORT_EXPORTED = FIRST_FEATURE + [f.event for f in FEATURES].index("report_exported")

SITE, APP_SITE = "https://northstar-demo.io", "https://app.northstar-demo.io"
MARKETING_PAGES = ("/", "/pricing", "/features", "/blog/kpis-for-product-managers", "/customers")
APP_PAGES = ("/dashboards", "/reports", "/goals", "/alerts", "/projects", "/settings")
URLS: tuple[str, ...] = (
    *(SITE + p for p in MARKETING_PAGES),
    SITE + "/signup",
    *(APP_SITE + p for p in APP_PAGES),
)
SIGNUP_URL = len(MARKETING_PAGES)
NO_URL = len(URLS)
_MARKETING_SHARE = np.array([0.3, 0.22, 0.2, 0.18, 0.1])
_APP_SHARE = np.array([0.34, 0.24, 0.14, 0.1, 0.12, 0.06])
ALIAS_SHARE = 0.03  # users who also use a second device, linked with $create_alias


@dataclass(frozen=True)
class EventLog:
    """Events as integer codes, sorted by time; ``event_table`` turns them into arrow."""

    etype: IntArray  # index into EVENT_NAMES
    ts: IntArray  # microseconds since the epoch
    actor: IntArray  # index into the distinct ids: users, their anonymous ids, visitors, aliases
    code: IntArray  # packed (event, os, browser, url, extra): see pack_properties
    session: IntArray  # session index; -1 when the client sent no session id
    alias_user: IntArray  # per second device (alias), its user
    signup_us: IntArray  # per user: time of the signed_up event
    n_users: int
    n_visitors: int
    n_sessions: int


def _first_session_from(
    act: Activity, users: IntArray, days: IntArray, timeline: Timeline
) -> IntArray:
    """Each user's first in-app session on or after a day; -1 if there is none."""
    ses = act.sessions
    cand = np.flatnonzero(ses.kind <= SIGNUP)
    width = timeline.days + 1
    keys = ses.user[cand] * width + ses.day[cand]
    order = np.lexsort((ses.start_us[cand], keys))
    cand, keys = cand[order], keys[order]
    at = np.searchsorted(keys, users * width + np.minimum(days, timeline.days), side="left")
    found = at < len(keys)
    at = np.minimum(at, len(keys) - 1)
    found &= keys[at] // width == users
    out: IntArray = np.where(found, cand[at], -1)
    return out


def simulate_events(
    act: Activity,
    adoption: Adoption,
    variant: IntArray,
    timeline: Timeline,
    rng: np.random.Generator,
) -> EventLog:
    """Expand sessions into events, plant the identity events, and sort by time."""
    ses = act.sessions
    n_users = len(variant)
    n_visitors = int(ses.visitor.max(initial=-1)) + 1
    n = ses.n_events
    sess, pos = expand(n)
    first = np.cumsum(n) - n
    kind, user, day = ses.kind[sess], ses.user[sess], ses.day[sess]
    in_app = kind <= SIGNUP
    last = pos == n[sess] - 1

    etype = np.full(len(sess), PAGEVIEW, dtype=np.int64)
    leave = last & (pos > 0) & (rng.random(len(sess)) < 0.7)
    etype[leave] = PAGELEAVE
    slots = np.flatnonzero(in_app & (pos > 0) & ~leave & (rng.random(len(sess)) >= 0.35))
    weights = np.array([f.weight for f in FEATURES])
    wanted = rng.choice(len(FEATURES), size=len(slots), p=weights / weights.sum())
    # A feature the user has not adopted yet is not used: they look at a dashboard instead.
    adopted = adoption.feature_day[user[slots], wanted] <= day[slots]
    etype[slots] = FIRST_FEATURE + np.where(adopted, wanted, CORE_FEATURE)

    url = np.full(len(sess), NO_URL, dtype=np.int64)
    pages = np.flatnonzero(etype <= PAGELEAVE)
    app_page = SIGNUP_URL + 1 + rng.choice(len(APP_PAGES), size=len(pages), p=_APP_SHARE)
    site_page = rng.choice(len(MARKETING_PAGES), size=len(pages), p=_MARKETING_SHARE)
    url[pages] = np.where(in_app[pages], app_page, site_page)
    extra = np.zeros(len(sess), dtype=np.int64)
    exports = np.flatnonzero(etype == REPORT_EXPORTED)
    extra[exports] = rng.choice(len(EXPORT_FORMATS), size=len(exports), p=[0.5, 0.35, 0.15])

    # Who sends each event: users, their anonymous ids, visitors, then second devices.
    actor = np.where(kind == VISIT, 2 * n_users + ses.visitor[sess], user)
    actor[kind == PRE_SIGNUP_VISIT] += n_users

    # The sign-up session: two anonymous page views, identify, sign-up, experiment, activation.
    su = np.flatnonzero(ses.kind == SIGNUP)
    su_user, f0 = ses.user[su], first[su]
    etype[f0], url[f0] = PAGEVIEW, rng.choice(2, size=len(su))
    etype[f0 + 1], url[f0 + 1] = PAGEVIEW, SIGNUP_URL
    actor[f0] += n_users
    actor[f0 + 1] += n_users
    for offset, kind_code in ((2, IDENTIFY), (3, SIGNED_UP)):
        etype[f0 + offset], url[f0 + offset] = kind_code, NO_URL
    enrolled = variant[su_user] > 0
    etype[f0[enrolled] + 4], url[f0[enrolled] + 4] = FLAG_CALLED, NO_URL
    extra[f0[enrolled] + 4] = variant[su_user[enrolled]] - 1

    # Same-day activation follows the sign-up; other milestones land early in the first
    # session on or after their day.
    now = adoption.activation_day[su_user] == ses.day[su]
    etype[f0[now] + 5], url[f0[now] + 5] = ACTIVATED, NO_URL
    for milestone, target, at in (
        (JOINED, adoption.community_day, 2),
        (ACTIVATED, adoption.activation_day, 1),
    ):
        later = np.flatnonzero((target[su_user] > ses.day[su]) & (target[su_user] < NEVER))
        s = _first_session_from(act, su_user[later], target[su_user[later]], timeline)
        s = s[s >= 0]
        idx = first[s] + np.minimum(at, n[s] - 1)
        etype[idx], url[idx] = milestone, NO_URL

    # Second devices: one session per aliasing user runs under another id, then links it.
    cand = rng.permutation(np.flatnonzero((ses.kind == APP) & (n >= 3)))
    _, firsts = np.unique(ses.user[cand], return_index=True)
    picked = np.sort(cand[firsts])
    picked = picked[rng.random(len(picked)) < ALIAS_SHARE]
    alias_of = np.full(len(n), -1, dtype=np.int64)
    alias_of[picked] = np.arange(len(picked))
    alias_actor = 2 * n_users + n_visitors + np.arange(len(picked))
    on_device = np.flatnonzero(alias_of[sess] >= 0)
    actor[on_device] = alias_actor[alias_of[sess[on_device]]]
    links = first[picked] + n[picked] - 1
    etype[links], url[links], actor[links] = ALIAS, NO_URL, ses.user[picked]

    gaps = rng.exponential(70.0, len(sess)) + 3.0  # seconds between events in a session
    gaps[pos == 0] = 0.0
    offset_us = (segment_cumsum(gaps, n) * US_PER_SECOND).astype(np.int64)
    ts = np.minimum(ses.start_us[sess] + offset_us, timeline.end_us - 1)
    signup_us = np.empty(n_users, dtype=np.int64)
    signup_us[su_user] = ts[f0 + 3]

    code = pack_properties(etype, ses.os[sess], ses.browser[sess], url, extra)
    session = np.where(ses.sends_session_id[sess], sess, -1)
    # The warm-up days before the data begins leave no events.
    shown = np.flatnonzero(ts >= timeline.visible_start_us)
    order = shown[np.argsort(ts[shown], kind="stable")]
    return EventLog(
        etype=etype[order],
        ts=ts[order],
        actor=actor[order],
        code=code[order],
        session=session[order],
        alias_user=ses.user[picked],
        signup_us=signup_us,
        n_users=n_users,
        n_visitors=n_visitors,
        n_sessions=len(n),
    )


_RADIX = (len(EVENT_NAMES), len(OS_NAMES), len(BROWSERS), NO_URL + 1, 4)


def pack_properties(
    etype: IntArray, os: IntArray, browser: IntArray, url: IntArray, extra: IntArray
) -> IntArray:
    """One integer per distinct combination of what an event's properties hold."""
    code = etype
    for part, radix in zip((os, browser, url, extra), _RADIX[1:], strict=True):
        code = code * radix + part
    return code


def unpack_properties(code: int) -> tuple[int, int, int, int, int]:
    """The (event, os, browser, url, extra) that ``pack_properties`` packed."""
    parts = []
    for radix in reversed(_RADIX[1:]):
        code, part = divmod(code, radix)
        parts.append(part)
    extra, url, browser, os = parts
    return code, os, browser, url, extra
