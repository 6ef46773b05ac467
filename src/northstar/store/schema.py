"""The product data model: one table per source, declared as plain data.

This module is the single source for the store's DDL, the import contract (which
columns a file may carry, which are required, how each is parsed), the keys that
imports deduplicate on, and ``docs/data-model.md`` (checked by the tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from northstar.errors import UnknownTableError


class Kind(StrEnum):
    """How a column is parsed on import and stored."""

    text = "VARCHAR"
    timestamp = "TIMESTAMPTZ"
    date = "DATE"
    money = "DECIMAL(18,4)"
    number = "DOUBLE"
    integer = "BIGINT"
    json = "JSON"


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False
    description: str = ""
    choices: tuple[str, ...] = ()
    default: str | None = None  # a SQL literal used when the column is absent or empty


@dataclass(frozen=True)
class RowRule:
    """A check across a row's typed columns: ``when`` is a SQL condition on ``{column}``
    placeholders (true: the row is bad), ``says`` the reason, where ``{column}`` shows the
    value as the file wrote it. Both are fixed text of this module, never user input."""

    when: str
    says: str


@dataclass(frozen=True)
class TableSpec:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    time_column: str | None = None
    rules: tuple[RowRule, ...] = ()  # checks across a row's columns

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


def _c(
    name: str, kind: Kind, required: bool = False, description: str = "", **kw: object
) -> Column:
    return Column(name, kind, required, description, **kw)  # type: ignore[arg-type]


_PROPS = _c(
    "properties",
    Kind.json,
    description="JSON object of any further attributes; extra file columns are folded in here",
    default="'{}'",
)

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        TableSpec(
            "events",
            "Product usage events, as analytics SDKs send them.",
            (
                _c(
                    "uuid",
                    Kind.text,
                    description="Unique event id; generated from the row when absent",
                ),
                _c("event", Kind.text, True, "Event name, e.g. $pageview, signed_up"),
                _c("distinct_id", Kind.text, True, "Who did it: an anonymous or known id"),
                _c("timestamp", Kind.timestamp, True, "When it happened"),
                _c("session_id", Kind.text, description="Session id sent by the SDK, if any"),
                _PROPS,
            ),
            key=("uuid",),
            time_column="timestamp",
        ),
        TableSpec(
            "users",
            "People who signed up: the known ids of events.",
            (
                _c("user_id", Kind.text, True, "Known id (the distinct_id after identify)"),
                _c("created_at", Kind.timestamp, description="Sign-up time"),
                _c(
                    "properties",
                    Kind.json,
                    description="plan, country, acquisition channel (key 'channel') and more",
                    default="'{}'",
                ),
            ),
            key=("user_id",),
            time_column="created_at",
        ),
        TableSpec(
            "customers",
            "Paying accounts (a customer may be a company with several users).",
            (
                _c("customer_id", Kind.text, True, "Billing account id"),
                _c("user_id", Kind.text, description="The user who owns the account, if known"),
                _c("created_at", Kind.timestamp, True, "When the account was created"),
                _PROPS,
            ),
            key=("customer_id",),
            time_column="created_at",
        ),
        TableSpec(
            "subscriptions",
            "One row per priced period of a subscription; active on day d when "
            "started_at <= d < ended_at.",
            (
                _c("subscription_id", Kind.text, True, "Subscription id (repeats across periods)"),
                _c("customer_id", Kind.text, True, "Billing account"),
                _c("plan", Kind.text, True, "Plan name"),
                _c("amount", Kind.money, True, "Price per billing interval for one unit"),
                _c("currency", Kind.text, True, "ISO 4217 code of amount and discount"),
                _c(
                    "interval",
                    Kind.text,
                    True,
                    "Billing interval",
                    choices=("week", "month", "quarter", "year"),
                ),
                _c("quantity", Kind.integer, description="Seats or units (default 1)", default="1"),
                _c(
                    "discount",
                    Kind.money,
                    description="Amount off per billing interval, after quantity (default 0)",
                    default="0",
                ),
                _c(
                    "status",
                    Kind.text,
                    True,
                    "Status of this period",
                    choices=("trialing", "active", "past_due", "canceled"),
                ),
                _c("started_at", Kind.timestamp, True, "Start of this priced period"),
                _c("ended_at", Kind.timestamp, description="End (exclusive); empty while open"),
                _c("canceled_at", Kind.timestamp, description="When the customer cancelled"),
                _PROPS,
            ),
            key=("subscription_id", "started_at"),
            rules=(
                RowRule(
                    "{ended_at} < {started_at}",
                    "ended_at '{ended_at}' is before started_at '{started_at}'",
                ),
            ),
            time_column="started_at",
        ),
        TableSpec(
            "orders",
            "One-time purchases.",
            (
                _c("order_id", Kind.text, True, "Order id"),
                _c("customer_id", Kind.text, True, "Billing account"),
                _c("amount", Kind.money, True, "Order total, tax excluded"),
                _c("currency", Kind.text, True, "ISO 4217 code"),
                _c("ordered_at", Kind.timestamp, True, "Order time"),
                _PROPS,
            ),
            key=("order_id",),
            time_column="ordered_at",
        ),
        TableSpec(
            "marketing_spend",
            "Spend per day, channel and campaign.",
            (
                _c("date", Kind.date, True, "Day of the spend"),
                _c("channel", Kind.text, True, "Acquisition channel, e.g. google_ads"),
                _c("campaign", Kind.text, description="Campaign name", default="''"),
                _c("spend", Kind.money, True, "Amount spent"),
                _c("currency", Kind.text, True, "ISO 4217 code"),
                _c("impressions", Kind.integer, description="Ad impressions"),
                _c("clicks", Kind.integer, description="Ad clicks"),
                _PROPS,
            ),
            key=("date", "channel", "campaign"),
            time_column="date",
        ),
        TableSpec(
            "survey_responses",
            "Answers to NPS, CSAT, CES, USS and team surveys.",
            (
                _c("response_id", Kind.text, True, "Response id"),
                _c(
                    "survey",
                    Kind.text,
                    True,
                    "Survey kind",
                    choices=("nps", "csat", "ces", "uss", "team"),
                ),
                _c("respondent_id", Kind.text, True, "User (or team member) who answered"),
                _c("responded_at", Kind.timestamp, True, "Answer time"),
                _c("score", Kind.number, True, "The score given"),
                _c("scale_min", Kind.number, True, "Lowest possible score (0 for NPS)"),
                _c("scale_max", Kind.number, True, "Highest possible score (10 for NPS)"),
                _c("comment", Kind.text, description="Free-text comment"),
                _PROPS,
            ),
            key=("response_id",),
            time_column="responded_at",
            rules=(
                RowRule(
                    "{scale_min} >= {scale_max}",
                    "scale_min '{scale_min}' is not below scale_max '{scale_max}'",
                ),
                RowRule(
                    "{score} < {scale_min} OR {score} > {scale_max}",
                    "score '{score}' is outside the scale '{scale_min}'..'{scale_max}'",
                ),
                RowRule(
                    "{survey} = 'nps' AND ({scale_min} <> 0 OR {scale_max} <> 10)",
                    "an NPS answer is on the 0..10 scale, not '{scale_min}'..'{scale_max}'",
                ),
            ),
        ),
        TableSpec(
            "sprints",
            "Engineering sprints.",
            (
                _c("sprint_id", Kind.text, True, "Sprint id"),
                _c("team", Kind.text, True, "Team"),
                _c("started_at", Kind.timestamp, True, "Sprint start"),
                _c("ended_at", Kind.timestamp, True, "Sprint end"),
                _c("committed_points", Kind.number, True, "Story points committed"),
                _c("completed_points", Kind.number, True, "Story points completed"),
                _PROPS,
            ),
            key=("sprint_id",),
            time_column="ended_at",
        ),
        TableSpec(
            "work_items",
            "Bugs, stories and tasks from the engineering tracker.",
            (
                _c("item_id", Kind.text, True, "Item id"),
                _c("kind", Kind.text, True, "Item kind", choices=("bug", "story", "task")),
                _c("team", Kind.text, description="Team"),
                _c("created_at", Kind.timestamp, True, "Created"),
                _c("started_at", Kind.timestamp, description="Work started"),
                _c("resolved_at", Kind.timestamp, description="Resolved; empty while open"),
                _c("points", Kind.number, description="Story points"),
                _c("severity", Kind.text, description="Bug severity"),
                _PROPS,
            ),
            key=("item_id",),
            time_column="created_at",
        ),
        TableSpec(
            "support_tickets",
            "Customer support tickets.",
            (
                _c("ticket_id", Kind.text, True, "Ticket id"),
                _c("customer_id", Kind.text, description="Customer who opened it"),
                _c("created_at", Kind.timestamp, True, "Opened"),
                _c("resolved_at", Kind.timestamp, description="Resolved; empty while open"),
                _c("satisfaction", Kind.number, description="Satisfaction rating given"),
                _PROPS,
            ),
            key=("ticket_id",),
            time_column="created_at",
        ),
        TableSpec(
            "costs",
            "Costs per day and category.",
            (
                _c("date", Kind.date, True, "Day of the cost"),
                _c(
                    "category",
                    Kind.text,
                    True,
                    "Cost category",
                    choices=("cogs", "sales_marketing", "other"),
                ),
                _c("amount", Kind.money, True, "Amount"),
                _c("currency", Kind.text, True, "ISO 4217 code"),
                _c("description", Kind.text, description="What the cost is", default="''"),
                _PROPS,
            ),
            key=("date", "category", "description"),
            time_column="date",
        ),
        TableSpec(
            "fx_rates",
            "Exchange rates into the workspace currency.",
            (
                _c("date", Kind.date, True, "Day the rate applies from"),
                _c("currency", Kind.text, True, "ISO 4217 code of the foreign currency"),
                _c("rate", Kind.number, True, "Units of workspace currency per unit"),
                _PROPS,
            ),
            key=("date", "currency"),
            time_column="date",
        ),
    )
}


def table_spec(name: str) -> TableSpec:
    """The spec of a data-model table; an unknown name is a clear user error."""
    try:
        return TABLES[name]
    except KeyError:
        known = ", ".join(TABLES)
        raise UnknownTableError(f"unknown table {name!r}; the tables are: {known}") from None
