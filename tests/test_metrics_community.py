"""The shipped example YAML (community metrics) on the demo product, against pandas."""

from __future__ import annotations

import pandas as pd
import pytest

from northstar.workspace import Workspace


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    from northstar.demo.load import load_demo

    ws = Workspace.init(tmp_path_factory.mktemp("demo") / "ws", timezone="UTC")
    load_demo(ws, users=800, days=180, seed=5)
    return ws


def test_example_community_metrics_match_pandas(demo: Workspace) -> None:
    assert not demo.registry().problems
    ev = demo.sql(
        "SELECT event, person_id, timestamp FROM person_events WHERE event LIKE 'community%'"
    ).to_pandas()
    ev["day"] = pd.to_datetime(ev["timestamp"], utc=True).dt.tz_convert(None).dt.normalize()
    ev["month"] = ev["day"].dt.to_period("M").dt.start_time.dt.date
    joined = ev[ev.event == "community_joined"]
    engaged = ev[ev.event.isin(["community_post_created", "community_comment_added"])]
    df = demo.query(["new_members", "community_members", "engaged_members", "engagement_rate"],
                    grain="month", start="2026-06-01", end="2026-10-31", use_cache=False)  # fmt: skip
    wide = df.pivot(index="period", columns="metric", values="value")
    for month, row in wide.iterrows():
        month_end = pd.Timestamp(month) + pd.offsets.MonthEnd(0)
        new = joined[joined.month == month].person_id.nunique()
        members = joined[joined.day <= month_end].person_id.nunique()
        active = engaged[engaged.month == month].person_id.nunique()
        assert (row.new_members, row.community_members, row.engaged_members) == (
            new,
            members,
            active,
        )
        assert row.engagement_rate == pytest.approx(active / members)
