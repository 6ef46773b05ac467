"""``northstar serve`` evaluates the alert rules on a schedule (docs/alerts.md).

A daemon thread runs ``Workspace.run_alerts`` every ``server.alerts_seconds`` while the
server runs (when the workspace has an ``alerts.yaml``); what goes wrong — a bad file, a
query error — is one log line, and the next round tries again.
"""

from __future__ import annotations

import logging
import threading

from northstar.alerts.config import ALERTS_FILE
from northstar.errors import NorthstarError
from northstar.workspace import Workspace

log = logging.getLogger("northstar.alerts")


class AlertSchedule:
    def __init__(self, ws: Workspace, every: float) -> None:
        self.ws = ws
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="northstar-alerts", daemon=True)
        self.rounds = 0

    def start(self) -> None:
        if self.every > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            if not (self.ws.path / ALERTS_FILE).exists():
                continue
            try:
                outcomes, _ = self.ws.run_alerts()
                for o in outcomes:
                    log.info("alert %s %s (delivered: %s)", o.rule, o.state,
                             ", ".join(o.delivered) or "none")  # fmt: skip
            except NorthstarError as exc:
                log.warning("alerts not evaluated: %s", exc)
            except Exception:
                log.exception("alerts round failed")
            self.rounds += 1
