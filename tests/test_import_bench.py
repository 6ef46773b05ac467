"""A small run of benchmarks/import_speed.py: every file imports every row (correctness
only; speed is measured by make bench)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "import_speed.py"


def test_import_benchmark_small_run_imports_every_row(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--events", "3000", "--csv-rows", "2000", "--profile",
         "--data", str(tmp_path)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    imported = {line.split()[0]: line.split()[1] for line in lines if line.startswith("events-")}
    assert imported == {
        "events-3000.parquet": "3,000",
        "events-3000-uuid.parquet": "3,000",
        "events-2000.csv": "2,000",
    }
    assert sum("type and validate" in line for line in lines) == 3
