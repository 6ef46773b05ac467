"""NAB: run `northstar anomalies detect` on the Numenta Anomaly Benchmark subset in
../shared/nab and score it with NAB's own scorer.

Run:  make bench-nab    (or: .venv/bin/python benchmarks/nab/run.py [--nab ../shared/nab])

Each data file goes through the CLI exactly as a user runs it (one process per file, two
at a time), with the detector's one configuration for every file (no per-file tuning);
the outputs land in benchmarks/.data/nab-out/ and `score` prints the normalized NAB scores
of the score column (threshold optimized by NAB per profile) and of the anomaly column
(the detector's own alerts), next to the published detectors. Also prints the seconds the
largest file (22,695 rows) takes through the CLI (goal: < 10 s).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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
    print(f"largest file: {name}, {rows:,} rows, {seconds:.1f} s through the CLI")
    score = [str(args.nab / "score"), str(OUT)] + (["--details"] if args.details else [])
    subprocess.run(score, check=True)


if __name__ == "__main__":
    main()
