"""Workspace settings: the one settings object, read from and written to ``northstar.yaml``.

Every field carries its default and a description; ``docs/settings.md`` is checked against
these descriptions by the tests so that no setting goes undocumented.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from northstar.errors import SettingsError

SETTINGS_FILE = "northstar.yaml"


class WeekStart(StrEnum):
    monday = "monday"
    sunday = "sunday"
    saturday = "saturday"


class ChurnRecognition(StrEnum):
    period_end = "period_end"
    cancellation = "cancellation"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class EventSettings(_Section):
    """Which events make a user *active*."""

    active_events: list[str] | None = Field(
        default=None,
        description="Events that count as activity. Empty or null: every event except the "
        "passive ones.",
    )
    passive_events: list[str] = Field(
        default_factory=lambda: [
            "$pageleave",
            "$identify",
            "$create_alias",
            "$set",
            "$groupidentify",
            "$feature_flag_called",
        ],
        description="Events that never make a user active (tracking bookkeeping, page leaves).",
    )
    signup_event: str | None = Field(
        default=None,
        description="Event that marks a sign-up when the users table has no created_at. "
        "Null: sign-ups come from users.created_at.",
    )
    merge_identities: bool = Field(
        default=True,
        description="Count persons after merging anonymous and known ids (identify/alias). "
        "False: count raw distinct ids.",
    )


class FeatureSettings(_Section):
    """How the feature adoption report flags features (see docs/analyses.md)."""

    promote_max_adoption: float = Field(
        default=0.2, gt=0, le=1,
        description="A feature used by fewer than this share of active users, but often by "
        "those who use it, is flagged 'promote'.",
    )  # fmt: skip
    promote_min_frequency_ratio: float = Field(
        default=1.5, gt=0,
        description="'Often' for 'promote': adopters use it on at least this many times as "
        "many days per week as the median feature's adopters.",
    )  # fmt: skip
    rethink_max_adoption: float = Field(
        default=0.05, gt=0, le=1,
        description="A feature used by fewer than this share of active users (and not "
        "promoted) is flagged 'rethink'.",
    )  # fmt: skip


class SessionSettings(_Section):
    """How sessions are cut when events carry no ``session_id``."""

    timeout_minutes: int = Field(
        default=30, ge=1, le=24 * 60, description="Inactivity gap that ends a session."
    )
    max_hours: int = Field(default=24, ge=1, le=72, description="A session is cut at this length.")


class RevenueSettings(_Section):
    """Revenue policies where SaaS billing tools disagree (ChartMogul semantics by default)."""

    churn_recognition: ChurnRecognition = Field(
        default=ChurnRecognition.period_end,
        description="When a cancelled customer counts as churned: at the end of the paid "
        "period (period_end) or when they cancel (cancellation).",
    )
    count_same_period_churn: bool = Field(
        default=False,
        description="Count customers who both start and churn within one period in the "
        "customer churn rate.",
    )
    past_due_counts_as_mrr: bool = Field(
        default=True,
        description="Subscriptions in past_due status still contribute to MRR until they "
        "are cancelled.",
    )
    cac_spend_lag_periods: int = Field(
        default=0,
        ge=0,
        le=12,
        description="CAC divides the spend of this many periods earlier by this period's "
        "new customers (0: same period).",
    )
    ltv_churn_months: int = Field(
        default=6, ge=1, le=36, description="Trailing complete months averaged for LTV's churn."
    )
    nrr_window_months: int = Field(
        default=12, ge=1, le=36, description="Window over which NRR and GRR are measured."
    )
    addressable_market: int | None = Field(
        default=None,
        ge=1,
        description="Number of potential customers, for market penetration. Null: not set.",
    )


class GoalSettings(_Section):
    """How goals are judged and forecast (see docs/goals.md)."""

    on_track_probability: float = Field(
        default=0.6,
        gt=0,
        lt=1,
        description="A goal is on track when its forecast gives at least this probability "
        "of meeting the target at the deadline.",
    )
    at_risk_probability: float = Field(
        default=0.25,
        gt=0,
        lt=1,
        description="A goal is at risk when the probability is at least this (and below "
        "on_track_probability); below it the goal is off track.",
    )
    plan_tolerance: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="Without a forecast (too little history), a goal is on track when it "
        "trails its plan by at most this share of the planned change.",
    )
    plan_at_risk: float = Field(
        default=0.15,
        ge=0,
        le=1,
        description="Without a forecast, a goal trailing its plan by more than "
        "plan_tolerance but at most this share of the planned change is at risk; "
        "further behind it is off track.",
    )
    max_kpis_per_objective: int = Field(
        default=5,
        ge=1,
        le=50,
        description="Warn when an objective has more KPIs than this (focus on a handful).",
    )
    simulations: int = Field(
        default=2000,
        ge=100,
        le=100_000,
        description="Simulated paths per forecast.",
    )
    seed: int = Field(
        default=0,
        ge=0,
        description="Random seed of the forecast simulations: same data, same numbers.",
    )
    as_of: date | None = Field(
        default=None,
        description="Pin the workspace's as-of to this day: goals, queries, analyses and "
        "pages are judged on it (null: derived from the data, the day after its last day, "
        "never after today; see docs/freshness.md).",
    )

    @model_validator(mode="after")
    def _ordered(self) -> GoalSettings:
        if self.at_risk_probability >= self.on_track_probability:
            raise ValueError(
                "at_risk_probability must be below on_track_probability "
                f"({self.at_risk_probability} >= {self.on_track_probability})"
            )
        if self.plan_tolerance > self.plan_at_risk:
            raise ValueError(
                f"plan_tolerance ({self.plan_tolerance}) must not exceed plan_at_risk "
                f"({self.plan_at_risk})"
            )
        return self


class StoreSettings(_Section):
    """How commands share the store with the server and with each other."""

    lock_wait_seconds: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="How long a command waits for the store while another process (the "
        "server's flusher, an import) holds it, before it gives up with an error.",
    )


class PageAccess(StrEnum):
    loopback = "loopback"  # browsers on the server machine only, no sign-in
    key = "key"  # any address, after signing in with a read key (admin key to change)


class ServerSettings(_Section):
    """The workspace's server, ``northstar serve`` (see docs/ingestion-server.md)."""

    host: str = Field(default="127.0.0.1", description="Address the server listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the server listens on.")
    flush_seconds: float = Field(
        default=1.0,
        ge=0.05,
        le=300,
        description="How often accepted events move from the ingestion log into the store.",
    )
    alerts_seconds: float = Field(
        default=900,
        ge=0,
        le=86400,
        description="How often the server evaluates the rules of alerts.yaml (0: never; "
        "use 'northstar alerts run' from cron instead).",
    )
    access_log: bool = Field(
        default=True,
        description="Write one JSON line per HTTP request to ingest-log/access.log.",
    )
    reports_seconds: float = Field(
        default=30,
        ge=0,
        le=3600,
        description="How often the server checks whether a report of reports.yaml is due "
        "(0: never; use 'northstar reports send' from cron instead).",
    )
    pages: PageAccess = Field(
        default=PageAccess.loopback,
        description="Who may open the web pages: 'loopback' (browsers on the server machine, "
        "no sign-in) or 'key' (any address, after signing in with a read key; changing goals "
        "or keys needs an admin key).",
    )


