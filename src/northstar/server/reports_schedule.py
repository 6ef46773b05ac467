"""``northstar serve`` sends each report at its cron time in its time zone
(docs/reports.md#schedule).

A daemon thread asks ``ReportService.run_due`` every ``server.reports_seconds`` while the
server runs (when the workspace has a ``reports.yaml``). A report whose time passed while
the server was down is sent once when it comes back, not once per missed run; what goes
wrong — a bad file, a mail server that refuses — is one log line and a delivery log entry.
"""

from __future__ import annotations

import logging
import threading

from northstar.errors import NorthstarError
from northstar.present import charts
from northstar.reports.config import REPORTS_FILE
from northstar.workspace import Workspace

log = logging.getLogger("northstar.reports")


class ReportSchedule:
    def __init__(self, ws: Workspace, every: float) -> None:
        self.ws = ws
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="northstar-reports", daemon=True)
        self.rounds = 0

    def start(self) -> None:
        if self.every > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=60)

    def tick(self) -> None:
        """One check: send what is due."""
        if not (self.ws.path / REPORTS_FILE).exists():
            return
        try:
            for result in self.ws.reports().run_due():
                log.info("report %s %s (delivered: %s)", result.report, result.result,
                         ", ".join(result.delivered) or "none")  # fmt: skip
        except NorthstarError as exc:
            log.warning("reports not checked: %s", exc)
        except Exception:
            log.exception("reports round failed")
        self.rounds += 1

    def _loop(self) -> None:
        if (self.ws.path / REPORTS_FILE).exists():
            charts.warm_up()  # the first report (sent or previewed) need not load it
        self.tick()
        while not self._stop.wait(self.every):
            self.tick()
