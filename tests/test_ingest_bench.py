"""A small run of benchmarks/ingest_speed.py: the load generator, the server and the
end-to-end count check work (correctness only; speed is measured by make bench-ingest)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "ingest_speed.py"


def test_ingest_benchmark_small_run_stores_every_acknowledged_event(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--events", "3000", "--batch", "100", "--connections", "3",
         "--max-seconds", "60", "--no-floor", "--json", str(out)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(out.read_text())
    assert (result["events"], result["stored"], result["errors"]) == (3000, 3000, 0)
    assert result["requests"] == 30 and result["check"] is True
    assert 0 < result["p50_ms"] <= result["p99_ms"]
