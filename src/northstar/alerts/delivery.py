"""Delivering an alert: e-mail (SMTP), webhook (signed JSON), Slack (incoming webhook).

Each delivery is tried ``len(BACKOFF) + 1`` times with the waits of ``BACKOFF`` between
tries; what still fails raises :class:`DeliveryError` with the reason, which the runner
records and retries on the next run (never dropped silently).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import smtplib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx

from northstar.alerts.config import EmailChannel, FileChannel, SlackChannel, WebhookChannel
from northstar.settings import SmtpSettings

BACKOFF: tuple[float, ...] = (0.5, 2.0)  # seconds between tries (bounded: 3 tries)
TIMEOUT = 10.0  # seconds per HTTP or SMTP attempt


class DeliveryError(Exception):
    """A channel that could not take the alert after every try."""


@dataclass(frozen=True)
class Message:
    subject: str
    text: str  # plain text, what people read
    payload: dict[str, Any]  # the machine-readable alert (webhook body)
    link: str | None = None


def signature(secret: str, body: bytes) -> str:
    """``X-Northstar-Signature``: ``sha256=`` + the hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def retry(send: Callable[[], None], sleep: Callable[[float], None] = time.sleep) -> int:
    """Call ``send`` until it succeeds, waiting ``BACKOFF`` between tries; the number of
    tries it took, or DeliveryError with the last reason."""
    last: Exception | None = None
    for tries, wait in enumerate((*BACKOFF, None), start=1):
        try:
            send()
            return tries
        except (OSError, smtplib.SMTPException, httpx.HTTPError, DeliveryError) as exc:
            last = exc
            if wait is not None:
                sleep(wait)
    raise DeliveryError(str(last) or type(last).__name__)


def _post(url: str, body: bytes, headers: Mapping[str, str]) -> None:
    answer = httpx.post(url, content=body, headers=dict(headers), timeout=TIMEOUT)
    if answer.status_code >= 300:
        raise DeliveryError(f"{url} answered {answer.status_code}")


def deliver(
    channel: EmailChannel | WebhookChannel | SlackChannel | FileChannel,
    message: Message,
    smtp: SmtpSettings,
    env: Mapping[str, str] = os.environ,
    folder: Path | None = None,
) -> None:
    """Send ``message`` through one channel (retried; DeliveryError when it cannot)."""
    if isinstance(channel, FileChannel):
        if folder is None or ".." in Path(channel.path).parts:
            raise DeliveryError(f"{channel.path}: a file channel writes inside the workspace")
        target = folder / channel.path
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a", encoding="utf-8") as f:
            f.write(json.dumps(message.payload, sort_keys=True) + "\n")
        return
    if isinstance(channel, WebhookChannel):
        body = json.dumps(message.payload, sort_keys=True).encode()
        headers = {"Content-Type": "application/json"}
        if channel.secret_env:
            secret = env.get(channel.secret_env)
            if not secret:
                raise DeliveryError(
                    f"the environment variable {channel.secret_env} (the webhook's secret) "
                    "is not set"
                )
            headers["X-Northstar-Signature"] = signature(secret, body)
        retry(lambda: _post(channel.url, body, headers))
        return
    if isinstance(channel, SlackChannel):
        text = f"*{message.subject}*\n{message.text}"
        if message.link:
            text += f"\n<{message.link}|Open the chart>"
        body = json.dumps({"text": text}).encode()
        retry(lambda: _post(channel.url, body, {"Content-Type": "application/json"}))
        return
    retry(lambda: _mail(channel, message, smtp, env))


def _mail(
    channel: EmailChannel, message: Message, smtp: SmtpSettings, env: Mapping[str, str]
) -> None:
    if not smtp.host:
        raise DeliveryError("no SMTP server: set smtp.host in northstar.yaml")
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = smtp.sender
    mail["To"] = ", ".join(channel.to)
    mail.set_content(message.text + (f"\n\nChart: {message.link}" if message.link else ""))
    send_mail(mail, smtp, env)


def send_mail(mail: EmailMessage, smtp: SmtpSettings, env: Mapping[str, str]) -> None:
    """One SMTP attempt (STARTTLS and login as ``smtp`` says; secrets from ``env``)."""
    if not smtp.host:
        raise DeliveryError("no SMTP server: set smtp.host in northstar.yaml")
    with smtplib.SMTP(smtp.host, smtp.port, timeout=TIMEOUT) as server:
        if smtp.starttls:
            server.starttls()
        user = env.get(smtp.username_env) if smtp.username_env else None
        password = env.get(smtp.password_env) if smtp.password_env else None
        if user and password:
            server.login(user, password)
        server.send_message(mail)
