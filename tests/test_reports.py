"""Reports end to end: reports.yaml validated (a bad file changes nothing), the content's
numbers counted by hand on a small fixture and equal to the CLI's, an e-mail delivered
through a real SMTP server on loopback (MIME structure, cid charts, the PDF attached:
landscape, text extractable), Slack through a real HTTP receiver, failures retried and
logged, the schedule driven by a set clock (missed runs sent once, only_if_changed)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pypdf
import pytest

from northstar import clock
from northstar.alerts import delivery
from northstar.errors import ReportConfigError, ReportNotFound
from northstar.workspace import Workspace
from tests.mail_helpers import Mailbox, free_port, smtp_server
from tests.metric_fixtures import load

FIRST = date(2026, 1, 1)
DAYS = 100
AS_OF = date(2026, 4, 1)  # a Wednesday: the last complete week is 2026-03-23..29
WEEK = (date(2026, 3, 23), date(2026, 3, 29))
PREVIOUS = (date(2026, 3, 16), date(2026, 3, 22))


def signups_on(day: date) -> int:
    return 10 + (day - FIRST).days % 7 + (5 if day >= date(2026, 3, 23) else 0)


def signups_between(first: date, last: date) -> int:
    return sum(signups_on(first + timedelta(days=i)) for i in range((last - first).days + 1))


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as found:
        yield found


class Receiver:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.bodies.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slack"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.server.shutdown()


REPORTS = """
reports:
  - name: weekly-exec
    title: Weekly KPI report
    to: [ceo@example.com, cfo@example.com]
    schedule: "0 8 * * MON"
    timezone: Europe/Paris
    formats: [email, pdf, slack]
    slack_url: "{slack}"
    sections: [scorecard, goals, kpis, movers, alerts, feedback, notes]
    kpis: [signups]
    notes: "Sign-ups rose after the new landing page."
