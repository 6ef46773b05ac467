"""The compiled-query cache: the same numbers as a fresh build, and no stale SQL when the
data changes what the SQL would be."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from northstar.errors import MetricError
from northstar.metrics import sql_cache
from northstar.workspace import Workspace
from tests.metric_fixtures import events, load, load_subs, sub

TODAY = date(2026, 6, 1)


def both(ws: Workspace, metric: str, **kw: object) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The frame built from scratch and the frame from the cached SQL."""
    sql_cache._memory.clear()
    args: dict[str, object] = {"use_cache": False, "today": TODAY, **kw}
    first = ws.query(metric, **args)  # type: ignore[arg-type]
    assert list((ws.path / ".cache" / "sql").glob("*.json")), "nothing was cached"
    sql_cache._memory.clear()  # the second run reads the entry back from disk
    second = ws.query(metric, **args)  # type: ignore[arg-type]
    return first, second


def test_cached_sql_gives_the_same_frames(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "w", timezone="Europe/Paris")
    load_subs(ws, [sub("a", "A", "2026-01-10", "2026-03-10", 50),
                   sub("b", "B", "2026-02-01", "2026-05-01", 20)])  # fmt: skip
    events(ws, [("open", "u1", "2026-03-01T10:00:00Z"), ("open", "u2", "2026-03-02T10:00:00Z"),
                ("$pageleave", "zz", "2026-05-31T10:00:00Z")],  # the data runs to May 31
           ['{"$os": "iOS"}', '{"$os": "Android"}', "{}"])  # fmt: skip
    first, second = both(ws, "mrr", grain="month", start="2026-01-01", end="2026-05-31")
    pd.testing.assert_frame_equal(first, second)
    assert second["value"].tolist() == [50.0, 70.0, 20.0, 20.0, 0.0]  # Mar 10 ends A
    # MRR by day reads a calendar (an in-memory table) stored with the SQL.
    first, second = both(ws, "mrr", grain="day", start="2026-03-09", end="2026-03-11")
    pd.testing.assert_frame_equal(first, second)
    assert second["value"].tolist() == [70.0, 20.0, 20.0]
    first, second = both(ws, "dau", by="$os", start="2026-03-01", end="2026-03-02")
    pd.testing.assert_frame_equal(first, second)


def test_new_data_is_counted_and_changed_lookups_rebuild(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "w", timezone="UTC")
    load_subs(ws, [sub("a", "A", "2026-01-01", "2026-07-01", 50)])
    args = {"grain": "month", "start": "2026-01-01", "end": "2026-01-31", "use_cache": False,
            "today": TODAY}  # fmt: skip
    assert ws.query("mrr", **args)["value"].tolist() == [50.0]  # type: ignore[arg-type]
    # New data: the same SQL, run again, counts it.
    load_subs(ws, [sub("b", "B", "2026-01-01", "2026-07-01", 20)])
    assert ws.query("mrr", **args)["value"].tolist() == [70.0]  # type: ignore[arg-type]
    # A currency without exchange rates changes what the query must do: the stored SQL's
    # lookup no longer answers the same, so the metric is rebuilt and reports it.
    load_subs(ws, [sub("c", "C", "2026-01-01", "2026-07-01", 10, currency="GBP")])
    with pytest.raises(MetricError, match="no exchange rate into USD for GBP"):
        ws.query("mrr", **args)  # type: ignore[arg-type]
    load(ws, "fx_rates", ("date", "currency", "rate"), [("2026-01-01", "GBP", 1.5)])
    assert ws.query("mrr", **args)["value"].tolist() == [85.0]  # type: ignore[arg-type]


def test_decimal_results_become_the_nearest_float() -> None:
    """pyarrow's own decimal-to-float cast can be one unit in the last place off; the
    frame holds what Python's float() of the exact decimal gives."""
    import random
    from decimal import Decimal

    import ibis
    import pyarrow as pa

    rng = random.Random(5)
    values = [Decimal(rng.randint(-(10**14), 10**14)) / 10**4 for _ in range(3000)] + [None]
    table = pa.table({"value": pa.array(values, pa.decimal128(38, 4))})
    frame = sql_cache.to_frame(table, ibis.schema({"value": "decimal(38, 4)"}))
    want = [float("nan") if v is None else float(v) for v in values]
    assert frame["value"].dtype == "float64"
    pd.testing.assert_series_equal(frame["value"], pd.Series(want, name="value"), rtol=0, atol=0)


def test_lookups_are_shared_per_data_version_and_never_cross_databases(tmp_path: Path) -> None:
    # The lookups made while building an expression (here: currencies without exchange
    # rates) are asked once per data version and shared by later queries; new data asks
    # again, and a new database made at the same path never reuses the old answers.
    from northstar.metrics import context

    context._PROBE_ANSWERS.clear()
    ws = Workspace.init(tmp_path / "w", timezone="UTC")
    load_subs(ws, [sub("a", "A", "2026-01-01", "2026-07-01", 50)])
    args = {"grain": "month", "start": "2026-01-01", "end": "2026-01-31", "use_cache": False,
            "today": TODAY}  # fmt: skip
    assert ws.query("mrr", **args)["value"].tolist() == [50.0]  # type: ignore[arg-type]
    asked = len(context._PROBE_ANSWERS)
    assert asked > 0
    sql_cache._memory.clear()
    for entry in (ws.path / ".cache" / "sql").glob("*.json"):
        entry.unlink()  # the expression is built again: its lookups come from memory
    assert ws.query("mrr", **args)["value"].tolist() == [50.0]  # type: ignore[arg-type]
    assert len(context._PROBE_ANSWERS) == asked
    # the same path, a new database whose subscription is in GBP without rates
    import shutil

    shutil.rmtree(ws.path)
    ws = Workspace.init(tmp_path / "w", timezone="UTC")
    load_subs(ws, [sub("a", "A", "2026-01-01", "2026-07-01", 50, currency="GBP")])
    sql_cache._memory.clear()
    with pytest.raises(MetricError, match="no exchange rate into USD for GBP"):
        ws.query("mrr", **args)  # type: ignore[arg-type]
