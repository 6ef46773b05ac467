"""Sessions: a person's visits, cut from the event log as one Ibis expression.

A session is the SDK's session id wherever an event carries one: the ``session_id``
column, else the ``$session_id`` property (PostHog's convention). Events without one are
cut per person (after identity merging) with window functions: a gap longer than
``sessions.timeout_minutes`` since the person's previous event starts a new session (a
gap of exactly the timeout does not, as in PostHog's and Amplitude's SDKs), and a run of
activity longer than ``sessions.max_hours`` is cut every ``max_hours`` from its first
event, so that no session lasts longer than ``max_hours``.

Every event belongs to a session (passive ones too: a ``$pageleave`` extends the session's
duration, as in PostHog), but a session counts only if it holds at least one page view or
interaction; a run of bookkeeping events alone (a server-side ``$set``, a flag evaluation)
is not a visit.

- *page views*: ``$pageview`` and ``$screen`` events;
- *interactions*: active events (``events.active_events``, else every event except
  ``events.passive_events``) that are not page views: clicks (``$autocapture``), custom
  events such as ``signed_up``.

A session belongs to the period in which it starts (its first event's local day).
"""

from __future__ import annotations

from datetime import timedelta

import ibis
import ibis.expr.types as ir

from northstar.metrics.context import Context
from northstar.metrics.functions import epoch_us, json_text
from northstar.settings import Settings

PAGEVIEW_EVENTS = ("$pageview", "$screen")
SESSION_PROPERTY = "$session_id"
BOUNCE_SECONDS = 10.0  # a single-page session shorter than this is a bounce (PostHog)
SDK_MAX_HOURS = 24  # SDKs rotate their session ids after a day (posthog-js, Amplitude)

_US_PER_MINUTE = 60 * 1_000_000


def reach_hours(settings: Settings) -> int:
    """How far (hours) before and after the window events are read, so that a session
    starting in the window is seen whole and one started before it is not counted."""
    return max(settings.sessions.max_hours, SDK_MAX_HOURS)


def _active(ctx: Context, event: ir.StringValue) -> ir.BooleanValue:
    return ctx.is_active(event)  # the one "active event" rule


def _events_around(ctx: Context) -> ir.Table:
    """Events from ``reach_hours`` before the window to as long after it."""
    reach = timedelta(hours=reach_hours(ctx.settings))
    t = ctx.table("events")
    return t.filter(
        t.timestamp >= ctx.instant(ctx.window.start) - reach,
        t.timestamp < ctx.instant(ctx.window.end + timedelta(days=1)) + reach,
    )


def session_events(ctx: Context) -> ir.Table:
    """Events around the window (``uuid``, ``event``, ``person_id``, ``timestamp``,
    ``sdk_session``), each with ``skey``, the key its session is grouped by.

    An SDK session's key is its id. A derived session's key is made of the person, the
    start of their run of activity and the ``max_hours`` piece of the run; only these
    few columns go through the window functions (sorting whole rows costs more).
    """
    s = ctx.settings.sessions
    t = _events_around(ctx)
    given = ibis.coalesce(
        t.session_id.nullif(""), json_text(t.properties, SESSION_PROPERTY).nullif("")
    )
    t = t.select(
        "uuid", "event", "person_id", "timestamp", sdk_session=given, us=epoch_us(t.timestamp)
    )

    sdk = t.filter(t.sdk_session.notnull())
    sdk = sdk.mutate(skey=sdk.sdk_session)

    # uuid breaks timestamp ties, so that both windows see the events in the same order
    loose = t.filter(t.sdk_session.isnull())
    # (Instants are compared as integer microseconds: much faster than date_diff on
    # time-zone-aware timestamps.)
    order = ibis.window(group_by="person_id", order_by=["us", "uuid"])
    loose = loose.mutate(gap=loose.us - loose.us.lag().over(order))
    opens = loose.gap.isnull() | (loose.gap > s.timeout_minutes * _US_PER_MINUTE)
    loose = loose.mutate(opens=ibis.cases((opens, loose.us)))
    running = ibis.window(
        group_by="person_id", order_by=["us", "uuid"], preceding=None, following=0
    )
    loose = loose.mutate(run_start=loose.opens.max().over(running))
    # piece k holds the events more than k and at most k + 1 times max_hours after the
    # run's start (piece 0 also holds the start), so that no session is longer than that
    since = loose.us - loose.run_start
    piece = ibis.greatest(since - 1, 0) // (s.max_hours * 60 * _US_PER_MINUTE)
    skey = loose.person_id + "#" + loose.run_start.cast("string") + "+" + piece.cast("string")
    loose = loose.select(*sdk.columns[:-1], skey=skey)
    return sdk.union(loose)


def sessions(ctx: Context) -> ir.Table:
    """One row per session that starts in the window and holds a page view or an
    interaction, with the breakdown keys of ``ctx``.

    Columns: ``session`` (the SDK's id, else ``person#start`` with the start in
    milliseconds since 1970, like Amplitude's session id), ``person_id`` (of the
    session's last event), ``start``, ``end``, ``duration`` (seconds, last event − first
    event), ``events``, ``pageviews``, ``interactions``, ``bounced``, ``day`` (local day
    of the start), then the breakdown keys.

    With ``--by``/``--where`` the session takes the breakdown values of its first event
    that passes the filter, and sessions without such an event are left out; the filter
    never changes how sessions are cut.
    """
    ev = session_events(ctx)
    pageview = ev.event.isin(PAGEVIEW_EVENTS)
    interaction = _active(ctx, ev.event) & ~pageview
    per = ev.group_by("skey").aggregate(
        sdk_session=ev.sdk_session.max(),
        person_id=ev.person_id.argmax(ev.timestamp),
        start=ev.timestamp.min(),
        end=ev.timestamp.max(),
        start_us=ev.us.min(),
        end_us=ev.us.max(),
        events=ev.count(),
        pageviews=pageview.cast("int64").sum(),
        interactions=interaction.cast("int64").sum(),
    )
    per = per.filter(
        (per.pageviews + per.interactions) > 0,
        per.start >= ctx.instant(ctx.window.start),
        per.start < ctx.instant(ctx.window.end + timedelta(days=1)),
    )
    start_ms = (per.start_us // 1000).cast("string")
    duration = (per.end_us - per.start_us) / 1_000_000
    per = per.mutate(
        session=ibis.coalesce(per.sdk_session, per.person_id + "#" + start_ms),
        duration=duration,
        day=ctx.local_date(per.start),
    )
    per = per.mutate(
        bounced=(per.pageviews == 1) & (per.interactions == 0) & (per.duration < BOUNCE_SECONDS)
    )
    columns = ["session", "person_id", "start", "end", "duration", "events", "pageviews",
               "interactions", "bounced", "day"]  # fmt: skip
    if not ctx.by and not ctx.where:
        return per.select(*columns)
    # The breakdown values of each session's first event that passes the filter.
    seg = ctx.segment(_events_around(ctx), "events")
    seg = seg.select("uuid", *ctx.keys)
    matched = ev.select("skey", "uuid", "us").join(seg, "uuid")
    first = ibis.window(group_by="skey", order_by=["us", "uuid"])
    matched = matched.mutate(nth=ibis.row_number().over(first))
    entry = matched.filter(matched.nth == 0).select("skey", *ctx.keys)
    joined = per.join(entry, "skey")
    return joined.select(*columns, *ctx.keys)
