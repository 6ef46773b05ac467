"""The reports service: list, preview, send now, send what is due, the delivery log
(``Workspace.reports()``; the CLI, the server's schedule and the web call it)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from northstar import clock
from northstar.errors import ReportError
from northstar.reports.config import load_reports
from northstar.reports.content import ReportContent, ReportSource, build_report
from northstar.reports.render import chart_images, render_html, render_markdown, render_pdf
from northstar.reports.runner import (
    SendResult,
    as_of_for,
    deliver_report,
    delivery_log,
    due,
    last_sent,
    mark_slot,
    next_run,
    remember,
    report_link,
    skipped,
    unchanged,
)

PreviewFormat = Literal["html", "pdf", "md", "json"]
PREVIEW_FORMATS = ("html", "pdf", "md", "json")


@dataclass
class ReportService:
    source: ReportSource
    folder: Path
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    sleep: Callable[[float], None] | None = None  # between delivery tries (tests: no wait)
    memo: Callable[[tuple[Any, ...], Callable[[], bytes]], bytes] | None = None

    def _now(self) -> datetime:
        return clock.now(self.source.settings.timezone)

    def listing(self) -> list[dict[str, Any]]:
        """Every report of ``reports.yaml`` with its next run and last send."""
        config = load_reports(self.folder)
        now = self._now()
        sent = last_sent(self.folder)
        out = []
        for r in config.reports:
            upcoming = next_run(r, now)
            out.append({
                "name": r.name, "title": r.title, "to": r.to, "schedule": r.schedule,
                "timezone": r.timezone, "formats": r.formats, "sections": r.sections,
                "kpis": r.kpis, "period": r.grain, "only_if_changed": r.only_if_changed,
                "next_run": upcoming.isoformat() if upcoming else None,
                "last_sent": sent.get(r.name),
            })  # fmt: skip
        return out

    def content(self, name: str, *, today: date | None = None) -> ReportContent:
        report = load_reports(self.folder).get(name)
        return build_report(self.source, report, today=today)

    def preview(self, name: str, fmt: str, *, today: date | None = None) -> bytes:
        """The report as it would be sent, as HTML (the e-mail's layout, charts embedded),
        PDF, Markdown or JSON (its content)."""
        if fmt not in PREVIEW_FORMATS:
            raise ReportError(f"--format {fmt!r}: use one of {', '.join(PREVIEW_FORMATS)}")
        if self.memo is None:
            return self._preview(name, fmt, today)
        day = self.source.as_of(today).today
        return self.memo(("report", name, fmt, day), lambda: self._preview(name, fmt, day))

    def _preview(self, name: str, fmt: str, today: date | None) -> bytes:
        content = self.content(name, today=today)
        settings = self.source.settings
        link = report_link(settings)
        if fmt == "pdf":
            return render_pdf(content, settings.currency, settings.reports)
        if fmt == "md":
            return render_markdown(content, link).encode()
        if fmt == "json":
            return json.dumps(content.to_dict(), indent=2, default=str).encode()
        images = chart_images(content, settings.currency, "web")
        return render_html(content, "web", images, settings=settings.reports, link=link).encode()

    def send(
        self, name: str, *, today: date | None = None, trigger: str = "manual",
        scheduled_for: datetime | None = None,
    ) -> SendResult:  # fmt: skip
        """Build and deliver a report now (``only_if_changed`` skips it when its numbers
        are those of the last report sent)."""
        content = self.content(name, today=today)
        now = self._now()
        if content.report.only_if_changed and unchanged(self.folder, content):
            return skipped(content, trigger, now, self.folder, scheduled_for)
        result = deliver_report(
            content, self.source.settings, self.folder, trigger=trigger, now=now,
            env=self.env, scheduled_for=scheduled_for, sleep=self.sleep,
        )  # fmt: skip
        if result.result != "failed":
            remember(self.folder, content, scheduled_for)
        elif scheduled_for is not None:
            # a scheduled send that failed everywhere is still marked done for that slot
            # (the log has the failure; the next slot tries again), so that a dead mail
            # server does not make every round resend.
            mark_slot(self.folder, content.report.name, scheduled_for)
        return result

    def run_due(self) -> list[SendResult]:
        """Send every report whose scheduled time has passed since it was last sent (once,
        however many runs were missed)."""
        config = load_reports(self.folder)
        now = self._now()
        out = []
        for report, slot in due(config, self.folder, now):
            derived = self.source.as_of().today
            day = min(derived, as_of_for(slot, self.source.settings.timezone))
            out.append(self.send(report.name, today=day, trigger="schedule", scheduled_for=slot))
        return out

    def log(self, limit: int = 200) -> list[dict[str, Any]]:
        return delivery_log(self.folder, limit)
