"""Alert rules end to end: a real SMTP server (aiosmtpd) and a real HTTP receiver on
loopback, episodes that notify once when they fire and once when they resolve, signed
webhooks, failed deliveries kept and retried, a bad alerts.yaml that changes nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from northstar.alerts import delivery
from northstar.errors import AlertConfigError
from northstar.workspace import Workspace
from tests.mail_helpers import Mailbox, smtp_server
from tests.metric_fixtures import load

FIRST = date(2026, 1, 1)
DROP = FIRST + timedelta(days=150)  # sign-ups collapse that day


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as found:
        yield found


class Receiver:
    """A loopback HTTP server keeping what it is sent; ``failures`` answers 500 first."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.failures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.failures > 0:
                    receiver.failures -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.requests.append({"path": self.path, "headers": dict(self.headers),
                                          "body": body})  # fmt: skip
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def on(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.server.shutdown()


@pytest.fixture
def ws(tmp_path: Path, smtp: tuple[Mailbox, int], receiver: Receiver,
       monkeypatch: pytest.MonkeyPatch) -> Workspace:  # fmt: skip
    monkeypatch.setattr(delivery, "BACKOFF", (0.01, 0.01))
    monkeypatch.setenv("NS_HOOK_SECRET", "s3cret")
    ws = Workspace.init(tmp_path / "ws", timezone="UTC",
                        smtp={"host": "127.0.0.1", "port": smtp[1], "starttls": False})  # fmt: skip
    rng = np.random.default_rng(7)
    rows = []
    for day in range(200):
        n = int(rng.integers(18, 23)) if FIRST + timedelta(days=day) != DROP else 3
        when = (FIRST + timedelta(days=day)).isoformat() + "T10:00:00Z"
        rows += [(f"u{day}-{i}", when, "{}") for i in range(n)]
    load(ws, "users", ["user_id", "created_at", "properties"], rows)
    (ws.path / "alerts.yaml").write_text(
        f"""
channels:
  team-mail: {{type: email, to: [pm@example.com]}}
  ops-hook: {{type: webhook, url: "{receiver.url}/hook", secret_env: NS_HOOK_SECRET}}
  product: {{type: slack, url: "{receiver.url}/slack"}}
rules:
  - {{name: signups-drop, metric: signups, grain: day, when: anomaly, direction: down, channels: [team-mail, ops-hook, product]}}
  - {{name: signups-low, metric: signups, grain: day, when: below, value: 10, channels: [ops-hook]}}
""",
        encoding="utf-8",
    )
    return ws


def run(ws: Workspace, day: date) -> dict[str, Any]:
    outcomes, _ = ws.run_alerts(today=day)
    return {o.rule: o for o in outcomes}


def test_an_episode_notifies_once_when_it_fires_and_once_when_it_resolves(
    ws: Workspace, smtp: tuple[Mailbox, int], receiver: Receiver
) -> None:
    box, _ = smtp
    before = run(ws, DROP)  # the drop's day is not complete yet: nothing
    assert before == {}
    fired = run(ws, DROP + timedelta(days=1))
    drop = fired["signups-drop"]
    assert (drop.state, drop.period, drop.value) == ("fired", DROP.isoformat(), 3)
    assert drop.delivered == ["team-mail", "ops-hook", "product"]
    assert fired["signups-low"].state == "fired"
    # the e-mail, through the real SMTP server
    (mail,) = box.messages
    assert "signups-drop" in mail["Subject"] and mail["To"] == "pm@example.com"
    assert "signups was 3 on " + DROP.isoformat() in mail.get_payload()
    assert "/explore?metric=signups&grain=day" in mail.get_payload()
    # the webhook: JSON signed with HMAC-SHA256 of the raw body
    hooks = receiver.on("/hook")
    body = next(h["body"] for h in hooks if json.loads(h["body"])["rule"] == "signups-drop")
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    signed = next(h for h in hooks if h["body"] == body)["headers"]["X-Northstar-Signature"]
    assert signed == expected
    sent = json.loads(body)
    assert (sent["state"], sent["value"], sent["period"]) == ("fired", 3, DROP.isoformat())
    # Slack's incoming-webhook format
    (slack,) = receiver.on("/slack")
    assert "signups-drop" in json.loads(slack["body"])["text"]
    # the same day again: the episode goes on, nobody is notified again
    again = run(ws, DROP + timedelta(days=1))
    assert again["signups-drop"].state == "ongoing" and again["signups-drop"].delivered == []
    assert len(box.messages) == 1
    # days later the series is back to normal: resolved, notified once
    later = {}
    for k in range(2, 12):
        later = run(ws, DROP + timedelta(days=k))
        if "signups-drop" in later and later["signups-drop"].state == "resolved":
            break
    assert later["signups-drop"].state == "resolved"
    assert later["signups-drop"].delivered == ["team-mail", "ops-hook", "product"]
    assert len(box.messages) == 2 and "RESOLVED" in box.messages[1]["Subject"]
    states = [h["state"] for h in ws.alert_history() if h.get("rule") == "signups-drop"]
    assert states[0] == "fired" and states[-1] == "resolved"


def test_a_failed_delivery_is_recorded_and_delivered_on_the_next_run(
    ws: Workspace, receiver: Receiver
) -> None:
    receiver.failures = 100  # the receiver is down: every try of this run fails
    outcomes = run(ws, DROP + timedelta(days=1))
    assert "ops-hook" in outcomes["signups-drop"].failed
    assert "team-mail" in outcomes["signups-drop"].delivered
    assert any(h.get("failed") for h in ws.alert_history())
    receiver.failures = 0
    run(ws, DROP + timedelta(days=1))
    assert [json.loads(h["body"])["rule"] for h in receiver.on("/hook")].count("signups-drop") == 1
    assert any(h["state"] == "redelivered" for h in ws.alert_history())


def test_a_bad_alerts_file_is_one_error_and_changes_nothing(ws: Workspace) -> None:
    run(ws, DROP + timedelta(days=1))
    state = (ws.path / "alerts" / "state.json").read_text()
    text = (ws.path / "alerts.yaml").read_text().replace("[ops-hook]}", "[nowhere]}")
    (ws.path / "alerts.yaml").write_text(text)
    with pytest.raises(AlertConfigError, match="rule 'signups-low'.*unknown channel 'nowhere'"):
        ws.run_alerts(today=DROP + timedelta(days=2))
    assert (ws.path / "alerts" / "state.json").read_text() == state
    (ws.path / "alerts.yaml").write_text("rules:\n  - {name: x, when: anomaly, channels: [a]}\n")
    with pytest.raises(AlertConfigError, match="needs metric"):
        ws.run_alerts(today=DROP + timedelta(days=2))


def test_the_cli_prints_the_contract(ws: Workspace) -> None:
    out = subprocess.run(
        [sys.executable, "-c", "from northstar.cli.app import main; main()", "alerts", "run",
         "-w", str(ws.path), "--as-of", (DROP + timedelta(days=1)).isoformat(), "--format", "json"],
        capture_output=True, text=True, check=False,
        env={**__import__("os").environ, "NS_HOOK_SECRET": "s3cret"},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert {"rule", "metric", "period", "value", "expected", "state", "delivered"} <= set(rows[0])
    history = subprocess.run(
        [sys.executable, "-c", "from northstar.cli.app import main; main()", "alerts", "history",
         "-w", str(ws.path), "--format", "json"], capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert history.returncode == 0 and json.loads(history.stdout)[0]["state"] == "fired"


def test_muted_and_snoozed_rules_stay_silent(ws: Workspace, smtp: tuple[Mailbox, int]) -> None:
    text = (ws.path / "alerts.yaml").read_text()
    text = text.replace("value: 10, channels", "value: 10, muted: true, channels")
    snooze = (DROP + timedelta(days=3)).isoformat()
    text = text.replace(
        "direction: down, channels", f"direction: down, snooze_until: {snooze}, channels"
    )
    (ws.path / "alerts.yaml").write_text(text)
    assert run(ws, DROP + timedelta(days=1)) == {}
    assert smtp[0].messages == []


def test_the_server_evaluates_the_rules_on_its_schedule(tmp_path: Path, receiver: Receiver) -> None:
    import time

    from tests.server_helpers import running_server

    ws = Workspace.init(tmp_path / "served", timezone="UTC", server={"alerts_seconds": 1})
    (ws.path / "alerts.yaml").write_text(
        f"""
channels:
  hook: {{type: webhook, url: "{receiver.url}/hook"}}
rules:
  - {{name: stale, when: stale, hours: 24, channels: [hook]}}
""",
        encoding="utf-8",
    )
    with running_server(ws, today="2026-12-05"):
        deadline = time.monotonic() + 30
        while not receiver.on("/hook") and time.monotonic() < deadline:
            time.sleep(0.2)
    (hook,) = receiver.on("/hook")  # fired once; the next rounds see it ongoing
    body = json.loads(hook["body"])
    assert (body["rule"], body["state"]) == ("stale", "fired")
    assert Workspace(ws.path).alert_history()[0]["state"] == "fired"


def test_the_alerts_page_shows_rules_history_and_snoozes(ws: Workspace) -> None:
    import httpx

    from tests.server_helpers import running_server

    run(ws, DROP + timedelta(days=1))
    with running_server(ws, today=(DROP + timedelta(days=1)).isoformat()) as srv:
        client = httpx.Client(base_url=srv.url, timeout=30)
        page = client.get("/alerts")
        assert page.status_code == 200
        assert 'data-rule="signups-drop"' in page.text and "firing" in page.text
        assert "signups was 3 on " + DROP.isoformat() in page.text  # the history
        client.cookies.update(page.cookies)  # the page session (docs/web.md)
        snoozed = client.post("/alerts/signups-drop/snooze", data={"until": "2026-07-01"},
                              follow_redirects=True)  # fmt: skip
        assert snoozed.status_code == 200 and "through 2026-07-01" in snoozed.text
    rules = {r["name"]: r for r in Workspace(ws.path).alert_rules(today=DROP + timedelta(days=2))}
    assert rules["signups-drop"]["state"] == "snoozed"
    assert run(ws, DROP + timedelta(days=2)).get("signups-drop") is None  # silent
    with pytest.raises(AlertConfigError, match="no alert rule 'nope'"):
        ws.snooze_alert("nope", "2026-07-01")


def test_a_rule_by_segment_names_the_segment_and_a_file_channel_keeps_it(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "seg", timezone="UTC")
    rng = np.random.default_rng(3)
    rows = []
    for day in range(200):
        when = (FIRST + timedelta(days=day)).isoformat() + "T10:00:00Z"
        for plan in ("free", "pro"):
            n = int(rng.integers(18, 23))
            if plan == "pro" and FIRST + timedelta(days=day) == DROP:
                n = 2  # only Pro sign-ups collapse; the total barely moves
            rows += [(f"u{day}-{plan}-{i}", when, json.dumps({"plan": plan})) for i in range(n)]
    load(ws, "users", ["user_id", "created_at", "properties"], rows)
    (ws.path / "alerts.yaml").write_text(
        """
channels:
  inbox: {type: file, path: alerts/inbox.jsonl}
rules:
  - {name: signups-by-plan, metric: signups, when: anomaly, direction: down, by: plan, channels: [inbox]}
""",
        encoding="utf-8",
    )
    fired = run(ws, DROP + timedelta(days=1))["signups-by-plan"]
    assert fired.state == "fired" and fired.delivered == ["inbox"] and fired.value == 2
    assert "signups for plan = pro was 2" in fired.message
    # issue 21: the alert names the top drivers explain finds for that day
    assert "Top drivers: plan = pro" in fired.message
    (line,) = (ws.path / "alerts" / "inbox.jsonl").read_text().splitlines()
    assert json.loads(line)["rule"] == "signups-by-plan"


def test_the_demo_ships_valid_default_rules(tmp_path: Path) -> None:
    from northstar.alerts.config import load_alerts
    from northstar.demo.load import install_demo_alerts

    ws = Workspace.init(tmp_path / "demo", timezone="UTC")
    install_demo_alerts(ws)
    rules = {r.name: r for r in load_alerts(ws.path).rules}
    assert rules["dau-drop-by-os"].by == "$os" and rules["churn-high"].value == 0.05
    assert set(load_alerts(ws.path).channels) == {"inbox"}  # the demo never sends anything
