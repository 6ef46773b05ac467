"""NAB: run `northstar anomalies detect` on the Numenta Anomaly Benchmark subset in
../shared/nab and score it with NAB's own scorer.

Run:  make bench-nab    (or: .venv/bin/python benchmarks/nab/run.py [--nab ../shared/nab])

Each data file goes through the CLI exactly as a user runs it (one process per file, two
at a time), with the detector's one configuration for every file (no per-file tuning);
the outputs land in benchmarks/.data/nab-out/ and `score` prints the normalized NAB scores
of the score column (threshold optimized by NAB per profile) and of the anomaly column
(the detector's own alerts), next to the published detectors. Also times a 22,000-row
series (5-minute steps, daily season, noise) through the CLI (goal: < 10 s).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "benchmarks" / ".data" / "nab-out"
NORTHSTAR = [sys.executable, "-c", "from northstar.cli.app import main; main()"]


def one(data: Path, source: Path) -> tuple[str, float, int]:
    rel = source.relative_to(data)
    target = OUT / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with target.open("w") as out:
        subprocess.run([*NORTHSTAR, "anomalies", "detect", str(source)], stdout=out, check=True)
    rows = sum(1 for _ in source.open()) - 1
    return str(rel), time.perf_counter() - started, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nab", type=Path, default=ROOT.parent / "shared" / "nab")
    parser.add_argument("--details", action="store_true", help="per-file scores")
    args = parser.parse_args()
    data = args.nab / "data"
    files = sorted(data.glob("*/*.csv"))
    if not files:
        sys.exit(f"no NAB data under {data}; give --nab DIR")
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        timings = list(pool.map(lambda f: one(data, f), files))
    print(f"detect: {len(files)} files in {time.perf_counter() - started:.0f} s")
    name, seconds, rows = max(timings, key=lambda t: t[2])
    print(f"largest NAB file: {name}, {rows:,} rows, {seconds:.1f} s through the CLI")
    big = OUT.parent / "series-22000.csv"
    t = np.arange(22_000)
    rng = np.random.default_rng(1)
    values = 100 + 20 * np.sin(2 * np.pi * t / 288) + rng.normal(0, 3, len(t))
    stamps = pd.date_range("2026-01-01", periods=len(t), freq="5min")
    pd.DataFrame({"timestamp": stamps.strftime("%Y-%m-%d %H:%M:%S"), "value": values.round(3)}
                 ).to_csv(big, index=False)  # fmt: skip
    started = time.perf_counter()
    subprocess.run([*NORTHSTAR, "anomalies", "detect", str(big)], stdout=subprocess.DEVNULL,
                   check=True)  # fmt: skip
    print(
        f"22,000-row series: {time.perf_counter() - started:.1f} s through the CLI "
        "(process start included)"
    )
    score = [str(args.nab / "score"), str(OUT)] + (["--details"] if args.details else [])
    subprocess.run(score, check=True)


if __name__ == "__main__":
    main()
