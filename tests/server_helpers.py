"""Run a real ``northstar serve`` process on 127.0.0.1 (a free port) for tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from northstar.workspace import Workspace


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    url: str
    workspace: Path

    def kill9(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def wait_flushed(self, timeout: float = 20.0) -> dict[str, object]:
        """Wait until the server's log holds nothing that is not in the store."""
        deadline = time.monotonic() + timeout
        while True:
            health = httpx.get(self.url + "/health", timeout=5).json()
            if health["log"]["waiting_events"] == 0 and health["log"]["waiting_segments"] == 0:
                return dict(health)
            if time.monotonic() > deadline:
                raise AssertionError(f"not flushed in {timeout} s: {health}")
            time.sleep(0.05)


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from northstar.cli.app import main; main()", *args],
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


@contextmanager
def running_server(ws: Workspace, *, today: str | None = None) -> Iterator[RunningServer]:
    """Start ``northstar serve --port 0`` on the workspace; stop it (SIGTERM) after.
    ``today`` sets the server's clock (NORTHSTAR_TODAY); by default it inherits the
    test process's environment."""
    env = dict(os.environ)
    if today is not None:
        env["NORTHSTAR_TODAY"] = today
    info = ws.path / "ingest-log" / "server.json"
    info.unlink(missing_ok=True)
    log_file = (ws.path / "server-test.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-c", "from northstar.cli.app import main; main()", "serve",
         "-w", str(ws.path), "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.DEVNULL, stderr=log_file, env=env,
    )  # fmt: skip
    log_file.close()
    server = None
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                err = (ws.path / "server-test.log").read_text(errors="replace")
                raise AssertionError(f"server exited with {process.returncode}: {err}")
            if info.exists():
                try:
                    url = json.loads(info.read_text())["url"]
                    if httpx.get(url + "/health", timeout=2).status_code == 200:
                        break
                except (ValueError, KeyError, httpx.HTTPError):
                    pass
            if time.monotonic() > deadline:
                raise AssertionError("server did not start within 60 s")
            time.sleep(0.05)
        server = RunningServer(process, url, ws.path)
        yield server
    finally:
        if server is not None:
            server.stop()
        elif process.poll() is None:
            process.kill()
            process.wait(10)


def server_workspace(path: Path) -> Workspace:
    """A workspace whose server flushes every 0.2 s (tests wait less)."""
    return Workspace.init(path, timezone="UTC", server={"flush_seconds": 0.2})