"""


@pytest.fixture
def ws(tmp_path: Path, smtp: tuple[Mailbox, int], receiver: Receiver,
       monkeypatch: pytest.MonkeyPatch) -> Workspace:  # fmt: skip
    monkeypatch.setattr(delivery, "BACKOFF", (0.01, 0.01))
    ws = Workspace.init(tmp_path / "ws", timezone="UTC",
                        smtp={"host": "127.0.0.1", "port": smtp[1], "starttls": False})  # fmt: skip
    rows = []
    for i in range(DAYS):
        day = FIRST + timedelta(days=i)
        rows += [(f"u{i}-{k}", f"{day.isoformat()}T10:00:00Z", "{}")
                 for k in range(signups_on(day))]  # fmt: skip
    load(ws, "users", ["user_id", "created_at", "properties"], rows)
    ws.add_goal("signups", ">= 100", grain="week", start="2026-03-02", deadline="2026-06-28",
                today=AS_OF)  # fmt: skip
    (ws.path / "reports.yaml").write_text(REPORTS.format(slack=receiver.url), encoding="utf-8")
    return ws


def cli(ws: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "northstar.cli", *args, "--workspace", str(ws.path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_the_content_counts_the_week_and_matches_the_cli(ws: Workspace) -> None:
    doc = ws.reports().content("weekly-exec", today=AS_OF).to_dict()
    assert (doc["period"]["from"], doc["period"]["to"]) == tuple(d.isoformat() for d in WEEK)
    assert doc["compared_with"]["from"] == PREVIOUS[0].isoformat()
    (kpi,) = doc["kpis"]
    assert kpi["value"] == signups_between(*WEEK)  # 10+..+16 + 7*5 = 126
    assert kpi["previous"] == signups_between(*PREVIOUS)  # 91
    assert kpi["change_pct"] == pytest.approx(126 / 91 - 1)
    assert kpi["value_text"] == "126"
    # the scorecard section says what `northstar scorecard --format json` says
    shown = cli(ws, "scorecard", "--format", "json", "--as-of", AS_OF.isoformat())
    assert shown.returncode == 0, shown.stderr
    card = json.loads(shown.stdout)
    ours = {k["goal"]: (k["current_text"], k["status"], k["progress"])
            for k in doc["scorecard"]["kpis"]}  # fmt: skip
    theirs = {k["goal"]: (k["current_text"], k["status"], k["progress"])
              for k in card["unaligned"]}  # fmt: skip
    assert ours == theirs and ours
    assert doc["notes"] == "Sign-ups rose after the new landing page."
    assert doc["as_of"] == AS_OF.isoformat() and "data through" in doc["freshness"]


def test_send_delivers_a_multipart_email_with_cid_charts_and_a_landscape_pdf(
    ws: Workspace, smtp: tuple[Mailbox, int], receiver: Receiver
) -> None:
    box, _ = smtp
    done = cli(ws, "reports", "send", "weekly-exec", "--as-of", AS_OF.isoformat(),
               "--format", "json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["result"] == "sent" and set(result["delivered"]) == {"email", "slack"}
    (mail,) = box.messages
    assert box.recipients == [["ceo@example.com", "cfo@example.com"]]
    assert mail["Subject"].startswith("Weekly KPI report")
    assert mail.get_content_type() == "multipart/mixed"
    alternative, attachment = mail.get_payload()  # type: ignore[misc]
    assert alternative.get_content_type() == "multipart/alternative"
    plain, related = alternative.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html_part, *images = related.get_payload()
    html = html_part.get_payload(decode=True).decode()
    assert "<script" not in html and "<style" not in html  # styles inlined for Outlook/Gmail
    assert 'style="' in html and "<table" in html
    srcs = {s.split('"')[0] for s in html.split('src="')[1:]}
    assert srcs == {"cid:chart-signups@northstar"}  # no external image
    (image,) = images
    assert image.get_content_type() == "image/png"
    assert image["Content-ID"] == "<chart-signups@northstar>"
    assert image.get_payload(decode=True)[:8] == b"\x89PNG\r\n\x1a\n"
    assert "126" in plain.get_payload(decode=True).decode()
    assert attachment.get_content_type() == "application/pdf"
    pdf = pypdf.PdfReader(io.BytesIO(attachment.get_payload(decode=True)))
    box_ = pdf.pages[0].mediabox
    assert float(box_.width) == pytest.approx(841.89, abs=0.5)  # A4 landscape: 297 mm wide
    assert float(box_.height) == pytest.approx(595.28, abs=0.5)
    text = " ".join(p.extract_text() for p in pdf.pages)
    assert "Weekly KPI report" in text and "126" in text and "Page 1 of" in text
    shown = cli(ws, "scorecard", "--format", "json", "--as-of", AS_OF.isoformat())
    (row,) = json.loads(shown.stdout)["unaligned"]
    for key in ("current_text", "target_text"):  # the PDF says what the CLI says
        assert row[key] in text
    (slack,) = receiver.bodies
    assert "Sign-ups: *126* (+38.5 % vs 91)" in slack["text"]
    log = json.loads(cli(ws, "reports", "log", "--format", "json").stdout)
    assert log[-1]["recipients"] == ["ceo@example.com", "cfo@example.com"]
    assert log[-1]["result"] == "sent" and log[-1]["tries"] == {"email": 1, "slack": 1}


def test_a_failed_delivery_is_retried_then_logged(ws: Workspace, smtp: tuple[Mailbox, int]) -> None:
    dead = free_port()  # nothing listens there
    text = (ws.path / "northstar.yaml").read_text()
    (ws.path / "northstar.yaml").write_text(text.replace(f"port: {smtp[1]}", f"port: {dead}"))
    fresh = Workspace(ws.path)
    service = fresh.reports()
    service.sleep = lambda _: None
    result = service.send("weekly-exec", today=AS_OF)
    assert result.result == "partial"  # Slack took it, the mail server did not
    assert result.tries["email"] == 3 and "email" in result.failed
    (entry,) = service.log()
    assert entry["failed"]["email"] and entry["delivered"] == ["slack"]


def test_preview_writes_each_format(ws: Workspace, tmp_path: Path) -> None:
    for fmt in ("html", "pdf"):
        out = tmp_path / f"r.{fmt}"
        done = cli(ws, "reports", "preview", "weekly-exec", "--as-of", AS_OF.isoformat(),
                   "--format", fmt, "--output", str(out))  # fmt: skip
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "r.pdf").read_bytes()[:5] == b"%PDF-"
    assert "data:image/png;base64," in (tmp_path / "r.html").read_text()
    md = cli(ws, "reports", "preview", "weekly-exec", "--as-of", AS_OF.isoformat(),
             "--format", "md")  # fmt: skip
    assert "| Sign-ups | 126 | 91 | +38.5 % |" in md.stdout
    nope = cli(ws, "reports", "preview", "monthly", "--format", "md")
    assert nope.returncode == 1
    assert nope.stderr.strip() == "error: no report 'monthly'; the reports are: weekly-exec"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("reports: [{name: a, formats: [fax], to: [a@b.c]}]",
         "reports.yaml: report 'a', formats: 'fax' is not one of email, pdf, markdown, slack"),
        ("reports: [{name: a, schedule: 'every monday', to: [a@b.c]}]",
         "reports.yaml: report 'a', schedule: schedule 'every monday' is not a cron expression"),
        ("reports: [{name: a, formats: [email]}]",
         "reports.yaml: report 'a': formats email and pdf need recipients: add 'to: [...]'"),
        ("reports: [{name: a, to: [a@b.c], timezone: Mars/Base}]",
         "reports.yaml: report 'a', timezone: unknown time zone 'Mars/Base'"),
        ("reports: [{name: a, to: [x]}, {name: a, to: [a@b.c]}]",
         "reports.yaml: report 'a', to: 'x' is not an e-mail address"),
        ("reports: [oops", "reports.yaml: not valid YAML"),
    ],
)  # fmt: skip
def test_a_bad_reports_yaml_is_one_line_and_changes_nothing(
    ws: Workspace, text: str, message: str
) -> None:
    ws.reports().send("weekly-exec", today=AS_OF)
    before = sorted(p.name for p in (ws.path / "reports").rglob("*"))
    log = (ws.path / "reports" / "log.jsonl").read_text()
    (ws.path / "reports.yaml").write_text(text)
    with pytest.raises(ReportConfigError) as err:
        ws.reports().listing()
    assert str(err.value).startswith(message) and "\n" not in str(err.value)
    with pytest.raises(ReportConfigError):
        ws.reports().run_due()
    assert sorted(p.name for p in (ws.path / "reports").rglob("*")) == before
    assert (ws.path / "reports" / "log.jsonl").read_text() == log
    done = cli(ws, "reports", "list")
    assert done.returncode == 1 and done.stderr.startswith("error: " + message)
    assert "Traceback" not in done.stderr


def test_unknown_report(ws: Workspace) -> None:
    with pytest.raises(ReportNotFound):
        ws.reports().send("nope")


def at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    """Move the product's one clock to ``moment`` (docs/freshness.md)."""
    monkeypatch.setenv(clock.ENV_VAR, moment.isoformat())


