"""The anomaly detector: causal, known answers on planted anomalies, the detect contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from northstar.anomalies.detector import Config, detect
from northstar.anomalies.series import read_series
from northstar.errors import AnomalyError


def noisy(n: int = 1500, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100 + rng.normal(0, 2, n)


def test_a_points_score_does_not_depend_on_later_points() -> None:
    x = noisy()
    other = x.copy()
    other[1000:] = 500  # a wild future
    a, b = detect(x), detect(other)
    assert np.array_equal(a.score[:1000], b.score[:1000])
    assert np.array_equal(a.anomaly[:1000], b.anomaly[:1000])
    assert np.allclose(a.expected[:1001], b.expected[:1001], equal_nan=True)


def test_the_expected_value_is_the_median_of_the_previous_points() -> None:
    x = noisy()
    d = detect(x)
    for t in (60, 700, 1499):
        assert d.expected[t] == pytest.approx(float(np.median(x[t - 50 : t])))
    assert d.lower[700] < d.expected[700] < d.upper[700]


def test_a_planted_spike_alerts_once_where_it_is() -> None:
    x = noisy()
    x[900] += 40  # 20 standard deviations
    d = detect(x)
    assert d.anomaly[900] == 1
    assert d.anomaly.sum() == 1  # nowhere else: noise alone never alerts here
    assert d.score[900] >= Config().alert_level and d.score[901] < Config().alert_level


def test_a_level_shift_alerts_within_a_few_points() -> None:
    x = noisy()
    x[1000:] -= 12  # a drop of 6 standard deviations that lasts
    d = detect(x, direction="down")
    first = int(np.flatnonzero(d.anomaly)[0])
    assert 1000 <= first <= 1003


def test_direction_ignores_moves_the_other_way() -> None:
    x = noisy()
    x[900] += 40
    assert detect(x, direction="down").anomaly.sum() == 0
    assert detect(x, direction="up").anomaly[900] == 1


def test_missing_points_score_zero_and_do_not_break_the_series() -> None:
    x = noisy()
    x[500:510] = np.nan
    x[900] += 40
    d = detect(x)
    assert (d.score[500:510] == 0).all() and d.anomaly[900] == 1


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from northstar.cli.app import main; main()", *args],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_detect_prints_one_row_per_input_row_in_order(tmp_path: Path) -> None:
    x = noisy(300)
    x[250] += 40
    stamps = pd.date_range("2026-01-01", periods=300, freq="5min").strftime("%Y-%m-%d %H:%M:%S")
    values = [f"{v:.3f}" for v in x]
    values[10] = ""  # a missing point stays an empty cell
    path = tmp_path / "s.csv"
    path.write_text(
        "timestamp,value\n" + "".join(f"{t},{v}\n" for t, v in zip(stamps, values, strict=True))
    )
    out = run("anomalies", "detect", str(path))
    assert out.returncode == 0, out.stderr
    got = pd.read_csv(pd.io.common.StringIO(out.stdout), dtype=str, keep_default_na=False)
    assert list(got.columns) == ["timestamp", "value", "score", "anomaly"]
    assert list(got["timestamp"]) == list(stamps) and list(got["value"]) == values
    scores = got["score"].astype(float)
    assert ((scores >= 0) & (scores <= 1)).all()
    assert "1" in got["anomaly"].tolist()[250:253]  # the spike, within 3 points
    as_json = json.loads(run("anomalies", "detect", str(path), "--format", "json").stdout)
    assert len(as_json) == 300 and set(as_json[0]) == {"timestamp", "value", "score", "anomaly"}
    assert as_json[10]["value"] is None
    assert [r["anomaly"] for r in as_json] == got["anomaly"].astype(int).tolist()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("time,value\n2026-01-01,1\n", "header must be timestamp,value"),
        ("timestamp,value\n", "no rows"),
        ("timestamp,value\nyesterday,1\n", "row 2: timestamp 'yesterday' is not an ISO"),
        ("timestamp,value\n2026-01-01,1\n2026-01-02,lots\n", "row 3: value 'lots' is not a number"),
    ],
)
def test_a_bad_series_is_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(AnomalyError, match=message):
        read_series(text)


def test_the_cli_reports_bad_input_in_one_line(tmp_path: Path) -> None:
    for args, message in (
        (("anomalies", "detect", str(tmp_path / "nope.csv")), "no such file"),
        (
            ("anomalies", "detect", str(tmp_path / "nope.csv"), "--direction", "sideways"),
            "--direction",
        ),
    ):
        out = run(*args)
        assert out.returncode == 1 and message in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def test_a_workspace_metric_flags_its_planted_drop(tmp_path: Path) -> None:
    from datetime import date, timedelta

    from northstar.workspace import Workspace
    from tests.metric_fixtures import load

    ws = Workspace.init(tmp_path / "ws", timezone="UTC")
    first = date(2026, 1, 1)
    rng = np.random.default_rng(7)
    rows, counts = [], []
    for day in range(200):
        n = int(rng.integers(18, 23)) if day != 150 else 3  # day 150: sign-ups collapse
        counts.append(n)
        when = (first + timedelta(days=day)).isoformat() + "T10:00:00Z"
        rows += [(f"u{day}-{i}", when, "{}") for i in range(n)]
    load(ws, "users", ["user_id", "created_at", "properties"], rows)
    result = ws.anomalies("signups", grain="day", start="2026-04-01", end="2026-07-19",
                          today=date(2026, 7, 20))  # fmt: skip
    assert result.direction == "down"  # sign-ups: higher is better, drops alert
    by_day = {r["period"]: r for r in result.rows}
    assert min(by_day) == "2026-04-01"  # the history before the range only teaches
    drop = (first + timedelta(days=150)).isoformat()
    assert by_day[drop]["value"] == 3 and by_day[drop]["anomaly"] == 1
    assert sum(r["anomaly"] for r in result.rows) == 1  # and nothing else alerts
    assert by_day[drop]["expected"] == pytest.approx(float(np.median(counts[100:150])), abs=2.5)
    assert set(result.rows[0]) == {
        "period",
        "value",
        "expected",
        "lower",
        "upper",
        "score",
        "anomaly",
    }


def test_a_kpi_series_of_noise_stays_quiet() -> None:
    from northstar.anomalies.series import KPI_CONFIG

    alarms = 0
    for seed in range(20):  # twenty years of daily Poisson(20) noise
        y = np.random.default_rng(seed).poisson(20, 365).astype(float)
        alarms += int(
            detect(y, direction="down", config=KPI_CONFIG["day"], step_seconds=86400).anomaly.sum()
        )
    assert alarms == 0
