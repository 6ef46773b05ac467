"""``alerts.yaml``: channels and rules, validated (docs/alerts.md#alerts-yaml).

A mistake is one line naming the rule or channel and what is wrong; a bad file changes
nothing (the previous state and history stay as they were).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from northstar.errors import AlertConfigError

ALERTS_FILE = "alerts.yaml"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EmailChannel(_Model):
    type: Literal["email"]
    to: list[str] = Field(min_length=1)


class WebhookChannel(_Model):
    type: Literal["webhook"]
    url: str = Field(pattern=r"^https?://")
    secret_env: str | None = None  # environment variable with the HMAC secret


class FileChannel(_Model):
    """Alerts appended as JSON lines to a file in the workspace (a log, a demo, a test)."""

    type: Literal["file"]
    path: str = Field(pattern=r"^[A-Za-z0-9_.-][A-Za-z0-9_./-]*$")  # inside the workspace


class SlackChannel(_Model):
    type: Literal["slack"]
    url: str = Field(pattern=r"^https?://")


Channel = Annotated[
    EmailChannel | WebhookChannel | SlackChannel | FileChannel, Field(discriminator="type")
]


class Rule(_Model):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
    when: Literal["anomaly", "above", "below", "change", "status", "stale"]
    metric: str | None = None
    goal: str | None = None
    grain: Literal["day", "week", "month"] = "day"
    by: str | None = None  # anomaly rules: watch every segment of this dimension
    direction: Literal["both", "up", "down"] | None = None
    value: float | None = None
    compare: Literal["previous_period", "previous_week"] = "previous_period"
    pct: float | None = None
    status: list[Literal["on_track", "at_risk", "off_track", "achieved", "missed"]] = Field(
        default_factory=list
    )
    hours: float | None = Field(default=None, gt=0)
    channels: list[str] = Field(min_length=1)
    muted: bool = False
    snooze_until: date | None = None

    @model_validator(mode="after")
    def _complete(self) -> Rule:
        needs = {
            "anomaly": ("metric",), "above": ("metric", "value"), "below": ("metric", "value"),
            "change": ("metric", "pct"), "status": ("goal", "status"), "stale": ("hours",),
        }[self.when]  # fmt: skip
        missing = [f for f in needs if getattr(self, f) in (None, [])]
        if missing:
            raise ValueError(f"'when: {self.when}' needs {', '.join(missing)}")
        return self


class AlertsFile(_Model):
    channels: dict[str, Channel] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known_channels(self) -> AlertsFile:
        names = [r.name for r in self.rules]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"two rules are named {twice[0]!r}; give each rule its own name")
        for rule in self.rules:
            unknown = [c for c in rule.channels if c not in self.channels]
            if unknown:
                known = ", ".join(sorted(self.channels)) or "none"
                raise ValueError(
                    f"rule {rule.name!r}: unknown channel {unknown[0]!r} (channels: {known})"
                )
        return self


def _where(exc: ValidationError, data: object) -> str:
    err = exc.errors()[0]
    loc = list(err["loc"])
    label = ""
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        rules = data.get("rules") if isinstance(data, dict) else None
        name = rules[loc[1]].get("name") if isinstance(rules, list) and isinstance(
            rules[loc[1]], dict) else None  # fmt: skip
        label = f"rule {name!r}" if name else f"rule {loc[1] + 1}"
        loc = loc[2:]
    elif len(loc) >= 2 and loc[0] == "channels":
        label = f"channel {loc[1]!r}"
        loc = [p for p in loc[2:] if p not in ("email", "webhook", "slack", "file")]
    field = ".".join(str(p) for p in loc)
    msg = str(err["msg"]).removeprefix("Value error, ")
    return ", ".join(p for p in (label, field) if p) + f": {msg}" if (label or field) else msg


def load_alerts(folder: Path) -> AlertsFile:
    """The workspace's ``alerts.yaml`` (an empty configuration when there is none)."""
    path = folder / ALERTS_FILE
    if not path.exists():
        return AlertsFile()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise AlertConfigError(f"{ALERTS_FILE}: not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise AlertConfigError(f"{ALERTS_FILE}: must hold 'channels:' and 'rules:'")
    try:
        return AlertsFile.model_validate(data)
    except ValidationError as exc:
        raise AlertConfigError(f"{ALERTS_FILE}: {_where(exc, data)}") from None