def test_the_schedule_sends_at_the_cron_time_and_missed_runs_once(
    ws: Workspace, smtp: tuple[Mailbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    box, _ = smtp
    paris_8am_utc = 7  # Europe/Paris is UTC+1 in winter and spring before March 29
    service = ws.reports()
    # first seen on Sunday 2026-03-08: nothing is sent for the past
    at(monkeypatch, datetime(2026, 3, 8, 12, 0, tzinfo=UTC))
    assert service.run_due() == []
    # Monday 07:59 Paris: not yet
    at(monkeypatch, datetime(2026, 3, 9, paris_8am_utc - 1, 59, tzinfo=UTC))
    assert service.run_due() == []
    # Monday 08:00 Paris: sent once, as of that Monday (the week of March 2 reported)
    at(monkeypatch, datetime(2026, 3, 9, paris_8am_utc, 0, 30, tzinfo=UTC))
    (sent,) = service.run_due()
    assert (sent.result, sent.trigger, sent.as_of) == ("sent", "schedule", "2026-03-09")
    assert sent.period == "2026-03-02/2026-03-08"
    assert service.run_due() == []  # again in the same minute: nothing
    # the server is down for three weeks: one report for the latest missed Monday
    at(monkeypatch, datetime(2026, 4, 1, 12, 0, tzinfo=UTC))
    (late,) = service.run_due()
    assert late.scheduled_for == "2026-03-30T08:00:00+02:00"  # summer time by then
    assert late.period == "2026-03-23/2026-03-29"
    assert service.run_due() == []
    assert len(box.messages) == 2


def test_only_if_changed_skips_a_report_with_the_same_numbers(ws: Workspace) -> None:
    text = (
        (ws.path / "reports.yaml")
        .read_text()
        .replace("    notes:", "    only_if_changed: true\n    notes:")
    )
    (ws.path / "reports.yaml").write_text(text)
    service = ws.reports()
    assert service.send("weekly-exec", today=AS_OF).result == "sent"
    again = service.send("weekly-exec", today=AS_OF)
    assert again.result == "skipped" and "only_if_changed" in (again.reason or "")
    assert service.send("weekly-exec", today=AS_OF + timedelta(days=7)).result == "sent"
    assert [e["result"] for e in service.log()] == ["sent", "skipped", "sent"]


def test_the_server_schedule_thread_sends_what_is_due(
    ws: Workspace, smtp: tuple[Mailbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from northstar.server.reports_schedule import ReportSchedule

    box, _ = smtp
    at(monkeypatch, datetime(2026, 3, 8, 12, 0, tzinfo=UTC))
    schedule = ReportSchedule(ws, 0.05)
    schedule.tick()  # first seen: nothing for the past
    at(monkeypatch, datetime(2026, 3, 9, 7, 5, tzinfo=UTC))
    schedule.start()
    try:
        for _ in range(200):  # bounded: at most 10 s
            if schedule.rounds >= 3:
                break
            threading.Event().wait(0.05)
    finally:
        schedule.stop()
    assert schedule.rounds >= 3 and len(box.messages) == 1
    assert [e["trigger"] for e in ws.reports().log()] == ["schedule"]