class SmtpSettings(_Section):
    """The mail server alert e-mails go through (docs/alerts.md#channels). Secrets come
    from the environment: the file names the variables, never the values."""

    host: str | None = Field(default=None, description="SMTP server host (none: no e-mail).")
    port: int = Field(default=587, ge=1, le=65535, description="SMTP server port.")
    sender: str = Field(
        default="northstar@localhost", description="The From address of alert e-mails."
    )
    starttls: bool = Field(default=True, description="Upgrade the connection with STARTTLS.")
    username_env: str | None = Field(
        default=None, description="Environment variable holding the SMTP user name."
    )
    password_env: str | None = Field(
        default=None, description="Environment variable holding the SMTP password."
    )


class ReportSettings(_Section):
    """How reports are rendered (docs/reports.md#settings)."""

    pdf_size: Literal["A4", "Letter"] = Field(default="A4", description="PDF page size.")
    pdf_orientation: Literal["landscape", "portrait"] = Field(
        default="landscape", description="PDF page orientation."
    )
    base_url: str | None = Field(
        default=None,
        description="Address people open the server at, for links in reports and share "
        "links (default: http://server.host:server.port).",
    )


class Settings(_Section):
    """Everything in ``northstar.yaml``."""

    name: str = Field(default="My product", min_length=1, description="Product name.")
    timezone: str = Field(
        default="UTC",
        description="IANA time zone in which days, weeks and months are cut "
        "(timestamps are stored in UTC).",
    )
    week_start: WeekStart = Field(default=WeekStart.monday, description="First day of a week.")
    currency: str = Field(
        default="USD",
        description="Workspace currency (ISO 4217); money is converted to it with fx_rates.",
    )
    events: EventSettings = Field(default_factory=EventSettings, description="Activity.")
    sessions: SessionSettings = Field(default_factory=SessionSettings, description="Sessions.")
    features: FeatureSettings = Field(
        default_factory=FeatureSettings, description="Feature adoption report."
    )
    revenue: RevenueSettings = Field(default_factory=RevenueSettings, description="Revenue.")
    store: StoreSettings = Field(default_factory=StoreSettings, description="Store sharing.")
    server: ServerSettings = Field(default_factory=ServerSettings, description="Server.")
    goals: GoalSettings = Field(default_factory=GoalSettings, description="Goals.")
    smtp: SmtpSettings = Field(default_factory=SmtpSettings, description="Alert e-mail.")
    reports: ReportSettings = Field(default_factory=ReportSettings, description="Reports.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as 'Europe/Paris'"
            ) from None
        return value

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{3}", value):
            raise ValueError(f"currency {value!r} is not a 3-letter ISO 4217 code such as 'EUR'")
        return value


def _describe(err: ValidationError, path: Path) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        msg = "not a known setting (see docs/settings.md for the list)"
    return f"{path}: setting '{where}': {msg}"


def load_settings(path: Path) -> Settings:
    """Read ``northstar.yaml``; any mistake is a :class:`SettingsError` naming the setting."""
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SettingsError(f"{path} is not valid YAML{where}; fix the file and retry") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise SettingsError(f"{path} must hold a mapping of settings, not {type(raw).__name__}")
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise SettingsError(_describe(exc, path)) from None


def dump_settings(settings: Settings) -> str:
    """The YAML text of ``settings``, with a header pointing at the documentation."""
    body = yaml.safe_dump(settings.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
    return "# Northstar workspace settings; every setting is described in docs/settings.md\n" + body
