"""Playwright on Debian's Chromium (never a downloaded browser) for the web UI tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

CHROMIUM = os.environ.get("NORTHSTAR_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def chromium_path() -> str | None:
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")


@contextmanager
def browser() -> Iterator[Browser]:
    path = chromium_path()
    if path is None:
        raise RuntimeError("chromium is not installed; 'make test' installs it (apt chromium)")
    os.environ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()
