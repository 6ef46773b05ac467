"""``reports.yaml``: the reports, their recipients, schedules and sections, validated
(docs/reports.md#reports-yaml).

A mistake is one line naming the report and what is wrong; a bad file changes nothing
(the schedule state and the delivery log stay as they were).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from northstar.errors import ReportConfigError, ReportNotFound

REPORTS_FILE = "reports.yaml"
FORMATS = ("email", "pdf", "markdown", "slack")
SECTIONS = ("scorecard", "goals", "kpis", "movers", "alerts", "feedback", "notes")
Period = Literal["week", "month", "quarter"]
Format = Literal["email", "pdf", "markdown", "slack"]
Section = Literal["scorecard", "goals", "kpis", "movers", "alerts", "feedback", "notes"]


def _default_formats() -> list[Format]:
    return ["email"]


def _default_sections() -> list[Section]:
    return ["scorecard", "goals", "kpis", "movers", "alerts", "feedback", "notes"]


class Report(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
    title: str = Field(default="KPI report", min_length=1)
    to: list[str] = Field(default_factory=list)
    schedule: str | None = None  # cron, in ``timezone``; none: sent by hand only
    timezone: str = "UTC"
    formats: list[Format] = Field(default_factory=_default_formats, min_length=1)
    sections: list[Section] = Field(default_factory=_default_sections, min_length=1)
    kpis: list[str] = Field(default_factory=list)
    notes: str | None = None
    only_if_changed: bool = False
    period: Period | None = None  # the period reported on (default: from the schedule)
    slack_url: str | None = Field(default=None, pattern=r"^https?://")

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None and not croniter.is_valid(value):
            raise ValueError(
                f"schedule {value!r} is not a cron expression (minute hour day month weekday, "
                "e.g. '0 8 * * MON')"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name like Europe/Paris"
            ) from None
        return value

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if "@" not in address or address.strip() != address or " " in address:
                raise ValueError(f"{address!r} is not an e-mail address")
        return value

    def needs_checked(self) -> None:
        if ("email" in self.formats or "pdf" in self.formats) and not self.to:
            raise ValueError("formats email and pdf need recipients: add 'to: [...]'")
        if "slack" in self.formats and not self.slack_url:
            raise ValueError("format slack needs 'slack_url:' (a Slack incoming webhook)")

    @property
    def grain(self) -> Period:
        """The period the report covers: ``period``, else what the schedule suggests — a
        weekday schedule reports weeks, a schedule on given months quarters, else months."""
        if self.period is not None:
            return self.period
        if self.schedule is None:
            return "month"
        fields = self.schedule.split()
        if len(fields) >= 5 and fields[4] != "*":
            return "week"
        if len(fields) >= 5 and fields[3] != "*":
            return "quarter"
        if len(fields) >= 5 and fields[2] != "*":
            return "month"
        return "week"


class ReportsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reports: list[Report] = Field(default_factory=list)

    def get(self, name: str) -> Report:
        for report in self.reports:
            if report.name == name:
                return report
        known = ", ".join(r.name for r in self.reports) or "none (add them to reports.yaml)"
        raise ReportNotFound(f"no report {name!r}; the reports are: {known}")


def _where(exc: ValidationError, data: object) -> str:
    err = exc.errors()[0]
    loc = list(err["loc"])
    label = ""
    if len(loc) >= 2 and loc[0] == "reports" and isinstance(loc[1], int):
        items = data.get("reports") if isinstance(data, dict) else None
        item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
        name = item.get("name") if isinstance(item, dict) else None
        label = f"report {name!r}" if name else f"report {loc[1] + 1}"
        loc = loc[2:]
    if loc and isinstance(loc[-1], int):
        loc = loc[:-1]
    field = ".".join(str(p) for p in loc)
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "literal_error" and field in ("formats", "sections"):
        choices = FORMATS if field == "formats" else SECTIONS
        msg = f"{err.get('input')!r} is not one of {', '.join(choices)}"
    return ", ".join(p for p in (label, field) if p) + f": {msg}" if (label or field) else msg


def load_reports(folder: Path) -> ReportsFile:
    """The workspace's ``reports.yaml`` (no reports when there is none)."""
    path = folder / REPORTS_FILE
    if not path.exists():
        return ReportsFile()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ReportConfigError(f"{REPORTS_FILE}: not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise ReportConfigError(f"{REPORTS_FILE}: must hold 'reports:', a list of reports")
    try:
        parsed = ReportsFile.model_validate(data)
    except ValidationError as exc:
        raise ReportConfigError(f"{REPORTS_FILE}: {_where(exc, data)}") from None
    names = [r.name for r in parsed.reports]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ReportConfigError(
            f"{REPORTS_FILE}: two reports are named {twice[0]!r}; give each its own name"
        )
    for report in parsed.reports:
        try:
            report.needs_checked()
        except ValueError as exc:
            raise ReportConfigError(f"{REPORTS_FILE}: report {report.name!r}: {exc}") from None
    return parsed
