"""Small hand-made data sets for metric tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from northstar.workspace import Workspace

SUB_COLUMNS = (
    "subscription_id", "customer_id", "plan", "amount", "currency", "interval", "quantity",
    "discount", "status", "started_at", "ended_at", "canceled_at",
)  # fmt: skip


def load(ws: Workspace, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    data = {c: [r[i] for r in rows] for i, c in enumerate(columns)}
    arrays = {
        c: pa.array([None if v is None else str(v) for v in vals], pa.string())
        for c, vals in data.items()
    }
    summary = ws.import_arrow(table, pa.table(arrays))
    assert summary.rejected == 0, ws.rejected(table=table)


def sub(
    sid: str, customer: str, start: str, end: str | None, amount: float, *,
    plan: str = "pro", interval: str = "month", quantity: int = 1, discount: float = 0,
    status: str = "active", currency: str = "USD", canceled: str | None = None,
) -> tuple[Any, ...]:  # fmt: skip
    return (sid, customer, plan, amount, currency, interval, quantity, discount, status,
            start, end, canceled)  # fmt: skip


def load_subs(ws: Workspace, rows: Sequence[tuple[Any, ...]]) -> None:
    load(ws, "subscriptions", SUB_COLUMNS, rows)


def events(
    ws: Workspace, rows: Sequence[tuple[str, str, str]], props: Sequence[str] | None = None
) -> None:
    """rows: (event, distinct_id, ISO timestamp)."""
    cols = ["event", "distinct_id", "timestamp", "properties"]
    full = [(e, d, t, (props[i] if props else "{}")) for i, (e, d, t) in enumerate(rows)]
    load(ws, "events", cols, full)
