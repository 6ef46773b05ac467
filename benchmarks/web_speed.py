"""Web page speed: the scorecard and the KPI explorer on the 20M-event workspace.

Run:  make bench-web    (or: .venv/bin/python benchmarks/web_speed.py --runs 20)

Copies benchmarks/.data/ws-20m (built by ``make bench-metrics``; never modified here)
to a temporary folder, writes the demo's objectives and goals into the copy (the demo's
data ends on 2026-10-31, so goals are judged as of 2026-11-01), starts ``northstar
serve`` on 127.0.0.1, and fetches each page once (cold: the results cache is empty) and
then ``--runs`` times (warm: metric results come from the workspace's results cache,
keyed by the store's data version). It reports the cold time and the warm p50/p95 of
the whole HTTP answer (server time: queries, goal tracking and forecasts, rendering).

As the floor to compare with, it times the same Workspace calls the pages make
(``scorecard()``; ``query()`` and ``track_goal()`` for the explorer) in this process,
with the same warm cache, so the difference is what the web layer adds.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import httpx

from northstar.demo.goals import install_demo_goals
from northstar.workspace import Workspace

DATA = Path(__file__).parent / ".data" / "ws-20m"
DATA_END = date(2026, 10, 31)
PAGES = {
    "scorecard": "/",
    "explorer (MRR, month, goal lines)": "/explore?metric=mrr&grain=month",
    "explorer (DAU by day, 90 days)": "/explore?metric=dau&grain=day&start=2026-08-02"
    "&end=2026-10-31",
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[k]


def start_server(path: Path) -> tuple[subprocess.Popen[bytes], str]:
    info = path / "ingest-log" / "server.json"
    info.unlink(missing_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-c", "from northstar.cli.app import main; main()", "serve",
         "-w", str(path), "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        if info.exists():
            try:
                url = str(json.loads(info.read_text())["url"])
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    return process, url
            except (ValueError, KeyError, httpx.HTTPError):
                pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start in 120 s")


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    if not (DATA / "bench-build.json").exists():
        raise SystemExit(f"{DATA} is missing; build it with: make bench-metrics")
    with tempfile.TemporaryDirectory(prefix="ns-web-bench-") as tmp:
        path = Path(tmp) / "ws"
        shutil.copytree(DATA, path, ignore=shutil.ignore_patterns(".cache", "ingest-log"))
        ws = Workspace(path)
        install_demo_goals(ws, DATA_END)
        ws = Workspace(path)
        process, url = start_server(path)
        results = []
        try:
            with httpx.Client(base_url=url, timeout=600) as client:
                for name, page in PAGES.items():

                    def get(page: str = page) -> None:
                        answer = client.get(page)
                        if answer.status_code != 200:
                            raise SystemExit(f"{page}: HTTP {answer.status_code}")

                    cold = timed(get, 1)[0]
                    warm = timed(get, args.runs)
                    results.append((name, cold, warm))
        finally:
            process.terminate()
            process.wait(60)
        book = ws.goal_book()
        mrr_goal = next(g for g in book.goals if g.metric == "mrr")
        floors = {
            "scorecard": lambda: ws.scorecard(),
            "explorer (MRR, month, goal lines)": lambda: (
                ws.query("mrr", grain="month"),
                ws.track_goal(mrr_goal.id),
            ),
            "explorer (DAU by day, 90 days)": lambda: ws.query(
                "dau", grain="day", start="2026-08-02", end="2026-10-31"
            ),
        }
        print(f"Web page load on {DATA.name} (warm: {args.runs} runs after one cold load)")
        print(f"{'page':38} {'cold':>8} {'p50':>8} {'p95':>8} {'Workspace p50':>14}")
        for name, cold, warm in results:
            floor = statistics.median(timed(floors[name], max(3, args.runs // 4)))
            print(
                f"{name:38} {cold:7.2f}s {statistics.median(warm):7.3f}s "
                f"{percentile(warm, 0.95):7.3f}s {floor:13.3f}s"
            )


if __name__ == "__main__":
    main()
