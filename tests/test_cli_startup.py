"""The command's start: its help and its command tree load none of the heavy libraries
(DuckDB, Ibis, pandas, SciPy, statsmodels, matplotlib) nor the workspace; they load when a
command runs. (How long it takes is measured in benchmarks/startup_speed.py, not here.)"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("duckdb", "ibis", "pandas", "pyarrow", "scipy", "statsmodels", "matplotlib",
         "northstar.workspace", "northstar.metrics.engine", "northstar.goals.forecast")  # fmt: skip

PROBE = """
import json, sys
from typer.main import get_command
from northstar.cli.app import app
command = get_command(app)  # every command's signature and help, as --help builds them
names = sorted(command.commands)
print(json.dumps({"commands": names, "loaded": sorted(m for m in sys.modules if m in HEAVY)}))
"""


def test_help_builds_every_command_without_the_heavy_libraries() -> None:
    code = f"HEAVY = {HEAVY!r}\n{PROBE}"
    answer = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=True)  # fmt: skip
    found = json.loads(answer.stdout)
    assert {"query", "goals", "experiments", "reports", "serve", "import"} <= set(found["commands"])
    assert found["loaded"] == []


def test_a_command_still_loads_what_it_needs() -> None:
    answer = subprocess.run(
        [sys.executable, "-m", "northstar.cli", "metrics", "list", "-w", "/nonexistent/ws"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert answer.returncode != 0
    assert "Traceback" not in answer.stderr and "error:" in answer.stderr
