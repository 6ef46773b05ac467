"""How long the ``northstar`` command takes to start: its help, a command's help, and a
query answered from the workspace's results cache, each as a whole process.

Run:  make bench-startup    (or: .venv/bin/python benchmarks/startup_speed.py --runs 10)

Each command runs once to warm the OS file cache (and, for the query, to fill the results
cache), then ``--runs`` times; the medians and the worst are printed next to the goals of
issue 18 (``--help`` under 0.3 s, a cached query under 0.5 s) and, for scale, a bare
``python -c pass`` and ``python -c "import typer"``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NORTHSTAR = [str(Path(sys.executable).parent / "northstar")]  # the installed command


def timed(command: list[str], runs: int) -> list[float]:
    subprocess.run(command, capture_output=True, check=True, timeout=300)  # warm-up
    seconds = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True, timeout=300)
        seconds.append(time.perf_counter() - t0)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-w", "--workspace", type=Path, default=ROOT / "demo-workspace")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    if not (args.workspace / "northstar.yaml").exists():
        raise SystemExit(f"{args.workspace} is not a workspace; build it with: make demo")
    cases = [
        ("python -c pass", [sys.executable, "-c", "pass"], None),
        ("python -c 'import typer'", [sys.executable, "-c", "import typer"], None),
        ("northstar --help", [*NORTHSTAR, "--help"], 0.3),
        ("northstar query --help", [*NORTHSTAR, "query", "--help"], None),
        ("northstar query dau (cached)",
         [*NORTHSTAR, "query", "dau", "-w", str(args.workspace), "--from", "2026-10-01",
          "--to", "2026-10-07"], 0.5),
    ]  # fmt: skip
    print(f"Start-up, whole processes ({args.runs} runs each)\n")
    print("| command | median | worst | goal |")
    print("| --- | ---: | ---: | --- |")
    for label, command, goal in cases:
        seconds = timed(command, args.runs)
        median, worst = statistics.median(seconds), max(seconds)
        verdict = "" if goal is None else ("met" if median < goal else "**missed**")
        target = "" if goal is None else f"< {goal} s: {verdict}"
        print(f"| `{label}` | {median:.2f} s | {worst:.2f} s | {target} |")


if __name__ == "__main__":
    main()
