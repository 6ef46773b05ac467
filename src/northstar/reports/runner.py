"""Sending reports: now (``reports send``) or on their schedule (``northstar serve``), with
a delivery log and the schedule's state kept in the workspace (docs/reports.md#delivery).

Files under ``reports/`` in the workspace: ``state.json`` (per report: the last scheduled
time sent and the numbers it carried, for ``only_if_changed``), ``log.jsonl`` (one line per
send: recipients, formats, result, tries, error) and ``archive/NAME/`` (each report sent,
as PDF, HTML and Markdown).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from croniter import croniter

from northstar.alerts.delivery import BACKOFF, TIMEOUT, DeliveryError, retry, send_mail
from northstar.reports.config import Report, ReportsFile
from northstar.reports.content import ReportContent
from northstar.reports.render import (
    chart_images,
    cid,
    render_html,
    render_markdown,
    render_pdf,
    render_text,
    slack_message,
)
from northstar.settings import Settings

FOLDER = "reports"
STATE = "state.json"
LOG = "log.jsonl"


@dataclass
class SendResult:
    report: str
    result: str  # sent, skipped, failed, partial
    trigger: str  # manual, schedule
    as_of: str
    period: str
    recipients: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)
    delivered: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    tries: dict[str, int] = field(default_factory=dict)
    scheduled_for: str | None = None
    reason: str | None = None
    files: list[str] = field(default_factory=list)
    at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at, "report": self.report, "result": self.result,
            "trigger": self.trigger, "scheduled_for": self.scheduled_for,
            "as_of": self.as_of, "period": self.period, "recipients": self.recipients,
            "formats": self.formats, "delivered": self.delivered, "failed": self.failed,
            "tries": self.tries, "reason": self.reason, "files": self.files,
        }  # fmt: skip


def _read_state(folder: Path) -> dict[str, Any]:
    path = folder / FOLDER / STATE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_state(folder: Path, state: dict[str, Any]) -> None:
    path = folder / FOLDER / STATE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
    tmp.replace(path)


def _log(folder: Path, result: SendResult) -> None:
    path = folder / FOLDER / LOG
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(result.to_dict(), sort_keys=True) + "\n")


def delivery_log(folder: Path, limit: int = 200) -> list[dict[str, Any]]:
    """The last ``limit`` sends, oldest first."""
    path = folder / FOLDER / LOG
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    out = []
    for line in lines[-limit:]:
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def compose_email(
    content: ReportContent, settings: Settings, *, html: str, text: str,
    images: Mapping[str, bytes], pdf: bytes | None, now: datetime,
) -> EmailMessage:  # fmt: skip
    """multipart/mixed: (multipart/alternative: text/plain, multipart/related: text/html
    with its PNG charts by ``cid:``), then the PDF attached."""
    mail = EmailMessage()
    mail["Subject"] = content.subject
    mail["From"] = settings.smtp.sender
    mail["To"] = ", ".join(content.report.to)
    mail["Date"] = formatdate(now.timestamp(), localtime=False)
    mail["Message-ID"] = make_msgid(domain="northstar")
    mail.set_content(text)
    mail.add_alternative(html, subtype="html")
    html_part = mail.get_payload()[1]  # type: ignore[index]
    assert isinstance(html_part, EmailMessage)
    for metric, png in images.items():
        html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cid(metric)}>",
                              filename=f"{metric}.png", disposition="inline")  # fmt: skip
    if pdf is not None:
        mail.add_attachment(pdf, maintype="application", subtype="pdf",
                            filename=f"{content.report.name}-{content.first}.pdf")  # fmt: skip
    return mail


def report_link(settings: Settings) -> str:
    base = settings.reports.base_url or f"http://{settings.server.host}:{settings.server.port}"
    return base.rstrip("/") + "/"


def deliver_report(
    content: ReportContent, settings: Settings, folder: Path, *, trigger: str,
    now: datetime, env: Mapping[str, str] = os.environ,
    scheduled_for: datetime | None = None, sleep: Callable[[float], None] | None = None,
) -> SendResult:  # fmt: skip
    """Render ``content`` in the report's formats, deliver it, archive it and log it. A
    failed channel is retried with backoff, then recorded (never dropped silently)."""
    report = content.report
    result = SendResult(
        report.name, "sent", trigger, content.as_of.today.isoformat(),
        f"{content.first}/{content.last}", recipients=list(report.to),
        formats=list(report.formats), at=now.isoformat(timespec="seconds"),
        scheduled_for=scheduled_for.isoformat() if scheduled_for else None,
    )  # fmt: skip
    link = report_link(settings)
    archive = folder / FOLDER / "archive" / report.name
    archive.mkdir(parents=True, exist_ok=True)
    stem = f"{content.first}-as-of-{content.as_of.today}"
    markdown = render_markdown(content, link)
    (archive / f"{stem}.md").write_text(markdown, encoding="utf-8")
    result.files.append(str((archive / f"{stem}.md").relative_to(folder)))
    pdf = None
    if "pdf" in report.formats:
        pdf = render_pdf(content, settings.currency, settings.reports)
        (archive / f"{stem}.pdf").write_bytes(pdf)
        result.files.append(str((archive / f"{stem}.pdf").relative_to(folder)))
    wait = {"sleep": sleep} if sleep is not None else {}
    if "email" in report.formats or "pdf" in report.formats:
        pngs: dict[str, bytes] = {}
        if "email" in report.formats:
            pngs = {k: v for k, v in chart_images(content, settings.currency, "email").items()
                    if isinstance(v, bytes)}  # fmt: skip
            html = render_html(content, "email", dict(pngs), settings=settings.reports, link=link)
        else:
            html = render_html(content, "email", {}, settings=settings.reports, link=link)
        (archive / f"{stem}.html").write_text(html, encoding="utf-8")
        mail = compose_email(content, settings, html=html, text=render_text(content, link),
                             images=pngs, pdf=pdf, now=now)  # fmt: skip
        if settings.smtp.host:
            _attempt(result, "email", lambda: send_mail(mail, settings.smtp, env), wait)
        else:  # a setting to fix, not a failure to retry
            result.tries["email"] = 0
            result.failed["email"] = "no SMTP server: set smtp.host in northstar.yaml"
    if "slack" in report.formats and report.slack_url:
        body = json.dumps(slack_message(content, link)).encode()
        url = report.slack_url

        def post() -> None:
            answer = httpx.post(url, content=body, timeout=TIMEOUT,
                                headers={"Content-Type": "application/json"})  # fmt: skip
            if answer.status_code >= 300:
                raise DeliveryError(f"Slack answered {answer.status_code}")

        _attempt(result, "slack", post, wait)
    if "markdown" in report.formats:
        result.delivered.append("markdown")
    if result.failed:
        result.result = "partial" if result.delivered else "failed"
    _log(folder, result)
    return result


def _attempt(result: SendResult, name: str, send: Callable[[], None], wait: dict[str, Any]) -> None:
    try:
        result.tries[name] = retry(send, **wait)
        result.delivered.append(name)
    except DeliveryError as exc:
        result.tries[name] = len(BACKOFF) + 1
        result.failed[name] = str(exc)


def unchanged(folder: Path, content: ReportContent) -> bool:
    """The report carries the same numbers as the last one sent (``only_if_changed``)."""
    last = _read_state(folder).get(content.report.name, {}).get("fingerprint")
    return last is not None and last == json.loads(json.dumps(content.fingerprint()))


def remember(folder: Path, content: ReportContent, scheduled_for: datetime | None) -> None:
    state = _read_state(folder)
    entry = state.setdefault(content.report.name, {})
    entry["fingerprint"] = content.fingerprint()
    if scheduled_for is not None:
        entry["last_scheduled"] = scheduled_for.isoformat()
    _write_state(folder, state)


def mark_slot(folder: Path, name: str, slot: datetime) -> None:
    """Record that the scheduled time ``slot`` of report ``name`` was handled."""
    state = _read_state(folder)
    state.setdefault(name, {})["last_scheduled"] = slot.isoformat()
    _write_state(folder, state)


def skipped(content: ReportContent, trigger: str, now: datetime, folder: Path,
            scheduled_for: datetime | None) -> SendResult:  # fmt: skip
    result = SendResult(
        content.report.name, "skipped", trigger, content.as_of.today.isoformat(),
        f"{content.first}/{content.last}", recipients=list(content.report.to),
        formats=list(content.report.formats), at=now.isoformat(timespec="seconds"),
        scheduled_for=scheduled_for.isoformat() if scheduled_for else None,
        reason="only_if_changed: the numbers are the same as in the last report sent",
    )  # fmt: skip
    _log(folder, result)
    return result


def due(config: ReportsFile, folder: Path, now: datetime) -> list[tuple[Report, datetime]]:
    """The reports whose latest scheduled time has passed since they were last sent, each
    with that time: after downtime, a report that missed several runs is due once. A report
    seen for the first time starts its schedule from now (nothing is sent for the past)."""
    state = _read_state(folder)
    out = []
    changed = False
    for report in config.reports:
        if report.schedule is None:
            continue
        local = now.astimezone(ZoneInfo(report.timezone))
        latest: datetime = croniter(report.schedule, local).get_prev(datetime)
        entry = state.setdefault(report.name, {})
        since = entry.get("last_scheduled") or entry.get("first_seen")
        if since is None:
            entry["first_seen"] = local.isoformat()
            changed = True
            continue
        if latest > datetime.fromisoformat(since):
            out.append((report, latest))
    if changed:
        _write_state(folder, state)
    return out


def next_run(report: Report, now: datetime) -> datetime | None:
    if report.schedule is None:
        return None
    local = now.astimezone(ZoneInfo(report.timezone))
    found: datetime = croniter(report.schedule, local).get_next(datetime)
    return found


def last_sent(folder: Path) -> dict[str, str]:
    """When each report was last sent (from the log)."""
    out: dict[str, str] = {}
    for entry in delivery_log(folder, 10_000):
        if entry.get("result") in ("sent", "partial"):
            out[entry["report"]] = entry["at"]
    return out


def as_of_for(scheduled: datetime, timezone: str) -> date:
    """The as-of day of a scheduled run: the day it is due, in the workspace time zone."""
    return scheduled.astimezone(ZoneInfo(timezone)).date()
